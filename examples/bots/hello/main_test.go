package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/openimbot/openimbot/internal/testchild"
	"github.com/openimbot/openimbot/sandbox"
)

func TestMain(m *testing.M) {
	if os.Getenv("HELLO_BE_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// runHello starts the program in dir with env, waits for it to be
// connected and in sync (its log says so: a message sent before its
// first sync is backlog, which the default policy skips), runs during, then sends SIGTERM and checks
// that it exits 0.
func runHello(t *testing.T, env []string, during func()) string {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Dir = t.TempDir() // bot1.db goes there
	cmd.Env = append(append(os.Environ(), "HELLO_BE_MAIN=1"), env...)
	var logs testchild.Buffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(logs.String(), "msg=\"ready: connected and in sync\"") {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("not connected:\n%s", logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	during()
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("after SIGTERM: %v\n%s", err, logs.String())
	}
	return logs.String()
}

// TestServerFromEnvironment: with OPENIM_* set the bot connects there, logs
// to stderr, answers, and exits 0 on SIGTERM.
func TestServerFromEnvironment(t *testing.T) {
	sb, err := sandbox.Start(context.Background(), sandbox.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	replies, unsubscribe := sb.Subscribe(16)
	defer unsubscribe()
	runHello(t, []string{"OPENIM_WS_ADDR=" + sb.WSURL(), "OPENIM_API_ADDR=" + sb.APIURL(), "OPENIM_ADMIN_SECRET=" + sandbox.DefaultSecret}, func() {
		if err := sb.RegisterUser("alice", "Alice"); err != nil {
			t.Fatal(err)
		}
		if _, err := sb.SendText("alice", "bot1", "/ping"); err != nil {
			t.Fatal(err)
		}
		timeout := time.After(10 * time.Second)
		for {
			select {
			case m := <-replies:
				if m.SendID == "bot1" && m.Text() == "pong" {
					return
				}
			case <-timeout:
				t.Fatal("no pong")
			}
		}
	})
}

// TestEmbeddedSandbox: with nothing set, one command runs the bot on an
// embedded sandbox at the addresses `openimbot chat` uses by default.
func TestEmbeddedSandbox(t *testing.T) {
	for _, a := range []string{"127.0.0.1:10001", "127.0.0.1:10002"} {
		l, err := net.Listen("tcp", a)
		if err != nil {
			t.Skipf("%s is taken: %v", a, err)
		}
		l.Close()
	}
	logs := runHello(t, []string{"OPENIM_WS_ADDR=", "OPENIM_API_ADDR=", "OPENIM_ADMIN_SECRET="}, func() {})
	if !strings.Contains(logs, "embedded sandbox") {
		t.Fatalf("logs:\n%s", logs)
	}
}

// TestREADME: the README's Go example is this program.
func TestREADME(t *testing.T) {
	readme, err := os.ReadFile("../../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	code := string(src[bytes.Index(src, []byte("package main")):])
	if !strings.Contains(string(readme), "```go\n"+code+"```\n") {
		t.Fatal("the README's Go example differs from examples/bots/hello/main.go")
	}
}
