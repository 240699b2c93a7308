package bottest_test

import (
	"testing"

	"github.com/openimbot/openimbot/bot"
	"github.com/openimbot/openimbot/bot/bottest"
)

// A test of an echo bot: Start runs it against an in-process sandbox, Say
// talks to it as a user, WaitReply waits for its answer.
func TestEchoBot(t *testing.T) {
	h := bottest.Start(t, bot.HandlerFunc(func(c *bot.Context) error {
		return c.Reply("you said: " + c.Text())
	}))
	h.Say("alice", "hello")
	if got := h.NextReplyText(); got != "you said: hello" {
		t.Fatalf("reply %q", got)
	}
	h.SayInGroup("team", "bob", "hi all")
	if r := h.NextReply(); r.GroupID != "team" || r.Text() != "you said: hi all" {
		t.Fatalf("group reply %+v", r)
	}
	if n := len(h.Sent()); n != 2 {
		t.Fatalf("bot sent %d messages", n)
	}
}
