package schedule

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/openimbot/openimbot/bot"
	"github.com/robfig/cron/v3"
)

// Namespace is the storage namespace the command line keeps the last run
// times in (see NamespaceLedger).
const Namespace = "openimbot.schedule"

// Errors.
var (
	// ErrInvalidJob wraps every error of Add about a job.
	ErrInvalidJob = errors.New("schedule: invalid job")
	// ErrRunning is returned by Add after Run started, and by a second Run.
	ErrRunning = errors.New("schedule: scheduler already running")
)

// Job is one scheduled job.
type Job struct {
	// Name identifies the job in the Ledger (its last run is stored under
	// it) and in logs. Required; unique in a Scheduler.
	Name string
	// Cron is a cron expression: five fields (minute, hour, day of month,
	// month, day of week, as in crontab(5)) or a descriptor (@yearly,
	// @monthly, @weekly, @daily, @hourly, @every 1h30m). Set Cron or Every.
	Cron string
	// Every runs the job at a fixed interval (at least one second), counted
	// from the job's first start: the interval grid survives restarts.
	Every time.Duration
	// Location is the time zone of Cron and of Run.Time; default time.Local.
	Location *time.Location
	// SkipMissed drops the runs that fell while the scheduler was not
	// running. By default the job runs once when the scheduler starts,
	// however many runs were missed (Run.Missed is then true).
	SkipMissed bool
	// Func is what the job does. Its ctx ends when Run's ctx does. A
	// returned error is logged and given to WithOnError; the job keeps
	// its schedule.
	Func func(ctx context.Context, r Run) error
}

// Run is one run of a job, given to Job.Func.
type Run struct {
	// Job is the job's name.
	Job string
	// Time is the scheduled time of the run, in the job's location (not
	// the time it actually started, which may be later).
	Time time.Time
	// Missed is true for a run that fell while the scheduler was down and
	// is made up for at its start.
	Missed bool
	// Sender sends messages as the bot.
	Sender bot.Sender
}

// Option configures a Scheduler.
type Option func(*Scheduler)

// WithClock sets the clock; default bot.SystemClock(). Tests pass a
// bottest.Clock.
func WithClock(c bot.Clock) Option { return func(s *Scheduler) { s.clock = c } }

// WithLogger sets the logger; default discards.
func WithLogger(l *slog.Logger) Option { return func(s *Scheduler) { s.log = l } }

// WithOnError adds a function called with every error: a job that failed,
// a ledger that could not be read or written. It may be called from any
// goroutine. Default none (errors are logged).
func WithOnError(f func(error)) Option {
	return func(s *Scheduler) { s.onError = append(s.onError, f) }
}

// Scheduler runs jobs on their schedules. Build it with New, add jobs with
// Add, then Run it. Each job runs once at a time: a run that is due while the
// previous one is still running starts when it ends (if several are due
// meanwhile, only the latest). A slow job never delays the others.
//
// Which process runs a scheduled time is decided by the Ledger: before a
// run, the scheduler claims its time there (a compare-and-set from the
// previous run's time), and runs the job only if the claim succeeded. So
// a job runs at most once per scheduled time, even when the process dies
// during the run (that run is then not repeated), and with a Ledger shared
// by several processes, exactly one of them runs each time.
//
// Add and Run are safe for concurrent use.
type Scheduler struct {
	sender  bot.Sender
	ledger  Ledger
	clock   bot.Clock
	log     *slog.Logger
	onError []func(error)

	mu      sync.Mutex
	jobs    []*job
	names   map[string]bool
	running bool
}

type job struct {
	Job
	spec   spec
	last   time.Time // last claimed run (or first start)
	next   time.Time
	busy   bool // a run is in progress
	queued *Run // the run to start when it ends
	loc    *time.Location
	index  int
}

