package sandbox_test

// Tests added by an independent review against OpenIM v3.8.3-patch.16's
// behaviour (docs/protocol.md), each driving the sandbox with the raw client.

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/openimbot/openimbot/content"
	"github.com/openimbot/openimbot/internal/pb/msg"
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
	p := b.next()
	if _, md := onlyPush(t, p); md.Status != 0 || md.MsgFrom != 200 || p.OperationID != "op1" {
		t.Fatalf("HTTP send_msg pushed %+v with operationID %q", md, p.OperationID)
	}
}

// 1002 as OpenIM patch.16: the lowest visible seq is 0, so a window from 0
// that fits in num includes a {seq:0, status:4} placeholder; n_ streams
// ignore num and drop seq 0; the request's userID decides which chat
// conversations are visible (a conversation record is needed).
func TestReviewRangePullFromZeroAndUserID(t *testing.T) {
	s := newSandbox(t, sandbox.Config{})
	for i := 0; i < 3; i++ {
		if _, err := s.SendText("alice", "bob", "m"); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 3; i++ {
		if _, err := s.Inject(content.Message{SendID: "alice", RecvID: "bob", ContentType: 1201, Content: []byte(`{"detail":"{}"}`),
			Options: map[string]bool{"isNotNotification": false}}); err != nil {
			t.Fatal(err)
		}
	}
	b := login(t, s, "bob", rawOpts{})
	pr := pull(t, b, sdkws.PullOrder_PullOrderAsc, &sdkws.SeqRange{ConversationID: "si_alice_bob", Begin: 0, End: 3, Num: 10},
		&sdkws.SeqRange{ConversationID: "n_alice_bob", Begin: 0, End: 3, Num: 1})
	if got := seqsOf(pr.Msgs["si_alice_bob"]); !slices.Equal(got, []int64{0, 1, 2, 3}) || pr.Msgs["si_alice_bob"].Msgs[0].Status != 4 ||
		!pr.Msgs["si_alice_bob"].IsEnd {
		t.Fatalf("si from 0: %v", pr.Msgs["si_alice_bob"])
	}
	if got := seqsOf(pr.NotificationMsgs["n_alice_bob"]); !slices.Equal(got, []int64{1, 2, 3}) {
		t.Fatalf("n_ from 0 with num 1: %v", got)
	}
	// The SDK's login pull: begin 0, end maxSeq, num 1 returns the newest.
	pr = pull(t, b, sdkws.PullOrder_PullOrderAsc, &sdkws.SeqRange{ConversationID: "si_alice_bob", End: 3, Num: 1})
	if got := seqsOf(pr.Msgs["si_alice_bob"]); !slices.Equal(got, []int64{3}) {
		t.Fatalf("newest: %v", got)
	}
	// A userID without a record for the conversation sees nothing of it,
	// an empty userID neither; n_ streams need no record.
	for _, uid := range []string{"", "carol"} {
		var out sdkws.PullMessageBySeqsResp
		r := b.call(1002, &sdkws.PullMessageBySeqsReq{UserID: uid, SeqRanges: []*sdkws.SeqRange{
			{ConversationID: "si_alice_bob", Begin: 1, End: 3, Num: 3}, {ConversationID: "n_alice_bob", Begin: 1, End: 3}}}, &out)
		if r.ErrCode != 0 || len(out.Msgs) != 0 || len(out.NotificationMsgs["n_alice_bob"].GetMsgs()) != 3 {
			t.Fatalf("userID %q: err %d msgs %v notif %v", uid, r.ErrCode, out.Msgs, out.NotificationMsgs)
		}
	}
}

// 1001 lists conversation records, their n_ twins and n_<uid>_<uid>, but
// not an n_ stream whose chat conversation the user has no record for;
// the admin may ask for any user.
func TestReviewNewestSeqRecords(t *testing.T) {
	s := newSandbox(t, sandbox.Config{})
	notif := func(from, to string) {
		t.Helper()
		if _, err := s.Inject(content.Message{SendID: from, RecvID: to, ContentType: 1201, Content: []byte(`{"detail":"{}"}`),
			Options: map[string]bool{"isNotNotification": false}}); err != nil {
			t.Fatal(err)
		}
	}
	notif("carol", "bob") // n_bob_carol, no si_ record
	notif("bob", "bob")   // n_bob_bob, the user's own stream
	s.SendText("alice", "bob", "hi")
	notif("alice", "bob") // n_alice_bob, twin of a record
	if err := s.CreateGroup("g1", "alice", "bob"); err != nil {
		t.Fatal(err)
	}
	s.SendGroupText("alice", "g1", "x")
	if _, err := s.Inject(content.Message{SendID: "alice", GroupID: "g1", SessionType: content.GroupChat, ContentType: 1501,
		Content: []byte(`{"detail":"{}"}`), Options: map[string]bool{"isNotNotification": false}}); err != nil {
		t.Fatal(err)
	}
	b := login(t, s, "bob", rawOpts{})
	var resp sdkws.GetMaxSeqResp
	if r := b.call(1001, &sdkws.GetMaxSeqReq{UserID: "bob"}, &resp); r.ErrCode != 0 {
		t.Fatal(r.ErrCode)
	}
	want := map[string]int64{"si_alice_bob": 1, "n_alice_bob": 1, "n_bob_bob": 1, "sg_g1": 1, "n_g1": 1}
	if len(resp.MaxSeqs) != len(want) {
		t.Fatalf("maxSeqs %v, want %v", resp.MaxSeqs, want)
	}
	for k, v := range want {
		if resp.MaxSeqs[k] != v {
			t.Fatalf("maxSeqs %v, want %v", resp.MaxSeqs, want)
		}
	}
	admin, err := s.AdminToken()
	if err != nil {
		t.Fatal(err)
	}
	ad := dialRaw(t, s, "imAdmin", admin, rawOpts{platform: 10})
	resp.Reset()
	if r := ad.call(1001, &sdkws.GetMaxSeqReq{UserID: "bob"}, &resp); r.ErrCode != 0 || len(resp.MaxSeqs) != len(want) {
		t.Fatalf("admin for bob: %d %v", r.ErrCode, resp.MaxSeqs)
	}
	if r := b.call(1001, &sdkws.GetMaxSeqReq{UserID: "alice"}, nil); r.ErrCode != 1002 {
		t.Fatalf("bob for alice: %d", r.ErrCode)
	}
}

// 1005 answers every requested conversation, keeps the requested order,
// drops seqs <= 0 without isEnd, and reports isEnd/endSeq (ascending) for
// seqs above the max; 1006 lists the user's records (not n_ streams) with
// the has-read seq OpenIM keeps for senders.
func TestReviewSeqListAndHasRead(t *testing.T) {
	s := newSandbox(t, sandbox.Config{})
	for i := 0; i < 3; i++ {
		s.SendText("alice", "bob", "m")
	}
	if _, err := s.Inject(content.Message{SendID: "alice", RecvID: "bob", ContentType: 1201, Content: []byte(`{"detail":"{}"}`),
		Options: map[string]bool{"isNotNotification": false}}); err != nil {
		t.Fatal(err)
	}
	b := login(t, s, "bob", rawOpts{})
	var out msg.GetSeqMessageResp
	r := b.call(1005, &msg.GetSeqMessageReq{UserID: "bob", Conversations: []*msg.ConversationSeqs{
		{ConversationID: "si_alice_bob", Seqs: []int64{3, 0, 1, 9}},
		{ConversationID: "si_bob_carol", Seqs: []int64{1}},
	}}, &out)
	if r.ErrCode != 0 {
		t.Fatal(r.ErrCode)
	}
	pm := out.Msgs["si_alice_bob"]
	if got := seqsOf(pm); !slices.Equal(got, []int64{3, 1}) || !pm.IsEnd || pm.EndSeq != 3 {
		t.Fatalf("si_alice_bob: %v", pm)
	}
	if pm, ok := out.Msgs["si_bob_carol"]; !ok || len(pm.Msgs) != 0 || !pm.IsEnd || pm.EndSeq != 0 {
		t.Fatalf("empty conversation: %v %v", pm, ok)
	}
	out.Reset()
	b.call(1005, &msg.GetSeqMessageReq{UserID: "bob", Order: sdkws.PullOrder_PullOrderDesc, Conversations: []*msg.ConversationSeqs{
		{ConversationID: "si_alice_bob", Seqs: []int64{0, 2, 9}}}}, &out)
	if pm := out.Msgs["si_alice_bob"]; !slices.Equal(seqsOf(pm), []int64{2}) || pm.IsEnd || pm.EndSeq != 0 {
		t.Fatalf("desc: %v", pm)
	}

	a := login(t, s, "alice", rawOpts{})
	var hr msg.GetConversationsHasReadAndMaxSeqResp
	if r := a.call(1006, &msg.GetConversationsHasReadAndMaxSeqReq{UserID: "alice"}, &hr); r.ErrCode != 0 {
		t.Fatal(r.ErrCode)
	}
	if len(hr.Seqs) != 1 || hr.Seqs["si_alice_bob"].GetMaxSeq() != 3 || hr.Seqs["si_alice_bob"].GetHasReadSeq() != 3 ||
		hr.Seqs["si_alice_bob"].GetMaxSeqTime() == 0 {
		t.Fatalf("alice: %v", hr.Seqs)
	}
	hr.Reset()
	b.call(1006, &msg.GetConversationsHasReadAndMaxSeqReq{UserID: "bob"}, &hr)
	if len(hr.Seqs) != 1 || hr.Seqs["si_alice_bob"].GetMaxSeq() != 3 || hr.Seqs["si_alice_bob"].GetHasReadSeq() != 0 {
		t.Fatalf("bob: %v", hr.Seqs)
	}
}

// /auth/get_user_token with OpenIM's codes: platform 10 and the admin user
// 1002, an unknown user 1004, a notification account 1001.
func TestReviewGetUserTokenCodes(t *testing.T) {
	s := newSandbox(t, sandbox.Config{})
	admin, _ := s.AdminToken()
	env := apiCall(t, s, "/user/user_register", admin, map[string]any{"users": []map[string]any{{"userID": "news", "nickname": "News", "appMangerLevel": 3}}})
	if errCode(env) != 0 {
		t.Fatal(env)
	}
	for _, tc := range []struct {
		user     string
		platform int
		code     int
	}{{"alice", 10, 1002}, {"imAdmin", 7, 1002}, {"ghost", 7, 1004}, {"news", 7, 1001}, {"alice", 7, 0}} {
		env := apiCall(t, s, "/auth/get_user_token", admin, map[string]any{"userID": tc.user, "platformID": tc.platform})
		if errCode(env) != tc.code {
			t.Errorf("%s on %d: %v, want %d", tc.user, tc.platform, env, tc.code)
		}
	}
	env = apiCall(t, s, "/user/get_users_info", admin, map[string]any{"userIDs": []string{"news"}})
	if u := env["data"].(map[string]any)["usersInfo"].([]any)[0].(map[string]any); u["appMangerLevel"] != float64(3) {
		t.Fatalf("%v", u)
	}
}

// /msg/send_msg as OpenIM patch.16: recvID is required by the binding even
// for groups, a non-admin gets 1002 after the body is bound, unsupported
// content types 1001, element validation 500, and the content is
// re-encoded from the decoded object; 1400 goes to a notification chat
// wrapped in {"detail":...} and needs a notification account.
func TestReviewHTTPSendMsgRules(t *testing.T) {
	s := newSandbox(t, sandbox.Config{})
	if err := s.CreateGroup("g1", "alice", "bob"); err != nil {
		t.Fatal(err)
	}
	admin, _ := s.AdminToken()
	b := login(t, s, "bob", rawOpts{})
	send := func(tok string, body map[string]any) map[string]any {
		t.Helper()
		return apiCall(t, s, "/msg/send_msg", tok, body)
	}
	group := map[string]any{"sendID": "alice", "groupID": "g1", "content": map[string]any{"content": "x"}, "contentType": 101, "sessionType": 3}
	if env := send(admin, group); errCode(env) != 1001 {
		t.Fatalf("group without recvID: %v", env)
	}
	if env := send(token(t, s, "alice", 7), map[string]any{"sendID": "alice"}); errCode(env) != 1001 {
		t.Fatalf("non-admin, bad body: %v", env)
	}
	group["recvID"] = "bob"
	if env := send(admin, group); errCode(env) != 0 {
		t.Fatalf("group with recvID: %v", env)
	}
	if conv, md := onlyPush(t, b.next()); conv != "sg_g1" || md.GroupID != "g1" || md.Seq != 1 {
		t.Fatalf("%s %+v", conv, md)
	}
	single := map[string]any{"sendID": "alice", "recvID": "bob", "contentType": 101, "sessionType": 1,
		"content": map[string]any{"z": 1, "content": "hi", "a": []any{true}}}
	if env := send(admin, single); errCode(env) != 0 {
		t.Fatal(env)
	}
	if _, md := onlyPush(t, b.next()); string(md.Content) != `{"a":[true],"content":"hi","z":1}` {
		t.Fatalf("content %s", md.Content)
	}
	for ct, code := range map[int]int{118: 1001, 114: 1001, 109: 1001, 110: 500, 105: 500} {
		single["contentType"] = ct
		if env := send(admin, single); errCode(env) != code {
			t.Errorf("contentType %d: %v, want %d", ct, env, code)
		}
	}
	single["contentType"] = 110
	single["content"] = map[string]any{"Data": "d"} // keys match without regard to case
	if env := send(admin, single); errCode(env) != 0 {
		t.Fatal(env)
	}
	onlyPush(t, b.next())
	oa := map[string]any{"sendID": "alice", "recvID": "bob", "contentType": 1400, "sessionType": 1,
		"content": map[string]any{"notificationName": "n", "notificationType": 1, "text": "t"}}
	if env := send(admin, oa); errCode(env) != 1002 {
		t.Fatalf("1400 from a normal user: %v", env)
	}
	oa["sendID"] = "imAdmin"
	if env := send(admin, oa); errCode(env) != 0 {
		t.Fatal(env)
	}
	conv, md := onlyPush(t, b.next())
	if conv != "sn_bob_imAdmin" || md.SessionType != 4 || string(md.Content) != `{"detail":"{\"notificationName\":\"n\",\"notificationType\":1,\"text\":\"t\"}"}` {
		t.Fatalf("%s %+v %s", conv, md, md.Content)
	}
}

// The HTTP calls the official SDK v3.8.3 makes at login and while chatting
// answer OpenIM envelopes; read marks move the has-read seq 1006 reports,
// and the group lookups return the sandbox's groups.
func TestReviewSDKHTTPCalls(t *testing.T) {
	s := newSandbox(t, sandbox.Config{})
	if err := s.CreateGroup("g1", "alice", "bob"); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 4; i++ {
		s.SendText("alice", "bob", "m")
	}
	tok := token(t, s, "bob", 3) // login below takes platform 7
	for _, path := range []string{"/user/get_users_info", "/friend/get_incremental_friends", "/group/get_incremental_join_groups",
		"/conversation/get_incremental_conversations", "/friend/get_black_list", "/msg/get_server_time",
		"/friend/get_self_unhandled_apply_count", "/group/get_group_application_unhandled_count", "/user/process_user_command_get_all",
		"/group/get_incremental_group_members_batch", "/friend/get_friend_apply_list", "/friend/get_self_friend_apply_list",
		"/group/get_recv_group_applicationList", "/group/get_user_req_group_applicationList", "/third/fcm_update_token"} {
		if env := apiCall(t, s, path, tok, map[string]any{"userID": "bob"}); errCode(env) != 0 {
			t.Errorf("%s: %v", path, env)
		}
	}
	env := apiCall(t, s, "/msg/mark_conversation_as_read", tok, map[string]any{"conversationID": "si_alice_bob", "userID": "bob", "hasReadSeq": 2})
	if errCode(env) != 0 {
		t.Fatal(env)
	}
	apiCall(t, s, "/msg/mark_msgs_as_read", tok, map[string]any{"conversationID": "si_alice_bob", "userID": "bob", "seqs": []int{3, 1}})
	if env := apiCall(t, s, "/msg/set_conversation_has_read_seq", tok, map[string]any{"conversationID": "si_alice_bob", "userID": "alice", "hasReadSeq": 1}); errCode(env) != 1002 {
		t.Fatalf("for another user: %v", env)
	}
	b := login(t, s, "bob", rawOpts{})
	var hr msg.GetConversationsHasReadAndMaxSeqResp
	b.call(1006, &msg.GetConversationsHasReadAndMaxSeqReq{UserID: "bob"}, &hr)
	if sq := hr.Seqs["si_alice_bob"]; sq.GetHasReadSeq() != 3 || sq.GetMaxSeq() != 4 {
		t.Fatalf("1006 %v", hr.Seqs)
	}
	if sq := hr.Seqs["sg_g1"]; sq == nil || sq.MaxSeq != 0 {
		t.Fatalf("group record without messages: %v", hr.Seqs)
	}
	env = apiCall(t, s, "/msg/get_conversations_has_read_and_max_seq", tok, map[string]any{"userID": "bob"})
	seqs := env["data"].(map[string]any)["seqs"].(map[string]any)
	if sq := seqs["si_alice_bob"].(map[string]any); sq["hasReadSeq"] != float64(3) || sq["maxSeq"] != float64(4) {
		t.Fatalf("HTTP %v", seqs)
	}
	env = apiCall(t, s, "/group/get_groups_info", tok, map[string]any{"groupIDs": []string{"g1", "nope"}})
	infos := env["data"].(map[string]any)["groupInfos"].([]any)
	if len(infos) != 1 || infos[0].(map[string]any)["groupID"] != "g1" || infos[0].(map[string]any)["memberCount"] != float64(2) {
		t.Fatalf("groups %v", infos)
	}
	env = apiCall(t, s, "/group/get_group_members_info", tok, map[string]any{"groupID": "g1", "userIDs": []string{"alice", "carol"}})
	members := env["data"].(map[string]any)["members"].([]any)
	if len(members) != 1 || members[0].(map[string]any)["roleLevel"] != float64(100) || members[0].(map[string]any)["nickname"] != "Alice" {
		t.Fatalf("members %v", members)
	}
	env = apiCall(t, s, "/group/get_group_member_list", tok, map[string]any{"groupID": "g1", "pagination": map[string]any{"pageNumber": 2, "showNumber": 1}})
	if d := env["data"].(map[string]any); d["total"] != float64(2) || len(d["members"].([]any)) != 1 || d["members"].([]any)[0].(map[string]any)["userID"] != "bob" {
		t.Fatalf("member list %v", d)
	}
}

// Token errors as golang-jwt v4 maps them in OpenIM: expiry wins over a
// bad signature; a bad signature is 1505 "signature is invalid"; an iat in
// the future 1505 "Token used before issued"; a future nbf 1504.
func TestReviewTokenErrorPrecedence(t *testing.T) {
	s := newSandbox(t, sandbox.Config{Secret: "s3cret"})
	now := time.Now().Unix()
	nbf := func() string {
		enc := base64.RawURLEncoding
		h := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
		c, _ := json.Marshal(map[string]any{"UserID": "alice", "PlatformID": 7, "exp": now + 100, "iat": now - 5, "nbf": now + 50})
		msg := h + "." + enc.EncodeToString(c)
		mac := hmac.New(sha256.New, []byte("s3cret"))
		mac.Write([]byte(msg))
		return msg + "." + enc.EncodeToString(mac.Sum(nil))
	}()
	for _, tc := range []struct {
		name, tok string
		code      int
		msg       string
	}{
		{"expired, bad signature", signJWT("other", "alice", 7, now-10, now-100), 1501, "TokenExpiredError"},
		{"bad signature", signJWT("other", "alice", 7, now+100, now-5), 1505, "signature is invalid"},
		{"issued in the future", signJWT("s3cret", "alice", 7, now+100, now+30), 1505, "Token used before issued"},
		{"not valid yet", nbf, 1504, "TokenNotValidYetError"},
	} {
		_, body := handshakeError(t, s, handshakeURL(s, "alice", tc.tok, rawOpts{}))
		if errCode(body) != tc.code || body["errMsg"] != tc.msg {
			t.Errorf("%s: %v, want %d %q", tc.name, body, tc.code, tc.msg)
		}
	}
}

// In JSON mode the envelope is encoding/json of OpenIM's Resp: a reply
// whose protobuf payload is empty carries "data":"" (OpenIM marshals the
// empty message), while a reply without payload (2004, errors) carries
// "data":null. 2003 closes the connection after its reply even when the
// payload did not decode.
func TestReviewJSONEmptyPayloadAndLogout(t *testing.T) {
	s := newSandbox(t, sandbox.Config{})
	for _, gz := range []bool{false, true} {
		c := login(t, s, "carol", rawOpts{js: true, gzip: gz})
		raw := func(code int, data []byte) string {
			t.Helper()
			c.n++
			incr := "carol_" + strconv.Itoa(c.n)
			c.sendEnv(GeneralWsReq{ReqIdentifier: code, SendID: "carol", OperationID: "op", MsgIncr: incr, Data: data})
			_, b, err := c.ws.Read(ctx5(t))
			if err != nil {
				t.Fatal(err)
			}
			if gz {
				b = gunzip(t, b)
			}
			return string(b)
		}
		if got := raw(1001, []byte("\x0a\x05carol")); got != `{"reqIdentifier":1001,"msgIncr":"carol_1","operationID":"op","errCode":0,"errMsg":"","data":""}` {
			t.Fatalf("1001 with no conversations: %s", got)
		}
		if got := raw(2004, []byte("\x0a\x05carol\x10\x01")); got != `{"reqIdentifier":2004,"msgIncr":"carol_2","operationID":"op","errCode":0,"errMsg":"","data":null}` {
			t.Fatalf("2004: %s", got)
		}
		if got := raw(1001, []byte("\x0a\x03bob")); got != `{"reqIdentifier":1001,"msgIncr":"carol_3","operationID":"op","errCode":1002,"errMsg":"NoPermissionError","data":null}` {
			t.Fatalf("error: %s", got)
		}
		if got := raw(2003, []byte("\xff")); !strings.Contains(got, `"reqIdentifier":2003`) || !strings.Contains(got, `"errCode":500`) {
			t.Fatalf("2003 bad payload: %s", got)
		}
		c.expectClosed()
	}
	c := login(t, s, "carol", rawOpts{js: true})
	c.sendEnv(GeneralWsReq{ReqIdentifier: 2003, SendID: "carol", MsgIncr: "x", Data: []byte("\x0a\x05carol\x10\x07")})
	if _, b, err := c.ws.Read(ctx5(t)); err != nil || !strings.HasSuffix(string(b), `"errCode":0,"errMsg":"","data":""}`) {
		t.Fatalf("2003: %s %v", b, err)
	}
	c.expectClosed()
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Policy 1 as OpenIM does it: issuing a new token (HTTP or Go API) only
// marks the older tokens of that platform kicked; a connection using an
// older token stays up until the new token logs in, which sends it 2002.
func TestReviewIssuingDoesNotKickLiveConnection(t *testing.T) {
	s := newSandbox(t, sandbox.Config{})
	admin, _ := s.AdminToken()
	old := login(t, s, "bob", rawOpts{})
	env := apiCall(t, s, "/auth/get_user_token", admin, map[string]any{"userID": "bob", "platformID": 7})
	tok2, _ := env["data"].(map[string]any)["token"].(string)
	if errCode(env) != 0 || tok2 == "" {
		t.Fatal(env)
	}
	s.SendText("alice", "bob", "still here")
	if conv, md := onlyPush(t, old.next()); conv != "si_alice_bob" || md.Seq != 1 {
		t.Fatalf("%s %+v", conv, md)
	}
	if r := old.call(1001, &sdkws.GetMaxSeqReq{UserID: "bob"}, nil); r.ErrCode != 0 {
		t.Fatal(r.ErrCode)
	}
	dialRaw(t, s, "bob", tok2, rawOpts{})
	if r := old.next(); r.ReqIdentifier != 2002 {
		t.Fatalf("%+v", r)
	}
	old.expectClosed()
}

// OpenIM forces a typing message (113) online only by writing into its
// options map, which has no effect when the message has no options: then
// it is stored with a seq like any message. With options, it is pushed with
// seq 0 and not stored, and the sender gets no echo.
func TestReviewTypingWithoutOptions(t *testing.T) {
	s := newSandbox(t, sandbox.Config{})
	a := login(t, s, "alice", rawOpts{})
	b := login(t, s, "bob", rawOpts{})
	typing := &sdkws.MsgData{SendID: "alice", RecvID: "bob", SessionType: 1, ContentType: 113, Content: []byte(`{"msgTips":"..."}`)}
	incr := a.send(1003, typing)
	if _, md := onlyPush(t, b.next()); md.Seq != 1 {
		t.Fatalf("typing without options: seq %d", md.Seq)
	}
	r, pushes := a.reply(incr)
	if r.ErrCode != 0 {
		t.Fatal(r.ErrCode)
	}
	if len(pushes) == 0 {
		pushes = append(pushes, a.next())
	}
	if _, md := onlyPush(t, pushes[0]); md.Seq != 1 {
		t.Fatalf("echo seq %d", md.Seq)
	}
	typing.Options = map[string]bool{"isSendMsg": true}
	if r := a.call(1003, typing, nil); r.ErrCode != 0 {
		t.Fatal(r.ErrCode)
	}
	if _, md := onlyPush(t, b.next()); md.Seq != 0 || md.Options["history"] || md.Options["senderSync"] {
		t.Fatalf("typing with options: %+v", md)
	}
	if s.MaxSeq("si_alice_bob") != 1 {
		t.Fatalf("maxSeq %d", s.MaxSeq("si_alice_bob"))
	}
}

// Group membership is not checked for notification content types
// (1000–5000), as in OpenIM's messageVerification.
func TestReviewGroupNotificationSkipsMemberCheck(t *testing.T) {
	s := newSandbox(t, sandbox.Config{})
	if err := s.CreateGroup("g1", "bob"); err != nil {
		t.Fatal(err)
	}
	a := login(t, s, "alice", rawOpts{})
	m := &sdkws.MsgData{SendID: "alice", GroupID: "g1", SessionType: 3, ContentType: 101, Content: []byte(`{"content":"x"}`)}
	if r := a.call(1003, m, nil); r.ErrCode != 1203 {
		t.Fatalf("text from a non-member: %d", r.ErrCode)
	}
	m.ContentType, m.Content = 1501, []byte(`{"detail":"{}"}`)
	if r := a.call(1003, m, nil); r.ErrCode != 0 {
		t.Fatalf("notification from a non-member: %d", r.ErrCode)
	}
}

// The HTTP API sends OpenIM's CORS headers and answers preflights, so a
// browser JS SDK can call it.
func TestReviewHTTPCORS(t *testing.T) {
	s := newSandbox(t, sandbox.Config{})
	req, _ := http.NewRequest(http.MethodOptions, s.APIURL()+"/user/get_users_info", nil)
	req.Header.Set("Origin", "http://localhost:3000")
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "operationid,token,content-type")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "*" || resp.Header.Get("Access-Control-Allow-Headers") != "*" {
		t.Fatalf("preflight: %d %v", resp.StatusCode, resp.Header)
	}
	b, _ := json.Marshal(map[string]any{"userIDs": []string{"alice"}})
	req, _ = http.NewRequest(http.MethodPost, s.APIURL()+"/user/get_users_info", bytes.NewReader(b))
	req.Header.Set("operationID", "op")
	req.Header.Set("token", token(t, s, "bob", 5))
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "*" || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("POST: %d %v", resp.StatusCode, resp.Header)
	}
	// A handshake failure is written by apiresp.HttpError: with charset.
	resp, err = http.Get("http" + strings.TrimPrefix(s.WSURL(), "ws") + "/?sendID=bob")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Fatalf("handshake failure: %d %v", resp.StatusCode, resp.Header)
	}
}

