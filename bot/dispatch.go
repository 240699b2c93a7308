package bot

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/openimbot/openimbot/content"
)

// item is one unit of work for a shard: a message to dispatch, and/or a seq
// to advance the conversation's watermark to once that is done.
type item struct {
	conv     string
	msg      *content.Message // nil for a watermark-only item
	seq      int64            // advance the watermark to seq afterwards; 0: none
	offline  bool
	dispatch bool
	rewind   bool      // set the watermark to seq, even lower (a server reset)
	shard    *shardRun // set by the worker for the handler (a Wait detaches it: dialog.go)
	done     func()    // called once the handler returned (Bot.Dispatch); nil: none
}

// shardRun is one goroutine's run of a shard's worker loop.
type shardRun struct {
	d        *dispatcher
	ch       chan item
	conv     string // the item being handled
	seq      int64
	detached bool // the handler waits: another goroutine runs the shard (dialog.go)
}

// dispatcher is the bounded worker pool: one goroutine and one bounded queue
// per shard; a conversation always maps to the same shard, so its items are
// processed one at a time in the order they were enqueued.
type dispatcher struct {
	shards  []chan item
	handle  func(*item)                  // runs the handler for a dispatch item
	advance func(conv string, seq int64) // records a handled seq
	rewind  func(conv string, seq int64) // sets a watermark, even lower; nil: none
	// slots holds one token per item queued in any shard (taken by
	// enqueue, returned by the worker that takes the item): it bounds the
	// items queued in all, whatever the shard count. nil: only each
	// shard's capacity bounds them.
	slots chan struct{}

	quit     chan struct{} // closed when the pool stops taking items
	stopping atomic.Bool
	stopOnce sync.Once
	wg       sync.WaitGroup
}

func newDispatcher(shards, queue int, handle func(*item), advance func(string, int64)) *dispatcher {
	d := &dispatcher{
		shards:  make([]chan item, shards),
		handle:  handle,
		advance: advance,
		quit:    make(chan struct{}),
	}
	for i := range d.shards {
		d.shards[i] = make(chan item, queue)
	}
	return d
}

// maxQueuedItems bounds the items queued in all the shards of a bot
// (limitQueued): with the defaults (64 shards of 256 on 2 cores) a
// catch-up would otherwise keep 16,384 messages in memory, about 11 MB
// and twice that in heap, while 64 per shard on average keep every worker
// busy.
const maxQueuedItems = 4096

// limitQueued bounds the items queued in all shards to n (n <= 0: no bound
// besides each shard's). Call it before start.
func (d *dispatcher) limitQueued(n int) {
	if n > 0 {
		d.slots = make(chan struct{}, n)
	}
}

func (d *dispatcher) start() {
	for _, ch := range d.shards {
		d.wg.Add(1)
		go d.work(ch)
	}
}

// shardOf returns the shard index of a conversation: FNV-1a of its ID.
func shardOf(conv string, n int) int {
	h := uint32(2166136261)
	for i := 0; i < len(conv); i++ {
		h ^= uint32(conv[i])
		h *= 16777619
	}
	return int(h % uint32(n))
}

// enqueue adds it to its conversation's shard, blocking while the shard's
// queue is full (backpressure). It fails with ErrClosed once the pool stops.
func (d *dispatcher) enqueue(ctx context.Context, it item) error {
	if d.slots != nil {
		select {
		case d.slots <- struct{}{}:
		default:
			select {
			case d.slots <- struct{}{}:
			case <-d.quit:
				return ErrClosed
			case <-ctx.Done():
				return ErrClosed
			}
		}
	}
	ch := d.shards[shardOf(it.conv, len(d.shards))]
	select {
	case ch <- it:
		return nil
	default:
	}
	select {
	case ch <- it:
		return nil
	case <-d.quit:
		return ErrClosed
	case <-ctx.Done():
		if d.slots != nil {
			<-d.slots
		}
		return ErrClosed
	}
}

// work runs one shard's items in order. The watermark advance of a handled
// item is held back while the next item is already queued and is a
// watermark-only one of the same conversation (the bot's own echo, most
// often): one Advance covers both. A held advance is made before the next
// handler runs, when the queue is empty, and before the worker exits.
func (d *dispatcher) work(ch chan item) { d.workFrom(ch, "", 0) }

// workFrom is work with a watermark advance to make first: a worker that
// takes over the shard from a handler that started waiting (dialog.go)
// advances the watermark of that handler's item.
func (d *dispatcher) workFrom(ch chan item, pendC string, pendSeq int64) {
	defer d.wg.Done()
	var it item // one variable for the worker's life: &it escapes to handle
	run := &shardRun{d: d, ch: ch}
	flush := func() {
		if pendSeq > 0 {
			d.advance(pendC, pendSeq)
			pendC, pendSeq = "", 0
		}
	}
	defer flush()
	for {
		select {
		case it = <-ch:
		default:
			flush()
			select {
			case it = <-ch:
			case <-d.quit:
				return
			}
		}
		if d.slots != nil {
			<-d.slots
		}
		if d.stopping.Load() {
			return
		}
		if it.rewind {
			flush()
			if d.rewind != nil {
				d.rewind(it.conv, it.seq)
			}
			it = item{}
			continue
		}
		if it.dispatch {
			flush()
			run.conv, run.seq, it.shard = it.conv, it.seq, run
			d.handle(&it)
			if it.done != nil {
				it.done()
			}
			if run.detached {
				return // the handler waited; the shard went on without us
			}
		}
		if it.seq > 0 {
			if pendC != it.conv {
				flush()
			}
			pendC, pendSeq = it.conv, max(pendSeq, it.seq)
		}
		it = item{}
	}
}

// stop makes the pool take no more items, discards the queued ones (their
// watermark does not advance, so they are pulled again on the next start)
// and returns a channel closed when every in-flight handler has returned.
func (d *dispatcher) stop() <-chan struct{} {
	d.stopOnce.Do(func() {
		d.stopping.Store(true)
		close(d.quit)
	})
	done := make(chan struct{})
	go func() {
		d.wg.Wait()
		close(done)
	}()
	return done
}
