package dialog_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/openimbot/openimbot/bot"
	"github.com/openimbot/openimbot/bot/bottest"
	"github.com/openimbot/openimbot/config"
	"github.com/openimbot/openimbot/plugins"
	"github.com/openimbot/openimbot/plugins/dialog"
	"github.com/openimbot/openimbot/router"
)

const feedbackYAML = `plugins:
  dialog:
    timeout: 5m
    flows:
      - name: feedback
        command: /feedback
        steps:
          - key: rating
            ask: "How would you rate me, from 1 to 5?"
            number: true
            min: 1
            max: 5
            retry: "Please answer with a number from 1 to 5."
          - key: comment
            ask: "Thanks for the {{.rating}}! Anything to add?"
        reply: "Thank you, {{.Sender}}: {{.rating}}/5, {{printf \"%q\" .comment}}."
      - name: order
        command: order
        timeout: 1m
        cancel_message: "Order dropped."
        timeout_message: "Order timed out."
        steps:
          - key: size
            ask: "Size? small, medium or large"
            choices: [Small, Medium, Large]
          - key: code
            ask: "Discount code? (none, or 4 capitals)"
            regex: '^([A-Z]{4}|none)$'
          - key: qty
            ask: "How many?"
            number: true
            expr: 'Number == floor(Number) && (Answers.size != "Large" || Number <= 3)'
        reply: "{{.qty}} x {{.size}} ({{.code}})"
`

// newRouter builds the router a configuration file with the dialog plugin
// gives, routing every other message to "routed: TEXT".
func newRouter(t *testing.T, clk bot.Clock) *router.Router {
	t.Helper()
	cfg, err := config.Parse("bot.yaml", []byte(feedbackYAML), nil)
	if err != nil {
		t.Fatal(err)
	}
	r := router.New()
	if err := plugins.Setup(r, nil, cfg.Plugins, []plugins.Plugin{dialog.New(dialog.WithClock(clk))}, nil); err != nil {
		t.Fatal(err)
	}
	r.NotFound(bot.HandlerFunc(func(c *bot.Context) error { return c.Reply("routed: " + c.Text()) }))
	if err := r.Build(); err != nil {
		t.Fatal(err)
	}
	return r
}

// fast answers a test user in a hurry: the loop guard would take them for
// a bot's (an answer within a second of the bot's message).
var fast = bottest.WithBotOptions(bot.WithLoopGuard(0))

// talk says each line as user and checks the bot's reply to it.
func talk(t *testing.T, h *bottest.Harness, user string, lines ...string) {
	t.Helper()
	for i := 0; i < len(lines); i += 2 {
		h.Say(user, lines[i])
		if got := h.NextReplyText(); got != lines[i+1] {
			t.Fatalf("%s said %q: bot replied %q, want %q", user, lines[i], got, lines[i+1])
		}
	}
}

func TestTwoQuestions(t *testing.T) {
	clk := bottest.NewClock(t, time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC))
	h := bottest.Start(t, newRouter(t, clk), fast)
	talk(t, h, "alice",
		"/feedback", "How would you rate me, from 1 to 5?",
		"seven", "Please answer with a number from 1 to 5.",
		"9", "Please answer with a number from 1 to 5.",
		"4", "Thanks for the 4! Anything to add?",
		"/help", `Thank you, alice: 4/5, "/help".`, // in a dialog, a command is an answer
		"hello", "routed: hello", // the dialog is over
	)
}

func TestChecks(t *testing.T) {
	clk := bottest.NewClock(t, time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC))
	h := bottest.Start(t, newRouter(t, clk), fast)
	talk(t, h, "bob",
		"/order", "Size? small, medium or large",
		"huge", "That is not a valid answer.\nSize? small, medium or large",
		"LARGE", "Discount code? (none, or 4 capitals)",
		"abcd", "That is not a valid answer.\nDiscount code? (none, or 4 capitals)",
		"SAVE", "How many?",
		"4", "That is not a valid answer.\nHow many?", // expr: at most 3 large ones
		"2.5", "That is not a valid answer.\nHow many?",
		"3", "3 x Large (SAVE)",
	)
}

