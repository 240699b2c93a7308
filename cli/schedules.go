package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/openimbot/openimbot/bot"
	"github.com/openimbot/openimbot/config"
	"github.com/openimbot/openimbot/schedule"
	"github.com/openimbot/openimbot/storage"
)

// schedules runs the configuration's schedules list while `run` runs: it
// starts once the bot is ready and stops before the bot shuts down.
// Changes to the list apply after a restart.
type schedules struct {
	s      *schedule.Scheduler
	n      int
	log    *slog.Logger
	once   sync.Once
	cancel context.CancelFunc
	done   chan struct{}
}

// newSchedules checks the schedules of cfg and builds their scheduler,
// sending with b and keeping last run times in db. A bad item is an error
// at its file:line:col.
func newSchedules(cfg *config.Config, b *bot.Bot, db *storage.DB, log *slog.Logger) (*schedules, error) {
	jobs, err := schedule.FromConfig(cfg.Schedules)
	if err != nil {
		return nil, err
	}
	log = log.With("component", "schedule")
	s := schedule.New(b, schedule.NamespaceLedger(db.Namespace(schedule.Namespace)), schedule.WithLogger(log))
	for _, j := range jobs {
		if err := s.Add(j); err != nil {
			return nil, err
		}
	}
	return &schedules{s: s, n: len(jobs), log: log}, nil
}

// start starts the scheduler (once; nothing to do without schedules).
func (s *schedules) start() {
	if s.n == 0 {
		return
	}
	s.once.Do(func() {
		ctx, cancel := context.WithCancel(context.Background())
		s.cancel, s.done = cancel, make(chan struct{})
		go func() {
			defer close(s.done)
			if err := s.s.Run(ctx); err != nil {
				s.log.Error("schedules stopped", "err", err)
			}
		}()
		s.log.Info("schedules started", "jobs", s.n)
	})
}

// stop stops the scheduler and waits for the runs in progress; idempotent.
func (s *schedules) stop() {
	s.once.Do(func() {}) // a later start does nothing
	if s.cancel != nil {
		s.cancel()
		<-s.done
		s.cancel = nil
	}
}

// printSchedules lists the jobs of the schedules list (as FromConfig gave
// them, in the same order) for check, with the next time each would run
// after now.
func printSchedules(w io.Writer, cfg *config.Config, jobs []schedule.Job, now time.Time) {
	if len(jobs) == 0 {
		return
	}
	fmt.Fprintf(w, "\nschedules (%d):\n", len(jobs))
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "  NAME\tWHEN\tTO\tMISSED\tNEXT")
	for i, j := range jobs {
		when := "every " + j.Every.String()
		if j.Cron != "" {
			when = fmt.Sprintf("cron %q %s", j.Cron, j.Location)
		}
		missed := "run once"
		if j.SkipMissed {
			missed = "skip"
		}
		next := j.Next(now).Format("2006-01-02 15:04 MST")
		if j.Every > 0 {
			next = "every " + j.Every.String() + " from the first start"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", j.Name, when, cfg.Schedules[i].Send.To, missed, next)
	}
	tw.Flush()
}
