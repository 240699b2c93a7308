package sandbox

import (
	"encoding/json"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/openimbot/openimbot/content"
)

// Stats are counters since Start (they survive Restart).
type Stats struct {
	Connections      int             // connections open now
	TotalConnections int64           // handshakes that succeeded
	FailedHandshakes int64           // handshakes answered with an error
	FramesIn         int64           // data frames received (binary and text)
	FramesOut        int64           // data frames sent (binary and text)
	Pushes           int64           // 2001 frames queued
	Messages         int64           // messages accepted (stored or online only)
	Requests         map[int32]int64 // requests by ReqIdentifier
	HTTPRequests     int64           // HTTP API calls
}

type counters struct {
	totalConns, failedHS, pushes, messages, http int64
	requests                                     map[int32]int64
	framesIn, framesOut                          atomic.Int64
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Stats{
		Connections:      len(s.conns),
		TotalConnections: s.stats.totalConns,
		FailedHandshakes: s.stats.failedHS,
		FramesIn:         s.stats.framesIn.Load(),
		FramesOut:        s.stats.framesOut.Load(),
		Pushes:           s.stats.pushes,
		Messages:         s.stats.messages,
		HTTPRequests:     s.stats.http,
		Requests:         make(map[int32]int64, len(s.stats.requests)),
	}
	for k, v := range s.stats.requests {
		st.Requests[k] = v
	}
	return st
}

// Subscribe returns a channel that receives every message the server accepts
// from now on — stored or online only, pushed or withheld, whether sent by a
// connected client (1003), the HTTP API or the Go API — in acceptance order,
// and a function that cancels the subscription and closes the channel.
// buffer is the channel capacity; a subscriber that does not keep up never
// blocks the server (messages queue without bound behind the channel). Close
// closes every subscription's channel.
func (s *Server) Subscribe(buffer int) (<-chan content.Message, func()) {
	return s.subscribe(buffer, nil)
}

// SubscribeFrom is Subscribe restricted to the messages sent by the given
// users; the others are not converted or queued for it at all, which makes
// it the cheap way to watch what a bot sends.
func (s *Server) SubscribeFrom(buffer int, senderIDs ...string) (<-chan content.Message, func()) {
	from := make(map[string]bool, len(senderIDs))
	for _, id := range senderIDs {
		from[id] = true
	}
	return s.subscribe(buffer, from)
}

func (s *Server) subscribe(buffer int, from map[string]bool) (<-chan content.Message, func()) {
	if buffer < 0 {
		buffer = 0
	}
	sub := &subscriber{
		from:   from,
		ch:     make(chan content.Message, buffer),
		notify: make(chan struct{}, 1),
		done:   make(chan struct{}),
		exited: make(chan struct{}),
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		close(sub.ch)
		return sub.ch, func() {}
	}
	s.subs[sub] = struct{}{}
	if from == nil {
		s.subsAll = append(s.subsAll, sub)
	} else {
		if s.subsFrom == nil {
			s.subsFrom = map[string][]*subscriber{}
		}
		for id := range from {
			s.subsFrom[id] = append(s.subsFrom[id], sub)
		}
	}
	s.mu.Unlock()
	go sub.pump()
	return sub.ch, func() {
		s.mu.Lock()
		if _, ok := s.subs[sub]; ok {
			delete(s.subs, sub)
			s.subsAll = withoutSub(s.subsAll, sub)
			for id := range sub.from {
				if s.subsFrom[id] = withoutSub(s.subsFrom[id], sub); len(s.subsFrom[id]) == 0 {
					delete(s.subsFrom, id)
				}
			}
		}
		s.mu.Unlock()
		sub.stop()
		<-sub.exited
	}
}

// withoutSub returns subs without sub.
func withoutSub(subs []*subscriber, sub *subscriber) []*subscriber {
	return slices.DeleteFunc(subs, func(o *subscriber) bool { return o == sub })
}

// subscriber is one Subscribe call: an unbounded queue pumped into ch. While
// the pump is idle and ch has room, add sends straight into ch instead, which
// spares a wake-up of the pump per message.
type subscriber struct {
	from   map[string]bool // senders to receive; nil: all (read-only; Server.subsFrom indexes it)
	mu     sync.Mutex
	queue  []content.Message
	busy   bool // the pump holds a batch taken from queue that it has not sent yet
	ch     chan content.Message
	notify chan struct{}
	done   chan struct{}
	once   sync.Once
	exited chan struct{}
}

// add queues m. It is called with Server.mu held and only while sub is
// subscribed, so never after the pump closed ch.
func (sub *subscriber) add(m content.Message) {
	sub.mu.Lock()
	if !sub.busy && len(sub.queue) == 0 {
		// Everything added before was sent: m keeps its place in order.
		select {
		case sub.ch <- m:
			sub.mu.Unlock()
			return
		default:
		}
	}
	sub.queue = append(sub.queue, m)
	sub.mu.Unlock()
	select {
	case sub.notify <- struct{}{}:
	default:
	}
}

func (sub *subscriber) stop() { sub.once.Do(func() { close(sub.done) }) }

func (sub *subscriber) pump() {
	defer close(sub.exited)
	defer close(sub.ch)
	var spare []content.Message // the previous batch's array, reused by add
	for {
		sub.mu.Lock()
		q := sub.queue
		sub.queue = spare[:0]
		sub.busy = len(q) > 0
		sub.mu.Unlock()
		for _, m := range q {
			select {
			case sub.ch <- m:
			case <-sub.done:
				return
			}
		}
		clear(q)
		spare = q
		select {
		case <-sub.notify:
		case <-sub.done:
			return
		}
	}
}

// DropAll closes every websocket connection now, without a close frame.
func (s *Server) DropAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.drop("DropAll")
	}
}

// DropEvery makes every connection, open or future, close (without a close
// frame) after it has sent or received n more data frames. 0 disables.
func (s *Server) DropEvery(n int) {
	if n < 0 {
		n = 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropEvery = n
	for c := range s.conns {
		c.setDropEvery(n)
	}
}

// DelayFrames delays every outbound data frame by d (frames of one
// connection stay in order). 0 disables.
func (s *Server) DelayFrames(d time.Duration) {
	if d < 0 {
		d = 0
	}
	s.delay.Store(int64(d))
}

// RefuseHandshakes makes the next k handshakes fail with errCode code (e.g.
// 1601, 500, or a token error 1501–1507, which clients treat as fatal),
// reported like any handshake error. k <= 0 cancels.
func (s *Server) RefuseHandshakes(k int, code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if k < 0 {
		k = 0
	}
	s.refuseLeft, s.refuseCode = k, code
}

// WithholdPushes, while on, stores messages without sending 2001 pushes, so
// clients see seq gaps they must fill by pulling. Turning it off does not
// replay what was withheld.
func (s *Server) WithholdPushes(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.withhold = on
}

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }
