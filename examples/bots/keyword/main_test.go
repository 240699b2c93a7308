package main

import (
	"testing"

	"github.com/openimbot/openimbot/bot/bottest"
	"github.com/openimbot/openimbot/content"
)

func TestKeyword(t *testing.T) {
	r, err := newRouter(func(n int) int { return n }) // a loaded die
	if err != nil {
		t.Fatal(err)
	}
	h := bottest.Start(t, r)
	for _, tt := range []struct{ say, want string }{
		{"Hello bot", "Hello, alice!"},
		{"/roll", "You rolled 6 (d6)."},
		{"/roll 20", "You rolled 20 (d20)."},
		{"What is entropy?", "ENTROPY: no idea, but it sounds important."},
		{"/help", "Commands:\n/roll {sides:int?} - roll a die (six sides unless told)\n/help - list the commands\nI also answer hello, and \"what is X?\"."},
	} {
		h.Say("alice", tt.say)
		if got := h.NextReplyText(); got != tt.want {
			t.Errorf("%q: reply %q, want %q", tt.say, got, tt.want)
		}
	}
	// An @-mention in a group gets an @-reply.
	h.SayInGroup("g1", "alice", "hello all") // creates the group
	h.NextReply()
	at, err := content.NewMessage(content.NewAtText("@bot are you there", h.BotID()))
	if err != nil {
		t.Fatal(err)
	}
	at.SendID, at.GroupID, at.SessionType = "alice", "g1", content.ReadGroupChat
	if _, err := h.Sandbox().Inject(*at); err != nil {
		t.Fatal(err)
	}
	m := h.NextReply()
	if m.Text() != "@alice you called?" || !m.Mentions("alice") {
		t.Fatalf("mention reply %q %v", m.Text(), m.AtUserIDList)
	}
}
