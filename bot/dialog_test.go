package bot_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/openimbot/openimbot/bot"
	"github.com/openimbot/openimbot/bot/bottest"
	"github.com/openimbot/openimbot/content"
)

// weather is a two-question dialog; any other message is answered
// "routed: TEXT", as a router would.
func weather(opts ...bot.WaitOption) bot.Handler {
	return bot.HandlerFunc(func(c *bot.Context) error {
		if c.Text() != "/weather" {
			return c.Reply("routed: " + c.Text())
		}
		city, err := c.Ask("Which city?", opts...)
		switch {
		case errors.Is(err, bot.ErrWaitTimeout):
			return c.Reply("Too slow.")
		case errors.Is(err, bot.ErrWaitCanceled):
			return city.Reply("Cancelled.")
		case err != nil:
			return err
		}
		days, err := city.Ask("How many days?", opts...)
		switch {
		case errors.Is(err, bot.ErrWaitTimeout):
			return city.Reply("Too slow.")
		case errors.Is(err, bot.ErrWaitCanceled):
			return days.Reply("Cancelled.")
		case err != nil:
			return err
		}
		return days.Reply(fmt.Sprintf("Sunny in %s for %s days.", city.Text(), days.Text()))
	})
}

// fast answers a test user in a hurry: the loop guard would take them for
// a bot's (an answer within a second of the bot's message).
var fast = bottest.WithBotOptions(bot.WithLoopGuard(0))

func expect(t *testing.T, h *bottest.Harness, want ...string) {
	t.Helper()
	for _, w := range want {
		if got := h.NextReplyText(); got != w {
			t.Fatalf("bot replied %q, want %q", got, w)
		}
	}
}

func TestDialogTwoQuestions(t *testing.T) {
	h := bottest.Start(t, weather(), fast)
	h.Say("alice", "/weather")
	expect(t, h, "Which city?")
	h.Say("alice", "Paris")
	expect(t, h, "How many days?")
	h.Say("alice", "3")
	expect(t, h, "Sunny in Paris for 3 days.")
	h.Say("alice", "hello")
	expect(t, h, "routed: hello")
}

// TestDialogOrder: two answers sent back to back go to the two questions
// in order: the conversation's next message waits until the handler has
// asked again.
func TestDialogOrder(t *testing.T) {
	h := bottest.Start(t, weather(), fast)
	h.Say("alice", "/weather")
	expect(t, h, "Which city?")
	h.Say("alice", "Oslo")
	h.Say("alice", "5")
	h.Say("alice", "after")
	expect(t, h, "How many days?", "Sunny in Oslo for 5 days.", "routed: after")
}

func TestDialogTimeoutAndCancel(t *testing.T) {
	clk := bottest.NewClock(t, time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC))
	h := bottest.Start(t, weather(bot.WaitTimeout(time.Minute)), fast, bottest.WithBotOptions(bot.WithClock(clk)))
	h.Say("alice", "/weather")
	expect(t, h, "Which city?")
	clk.WaitTimers(1)
	clk.Advance(59 * time.Second)
	h.Say("alice", "Rome")
	expect(t, h, "How many days?")
	clk.WaitTimers(1)
	clk.Advance(time.Minute)
	expect(t, h, "Too slow.")
	h.Say("alice", "4")
	expect(t, h, "routed: 4")

	h.Say("alice", "/weather")
	expect(t, h, "Which city?")
	h.Say("alice", " CANCEL ")
	expect(t, h, "Cancelled.")
	h.Say("alice", "/weather")
	expect(t, h, "Which city?")
	h.Say("alice", "Lima")
	expect(t, h, "How many days?")
	h.Say("alice", "/cancel")
	expect(t, h, "Cancelled.")
	h.Say("alice", "x")
	expect(t, h, "routed: x")
	if n := clk.Timers(); n != 0 {
		t.Errorf("%d timers left", n)
	}
}

