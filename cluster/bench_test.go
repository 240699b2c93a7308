package cluster_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openimbot/openimbot/bot"
	"github.com/openimbot/openimbot/cluster"
	"github.com/openimbot/openimbot/sandbox"
	"github.com/openimbot/openimbot/storage"
)

// latencies records, per message text "m<i>", the time from just before
// the sandbox accepted it to the start of its handler.
type latencies struct {
	sent    []atomic.Int64 // unix ns
	mu      sync.Mutex
	d       []time.Duration
	handled atomic.Int64

	inflight, maxInflight atomic.Int64
}

func newLatencies(n int) *latencies { return &latencies{sent: make([]atomic.Int64, n)} }

func (l *latencies) handler(wait time.Duration) bot.Handler {
	return bot.HandlerFunc(func(c *bot.Context) error {
		now := time.Now()
		if i, err := strconv.Atoi(strings.TrimPrefix(c.Message().Text(), "m")); err == nil && i < len(l.sent) {
			if s := l.sent[i].Load(); s != 0 {
				l.mu.Lock()
				l.d = append(l.d, now.Sub(time.Unix(0, s)))
				l.mu.Unlock()
			}
		}
		if wait > 0 {
			n := l.inflight.Add(1)
			for {
				m := l.maxInflight.Load()
				if n <= m || l.maxInflight.CompareAndSwap(m, n) {
					break
				}
			}
			time.Sleep(wait)
			l.inflight.Add(-1)
		}
		l.handled.Add(1)
		return nil
	})
}

func (l *latencies) quantile(q float64) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.d) == 0 {
		return 0
	}
	d := slices.Clone(l.d)
	slices.Sort(d)
	return d[min(len(d)-1, int(q*float64(len(d))))]
}

