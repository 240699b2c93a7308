package bot_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openimbot/openimbot/bot"
	"github.com/openimbot/openimbot/content"
	"github.com/openimbot/openimbot/sandbox"
	"github.com/openimbot/openimbot/storage"
)

const killChildEnv = "OPENIMBOT_BOT_KILL_CHILD"

// TestKillChild is the bot process of TestSIGKILLRestart; it is skipped
// unless that test runs it. It appends "conversation seq" to a file with
// O_APPEND and fsync before its handler returns, and stops when its stdin
// is closed.
func TestKillChild(t *testing.T) {
	if os.Getenv(killChildEnv) == "" {
		t.Skip("runs only as the child process of TestSIGKILLRestart")
	}
	ws, api, dbPath, out := os.Getenv("KC_WS"), os.Getenv("KC_API"), os.Getenv("KC_DB"), os.Getenv("KC_OUT")
	f, err := os.OpenFile(out, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := bot.New(
		bot.WithGateway(ws), bot.WithUser("bot"), bot.WithAdminSecret(api, sandbox.DefaultSecret),
		bot.WithStorage(dbPath), bot.WithBacklog(bot.BacklogAll), fastReconnect(),
		bot.WithHandler(bot.HandlerFunc(func(c *bot.Context) error {
			m := c.Message()
			if _, err := f.Write([]byte(fmt.Sprintf("%s %d\n", m.ConversationID, m.Seq))); err != nil {
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

type child struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   bytes.Buffer
}

func startChild(t *testing.T, env []string) *child {
	t.Helper()
	c := &child{cmd: exec.Command(os.Args[0], "-test.run=^TestKillChild$", "-test.count=1", "-test.v")}
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

func readHandled(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			lines = append(lines, l)
		}
	}
	return lines
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
	c1 := startChild(t, env)
	deadline := time.Now().Add(30 * time.Second)
	for len(readHandled(t, out)) < 300 {
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

	// What was in flight: handled lines above the durable watermark.
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

	send(during) // while the bot is down
	c2 := startChild(t, env)
	defer func() {
		_ = c2.stdin.Close()
		if err := c2.cmd.Wait(); err != nil {
			t.Errorf("second child: %v; output:\n%s", err, c2.out.String())
		}
	}()
	total := before + during
	deadline = time.Now().Add(40 * time.Second)
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
			t.Fatalf("after the restart %d of %d messages handled; output:\n%s", len(seen), total, c2.out.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
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
