package bot_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openimbot/openimbot/bot"
	"github.com/openimbot/openimbot/bot/bottest"
	"github.com/openimbot/openimbot/content"
	"github.com/openimbot/openimbot/sandbox"
	"github.com/openimbot/openimbot/storage"
	"github.com/openimbot/openimbot/transport"
)

// recorder records handled messages per conversation.
type recorder struct {
	mu      sync.Mutex
	seqs    map[string][]int64
	order   []string // conversation of each handled message, in handling order
	n       int
	want    int
	done    chan struct{}
	running atomic.Int32
	maxPar  atomic.Int32
}

func newRecorder(want int) *recorder {
	return &recorder{seqs: make(map[string][]int64), want: want, done: make(chan struct{})}
}

func (r *recorder) record(m *content.Message) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seqs[m.ConversationID] = append(r.seqs[m.ConversationID], m.Seq)
	r.order = append(r.order, m.ConversationID)
	r.n++
	if r.n == r.want {
		close(r.done)
	}
}

func (r *recorder) handled() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return int64(r.n)
}

// waitN polls until n messages were handled.
func (r *recorder) waitN(t *testing.T, n int, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for r.handled() < int64(n) {
		if time.Now().After(deadline) {
			t.Fatalf("handled %d of %d messages within %v", r.handled(), n, d)
		}
		time.Sleep(time.Millisecond)
	}
}

func (r *recorder) wait(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case <-r.done:
	case <-time.After(d):
		r.mu.Lock()
		defer r.mu.Unlock()
		t.Fatalf("handled %d of %d messages within %v", r.n, r.want, d)
	}
}

// checkOrder asserts that every conversation's seqs are exactly from..to,
// each once, in order.
func (r *recorder) checkExactlyOnce(t *testing.T, want map[string]int64) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for conv, max := range want {
		got := r.seqs[conv]
		if int64(len(got)) != max {
			t.Errorf("%s: handled %d messages, want %d", conv, len(got), max)
		}
		for i, s := range got {
			if s != int64(i+1) {
				t.Errorf("%s: message %d has seq %d, want %d (seqs %v...)", conv, i, s, i+1, got[:min(len(got), 20)])
				break
			}
		}
	}
	if len(r.seqs) != len(want) {
		t.Errorf("handled %d conversations, want %d", len(r.seqs), len(want))
	}
}

