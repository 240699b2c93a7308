package transport

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"sync"
	"time"

	"github.com/openimbot/openimbot/content"
)

// EventSync asks the consumer to sync by seq now (newest seqs, then a pull
// of every gap): messages are waiting on the server. A Poller emits it when
// the newest seqs changed or a webhook callback announced a message; the
// gateway Client does not.
const EventSync EventKind = 64

// Poll defaults.
const (
	DefaultPollInterval    = time.Second
	DefaultPollMaxInterval = 10 * time.Second
	// pollIdleBeforeBackoff is the number of idle polls after which the
	// interval starts doubling.
	pollIdleBeforeBackoff = 10
	// expectTTL is how long a message announced by a callback is looked for
	// with quick re-polls before the periodic poll is left to find it.
	expectTTL = 5 * time.Second
	// maxExpected bounds the announced messages being looked for.
	maxExpected = 10000
	// recentIDs is the number of pulled message IDs remembered to ignore
	// repeated announcements.
	recentIDs = 8192
)

// PollConfig configures a Poller. Zero values mean the documented defaults.
type PollConfig struct {
	API    *API   // the HTTP API (required)
	UserID string // the bot's user ID (required)
	Token  string // the bot's user token (required)
	// Interval is the poll period while messages arrive; default 1s. After
	// a poll that found new messages the Poller polls again at once.
	Interval time.Duration
	// MaxInterval bounds the back-off: after 10 idle polls the interval
	// doubles up to MaxInterval. Default 10s; a value below Interval means
	// Interval (no back-off).
	MaxInterval time.Duration
	Logger      *slog.Logger // default discards
}

// Poller receives over the HTTP API only (poll mode): it polls
// /msg/newest_seq and reports an EventSync whenever the newest seqs
// changed; the consumer then pulls the gaps with PullRange
// (/msg/pull_msg_by_seq). Its event stream has the shape of the Client's:
// EventConnecting, EventConnected after the first successful poll (and
// after a poll that succeeds following failures), EventConnectFailed and
// EventDisconnected on HTTP failures (it keeps polling), EventTokenInvalid
// when the token is refused (Run then returns the *APIError), and
// EventSync. The Poller waits until the consumer comes back for the next
// event before it polls again, so a sync is never reported twice while one
// is running. Methods are safe for concurrent use.
type Poller struct {
	cfg PollConfig
	log *slog.Logger

	mu        sync.Mutex
	status    Status
	events    []Event
	ended     bool
	taken     uint64 // events returned by NextEvent
	done      uint64 // events the consumer finished (it came back for more)
	cached    map[string]int64
	known     map[string]bool // conversations of the last successful poll
	pullErr   bool            // a PullRange failed since the last sync
	expected  map[string]time.Time
	recent    map[string]struct{}
	recentLog []string
	newestAt  map[string]int64 // per conversation, the highest sendTime pulled

	notify    chan struct{} // cap 1: an event was queued or the stream ended
	processed chan struct{} // cap 1: the consumer came back
	poke      chan struct{} // cap 1: poll now
	closed    chan struct{}
	closeOnce sync.Once
}

