package bottest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/openimbot/openimbot/bot"
)

// Clock is a fake bot.Clock: time stands still until Advance or Set moves
// it, and then the timers whose time has come fire, in time order. Give it
// to the bot (bot.WithClock) and to the schedule and dialog plugins so that
// a test drives their timeouts and schedules without sleeping:
//
//	clk := bottest.NewClock(t, time.Date(2026, 1, 5, 8, 59, 0, 0, time.UTC))
//	... start the scheduler with clk ...
//	clk.WaitTimers(1)         // the scheduler is waiting for its next run
//	clk.Advance(time.Minute)  // 09:00: the job runs
//	h.NextReply()
//
// WaitTimers is what makes this free of races: it waits (on a condition
// variable, not by polling) until the code under test has armed its timer,
// so that Advance cannot run before it.
//
// A Clock is safe for concurrent use.
type Clock struct {
	t testing.TB

	mu     sync.Mutex
	cond   *sync.Cond
	now    time.Time
	timers []*fakeTimer // pending, unordered
	seq    int
}

var _ bot.Clock = (*Clock)(nil)

// NewClock returns a fake clock set to start. t is failed when WaitTimers
// times out.
func NewClock(t testing.TB, start time.Time) *Clock {
	c := &Clock{t: t, now: start}
	c.cond = sync.NewCond(&c.mu)
	return c
}

type fakeTimer struct {
	c    *Clock
	at   time.Time
	seq  int // creation order, to fire timers of the same time in order
	ch   chan time.Time
	f    func()
	done bool // fired or stopped
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// NewTimer returns a timer firing when the clock reaches Now()+d.
func (c *Clock) NewTimer(d time.Duration) bot.Timer {
	return c.add(d, make(chan time.Time, 1), nil)
}

// AfterFunc calls f in its own goroutine when the clock reaches Now()+d.
func (c *Clock) AfterFunc(d time.Duration, f func()) bot.Timer {
	return c.add(d, nil, f)
}

func (c *Clock) add(d time.Duration, ch chan time.Time, f func()) *fakeTimer {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	ft := &fakeTimer{c: c, at: c.now.Add(d), seq: c.seq, ch: ch, f: f}
	if d <= 0 {
		ft.fire(c.now)
		return ft
	}
	c.timers = append(c.timers, ft)
	c.cond.Broadcast()
	return ft
}

// fire runs with c.mu held.
func (ft *fakeTimer) fire(now time.Time) {
	ft.done = true
	if ft.ch != nil {
		select {
		case ft.ch <- now:
		default:
		}
	}
	if ft.f != nil {
		go ft.f()
	}
}

func (ft *fakeTimer) C() <-chan time.Time { return ft.ch }

func (ft *fakeTimer) Stop() bool {
	c := ft.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if ft.done {
		return false
	}
	ft.done = true
	c.timers = slices.DeleteFunc(c.timers, func(x *fakeTimer) bool { return x == ft })
	c.cond.Broadcast()
	return true
}

// Advance moves the clock forward by d and fires, in time order, every
// timer due by then. It returns once they have fired (their channels hold
// the time, AfterFunc functions have been started); it does not wait for
// what the code under test does next: wait for its effect (a reply, the
// next WaitTimers).
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	to := c.now.Add(d)
	c.mu.Unlock()
	c.Set(to)
}

// Set moves the clock to t (not backwards: an earlier t is an error that
// fails the test) and fires the timers due by then, as Advance.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.Before(c.now) {
		c.t.Errorf("bottest: Clock.Set(%v) is before the clock's time %v", t, c.now)
		return
	}
	for {
		i := -1
		for j, ft := range c.timers {
			if ft.at.After(t) {
				continue
			}
			if i < 0 || ft.at.Before(c.timers[i].at) || ft.at.Equal(c.timers[i].at) && ft.seq < c.timers[i].seq {
				i = j
			}
		}
		if i < 0 {
			break
		}
		ft := c.timers[i]
		c.timers = slices.Delete(c.timers, i, i+1)
		if ft.at.After(c.now) {
			c.now = ft.at
		}
		ft.fire(c.now)
	}
	c.now = t
	c.cond.Broadcast()
}

// Timers returns the number of pending timers.
func (c *Clock) Timers() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}

// Next returns the time of the earliest pending timer, and false when none
// is pending.
func (c *Clock) Next() (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var next time.Time
	for _, ft := range c.timers {
		if next.IsZero() || ft.at.Before(next) {
			next = ft.at
		}
	}
	return next, !next.IsZero()
}

// WaitTimers waits until at least n timers are pending, at most
// DefaultTimeout (then it fails the test).
func (c *Clock) WaitTimers(n int) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), DefaultTimeout)
	defer cancel()
	if err := c.WaitTimersContext(ctx, n); err != nil {
		c.t.Fatalf("bottest: %v", err)
	}
}

// WaitTimersContext waits until at least n timers are pending or ctx ends.
func (c *Clock) WaitTimersContext(ctx context.Context, n int) error {
	stop := context.AfterFunc(ctx, func() {
		c.mu.Lock()
		c.cond.Broadcast()
		c.mu.Unlock()
	})
	defer stop()
	c.mu.Lock()
	defer c.mu.Unlock()
	for len(c.timers) < n {
		if ctx.Err() != nil {
			return fmt.Errorf("clock: %d of %d timers pending after %w", len(c.timers), n, ctx.Err())
		}
		c.cond.Wait()
	}
	return nil
}
