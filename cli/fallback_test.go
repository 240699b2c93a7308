package cli

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/openimbot/openimbot/internal/testchild"
	"github.com/openimbot/openimbot/sandbox"
)

// TestRunFallbackKeys runs `openimbot run` in gateway mode with
// openim.fallback: poll against a websocket address nobody listens on and a
// sandbox's HTTP API: openim.fallback_after and openim.fallback_retry from
// the file reach the bot (its switch log names them), and the bot answers a
// user's message by polling.
func TestRunFallbackKeys(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadWS := ln.Addr().String()
	ln.Close()
	api, admin, apiURL := sandboxForCarol(t)
	dir := t.TempDir()
	p := writeFile(t, dir, "fb.yaml", fmt.Sprintf(`openim:
  ws_addr: ws://%s
  api_addr: %s
  admin_secret: %s
  fallback: poll
  fallback_after: 2
  fallback_retry: 7m
  poll: {interval: 50ms}
storage: {path: %s}
rules:
  - {full: ping, reply: pong by polling}
`, deadWS, apiURL, sandbox.DefaultSecret, filepath.Join(dir, "fb.db")))
	sigs := make(chan os.Signal, 1)
	var out, errOut testchild.Buffer
	c := &cli{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut, signals: sigs}
	done := make(chan int, 1)
	go func() { done <- c.main([]string{"run", "-config", p}) }()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(errOut.String(), "receiving by HTTP polling") {
		select {
		case code := <-done:
			t.Fatalf("exit %d: %s", code, errOut.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no switch to polling; log:\n%s", errOut.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	var line string
	for _, l := range strings.Split(errOut.String(), "\n") {
		if strings.Contains(l, "receiving by HTTP polling") {
			line = l
		}
	}
	if !strings.Contains(line, "failed_dials=2") || !strings.Contains(line, "retry=7m0s") {
		t.Fatalf("switch log does not carry the file's keys: %s", line)
	}
	sendPing(t, api, admin, "bot")
	waitAnswer(t, api, admin, "bot", "pong by polling", deadline, &errOut)
	sigs <- syscall.SIGINT
	if code := <-done; code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
}
