package wire

import "sync"

// InflateBudget bounds the memory that the Decoders sharing it spend at
// once on inflating large gzip frames. A frame is inflated into a small
// buffer that its Decoder keeps (keepInflate bytes); a frame whose output
// outgrows it first takes its limit (Options.MaxInflated, or the whole
// budget if that is larger or unlimited) from the budget, waiting in turn
// while the budget is spent, and gives it back as soon as the frame is
// inflated. The output buffer grows as output is produced, never to more
// than the limit. So however many connections send large or hostile gzip
// frames at once, the inflate buffers being filled stay within the budget.
//
// A Decoder holds at most one share at a time and holds it only while it
// inflates, so waiting cannot deadlock; a wait lasts as long as the
// inflates ahead of it (a few milliseconds per MiB). An InflateBudget is
// safe for concurrent use.
type InflateBudget struct {
	mu      sync.Mutex
	size    int
	used    int
	peak    int
	waiters []budgetWaiter // first come, first served
}

type budgetWaiter struct {
	n     int
	ready chan struct{}
}

// NewInflateBudget returns a budget of size bytes; size <= 0 means
// DefaultInflateBudget.
func NewInflateBudget(size int) *InflateBudget {
	if size <= 0 {
		size = DefaultInflateBudget
	}
	return &InflateBudget{size: size}
}

// defaultBudget is the budget of Decoders whose Options.InflateBudget is
// nil: one per process, so that the bound holds however many connections
// a program opens.
var defaultBudget = NewInflateBudget(DefaultInflateBudget)

// Size returns the budget's size in bytes.
func (b *InflateBudget) Size() int { return b.size }

// Peak returns the most the budget had handed out at once.
func (b *InflateBudget) Peak() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.peak
}

// acquire takes n bytes (at least 1, at most the size), waiting until they
// are free, and returns how many it took.
func (b *InflateBudget) acquire(n int) int {
	n = min(max(n, 1), b.size)
	b.mu.Lock()
	if len(b.waiters) == 0 && b.used+n <= b.size {
		b.take(n)
		b.mu.Unlock()
		return n
	}
	w := budgetWaiter{n: n, ready: make(chan struct{})}
	b.waiters = append(b.waiters, w)
	b.mu.Unlock()
	<-w.ready
	return n
}

// release gives back n bytes taken by acquire and wakes the waiters that
// now fit, in order.
func (b *InflateBudget) release(n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.used -= n
	for len(b.waiters) > 0 && b.used+b.waiters[0].n <= b.size {
		w := b.waiters[0]
		b.waiters[0] = budgetWaiter{}
		b.waiters = b.waiters[1:]
		b.take(w.n)
		close(w.ready)
	}
}

func (b *InflateBudget) take(n int) {
	b.used += n
	b.peak = max(b.peak, b.used)
}
