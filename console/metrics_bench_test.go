package console

import (
	"errors"
	"testing"
	"time"

	"github.com/openimbot/openimbot/bot"
	"github.com/openimbot/openimbot/content"
)

// BenchmarkMetricsPerMessage is what the metrics add to one message that is
// received, handled by a route and answered with one send: the observer
// calls the bot makes on the hot path. Compare it with the CPU time per
// message of BenchmarkPipeline in package bot (tens of µs).
func BenchmarkMetricsPerMessage(b *testing.B) {
	m := NewMetrics()
	msg := &content.Message{ConversationID: "si_alice_bot", Seq: 1, SendID: "alice", ContentType: content.TypeText}
	routes := []string{"greet", "order", "sum", "fallback"}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			m.Received(msg, false)
			m.Sent(bot.SendEvent{To: bot.ToUser("alice"), Duration: 300 * time.Microsecond})
			m.Handled(bot.HandledEvent{Message: msg, Route: routes[i%len(routes)], Duration: 400 * time.Microsecond, Sends: 1})
			i++
		}
	})
}

// BenchmarkMetricsSendFailure is the cost of a failed send (the reason is
// classified with errors.Is).
func BenchmarkMetricsSendFailure(b *testing.B) {
	m := NewMetrics()
	err := &bot.RateLimitError{ConversationID: "si_alice_bot"}
	var _ error = err
	_ = errors.Is(err, bot.ErrRateLimited)
	b.ReportAllocs()
	for b.Loop() {
		m.Sent(bot.SendEvent{To: bot.ToUser("alice"), Err: err})
	}
}
