package bot_test

import (
	"testing"
	"time"

	"github.com/openimbot/openimbot/bot"
	"github.com/openimbot/openimbot/content"
	"github.com/openimbot/openimbot/sandbox"
)

// Two bots left at the defaults (loop guard on, DefaultLoopGuard) with the
// rate limit off: their "hi" loop stops after DefaultLoopGuard answers each.
func TestLoopGuardOnByDefault(t *testing.T) {
	s := sandboxWithUsers(t, sandbox.Config{}, "botA", "botB")
	a := startHiBot(t, s, "botA")
	b := startHiBot(t, s, "botB")
	if _, err := a.b.SendText(ctxT(t, 5*time.Second), bot.ToUser("botB"), "hi"); err != nil {
		t.Fatal(err)
	}
	conv := content.SingleConversationID("botA", "botB")
	if got := settle(t, s, conv, 500*time.Millisecond, 20*time.Second); got != 1+2*bot.DefaultLoopGuard {
		t.Fatalf("the chat holds %d messages, want %d", got, 1+2*bot.DefaultLoopGuard)
	}
	if ref := b.refusals(); len(ref) != 1 || ref[0].Limit != bot.DefaultLoopGuard {
		t.Fatalf("botB refusals: %+v", ref)
	}
}
