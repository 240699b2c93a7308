package transport

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/openimbot/openimbot/content"
)

// pushHook is a Config.OnPush that takes up to take leading messages of
// each push and records their seqs.
type pushHook struct {
	mu    sync.Mutex
	take  int
	calls int
	took  []int64
}

func (h *pushHook) onPush(msgs []content.Message) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls++
	n := min(h.take, len(msgs))
	for _, m := range msgs[:n] {
		h.took = append(h.took, m.Seq)
	}
	return n
}

func (h *pushHook) set(take int) {
	h.mu.Lock()
	h.take = take
	h.mu.Unlock()
}

func (h *pushHook) state() (calls int, took []int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.calls, append([]int64(nil), h.took...)
}

// waitFor polls cond for up to 10s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func seqsOf(msgs []content.Message) []int64 {
	var s []int64
	for _, m := range msgs {
		s = append(s, m.Seq)
	}
	return s
}

// Config.OnPush is called by the read loop only while the NextEvent caller
// waits with nothing queued; the messages it takes never come as events,
// the ones it leaves come as one EventPush, in order; a consumer that is
// busy (not in NextEvent) or reads the Events channel gets every push as
// an event.
func TestOnPush(t *testing.T) {
	const conv = "si_alice_bot"
	gw := newFakeGW(t)
	hook := &pushHook{take: 10}
	cfg := testConfig(gw)
	cfg.OnPush = hook.onPush
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	defer func() {
		cancel()
		c.Close()
		<-done
	}()
	fc := gw.accept(t)

	// Nobody reads yet, EventConnecting and EventConnected wait: the push
	// is queued behind them.
	fc.push(t, pushOf(conv, textMsg("alice", "bot", 1, "a")))
	waitFor(t, "push 1 queued", func() bool { return c.queue.queued() == 1 })
	for _, k := range []EventKind{EventConnecting, EventConnected, EventPush} {
		e, err := c.NextEvent(ctxT(t, 10*time.Second))
		if err != nil || e.Kind != k {
			t.Fatalf("NextEvent = %v %v, want kind %v", e.Kind, err, k)
		}
		if k == EventPush && (len(e.Messages) != 1 || e.Messages[0].Seq != 1) {
			t.Fatalf("push 1: %+v", e.Messages)
		}
	}
	// Everything taken, but the consumer is busy (not in NextEvent): the
	// next push is queued too.
	fc.push(t, pushOf(conv, textMsg("alice", "bot", 2, "b")))
	waitFor(t, "push 2 queued", func() bool { return c.queue.queued() == 1 })
	if calls, _ := hook.state(); calls != 0 {
		t.Fatalf("OnPush called %d times while events were queued or the consumer was busy", calls)
	}

	// A consumer in NextEvent.
	events := make(chan Event, 16)
	go func() {
		for {
			e, err := c.NextEvent(ctx)
			if err != nil {
				close(events)
				return
			}
			events <- e
		}
	}()
	next := func() Event {
		t.Helper()
		select {
		case e := <-events:
			return e
		case <-time.After(10 * time.Second):
			t.Fatal("no event within 10s")
			return Event{}
		}
	}
	if e := next(); e.Kind != EventPush || len(e.Messages) != 1 || e.Messages[0].Seq != 2 {
		t.Fatalf("push 2: %v %+v", e.Kind, e.Messages)
	}
	waitFor(t, "consumer waiting", c.queue.idle)

	// Taken whole: no event.
	fc.push(t, pushOf(conv, textMsg("alice", "bot", 3, "c"), textMsg("alice", "bot", 4, "d")))
	waitFor(t, "push 3-4 taken", func() bool { _, took := hook.state(); return len(took) == 2 })
	// Taken in part: the rest is one event, in order.
	hook.set(1)
	fc.push(t, pushOf(conv, textMsg("alice", "bot", 5, "e"), textMsg("alice", "bot", 6, "f"), textMsg("alice", "bot", 7, "g")))
	if e := next(); e.Kind != EventPush || !equalSeqs(seqsOf(e.Messages), []int64{6, 7}) {
		t.Fatalf("the rest of push 5-7: %v %v", e.Kind, seqsOf(e.Messages))
	}
	// Refused: the whole push is an event.
	waitFor(t, "consumer waiting", c.queue.idle)
	hook.set(0)
	fc.push(t, pushOf(conv, textMsg("alice", "bot", 8, "h")))
	if e := next(); e.Kind != EventPush || !equalSeqs(seqsOf(e.Messages), []int64{8}) {
		t.Fatalf("push 8: %v %v", e.Kind, seqsOf(e.Messages))
	}
	calls, took := hook.state()
	if calls != 3 || !equalSeqs(took, []int64{3, 4, 5}) {
		t.Fatalf("OnPush: %d calls took %v, want 3 calls taking [3 4 5]", calls, took)
	}
	select {
	case e := <-events:
		t.Fatalf("unexpected event %v %v", e.Kind, seqsOf(e.Messages))
	default:
	}

	// A client read from the Events channel never calls OnPush.
	gw2 := newFakeGW(t)
	hook2 := &pushHook{take: 10}
	cfg2 := testConfig(gw2)
	cfg2.OnPush = hook2.onPush
	r := start(t, cfg2)
	fc2 := gw2.accept(t)
	r.waitEvent(t, EventConnected)
	for i := range 3 {
		fc2.push(t, pushOf(conv, textMsg("alice", "bot", int64(i+1), "x")))
		if e := r.waitEvent(t, EventPush); len(e.Messages) != 1 || e.Messages[0].Seq != int64(i+1) {
			t.Fatalf("channel push %d: %v", i+1, seqsOf(e.Messages))
		}
	}
	if calls, _ := hook2.state(); calls != 0 {
		t.Fatalf("OnPush called %d times on a client read from the Events channel", calls)
	}
}

func equalSeqs(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
