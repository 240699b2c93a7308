package sandbox_test

import (
	"testing"
	"time"

	"github.com/openimbot/openimbot/sandbox"
)

// TestWebhookDelay: with WebhookFaults.Delay each callback is posted that
// long after its message was sent, and the send itself does not wait.
func TestWebhookDelay(t *testing.T) {
	h, srv := newHookSink(t)
	s := newSandbox(t, sandbox.Config{Webhook: sandbox.WebhookConfig{URL: srv.URL}})
	const delay = 300 * time.Millisecond
	s.SetWebhookFaults(sandbox.WebhookFaults{Delay: delay})
	start := time.Now()
	if _, err := s.SendText("alice", "bob", "hi"); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d >= delay {
		t.Fatalf("the send waited %v for the delayed callback", d)
	}
	h.wait(t, 1)
	if d := time.Since(start); d < delay {
		t.Fatalf("callback posted %v after the send, want at least %v", d, delay)
	}
	deadline := time.Now().Add(5 * time.Second)
	for s.WebhookStats().Posted != 1 { // counted once the answer is read
		if time.Now().After(deadline) {
			t.Fatalf("%+v", s.WebhookStats())
		}
		time.Sleep(time.Millisecond)
	}
}
