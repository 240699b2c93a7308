package sandbox_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/openimbot/openimbot/content"
	"github.com/openimbot/openimbot/internal/pb/sdkws"
	"github.com/openimbot/openimbot/internal/testchild"
	"github.com/openimbot/openimbot/sandbox"
)

func TestStartDefaultsAndURLs(t *testing.T) {
	s := newSandbox(t, sandbox.Config{})
	if !strings.HasPrefix(s.WSURL(), "ws://127.0.0.1:") || !strings.HasPrefix(s.APIURL(), "http://127.0.0.1:") || s.WSURL()[5:] == s.APIURL()[7:] {
		t.Fatalf("%s %s", s.WSURL(), s.APIURL())
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := s.SendText("alice", "bob", "x"); !errors.Is(err, sandbox.ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
	if _, err := sandbox.Start(context.Background(), sandbox.Config{TokenTTL: -1}); err == nil {
		t.Fatal("negative TokenTTL accepted")
	}
}

func TestRegisterUserAndGroupErrors(t *testing.T) {
	s := newSandbox(t, sandbox.Config{})
	err := s.RegisterUser("alice", "again")
	var ce *sandbox.CodeError
	if !errors.Is(err, sandbox.ErrUserExists) || !errors.As(err, &ce) || ce.Code != 1102 {
		t.Fatalf("%v", err)
	}
	if err := s.RegisterUser("", "x"); !errors.Is(err, sandbox.ErrInvalid) {
		t.Fatalf("%v", err)
	}
	if _, err := s.UserToken("nobody", 7); !errors.Is(err, sandbox.ErrUnknownUser) {
		t.Fatalf("%v", err)
	}
	if _, err := s.UserToken("alice", 10); err == nil {
		t.Fatal("platform 10 user token issued")
	}
	if _, err := s.UserToken("alice", 12); err == nil {
		t.Fatal("platform 12 accepted")
	}
	s.CreateGroup("g", "alice")
	if err := s.CreateGroup("g", "bob"); !errors.Is(err, sandbox.ErrGroupExists) {
		t.Fatalf("%v", err)
	}
	if _, err := s.SendGroupText("alice", "nope", "x"); !errors.Is(err, sandbox.ErrUnknownGroup) {
		t.Fatalf("%v", err)
	}
	if got := s.GroupMembers("g"); len(got) != 1 || got[0] != "alice" {
		t.Fatal(got)
	}
}

func TestInjectAndSubscribe(t *testing.T) {
	s := newSandbox(t, sandbox.Config{})
	ch, cancel := s.Subscribe(0)
	b := login(t, s, "bob", rawOpts{})
	m, err := s.SendText("alice", "bob", "one")
	if err != nil || m.Seq != 1 || m.ConversationID != "si_alice_bob" || m.ServerMsgID == "" || m.ClientMsgID == "" || m.SendTime == 0 || m.Status != content.StatusSent {
		t.Fatalf("%+v %v", m, err)
	}
	if m.Elem == nil || m.Text() != "one" {
		t.Fatalf("elem %#v", m.Elem)
	}
	got := <-ch
	if got.ServerMsgID != m.ServerMsgID || got.Seq != 1 {
		t.Fatalf("subscribed %+v", got)
	}
	// Online only: pushed with seq 0, not stored.
	on, err := s.Inject(content.Message{SendID: "alice", RecvID: "bob", ContentType: content.TypeText,
		Content: []byte(`{"content":"ephemeral"}`), Options: map[string]bool{"history": false}})
	if err != nil || on.Seq != 0 {
		t.Fatalf("%+v %v", on, err)
	}
	onlyPush(t, b.next())
	if _, md := onlyPush(t, b.next()); md.Seq != 0 || md.ServerMsgID != on.ServerMsgID {
		t.Fatalf("%+v", md)
	}
	if s.MaxSeq("si_alice_bob") != 1 || len(s.Messages("si_alice_bob")) != 1 {
		t.Fatal("online-only message stored")
	}
	if got := <-ch; got.Seq != 0 || got.ServerMsgID != on.ServerMsgID {
		t.Fatalf("%+v", got)
	}
	// A client's 1003 reaches subscribers too.
	b.call(1003, textMsg("bob", "alice", "from client"), nil)
	if got := <-ch; got.SendID != "bob" || got.Seq != 2 || got.Text() != "from client" {
		t.Fatalf("%+v", got)
	}
	// Notification stream and group.
	n, err := s.Inject(content.Message{SendID: "alice", RecvID: "bob", ContentType: 1204, Content: []byte(`{"detail":"{}"}`),
		Options: map[string]bool{"isNotNotification": false}})
	if err != nil || n.ConversationID != "n_alice_bob" || n.Seq != 1 {
		t.Fatalf("%+v %v", n, err)
	}
	<-ch
	pm := decodePush(t, b.next())
	if len(pm.NotificationMsgs["n_alice_bob"].GetMsgs()) != 1 || len(pm.Msgs) != 0 {
		t.Fatalf("notification push %v", pm)
	}
	if _, err := s.Inject(content.Message{SendID: "alice"}); !errors.Is(err, sandbox.ErrInvalid) {
		t.Fatalf("%v", err)
	}
	cancel()
	if _, ok := <-ch; ok {
		t.Fatal("channel open after cancel")
	}
	cancel() // idempotent
	// Close closes other subscriptions.
	ch2, _ := s.Subscribe(1)
	s.Close()
	if _, ok := <-ch2; ok {
		t.Fatal("channel open after Close")
	}
}

func TestSubscribeNeverBlocksServer(t *testing.T) {
	s := newSandbox(t, sandbox.Config{})
	ch, cancel := s.Subscribe(0)
	defer cancel()
	for i := 0; i < 100; i++ {
		if _, err := s.SendText("alice", "bob", "x"); err != nil {
			t.Fatal(err)
		}
	}
	for i := 1; i <= 100; i++ {
		if m := <-ch; m.Seq != int64(i) {
			t.Fatalf("seq %d, want %d", m.Seq, i)
		}
	}
}

func TestSubscribeFrom(t *testing.T) {
	s := newSandbox(t, sandbox.Config{})
	ch, cancel := s.SubscribeFrom(0, "bob", "carol")
	defer cancel()
	all, cancelAll := s.Subscribe(16)
	defer cancelAll()
	for _, p := range [][2]string{{"alice", "bob"}, {"bob", "alice"}, {"alice", "carol"}, {"carol", "alice"}} {
		if _, err := s.SendText(p[0], p[1], p[0]+" to "+p[1]); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []string{"bob", "carol"} {
		if m := <-ch; m.SendID != want || m.Seq == 0 {
			t.Fatalf("SubscribeFrom got a message from %s (seq %d), want %s", m.SendID, m.Seq, want)
		}
	}
	for range 4 {
		<-all // the unfiltered subscription still sees every message
	}
	if _, err := s.SendText("bob", "alice", "last"); err != nil {
		t.Fatal(err)
	}
	if m := <-ch; m.SendID != "bob" || m.Elem.(*content.Text).Content != "last" {
		t.Fatalf("then got %+v", m)
	}
}

func TestFaultDropAll(t *testing.T) {
	s := newSandbox(t, sandbox.Config{})
	a := login(t, s, "alice", rawOpts{})
	b := login(t, s, "bob", rawOpts{})
	s.DropAll()
	for _, c := range []*rawClient{a, b} {
		if err := c.expectClosed(); websocket.CloseStatus(err) != -1 {
			t.Fatalf("DropAll sent a close frame: %v", err)
		}
	}
	waitFor(t, func() bool { return s.Stats().Connections == 0 })
	login(t, s, "alice", rawOpts{}) // new connections are fine
}

func TestFaultDropEvery(t *testing.T) {
	s := newSandbox(t, sandbox.Config{})
	s.DropEvery(3)
	a := login(t, s, "alice", rawOpts{})
	a.call(1001, &sdkws.GetMaxSeqReq{UserID: "alice"}, nil) // in 1, out 2
	a.send(1001, &sdkws.GetMaxSeqReq{UserID: "alice"})      // in 3: dropped
	a.expectClosed()
	s.DropEvery(0)
	a = login(t, s, "alice", rawOpts{})
	for i := 0; i < 5; i++ {
		a.call(1001, &sdkws.GetMaxSeqReq{UserID: "alice"}, nil)
	}
}

func TestFaultDelayFrames(t *testing.T) {
	s := newSandbox(t, sandbox.Config{})
	a := login(t, s, "alice", rawOpts{})
	s.DelayFrames(150 * time.Millisecond)
	start := time.Now()
	a.call(1001, &sdkws.GetMaxSeqReq{UserID: "alice"}, nil)
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Fatalf("reply after %v", d)
	}
	s.DelayFrames(0)
	a.call(1001, &sdkws.GetMaxSeqReq{UserID: "alice"}, nil)
}

func TestFaultRefuseHandshakes(t *testing.T) {
	s := newSandbox(t, sandbox.Config{})
	tok := token(t, s, "alice", 7)
	s.RefuseHandshakes(2, 1601)
	for i := 0; i < 2; i++ {
		if _, body := handshakeError(t, s, handshakeURL(s, "alice", tok, rawOpts{})); errCode(body) != 1601 || body["errMsg"] != "ConnOverMaxNumLimit" {
			t.Fatal(body)
		}
	}
	dialRaw(t, s, "alice", tok, rawOpts{})
	s.RefuseHandshakes(1, 1505)
	if _, err := tryDial(t, s, "alice", tok, rawOpts{}); err == nil || !strings.Contains(err.Error(), `"errCode":1505`) {
		t.Fatal(err)
	}
}

func TestMaxConnections(t *testing.T) {
	s := newSandbox(t, sandbox.Config{MaxConnections: 1})
	tok := token(t, s, "alice", 7)
	a := dialRaw(t, s, "alice", tok, rawOpts{})
	if _, body := handshakeError(t, s, handshakeURL(s, "alice", tok, rawOpts{})); errCode(body) != 1601 {
		t.Fatal(body)
	}
	a.ws.CloseNow()
	waitFor(t, func() bool { return s.Stats().Connections == 0 })
	dialRaw(t, s, "alice", tok, rawOpts{})
}

func TestFaultWithholdPushes(t *testing.T) {
	s := newSandbox(t, sandbox.Config{})
	b := login(t, s, "bob", rawOpts{})
	s.WithholdPushes(true)
	s.SendText("alice", "bob", "1")
	s.SendText("alice", "bob", "2")
	s.WithholdPushes(false)
	s.SendText("alice", "bob", "3")
	if _, md := onlyPush(t, b.next()); md.Seq != 3 {
		t.Fatalf("first push seq %d, want 3 (gap 1-2)", md.Seq)
	}
	pr := pull(t, b, sdkws.PullOrder_PullOrderAsc, &sdkws.SeqRange{ConversationID: "si_alice_bob", Begin: 1, End: 2, Num: 2})
	if got := seqsOf(pr.Msgs["si_alice_bob"]); !slices.Equal(got, []int64{1, 2}) {
		t.Fatal(got)
	}
}

func TestRestartKeepsStoreAndPorts(t *testing.T) {
	s := newSandbox(t, sandbox.Config{})
	tok := token(t, s, "bob", 7)
	b := dialRaw(t, s, "bob", tok, rawOpts{})
	s.SendText("alice", "bob", "before")
	b.next()
	ws, api := s.WSURL(), s.APIURL()
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	b.expectClosed()
	if s.WSURL() != ws || s.APIURL() != api {
		t.Fatalf("ports moved: %s %s", s.WSURL(), s.APIURL())
	}
	b = dialRaw(t, s, "bob", tok, rawOpts{})
	s.SendText("alice", "bob", "after")
	if _, md := onlyPush(t, b.next()); md.Seq != 2 {
		t.Fatalf("seq %d", md.Seq)
	}
	s.Close()
	if err := s.Restart(); !errors.Is(err, sandbox.ErrClosed) {
		t.Fatalf("Restart after Close: %v", err)
	}
}

func TestStorePersistsAcrossProcesses(t *testing.T) {
	path := t.TempDir() + "/sandbox.db"
	s, err := sandbox.Start(context.Background(), sandbox.Config{StorePath: path})
	if err != nil {
		t.Fatal(err)
	}
	s.RegisterUser("alice", "A")
	s.RegisterUser("bob", "B")
	s.CreateGroup("g", "alice", "bob")
	old, _ := s.UserToken("bob", 7)
	tok, _ := s.UserToken("bob", 7)
	for i := 0; i < 3; i++ {
		s.SendText("alice", "bob", "m")
	}
	s.SendGroupText("alice", "g", "hello group")
	s.DeleteMessage("si_alice_bob", 2)
	want := s.Messages("si_alice_bob")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// A torn last line (crash mid-append) is ignored.
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"k":"msg","conv":"si_`)
	f.Close()

	s2, err := sandbox.Start(context.Background(), sandbox.Config{StorePath: path})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	got := s2.Messages("si_alice_bob")
	if len(got) != len(want) || got[0].ServerMsgID != want[0].ServerMsgID || got[1].Seq != 3 || s2.MaxSeq("si_alice_bob") != 3 {
		t.Fatalf("reloaded %d messages", len(got))
	}
	if err := s2.RegisterUser("alice", "again"); !errors.Is(err, sandbox.ErrUserExists) {
		t.Fatalf("users lost: %v", err)
	}
	if g := s2.GroupMembers("g"); len(g) != 2 {
		t.Fatalf("group lost: %v", g)
	}
	b := dialRaw(t, s2, "bob", tok, rawOpts{})
	pr := pull(t, b, sdkws.PullOrder_PullOrderAsc, &sdkws.SeqRange{ConversationID: "si_alice_bob", Begin: 1, End: 3, Num: 3})
	if ms := pr.Msgs["si_alice_bob"].GetMsgs(); len(ms) != 3 || ms[1].Status != 4 {
		t.Fatalf("pull after reload: %v", ms)
	}
	var mx sdkws.GetMaxSeqResp
	b.call(1001, &sdkws.GetMaxSeqReq{UserID: "bob"}, &mx)
	if mx.MaxSeqs["sg_g"] != 1 || mx.MaxSeqs["si_alice_bob"] != 3 {
		t.Fatalf("%v", mx.MaxSeqs)
	}
	if _, body := handshakeError(t, s2, handshakeURL(s2, "bob", old, rawOpts{})); errCode(body) != 1506 {
		t.Fatalf("kicked token revived: %v", body)
	}
	m, _ := s2.SendText("alice", "bob", "new")
	if m.Seq != 4 {
		t.Fatalf("seq after reload %d", m.Seq)
	}
}

func TestStoreCorruptLine(t *testing.T) {
	path := t.TempDir() + "/bad.db"
	os.WriteFile(path, []byte("{\"k\":\"user\",\"user\":{\"userID\":\"a\"}}\nnot json\n"), 0o600)
	_, err := sandbox.Start(context.Background(), sandbox.Config{StorePath: path})
	if !errors.Is(err, sandbox.ErrCorruptStore) || !strings.Contains(err.Error(), path+":2") {
		t.Fatalf("%v", err)
	}
}

func TestHandshakeVParam(t *testing.T) {
	s := newSandbox(t, sandbox.Config{})
	tok := token(t, s, "alice", 7)
	v, _ := json.Marshal(map[string]any{"token": tok, "userID": "alice", "platformID": 7, "operationID": "op", "compression": "gzip", "sendResponse": true})
	q := url.Values{"v": {base64.RawURLEncoding.EncodeToString(v)}}
	ws, _, err := websocket.Dial(ctx5(t), s.WSURL()+"?"+q.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	c := &rawClient{t: t, ws: ws, user: "alice", o: rawOpts{gzip: true}}
	if _, b, _ := ws.Read(ctx5(t)); string(b) != `{"errCode":0,"errMsg":"","errDlt":""}` {
		t.Fatalf("%s", b)
	}
	if r := c.call(1001, &sdkws.GetMaxSeqReq{UserID: "alice"}, nil); r.ErrCode != 0 {
		t.Fatal(r.ErrCode)
	}
	v, _ = json.Marshal(map[string]any{"token": tok, "userID": "alice", "platformID": 7})
	_, body := handshakeError(t, s, s.WSURL()+"?v="+base64.RawURLEncoding.EncodeToString(v)+"&operationID=ignored")
	if errCode(body) != 1602 || body["errDlt"] != "operationID is empty" {
		t.Fatal(body)
	}
}

func TestHTTPCreateGroupAndGroupChat(t *testing.T) {
	s := newSandbox(t, sandbox.Config{})
	tokA := token(t, s, "alice", 7)
	env := apiCall(t, s, "/group/create_group", tokA, map[string]any{"memberUserIDs": []string{"bob"}, "groupInfo": map[string]any{"groupID": "team", "groupName": "Team"}})
	if errCode(env) != 0 {
		t.Fatal(env)
	}
	if g := s.GroupMembers("team"); len(g) != 2 || g[0] != "alice" {
		t.Fatal(g)
	}
	if env := apiCall(t, s, "/group/create_group", tokA, map[string]any{"groupInfo": map[string]any{"groupID": "team"}}); errCode(env) != 1202 {
		t.Fatal(env)
	}
	if env := apiCall(t, s, "/group/create_group", tokA, map[string]any{"memberUserIDs": []string{"ghost"}}); errCode(env) != 1101 {
		t.Fatal(env)
	}
	b := login(t, s, "bob", rawOpts{})
	s.SendGroupText("alice", "team", "hi team")
	if conv, md := onlyPush(t, b.next()); conv != "sg_team" || md.Seq != 2 { // seq 1 is the group-created notification
		t.Fatal(conv, md.Seq)
	}
}

func TestLogsOneLinePerConnectionAndRequest(t *testing.T) {
	var buf testchild.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	s := newSandbox(t, sandbox.Config{Logger: log, Secret: "topsecret"})
	tok := token(t, s, "alice", 7)
	a := dialRaw(t, s, "alice", tok, rawOpts{})
	a.call(1001, &sdkws.GetMaxSeqReq{UserID: "alice"}, nil)
	apiCall(t, s, "/auth/get_admin_token", "", map[string]any{"secret": "topsecret", "userID": "imAdmin"})
	a.ws.CloseNow()
	waitFor(t, func() bool { return strings.Contains(buf.String(), "sandbox: disconnected") })
	out := buf.String()
	for _, want := range []string{"sandbox: connected", "sandbox: request", "req=1001", "sandbox: http", "path=/auth/get_admin_token"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, tok) || strings.Contains(out, "topsecret") {
		t.Fatal("token or secret logged")
	}
}

func TestStatsCounters(t *testing.T) {
	s := newSandbox(t, sandbox.Config{})
	a := login(t, s, "alice", rawOpts{})
	b := login(t, s, "bob", rawOpts{})
	a.call(1003, textMsg("alice", "bob", "x"), nil)
	b.next()
	a.call(1001, &sdkws.GetMaxSeqReq{UserID: "alice"}, nil)
	// A frame is counted after its write returns, which may be after the
	// client read it.
	waitFor(t, func() bool { return s.Stats().FramesOut == 4 })
	st := s.Stats()
	if st.Connections != 2 || st.TotalConnections != 2 || st.Requests[1003] != 1 || st.Requests[1001] != 1 ||
		st.Pushes != 2 || st.Messages != 1 || st.FramesIn != 2 || st.FramesOut != 4 {
		t.Fatalf("%+v", st)
	}
}

// waitFor polls cond until it holds or 5 s pass.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 5 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestInjectConversationIDsMatchContent(t *testing.T) {
	s := newSandbox(t, sandbox.Config{})
	s.CreateGroup("g1", "alice", "bob")
	for _, m := range []content.Message{
		{SendID: "bob", RecvID: "alice", SessionType: content.SingleChat},
		{SendID: "alice", RecvID: "alice", SessionType: content.SingleChat},
		{SendID: "alice", GroupID: "g1", SessionType: content.GroupChat},
		{SendID: "alice", GroupID: "g1", SessionType: content.GroupChat, Options: map[string]bool{"isNotNotification": false}},
		{SendID: "imAdmin", RecvID: "bob", SessionType: content.NotificationChat, ContentType: content.TypeOANotification},
	} {
		if m.ContentType == 0 {
			m.ContentType = content.TypeText
		}
		m.Content = []byte(`{"content":"x"}`)
		got, err := s.Inject(m)
		if err != nil {
			t.Fatal(err)
		}
		if want := content.ConversationIDOf(&m); got.ConversationID != want || got.Seq != 1 {
			t.Errorf("%+v: %s seq %d, want %s seq 1", m, got.ConversationID, got.Seq, want)
		}
	}
}

func TestConcurrentRestartCloseAndTraffic(t *testing.T) {
	s := newSandbox(t, sandbox.Config{})
	tok := token(t, s, "bob", 7)
	var wg sync.WaitGroup
	for i := 0; i < 3; i++ {
		wg.Add(2)
		go func() { defer wg.Done(); s.Restart() }()
		go func() {
			defer wg.Done()
			for j := 0; j < 20; j++ {
				s.SendText("alice", "bob", "x")
				if ws, _, err := websocket.Dial(context.Background(), handshakeURL(s, "bob", tok, rawOpts{}), nil); err == nil {
					ws.CloseNow()
				}
			}
		}()
	}
	wg.Wait()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if n := s.Stats().Connections; n != 0 {
		t.Fatalf("%d connections after Close", n)
	}
	if s.MaxSeq("si_alice_bob") != 60 {
		t.Fatalf("maxSeq %d", s.MaxSeq("si_alice_bob"))
	}
}

func TestPlainHTTPWithValidParamsDoesNotRegister(t *testing.T) {
	s := newSandbox(t, sandbox.Config{})
	tok1 := token(t, s, "alice", 7)
	a := dialRaw(t, s, "alice", tok1, rawOpts{})
	resp, err := http.Get("http" + strings.TrimPrefix(handshakeURL(s, "alice", tok1, rawOpts{}), "ws"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("HTTP %d", resp.StatusCode)
	}
	if r := a.call(1001, &sdkws.GetMaxSeqReq{UserID: "alice"}, nil); r.ErrCode != 0 {
		t.Fatal(r.ErrCode)
	}
	if st := s.Stats(); st.TotalConnections != 1 || st.Connections != 1 {
		t.Fatalf("%+v", st)
	}
}

// TestSubscribeOrder mixes messages a subscriber receives straight into its
// channel (room, pump idle) with messages that queue behind a full channel:
// they arrive in acceptance order either way.
func TestSubscribeOrder(t *testing.T) {
	s := newSandbox(t, sandbox.Config{})
	ch, cancel := s.Subscribe(4)
	defer cancel()
	const n = 200
	got := make(chan []string, 1)
	go func() {
		var texts []string
		for m := range ch {
			texts = append(texts, m.Elem.(*content.Text).Content)
			if len(texts) == n {
				break
			}
			if len(texts)%16 == 0 {
				time.Sleep(time.Millisecond) // let the channel fill up and the queue grow
			}
		}
		got <- texts
	}()
	for i := range n {
		if _, err := s.SendText("alice", "bob", strconv.Itoa(i)); err != nil {
			t.Fatal(err)
		}
		if i%50 == 0 {
			time.Sleep(2 * time.Millisecond) // let the reader drain: the next ones go straight in
		}
	}
	texts := <-got
	for i, s := range texts {
		if s != strconv.Itoa(i) {
			t.Fatalf("message %d is %q, want %d (order lost)", i, s, i)
		}
	}
}
