package bot_test

import (
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openimbot/openimbot/bot"
	"github.com/openimbot/openimbot/bot/bottest"
	"github.com/openimbot/openimbot/content"
	"github.com/openimbot/openimbot/internal/testchild"
)

// recObserver records what the bot reports.
type recObserver struct {
	mu       sync.Mutex
	received []string
	handled  []bot.HandledEvent
	sent     []bot.SendEvent
	lags     [][2]int64
	commits  int
}

func (o *recObserver) Received(m *content.Message, offline bool) {
	o.mu.Lock()
	o.received = append(o.received, m.Text())
	o.mu.Unlock()
}

func (o *recObserver) Handled(e bot.HandledEvent) {
	e.Message = nil // not to be kept
	o.mu.Lock()
	o.handled = append(o.handled, e)
	o.mu.Unlock()
}

func (o *recObserver) Sent(e bot.SendEvent) {
	o.mu.Lock()
	o.sent = append(o.sent, e)
	o.mu.Unlock()
}

func (o *recObserver) SyncLag(sum, max int64) {
	o.mu.Lock()
	o.lags = append(o.lags, [2]int64{sum, max})
	o.mu.Unlock()
}

func (o *recObserver) Committed(d time.Duration, writes int, err error) {
	o.mu.Lock()
	o.commits++
	o.mu.Unlock()
}

func TestObserverAndDebugLog(t *testing.T) {
	obs := &recObserver{}
	var logs testchild.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h := bot.HandlerFunc(func(c *bot.Context) error {
		switch c.Text() {
		case "hi":
			c.SetRoute("greet")
			return c.Reply("hello")
		case "boom":
			c.SetRoute("bomb")
			panic("boom")
		case "fail":
			c.SetRoute("failing")
			return errors.New("no luck")
		}
		return nil
	})
	hs := bottest.Start(t, h, bottest.WithBotOptions(bot.WithObserver(obs), bot.WithLogger(log)))
	hs.Say("alice", "hi")
	if got := hs.NextReplyText(); got != "hello" {
		t.Fatalf("reply %q", got)
	}
	hs.Say("alice", "boom")
	hs.Say("alice", "fail")
	hs.Say("alice", "other")
	deadline := time.Now().Add(5 * time.Second)
	for {
		obs.mu.Lock()
		n := len(obs.handled)
		obs.mu.Unlock()
		if n == 4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d handled events, want 4", n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	obs.mu.Lock()
	defer obs.mu.Unlock()
	if strings.Join(obs.received, ",") != "hi,boom,fail,other" {
		t.Errorf("received %q", obs.received)
	}
	want := []struct {
		route string
		err   bool
		panic bool
		sends int
	}{{"greet", false, false, 1}, {"bomb", true, true, 0}, {"failing", true, false, 0}, {"", false, false, 0}}
	for i, w := range want {
		e := obs.handled[i]
		if e.Route != w.route || (e.Err != nil) != w.err || e.Panic != w.panic || e.Sends != w.sends || e.Duration <= 0 {
			t.Errorf("handled[%d] = %+v, want %+v", i, e, w)
		}
	}
	if len(obs.sent) != 1 || obs.sent[0].Err != nil || obs.sent[0].To != bot.ToUser("alice") ||
		obs.sent[0].Elem == nil || obs.sent[0].Elem.(*content.Text).Content != "hello" {
		t.Errorf("sent %+v", obs.sent)
	}
	if len(obs.lags) == 0 || obs.lags[len(obs.lags)-1] != [2]int64{0, 0} {
		t.Errorf("sync lags %v, want the last one 0,0", obs.lags)
	}
	out := logs.String()
	for _, s := range []string{
		`msg="bot: message"`, "seq=1 sender=alice content=Text", "route=greet", "sends=1 send=ok",
		"route=none", "route=bomb",
	} {
		if !strings.Contains(out, s) {
			t.Errorf("debug log lacks %q:\n%s", s, out)
		}
	}
}

func TestQueueDepthBeforeRun(t *testing.T) {
	b, err := bot.New(bot.WithGateway("ws://127.0.0.1:1"), bot.WithUser("bot"), bot.WithToken("t"),
		bot.WithStorage(t.TempDir()+"/db"), bot.WithHandler(bot.HandlerFunc(func(*bot.Context) error { return nil })))
	if err != nil {
		t.Fatal(err)
	}
	if n := b.QueueDepth(); n != 0 {
		t.Fatalf("QueueDepth %d before Run", n)
	}
	if _, err := bot.New(bot.WithObserver(nil)); err == nil || !errors.Is(err, bot.ErrConfig) {
		t.Fatalf("WithObserver(nil): %v", err)
	}
}