// TestDialogGroupOtherUser: while alice's dialog waits in a group, bob's
// messages in that group are routed as usual.
func TestDialogGroupOtherUser(t *testing.T) {
	h := bottest.Start(t, weather(), fast)
	say := func(user, text, want string) {
		t.Helper()
		h.SayInGroup("team", user, text)
		m := h.NextReply()
		if m.Text() != want || m.GroupID != "team" {
			t.Fatalf("%s said %q: bot replied %q in %q, want %q in team", user, text, m.Text(), m.GroupID, want)
		}
	}
	say("alice", "/weather", "Which city?")
	say("bob", "Berlin", "routed: Berlin")
	say("alice", "Madrid", "How many days?")
	say("bob", "/weather", "Which city?") // bob's own dialog, beside alice's
	say("alice", "2", "Sunny in Madrid for 2 days.")
	say("bob", "Vienna", "How many days?")
	say("alice", "hi", "routed: hi")
	say("bob", "1", "Sunny in Vienna for 1 days.")
}

// TestDialogsConcurrent runs 100 dialogs in 100 conversations at once on 4
// workers: waiting handlers do not hold their shards.
func TestDialogsConcurrent(t *testing.T) {
	h := bottest.Start(t, weather(), fast, bottest.WithBotOptions(bot.WithWorkers(4)))
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
	round(func(int) string { return "/weather" }, func(int) string { return "Which city?" })
	round(func(i int) string { return fmt.Sprint("city", i) }, func(int) string { return "How many days?" })
	round(func(i int) string { return fmt.Sprint(i) }, func(i int) string { return fmt.Sprintf("Sunny in city%d for %d days.", i, i) })
}

// TestDialogShutdown: a graceful stop does not wait for a dialog's
// timeout: the waiting handler gets ErrClosed.
func TestDialogShutdown(t *testing.T) {
	got := make(chan error, 1)
	h := bottest.Start(t, bot.HandlerFunc(func(c *bot.Context) error {
		_, err := c.Ask("Which city?", bot.WaitTimeout(time.Hour))
		got <- err
		return nil
	}))
	h.Say("alice", "/weather")
	expect(t, h, "Which city?")
	if err := h.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := <-got; !errors.Is(err, bot.ErrClosed) {
		t.Fatalf("Wait returned %v, want ErrClosed", err)
	}
}

// TestDialogMatchAndBusy: WaitMatch leaves other messages to the chain; a
// second Wait for the same user and conversation fails.
func TestDialogMatchAndBusy(t *testing.T) {
	second := make(chan error, 1)
	h := bottest.Start(t, bot.HandlerFunc(func(c *bot.Context) error {
		switch c.Text() {
		case "/pick":
			n, err := c.Ask("A number?", bot.WaitMatch(func(m *content.Message) bool {
				if m.Text() == "boom" {
					panic("a filter that panics")
				}
				_, err := fmt.Sscan(m.Text(), new(int))
				return err == nil
			}))
			if err != nil {
				return err
			}
			return n.Reply("Picked " + n.Text())
		case "/again":
			_, err := c.Wait()
			second <- err
			return nil
		}
		return c.Reply("routed: " + c.Text())
	}), fast)
	h.Say("alice", "/pick")
	expect(t, h, "A number?")
	h.Say("alice", "seven")
	expect(t, h, "routed: seven")
	h.Say("alice", "boom")
	expect(t, h, "routed: boom")
	h.Say("alice", "/again") // not a number: routed, and its Wait finds /pick's
	if err := <-second; !errors.Is(err, bot.ErrAlreadyWaiting) {
		t.Fatalf("second Wait: %v", err)
	}
	h.Say("alice", "7")
	expect(t, h, "Picked 7")

	if _, err := bot.NewContext(t.Context(), &content.Message{}, "bot").Wait(); !errors.Is(err, bot.ErrCannotWait) {
		t.Fatalf("Wait on NewContext: %v", err)
	}
}
