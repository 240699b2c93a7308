package transport

import (
	"context"
	"errors"
	"testing"
	"time"
)

// NextEvent reads the same ordered stream as the Events channel, waits for
// events, honours its ctx, ends with ErrClosed after Run returned and the
// queue was taken, and excludes the channel.
func TestNextEvent(t *testing.T) {
	gw := newFakeGW(t)
	c, err := New(testConfig(gw))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	defer c.Close()

	next := func() Event {
		t.Helper()
		e, err := c.NextEvent(ctxT(t, 10*time.Second))
		if err != nil {
			t.Fatalf("NextEvent: %v", err)
		}
		return e
	}
	if e := next(); e.Kind != EventConnecting {
		t.Fatalf("first event %v, want EventConnecting", e.Kind)
	}
	fc := gw.accept(t)
	if e := next(); e.Kind != EventConnected {
		t.Fatalf("second event %v, want EventConnected", e.Kind)
	}
	if _, ok := <-c.Events(); ok {
		t.Fatal("the Events channel of a client read with NextEvent delivered an event")
	}
	short, stop := context.WithTimeout(context.Background(), 20*time.Millisecond)
	_, err = c.NextEvent(short)
	stop()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("NextEvent with nothing queued and an ended ctx = %v, want DeadlineExceeded", err)
	}
	for i := range 3 {
		fc.push(t, pushOf("si_alice_bot", textMsg("alice", "bot", int64(i+1), "m")))
	}
	for i := range 3 {
		e := next()
		if e.Kind != EventPush || len(e.Messages) != 1 || e.Messages[0].Seq != int64(i+1) {
			t.Fatalf("push %d: got %+v", i, e)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v", err)
	}
	for {
		e, err := c.NextEvent(ctxT(t, 10*time.Second))
		if errors.Is(err, ErrClosed) {
			break
		}
		if err != nil {
			t.Fatalf("NextEvent after Run returned = %v, want events then ErrClosed", err)
		}
		if e.Kind != EventDisconnected {
			t.Fatalf("event after Run returned: %v", e.Kind)
		}
	}
}

func TestNextEventAfterEventsAndClose(t *testing.T) {
	gw := newFakeGW(t)
	r := start(t, testConfig(gw)) // reads the Events channel
	r.waitEvent(t, EventConnecting)
	if _, err := r.c.NextEvent(ctxT(t, time.Second)); err == nil || errors.Is(err, ErrClosed) {
		t.Fatalf("NextEvent on a client read from Events = %v, want an error saying so", err)
	}

	c, err := New(testConfig(gw))
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if _, err := c.NextEvent(ctxT(t, time.Second)); !errors.Is(err, ErrClosed) {
		t.Fatalf("NextEvent after Close = %v, want ErrClosed", err)
	}
	if _, ok := <-c.Events(); ok {
		t.Fatal("Events of a closed client delivered an event")
	}
}
