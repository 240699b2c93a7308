package bot_test

import (
	"context"
	"testing"
	"time"

	"github.com/openimbot/openimbot/bot"
	"github.com/openimbot/openimbot/bot/bottest"
)

func ctxT(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func TestEchoSingleAndGroup(t *testing.T) {
	h := bottest.Start(t, bot.HandlerFunc(func(c *bot.Context) error {
		return c.Reply("echo: " + c.Text())
	}))
	h.Say("alice", "hi")
	r := h.WaitReply(10 * time.Second)
	if got := r.Text(); got != "echo: hi" || r.RecvID != "alice" {
		t.Fatalf("reply %q to %q", got, r.RecvID)
	}
	h.SayInGroup("g1", "bob", "yo")
	r = h.WaitReply(10 * time.Second)
	if got := r.Text(); got != "echo: yo" || r.GroupID != "g1" {
		t.Fatalf("group reply %q to group %q", got, r.GroupID)
	}
}