// New returns a Scheduler that sends with sender and keeps last run times
// in ledger (usually NamespaceLedger of the bot's database). It does no
// I/O.
func New(sender bot.Sender, ledger Ledger, opts ...Option) *Scheduler {
	s := &Scheduler{sender: sender, ledger: ledger, clock: bot.SystemClock(), names: make(map[string]bool)}
	for _, o := range opts {
		o(s)
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s
}

// Add adds a job. It fails, with an error matching ErrInvalidJob, for a
// job without a name, with a name already added, with both or neither of
// Cron and Every, with an invalid cron expression or one that never fires,
// an interval under one second, or no Func; and with ErrRunning once Run
// has started.
func (s *Scheduler) Add(j Job) error {
	sp, err := j.parse()
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running {
		return ErrRunning
	}
	if s.names[j.Name] {
		return fmt.Errorf("%w: job %q added twice", ErrInvalidJob, j.Name)
	}
	s.names[j.Name] = true
	loc := j.Location
	if loc == nil {
		loc = time.Local
	}
	s.jobs = append(s.jobs, &job{Job: j, spec: sp, loc: loc, index: len(s.jobs)})
	return nil
}

// Next returns the first time after t the job would run if it started at
// t with no earlier run: for an interval job, t plus the interval. It
// returns the zero time for a job that Check rejects.
func (j Job) Next(t time.Time) time.Time {
	sp, err := j.parse()
	if err != nil {
		return time.Time{}
	}
	loc := j.Location
	if loc == nil {
		loc = time.Local
	}
	return sp.next(t, t).In(loc)
}

// Check validates j as Add does, without adding it.
func (j Job) Check() error {
	_, err := j.parse()
	return err
}

func (j Job) parse() (spec, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: job %q: %s", ErrInvalidJob, j.Name, fmt.Sprintf(format, args...))
	}
	switch {
	case j.Name == "":
		return nil, fmt.Errorf("%w: a job needs a name", ErrInvalidJob)
	case j.Func == nil:
		return nil, bad("no Func")
	case j.Cron != "" && j.Every != 0:
		return nil, bad("set Cron or Every, not both")
	case j.Cron == "" && j.Every == 0:
		return nil, bad("set Cron or Every")
	case j.Cron == "" && j.Every < time.Second:
		return nil, bad("Every must be at least 1s, got %v", j.Every)
	case j.Every > 0:
		return everySpec(j.Every), nil
	}
	c, err := parseCron(j.Cron)
	if err != nil {
		return nil, bad("%v", err)
	}
	loc := j.Location
	if loc == nil {
		loc = time.Local
	}
	return cronSpec{s: c, loc: loc}, nil
}

// parseCron parses a cron expression as Job.Cron does, and checks that it
// fires at least once in the next five years.
func parseCron(expr string) (cron.Schedule, error) {
	c, err := cron.ParseStandard(expr)
	if err != nil {
		return nil, fmt.Errorf("cron %q: %w", expr, err)
	}
	if c.Next(time.Now()).IsZero() {
		return nil, fmt.Errorf("cron %q never fires", expr)
	}
	return c, nil
}

// Run runs the jobs until ctx ends, then waits for the runs in progress
// (their ctx is ctx) and returns nil. It first makes up for the runs missed
// while it was not running (see Job.SkipMissed). It returns an error only
// if the ledger cannot be read at the start, or with ErrRunning when called
// twice.
func (s *Scheduler) Run(ctx context.Context) error {
	s.mu.Lock()
	if s.running {
		s.mu.Unlock()
		return ErrRunning
	}
	s.running = true
	jobs := s.jobs
	s.mu.Unlock()

	var wg sync.WaitGroup
	defer wg.Wait()
	now := s.clock.Now()
	for _, j := range jobs {
		last, ok, err := s.ledger.Last(j.Name)
		if err != nil {
			return fmt.Errorf("schedule: job %q: read its last run: %w", j.Name, err)
		}
		if !ok {
			// A new job: nothing was missed. Record the start so that a
			// later downtime is counted from here.
			claimed, err := s.ledger.Claim(j.Name, time.Time{}, now)
			if err != nil {
				return fmt.Errorf("schedule: job %q: record its first start: %w", j.Name, err)
			}
			if claimed {
				j.last, j.next = now, j.spec.next(now, now)
				continue
			}
			// Another process recorded it first: follow its time.
			if last, ok, err = s.ledger.Last(j.Name); err != nil {
				return fmt.Errorf("schedule: job %q: read its last run: %w", j.Name, err)
			} else if !ok {
				return fmt.Errorf("schedule: job %q: the ledger refused its first start but has no time for it", j.Name)
			}
		}
		j.last = last
		if missed, ok := j.spec.latest(last, now); ok {
			if j.SkipMissed {
				s.log.Info("schedule: skipping a run missed while down", "job", j.Name, "time", missed.In(j.loc))
				s.claim(j, missed)
			} else {
				s.log.Info("schedule: making up for a run missed while down", "job", j.Name, "time", missed.In(j.loc))
				s.fire(ctx, &wg, j, missed, true)
			}
		}
		j.next = j.spec.next(j.last, now)
	}

	for {
		var first *job
		for _, j := range jobs {
			if j.next.IsZero() { // a cron expression with no time left
				continue
			}
			if first == nil || j.next.Before(first.next) {
				first = j
			}
		}
		if first == nil {
			<-ctx.Done()
			return nil
		}
		t := s.clock.NewTimer(first.next.Sub(s.clock.Now()))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C():
		}
		now := s.clock.Now()
		for _, j := range jobs {
			if j.next.IsZero() || j.next.After(now) {
				continue
			}
			// One run for the latest due time, however many passed.
			due, _ := j.spec.latest(j.last, now)
			if due.IsZero() {
				due = j.next
			}
			s.fire(ctx, &wg, j, due, false)
			j.next = j.spec.next(due, now)
		}
	}
}

