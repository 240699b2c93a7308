package cli

import (
	"regexp"
	"strings"
	"testing"
)

// TestScheduleErrors: a bad cron expression or template in the schedules
// list exits 2 at load, naming the file, line and column.
func TestScheduleErrors(t *testing.T) {
	tests := []configErrorCase{
		{"bad cron", "schedules:\n  - name: standup\n    cron: '0 25 * * *'\n    send: {to: 'group:team', text: hi}\n",
			`:3:11: schedule "standup": cron "0 25 * * *": `},
		{"bad template", "schedules:\n  - name: tick\n    every: 1h\n    send:\n      to: user:alice\n      text: '{{.Hour}}'\n",
			`:6:13: schedule "tick": template: `},
		{"bad target", "schedules:\n  - name: tick\n    every: 1h\n    send: {to: alice, text: hi}\n",
			`:4:16: schedule "tick": send.to: want user:ID or group:ID`},
	}
	checkConfigErrors(t, tests)
}

// TestDialogConsole runs a dialog flow from the console.
func TestDialogConsole(t *testing.T) {
	p := writeFile(t, t.TempDir(), "bot.yaml", `plugins:
  dialog:
    flows:
      - name: feedback
        command: /feedback
        steps:
          - {key: rating, ask: "Rate me, 1 to 5?", number: true, min: 1, max: 5}
          - {key: comment, ask: "Anything to add?"}
        reply: "Thanks: {{.rating}}, {{.comment}}."
schedules:
  - name: tick
    every: 24h
    send: {to: "user:alice", text: "daily"}
`)
	code, out, stderr := runCLI(t, "/feedback\n6\n4\nall good\n", "run", "-config", p, "-log-level", "warn")
	if code != exitOK {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	// The bot's replies, in this order.
	rest := out
	for _, want := range []string{"Rate me, 1 to 5?", "That is not a valid answer.", "Rate me, 1 to 5?", "Anything to add?", "Thanks: 4, all good."} {
		i := strings.Index(rest, want)
		if i < 0 {
			t.Fatalf("output lacks %q (in order):\n%s", want, out)
		}
		rest = rest[i+len(want):]
	}
}

// TestCheckListsSchedules: check lists the schedules with their next run.
func TestCheckListsSchedules(t *testing.T) {
	p := writeFile(t, t.TempDir(), "s.yaml", `schedules:
  - name: standup
    cron: "55 8 * * 1-5"
    timezone: UTC
    send: {to: "group:team", text: "Stand-up"}
  - name: tick
    every: 30m
    missed: skip
    send: {to: "user:alice", text: "tick"}
`)
	code, out, stderr := runCLI(t, "", "check", "-config", p)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, re := range []string{
		`(?m)^schedules \(2\):$`,
		`(?m)^  standup +cron "55 8 \* \* 1-5" UTC +group:team +run once +20\d\d-\d\d-\d\d 08:55 UTC$`,
		`(?m)^  tick +every 30m0s +user:alice +skip +every 30m0s from the first start$`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("check output does not match %s:\n%s", re, out)
		}
	}
}