// TestRestartBetweenQuestions stops the bot between the two questions
// and starts a new one (new router, new plugin, same database file): the
// dialog continues at the second question with the first answer.
func TestRestartBetweenQuestions(t *testing.T) {
	clk := bottest.NewClock(t, time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC))
	h := bottest.Start(t, newRouter(t, clk), fast)
	talk(t, h, "alice",
		"/feedback", "How would you rate me, from 1 to 5?",
		"5", "Thanks for the 5! Anything to add?")
	h.RestartBot(newRouter(t, clk))
	clk.Advance(4 * time.Minute) // within the timeout
	talk(t, h, "alice", "Keep going", `Thank you, alice: 5/5, "Keep going".`)
	talk(t, h, "alice", "5", "routed: 5")
}

// TestTimeoutDuringDowntime: the deadline passes while the bot is down;
// the dialog ends with its timeout message when the bot handles its first
// message after the restart, and that message is routed as usual.
func TestTimeoutDuringDowntime(t *testing.T) {
	clk := bottest.NewClock(t, time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC))
	h := bottest.Start(t, newRouter(t, clk), fast)
	talk(t, h, "alice", "/feedback", "How would you rate me, from 1 to 5?")
	h.RestartBot(newRouter(t, clk))
	clk.Advance(6 * time.Minute)
	h.Say("alice", "3")
	got := []string{h.NextReplyText(), h.NextReplyText()}
	want := []string{dialog.DefaultTimeoutMessage, "routed: 3"}
	if got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestTimeoutAndCancel(t *testing.T) {
	clk := bottest.NewClock(t, time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC))
	h := bottest.Start(t, newRouter(t, clk), fast)
	talk(t, h, "alice", "/order", "Size? small, medium or large")
	clk.WaitTimers(1)
	clk.Advance(59 * time.Second)
	talk(t, h, "alice", "small", "Discount code? (none, or 4 capitals)") // the answer restarts the minute
	clk.Advance(59 * time.Second)
	if n := clk.Timers(); n != 1 {
		t.Fatalf("%d timers pending, want 1", n)
	}
	clk.Advance(time.Second)
	if got := h.NextReplyText(); got != "Order timed out." {
		t.Fatalf("got %q", got)
	}
	talk(t, h, "alice", "none", "routed: none")

	talk(t, h, "alice",
		"/feedback", "How would you rate me, from 1 to 5?",
		" CANCEL ", "Cancelled.",
		"4", "routed: 4",
		"/order", "Size? small, medium or large",
		"/cancel", "Order dropped.")
	if n := clk.Timers(); n != 0 {
		t.Fatalf("%d timers pending after the dialogs ended", n)
	}
}

// TestGroupOtherUserRouted: in a group, one member's dialog does not
// capture the others' messages.
func TestGroupOtherUserRouted(t *testing.T) {
	clk := bottest.NewClock(t, time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC))
	h := bottest.Start(t, newRouter(t, clk), fast)
	say := func(user, text, want string) {
		t.Helper()
		h.SayInGroup("team", user, text)
		m := h.NextReply()
		if m.Text() != want || m.GroupID != "team" {
			t.Fatalf("%s said %q: bot replied %q in %q, want %q in team", user, text, m.Text(), m.GroupID, want)
		}
	}
	say("alice", "/feedback", "How would you rate me, from 1 to 5?")
	say("bob", "5", "routed: 5")
	say("alice", "4", "Thanks for the 4! Anything to add?")
	say("bob", "/feedback", "How would you rate me, from 1 to 5?") // bob's own dialog
	say("alice", "fine", `Thank you, alice: 4/5, "fine".`)
	say("bob", "2", "Thanks for the 2! Anything to add?")
	say("alice", "hello", "routed: hello")
}

