package sandbox_test

import (
	"testing"

	"github.com/openimbot/openimbot/content"
	"github.com/openimbot/openimbot/sandbox"
)

// Cancelling one of several subscriptions of the same sender, or one of
// several unfiltered ones, leaves the others receiving every message, and
// the cancelled channels closed.
func TestSubscribeCancelKeepsOthers(t *testing.T) {
	s := newSandbox(t, sandbox.Config{})
	a1, cancelA1 := s.SubscribeFrom(8, "alice")
	a2, cancelA2 := s.SubscribeFrom(8, "alice", "bob")
	all1, cancelAll1 := s.Subscribe(8)
	all2, cancelAll2 := s.Subscribe(8)
	defer cancelA2()
	defer cancelAll2()
	cancelA1()
	cancelAll1()
	for _, ch := range []<-chan content.Message{a1, all1} {
		if _, ok := <-ch; ok {
			t.Fatal("a cancelled subscription received a message")
		}
	}
	for _, from := range []string{"alice", "bob", "carol"} {
		if _, err := s.SendText(from, "alice", "hi from "+from); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []string{"alice", "bob"} {
		if m := <-a2; m.SendID != want {
			t.Fatalf("SubscribeFrom(alice, bob) got a message from %s, want %s", m.SendID, want)
		}
	}
	for _, want := range []string{"alice", "bob", "carol"} {
		if m := <-all2; m.SendID != want {
			t.Fatalf("Subscribe got a message from %s, want %s", m.SendID, want)
		}
	}
	select {
	case m := <-a2:
		t.Fatalf("SubscribeFrom(alice, bob) got a message from %s", m.SendID)
	default:
	}
}
