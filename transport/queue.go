package transport

import "sync"

// eventQueue sits between the connection's read loop and the Events
// channel: put never blocks, so a slow consumer cannot stall the read loop,
// the heartbeat or the redial. Pushed messages are counted against a cap; a
// push that would exceed it is dropped and reported by one
// EventPushesDropped event, queued in order after the events already
// waiting (pushes are best-effort: the consumer recovers the dropped
// messages by seq, see the package documentation).
type eventQueue struct {
	mu     sync.Mutex
	items  []Event
	head   int
	msgs   int // messages in queued EventPush events
	cap    int // < 0: unbounded
	lost   int // messages dropped since the queued EventPushesDropped was put
	marker bool
	ended  bool
	notify chan struct{} // capacity 1: something was queued or the queue ended
}

func newEventQueue(capMsgs int) *eventQueue {
	return &eventQueue{cap: capMsgs, notify: make(chan struct{}, 1)}
}

// put queues e. A push whose messages would take the queue over its cap is
// dropped instead (unless the queue holds no messages at all, so that any
// push fits in an empty queue): its messages are counted in the
// EventPushesDropped event that put queues if none is waiting. put reports
// whether e was dropped and whether that queued a new EventPushesDropped.
// Events put after end are discarded.
func (q *eventQueue) put(e Event) (dropped, first bool) {
	q.mu.Lock()
	if q.ended {
		q.mu.Unlock()
		return false, false
	}
	if n := len(e.Messages); n > 0 && q.cap >= 0 && q.msgs > 0 && q.msgs+n > q.cap {
		q.lost += n
		dropped = true
		if q.marker {
			q.mu.Unlock()
			return true, false
		}
		q.marker, first = true, true
		e = Event{Kind: EventPushesDropped, Conn: e.Conn, Err: ErrEventQueueFull}
	}
	q.items = append(q.items, e)
	q.msgs += len(e.Messages)
	q.mu.Unlock()
	select {
	case q.notify <- struct{}{}:
	default:
	}
	return dropped, first
}

// end marks that no more events will be put; pop reports done once the
// queued ones are taken.
func (q *eventQueue) end() {
	q.mu.Lock()
	q.ended = true
	q.mu.Unlock()
	select {
	case q.notify <- struct{}{}:
	default:
	}
}

// pop takes the oldest event. ok is false when the queue is empty; done is
// true when it is empty and ended. An EventPushesDropped comes out with
// Dropped set to every message dropped until then.
func (q *eventQueue) pop() (e Event, ok, done bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.head == len(q.items) {
		return Event{}, false, q.ended
	}
	e = q.items[q.head]
	q.items[q.head] = Event{}
	q.head++
	q.msgs -= len(e.Messages)
	if e.Kind == EventPushesDropped {
		e.Dropped, q.lost, q.marker = q.lost, 0, false
	}
	if q.head == len(q.items) {
		q.items = q.items[:0]
		q.head = 0
	} else if q.head >= 1024 && q.head*2 >= len(q.items) {
		n := copy(q.items, q.items[q.head:])
		clear(q.items[n:])
		q.items = q.items[:n]
		q.head = 0
	}
	return e, true, false
}

// queued returns the number of messages waiting.
func (q *eventQueue) queued() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.msgs
}
