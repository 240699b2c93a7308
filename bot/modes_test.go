package bot_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openimbot/openimbot/bot"
	"github.com/openimbot/openimbot/content"
	"github.com/openimbot/openimbot/internal/testchild"
	"github.com/openimbot/openimbot/sandbox"
	"github.com/openimbot/openimbot/transport"
)

// These tests run each receive mode end to end against the sandbox: the
// bot's real sources (HTTP polling, webhook callbacks, the gateway falling
// back to polling) and its real storage.

// modeUsers registers n users u0..u(n-1) and the bot.
func modeUsers(t testing.TB, s *sandbox.Server, n int) []string {
	t.Helper()
	if err := s.RegisterUser("bot", "Bot"); err != nil {
		t.Fatal(err)
	}
	users := make([]string, n)
	for i := range users {
		users[i] = fmt.Sprint("u", i)
		if err := s.RegisterUser(users[i], ""); err != nil {
			t.Fatal(err)
		}
	}
	return users
}

// sendFlow sends perUser messages from every user to the bot, the users in
// parallel, and returns the expected seqs per conversation.
func sendFlow(t testing.TB, s *sandbox.Server, users []string, perUser int, pause time.Duration) map[string]int64 {
	t.Helper()
	var wg sync.WaitGroup
	for _, u := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perUser {
				if _, err := s.SendText(u, "bot", fmt.Sprint("m", i)); err != nil {
					t.Error(err)
					return
				}
				if pause > 0 {
					time.Sleep(pause)
				}
			}
		}()
	}
	wg.Wait()
	want := make(map[string]int64, len(users))
	for _, u := range users {
		want[content.SingleConversationID("bot", u)] = int64(perUser)
	}
	return want
}

