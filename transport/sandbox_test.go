package transport

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/openimbot/openimbot/content"
	"github.com/openimbot/openimbot/sandbox"
)

// These tests run the client against the sandbox gateway over real loopback
// websockets.

func startSandbox(t *testing.T, users ...string) *sandbox.Server {
	t.Helper()
	s, err := sandbox.Start(context.Background(), sandbox.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	for _, u := range users {
		if err := s.RegisterUser(u, "Nick "+u); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func sandboxConfig(t *testing.T, s *sandbox.Server, user string) Config {
	t.Helper()
	tok, err := s.UserToken(user, 7)
	if err != nil {
		t.Fatal(err)
	}
	return Config{
		WSAddr: s.WSURL(), UserID: user, Token: tok,
		PingInterval: 200 * time.Millisecond, ReadTimeout: 2 * time.Second, RequestTimeout: 5 * time.Second,
		Backoff: func(int) time.Duration { return 20 * time.Millisecond },
	}
}

func convSingle(a, b string) string {
	if a > b {
		a, b = b, a
	}
	return "si_" + a + "_" + b
}

// Item 25 (transport part): PullRange returns every message of [a, b] in
// order, chunked so that the server's "newest num" rule never truncates.
func TestSandboxConformance25_PullRangeEveryMessage(t *testing.T) {
	s := startSandbox(t, "bot", "alice", "carol")
	conv := convSingle("alice", "bot")
	for i := 1; i <= 250; i++ {
		if _, err := s.SendText("alice", "bot", fmt.Sprintf("m%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	for i := 1; i <= 30; i++ {
		if _, err := s.SendText("carol", "bot", fmt.Sprintf("c%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	r := start(t, sandboxConfig(t, s, "bot"))
	r.waitEvent(t, EventConnected)
	ctx := ctxT(t, 10*time.Second)
	seqs, err := r.c.GetNewestSeq(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if seqs[conv] != 250 || seqs[convSingle("bot", "carol")] != 30 {
		t.Fatalf("GetNewestSeq = %v", seqs)
	}
	before := s.Stats().Requests[1002]
	res, err := r.c.PullRange(ctx, []SeqRange{{ConversationID: conv, Begin: 0, End: 250}, {ConversationID: convSingle("bot", "carol"), Begin: 11, End: 30}})
	if err != nil {
		t.Fatal(err)
	}
	got := res[conv].Messages
	if len(got) != 250 {
		t.Fatalf("pulled %d messages of %s, want 250", len(got), conv)
	}
	for i, m := range got {
		if m.Seq != int64(i+1) || m.Text() != fmt.Sprintf("m%d", i+1) || m.ConversationID != conv {
			t.Fatalf("message %d: seq %d text %q conv %q", i, m.Seq, m.Text(), m.ConversationID)
		}
	}
	if !res[conv].IsEnd {
		t.Error("IsEnd false for a range reaching maxSeq")
	}
	c := res[convSingle("bot", "carol")].Messages
	if len(c) != 20 || c[0].Seq != 11 || c[19].Seq != 30 {
		t.Fatalf("carol range: %d messages", len(c))
	}
	// 271 seqs in chunks of ≤100 seqs and ≤100 messages per request: at
	// least 3 requests.
	if n := s.Stats().Requests[1002] - before; n < 3 {
		t.Errorf("%d 1002 requests for 271 seqs", n)
	}
}

// Item 26 (transport part): a gap seen in pushes is filled with PullRange,
// deleted seqs come back as placeholders, and PullSeqs fetches lists.
func TestSandboxConformance26_GapFill(t *testing.T) {
	s := startSandbox(t, "bot", "alice")
	conv := convSingle("alice", "bot")
	r := start(t, sandboxConfig(t, s, "bot"))
	r.waitEvent(t, EventConnected)
	s.WithholdPushes(true)
	for i := 1; i <= 5; i++ {
		if _, err := s.SendText("alice", "bot", fmt.Sprintf("w%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	s.WithholdPushes(false)
	if _, err := s.SendText("alice", "bot", "w6"); err != nil {
		t.Fatal(err)
	}
	e := r.waitEvent(t, EventPush)
	if len(e.Messages) != 1 || e.Messages[0].Seq != 6 || e.Messages[0].ConversationID != conv {
		t.Fatalf("push = %+v", e.Messages)
	}
	if err := s.DeleteMessage(conv, 3); err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t, 10*time.Second)
	res, err := r.c.PullRange(ctx, []SeqRange{{ConversationID: conv, Begin: 1, End: 5}})
	if err != nil {
		t.Fatal(err)
	}
	got := res[conv].Messages
	if len(got) != 5 {
		t.Fatalf("%d messages", len(got))
	}
	for i, m := range got {
		if m.Seq != int64(i+1) {
			t.Fatalf("seq %d at %d", m.Seq, i)
		}
		if i == 2 {
			if m.Status != content.StatusDeleted || m.Elem == nil {
				t.Errorf("deleted seq: %+v", m)
			}
		} else if m.Text() != fmt.Sprintf("w%d", i+1) {
			t.Errorf("seq %d text %q", m.Seq, m.Text())
		}
	}
	ps, err := r.c.PullSeqs(ctx, map[string][]int64{conv: {2, 4, 6}})
	if err != nil {
		t.Fatal(err)
	}
	if m := ps[conv].Messages; len(m) != 3 || m[0].Text() != "w2" || m[1].Text() != "w4" || m[2].Text() != "w6" {
		t.Fatalf("PullSeqs = %+v", ps)
	}
}

func TestSandboxSendAndEcho(t *testing.T) {
	s := startSandbox(t, "bot", "alice")
	sub, stop := s.Subscribe(16)
	defer stop()
	r := start(t, sandboxConfig(t, s, "bot"))
	r.waitEvent(t, EventConnected)
	{
		m := &content.Message{RecvID: "alice", Elem: &content.Text{Content: "hi alice"}}
		res, err := r.c.SendMsg(ctxT(t, 5*time.Second), m)
		if err != nil {
			t.Fatal(err)
		}
		if res.ServerMsgID == "" || res.ClientMsgID != m.ClientMsgID || res.SendTime == 0 {
			t.Fatalf("SendResult = %+v", res)
		}
		got := <-sub
		if got.Text() != "hi alice" || got.SendID != "bot" || got.ClientMsgID != m.ClientMsgID {
			t.Fatalf("server stored %+v", got)
		}
		echo := r.waitEvent(t, EventPush).Messages[0]
		if echo.ClientMsgID != m.ClientMsgID || echo.Seq != 1 || echo.ConversationID != convSingle("alice", "bot") {
			t.Fatalf("echo = %+v", echo)
		}
	}
	if err := s.CreateGroup("g1", "bot", "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SendGroupText("alice", "g1", "group hello"); err != nil {
		t.Fatal(err)
	}
	for {
		e := r.waitEvent(t, EventPush)
		if m := e.Messages[0]; m.ConversationID == "sg_g1" {
			if m.Text() != "group hello" || m.GroupID != "g1" || m.SessionType != content.GroupChat {
				t.Fatalf("group push %+v", m)
			}
			break
		}
	}
	if err := r.c.SetBackground(ctxT(t, 5*time.Second), true); err != nil {
		t.Fatal(err)
	}
}

func TestSandboxConformance07_08_10_EncodingsAndGzip(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    Compression
		e    Encoding
	}{{"gob", CompressNone, EncodingGob}, {"gob+gzip", CompressGzip, EncodingGob}, {"json", CompressNone, EncodingJSON}, {"json+gzip", CompressGzip, EncodingJSON}} {
		t.Run(tc.name, func(t *testing.T) {
			s := startSandbox(t, "bot", "alice")
			cfg := sandboxConfig(t, s, "bot")
			cfg.Compression, cfg.Encoding = tc.c, tc.e
			r := start(t, cfg)
			r.waitEvent(t, EventConnected)
			if _, err := s.SendText("alice", "bot", "x"); err != nil {
				t.Fatal(err)
			}
			if m := r.waitEvent(t, EventPush).Messages[0]; m.Text() != "x" {
				t.Fatalf("push %+v", m)
			}
			if _, err := r.c.SendMsg(ctxT(t, 5*time.Second), &content.Message{RecvID: "alice", Elem: &content.Text{Content: "y"}}); err != nil {
				t.Fatal(err)
			}
			res, err := r.c.PullRange(ctxT(t, 5*time.Second), []SeqRange{{ConversationID: convSingle("alice", "bot"), Begin: 1, End: 2}})
			if err != nil || len(res[convSingle("alice", "bot")].Messages) != 2 {
				t.Fatalf("PullRange = %+v, %v", res, err)
			}
		})
	}
}

// Reconnect after the gateway drops the connection, and recover what was
// sent meanwhile by seq (the consumer side of item 25).
func TestSandboxReconnectAfterGatewayDrops(t *testing.T) {
	s := startSandbox(t, "bot", "alice")
	conv := convSingle("alice", "bot")
	cfg := sandboxConfig(t, s, "bot")
	cfg.Backoff = func(int) time.Duration { return 200 * time.Millisecond }
	r := start(t, cfg)
	r.waitEvent(t, EventConnected)
	if _, err := s.SendText("alice", "bot", "before"); err != nil {
		t.Fatal(err)
	}
	r.waitEvent(t, EventPush)
	s.DropAll()
	if e := r.waitEvent(t, EventDisconnected); e.Err == nil || e.Conn != 1 {
		t.Fatalf("Disconnected = %+v", e)
	}
	// Sent while the client waits to redial: not pushed to it.
	if _, err := s.SendText("alice", "bot", "during"); err != nil {
		t.Fatal(err)
	}
	if e := r.waitEvent(t, EventConnected); e.Conn != 2 {
		t.Fatalf("Connected = %+v", e)
	}
	ctx := ctxT(t, 5*time.Second)
	seqs, err := r.c.GetNewestSeq(ctx)
	if err != nil || seqs[conv] != 2 {
		t.Fatalf("GetNewestSeq = %v, %v", seqs, err)
	}
	res, err := r.c.PullRange(ctx, []SeqRange{{ConversationID: conv, Begin: 2, End: seqs[conv]}})
	if err != nil || len(res[conv].Messages) != 1 || res[conv].Messages[0].Text() != "during" {
		t.Fatalf("PullRange = %+v, %v", res, err)
	}
	// A gateway restart is survived the same way.
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	r.waitEvent(t, EventDisconnected)
	r.waitEvent(t, EventConnected)
	if _, err := r.c.GetNewestSeq(ctxT(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
}

func TestSandboxConformance33_Kick(t *testing.T) {
	s := startSandbox(t, "bot")
	r := start(t, sandboxConfig(t, s, "bot"))
	r.waitEvent(t, EventConnected)
	s.Kick("bot", 7)
	if err := r.waitDone(t); !errors.Is(err, ErrKicked) {
		t.Fatalf("Run = %v, want ErrKicked", err)
	}
	r.waitEvent(t, EventKicked)
	if st := s.Stats(); st.TotalConnections != 1 {
		t.Errorf("%d connections: the client redialed after a kick", st.TotalConnections)
	}
	// The kicked token is now refused with 1506.
	r2 := start(t, r.c.cfg)
	if err := r2.waitDone(t); !errors.Is(err, ErrTokenKicked) {
		t.Fatalf("Run with the kicked token = %v, want ErrTokenKicked", err)
	}
}

func TestSandboxConformance06_FatalTokenErrors(t *testing.T) {
	s := startSandbox(t, "bot")
	// A token for platform 3 used as platform 7: 1502.
	cfg := sandboxConfig(t, s, "bot")
	tok3, err := s.UserToken("bot", 3)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Token = tok3
	r := start(t, cfg)
	if err := r.waitDone(t); !errors.Is(err, ErrTokenInvalid) {
		t.Fatalf("Run = %v, want ErrTokenInvalid", err)
	}
	r.waitEvent(t, EventTokenInvalid)
	// A forced 1501.
	cfg = sandboxConfig(t, s, "bot")
	s.RefuseHandshakes(1, 1501)
	r = start(t, cfg)
	if err := r.waitDone(t); !errors.Is(err, ErrTokenExpired) {
		t.Fatalf("Run = %v, want ErrTokenExpired", err)
	}
	if st := s.Stats(); st.FailedHandshakes != 2 || st.TotalConnections != 0 {
		t.Errorf("stats %+v: a fatal error was retried", st)
	}
}

func TestSandboxConformance06_RetryableHandshakeErrors(t *testing.T) {
	s := startSandbox(t, "bot")
	s.RefuseHandshakes(3, 1601)
	r := start(t, sandboxConfig(t, s, "bot"))
	for i := 1; i <= 3; i++ {
		e := r.waitEvent(t, EventConnectFailed)
		var ae *APIError
		if !errors.As(e.Err, &ae) || ae.Code != 1601 || e.Attempt != i {
			t.Fatalf("ConnectFailed %d = %+v", i, e)
		}
	}
	r.waitEvent(t, EventConnected)
}

func TestSandboxPendingRequestFailsWhenConnectionDies(t *testing.T) {
	s := startSandbox(t, "bot")
	cfg := sandboxConfig(t, s, "bot")
	cfg.RequestTimeout = 20 * time.Second
	cfg.Backoff = func(int) time.Duration { return time.Second }
	r := start(t, cfg)
	r.waitEvent(t, EventConnected)
	s.DelayFrames(5 * time.Second) // the reply will not come in time
	errc := make(chan error, 1)
	go func() { _, err := r.c.GetNewestSeq(context.Background()); errc <- err }()
	deadline := time.Now().Add(5 * time.Second)
	for s.Stats().Requests[1001] == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	s.DropAll()
	select {
	case err := <-errc:
		if !errors.Is(err, ErrConnectionLost) {
			t.Fatalf("pending request = %v, want ErrConnectionLost", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("pending request still waiting 3s after the drop")
	}
	s.DelayFrames(0)
}

func TestSandboxRequestTimeout(t *testing.T) {
	s := startSandbox(t, "bot")
	cfg := sandboxConfig(t, s, "bot")
	cfg.RequestTimeout = 200 * time.Millisecond
	cfg.ReadTimeout = 5 * time.Second
	r := start(t, cfg)
	r.waitEvent(t, EventConnected)
	s.DelayFrames(time.Second)
	_, err := r.c.GetNewestSeq(context.Background())
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want DeadlineExceeded", err)
	}
	s.DelayFrames(0)
	// The connection survives a timed-out request.
	if _, err := r.c.GetNewestSeq(ctxT(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.TotalConnections != 1 {
		t.Errorf("%d connections", st.TotalConnections)
	}
}

func TestSandboxConformance34_Logout(t *testing.T) {
	s := startSandbox(t, "bot")
	r := start(t, sandboxConfig(t, s, "bot"))
	r.waitEvent(t, EventConnected)
	if err := r.c.Logout(ctxT(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := r.waitDone(t); err != nil {
		t.Fatalf("Run = %v", err)
	}
	if n := s.Stats().Requests[2003]; n != 1 {
		t.Errorf("2003 requests = %d", n)
	}
}

func TestSandboxHTTPAPI(t *testing.T) {
	s := startSandbox(t)
	api, err := NewAPI(s.APIURL())
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t, 10*time.Second)
	admin, err := api.GetAdminToken(ctx, "openIM123", s.AdminUserID())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := api.GetAdminToken(ctx, "wrong", s.AdminUserID()); err == nil {
		t.Fatal("wrong secret accepted")
	}
	if err := api.UserRegister(ctx, admin, UserInfo{UserID: "bot", Nickname: "The Bot", FaceURL: "http://face"}, UserInfo{UserID: "alice", Nickname: "Alice"}); err != nil {
		t.Fatal(err)
	}
	var ae *APIError
	if err := api.UserRegister(ctx, admin, UserInfo{UserID: "bot"}); !errors.As(err, &ae) || ae.Code != 1102 {
		t.Fatalf("second register = %v", err)
	}
	tok, err := api.GetUserToken(ctx, admin, "bot", 7)
	if err != nil {
		t.Fatal(err)
	}
	users, err := api.GetUsersInfo(ctx, tok, "bot", "nobody")
	if err != nil || len(users) != 1 || users[0].Nickname != "The Bot" {
		t.Fatalf("GetUsersInfo = %+v, %v", users, err)
	}
	// The client fills the nickname from the profile when sending.
	cfg := Config{WSAddr: s.WSURL(), UserID: "bot", Token: tok, API: api, Backoff: func(int) time.Duration { return 20 * time.Millisecond }}
	r := start(t, cfg)
	r.waitEvent(t, EventConnected)
	if _, err := r.c.SendMsg(ctx, &content.Message{RecvID: "alice", Elem: &content.Text{Content: "named"}}); err != nil {
		t.Fatal(err)
	}
	echo := r.waitEvent(t, EventPush).Messages[0]
	if echo.SenderNickname != "The Bot" || echo.SenderFaceURL != "http://face" {
		t.Fatalf("echo nickname %q face %q", echo.SenderNickname, echo.SenderFaceURL)
	}
	// Admin send as the bot.
	res, err := api.SendMsg(ctx, admin, AdminSend{SendID: "alice", RecvID: "bot", SenderPlatformID: 7,
		Content: json.RawMessage(`{"content":"from admin"}`), ContentType: content.TypeText, SessionType: content.SingleChat})
	if err != nil || res.ServerMsgID == "" {
		t.Fatalf("SendMsg = %+v, %v", res, err)
	}
	m := r.waitEvent(t, EventPush).Messages[0]
	if m.Text() != "from admin" || m.MsgFrom != content.FromSystem {
		t.Fatalf("admin message %+v", m)
	}
	if _, err := api.SendMsg(ctx, tok, AdminSend{SendID: "bot", RecvID: "alice", Content: json.RawMessage(`{"content":"x"}`), ContentType: 101, SessionType: 1}); !errors.As(err, &ae) || ae.Code != 1002 {
		t.Fatalf("send_msg with a user token = %v", err)
	}
}

// Item 27: the client's pings keep a connection alive at a gateway that
// drops connections idle for its ReadTimeout; without them it is dropped.
func TestSandboxConformance27_PingsKeepConnectionAlive(t *testing.T) {
	s, err := sandbox.Start(context.Background(), sandbox.Config{ReadTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.RegisterUser("bot", "Bot"); err != nil {
		t.Fatal(err)
	}
	cfg := sandboxConfig(t, s, "bot")
	cfg.PingInterval = 100 * time.Millisecond
	r := start(t, cfg)
	r.waitEvent(t, EventConnected)
	quiet := time.After(2500 * time.Millisecond) // 2.5 server read timeouts
	for done := false; !done; {
		select {
		case e := <-r.events:
			if e.Kind == EventDisconnected {
				t.Fatalf("dropped despite pings: %v", e.Err)
			}
		case <-quiet:
			done = true
		}
	}
	if st := s.Stats(); st.TotalConnections != 1 {
		t.Fatalf("%d connections", st.TotalConnections)
	}
	// Control: with pings rarer than the gateway's timeout, it drops us.
	cfg.PingInterval = 5 * time.Second
	cfg.ReadTimeout = 10 * time.Second
	r2 := start(t, cfg)
	r2.waitEvent(t, EventConnected)
	r2.waitEvent(t, EventDisconnected)
}

// Item 37: nothing over 51200 bytes is sent; inbound frames up to 1 MiB are
// accepted.
func TestSandboxConformance37_FrameLimits(t *testing.T) {
	s := startSandbox(t, "bot", "alice")
	r := start(t, sandboxConfig(t, s, "bot"))
	r.waitEvent(t, EventConnected)
	_, err := r.c.SendMsg(ctxT(t, 5*time.Second), &content.Message{RecvID: "alice", Elem: &content.Text{Content: strings.Repeat("x", 52000)}})
	if !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("SendMsg = %v, want ErrFrameTooLarge", err)
	}
	if n := s.Stats().Requests[1003]; n != 0 {
		t.Fatalf("%d sends reached the gateway", n)
	}
	// Just under: sent and accepted.
	if _, err := r.c.SendMsg(ctxT(t, 5*time.Second), &content.Message{RecvID: "alice", Elem: &content.Text{Content: strings.Repeat("x", 50000)}}); err != nil {
		t.Fatalf("SendMsg of 50000 bytes = %v", err)
	}
	r.waitEvent(t, EventPush) // the echo
	big := strings.Repeat("y", 900*1024)
	if _, err := s.SendText("alice", "bot", big); err != nil {
		t.Fatal(err)
	}
	if m := r.waitEvent(t, EventPush).Messages[0]; m.Text() != big {
		t.Fatalf("big push: %d bytes", len(m.Text()))
	}
	if st := s.Stats(); st.TotalConnections != 1 {
		t.Fatalf("%d connections", st.TotalConnections)
	}
}

// Item 15 against the sandbox: many pipelined requests, each answered
// correctly while pushes interleave with the replies.
func TestSandboxConformance15_PipelinedRequestsWithPushes(t *testing.T) {
	s := startSandbox(t, "bot", "alice")
	conv := convSingle("alice", "bot")
	for i := 1; i <= 40; i++ {
		if _, err := s.SendText("alice", "bot", fmt.Sprintf("old%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	r := start(t, sandboxConfig(t, s, "bot"))
	r.waitEvent(t, EventConnected)
	const n = 40
	errs := make(chan error, n+1)
	go func() {
		for i := 0; i < n; i++ {
			if _, err := s.SendText("alice", "bot", "new"); err != nil {
				errs <- err
				return
			}
		}
		errs <- nil
	}()
	for i := 1; i <= n; i++ {
		go func() {
			ctx := ctxT(t, 10*time.Second)
			res, err := r.c.PullRange(ctx, []SeqRange{{ConversationID: conv, Begin: int64(i), End: int64(i)}})
			if err != nil {
				errs <- err
				return
			}
			if m := res[conv].Messages; len(m) != 1 || m[0].Text() != fmt.Sprintf("old%d", i) {
				errs <- fmt.Errorf("pull of seq %d returned %+v", i, m)
				return
			}
			errs <- nil
		}()
	}
	for i := 0; i <= n; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	pushed := 0
	for pushed < n {
		pushed += len(r.waitEvent(t, EventPush).Messages)
	}
}