// TestConcurrentDialogs runs 100 dialogs in 100 conversations at once.
func TestConcurrentDialogs(t *testing.T) {
	clk := bottest.NewClock(t, time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC))
	h := bottest.Start(t, newRouter(t, clk), fast)
	const n = 100
	users := make([]string, n)
	for i := range users {
		users[i] = fmt.Sprintf("u%03d", i)
	}
	// Each round sends one line from every user at once; replies are
	// matched to users by their receiver.
	round := func(line func(i int) string, want func(i int) string) {
		t.Helper()
		got := h.SayEach(users, line, 30*time.Second)
		for i, u := range users {
			if got[u] != want(i) {
				t.Fatalf("%s: got %q, want %q", u, got[u], want(i))
			}
		}
	}
	round(func(int) string { return "/feedback" }, func(int) string { return "How would you rate me, from 1 to 5?" })
	round(func(i int) string { return fmt.Sprint(i%5 + 1) }, func(i int) string { return fmt.Sprintf("Thanks for the %d! Anything to add?", i%5+1) })
	round(func(i int) string { return fmt.Sprint("note ", i) }, func(i int) string {
		return fmt.Sprintf(`Thank you, %s: %d/5, "note %d".`, users[i], i%5+1, i)
	})
}

func TestLoadErrors(t *testing.T) {
	src := `plugins:
  dialog:
    flows:
      - name: a
        command: /a
        steps:
          - key: x
            ask: "x?"
            regex: '(['
          - key: x
            ask: "{{.nope}}"
            min: 3
          - key: Sender
            ask: "y"
            expr: 'Answer +'
        reply: "{{.x}} {{.z}}"
      - name: b
        command: a
        steps: []
        reply: ok
`
	cfg, err := config.Parse("d.yaml", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	err = plugins.Setup(router.New(), nil, cfg.Plugins, []plugins.Plugin{dialog.New()}, nil)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		`d.yaml:9:20: dialog: flow "a" step 1: invalid regex`,
		`d.yaml:10:18: dialog: flow "a" step 2: key "x" is used by an earlier step`,
		`d.yaml:11:18: dialog: flow "a" step 2: template: `,
		`map has no entry for key "nope"`,
		`d.yaml:12:18: dialog: flow "a" step 2: min and max need number: true`,
		`d.yaml:13:18: dialog: flow "a" step 3: key "Sender" is reserved`,
		`d.yaml:15:19: dialog: flow "a" step 3: invalid expr`,
		`d.yaml:16:16: dialog: flow "a": template: `,
		`d.yaml:18:18: dialog: flow "b": command /a starts another flow too`,
		`d.yaml:19:16: dialog: flow "b": needs at least one step`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q", want)
		}
	}
	if t.Failed() {
		t.Log(err)
	}
}

// TestReloadOneTimeout: after a configuration reload (a new router with a
// new plugin swapped in) the dialogs' timeouts belong to the new plugin:
// a dialog that times out says so once, not once per load.
func TestReloadOneTimeout(t *testing.T) {
	clk := bottest.NewClock(t, time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC))
	live := router.NewLive(newRouter(t, clk))
	h := bottest.Start(t, live, fast)
	talk(t, h, "alice", "/feedback", "How would you rate me, from 1 to 5?")
	if _, err := live.Swap(newRouter(t, clk)); err != nil {
		t.Fatal(err)
	}
	talk(t, h, "bob", "hi", "routed: hi") // the new plugin takes over
	clk.WaitTimers(2)                     // the old plugin's timer and the new one's
	clk.Advance(5 * time.Minute)
	if got := h.NextReplyText(); got != dialog.DefaultTimeoutMessage {
		t.Fatalf("got %q", got)
	}
	talk(t, h, "alice", "4", "routed: 4") // not a second timeout message
}
