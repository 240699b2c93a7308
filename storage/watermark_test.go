package storage

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestWatermarkAdvanceNeverLowersAndPersists(t *testing.T) {
	path := dbPath(t)
	db := mustOpen(t, path, Options{})
	if _, ok := db.Watermark("si_a_b"); ok {
		t.Fatal("Watermark of a new conversation: ok = true")
	}
	steps := []struct {
		seq  int64
		want int64
	}{{5, 5}, {3, 5}, {5, 5}, {9, 9}, {0, 9}, {10, 10}}
	for _, s := range steps {
		ack := db.Advance("si_a_b", s.seq)
		if got, ok := db.Watermark("si_a_b"); !ok || got != s.want {
			t.Fatalf("after Advance(%d): Watermark = %d, %v; want %d, true", s.seq, got, ok, s.want)
		}
		if err := ack.Wait(ctxT(t)); err != nil {
			t.Fatalf("Advance(%d) ack: %v", s.seq, err)
		}
	}
	if err := db.Advance("sg_group", 0).Wait(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db2 := mustOpen(t, path, Options{})
	want := map[string]int64{"si_a_b": 10, "sg_group": 0}
	got := db2.Watermarks()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("after reopen Watermarks = %v, want %v", got, want)
	}
	// Lower values after reopen are still ignored, on disk too.
	db2.Advance("si_a_b", 2)
	if err := db2.Close(); err != nil {
		t.Fatal(err)
	}
	db3 := mustOpen(t, path, Options{})
	if seq, _ := db3.Watermark("si_a_b"); seq != 10 {
		t.Fatalf("after lowering attempt and reopen: %d, want 10", seq)
	}
}

func TestAdvanceInvalid(t *testing.T) {
	db := mustOpen(t, dbPath(t), Options{})
	for _, c := range []struct {
		conv string
		seq  int64
	}{{"", 1}, {"c", -1}} {
		err := db.Advance(c.conv, c.seq).Wait(ctxT(t))
		if !errors.Is(err, ErrInvalidKey) {
			t.Errorf("Advance(%q, %d) = %v, want ErrInvalidKey", c.conv, c.seq, err)
		}
	}
	if len(db.Watermarks()) != 0 {
		t.Fatalf("invalid Advance changed watermarks: %v", db.Watermarks())
	}
}

func TestFlushAndCloseDurability(t *testing.T) {
	path := dbPath(t)
	db := mustOpen(t, path, Options{MaxBatch: 7})
	const convs, perConv = 20, 50
	for s := int64(1); s <= perConv; s++ {
		for c := range convs {
			db.Advance(fmt.Sprintf("conv-%02d", c), s)
		}
		db.SeenOrMark(fmt.Sprintf("cmid-%d", s))
	}
	if err := db.Flush(ctxT(t)); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	st, err := db.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.PendingWrites != 0 {
		t.Fatalf("after Flush PendingWrites = %d", st.PendingWrites)
	}
	if st.Commits < 2 {
		t.Fatalf("Commits = %d with MaxBatch 7, want several", st.Commits)
	}
	// Writes after Flush, made durable by Close alone.
	db.Advance("conv-late", 77)
	db.SeenOrMark("cmid-late")
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := db.Flush(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("Flush after Close = %v, want ErrClosed", err)
	}
	if err := db.Advance("x", 1).Wait(ctxT(t)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Advance after Close = %v, want ErrClosed", err)
	}

	db2 := mustOpen(t, path, Options{})
	wm := db2.Watermarks()
	if len(wm) != convs+1 || wm["conv-late"] != 77 {
		t.Fatalf("reopened watermarks: %d entries, conv-late=%d", len(wm), wm["conv-late"])
	}
	for c := range convs {
		if got := wm[fmt.Sprintf("conv-%02d", c)]; got != perConv {
			t.Fatalf("conv-%02d = %d, want %d", c, got, perConv)
		}
	}
	for s := 1; s <= perConv; s++ {
		if !db2.Seen(fmt.Sprintf("cmid-%d", s)) {
			t.Fatalf("cmid-%d not seen after reopen", s)
		}
	}
	if !db2.Seen("cmid-late") {
		t.Fatal("cmid-late not seen after reopen")
	}
}

