package sandbox_test

// Tests added by an independent review against OpenIM v3.8.3-patch.16's
// behaviour (WIRE.md), each driving the sandbox with the raw client.

import (
	"encoding/base64"
	"net/url"
	"testing"

	"github.com/openimbot/openimbot/internal/pb/sdkws"
	"github.com/openimbot/openimbot/sandbox"
)

// The parameters are checked in the server's order: platformID as an
// integer first, then isMsgResp, then isBackground (500), and only then the
// empty-string and validity checks.
func TestReviewHandshakeCheckOrder(t *testing.T) {
	s := newSandbox(t, sandbox.Config{})
	tok := token(t, s, "alice", 7)
	cases := []struct {
		name   string
		q      url.Values
		code   int
		detail string
	}{
		{"platformID before operationID", url.Values{"platformID": {"\x00"}, "operationID": {"\x00"}, "token": {"\x00"}}, 1602, "platformID is not int"},
		{"isMsgResp before token", url.Values{"isMsgResp": {"maybe"}, "token": {"\x00"}}, 1602, "isMsgResp is not bool"},
		{"isBackground before sendID", url.Values{"isBackground": {"\x00"}, "sendID": {"\x00"}}, 500, "invalid syntax"},
		{"isBackground before unknown platform", url.Values{"isBackground": {"\x00"}, "platformID": {"99"}}, 500, "invalid syntax"},
		{"unknown platform before sdkType", url.Values{"platformID": {"0"}, "sdkType": {"rust"}}, 1602, "platformID is invalid"},
		{"huge platform is an int", url.Values{"platformID": {"4294967303"}}, 1602, "platformID is invalid"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, body := handshakeError(t, s, handshakeURL(s, "alice", tok, rawOpts{query: tc.q}))
			if status != 200 || errCode(body) != tc.code || body["errDlt"] != tc.detail {
				t.Fatalf("status %d body %v, want %d %q", status, body, tc.code, tc.detail)
			}
		})
	}
	// The v form reports OpenIM's own details.
	_, body := handshakeError(t, s, s.WSURL()+"?v=%25%25")
	if errCode(body) != 1602 || body["errDlt"] != "data is not base64" {
		t.Fatalf("bad base64: %v", body)
	}
	_, body = handshakeError(t, s, s.WSURL()+"?v="+base64.RawURLEncoding.EncodeToString([]byte("[1]")))
	if d, _ := body["errDlt"].(string); errCode(body) != 1602 || len(d) < 16 || d[:16] != "data is not json" {
		t.Fatalf("bad json: %v", body)
	}
}

// Group messages reach every member's connections, the sender's included,
// even with senderSync=false: OpenIM applies senderSync to single chats only.
func TestReviewGroupPushIgnoresSenderSync(t *testing.T) {
	s := newSandbox(t, sandbox.Config{})
	if err := s.CreateGroup("g1", "alice", "bob"); err != nil {
		t.Fatal(err)
	}
	a := login(t, s, "alice", rawOpts{})
	b := login(t, s, "bob", rawOpts{})
	m := &sdkws.MsgData{SendID: "alice", GroupID: "g1", ClientMsgID: "g-1", SessionType: 3, MsgFrom: 100, ContentType: 101,
		Content: []byte(`{"content":"x"}`), Options: map[string]bool{"senderSync": false}, Status: 1}
	incr := a.send(1003, m)
	r, pushes := a.reply(incr)
	if r.ErrCode != 0 {
		t.Fatal(r.ErrCode)
	}
	if len(pushes) == 0 {
		pushes = append(pushes, a.next())
	}
	for _, p := range []GeneralWsResp{pushes[0], b.next()} {
		if conv, md := onlyPush(t, p); conv != "sg_g1" || md.Seq != 1 || md.Status != 2 {
			t.Fatalf("%s %+v", conv, md)
		}
	}
	// In a single chat senderSync=false still suppresses the echo.
	sm := textMsg("alice", "bob", "quiet")
	sm.Options = map[string]bool{"senderSync": false}
	incr = a.send(1003, sm)
	if _, pushes := a.reply(incr); len(pushes) != 0 {
		t.Fatalf("sender got %d pushes", len(pushes))
	}
	if conv, md := onlyPush(t, b.next()); conv != "si_alice_bob" || md.Seq != 1 {
		t.Fatalf("%s %+v", conv, md)
	}
	if r := a.call(1001, &sdkws.GetMaxSeqReq{UserID: "alice"}, nil); r.ErrCode != 0 {
		t.Fatal(r.ErrCode) // and nothing else arrived for alice meanwhile
	}
}

// Only status 1 (sending) becomes 2 (sent); OpenIM keeps any other status,
// and its HTTP send_msg leaves status 0.
func TestReviewStatusOnlySendingBecomesSent(t *testing.T) {
	s := newSandbox(t, sandbox.Config{})
	a := login(t, s, "alice", rawOpts{})
	b := login(t, s, "bob", rawOpts{})
	for i, st := range []int32{1, 0, 3} {
		m := textMsg("alice", "bob", "s"+string(rune('0'+i)))
		m.Status = st
		m.Options = map[string]bool{"senderSync": false}
		if r := a.call(1003, m, nil); r.ErrCode != 0 {
			t.Fatal(r.ErrCode)
		}
		want := st
		if st == 1 {
			want = 2
		}
		if _, md := onlyPush(t, b.next()); md.Status != want {
			t.Fatalf("sent with status %d: pushed with %d, want %d", st, md.Status, want)
		}
		pr := pull(t, b, sdkws.PullOrder_PullOrderAsc, &sdkws.SeqRange{ConversationID: "si_alice_bob", Begin: int64(i + 1), End: int64(i + 1), Num: 1})
		if got := pr.Msgs["si_alice_bob"].GetMsgs(); len(got) != 1 || got[0].Status != want {
			t.Fatalf("pulled %v", got)
		}
	}
	admin, _ := s.AdminToken()
	env := apiCall(t, s, "/msg/send_msg", admin, map[string]any{"sendID": "alice", "recvID": "bob", "content": map[string]any{"content": "hi"},
		"contentType": 101, "sessionType": 1})
	if errCode(env) != 0 {
		t.Fatal(env)
	}
	if _, md := onlyPush(t, b.next()); md.Status != 0 || md.MsgFrom != 200 {
		t.Fatalf("HTTP send_msg pushed %+v", md)
	}
}
