package cli

import (
	"strings"
	"testing"
)

// TestConsoleTranscript: the console tells the bot's replies ("bot> ...")
// from the lines sent ("alice> ..."), shows what a reply quotes, and
// indents the continuation lines of a reply.
func TestConsoleTranscript(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "bot.yaml", `plugins:
  help: {}
rules:
  - name: thanks
    keyword: thank
    reply: You are welcome.
    quote: true
  - name: two lines
    full: two
    reply: "first\nsecond"
`)
	code, out, stderr := runCLI(t, "thank you\ntwo\n", "run", "-config", p, "-log-level", "warn")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	want := "alice> thank you\n" +
		"bot> | alice: thank you\n" +
		"bot> You are welcome.\n" +
		"alice> two\n" +
		"bot> first\n" +
		"     second\n"
	if out != want {
		t.Fatalf("transcript\n%s\nwant\n%s", out, want)
	}
}

// TestHandlerErrorLoggedOnce: a failing handler is one ERROR line, not one
// from the bot and another from the CLI.
func TestHandlerErrorLoggedOnce(t *testing.T) {
	p := writeFile(t, t.TempDir(), "bot.yaml", "rules:\n  - command: /say {w?}\n    reply: '{{index .Args 3}}'\n")
	code, _, stderr := runCLI(t, "/say\n", "run", "-config", p, "-log-level", "warn")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if n := strings.Count(stderr, "level=ERROR"); n != 1 || !strings.Contains(stderr, "index out of range") {
		t.Fatalf("%d ERROR lines, want 1:\n%s", n, stderr)
	}
}