func TestAckCompletesAfterCommit(t *testing.T) {
	db := mustOpen(t, dbPath(t), Options{})
	ack := db.Advance("c", 1)
	if err := ack.Wait(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ack.Done():
	default:
		t.Fatal("Done not closed after Wait returned")
	}
	// The commit is visible in the file: Dump reads the file, not memory.
	var sb strings.Builder
	if err := db.Dump(&sb); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(sb.String(), `"kind":"watermark","conversationID":"c","seq":1`) {
		t.Fatalf("dump after ack lacks the watermark:\n%s", sb.String())
	}
	// A non-raising Advance returns an ack that is complete once the current
	// value is durable.
	if err := db.Advance("c", 0).Wait(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	var zero Ack
	if err := zero.Wait(ctxT(t)); err != nil {
		t.Fatal(err)
	}
}

func TestConcurrentAdvance(t *testing.T) {
	path := dbPath(t)
	db := mustOpen(t, path, Options{MaxBatch: 64})
	const goroutines, convs, per = 16, 8, 300
	var wg sync.WaitGroup
	errc := make(chan error, goroutines)
	for g := range goroutines {
		wg.Go(func() {
			var last Ack
			for i := range per {
				// Goroutines interleave seqs on shared conversations, out of order.
				conv := fmt.Sprintf("c%d", (g+i)%convs)
				seq := int64(i*goroutines + g)
				last = db.Advance(conv, seq)
				if got, ok := db.Watermark(conv); !ok || got < seq {
					errc <- fmt.Errorf("Watermark(%s) = %d after Advance(%d)", conv, got, seq)
					return
				}
				if i%50 == 0 {
					db.SeenOrMark(fmt.Sprintf("g%d-%d", g, i))
				}
			}
			if err := last.Wait(context.Background()); err != nil {
				errc <- err
			}
		})
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	want := db.Watermarks()
	if len(want) != convs {
		t.Fatalf("%d conversations, want %d", len(want), convs)
	}
	for c, seq := range want {
		// The maximum seq given to each conversation.
		var top int64
		for g := range goroutines {
			for i := range per {
				if fmt.Sprintf("c%d", (g+i)%convs) == c {
					top = max(top, int64(i*goroutines+g))
				}
			}
		}
		if seq != top {
			t.Fatalf("%s = %d, want %d", c, seq, top)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db2 := mustOpen(t, path, Options{})
	if got := db2.Watermarks(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("after reopen %v, want %v", got, want)
	}
}

func TestBackpressure(t *testing.T) {
	gate, atGate := make(chan struct{}), make(chan struct{})
	var once sync.Once
	db, err := open(dbPath(t), Options{MaxBatch: 2, MaxPending: 4}, hooks{beforeCommit: func() {
		once.Do(func() { close(atGate); <-gate })
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.Advance("first", 1) // taken by the writer, which then waits at the gate
	<-atGate
	progress := make(chan int, 10)
	go func() {
		for i := range 10 {
			db.Advance(fmt.Sprintf("c%d", i), 1)
			progress <- i
		}
		close(progress)
	}()
	for i := range 4 { // 4 writes fit in the queue
		if got := <-progress; got != i {
			t.Fatalf("progress %d, want %d", got, i)
		}
	}
	select {
	case i := <-progress:
		t.Fatalf("write %d was queued beyond MaxPending while the writer was stuck", i)
	case <-time.After(100 * time.Millisecond):
	}
	if st, _ := db.Stats(); st.PendingWrites != 5 {
		t.Fatalf("PendingWrites = %d, want 5 (1 in flight + 4 queued)", st.PendingWrites)
	}
	close(gate)
	n := 4
	for range progress {
		n++
	}
	if n != 10 {
		t.Fatalf("%d writes done", n)
	}
	if err := db.Flush(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if len(db.Watermarks()) != 11 {
		t.Fatalf("%d watermarks", len(db.Watermarks()))
	}
}

func TestCloseReleasesBlockedWriters(t *testing.T) {
	gate, atGate := make(chan struct{}), make(chan struct{})
	var once sync.Once
	db, err := open(dbPath(t), Options{MaxBatch: 1, MaxPending: 1}, hooks{beforeCommit: func() {
		once.Do(func() { close(atGate); <-gate })
	}})
	if err != nil {
		t.Fatal(err)
	}
	db.Advance("first", 1)
	<-atGate
	db.Advance("queued", 1) // fills the queue
	blocked := make(chan error, 1)
	go func() { blocked <- db.Advance("blocked", 1).Wait(context.Background()) }()
	closed := make(chan error, 1)
	go func() { closed <- db.Close() }()
	// Close wakes the blocked writer at once, although the commit in flight
	// is still stuck.
	if err := <-blocked; !errors.Is(err, ErrClosed) {
		t.Fatalf("blocked Advance after Close = %v, want ErrClosed", err)
	}
	close(gate)
	if err := <-closed; err != nil {
		t.Fatalf("Close: %v", err)
	}
}

func TestCommitDelayPacesAndFlushCutsItShort(t *testing.T) {
	const delay = 2 * time.Second
	db := mustOpen(t, dbPath(t), Options{CommitDelay: delay})
	// The first write after an idle spell is committed at once.
	start := time.Now()
	if err := db.Advance("si_a_b", 1).Wait(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el >= delay {
		t.Fatalf("first commit took %v, want no pacing", el)
	}
	commits := db.commits.Load()
	// The next ones wait for the pacing delay and share one commit.
	a2 := db.Advance("si_a_b", 2)
	a3 := db.Advance("si_a_c", 1)
	select {
	case <-a2.Done():
		t.Fatal("a write right after a commit was committed without pacing")
	case <-time.After(100 * time.Millisecond):
	}
	// Flush does not wait for the pacing delay.
	start = time.Now()
	if err := db.Flush(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el >= delay {
		t.Fatalf("Flush took %v, want it to cut the pacing short", el)
	}
	for _, a := range []Ack{a2, a3} {
		if err := a.Wait(ctxT(t)); err != nil {
			t.Fatal(err)
		}
	}
	if n := db.commits.Load() - commits; n != 1 {
		t.Fatalf("%d commits for two paced writes, want 1", n)
	}
	// A full batch is not paced either.
	db2 := mustOpen(t, dbPath(t), Options{CommitDelay: delay, MaxBatch: 2})
	if err := db2.Advance("c", 1).Wait(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	db2.Advance("c1", 1)
	if err := db2.Advance("c2", 1).Wait(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el >= delay {
		t.Fatalf("a full batch waited %v, want no pacing", el)
	}
}

func TestNamespaceWriteCutsPacingShort(t *testing.T) {
	const delay = time.Hour
	db := mustOpen(t, dbPath(t), Options{CommitDelay: delay})
	if err := db.Advance("si_a_b", 1).Wait(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	commits := db.commits.Load()
	// A watermark write right after a commit waits for the pacing delay...
	a := db.Advance("si_a_b", 2)
	select {
	case <-a.Done():
		t.Fatal("a watermark write right after a commit was committed without pacing")
	case <-time.After(100 * time.Millisecond):
	}
	// ...but a namespace write's caller blocks on the commit: it is not
	// paced, and the queued watermark write shares its commit.
	done := make(chan error, 1)
	go func() { done <- db.Namespace("plugin").Put("k", []byte("v")) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("namespace Put still waiting after 10s: it was paced")
	}
	if err := a.Wait(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if n := db.commits.Load() - commits; n != 1 {
		t.Fatalf("%d commits for the paced watermark and the Put, want 1", n)
	}
	if v, ok, err := db.Namespace("plugin").Get("k"); err != nil || !ok || string(v) != "v" {
		t.Fatalf("Get = %q, %v, %v", v, ok, err)
	}
}
