package bot

import (
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/openimbot/openimbot/content"
)

func guardMsg(conv, from string, sendTime int64, marked bool) *content.Message {
	m := &content.Message{ConversationID: conv, SendID: from, SendTime: sendTime}
	if marked {
		m.Ex = botMarkerEx
	}
	return m
}

// The count of one conversation: bots' messages raise it, a human's resets
// it, and so does a quiet spell of loopQuiet.
func TestLoopGuardCounting(t *testing.T) {
	g := newLoopGuard(2, slog.New(slog.DiscardHandler))
	now := time.Unix(1000, 0)
	admit := func(m *content.Message) error { return g.admit(m, "me", "c1", now) }
	for i := range 2 {
		if err := admit(guardMsg("c1", "other", 1, true)); err != nil {
			t.Fatalf("answer %d: %v", i+1, err)
		}
	}
	err := admit(guardMsg("c1", "other", 1, true))
	var lg *LoopGuardError
	if !errors.Is(err, ErrLoopGuard) || !errors.As(err, &lg) || lg.ConversationID != "c1" || lg.Limit != 2 {
		t.Fatalf("third answer: %v", err)
	}
	// The bot's own message (WithDispatchSelf) is a bot's too.
	if err := admit(guardMsg("c1", "me", 1, false)); !errors.Is(err, ErrLoopGuard) {
		t.Fatalf("own message: %v", err)
	}
	// A human message in another conversation changes nothing here.
	if err := g.admit(guardMsg("c2", "alice", 1, false), "me", "c1", now); err != nil {
		t.Fatalf("forwarding a human's message: %v", err)
	}
	if err := admit(guardMsg("c1", "other", 1, true)); !errors.Is(err, ErrLoopGuard) {
		t.Fatalf("after a human elsewhere: %v", err)
	}
	// A human here resets the count.
	if err := admit(guardMsg("c1", "alice", 1, false)); err != nil {
		t.Fatalf("human: %v", err)
	}
	if err := admit(guardMsg("c1", "other", 1, true)); err != nil {
		t.Fatalf("after a human: %v", err)
	}
	admit(guardMsg("c1", "other", 1, true))
	if err := admit(guardMsg("c1", "other", 1, true)); !errors.Is(err, ErrLoopGuard) {
		t.Fatalf("limit again: %v", err)
	}
	// So does a quiet spell.
	now = now.Add(loopQuiet)
	if err := admit(guardMsg("c1", "other", 1, true)); err != nil {
		t.Fatalf("after %v: %v", loopQuiet, err)
	}
}

// States of idle conversations are pruned: the map does not grow with
// every conversation the bot ever answered.
func TestLoopGuardPrunes(t *testing.T) {
	g := newLoopGuard(3, slog.New(slog.DiscardHandler))
	now := time.Unix(1000, 0)
	for i := range 3 * loopPruneAt {
		conv := fmt.Sprintf("c%d", i)
		if err := g.admit(guardMsg(conv, "u", 1, i%2 == 0), "me", conv, now); err != nil {
			t.Fatal(err)
		}
		now = now.Add(time.Second)
	}
	// Only conversations with bot exchanges have a state, and those idle
	// for loopQuiet are dropped.
	if n := len(g.convs); n > loopPruneAt {
		t.Fatalf("%d states kept for %d conversations", n, 3*loopPruneAt)
	}
}
