package bot

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/openimbot/openimbot/content"
)

// BenchmarkPushPath measures the push path from the connection's read
// loop to a shard's handler without the network, storage or handler
// costs: a producer goroutine (the read loop) hands pushes of one message,
// over 100 conversations and with at most 64 unhandled (as
// BenchmarkPipeline's window), either to a queue that a consumer
// goroutine (the event loop) reads and passes to onPush ("queued", every
// push before transport Config.OnPush), or to tryPush on the producer
// itself while the consumer waits with nothing queued, queueing what it
// leaves ("inline"). What differs is the goroutine hand-off to the event
// loop. It reports the process's CPU time per message.
func BenchmarkPushPath(b *testing.B) {
	for _, inline := range []bool{false, true} {
		name := "queued"
		if inline {
			name = "inline"
		}
		b.Run(name, func(b *testing.B) { benchPushPath(b, inline) })
	}
}

// pushQueue is the transport's event queue, reduced to pushes: put never
// blocks, the consumer waits on notify, idle is Config.OnPush's condition.
type pushQueue struct {
	mu      sync.Mutex
	items   [][]content.Message
	waiting bool
	notify  chan struct{}
}

func (q *pushQueue) put(msgs []content.Message) {
	q.mu.Lock()
	q.items = append(q.items, msgs)
	q.mu.Unlock()
	select {
	case q.notify <- struct{}{}:
	default:
	}
}

func (q *pushQueue) pop() ([]content.Message, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.items) == 0 {
		q.waiting = true
		return nil, false
	}
	q.waiting = false
	m := q.items[0]
	q.items[0] = nil
	q.items = q.items[1:]
	return m, true
}

func (q *pushQueue) idle() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.waiting && len(q.items) == 0
}

func benchPushPath(b *testing.B, inline bool) {
	const convs, window = 100, 64
	slots := make(chan struct{}, window)
	var handled atomic.Int64
	done := make(chan struct{})
	n := int64(b.N)
	d := newDispatcher(64, 256, func(*item) {
		<-slots
		if handled.Add(1) == n {
			close(done)
		}
	}, func(string, int64) {})
	d.limitQueued(maxQueuedItems)
	st := &memStore{}
	sy := newSyncer(func() syncGateway { return nil }, st, d.enqueue, "bot", false, BacklogAll,
		slog.New(slog.DiscardHandler), func(error) {})
	sy.tryDeliver = d.tryEnqueue
	d.start()
	defer func() { <-d.stop() }()

	msgs := make([]content.Message, b.N)
	for i := range msgs {
		u := fmt.Sprintf("u%03d", i%convs)
		msgs[i] = content.Message{ConversationID: content.SingleConversationID("bot", u), SendID: u, RecvID: "bot",
			ContentType: content.TypeText, Seq: int64(i/convs + 1)}
	}
	q := &pushQueue{notify: make(chan struct{}, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	var consumer sync.WaitGroup
	consumer.Add(1)
	go func() {
		defer consumer.Done()
		for {
			p, ok := q.pop()
			if !ok {
				select {
				case <-q.notify:
					continue
				case <-ctx.Done():
					return
				}
			}
			if err := sy.onPush(ctx, p); err != nil {
				return
			}
		}
	}()
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := benchCPU()
	for i := range msgs {
		slots <- struct{}{}
		p := msgs[i : i+1]
		if inline && q.idle() {
			p = p[sy.tryPush(p):]
		}
		if len(p) > 0 {
			q.put(p)
		}
	}
	<-done
	cpu := benchCPU() - cpu0
	b.StopTimer()
	cancel()
	consumer.Wait()
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/msg")
	b.ReportMetric(float64(sy.inline.Load())/float64(b.N)*100, "inline-%")
}

// memStore is a syncStore in memory, initialized, with no watermarks.
type memStore struct{}

func (memStore) Watermark(string) (int64, bool) { return 0, false }
func (memStore) SeenOrMark(string) bool         { return false }
func (memStore) Initialized() bool              { return true }
func (memStore) SetInitialized() error          { return nil }
func (memStore) SetStart(string, int64)         {}
func (memStore) Watermarks() map[string]int64   { return nil }

// benchCPU returns the process's user+system CPU time.
func benchCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
