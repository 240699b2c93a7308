package cli

import (
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
