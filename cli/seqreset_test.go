package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/openimbot/openimbot/internal/testchild"
	"github.com/openimbot/openimbot/sandbox"
	"github.com/openimbot/openimbot/transport"
)

// TestRunSeqReset runs `openimbot run` with a persistent database against
// `openimbot sandbox` without -db, then against a new sandbox (a reset: its
// seqs start again at 1). With the default sync.seq_reset (resync) the bot
// logs the reset as an error and answers the new sandbox's first message;
// with keep it logs the reset and ignores messages up to its watermark.
func TestRunSeqReset(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "bot.db")
	// round starts a sandbox, runs the bot on it with extra YAML, sends n
	// pings from carol and returns the bot's log and how many were answered.
	round := func(extra string, n int, wantAnswers int) string {
		t.Helper()
		apiURL, stop := startSandboxCmd(t)
		defer stop()
		ctx := context.Background()
		api, _ := transport.NewAPI(apiURL)
		admin, err := api.GetAdminToken(ctx, sandbox.DefaultSecret, "")
		if err != nil {
			t.Fatal(err)
		}
		if err := api.UserRegister(ctx, admin, transport.UserInfo{UserID: "carol", Nickname: "Carol"}); err != nil {
			t.Fatal(err)
		}
		p := writeFile(t, dir, "bot.yaml", fmt.Sprintf(`openim:
  api_addr: %s
  admin_secret: %s
  receive: poll
  poll: {interval: 50ms}
storage: {path: %s}
%srules:
  - {full: ping, reply: pong}
`, apiURL, sandbox.DefaultSecret, dbPath, extra))
		sigs := make(chan os.Signal, 1)
		ready := make(chan struct{})
		var out, errOut testchild.Buffer
		c := &cli{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut, signals: sigs, onReady: func() { close(ready) }}
		done := make(chan int, 1)
		go func() { done <- c.main([]string{"run", "-config", p}) }()
		waitReady(t, ready, done, &errOut)
		carol, err := api.GetUserToken(ctx, admin, "carol", 7)
		if err != nil {
			t.Fatal(err)
		}
		const conv = "si_bot_carol"
		answers := func() int {
			res, err := api.PullRange(ctx, carol, "carol", []transport.SeqRange{{ConversationID: conv, Begin: 1, End: 100}})
			if err != nil {
				t.Fatal(err)
			}
			k := 0
			for _, m := range res[conv].Messages {
				if m.SendID == "bot" {
					k++
				}
			}
			return k
		}
		body, _ := json.Marshal(map[string]string{"content": "ping"})
		for range n {
			if _, err := api.SendMsg(ctx, admin, transport.AdminSend{SendID: "carol", RecvID: "bot", Content: body, ContentType: 101, SessionType: 1}); err != nil {
				t.Fatal(err)
			}
		}
		deadline := time.Now().Add(10 * time.Second)
		for answers() < wantAnswers {
			if time.Now().After(deadline) {
				t.Fatalf("%d of %d answers; bot log:\n%s", answers(), wantAnswers, errOut.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
		if wantAnswers == 0 {
			time.Sleep(time.Second) // a wrong answer would come within a few polls
		}
		if got := answers(); got != wantAnswers {
			t.Fatalf("%d answers, want %d; bot log:\n%s", got, wantAnswers, errOut.String())
		}
		sigs <- syscall.SIGINT
		if code := <-done; code != exitOK {
			t.Fatalf("exit %d: %s", code, errOut.String())
		}
		return errOut.String()
	}
	// Three pings and three answers: the watermark of si_bot_carol is 6.
	if log := round("", 3, 3); strings.Contains(log, "level=ERROR") {
		t.Fatalf("errors on a first start:\n%s", log)
	}
	// A new sandbox: seqs 1 and 2 are below the watermark.
	log := round("", 1, 1)
	if !strings.Contains(log, "level=ERROR") || !strings.Contains(log, "si_bot_carol") {
		t.Fatalf("the reset was not logged as an error naming the conversation:\n%s", log)
	}
	// After the resync the watermark is the new server's (2), so a third
	// sandbox with keep sees 0 < 2 and keeps the watermark: its first
	// message (seq 1) is ignored.
	log = round("sync: {seq_reset: keep}\n", 1, 0)
	if !strings.Contains(log, "level=ERROR") {
		t.Fatalf("the reset under keep was not logged:\n%s", log)
	}
}
