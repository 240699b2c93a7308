package cli

import (
	"net"
	"strings"
	"testing"
)

// TestDBStatsEmptyFile: an empty file is reported as not a database, not
// with a system error.
func TestDBStatsEmptyFile(t *testing.T) {
	p := writeFile(t, t.TempDir(), "empty.db", "")
	code, _, stderr := runCLI(t, "", "db", "stats", "-db", p)
	if code != exitRuntime || !strings.Contains(stderr, "not an openimbot database: the file is empty") || strings.Contains(stderr, "bad file descriptor") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
}

// TestRunStorageErrorBeforeSandbox: with the embedded sandbox, a database
// that cannot be opened is reported before the sandbox starts.
func TestRunStorageErrorBeforeSandbox(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "bot.yaml", "storage:\n  path: "+dir+"/missing/bot.db\n")
	code, _, stderr := runCLI(t, "", "run", "-config", p, "-log-level", "info")
	if code != exitRuntime || !strings.Contains(stderr, "no such file or directory") || strings.Contains(stderr, "sandbox started") {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
}

// TestRunMaxReconnects: openim.max_reconnects makes run give up (exit 1)
// after that many failed attempts; by default it would keep trying.
func TestRunMaxReconnects(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	p := writeFile(t, t.TempDir(), "bot.yaml", "openim:\n  ws_addr: ws://"+addr+"\n  token: t\n  max_reconnects: 1\nstorage:\n  path: "+t.TempDir()+"/bot.db\n")
	code, _, stderr := runCLI(t, "", "run", "-config", p)
	if code != exitRuntime || !strings.Contains(stderr, "reconnect attempts exhausted") {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
}