// runModeBot starts a bot with opts against s; it is shut down at cleanup.
func runModeBot(t testing.TB, s *sandbox.Server, rec *recorder, opts ...bot.Option) *bot.Bot {
	t.Helper()
	base := []bot.Option{
		bot.WithGateway(s.WSURL()), bot.WithUser("bot"), bot.WithAdminSecret(s.APIURL(), sandbox.DefaultSecret),
		bot.WithStorage(filepath.Join(t.TempDir(), "bot.db")), bot.WithBacklog(bot.BacklogAll),
		bot.WithHandler(bot.HandlerFunc(func(c *bot.Context) error {
			rec.record(c.Message())
			return nil
		})),
	}
	b, err := bot.New(append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- b.Run(context.Background()) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		b.Shutdown(ctx)
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return b
}

func startModeSandbox(t testing.TB, cfg sandbox.Config) *sandbox.Server {
	t.Helper()
	s, err := sandbox.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// sandboxWithUsers is startModeSandbox with users registered, each with
// its ID as nickname.
func sandboxWithUsers(t testing.TB, cfg sandbox.Config, users ...string) *sandbox.Server {
	t.Helper()
	s := startModeSandbox(t, cfg)
	for _, u := range users {
		if err := s.RegisterUser(u, u); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func TestGatewayModeExactlyOnceInOrder(t *testing.T) {
	s := startModeSandbox(t, sandbox.Config{})
	users := modeUsers(t, s, 100)
	rec := newRecorder(100 * 100)
	b := runModeBot(t, s, rec)
	want := sendFlow(t, s, users, 100, 0)
	rec.wait(t, 60*time.Second)
	rec.checkExactlyOnce(t, want)
	if b.Source() != bot.ModeGateway {
		t.Errorf("Source() = %q", b.Source())
	}
}

func TestPollModeExactlyOnceInOrder(t *testing.T) {
	s := startModeSandbox(t, sandbox.Config{})
	users := modeUsers(t, s, 100)
	rec := newRecorder(100 * 100)
	var sources sync.Map
	b := runModeBot(t, s, rec, bot.WithPoll(20*time.Millisecond, 0),
		bot.WithHandler(bot.HandlerFunc(func(c *bot.Context) error {
			sources.Store(c.Source(), true)
			rec.record(c.Message())
			return nil
		})))
	want := sendFlow(t, s, users, 100, 0)
	rec.wait(t, 60*time.Second)
	rec.checkExactlyOnce(t, want)
	if b.Source() != bot.ModePoll {
		t.Errorf("Source() = %q", b.Source())
	}
	if _, ok := sources.Load(bot.ModePoll); !ok {
		t.Error("Context.Source() did not report poll")
	}
	if st := b.Stats(); st.Pushed != 0 || st.Pulled != 100*100 {
		t.Errorf("stats %+v: want every message pulled", st)
	}
}

func TestPollModeRepliesThroughREST(t *testing.T) {
	s := startModeSandbox(t, sandbox.Config{})
	modeUsers(t, s, 1)
	rec := newRecorder(1)
	runModeBot(t, s, rec, bot.WithPoll(20*time.Millisecond, 0), bot.WithHandler(bot.HandlerFunc(func(c *bot.Context) error {
		rec.record(c.Message())
		return c.Reply("pong " + c.Text())
	})))
	replies, stop := s.SubscribeFrom(10, "bot")
	defer stop()
	if _, err := s.SendText("u0", "bot", "ping"); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-replies:
		if m.Text() != "pong ping" || m.RecvID != "u0" {
			t.Fatalf("reply %+v", m)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no reply")
	}
}

func TestPollModeAcrossTokenExpiry(t *testing.T) {
	// Tokens live one second: the bot's expires while messages flow, the
	// poll is refused with 1501, the bot fetches a new token and goes on.
	s := startModeSandbox(t, sandbox.Config{TokenTTL: time.Second})
	// 10,000 messages over 100 conversations.
	users := modeUsers(t, s, 100)
	rec := newRecorder(100 * 100)
	var invalid atomic.Int32
	runModeBot(t, s, rec, bot.WithPoll(10*time.Millisecond, 0),
		bot.WithOnTokenInvalid(func(error) { invalid.Add(1) }))
	want := sendFlow(t, s, users, 100, 25*time.Millisecond) // about 2.5 s
	rec.wait(t, 30*time.Second)
	rec.checkExactlyOnce(t, want)
	if invalid.Load() == 0 {
		t.Error("the token never expired during the test")
	}
	t.Logf("token refreshed %d times", invalid.Load())
}

func TestNewRejectsImpossibleModes(t *testing.T) {
	base := []bot.Option{bot.WithGateway("ws://x"), bot.WithUser("bot"), bot.WithStorage(filepath.Join(t.TempDir(), "db")),
		bot.WithHandler(bot.HandlerFunc(func(*bot.Context) error { return nil }))}
	for name, opts := range map[string][]bot.Option{
		"poll without secret":     {bot.WithToken("t"), bot.WithAPI("http://x"), bot.WithPoll(0, 0)},
		"webhook without secret":  {bot.WithToken("t"), bot.WithAPI("http://x"), bot.WithWebhook(bot.WebhookOptions{})},
		"poll and webhook":        {bot.WithAdminSecret("http://x", "s"), bot.WithPoll(0, 0), bot.WithWebhook(bot.WebhookOptions{})},
		"fallback in poll mode":   {bot.WithAdminSecret("http://x", "s"), bot.WithPoll(0, 0), bot.WithFallbackPoll(bot.FallbackOptions{})},
		"fallback without secret": {bot.WithToken("t"), bot.WithFallbackPoll(bot.FallbackOptions{})},
		"bad webhook path":        {bot.WithAdminSecret("http://x", "s"), bot.WithWebhook(bot.WebhookOptions{Path: "cb"})},
	} {
		if _, err := bot.New(append(base, opts...)...); !errors.Is(err, bot.ErrConfig) {
			t.Errorf("%s: %v", name, err)
		}
	}
	// Poll mode needs no gateway address.
	if _, err := bot.New(bot.WithUser("bot"), bot.WithAdminSecret("http://x", "s"), bot.WithPoll(0, 0),
		bot.WithStorage(filepath.Join(t.TempDir(), "db2")), bot.WithHandler(bot.HandlerFunc(func(*bot.Context) error { return nil }))); err != nil {
		t.Error(err)
	}
}

// webhookBot starts a webhook-mode bot on a loopback listener and points
// the sandbox's callbacks at it.
func webhookBot(t *testing.T, s *sandbox.Server, rec *recorder, reconcile time.Duration, opts ...bot.Option) *bot.Bot {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.SetWebhook(sandbox.WebhookConfig{URL: "http://" + ln.Addr().String() + "/callbackExample", Queue: 100000})
	return runModeBot(t, s, rec, append([]bot.Option{bot.WithWebhook(bot.WebhookOptions{Listener: ln, Reconcile: reconcile})}, opts...)...)
}

// waitFirstSync waits (5 s at most) until b has completed its first sync.
func waitFirstSync(t *testing.T, b *bot.Bot) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for b.Stats().Syncs == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no first sync")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestWebhookModeCallbackTriggersHandling(t *testing.T) {
	s := startModeSandbox(t, sandbox.Config{})
	modeUsers(t, s, 1)
	rec := newRecorder(1)
	// Reconcile is an hour: only the callback can make the bot see the
	// message (after its first sync).
	b := webhookBot(t, s, rec, time.Hour)
	waitFirstSync(t, b)
	if _, err := s.SendText("u0", "bot", "hi"); err != nil {
		t.Fatal(err)
	}
	rec.wait(t, 5*time.Second)
	if b.Source() != bot.ModeWebhook {
		t.Errorf("Source() = %q", b.Source())
	}
}

func TestWebhookModeExactlyOnceWithFaults(t *testing.T) {
	s := startModeSandbox(t, sandbox.Config{})
	users := modeUsers(t, s, 100)
	rec := newRecorder(100 * 100)
	webhookBot(t, s, rec, 300*time.Millisecond)
	s.SetWebhookFaults(sandbox.WebhookFaults{DropEvery: 50, DuplicateEvery: 7, Reorder: 8})
	want := sendFlow(t, s, users, 100, 0)
	rec.wait(t, 60*time.Second)
	rec.checkExactlyOnce(t, want)
	st := s.WebhookStats()
	if st.Dropped < 100*100/50 {
		t.Errorf("webhook stats %+v: fewer drops than injected", st)
	}
	t.Logf("webhook: %+v", st)
}

func TestFallbackToPollAndBack(t *testing.T) {
	s := startModeSandbox(t, sandbox.Config{})
	// 10,000 messages over 100 conversations.
	users := modeUsers(t, s, 100)
	const perUser = 100
	rec := newRecorder(len(users) * perUser)
	var modes sync.Map
	var overGateway atomic.Int64
	logs := &testchild.Buffer{}
	b := runModeBot(t, s, rec, fastReconnect(), bot.WithLogger(slog.New(slog.NewTextHandler(logs, nil))),
		bot.WithFallbackPoll(bot.FallbackOptions{After: 2, Retry: 200 * time.Millisecond, Interval: 10 * time.Millisecond}),
		bot.WithHandler(bot.HandlerFunc(func(c *bot.Context) error {
			modes.Store(c.Source(), true)
			if c.Source() == bot.ModeGateway {
				overGateway.Add(1)
			}
			rec.record(c.Message())
			return nil
		})))
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s (source %s, handled %d)", what, b.Source(), rec.handled())
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
	waitFor("the websocket", func() bool { return b.Status() == transport.StatusConnected && b.Source() == bot.ModeGateway })
	var want map[string]int64
	flowDone := make(chan struct{})
	go func() {
		defer close(flowDone)
		want = sendFlow(t, s, users, perUser, 25*time.Millisecond) // about 2.5 s per user
	}()
	waitFor("some messages over the websocket", func() bool { return rec.handled() > 200 })
	// The websocket goes away while the HTTP API keeps answering.
	s.RefuseHandshakes(1<<30, 500)
	s.DropAll()
	waitFor("the switch to polling", func() bool { return b.Source() == bot.ModePoll })
	at := rec.handled()
	waitFor("messages while polling", func() bool { return rec.handled() > at+100 })
	s.RefuseHandshakes(0, 0)
	waitFor("the switch back to the websocket", func() bool { return b.Source() == bot.ModeGateway })
	back := overGateway.Load()
	<-flowDone
	rec.wait(t, 30*time.Second)
	rec.checkExactlyOnce(t, want)
	if overGateway.Load() == back {
		t.Error("no message handled over the websocket after the switch back")
	}
	t.Logf("handled over the websocket: %d before the switch back, %d in all", back, overGateway.Load())
	// Each switch is logged once, however many dials failed.
	for _, line := range []string{"websocket unreachable; receiving by HTTP polling", "websocket reachable again; leaving HTTP polling"} {
		if n := strings.Count(logs.String(), line); n != 1 {
			t.Errorf("%q logged %d times, want once", line, n)
		}
	}
	for _, m := range []string{bot.ModeGateway, bot.ModePoll} {
		if _, ok := modes.Load(m); !ok {
			t.Errorf("no message handled in %s mode", m)
		}
	}
}
