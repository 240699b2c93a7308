package transport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/openimbot/openimbot/content"
	"github.com/openimbot/openimbot/sandbox"
)

func pollerFor(t *testing.T, s *sandbox.Server, user string, interval time.Duration) *Poller {
	t.Helper()
	api, err := NewAPI(s.APIURL())
	if err != nil {
		t.Fatal(err)
	}
	tok, err := s.UserToken(user, 7)
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPoller(PollConfig{API: api, UserID: user, Token: tok, Interval: interval})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func nextKind(t *testing.T, p interface {
	NextEvent(context.Context) (Event, error)
}, want EventKind) Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		ev, err := p.NextEvent(ctx)
		if err != nil {
			t.Fatalf("waiting for event %d: %v", want, err)
		}
		if ev.Kind == want {
			return ev
		}
	}
}

func TestPollerSyncEventsAndHTTPPull(t *testing.T) {
	s := startSandbox(t, "bot", "alice")
	conv := convSingle("alice", "bot")
	for i := 1; i <= 150; i++ {
		s.SendText("alice", "bot", fmt.Sprintf("m%d", i))
	}
	p := pollerFor(t, s, "bot", 20*time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	nextKind(t, p, EventConnected)
	newest, err := p.GetNewestSeq(ctx)
	if err != nil || newest[conv] != 150 {
		t.Fatal(newest, err)
	}
	res, err := p.PullRange(ctx, []SeqRange{{ConversationID: conv, Begin: 1, End: 150}})
	if err != nil {
		t.Fatal(err)
	}
	msgs := res[conv].Messages
	if len(msgs) != 150 || msgs[0].Seq != 1 || msgs[149].Seq != 150 || msgs[149].Text() != "m150" || msgs[0].ConversationID != conv {
		t.Fatalf("%d messages", len(msgs))
	}
	if p.Status() != StatusConnected {
		t.Fatal(p.Status())
	}
	// A new message makes the next poll report a sync.
	s.SendText("alice", "bot", "again")
	nextKind(t, p, EventSync)
	if n, _ := p.GetNewestSeq(ctx); n[conv] != 151 {
		t.Fatal(n)
	}
	p.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := p.NextEvent(ctx); !errors.Is(err, ErrClosed) {
		t.Fatal(err)
	}
}

func TestPollerTokenExpired(t *testing.T) {
	s, err := sandbox.Start(context.Background(), sandbox.Config{TokenTTL: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.RegisterUser("bot", "Bot")
	p := pollerFor(t, s, "bot", 50*time.Millisecond)
	done := make(chan error, 1)
	go func() { done <- p.Run(context.Background()) }()
	ev := nextKind(t, p, EventTokenInvalid)
	if !errors.Is(ev.Err, ErrTokenExpired) {
		t.Fatal(ev.Err)
	}
	if err := <-done; !errors.Is(err, ErrTokenExpired) {
		t.Fatal(err)
	}
}

func TestPollerServerDownAndBack(t *testing.T) {
	s := startSandbox(t, "bot", "alice")
	p := pollerFor(t, s, "bot", 20*time.Millisecond)
	go p.Run(context.Background())
	defer p.Close()
	nextKind(t, p, EventConnected)
	s.Close() // the API stops answering
	nextKind(t, p, EventDisconnected)
	if p.Status() == StatusConnected {
		t.Fatal("still connected")
	}
}

func TestRESTSender(t *testing.T) {
	s := startSandbox(t, "bot", "alice")
	api, _ := NewAPI(s.APIURL())
	rs, err := NewRESTSender(api, sandbox.DefaultSecret, "", "bot", 7, "Bot")
	if err != nil {
		t.Fatal(err)
	}
	m := &content.Message{RecvID: "alice", Elem: content.NewText("hello")}
	res, err := rs.SendMsg(context.Background(), m)
	if err != nil || res.ServerMsgID == "" {
		t.Fatal(res, err)
	}
	got := s.Messages(convSingle("alice", "bot"))
	if len(got) != 1 || got[0].Text() != "hello" || got[0].SendID != "bot" || got[0].SenderNickname != "Bot" || got[0].ClientMsgID != res.ClientMsgID {
		t.Fatalf("%+v", got)
	}
	if _, err := NewRESTSender(api, "", "", "bot", 7, ""); err == nil {
		t.Fatal("no secret accepted")
	}
}

func TestParseCallback(t *testing.T) {
	good := `{"sendID":"alice","callbackCommand":"callbackAfterSendSingleMsgCommand","serverMsgID":"s","clientMsgID":"c1",
"operationID":"op","senderPlatformID":5,"senderNickname":"A","sessionType":1,"msgFrom":100,"contentType":101,"status":2,
"sendTime":1,"createTime":1,"content":"{\"content\":\"hi\"}","seq":0,"atUserList":null,"faceURL":"","ex":"","recvID":"bot"}`
	cb, err := ParseCallback(CallbackAfterSendSingleMsg, []byte(good))
	if err != nil || cb.Message.ConversationID != convSingle("alice", "bot") || string(cb.Message.Content) != `{"content":"hi"}` {
		t.Fatal(cb, err)
	}
	for name, body := range map[string]string{
		"not json":      `{`,
		"wrong command": strings.Replace(good, "callbackAfterSendSingleMsgCommand", "callbackAfterSendGroupMsgCommand", 1),
		"no sendID":     strings.Replace(good, `"sendID":"alice",`, "", 1),
		"no recvID":     strings.Replace(good, `"recvID":"bot"`, `"recvID":""`, 1),
		"no clientID":   strings.Replace(good, `"clientMsgID":"c1"`, `"clientMsgID":""`, 1),
		"group type":    strings.Replace(good, `"sessionType":1`, `"sessionType":3`, 1),
	} {
		if _, err := ParseCallback(CallbackAfterSendSingleMsg, []byte(body)); !errors.Is(err, ErrInvalidCallback) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestWebhookSourceCallbacksTriggerSync(t *testing.T) {
	s := startSandbox(t, "bot", "alice", "carol")
	api, _ := NewAPI(s.APIURL())
	tok, _ := s.UserToken("bot", 7)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ws, err := NewWebhookSource(WebhookConfig{Poll: PollConfig{API: api, UserID: "bot", Token: tok}, Listener: ln, Reconcile: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	go ws.Run(context.Background())
	defer ws.Close()
	nextKind(t, ws, EventConnected)
	s.SetWebhook(sandbox.WebhookConfig{URL: "http://" + ln.Addr().String() + DefaultWebhookPath})
	// Reconcile is an hour: only the callback can trigger this sync.
	s.SendText("alice", "bot", "hi")
	nextKind(t, ws, EventSync)
	n, _ := ws.GetNewestSeq(context.Background())
	if n[convSingle("alice", "bot")] != 1 {
		t.Fatal(n)
	}
	// Invalid bodies, oversize bodies and other paths are refused.
	base := "http://" + ln.Addr().String() + DefaultWebhookPath + "/"
	for _, c := range []struct {
		path, body string
		code       int
	}{
		{CallbackAfterSendSingleMsg, `{"bad":`, 400},
		{CallbackAfterSendSingleMsg, `{"pad":"` + strings.Repeat("x", DefaultWebhookMaxBody) + `"}`, 413},
		{"callbackBeforeSendSingleMsgCommand", `{}`, 200},
		{"a/b", `{}`, 404},
	} {
		resp, err := http.Post(base+c.path, "application/json", strings.NewReader(c.body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.code {
			t.Errorf("%s: status %d, want %d", c.path, resp.StatusCode, c.code)
		}
	}
}

// A callback may arrive before its message has a seq (OpenIM assigns seqs
// after the callback fires): the WebhookSource then re-polls quickly until
// a pull returns the announced message, without waiting for the reconcile.
func TestExpectRepollsUntilTheMessageAppears(t *testing.T) {
	s := startSandbox(t, "bot", "alice")
	p := pollerFor(t, s, "bot", time.Hour)
	go p.Run(context.Background())
	defer p.Close()
	nextKind(t, p, EventConnected)
	conv := convSingle("alice", "bot")
	p.Expect("announced", conv, time.Now().UnixMilli())
	time.Sleep(150 * time.Millisecond) // the Poller re-polls meanwhile and finds nothing
	m, err := s.Inject(content.Message{SendID: "alice", RecvID: "bot", ClientMsgID: "announced",
		ContentType: content.TypeText, Content: []byte(`{"content":"late"}`)})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	nextKind(t, p, EventSync)
	res, err := p.PullRange(context.Background(), []SeqRange{{ConversationID: conv, Begin: 1, End: m.Seq}})
	if err != nil || len(res[conv].Messages) != 1 {
		t.Fatal(res, err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("found after %v", d)
	}
	// Once pulled, the same announcement is ignored.
	p.Expect("announced", conv, m.SendTime)
	if p.expecting() {
		t.Fatal("a pulled message is expected again")
	}
}
