package schedule_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openimbot/openimbot/bot"
	"github.com/openimbot/openimbot/bot/bottest"
	"github.com/openimbot/openimbot/config"
	"github.com/openimbot/openimbot/schedule"
)

// echo answers every message with its text, so that a test can put a
// marker into the bot's reply stream.
var echo = bot.HandlerFunc(func(c *bot.Context) error { return c.Reply("echo " + c.Text()) })

// monday0859 is Monday 5 January 2026, 08:59 UTC.
var monday0859 = time.Date(2026, 1, 5, 8, 59, 0, 0, time.UTC)

// runScheduler starts s.Run and returns a function that stops it and
// waits for it (and for its runs in progress).
func runScheduler(t *testing.T, s *schedule.Scheduler) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func standup(t *testing.T) schedule.Job {
	t.Helper()
	send, err := schedule.Message(bot.ToUser("alice"), "stand-up {{.Date}} {{.Clock}} {{.Weekday}}{{if .Missed}} (missed){{end}}", false)
	if err != nil {
		t.Fatal(err)
	}
	return schedule.Job{Name: "standup", Cron: "0 9 * * 1-5", Location: time.UTC, Func: send}
}

func newScheduler(t *testing.T, h *bottest.Harness, clk bot.Clock, jobs ...schedule.Job) *schedule.Scheduler {
	t.Helper()
	ledger := schedule.NamespaceLedger(h.Bot().DB().Namespace(schedule.Namespace))
	s := schedule.New(h.Bot(), ledger, schedule.WithClock(clk),
		schedule.WithOnError(func(err error) {
			if !errors.Is(err, context.Canceled) { // a send cut short by the test's end
				t.Errorf("scheduler: %v", err)
			}
		}))
	for _, j := range jobs {
		if err := s.Add(j); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func TestCronFiresOnFakeClock(t *testing.T) {
	clk := bottest.NewClock(t, monday0859)
	h := bottest.Start(t, echo, bottest.WithUsers("alice"))
	runScheduler(t, newScheduler(t, h, clk, standup(t)))

	clk.WaitTimers(1)
	if next, _ := clk.Next(); !next.Equal(monday0859.Add(time.Minute)) {
		t.Fatalf("next run at %v, want 09:00", next)
	}
	clk.Advance(59 * time.Second)
	h.Say("alice", "marker") // nothing may have been sent before 09:00
	if got := h.NextReplyText(); got != "echo marker" {
		t.Fatalf("before 09:00 the bot sent %q", got)
	}
	clk.Advance(time.Second)
	m := h.NextReply()
	if m.Text() != "stand-up 2026-01-05 09:00 Monday" || m.RecvID != "alice" {
		t.Fatalf("got %q to %q", m.Text(), m.RecvID)
	}
	// Friday's run is followed by Monday's: no weekend runs.
	clk.WaitTimers(1)
	clk.Set(time.Date(2026, 1, 9, 9, 0, 0, 0, time.UTC))
	if got := h.NextReplyText(); got != "stand-up 2026-01-09 09:00 Friday" {
		t.Fatalf("got %q", got) // the runs of Tuesday to Thursday were passed in one step: one run
	}
	clk.WaitTimers(1)
	if next, _ := clk.Next(); !next.Equal(time.Date(2026, 1, 12, 9, 0, 0, 0, time.UTC)) {
		t.Fatalf("after Friday the next run is at %v, want Monday 12th", next)
	}
}

func TestTimezone(t *testing.T) {
	clk := bottest.NewClock(t, monday0859)
	h := bottest.Start(t, echo, bottest.WithUsers("alice"))
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skip("no time zone database:", err)
	}
	j := standup(t)
	j.Cron, j.Location = "0 9 * * *", paris
	runScheduler(t, newScheduler(t, h, clk, j))
	clk.WaitTimers(1)
	// 09:00 in Paris in winter is 08:00 UTC: the next one is on Tuesday.
	if next, _ := clk.Next(); !next.Equal(time.Date(2026, 1, 6, 8, 0, 0, 0, time.UTC)) {
		t.Fatalf("next run at %v, want 2026-01-06 08:00 UTC", next)
	}
	clk.Advance(24 * time.Hour)
	if got := h.NextReplyText(); got != "stand-up 2026-01-06 09:00 Tuesday" {
		t.Fatalf("got %q", got)
	}
}

// TestMissedRunOnceAfterRestart stops the bot and the scheduler on Monday
// before 09:00 and starts them again on Wednesday at 10:00: the runs of
// Monday, Tuesday and Wednesday were missed, and the job runs once, for
// Wednesday 09:00.
func TestMissedRunOnceAfterRestart(t *testing.T) {
	for _, skip := range []bool{false, true} {
		name := "run"
		if skip {
			name = "skip"
		}
		t.Run(name, func(t *testing.T) {
			clk := bottest.NewClock(t, monday0859)
			h := bottest.Start(t, echo, bottest.WithUsers("alice"))
			j := standup(t)
			j.SkipMissed = skip
			stop := runScheduler(t, newScheduler(t, h, clk, j))
			clk.WaitTimers(1) // started: the job's first start is recorded
			stop()

			h.RestartBot(echo)
			clk.Set(time.Date(2026, 1, 7, 10, 0, 0, 0, time.UTC))
			stop = runScheduler(t, newScheduler(t, h, clk, j))
			clk.WaitTimers(1)
			stop() // waits for the runs in progress
			h.Say("alice", "marker")
			got := h.NextReplyText()
			if !skip {
				if got != "stand-up 2026-01-07 09:00 Wednesday (missed)" {
					t.Fatalf("first message after the restart: %q", got)
				}
				got = h.NextReplyText()
			}
			if got != "echo marker" {
				t.Fatalf("got %q, want only the marker now", got)
			}

			// A third start the same day has nothing to make up.
			stop = runScheduler(t, newScheduler(t, h, clk, j))
			clk.WaitTimers(1)
			if next, _ := clk.Next(); !next.Equal(time.Date(2026, 1, 8, 9, 0, 0, 0, time.UTC)) {
				t.Fatalf("next run at %v, want Thursday 09:00", next)
			}
			stop()
			h.Say("alice", "marker 2")
			if got := h.NextReplyText(); got != "echo marker 2" {
				t.Fatalf("got %q, want the marker", got)
			}
		})
	}
}

// TestEveryKeepsItsGrid: an interval job keeps the times of its first
// start across a restart.
func TestEveryKeepsItsGrid(t *testing.T) {
	clk := bottest.NewClock(t, monday0859)
	h := bottest.Start(t, echo, bottest.WithUsers("alice"))
	send, err := schedule.Message(bot.ToUser("alice"), "tick {{.Clock}}", false)
	if err != nil {
		t.Fatal(err)
	}
	j := schedule.Job{Name: "tick", Every: time.Hour, Location: time.UTC, Func: send}
	stop := runScheduler(t, newScheduler(t, h, clk, j))
	clk.WaitTimers(1)
	clk.Advance(time.Hour)
	if got := h.NextReplyText(); got != "tick 09:59" {
		t.Fatalf("got %q", got)
	}
	clk.WaitTimers(1)
	stop()
	clk.Advance(90 * time.Minute) // 11:29: the 10:59 run was missed
	runScheduler(t, newScheduler(t, h, clk, j))
	if got := h.NextReplyText(); got != "tick 10:59" {
		t.Fatalf("got %q", got)
	}
	clk.WaitTimers(1)
	if next, _ := clk.Next(); !next.Equal(monday0859.Add(3 * time.Hour)) {
		t.Fatalf("next tick at %v, want 11:59", next)
	}
}

// TestGoFunc runs a Go function with the sender; an error it returns goes
// to WithOnError, and the job keeps its schedule.
func TestGoFunc(t *testing.T) {
	clk := bottest.NewClock(t, monday0859)
	h := bottest.Start(t, echo, bottest.WithUsers("alice"))
	errs := make(chan error, 4)
	calls := 0
	j := schedule.Job{Name: "go", Every: time.Minute, Func: func(ctx context.Context, r schedule.Run) error {
		calls++
		if calls == 1 {
			return errors.New("first run fails")
		}
		_, err := r.Sender.SendText(ctx, bot.ToUser("alice"), "run "+r.Job)
		return err
	}}
	ledger := schedule.NamespaceLedger(h.Bot().DB().Namespace(schedule.Namespace))
	s := schedule.New(h.Bot(), ledger, schedule.WithClock(clk), schedule.WithOnError(func(err error) { errs <- err }))
	if err := s.Add(j); err != nil {
		t.Fatal(err)
	}
	runScheduler(t, s)
	clk.WaitTimers(1)
	clk.Advance(time.Minute)
	if err := <-errs; !strings.Contains(err.Error(), "first run fails") {
		t.Fatalf("error %v", err)
	}
	clk.WaitTimers(1)
	clk.Advance(time.Minute)
	if got := h.NextReplyText(); got != "run go" {
		t.Fatalf("got %q", got)
	}
}

func TestAddRejects(t *testing.T) {
	f := func(context.Context, schedule.Run) error { return nil }
	s := schedule.New(nil, nil)
	for _, j := range []schedule.Job{
		{Cron: "* * * * *", Func: f},
		{Name: "a", Func: f},
		{Name: "a", Cron: "* * * * *", Every: time.Minute, Func: f},
		{Name: "a", Every: time.Millisecond, Func: f},
		{Name: "a", Cron: "61 * * * *", Func: f},
		{Name: "a", Cron: "0 0 30 2 *", Func: f}, // 30 February
		{Name: "a", Cron: "* * * * *"},
	} {
		if err := s.Add(j); !errors.Is(err, schedule.ErrInvalidJob) {
			t.Errorf("Add(%+v) = %v, want ErrInvalidJob", j, err)
		}
	}
	if err := s.Add(schedule.Job{Name: "a", Cron: "@daily", Func: f}); err != nil {
		t.Fatal(err)
	}
	if err := s.Add(schedule.Job{Name: "a", Cron: "@daily", Func: f}); !errors.Is(err, schedule.ErrInvalidJob) {
		t.Errorf("a second job a: %v", err)
	}
}

func TestFromConfigPositions(t *testing.T) {
	src := `schedules:
  - name: ok
    every: 1h
    send: {to: "user:alice", text: "hi {{.Clock}}"}
  - name: badcron
    cron: "61 9 * * *"
    send: {to: "group:team", text: "x"}
  - name: badtmpl
    cron: "@daily"
    send:
      to: group:team
      markdown: "{{.Nope}}"
`
	cfg, err := config.Parse("sched.yaml", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = schedule.FromConfig(cfg.Schedules)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		`config: sched.yaml:6:11: schedule "badcron": cron "61 9 * * *": `,
		`config: sched.yaml:12:17: schedule "badtmpl": template: `,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q\ndoes not contain %q", err, want)
		}
	}
	var ce config.Errors
	if !errors.As(err, &ce) || len(ce) != 2 {
		t.Fatalf("want 2 config errors, got %v", err)
	}

	cfg, err = config.Parse("sched.yaml", []byte(src[:strings.Index(src, "  - name: badcron")]), nil)
	if err != nil {
		t.Fatal(err)
	}
	jobs, err := schedule.FromConfig(cfg.Schedules)
	if err != nil || len(jobs) != 1 || jobs[0].Every != time.Hour {
		t.Fatalf("jobs %+v, err %v", jobs, err)
	}
}