// NewPoller validates cfg and returns a Poller; it does no I/O.
func NewPoller(cfg PollConfig) (*Poller, error) {
	switch {
	case cfg.API == nil:
		return nil, errors.New("transport: NewPoller: PollConfig.API is nil")
	case cfg.UserID == "":
		return nil, errors.New("transport: NewPoller: empty UserID")
	case cfg.Token == "":
		return nil, errors.New("transport: NewPoller: empty Token")
	case cfg.Interval < 0 || cfg.MaxInterval < 0:
		return nil, fmt.Errorf("transport: NewPoller: negative interval")
	}
	if cfg.Interval == 0 {
		cfg.Interval = DefaultPollInterval
	}
	if cfg.MaxInterval == 0 {
		cfg.MaxInterval = DefaultPollMaxInterval
	}
	if cfg.MaxInterval < cfg.Interval {
		cfg.MaxInterval = cfg.Interval
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Poller{
		cfg: cfg, log: log,
		expected:  map[string]time.Time{},
		recent:    map[string]struct{}{},
		newestAt:  map[string]int64{},
		notify:    make(chan struct{}, 1),
		processed: make(chan struct{}, 1),
		poke:      make(chan struct{}, 1),
		closed:    make(chan struct{}),
	}, nil
}

// UserID returns the polled user.
func (p *Poller) UserID() string { return p.cfg.UserID }

// Status reports StatusConnected while the HTTP API answers.
func (p *Poller) Status() Status {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.status
}

// Close stops Run; NextEvent then returns the events left and ErrClosed.
// Idempotent.
func (p *Poller) Close() error {
	p.closeOnce.Do(func() { close(p.closed) })
	return nil
}

// Poke makes a waiting Poller poll now.
func (p *Poller) Poke() {
	select {
	case p.poke <- struct{}{}:
	default:
	}
}

// Expect announces a message of conversation conv sent at sendTime (a
// webhook callback): the Poller polls now and keeps re-polling quickly
// until a pull returned the message with that clientMsgID, for at most 5 s
// (then the periodic poll finds it). An ID already pulled is ignored (a
// repeated announcement); a message no newer than the newest one pulled
// from its conversation only makes the Poller poll once (a late
// announcement).
func (p *Poller) Expect(clientMsgID, conv string, sendTime int64) {
	p.mu.Lock()
	_, seen := p.recent[clientMsgID]
	late := sendTime > 0 && sendTime <= p.newestAt[conv]
	if !seen && !late && len(p.expected) < maxExpected {
		if _, ok := p.expected[clientMsgID]; !ok {
			p.expected[clientMsgID] = time.Now().Add(expectTTL)
		}
	}
	p.mu.Unlock()
	if !seen {
		p.Poke()
	}
}

// Known reports whether the last successful poll listed conversation conv.
func (p *Poller) Known(conv string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.known[conv]
}

func (p *Poller) setStatus(s Status) {
	p.mu.Lock()
	p.status = s
	p.mu.Unlock()
}

func (p *Poller) emit(e Event) {
	p.mu.Lock()
	if !p.ended {
		p.events = append(p.events, e)
	}
	p.mu.Unlock()
	select {
	case p.notify <- struct{}{}:
	default:
	}
}

func (p *Poller) end() {
	p.mu.Lock()
	p.ended = true
	p.status = StatusClosed
	p.mu.Unlock()
	select {
	case p.notify <- struct{}{}:
	default:
	}
}

// NextEvent returns the next event, waiting until there is one, ctx ends
// or the Poller stopped (ErrClosed once its events were all taken). Calling
// it again tells the Poller the previous event was handled.
func (p *Poller) NextEvent(ctx context.Context) (Event, error) {
	for {
		p.mu.Lock()
		if p.done != p.taken {
			p.done = p.taken
			select {
			case p.processed <- struct{}{}:
			default:
			}
		}
		if len(p.events) > 0 {
			e := p.events[0]
			p.events[0] = Event{}
			p.events = p.events[1:]
			p.taken++
			p.mu.Unlock()
			return e, nil
		}
		ended := p.ended
		p.mu.Unlock()
		if ended {
			return Event{}, ErrClosed
		}
		select {
		case <-p.notify:
		case <-ctx.Done():
			return Event{}, ctx.Err()
		}
	}
}

// waitHandled waits until the consumer handled every event emitted so far.
func (p *Poller) waitHandled(ctx context.Context) bool {
	for {
		p.mu.Lock()
		ok := len(p.events) == 0 && p.done == p.taken
		p.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-p.processed:
		case <-ctx.Done():
			return false
		}
	}
}

// GetNewestSeq returns the newest seqs: those of the poll that reported the
// sync being handled, or a fresh /msg/newest_seq.
func (p *Poller) GetNewestSeq(ctx context.Context) (map[string]int64, error) {
	p.mu.Lock()
	c := p.cached
	p.cached = nil
	p.mu.Unlock()
	if c != nil {
		return c, nil
	}
	return p.cfg.API.NewestSeq(ctx, p.cfg.Token, p.cfg.UserID)
}

// PullRange pulls the ranges with /msg/pull_msg_by_seq (see API.PullRange).
func (p *Poller) PullRange(ctx context.Context, ranges []SeqRange) (map[string]PullResult, error) {
	res, err := p.cfg.API.PullRange(ctx, p.cfg.Token, p.cfg.UserID, ranges)
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		p.pullErr = true
		return nil, err
	}
	for _, pr := range res {
		for i := range pr.Messages {
			p.sawLocked(&pr.Messages[i])
		}
	}
	return res, nil
}

