package bot_test

import (
	"context"
	"net"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openimbot/openimbot/bot"
	"github.com/openimbot/openimbot/sandbox"
)

// BenchmarkReceiveModes sends b.N messages from 10 users and reports, per
// receive mode, the throughput (msgs/s, from the first send to the last
// message handled) and the latency from each send to its handler (p50-ms,
// p99-ms). "blast" sends as fast as the sandbox takes the messages (the
// latency then includes the backlog), "paced" sends 500 messages a second
// in all. Poll mode runs at its default interval (1s) and at 100ms. The
// sandbox's per-connection send queue is raised so that a blast does not
// get the gateway connection dropped as a slow consumer. Run it with a
// fixed count, e.g.
//
//	go test ./bot/ -run '^$' -bench ReceiveModes -benchtime 2000x -count 5
func BenchmarkReceiveModes(b *testing.B) {
	modes := []struct {
		name string
		opts func(*sandbox.Server) []bot.Option
	}{
		{"gateway", func(*sandbox.Server) []bot.Option { return nil }},
		{"poll-1s", func(*sandbox.Server) []bot.Option { return []bot.Option{bot.WithPoll(0, 0)} }},
		{"poll-100ms", func(*sandbox.Server) []bot.Option { return []bot.Option{bot.WithPoll(100*time.Millisecond, 0)} }},
		{"webhook", func(s *sandbox.Server) []bot.Option {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			s.SetWebhook(sandbox.WebhookConfig{URL: "http://" + ln.Addr().String() + "/callbackExample"})
			return []bot.Option{bot.WithWebhook(bot.WebhookOptions{Listener: ln})}
		}},
	}
	for _, load := range []struct {
		name  string
		pause time.Duration // between two messages of one user
	}{{"blast", 0}, {"paced", 20 * time.Millisecond}} {
		for _, m := range modes {
			b.Run(load.name+"/"+m.name, func(b *testing.B) { benchMode(b, load.pause, m.opts) })
		}
	}
}

func benchMode(b *testing.B, pause time.Duration, modeOpts func(*sandbox.Server) []bot.Option) {
	// The sandbox keeps every message sent: with its default history, a
	// blast that puts over 10,000 messages in one conversation before the
	// bot pulled them (the users' goroutines run at uneven rates) evicts
	// the oldest, which the bot then skips (as from a real server) and the
	// run never sees all b.N handled.
	s, err := sandbox.Start(context.Background(), sandbox.Config{SendQueue: 1 << 16, MaxHistory: max(b.N, sandbox.DefaultMaxHistory)})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	users := modeUsers(b, s, 10)
	n := b.N
	sent := make([]time.Time, n)
	lat := make([]time.Duration, n)
	var handled atomic.Int64
	done := make(chan struct{})
	opts := append([]bot.Option{
		bot.WithGateway(s.WSURL()), bot.WithUser("bot"), bot.WithAdminSecret(s.APIURL(), sandbox.DefaultSecret),
		bot.WithStorage(filepath.Join(b.TempDir(), "bot.db")),
		bot.WithHandler(bot.HandlerFunc(func(c *bot.Context) error {
			i, err := strconv.Atoi(c.Text())
			if err != nil || i < 0 || i >= n {
				return nil
			}
			lat[i] = time.Since(sent[i])
			if handled.Add(1) == int64(n) {
				close(done)
			}
			return nil
		})),
	}, modeOpts(s)...)
	bt, err := bot.New(opts...)
	if err != nil {
		b.Fatal(err)
	}
	runDone := make(chan error, 1)
	go func() { runDone <- bt.Run(context.Background()) }()
	defer func() {
		bt.Close()
		<-runDone
	}()
	for bt.Stats().Syncs == 0 {
		time.Sleep(time.Millisecond)
	}
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	var next atomic.Int64
	for _, u := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				sent[i] = time.Now()
				if _, err := s.SendText(u, "bot", strconv.Itoa(i)); err != nil {
					b.Error(err)
					return
				}
				if pause > 0 {
					time.Sleep(pause)
				}
			}
		}()
	}
	wg.Wait()
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		b.Fatalf("handled %d of %d", handled.Load(), n)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(n)/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(float64(lat[n/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[min(n-1, n*99/100)].Microseconds())/1000, "p99-ms")
	b.ReportMetric(0, "ns/op")
}
