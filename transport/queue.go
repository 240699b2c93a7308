package transport

import "sync"

// eventQueue sits between the connection's read loop and the Events
// channel: put never blocks, so a slow consumer cannot stall the read loop
// or the heartbeat. Pushed messages are counted against a cap; the caller
// of put drops the connection when the cap is exceeded.
type eventQueue struct {
	mu     sync.Mutex
	items  []Event
	head   int
	msgs   int // messages in queued EventPush events
	cap    int // < 0: unbounded
	ended  bool
	notify chan struct{} // capacity 1: something was queued or the queue ended
	low    chan struct{} // capacity 1: the queue fell to half the cap or below
}

func newEventQueue(capMsgs int) *eventQueue {
	return &eventQueue{cap: capMsgs, notify: make(chan struct{}, 1), low: make(chan struct{}, 1)}
}

// put queues e and reports whether the queued message count now exceeds the
// cap. The event is queued either way: nothing is dropped. Events put after
// end are discarded.
func (q *eventQueue) put(e Event) (over bool) {
	q.mu.Lock()
	if q.ended {
		q.mu.Unlock()
		return false
	}
	q.items = append(q.items, e)
	q.msgs += len(e.Messages)
	over = q.cap >= 0 && q.msgs > q.cap
	q.mu.Unlock()
	select {
	case q.notify <- struct{}{}:
	default:
	}
	return over
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
// true when it is empty and ended.
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
	if len(e.Messages) > 0 && q.belowLowLocked() {
		select {
		case q.low <- struct{}{}:
		default:
		}
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

func (q *eventQueue) belowLowLocked() bool { return q.cap < 0 || q.msgs <= q.cap/2 }

// waitLow blocks until at most half the cap is queued or done is closed; it
// reports false in the latter case.
func (q *eventQueue) waitLow(done <-chan struct{}) bool {
	for {
		q.mu.Lock()
		ok := q.belowLowLocked()
		q.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-q.low:
		case <-done:
			return false
		}
	}
}
