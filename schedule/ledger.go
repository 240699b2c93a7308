package schedule

import (
	"fmt"
	"sync"
	"time"

	"github.com/openimbot/openimbot/storage"
)

// Ledger keeps, for every job, the scheduled time of its last run, and
// decides which process runs a scheduled time.
//
// A Ledger shared by several processes (cluster mode) must make Claim an
// atomic compare-and-set across all of them, for example an update of a
// key-value store conditioned on the revision read by Last; then every
// scheduled time of a job runs on exactly one process, and a process that
// loses a claim follows the winner's time.
//
// Implementations must be safe for concurrent use.
type Ledger interface {
	// Last returns the time recorded for job, and false when none is.
	Last(job string) (time.Time, bool, error)
	// Claim records t for job if the recorded time is still prev (the zero
	// time: none recorded). It reports false, with no error, when it is
	// not: another process claimed first.
	Claim(job string, prev, t time.Time) (bool, error)
}

// NamespaceLedger returns a Ledger that keeps the times in ns, one key per
// job. It serves one process: a bot's database is locked by the process
// that opened it, and Claim's compare-and-set holds within this process.
func NamespaceLedger(ns *storage.Namespace) Ledger { return &nsLedger{ns: ns} }

type nsLedger struct {
	ns *storage.Namespace
	mu sync.Mutex
}

func (l *nsLedger) Last(job string) (time.Time, bool, error) {
	v, ok, err := l.ns.Get(job)
	if err != nil || !ok {
		return time.Time{}, false, err
	}
	t, err := time.Parse(time.RFC3339Nano, string(v))
	if err != nil {
		return time.Time{}, false, fmt.Errorf("schedule: job %q: stored last run %q: %w", job, v, err)
	}
	return t, true, nil
}

func (l *nsLedger) Claim(job string, prev, t time.Time) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	cur, ok, err := l.Last(job)
	if err != nil {
		return false, err
	}
	if ok != !prev.IsZero() || ok && !cur.Equal(prev) {
		return false, nil
	}
	if err := l.ns.Put(job, []byte(t.UTC().Format(time.RFC3339Nano))); err != nil {
		return false, err
	}
	return true, nil
}
