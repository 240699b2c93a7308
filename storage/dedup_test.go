package storage

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestDedupSeenOrMark(t *testing.T) {
	db := mustOpen(t, dbPath(t), Options{})
	if db.Seen("m1") {
		t.Fatal("Seen(m1) before marking")
	}
	if db.SeenOrMark("m1") {
		t.Fatal("first SeenOrMark(m1) = true")
	}
	if !db.SeenOrMark("m1") || !db.Seen("m1") {
		t.Fatal("m1 not seen after marking")
	}
	if db.SeenOrMark("m2") {
		t.Fatal("first SeenOrMark(m2) = true")
	}
	if db.SeenOrMark("") || db.SeenOrMark("") || db.Seen("") {
		t.Fatal("empty clientMsgID must never be seen")
	}
	if st, _ := db.Stats(); st.DedupEntries != 2 {
		t.Fatalf("DedupEntries = %d, want 2", st.DedupEntries)
	}
}

func TestDedupBoundByCount(t *testing.T) {
	path := dbPath(t)
	clk := newFakeClock()
	db := mustOpenClock(t, path, Options{DedupMax: 100}, clk)
	for i := range 250 {
		clk.Advance(time.Millisecond)
		if db.SeenOrMark(fmt.Sprintf("m%03d", i)) {
			t.Fatalf("m%03d seen on first mark", i)
		}
	}
	check := func(db *DB, when string) {
		t.Helper()
		if st, _ := db.Stats(); st.DedupEntries != 100 {
			t.Fatalf("%s: DedupEntries = %d, want 100", when, st.DedupEntries)
		}
		for i := range 250 {
			want := i >= 150
			if got := db.Seen(fmt.Sprintf("m%03d", i)); got != want {
				t.Fatalf("%s: Seen(m%03d) = %v, want %v", when, i, got, want)
			}
		}
	}
	check(db, "live")
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db2 := mustOpenClock(t, path, Options{DedupMax: 100}, clk)
	check(db2, "after reopen")
	// The evicted entries were deleted from the file too.
	var sb strings.Builder
	if err := db2.Dump(&sb); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(sb.String(), `"kind":"dedup"`); n != 100 {
		t.Fatalf("file holds %d dedup entries, want 100", n)
	}
	// Reopening with a smaller bound prunes at open, oldest first.
	if err := db2.Close(); err != nil {
		t.Fatal(err)
	}
	db3 := mustOpenClock(t, path, Options{DedupMax: 10}, clk)
	if db3.Seen("m239") || !db3.Seen("m240") || !db3.Seen("m249") {
		t.Fatal("DedupMax 10 at open did not keep exactly the newest 10")
	}
	if st, _ := db3.Stats(); st.DedupEntries != 10 {
		t.Fatalf("DedupEntries = %d, want 10", st.DedupEntries)
	}
}

func TestDedupBoundByAge(t *testing.T) {
	path := dbPath(t)
	clk := newFakeClock()
	opts := Options{DedupTTL: time.Hour}
	db := mustOpenClock(t, path, opts, clk)
	db.SeenOrMark("old-1")
	db.SeenOrMark("old-2")
	clk.Advance(40 * time.Minute)
	db.SeenOrMark("mid")
	clk.Advance(21 * time.Minute) // old-* are 61 min old, mid 21 min
	if db.Seen("old-1") || db.Seen("old-2") {
		t.Fatal("entries past the TTL are still seen")
	}
	if !db.Seen("mid") {
		t.Fatal("mid expired early")
	}
	// The next mark prunes the expired entries from the front.
	if db.SeenOrMark("new") {
		t.Fatal("new seen")
	}
	if st, _ := db.Stats(); st.DedupEntries != 2 {
		t.Fatalf("DedupEntries = %d after pruning, want 2 (mid, new)", st.DedupEntries)
	}
	// An expired ID may be marked again and is then seen again.
	if db.SeenOrMark("old-1") || !db.Seen("old-1") {
		t.Fatal("re-marking an expired ID")
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	// Expiry also applies at open: 30 minutes later mid (51 min) survives,
	// 40 minutes later it does not.
	clk.Advance(30 * time.Minute)
	db2 := mustOpenClock(t, path, opts, clk)
	for id, want := range map[string]bool{"old-2": false, "mid": true, "new": true, "old-1": true} {
		if got := db2.Seen(id); got != want {
			t.Fatalf("after reopen Seen(%s) = %v, want %v", id, got, want)
		}
	}
	if err := db2.Close(); err != nil {
		t.Fatal(err)
	}
	clk.Advance(10 * time.Minute)
	db3 := mustOpenClock(t, path, opts, clk)
	if db3.Seen("mid") || !db3.Seen("new") {
		t.Fatal("open-time age pruning")
	}
	var sb strings.Builder
	if err := db3.Dump(&sb); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(sb.String(), `"mid"`) || strings.Contains(sb.String(), `"old-2"`) {
		t.Fatalf("expired entries still in the file:\n%s", sb.String())
	}
}

func TestDedupFIFOCompaction(t *testing.T) {
	// Many evictions exercise the FIFO compaction path; the window stays exact.
	db := mustOpen(t, dbPath(t), Options{DedupMax: 50, NoSync: true})
	for i := range 5000 {
		db.SeenOrMark(fmt.Sprintf("id-%d", i))
	}
	for i := range 5000 {
		if got, want := db.Seen(fmt.Sprintf("id-%d", i)), i >= 4950; got != want {
			t.Fatalf("Seen(id-%d) = %v, want %v", i, got, want)
		}
	}
	if len(db.dedup.ids) != 50 || db.dedup.len() != 50 {
		t.Fatalf("index %d, fifo %d entries; want 50", len(db.dedup.ids), db.dedup.len())
	}
}