// claim records t as j's last run in the ledger; false when another
// process claimed it (or the ledger failed).
func (s *Scheduler) claim(j *job, t time.Time) bool {
	ok, err := s.ledger.Claim(j.Name, j.last, t)
	if err != nil {
		s.report(fmt.Errorf("schedule: job %q: claim the run of %v: %w", j.Name, t, err))
		return false
	}
	if !ok {
		// Another process ran it (or a later time): follow the ledger.
		if last, found, err := s.ledger.Last(j.Name); err == nil && found {
			j.last = last
		}
		s.log.Debug("schedule: run claimed elsewhere", "job", j.Name, "time", t)
		return false
	}
	j.last = t
	return true
}

// fire claims the run of j at t and starts it, or queues it behind the
// run in progress.
func (s *Scheduler) fire(ctx context.Context, wg *sync.WaitGroup, j *job, t time.Time, missed bool) {
	if !s.claim(j, t) {
		return
	}
	r := &Run{Job: j.Name, Time: t.In(j.loc), Missed: missed, Sender: s.sender}
	s.mu.Lock()
	if j.busy {
		if j.queued != nil {
			s.log.Warn("schedule: dropping a queued run: the job is still running", "job", j.Name, "time", j.queued.Time)
		}
		j.queued = r
		s.mu.Unlock()
		return
	}
	j.busy = true
	s.mu.Unlock()
	wg.Add(1)
	go func() {
		defer wg.Done()
		for r != nil {
			s.log.Debug("schedule: run", "job", j.Name, "time", r.Time, "missed", r.Missed)
			if err := s.call(ctx, j, *r); err != nil {
				s.report(fmt.Errorf("schedule: job %q run of %v: %w", j.Name, r.Time, err))
			}
			s.mu.Lock()
			r, j.queued = j.queued, nil
			j.busy = r != nil
			s.mu.Unlock()
		}
	}()
}

func (s *Scheduler) call(ctx context.Context, j *job, r Run) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return j.Func(ctx, r)
}

func (s *Scheduler) report(err error) {
	s.log.Error("schedule: error", "err", err)
	for _, f := range s.onError {
		f(err)
	}
}

// spec is a job's schedule.
type spec interface {
	// latest returns the latest scheduled time in (last, now].
	latest(last, now time.Time) (time.Time, bool)
	// next returns the first scheduled time after now, on the schedule
	// whose last run was last.
	next(last, now time.Time) time.Time
}

// everySpec runs on the grid last + k*d.
type everySpec time.Duration

func (e everySpec) latest(last, now time.Time) (time.Time, bool) {
	d := time.Duration(e)
	if now.Sub(last) < d {
		return time.Time{}, false
	}
	return last.Add(now.Sub(last) / d * d), true
}

func (e everySpec) next(last, now time.Time) time.Time {
	d := time.Duration(e)
	if now.Before(last) {
		return last.Add(d)
	}
	return last.Add((now.Sub(last)/d + 1) * d)
}

// cronSpec is a parsed cron expression in a time zone.
type cronSpec struct {
	s   cron.Schedule
	loc *time.Location
}

// Next returns the first time after t; zero if none within five years.
func (c cronSpec) Next(t time.Time) time.Time { return c.s.Next(t.In(c.loc)) }

func (c cronSpec) latest(last, now time.Time) (time.Time, bool) {
	t := c.Next(last)
	if t.IsZero() || t.After(now) {
		return time.Time{}, false
	}
	// Search back from now in doubling windows, so that a long downtime
	// costs a few dozen steps rather than one per missed run.
	for w := time.Second; ; w *= 2 {
		from := now.Add(-w)
		if !from.After(last) || w > 200*365*24*time.Hour {
			from = last
		}
		if u := c.Next(from); !u.IsZero() && !u.After(now) {
			t = u
			break
		}
	}
	for {
		n := c.Next(t)
		if n.IsZero() || n.After(now) {
			return t, true
		}
		t = n
	}
}

func (c cronSpec) next(_, now time.Time) time.Time { return c.Next(now) }