// sawLocked records a pulled message's ID. p.mu is held.
func (p *Poller) sawLocked(m *content.Message) {
	if m.SendTime > p.newestAt[m.ConversationID] {
		p.newestAt[m.ConversationID] = m.SendTime
	}
	id := m.ClientMsgID
	if id == "" {
		return
	}
	delete(p.expected, id)
	if _, ok := p.recent[id]; ok {
		return
	}
	p.recent[id] = struct{}{}
	p.recentLog = append(p.recentLog, id)
	if len(p.recentLog) > recentIDs {
		delete(p.recent, p.recentLog[0])
		p.recentLog[0] = ""
		p.recentLog = p.recentLog[1:]
	}
}

// expecting reports whether announced messages are still looked for,
// dropping the expired ones.
func (p *Poller) expecting() bool {
	now := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	for id, until := range p.expected {
		if now.After(until) {
			delete(p.expected, id)
		}
	}
	return len(p.expected) > 0
}

// Run polls until ctx ends, Close, or the token is refused (it then
// returns the *APIError, which matches ErrTokenExpired or ErrTokenInvalid).
// It returns nil when stopped by ctx or Close.
func (p *Poller) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-p.closed:
			cancel()
		case <-ctx.Done():
		}
	}()
	defer p.end()
	var (
		last      map[string]int64
		connected bool
		gen       uint64
		attempt   = 1
		interval  = p.cfg.Interval
		idle      int
		retry     time.Duration // quick re-poll for announced messages
	)
	p.setStatus(StatusConnecting)
	p.emit(Event{Kind: EventConnecting, Attempt: attempt})
	for {
		newest, err := p.cfg.API.NewestSeq(ctx, p.cfg.Token, p.cfg.UserID)
		if ctx.Err() != nil {
			return nil
		}
		wait := interval
		switch {
		case err != nil && IsFatalToken(err):
			var ae *APIError
			errors.As(err, &ae)
			p.emit(Event{Kind: EventTokenInvalid, Err: ae})
			return ae
		case err != nil:
			if connected {
				connected = false
				p.setStatus(StatusDisconnected)
				p.log.Warn("transport: poll failed", "err", err)
				p.emit(Event{Kind: EventDisconnected, Conn: gen, Err: err})
			} else {
				p.emit(Event{Kind: EventConnectFailed, Attempt: attempt, Err: err})
			}
			attempt++
			interval = min(interval*2, p.cfg.MaxInterval)
			wait = interval
		default:
			p.mu.Lock()
			p.known = make(map[string]bool, len(newest))
			for conv := range newest {
				p.known[conv] = true
			}
			failed := p.pullErr
			p.pullErr = false
			p.mu.Unlock()
			changed := !connected || failed || !maps.Equal(newest, last)
			if changed {
				p.mu.Lock()
				p.cached = newest
				p.mu.Unlock()
				if !connected {
					connected, attempt = true, 1
					gen++
					p.setStatus(StatusConnected)
					p.emit(Event{Kind: EventConnected, Conn: gen})
				} else {
					p.emit(Event{Kind: EventSync, Conn: gen})
				}
				if !p.waitHandled(ctx) {
					return nil
				}
				p.mu.Lock()
				p.cached = nil
				failed = p.pullErr
				p.mu.Unlock()
				last = newest
				if failed {
					last = nil
				}
				idle, interval, wait = 0, p.cfg.Interval, 0
			} else {
				idle++
				if idle > pollIdleBeforeBackoff {
					interval = min(interval*2, p.cfg.MaxInterval)
				}
				wait = interval
			}
			if p.expecting() {
				if retry == 0 {
					retry = 10 * time.Millisecond
				} else {
					retry = min(retry*2, time.Second)
				}
				wait = min(wait, retry)
			} else {
				retry = 0
			}
		}
		if wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-p.poke:
				t.Stop()
			case <-ctx.Done():
				t.Stop()
				return nil
			}
		}
		if !connected {
			p.setStatus(StatusConnecting)
			p.emit(Event{Kind: EventConnecting, Attempt: attempt})
		}
	}
}
