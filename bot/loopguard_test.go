package bot_test

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openimbot/openimbot/bot"
	"github.com/openimbot/openimbot/content"
	"github.com/openimbot/openimbot/internal/testchild"
	"github.com/openimbot/openimbot/sandbox"
)

// hiBot is a bot that answers "hi" with "hi" and records the loop guard's
// refusals.
type hiBot struct {
	b       *bot.Bot
	logs    *testchild.Buffer
	mu      sync.Mutex
	refused []*bot.LoopGuardError
}

func (h *hiBot) refusals() []*bot.LoopGuardError {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]*bot.LoopGuardError(nil), h.refused...)
}

// startHiBot runs a "hi" bot as user id on s, with the rate limit off.
func startHiBot(t *testing.T, s *sandbox.Server, id string, opts ...bot.Option) *hiBot {
	t.Helper()
	tok, err := s.UserToken(id, 7)
	if err != nil {
		t.Fatal(err)
	}
	hb := &hiBot{logs: &testchild.Buffer{}}
	synced := make(chan struct{}, 1)
	all := []bot.Option{
		bot.WithGateway(s.WSURL()), bot.WithUser(id), bot.WithToken(tok),
		bot.WithStorage(filepath.Join(t.TempDir(), id+".db")),
		bot.WithRateLimit(0, 0),
		bot.WithLogger(slog.New(slog.NewTextHandler(hb.logs, &slog.HandlerOptions{Level: slog.LevelWarn}))),
		bot.WithOnSynced(func() {
			select {
			case synced <- struct{}{}:
			default:
			}
		}),
		bot.WithHandler(bot.HandlerFunc(func(c *bot.Context) error {
			if c.Text() != "hi" {
				return nil
			}
			err := c.Reply("hi")
			var lg *bot.LoopGuardError
			if errors.As(err, &lg) {
				hb.mu.Lock()
				hb.refused = append(hb.refused, lg)
				hb.mu.Unlock()
			}
			return err
		})),
	}
	b, err := bot.New(append(all, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	hb.b = b
	runErr := make(chan error, 1)
	go func() { runErr <- b.Run(context.Background()) }()
	t.Cleanup(func() {
		_ = b.Close()
		if err := <-runErr; err != nil {
			t.Errorf("%s: Run: %v", id, err)
		}
	})
	select {
	case <-synced:
	case err := <-runErr:
		t.Fatalf("%s: Run: %v", id, err)
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: not synced", id)
	}
	return hb
}

// settle waits until conv's max seq has not moved for quiet, and returns it.
func settle(t *testing.T, s *sandbox.Server, conv string, quiet, limit time.Duration) int64 {
	t.Helper()
	deadline := time.Now().Add(limit)
	last, since := s.MaxSeq(conv), time.Now()
	for time.Since(since) < quiet {
		if time.Now().After(deadline) {
			t.Fatalf("%s still growing after %v: max seq %d", conv, limit, s.MaxSeq(conv))
		}
		time.Sleep(20 * time.Millisecond)
		if n := s.MaxSeq(conv); n != last {
			last, since = n, time.Now()
		}
	}
	return last
}

// Two bots of this framework in a group with a person, both answering "hi"
// with "hi", the rate limit off: the exchange stops after the limit, each
// bot warns naming the conversation, and the person's next "hi" is answered
// again.
func TestLoopGuardStopsTwoBotsInAGroup(t *testing.T) {
	const limit = 3
	s := sandboxWithUsers(t, sandbox.Config{}, "alice", "botA", "botB")
	if err := s.CreateGroup("g1", "alice", "botA", "botB"); err != nil {
		t.Fatal(err)
	}
	conv := content.GroupConversationID("g1")
	a := startHiBot(t, s, "botA", bot.WithLoopGuard(limit))
	b := startHiBot(t, s, "botB", bot.WithLoopGuard(limit))

	// One round: alice's hi, each bot's answer to her, then limit answers
	// of each bot to the other's messages; each bot's next answer is
	// refused.
	const round = 1 + 2*(1+limit)
	for r := 1; r <= 2; r++ {
		if _, err := s.SendGroupText("alice", "g1", "hi"); err != nil {
			t.Fatal(err)
		}
		if got := settle(t, s, conv, 500*time.Millisecond, 20*time.Second); got != int64(r*round) {
			t.Fatalf("round %d: the group holds %d messages, want %d", r, got, r*round)
		}
		// Alice's message is answered by both bots.
		msgs := s.Messages(conv)
		first := msgs[(r-1)*round:]
		if first[0].SendID != "alice" {
			t.Fatalf("round %d starts with %s's message", r, first[0].SendID)
		}
		answered := map[string]bool{}
		for _, m := range first[1:3] {
			answered[m.SendID] = true
			if !strings.Contains(m.Ex, `"openimbot_bot":true`) {
				t.Errorf("a bot's message has ex %q, want the bot marker", m.Ex)
			}
		}
		if !answered["botA"] || !answered["botB"] {
			t.Fatalf("round %d: alice's hi answered by %v", r, answered)
		}
		for _, hb := range []*hiBot{a, b} {
			ref := hb.refusals()
			if len(ref) != r || ref[r-1].ConversationID != conv || ref[r-1].Limit != limit || !errors.Is(ref[r-1], bot.ErrLoopGuard) {
				t.Fatalf("round %d: %s refusals %+v, want %d for %s", r, hb.b.SelfID(), ref, r, conv)
			}
			logs := hb.logs.String()
			if n := strings.Count(logs, "level=WARN msg=\"bot: loop guard"); n != r || !strings.Contains(logs, "conversation="+conv) {
				t.Fatalf("round %d: %s logged %d loop guard warnings, want %d naming %s:\n%s", r, hb.b.SelfID(), n, r, conv, logs)
			}
		}
	}
}

// The same two bots in a single chat, the first message sent by one of
// them outside a handler (a scheduler, say): it stops after the limit.
func TestLoopGuardStopsTwoBotsInASingleChat(t *testing.T) {
	const limit = 4
	s := sandboxWithUsers(t, sandbox.Config{}, "botA", "botB")
	a := startHiBot(t, s, "botA", bot.WithLoopGuard(limit))
	b := startHiBot(t, s, "botB", bot.WithLoopGuard(limit))
	if _, err := a.b.SendText(ctxT(t, 5*time.Second), bot.ToUser("botB"), "hi"); err != nil {
		t.Fatal(err)
	}
	conv := content.SingleConversationID("botA", "botB")
	// botA's hi, then limit answers from each; botB's next one is refused.
	if got := settle(t, s, conv, 500*time.Millisecond, 20*time.Second); got != 1+2*limit {
		t.Fatalf("the chat holds %d messages, want %d", got, 1+2*limit)
	}
	if ref := b.refusals(); len(ref) != 1 || ref[0].ConversationID != conv {
		t.Fatalf("botB refusals: %+v", ref)
	}
	if ref := a.refusals(); len(ref) != 0 {
		t.Fatalf("botA refusals: %+v", ref)
	}
}

// A sender without the marker is a person however fast it answers: a
// scripted user (a test, a piped console) is never refused.
func TestLoopGuardFastUnmarkedSenderIsAPerson(t *testing.T) {
	const limit, exchanges = 2, 12
	s := sandboxWithUsers(t, sandbox.Config{}, "alice", "botA")
	a := startHiBot(t, s, "botA", bot.WithLoopGuard(limit))
	// alice answers every message of botA with "hi" at once.
	sent, unsub := s.SubscribeFrom(64, "botA")
	defer unsub()
	if _, err := s.SendText("alice", "botA", "hi"); err != nil {
		t.Fatal(err)
	}
	for i := 1; i < exchanges; i++ {
		select {
		case <-sent:
		case <-time.After(10 * time.Second):
			t.Fatalf("answer %d missing", i)
		}
		if _, err := s.SendText("alice", "botA", "hi"); err != nil {
			t.Fatal(err)
		}
	}
	conv := content.SingleConversationID("alice", "botA")
	if got := settle(t, s, conv, 300*time.Millisecond, 10*time.Second); got != 2*exchanges {
		t.Fatalf("the chat holds %d messages, want %d", got, 2*exchanges)
	}
	if ref := a.refusals(); len(ref) != 0 {
		t.Fatalf("botA refused %+v", ref)
	}
}

// With the guard off (0) the two bots loop until stopped; a negative limit
// is a configuration error.
func TestLoopGuardOff(t *testing.T) {
	if _, err := bot.New(bot.WithLoopGuard(-1)); !errors.Is(err, bot.ErrConfig) {
		t.Fatalf("WithLoopGuard(-1): %v, want ErrConfig", err)
	}
	s := sandboxWithUsers(t, sandbox.Config{}, "botA", "botB")
	a := startHiBot(t, s, "botA", bot.WithLoopGuard(0))
	b := startHiBot(t, s, "botB", bot.WithLoopGuard(0))
	if _, err := a.b.SendText(ctxT(t, 5*time.Second), bot.ToUser("botB"), "hi"); err != nil {
		t.Fatal(err)
	}
	conv := content.SingleConversationID("botA", "botB")
	deadline := time.Now().Add(20 * time.Second)
	for s.MaxSeq(conv) < 100 {
		if time.Now().After(deadline) {
			t.Fatalf("only %d messages: the bots stopped without a guard", s.MaxSeq(conv))
		}
		time.Sleep(10 * time.Millisecond)
	}
	_ = a.b.Close()
	_ = b.b.Close()
}
