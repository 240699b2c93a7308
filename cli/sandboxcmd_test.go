package cli

import (
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/openimbot/openimbot/internal/testchild"
)

// runSandbox runs `openimbot sandbox args...` until it has started, then
// stops it with SIGTERM, and returns its stderr.
func runSandbox(t *testing.T, args ...string) string {
	t.Helper()
	var out, errOut testchild.Buffer
	sigs := make(chan os.Signal, 1)
	c := &cli{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut, signals: sigs}
	done := make(chan int, 1)
	go func() { done <- c.main(append([]string{"sandbox"}, args...)) }()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "OpenIM sandbox:") {
		select {
		case code := <-done:
			t.Fatalf("exit %d: %s", code, errOut.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the sandbox did not start")
		}
		time.Sleep(5 * time.Millisecond)
	}
	sigs <- syscall.SIGTERM
	if code := <-done; code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	return errOut.String()
}

// TestSandboxWarnsOfDefaultSecretBeyondLoopback: listening beyond this
// machine with the well-known default secret gets a warning; loopback, or a
// secret of one's own, does not.
func TestSandboxWarnsOfDefaultSecretBeyondLoopback(t *testing.T) {
	const warning = "the sandbox listens beyond this machine with the default secret"
	if s := runSandbox(t, "-ws", "0.0.0.0:0", "-api", "127.0.0.1:0"); !strings.Contains(s, warning) {
		t.Errorf("no warning on 0.0.0.0:\n%s", s)
	}
	if s := runSandbox(t, "-ws", "127.0.0.1:0", "-api", "localhost:0"); strings.Contains(s, warning) {
		t.Errorf("a warning on loopback:\n%s", s)
	}
	if s := runSandbox(t, "-ws", "0.0.0.0:0", "-api", "0.0.0.0:0", "-secret", "s3cret-of-mine"); strings.Contains(s, warning) {
		t.Errorf("a warning with a secret of one's own:\n%s", s)
	}
}

// TestSandboxSaysHowToChat: the sandbox's banner gives the chat command for
// its addresses.
func TestSandboxSaysHowToChat(t *testing.T) {
	var out, errOut testchild.Buffer
	sigs := make(chan os.Signal, 1)
	c := &cli{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut, signals: sigs}
	done := make(chan int, 1)
	go func() { done <- c.main([]string{"sandbox", "-ws", "127.0.0.1:0", "-api", "127.0.0.1:0"}) }()
	waitFor(t, &out, "openimbot chat -to BOT_USER_ID -ws ws://127.0.0.1:", 1)
	sigs <- syscall.SIGTERM
	if code := <-done; code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
}

// TestSandboxHelp: the sandbox's flags do not mention configuration keys
// of a file it does not read.
func TestSandboxHelp(t *testing.T) {
	code, _, stderr := runCLI(t, "", "sandbox", "-h")
	if code != exitOK || !strings.Contains(stderr, "-log-format") || strings.Contains(stderr, "log.format") || strings.Contains(stderr, "log.level") {
		t.Fatalf("exit %d, help:\n%s", code, stderr)
	}
}
