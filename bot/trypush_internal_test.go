package bot

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/openimbot/openimbot/content"
	"github.com/openimbot/openimbot/storage"
)

// tryPush takes the leading messages that need neither a pull nor a wait,
// as onPush would handle them, and stops at the first that does: a gap, a
// full shard, another's seq-less message, a sync holding the engine, a
// stopped pool. The pool is not started, so its queue fills for sure.
func TestTryPush(t *testing.T) {
	db, err := storage.Open(filepath.Join(t.TempDir(), "t.db"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st := &dbStore{db: db}
	if err := st.SetInitialized(); err != nil {
		t.Fatal(err)
	}
	const conv = "si_alice_bot"
	db.Advance(conv, 5)
	d := newDispatcher(1, 3, func(*item) {}, func(string, int64) {})
	sy := newSyncer(func() syncGateway { return nil }, st, d.enqueue, "bot", false, BacklogAll,
		slog.New(slog.DiscardHandler), func(error) {})
	sy.tryDeliver = d.tryEnqueue
	msg := func(from string, seq int64) content.Message {
		return content.Message{ConversationID: conv, SendID: from, Seq: seq, ClientMsgID: "c" + from + string(rune('a'+seq))}
	}
	drain := func() (got []item) {
		for {
			select {
			case it := <-d.shards[0]:
				got = append(got, it)
			default:
				return got
			}
		}
	}
	check := func(name string, msgs []content.Message, want int) {
		t.Helper()
		if n := sy.tryPush(msgs); n != want {
			t.Fatalf("%s: tryPush took %d of %d, want %d", name, n, len(msgs), want)
		}
	}

	check("next seqs and a duplicate", []content.Message{msg("alice", 6), msg("alice", 6), msg("alice", 7)}, 3)
	check("full shard", []content.Message{msg("alice", 8), msg("alice", 9)}, 1)
	if got := drain(); len(got) != 3 || got[0].seq != 6 || got[1].seq != 7 || got[2].seq != 8 || !got[0].dispatch {
		t.Fatalf("queued %+v, want seqs 6, 7, 8 to dispatch", got)
	}
	check("gap", []content.Message{msg("alice", 9), msg("alice", 11), msg("alice", 10)}, 1)
	check("another's seq-less message", []content.Message{msg("carol", 0)}, 0)
	if db.SeenOrMark("ccarola") {
		t.Fatal("a seq-less message left to the event loop was marked seen")
	}
	check("own seq-less message, own echo", []content.Message{msg("bot", 0), msg("bot", 10)}, 2)
	if got := drain(); len(got) != 2 || got[0].seq != 9 || !got[0].dispatch || got[1].seq != 10 || got[1].dispatch || got[1].msg != nil {
		t.Fatalf("queued %+v, want seq 9 to dispatch and 10 to advance the watermark only", got)
	}
	sy.runMu.Lock()
	check("sync in progress", []content.Message{msg("alice", 11)}, 0)
	sy.runMu.Unlock()
	if st := sy.snapshot(); st.Inline != 7 || st.Pushed != 5 || st.Duplicates != 1 || st.Gaps != 0 {
		t.Fatalf("stats %+v, want 7 inline: 5 pushed, a duplicate and an own seq-less message", st)
	}
	// What was left is the event loop's, in order, with nothing skipped.
	if err := sy.onPush(context.Background(), []content.Message{msg("alice", 11)}); err != nil {
		t.Fatal(err)
	}
	if got := drain(); len(got) != 1 || got[0].seq != 11 {
		t.Fatalf("onPush after tryPush queued %+v, want seq 11", got)
	}
	<-d.stop()
	check("stopped pool", []content.Message{msg("alice", 12)}, 0)

	// The bound on all queued items counts too.
	d2 := newDispatcher(2, 10, func(*item) {}, func(string, int64) {})
	d2.limitQueued(1)
	if !d2.tryEnqueue(item{conv: "a", seq: 1}) || d2.tryEnqueue(item{conv: "b", seq: 1}) {
		t.Fatal("tryEnqueue with a bound of one queued item: want the first taken, the second refused")
	}
	if len(d2.slots) != 1 {
		t.Fatalf("%d slots taken, want 1", len(d2.slots))
	}
}