// The conversation lookups the SDK makes (get_conversations for the IDs
// 1006 reported, the full-sync calls) return the user's conversation
// records with their type and peer or group.
func TestReviewHTTPConversations(t *testing.T) {
	s := newSandbox(t, sandbox.Config{})
	if err := s.CreateGroup("g1", "alice", "bob"); err != nil {
		t.Fatal(err)
	}
	s.SendText("alice", "bob", "hi")
	s.SendText("alice", "bob", "again")
	tok := token(t, s, "bob", 7)
	env := apiCall(t, s, "/conversation/get_conversations", tok, map[string]any{"ownerUserID": "bob", "conversationIDs": []string{"si_alice_bob", "sg_g1", "si_bob_carol"}})
	convs := env["data"].(map[string]any)["conversations"].([]any)
	if len(convs) != 2 {
		t.Fatalf("%v", env)
	}
	byID := map[string]map[string]any{}
	for _, c := range convs {
		m := c.(map[string]any)
		byID[m["conversationID"].(string)] = m
	}
	if c := byID["si_alice_bob"]; c["conversationType"] != float64(1) || c["userID"] != "alice" || c["ownerUserID"] != "bob" || c["maxSeq"] != nil {
		t.Fatalf("single %v", c)
	}
	if c := byID["sg_g1"]; c["conversationType"] != float64(3) || c["groupID"] != "g1" {
		t.Fatalf("group %v", c)
	}
	env = apiCall(t, s, "/conversation/get_owner_conversation", tok, map[string]any{"userID": "bob", "pagination": map[string]any{"pageNumber": 1, "showNumber": 1}})
	if d := env["data"].(map[string]any); d["total"] != float64(2) || len(d["conversations"].([]any)) != 1 {
		t.Fatalf("owner %v", d)
	}
	env = apiCall(t, s, "/conversation/get_full_conversation_ids", tok, map[string]any{"userID": "bob"})
	if ids := env["data"].(map[string]any)["conversationIDs"].([]any); len(ids) != 2 {
		t.Fatalf("ids %v", ids)
	}
	if env := apiCall(t, s, "/conversation/get_all_conversations", tok, map[string]any{"ownerUserID": "alice"}); errCode(env) != 1002 {
		t.Fatalf("other owner %v", env)
	}
}