func (l *latencies) wait(b *testing.B, n int64) {
	deadline := time.Now().Add(2 * time.Minute)
	for l.handled.Load() < n {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d handled", l.handled.Load(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// benchBot is a gateway bot on the sandbox with handler h.
func benchBot(b *testing.B, s *sandbox.Server, h bot.Handler, db *storage.DB) *bot.Bot {
	bt, err := bot.New(bot.WithGateway(s.WSURL()), bot.WithUser(botID), bot.WithAdminSecret(s.APIURL(), sandbox.DefaultSecret),
		bot.WithDB(db), bot.WithBacklog(bot.BacklogAll), bot.WithHandler(h), bot.WithRateLimit(0, 0))
	if err != nil {
		b.Fatal(err)
	}
	return bt
}

func openDB(b *testing.B) *storage.DB {
	db, err := storage.Open(filepath.Join(b.TempDir(), "b.db"), storage.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db
}

// sendPaced sends n messages from the users, one every gap, recording when.
func sendPaced(b *testing.B, s *sandbox.Server, l *latencies, n int, gap time.Duration) {
	next := time.Now()
	for i := range n {
		if d := time.Until(next); d > 0 {
			time.Sleep(d)
		}
		next = next.Add(gap)
		l.sent[i].Store(time.Now().UnixNano())
		if _, err := s.SendText(fmt.Sprint("u", i%users), botID, fmt.Sprint("m", i)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHop compares the time from a message's arrival at the sandbox to
// the start of its handler: all-in-one (the handler runs in the bot that
// holds the connection) against ingress -> JetStream -> worker (one worker,
// embedded NATS). Paced: one message every 2ms, so that the figures are
// latencies, not queueing. Burst: as fast as the sandbox takes them; msgs/s
// is then the throughput (the latencies include queueing).
func BenchmarkHop(b *testing.B) {
	for _, bc := range []struct {
		mode, load string
		gap        time.Duration
	}{{"all-in-one", "paced", 2 * time.Millisecond}, {"jetstream", "paced", 2 * time.Millisecond},
		{"all-in-one", "burst", 0}, {"jetstream", "burst", 0}} {
		mode := bc.mode
		b.Run(mode+"/"+bc.load, func(b *testing.B) {
			s := startSandbox(b)
			l := newLatencies(b.N)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var done <-chan error
			if mode == "all-in-one" {
				bt := benchBot(b, s, l.handler(0), openDB(b))
				ch := make(chan error, 1)
				go func() { ch <- bt.Run(ctx) }()
				done = ch
			} else {
				e := startNATS(b)
				in := startIngress(b, e.URL(), s, b.TempDir())
				_ = in
				done = runWorkerHandler(ctx, b, e.URL(), l.handler(0), "w1", 0)
			}
			time.Sleep(500 * time.Millisecond) // connected, partitions taken
			b.ResetTimer()
			start := time.Now()
			sendPaced(b, s, l, b.N, bc.gap)
			l.wait(b, int64(b.N))
			el := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(b.N)/el.Seconds(), "msgs/s")
			b.ReportMetric(float64(l.quantile(0.5).Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(l.quantile(0.99).Microseconds())/1000, "p99-ms")
			cancel()
			<-done
		})
	}
}

// BenchmarkWorkers20ms: throughput of 1, 2 and 4 workers whose handler
// waits 20 ms, each worker's bot with 8 handler goroutines (WithWorkers):
// the workers start and share the 16 partitions, then 1,600 messages from
// 800 users arrive at once; the time runs from the first send to the last
// handler. (With few conversations the most loaded handler goroutine sets
// the time, whatever the number of workers.)
func BenchmarkWorkers20ms(b *testing.B) {
	for _, n := range []int{1, 2, 4} {
		b.Run(fmt.Sprint("workers=", n), func(b *testing.B) {
			const msgs, senders = 1600, 800
			s := startSandbox(b)
			for u := users; u < senders; u++ {
				if err := s.RegisterUser(fmt.Sprint("u", u), ""); err != nil {
					b.Fatal(err)
				}
			}
			e := startNATS(b)
			startIngress(b, e.URL(), s, b.TempDir())
			l := newLatencies(0)
			var total time.Duration
			sent := 0
			for it := 0; it < b.N; it++ {
				b.StopTimer()
				l.handled.Store(0)
				ctx, cancel := context.WithCancel(context.Background())
				var dones []<-chan error
				var ws []*cluster.Worker
				for w := range n {
					wk, d := startWorkerHandler(ctx, b, e.URL(), l.handler(20*time.Millisecond), fmt.Sprintf("w%d-%d", it, w), 8)
					ws, dones = append(ws, wk), append(dones, d)
				}
				deadline := time.Now().Add(30 * time.Second)
				for !balanced(ws, 16) {
					if time.Now().After(deadline) {
						b.Fatal("the workers did not share the partitions within 30s")
					}
					time.Sleep(10 * time.Millisecond)
				}
				b.StartTimer()
				start := time.Now()
				for i := range msgs {
					if _, err := s.SendText(fmt.Sprint("u", i%senders), botID, fmt.Sprint("x", sent)); err != nil {
						b.Fatal(err)
					}
					sent++
				}
				l.wait(b, msgs)
				total += time.Since(start)
				b.StopTimer()
				cancel()
				for _, d := range dones {
					<-d
				}
			}
			b.ReportMetric(float64(msgs*b.N)/total.Seconds(), "msgs/s")
			b.ReportMetric(float64(l.maxInflight.Load()), "max-concurrent")
		})
	}
}

// balanced reports whether the workers hold all partitions, evenly.
func balanced(ws []*cluster.Worker, parts int) bool {
	held := 0
	for _, w := range ws {
		h := len(w.Held())
		if h != parts/len(ws) {
			return false
		}
		held += h
	}
	return held == parts
}

// runWorkerHandler runs a worker with handler h (and n handler goroutines;
// 0: the default) until ctx ends.
func runWorkerHandler(ctx context.Context, b testing.TB, natsURL string, h bot.Handler, name string, n int) <-chan error {
	_, done := startWorkerHandler(ctx, b, natsURL, h, name, n)
	return done
}

func startWorkerHandler(ctx context.Context, b testing.TB, natsURL string, h bot.Handler, name string, n int) (*cluster.Worker, <-chan error) {
	nc, js, err := cluster.Connect(ctx, natsURL, name)
	if err != nil {
		b.Fatal(err)
	}
	w, err := cluster.NewWorker(ctx, cluster.Config{BotID: botID, LeaseTTL: leaseTTL, Logger: testLogger(b)}, nc, js)
	if err != nil {
		b.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "bench-worker-")
	if err != nil {
		b.Fatal(err)
	}
	opts := []bot.Option{bot.WithUser(botID), bot.WithStorage(filepath.Join(dir, "w.db")), bot.WithHandler(h), bot.WithRateLimit(0, 0)}
	if n > 0 {
		opts = append(opts, bot.WithWorkers(n))
	}
	bt, err := bot.New(append(opts, w.BotOption())...)
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		err := w.Run(ctx, bt)
		nc.Close()
		os.RemoveAll(dir)
		done <- err
	}()
	return w, done
}
