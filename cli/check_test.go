package cli

import (
	"strings"
	"testing"
)

// TestCheckExampleIsClean: the example configuration has no findings and
// no notes, and check shows each rule's name (not its description) in the
// NAME column.
func TestCheckExampleIsClean(t *testing.T) {
	code, out, stderr := runCLI(t, "", "check", "-config", "../config.example.yaml")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(out, "no overlaps or shadowed routes") || strings.Contains(out, "findings") || strings.Contains(out, "notes") {
		t.Fatalf("the example has findings or notes:\n%s", out)
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, `Command("weather {city}")`) {
			if f := strings.Fields(line); len(f) < 4 || f[3] != "weather" {
				t.Fatalf("NAME of the weather rule in %q, want weather", line)
			}
			return
		}
	}
	t.Fatalf("no weather route in:\n%s", out)
}

// TestCheckFindingsNameTheirSourceOnce: a finding's line starts with the
// route's location and does not repeat it; the route it conflicts with is
// named with its own location.
func TestCheckFindingsNameTheirSourceOnce(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "dup.yaml", "rules:\n  - name: a\n    full: hi\n    reply: x\n  - name: b\n    full: hi\n    reply: y\n")
	code, out, stderr := runCLI(t, "", "check", "-config", p)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var line string
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "duplicate") {
			line = strings.TrimSpace(l)
		}
	}
	want := p + ":5:5: duplicate: route b (FullFold(\"hi\")) duplicates route a (FullFold(\"hi\")) at " + p + ":2:5"
	if line != want {
		t.Fatalf("finding\n%q\nwant\n%q", line, want)
	}
}

// TestCheckNotesMarkdown: a markdown rule gets a note (OpenIM v3.8 clients
// do not show content type 118) unless the autoreply plugin sends markdown
// as text.
func TestCheckNotesMarkdown(t *testing.T) {
	dir := t.TempDir()
	rules := "rules:\n  - name: md\n    full: hi\n    markdown: '**hi**'\n"
	p := writeFile(t, dir, "md.yaml", rules)
	_, out, _ := runCLI(t, "", "check", "-config", p)
	if want := p + `:4:15: rule "md" replies in markdown (content type 118), which clients on the OpenIM v3.8 SDKs do not show`; !strings.Contains(out, want) {
		t.Fatalf("no markdown note %q in:\n%s", want, out)
	}
	p = writeFile(t, dir, "md2.yaml", "plugins:\n  autoreply:\n    markdown_as_text: true\n"+rules)
	if _, out, _ := runCLI(t, "", "check", "-config", p); strings.Contains(out, "notes") {
		t.Fatalf("a note with markdown_as_text:\n%s", out)
	}
}
