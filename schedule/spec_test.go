package schedule

import (
	"testing"
	"time"
)

func TestSpecs(t *testing.T) {
	at := func(d, h, m int) time.Time { return time.Date(2026, 1, d, h, m, 0, 0, time.UTC) }
	e := everySpec(time.Hour)
	last := at(5, 8, 17)
	if _, ok := e.latest(last, at(5, 9, 16)); ok {
		t.Error("every 1h: a run missed 59 minutes after the last one")
	}
	if got, _ := e.latest(last, at(5, 11, 50)); !got.Equal(at(5, 11, 17)) {
		t.Errorf("every latest = %v", got)
	}
	if got := e.next(last, at(5, 11, 50)); !got.Equal(at(5, 12, 17)) {
		t.Errorf("every next = %v", got)
	}
	if got := e.next(last, at(5, 9, 17)); !got.Equal(at(5, 10, 17)) {
		t.Errorf("every next at a tick = %v", got)
	}

	c, err := parseCron("*/5 * * * *")
	if err != nil {
		t.Fatal(err)
	}
	cs := cronSpec{s: c, loc: time.UTC}
	// Ten years of downtime: the latest missed run, found in a few steps.
	now := time.Date(2036, 3, 1, 12, 3, 0, 0, time.UTC)
	if got, ok := cs.latest(at(5, 9, 0), now); !ok || !got.Equal(time.Date(2036, 3, 1, 12, 0, 0, 0, time.UTC)) {
		t.Errorf("cron latest = %v %v", got, ok)
	}
	if _, ok := cs.latest(at(5, 9, 0), at(5, 9, 4)); ok {
		t.Error("cron: a missed run before the next time")
	}
	if got, ok := cs.latest(at(5, 9, 0), at(5, 9, 5)); !ok || !got.Equal(at(5, 9, 5)) {
		t.Errorf("cron latest at the time itself = %v %v", got, ok)
	}
}

func BenchmarkCronLatestLongDowntime(b *testing.B) {
	c, _ := parseCron("* * * * *")
	cs := cronSpec{s: c, loc: time.UTC}
	last := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now := last.Add(5 * 365 * 24 * time.Hour)
	for b.Loop() {
		cs.latest(last, now)
	}
}
