package bot_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openimbot/openimbot/bot"
	"github.com/openimbot/openimbot/content"
	"github.com/openimbot/openimbot/sandbox"
	"github.com/openimbot/openimbot/storage"
)

const webhookChildEnv = "OPENIMBOT_BOT_WEBHOOK_CHILD"

// TestWebhookKillChild is the bot process of TestWebhookSIGKILLRestart: a
// webhook-mode bot that appends "conversation seq" to a file (O_APPEND,
// fsync) before its handler returns, and stops when its stdin is closed.
func TestWebhookKillChild(t *testing.T) {
	if os.Getenv(webhookChildEnv) == "" {
		t.Skip("runs only as the child process of TestWebhookSIGKILLRestart")
	}
	api, dbPath, out, listen := os.Getenv("KC_API"), os.Getenv("KC_DB"), os.Getenv("KC_OUT"), os.Getenv("KC_LISTEN")
	f, err := os.OpenFile(out, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := bot.New(
		bot.WithUser("bot"), bot.WithAdminSecret(api, sandbox.DefaultSecret),
		bot.WithWebhook(bot.WebhookOptions{Listen: listen, Reconcile: 300 * time.Millisecond}),
		bot.WithStorage(dbPath), bot.WithBacklog(bot.BacklogAll),
		bot.WithHandler(bot.HandlerFunc(func(c *bot.Context) error {
			m := c.Message()
			if _, err := fmt.Fprintf(f, "%s %d\n", m.ConversationID, m.Seq); err != nil {
				return err
			}
			return f.Sync()
		})))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	if err := b.Run(ctx); err != nil {
		t.Fatal(err)
	}
}

func startWebhookChild(t *testing.T, env []string) *child {
	t.Helper()
	c := &child{cmd: exec.Command(os.Args[0], "-test.run=^TestWebhookKillChild$", "-test.count=1", "-test.v")}
	c.cmd.Env = append(os.Environ(), env...)
	c.cmd.Stdout, c.cmd.Stderr = &c.out, &c.out
	var err error
	if c.stdin, err = c.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return c
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
	users := modeUsers(t, s, 10)
	dir := t.TempDir()
	dbPath, out := filepath.Join(dir, "bot.db"), filepath.Join(dir, "handled.txt")
	env := []string{webhookChildEnv + "=1", "KC_API=" + s.APIURL(), "KC_DB=" + dbPath, "KC_OUT=" + out, "KC_LISTEN=" + listen}

	// Messages flow for the whole test.
	var sent atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for _, u := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := s.SendText(u, "bot", "x"); err != nil {
					t.Error(err)
					return
				}
				sent.Add(1)
				time.Sleep(2 * time.Millisecond)
			}
		}()
	}
	c1 := startWebhookChild(t, env)
	deadline := time.Now().Add(30 * time.Second)
	for len(readHandled(t, out)) < 500 {
		if time.Now().After(deadline) {
			_ = c1.cmd.Process.Kill()
			_ = c1.cmd.Wait()
			t.Fatalf("child handled %d messages in 30s; output:\n%s", len(readHandled(t, out)), c1.out.String())
		}
		time.Sleep(time.Millisecond)
	}
	if err := c1.cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	_ = c1.cmd.Wait()
	atKill := readHandled(t, out)
	db, err := storage.Open(dbPath, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	wms := db.Watermarks()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	inFlight := 0
	for _, l := range atKill {
		var conv string
		var seq int64
		if _, err := fmt.Sscanf(l, "%s %d", &conv, &seq); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		if seq > wms[conv] {
			inFlight++
		}
	}
	time.Sleep(300 * time.Millisecond) // the bot is down; callbacks fail
	c2 := startWebhookChild(t, env)
	defer func() {
		_ = c2.stdin.Close()
		if err := c2.cmd.Wait(); err != nil {
			t.Errorf("second child: %v; output:\n%s", err, c2.out.String())
		}
	}()
	time.Sleep(500 * time.Millisecond) // messages keep coming after the restart
	close(stop)
	wg.Wait()
	total := int(sent.Load())
	deadline = time.Now().Add(30 * time.Second)
	var lines []string
	for {
		lines = readHandled(t, out)
		seen := make(map[string]bool, len(lines))
		for _, l := range lines {
			seen[l] = true
		}
		if len(seen) == total {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d messages handled; output:\n%s", len(seen), total, c2.out.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
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
	t.Logf("%d messages; SIGKILL after %d handled, %d in flight; %d repeats; callbacks %+v", total, len(atKill), inFlight, repeats, st)
	if repeats > inFlight {
		t.Errorf("%d repeats > %d messages in flight at the kill", repeats, inFlight)
	}
	if st.Failed == 0 || st.Dropped == 0 {
		t.Errorf("callbacks %+v: the kill and the drops did not happen", st)
	}
}