// TestSharedLedgerRunsOnce: two schedulers (two processes, say) with the
// same job and one ledger: each time runs on one of them only.
func TestSharedLedgerRunsOnce(t *testing.T) {
	clk := bottest.NewClock(t, monday0859)
	h := bottest.Start(t, echo, bottest.WithUsers("alice"))
	ledger := schedule.NamespaceLedger(h.Bot().DB().Namespace(schedule.Namespace))
	var stops []func()
	for range 2 {
		s := schedule.New(h.Bot(), ledger, schedule.WithClock(clk))
		if err := s.Add(standup(t)); err != nil {
			t.Fatal(err)
		}
		stops = append(stops, runScheduler(t, s))
	}
	for day := 5; day <= 7; day++ {
		clk.WaitTimers(2)
		clk.Set(time.Date(2026, 1, day, 9, 0, 0, 0, time.UTC))
		if got, want := h.NextReplyText(), fmt.Sprintf("stand-up 2026-01-%02d 09:00 %s", day, time.Weekday(day-4)); got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
	clk.WaitTimers(2) // both schedulers are past Wednesday's run
	for _, stop := range stops {
		stop()
	}
	h.Say("alice", "marker")
	if got := h.NextReplyText(); got != "echo marker" {
		t.Fatalf("got %q: a time ran twice", got)
	}
}
