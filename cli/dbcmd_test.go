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
