package cli

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestExampleFeedbackDialog runs the /feedback dialog of config.example.yaml
// as the README's set-up command does: two questions, a rejected answer,
// and the final reply built from the answers.
func TestExampleFeedbackDialog(t *testing.T) {
	code, out, stderr := runCLI(t, "/feedback\n9\n4\ngreat\n", "run", "-config", "../config.example.yaml", "-log-level", "warn")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	rest := out
	for _, want := range []string{
		"How would you rate me, from 1 to 5?",
		"Please answer with a number from 1 to 5.",
		"Thanks for the 4! Anything you would like to add?",
		`Thank you, alice: 4/5 and "great" are noted.`,
	} {
		i := strings.Index(rest, want)
		if i < 0 {
			t.Fatalf("output lacks %q (in order):\n%s", want, out)
		}
		rest = rest[i+len(want):]
	}
}

// TestExampleCommentedSchedule: the schedule commented out in
// config.example.yaml loads once uncommented, and check lists it.
func TestExampleCommentedSchedule(t *testing.T) {
	data, err := os.ReadFile("../config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	start := -1
	for i, l := range lines {
		if l == "# schedules:" {
			start = i
			break
		}
	}
	if start < 0 {
		t.Fatal("config.example.yaml has no commented schedules: section")
	}
	for i := start; i < len(lines) && strings.HasPrefix(lines[i], "#"); i++ {
		lines[i] = strings.TrimPrefix(strings.TrimPrefix(lines[i], "#"), " ")
	}
	p := writeFile(t, t.TempDir(), "bot.yaml", strings.Join(lines, "\n"))
	code, out, stderr := runCLI(t, "", "check", "-config", p)
	if code != exitOK {
		t.Fatalf("exit %d: %s\n%s", code, stderr, out)
	}
	if !regexp.MustCompile(`(?m)^  standup +cron "55 8 \* \* 1-5" Europe/Paris +group:team +run once `).MatchString(out) {
		t.Fatalf("check does not list the standup schedule:\n%s", out)
	}
}
