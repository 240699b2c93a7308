package bot_test

import (
	"testing"
	"time"

	"github.com/openimbot/openimbot/content"
	"github.com/openimbot/openimbot/sandbox"
)

// TestWebhookModeKeepsOnlyTheBotsMessages: the server posts the callbacks
// of every message, but a webhook-mode bot handles only single chats to it
// and groups it is in; a chat between two users and a group without the
// bot are not handled.
func TestWebhookModeKeepsOnlyTheBotsMessages(t *testing.T) {
	s := startModeSandbox(t, sandbox.Config{})
	modeUsers(t, s, 2)
	if err := s.CreateGroup("others", "u0", "u1"); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateGroup("ours", "u0", "u1", "bot"); err != nil {
		t.Fatal(err)
	}
	rec := newRecorder(2)
	// Reconcile is an hour: after the first sync only callbacks move the bot.
	b := webhookBot(t, s, rec, time.Hour)
	deadline := time.Now().Add(5 * time.Second)
	waitFirstSync(t, b)
	before := s.WebhookStats().Posted
	if _, err := s.SendText("u0", "u1", "between users"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SendGroupText("u0", "others", "in a group without the bot"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SendText("u0", "bot", "to the bot"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SendGroupText("u1", "ours", "in the bot's group"); err != nil {
		t.Fatal(err)
	}
	rec.wait(t, 10*time.Second)
	// Every callback was posted to the bot, and a while later nothing else
	// was handled.
	for s.WebhookStats().Posted < before+4 {
		if time.Now().After(deadline.Add(5 * time.Second)) {
			t.Fatalf("callbacks %+v", s.WebhookStats())
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	rec.checkExactlyOnce(t, map[string]int64{
		content.SingleConversationID("bot", "u0"): 1,
		content.GroupConversationID("ours"):       1,
	})
}