func TestOrderedPerConversationParallelAcross(t *testing.T) {
	const convs, perConv = 10, 100
	rec := newRecorder(convs * perConv)
	h := bottest.Start(t, bot.HandlerFunc(func(c *bot.Context) error {
		n := rec.running.Add(1)
		for {
			m := rec.maxPar.Load()
			if n <= m || rec.maxPar.CompareAndSwap(m, n) {
				break
			}
		}
		time.Sleep(time.Duration(rand.IntN(2000)) * time.Microsecond)
		rec.running.Add(-1)
		rec.record(c.Message())
		return nil
	}), bottest.WithBotOptions(bot.WithWorkers(4)))
	var wg sync.WaitGroup
	want := make(map[string]int64)
	for u := range convs {
		user := fmt.Sprintf("user%d", u)
		h.Say(user, "hello") // registers the user; seq 1
		want[content.SingleConversationID(h.BotID(), user)] = perConv
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 1; i < perConv; i++ {
				if _, err := h.Sandbox().SendText(user, h.BotID(), fmt.Sprint("m", i)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	rec.wait(t, 30*time.Second)
	rec.checkExactlyOnce(t, want)
	if p := rec.maxPar.Load(); p < 2 {
		t.Errorf("at most %d handlers ran at once; conversations did not run in parallel", p)
	}
	switches := 0
	for i := 1; i < len(rec.order); i++ {
		if rec.order[i] != rec.order[i-1] {
			switches++
		}
	}
	if switches < 100 {
		t.Errorf("only %d conversation switches in %d messages: not interleaved", switches, len(rec.order))
	}
	t.Logf("max parallel handlers %d, conversation switches %d", rec.maxPar.Load(), switches)
}

func TestPanicDoesNotStopNextMessage(t *testing.T) {
	errs := make(chan error, 4)
	h := bottest.Start(t, bot.HandlerFunc(func(c *bot.Context) error {
		switch c.Text() {
		case "boom":
			panic("kaboom")
		case "fail":
			return errors.New("plain failure")
		}
		return c.Reply("ok " + c.Text())
	}), bottest.WithBotOptions(bot.WithOnError(func(err error) { errs <- err })))
	m := h.Say("alice", "boom")
	h.Say("alice", "fail")
	h.Say("alice", "next")
	if got := h.NextReplyText(); got != "ok next" {
		t.Fatalf("reply %q", got)
	}
	err := <-errs
	var he *bot.HandlerError
	if !errors.As(err, &he) || !errors.Is(err, bot.ErrPanic) {
		t.Fatalf("first error %v is not a panic HandlerError", err)
	}
	if he.ConversationID != m.ConversationID || he.Seq != m.Seq || he.Panic != "kaboom" || len(he.Stack) == 0 {
		t.Fatalf("panic error %+v", he)
	}
	err = <-errs
	if !errors.As(err, &he) || errors.Is(err, bot.ErrPanic) || he.Err == nil || he.Err.Error() != "plain failure" {
		t.Fatalf("second error %v", err)
	}
}

func TestShutdownDrainsAndWatermarkIsDurable(t *testing.T) {
	started := make(chan struct{})
	release := make(chan struct{})
	var finished atomic.Bool
	var ctxErrAtEnd atomic.Value
	replyErr := make(chan error, 1)
	h := bottest.Start(t, bot.HandlerFunc(func(c *bot.Context) error {
		if c.Text() == "slow" {
			close(started)
			<-release
			ctxErrAtEnd.Store(fmt.Sprint(c.Err()))
			replyErr <- c.Reply("done") // the connection is still up while draining
			finished.Store(true)
		}
		return nil
	}))
	h.Say("alice", "first")
	m := h.Say("alice", "slow")
	<-started
	shut := make(chan error, 1)
	go func() { shut <- h.Stop() }()
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned (%v) while a handler was in flight", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	if err := <-shut; err != nil {
		t.Fatal(err)
	}
	if !finished.Load() {
		t.Fatal("handler did not finish before Shutdown returned")
	}
	if s := ctxErrAtEnd.Load(); s != "<nil>" {
		t.Fatalf("handler ctx was cancelled during a graceful drain: %v", s)
	}
	if err := <-replyErr; err != nil {
		t.Fatalf("reply while draining: %v", err)
	}
	if got := h.NextReplyText(); got != "done" {
		t.Fatalf("reply %q", got)
	}
	db, err := storage.Open(h.StoragePath(), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if wm, ok := db.Watermark(m.ConversationID); !ok || wm != m.Seq {
		t.Fatalf("durable watermark %d (%v), want %d", wm, ok, m.Seq)
	}
}

func TestRateLimit(t *testing.T) {
	results := make(chan error, 8)
	h := bottest.Start(t, bot.HandlerFunc(func(c *bot.Context) error {
		for range 3 {
			results <- c.Reply("r")
		}
		return nil
	}), bottest.WithBotOptions(bot.WithRateLimit(0.001, 2)))
	m := h.Say("alice", "go")
	var rl *bot.RateLimitError
	for i := range 3 {
		err := <-results
		switch {
		case i < 2 && err != nil:
			t.Fatalf("send %d: %v", i, err)
		case i == 2 && (!errors.Is(err, bot.ErrRateLimited) || !errors.As(err, &rl) || rl.ConversationID != m.ConversationID):
			t.Fatalf("third send: %v, want a rate limit error for %s", err, m.ConversationID)
		}
	}
	h.WaitReplies(2, 10*time.Second)
	if len(h.Replies()) != 0 {
		t.Fatal("more than 2 replies went out")
	}
}

func TestSelfMessagesAreNotDispatched(t *testing.T) {
	var calls atomic.Int32
	h := bottest.Start(t, bot.HandlerFunc(func(c *bot.Context) error {
		calls.Add(1)
		if c.Sender() == c.SelfID() {
			return errors.New("own message dispatched")
		}
		return c.Reply("pong")
	}))
	for range 5 {
		h.Say("alice", "ping")
		h.WaitReply(10 * time.Second)
	}
	// A message the bot sends itself outside a handler, and one to itself.
	if _, err := h.Bot().SendText(ctxT(t, 5*time.Second), bot.ToUser("alice"), "unprompted"); err != nil {
		t.Fatal(err)
	}
	h.WaitReply(10 * time.Second)
	// Order barrier: a last user message; its reply proves every earlier
	// push (the bot's own echoes included) went through the engine.
	h.Say("alice", "last")
	h.WaitReply(10 * time.Second)
	if n := calls.Load(); n != 6 {
		t.Fatalf("handler called %d times, want 6 (own messages dispatched?)", n)
	}
	conv := content.SingleConversationID(h.BotID(), "alice")
	// The own echoes advanced the watermark: everything up to the max seq
	// once the last reply's echo is handled.
	deadline := time.Now().Add(5 * time.Second)
	for {
		wm, _ := h.Bot().DB().Watermark(conv)
		if wm == h.Sandbox().MaxSeq(conv) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("watermark %d, max seq %d", wm, h.Sandbox().MaxSeq(conv))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestDispatchSelf(t *testing.T) {
	selfSeen := make(chan string, 4)
	h := bottest.Start(t, bot.HandlerFunc(func(c *bot.Context) error {
		if c.Sender() == c.SelfID() {
			selfSeen <- c.Text()
			return nil
		}
		return c.Reply("pong")
	}), bottest.WithBotOptions(bot.WithDispatchSelf(true)))
	h.Say("alice", "ping")
	select {
	case txt := <-selfSeen:
		if txt != "pong" {
			t.Fatalf("own message %q", txt)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("own message not dispatched with WithDispatchSelf(true)")
	}
}

func TestReplyVariants(t *testing.T) {
	h := bottest.Start(t, bot.HandlerFunc(func(c *bot.Context) error {
		switch c.Text() {
		case "quote":
			return c.ReplyQuote("quoted")
		case "mention":
			return c.ReplyMention("hello")
		}
		return nil
	}))
	m := h.SayInGroup("g1", "bob", "quote")
	r := h.WaitReply(10 * time.Second)
	q, ok := r.Elem.(*content.Quote)
	if !ok || r.GroupID != "g1" || q.Text != "quoted" || q.QuoteMessage == nil || q.QuoteMessage.ClientMsgID != m.ClientMsgID {
		t.Fatalf("quote reply %+v elem %#v", r, r.Elem)
	}
	h.SayInGroup("g1", "bob", "mention")
	r = h.WaitReply(10 * time.Second)
	at, ok := r.Elem.(*content.AtText)
	if !ok || len(r.AtUserIDList) != 1 || r.AtUserIDList[0] != "bob" || at.Text != "@bob hello" {
		t.Fatalf("mention reply %+v elem %#v", r, r.Elem)
	}
}

func TestNewValidatesOptions(t *testing.T) {
	_, err := bot.New()
	if !errors.Is(err, bot.ErrConfig) {
		t.Fatalf("New(): %v", err)
	}
	_, err = bot.New(bot.WithGateway("ws://x"), bot.WithUser("u"), bot.WithToken("t"), bot.WithStorage("x.db"),
		bot.WithHandler(bot.HandlerFunc(func(*bot.Context) error { return nil })), bot.WithWorkers(0))
	if !errors.Is(err, bot.ErrConfig) {
		t.Fatalf("WithWorkers(0): %v", err)
	}
	b, err := bot.New(bot.WithGateway("ws://x"), bot.WithUser("u"), bot.WithToken("t"), bot.WithStorage("x.db"),
		bot.WithHandler(bot.HandlerFunc(func(*bot.Context) error { return nil })))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Run(context.Background()); !errors.Is(err, bot.ErrClosed) {
		t.Fatalf("Run after Close: %v", err)
	}
	if _, err := b.SendText(context.Background(), bot.ToUser("a"), "x"); !errors.Is(err, bot.ErrNotConnected) {
		t.Fatalf("send before Run: %v", err)
	}
}

func TestHandlerTimeoutCancelsContext(t *testing.T) {
	got := make(chan error, 1)
	h := bottest.Start(t, bot.HandlerFunc(func(c *bot.Context) error {
		// The deadline counts from the handler's start, not from the first
		// use of its ctx.
		time.Sleep(70 * time.Millisecond)
		got <- c.Err()
		return nil
	}), bottest.WithBotOptions(bot.WithHandlerTimeout(50*time.Millisecond)))
	h.Say("alice", "wait")
	select {
	case err := <-got:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("ctx error %v, want the deadline (counted from the handler's start) exceeded", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("handler did not return")
	}
}

func TestKickedStopsRun(t *testing.T) {
	kicked := make(chan struct{}, 1)
	h := bottest.Start(t, bot.HandlerFunc(func(c *bot.Context) error { return nil }),
		bottest.WithBotOptions(bot.WithOnKicked(func() { kicked <- struct{}{} })))
	h.Sandbox().Kick(h.BotID(), 7)
	select {
	case <-kicked:
	case <-time.After(10 * time.Second):
		t.Fatal("OnKicked not called")
	}
	if err := h.Stop(); !errors.Is(err, bot.ErrKicked) {
		t.Fatalf("Run: %v, want ErrKicked", err)
	}
}

func TestExpiredTokenIsRefreshed(t *testing.T) {
	invalid := make(chan error, 4)
	var connects atomic.Int32
	h := bottest.Start(t, bot.HandlerFunc(func(c *bot.Context) error { return c.Reply("pong") }),
		bottest.WithSandbox(sandbox.Config{TokenTTL: time.Second}),
		bottest.WithBotOptions(fastReconnect(),
			bot.WithOnTokenInvalid(func(err error) { invalid <- err }),
			bot.WithOnConnected(func() { connects.Add(1) })))
	// Wait until the token has expired (JWT expiry has a one-second
	// granularity), then drop the connection: the handshake fails with 1501
	// and the bot must fetch a new token.
	time.Sleep(2100 * time.Millisecond)
	h.Sandbox().DropAll()
	select {
	case err := <-invalid:
		if !errors.Is(err, transport.ErrTokenExpired) {
			t.Fatalf("token error %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the expired token was not reported")
	}
	h.Say("alice", "ping")
	if got := h.NextReplyText(); got != "pong" {
		t.Fatalf("reply %q", got)
	}
	if connects.Load() < 2 {
		t.Fatalf("%d connections", connects.Load())
	}
}

func TestCloseCancelsInFlightHandlers(t *testing.T) {
	started := make(chan struct{})
	got := make(chan error, 1)
	h := bottest.Start(t, bot.HandlerFunc(func(c *bot.Context) error {
		close(started)
		<-c.Done()
		got <- c.Err()
		return nil
	}))
	h.Say("alice", "block")
	<-started
	if err := h.Bot().Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-got:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("handler ctx error %v", err)
		}
	default:
		t.Fatal("Close returned before the in-flight handler")
	}
	if err := h.Bot().Close(); err != nil { // idempotent
		t.Fatal(err)
	}
}

func TestLifecycleHooksAcrossRefusedHandshakes(t *testing.T) {
	var mu sync.Mutex
	var events []string
	rec := func(s string) {
		mu.Lock()
		events = append(events, s)
		mu.Unlock()
	}
	reconnected := make(chan struct{}, 4)
	h := bottest.Start(t, bot.HandlerFunc(func(c *bot.Context) error { return c.Reply("pong") }),
		bottest.WithBotOptions(fastReconnect(),
			bot.WithOnConnecting(func(attempt int) { rec(fmt.Sprint("connecting ", attempt)) }),
			bot.WithOnConnectFailed(func(error) { rec("failed") }),
			bot.WithOnConnected(func() { rec("connected") }),
			bot.WithOnDisconnected(func(error) { rec("disconnected") }),
			bot.WithOnSynced(func() { rec("synced"); reconnected <- struct{}{} }),
		))
	<-reconnected // the first sync
	h.Sandbox().RefuseHandshakes(2, 1601)
	h.Sandbox().DropAll()
	select {
	case <-reconnected:
	case <-time.After(10 * time.Second):
		t.Fatal("no reconnect after refused handshakes")
	}
	h.Say("alice", "ping")
	h.WaitReply(10 * time.Second)
	mu.Lock()
	defer mu.Unlock()
	want := "[connecting 1 connected synced disconnected connecting 1 failed connecting 2 failed connecting 3 connected synced]"
	if got := fmt.Sprint(events); got != want {
		t.Fatalf("hooks %s\nwant  %s", got, want)
	}
}

// WithAdminSecret registers the bot's user when it does not exist yet.
func TestAdminSecretRegistersTheBot(t *testing.T) {
	s, err := sandbox.Start(context.Background(), sandbox.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	synced := make(chan struct{}, 1)
	b, err := bot.New(bot.WithGateway(s.WSURL()), bot.WithUser("newbot"), bot.WithNickname("New Bot"),
		bot.WithAdminSecret(s.APIURL(), sandbox.DefaultSecret), bot.WithStorage(filepath.Join(t.TempDir(), "b.db")),
		bot.WithHandler(bot.HandlerFunc(func(*bot.Context) error { return nil })),
		bot.WithOnSynced(func() { synced <- struct{}{} }))
	if err != nil {
		t.Fatal(err)
	}
	runErr := make(chan error, 1)
	go func() { runErr <- b.Run(context.Background()) }()
	select {
	case <-synced:
	case err := <-runErr:
		t.Fatalf("Run: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("not connected")
	}
	if err := s.RegisterUser("newbot", "x"); !errors.Is(err, sandbox.ErrUserExists) {
		t.Fatalf("the bot's user was not registered: %v", err)
	}
	if err := b.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := <-runErr; err != nil {
		t.Fatal(err)
	}
}
