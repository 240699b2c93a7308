package bot_test

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openimbot/openimbot/bot"
	"github.com/openimbot/openimbot/content"
	"github.com/openimbot/openimbot/sandbox"
)

const webhookChildEnv = "OPENIMBOT_BOT_WEBHOOK_CHILD"

// TestWebhookKillChild is the bot process of TestWebhookSIGKILLRestart: a
// webhook-mode bot (listening on $KC_LISTEN) run by runChildBot.
func TestWebhookKillChild(t *testing.T) {
	if os.Getenv(webhookChildEnv) == "" {
		t.Skip("runs only as the child process of TestWebhookSIGKILLRestart")
	}
	runChildBot(t, bot.WithWebhook(bot.WebhookOptions{Listen: os.Getenv("KC_LISTEN"), Reconcile: 300 * time.Millisecond}))
}

// A webhook-mode bot process killed with SIGKILL while messages keep
// coming, with 1 callback in 50 dropped and duplicated callbacks, then
// restarted: nothing is lost, every conversation is handled in order, and
// only messages in flight at the kill are handled again.
func TestWebhookSIGKILLRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("runs child processes")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	listen := ln.Addr().String()
	ln.Close()
	s := startModeSandbox(t, sandbox.Config{Webhook: sandbox.WebhookConfig{URL: "http://" + listen + "/callbackExample", Queue: 100000}})
	s.SetWebhookFaults(sandbox.WebhookFaults{DropEvery: 50, DuplicateEvery: 10})
	// 10,000 messages over 100 conversations, paced so that they keep
	// coming across the kill and the restart.
	const perUser = 100
	users := modeUsers(t, s, 100)
	dir := t.TempDir()
	dbPath, out := filepath.Join(dir, "bot.db"), filepath.Join(dir, "handled.txt")
	env := []string{webhookChildEnv + "=1", "KC_API=" + s.APIURL(), "KC_DB=" + dbPath, "KC_OUT=" + out, "KC_LISTEN=" + listen}

	var sent atomic.Int64
	var wg sync.WaitGroup
	for _, u := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range perUser {
				if _, err := s.SendText(u, "bot", "x"); err != nil {
					t.Error(err)
					return
				}
				sent.Add(1)
				time.Sleep(50 * time.Millisecond)
			}
		}()
	}
	c1 := startChild(t, "TestWebhookKillChild", env)
	atKill, inFlight := c1.killAfter(t, out, dbPath, 1500)
	time.Sleep(300 * time.Millisecond) // the bot is down; callbacks fail
	c2 := startChild(t, "TestWebhookKillChild", env)
	defer c2.stop(t)
	atRestart := int(sent.Load())
	wg.Wait()
	total := int(sent.Load())
	if total != len(users)*perUser {
		t.Fatalf("sent %d of %d", total, len(users)*perUser)
	}
	if atRestart >= total {
		t.Errorf("all %d messages were sent before the restart: none came while the bot ran again", total)
	}
	lines := c2.waitHandled(t, out, total, 30*time.Second)
	// In order per conversation (each run of the bot), nothing lost.
	count := make(map[string]int, len(lines))
	last := map[string]int64{}
	for _, l := range lines {
		count[l]++
		var conv string
		var seq int64
		fmt.Sscanf(l, "%s %d", &conv, &seq)
		if seq <= last[conv] && count[l] == 1 {
			t.Errorf("%s: seq %d handled after %d", conv, seq, last[conv])
		}
		last[conv] = max(last[conv], seq)
	}
	for _, u := range users {
		conv := content.SingleConversationID("bot", u)
		for seq := int64(1); seq <= s.MaxSeq(conv); seq++ {
			if count[fmt.Sprintf("%s %d", conv, seq)] == 0 {
				t.Errorf("lost: %s seq %d", conv, seq)
			}
		}
	}
	repeats := len(lines) - len(count)
	st := s.WebhookStats()
	t.Logf("%d messages, %d sent at the restart; SIGKILL after %d handled, %d in flight; %d repeats; callbacks %+v", total, atRestart, len(atKill), inFlight, repeats, st)
	if repeats > inFlight {
		t.Errorf("%d repeats > %d messages in flight at the kill", repeats, inFlight)
	}
	if st.Failed == 0 || st.Dropped == 0 {
		t.Errorf("callbacks %+v: the kill and the drops did not happen", st)
	}
}