// /user/user_register checks the whole request before registering anyone:
// a repeated or ':'-containing userID is 1001, an existing one 1102.
func TestReviewUserRegisterChecks(t *testing.T) {
	s := newSandbox(t, sandbox.Config{})
	admin, _ := s.AdminToken()
	for _, tc := range []struct {
		ids  []string
		code int
	}{{[]string{"dave", "dave"}, 1001}, {[]string{"erin", "a:b"}, 1001}, {[]string{"frank", "alice"}, 1102}, {[]string{"dave", "erin"}, 0}} {
		var users []map[string]any
		for _, id := range tc.ids {
			users = append(users, map[string]any{"userID": id})
		}
		if env := apiCall(t, s, "/user/user_register", admin, map[string]any{"users": users}); errCode(env) != tc.code {
			t.Fatalf("%v: %v, want %d", tc.ids, env, tc.code)
		}
	}
	if err := s.RegisterUser("frank", "F"); err != nil {
		t.Fatalf("frank was registered by a failed call: %v", err)
	}
}

// Conversation records, has-read seqs (the senders' and HTTP read marks)
// and app manager levels survive a restart of the process.
func TestReviewStoreKeepsRecordsAndReadMarks(t *testing.T) {
	path := t.TempDir() + "/sandbox.db"
	s, err := sandbox.Start(context.Background(), sandbox.Config{StorePath: path})
	if err != nil {
		t.Fatal(err)
	}
	s.RegisterUser("alice", "A")
	s.RegisterUser("bob", "B")
	for i := 0; i < 3; i++ {
		s.SendText("alice", "bob", "m")
	}
	admin, _ := s.AdminToken()
	apiCall(t, s, "/user/user_register", admin, map[string]any{"users": []map[string]any{{"userID": "news", "appMangerLevel": 3}}})
	if env := apiCall(t, s, "/msg/mark_conversation_as_read", token(t, s, "bob", 3), map[string]any{"conversationID": "si_alice_bob", "hasReadSeq": 2}); errCode(env) != 0 {
		t.Fatal(env)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := sandbox.Start(context.Background(), sandbox.Config{StorePath: path})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	for user, want := range map[string]int64{"alice": 3, "bob": 2} {
		c := login(t, s2, user, rawOpts{})
		var hr msg.GetConversationsHasReadAndMaxSeqResp
		c.call(1006, &msg.GetConversationsHasReadAndMaxSeqReq{UserID: user}, &hr)
		if sq := hr.Seqs["si_alice_bob"]; len(hr.Seqs) != 1 || sq.GetHasReadSeq() != want || sq.GetMaxSeq() != 3 {
			t.Fatalf("%s after restart: %v", user, hr.Seqs)
		}
	}
	if _, err := s2.UserToken("news", 7); err == nil {
		t.Fatal("notification account got a token after restart")
	}
}
