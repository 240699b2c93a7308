package bot_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/openimbot/openimbot/bot"
	"github.com/openimbot/openimbot/content"
	"github.com/openimbot/openimbot/internal/testchild"
	"github.com/openimbot/openimbot/sandbox"
	"github.com/openimbot/openimbot/storage"
)

const killChildEnv = "OPENIMBOT_BOT_KILL_CHILD"

// TestKillChild is the bot process of TestSIGKILLRestart; it is skipped
// unless that test runs it.
func TestKillChild(t *testing.T) {
	if os.Getenv(killChildEnv) == "" {
		t.Skip("runs only as the child process of TestSIGKILLRestart")
	}
	runChildBot(t, bot.WithGateway(os.Getenv("KC_WS")), fastReconnect())
}

// runChildBot is the body of a child bot process: a bot with opts, user
// "bot", the admin API at $KC_API, storage at $KC_DB and the whole backlog,
// that appends "conversation seq" to the file $KC_OUT with O_APPEND and
// fsync before its handler returns, and stops when its stdin is closed.
func runChildBot(t *testing.T, opts ...bot.Option) {
	api, dbPath, out := os.Getenv("KC_API"), os.Getenv("KC_DB"), os.Getenv("KC_OUT")
	f, err := os.OpenFile(out, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	base := []bot.Option{
		bot.WithUser("bot"), bot.WithAdminSecret(api, sandbox.DefaultSecret),
		bot.WithStorage(dbPath), bot.WithBacklog(bot.BacklogAll),
		bot.WithHandler(bot.HandlerFunc(func(c *bot.Context) error {
			m := c.Message()
			if _, err := fmt.Fprintf(f, "%s %d\n", m.ConversationID, m.Seq); err != nil {
				return err
			}
			return f.Sync()
		})),
	}
	b, err := bot.New(append(base, opts...)...)
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

// child is a bot in a child process (a Test...Child function of this
// package) with env added to its environment.
type child struct{ *testchild.Child }

func startChild(t *testing.T, test string, env []string) *child {
	t.Helper()
	return &child{testchild.Start(t, test, env...)}
}

// stop closes the child's stdin and waits for it to end; an error it ends
// with fails the test.
func (c *child) stop(t *testing.T) {
	t.Helper()
	_ = c.Stdin.Close()
	if err := c.Cmd.Wait(); err != nil {
		t.Errorf("child: %v; output:\n%s", err, c.Out.String())
	}
}

// killAfter waits (30s at most) until the child bot has handled n
// messages, kills it with SIGKILL, and returns the lines in out at the kill
// and how many of them were in flight (handled, but above the watermark
// durable in dbPath).
func (c *child) killAfter(t *testing.T, out, dbPath string, n int) (atKill []string, inFlight int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for len(testchild.Lines(t, out)) < n {
		if time.Now().After(deadline) {
			_ = c.Cmd.Process.Kill()
			_ = c.Cmd.Wait()
			t.Fatalf("child handled %d messages in 30s; output:\n%s", len(testchild.Lines(t, out)), c.Out.String())
		}
		time.Sleep(time.Millisecond)
	}
	if err := c.Cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	_ = c.Cmd.Wait()
	atKill = testchild.Lines(t, out)
	db, err := storage.Open(dbPath, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	wms := db.Watermarks()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
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
	return atKill, inFlight
}

// waitHandled waits (d at most) until the lines in out name total distinct
// messages, and returns the lines.
func (c *child) waitHandled(t *testing.T, out string, total int, d time.Duration) []string {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		lines := testchild.Lines(t, out)
		seen := make(map[string]bool, len(lines))
		for _, l := range lines {
			seen[l] = true
		}
		if len(seen) == total {
			return lines
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d messages handled; output:\n%s", len(seen), total, c.Out.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// (b) The bot process killed with SIGKILL mid-stream and restarted: nothing
// is lost, and only messages in flight at the kill (handled but whose
// watermark was not yet durable) are handled again.
func TestSIGKILLRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("runs child processes")
	}
	s, err := sandbox.Start(context.Background(), sandbox.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const users, before, during = 10, 1500, 500
	if err := s.RegisterUser("bot", "Bot"); err != nil {
		t.Fatal(err)
	}
	for u := range users {
		if err := s.RegisterUser(fmt.Sprint("k", u), ""); err != nil {
			t.Fatal(err)
		}
	}
	send := func(n int) {
		for i := range n {
			if _, err := s.SendText(fmt.Sprint("k", i%users), "bot", fmt.Sprint("m", i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	dir := t.TempDir()
	dbPath, out := filepath.Join(dir, "bot.db"), filepath.Join(dir, "handled.txt")
	env := []string{killChildEnv + "=1", "KC_WS=" + s.WSURL(), "KC_API=" + s.APIURL(), "KC_DB=" + dbPath, "KC_OUT=" + out}

	send(before)
	c1 := startChild(t, "TestKillChild", env)
	atKill, inFlight := c1.killAfter(t, out, dbPath, 300)

	send(during) // while the bot is down
	c2 := startChild(t, "TestKillChild", env)
	defer c2.stop(t)
	total := before + during
	lines := c2.waitHandled(t, out, total, 40*time.Second)
	// Everything handled at least once; check against the sandbox.
	seen := make(map[string]int, len(lines))
	for _, l := range lines {
		seen[l]++
	}
	for u := range users {
		conv := content.SingleConversationID("bot", fmt.Sprint("k", u))
		for seq := int64(1); seq <= s.MaxSeq(conv); seq++ {
			if seen[fmt.Sprintf("%s %d", conv, seq)] == 0 {
				t.Errorf("lost: %s seq %d", conv, seq)
			}
		}
	}
	repeats := len(lines) - len(seen)
	t.Logf("SIGKILL after %d handled; in flight at the kill (handled, watermark not durable): %d; after restart: %d handled lines for %d messages, %d repeats, 0 lost",
		len(atKill), inFlight, len(lines), total, repeats)
	if repeats > inFlight {
		t.Errorf("%d repeats > %d messages in flight at the kill", repeats, inFlight)
	}
}
