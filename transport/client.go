package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/openimbot/openimbot/internal/wire"
)

// Defaults of Config.
const (
	DefaultPlatformID     int32 = 7
	DefaultPingInterval         = 24 * time.Second
	DefaultReadTimeout          = 30 * time.Second
	DefaultRequestTimeout       = 10 * time.Second
	DefaultMaxReconnects        = 300
	DefaultStableAfter          = 20 * time.Second
	DefaultEventQueueCap        = 100000
	DefaultProfileTTL           = 600 * time.Second
)

// Client is a reconnecting OpenIM gateway client; see the contract in api.go
// and the package documentation. All methods are safe for concurrent use.
type Client struct {
	cfg Config
	log *slog.Logger

	events chan Event
	queue  *eventQueue

	incr atomic.Uint64
	gen  atomic.Uint64

	mu        sync.Mutex
	status    Status
	cur       *conn         // the established connection, nil while disconnected
	connWait  chan struct{} // closed and replaced when a connection is installed
	started   bool
	stopped   bool  // Close, logout or a fatal end: no more connections
	stopErr   error // why requests fail after stopped
	loggedOut bool

	closing   chan struct{} // closed by Close
	closeOnce sync.Once
	runDone   chan struct{} // closed when Run returns (if it was started)
	dispDone  chan struct{} // closed when the dispatcher has exited (or, if it never ran, with events)
	dispStop  chan struct{} // closed by Close: the dispatcher stops now
	evMode    eventMode     // how events are read; guarded by mu
	evPull    atomic.Bool   // evMode is eventsPull

	profile profileCache
	probeMu sync.Mutex   // one pull probe at a time (see probe)
	pullEst atomic.Int64 // estimated largest pulled message, bytes (see observePullSizes)
}

// New validates cfg and returns a Client. It does no I/O.
func New(cfg Config) (*Client, error) {
	if cfg.WSAddr == "" {
		return nil, errors.New("transport: Config.WSAddr is required")
	}
	if cfg.UserID == "" {
		return nil, errors.New("transport: Config.UserID is required")
	}
	if cfg.Token == "" {
		return nil, errors.New("transport: Config.Token is required")
	}
	if cfg.PlatformID == 0 {
		cfg.PlatformID = DefaultPlatformID
	}
	if cfg.PlatformID < 1 || cfg.PlatformID > 11 {
		return nil, fmt.Errorf("transport: Config.PlatformID %d is not an OpenIM platform (1–11)", cfg.PlatformID)
	}
	if cfg.Compression != CompressNone && cfg.Compression != CompressGzip {
		return nil, fmt.Errorf("transport: Config.Compression %d is unknown", cfg.Compression)
	}
	if cfg.Encoding != EncodingGob && cfg.Encoding != EncodingJSON {
		return nil, fmt.Errorf("transport: Config.Encoding %d is unknown", cfg.Encoding)
	}
	if cfg.OperationID == nil {
		cfg.OperationID = defaultOperationID
	}
	if cfg.PingInterval <= 0 {
		cfg.PingInterval = DefaultPingInterval
	}
	if cfg.ReadTimeout <= 0 {
		cfg.ReadTimeout = DefaultReadTimeout
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = DefaultRequestTimeout
	}
	if cfg.Backoff == nil {
		cfg.Backoff = DefaultBackoff
	}
	if cfg.MaxReconnects == 0 {
		cfg.MaxReconnects = DefaultMaxReconnects
	}
	if cfg.StableAfter == 0 {
		cfg.StableAfter = DefaultStableAfter
	}
	if cfg.EventQueueCap == 0 {
		cfg.EventQueueCap = DefaultEventQueueCap
	}
	if cfg.ProfileTTL <= 0 {
		cfg.ProfileTTL = DefaultProfileTTL
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	c := &Client{
		cfg:      cfg,
		log:      log.With("component", "transport", "userID", cfg.UserID),
		events:   make(chan Event), // unbuffered: undelivered events stay in the capped queue
		queue:    newEventQueue(cfg.EventQueueCap),
		connWait: make(chan struct{}),
		closing:  make(chan struct{}),
		runDone:  make(chan struct{}),
		dispDone: make(chan struct{}),
		dispStop: make(chan struct{}),
	}
	c.pullEst.Store(wire.MaxServerInbound)
	return c, nil
}

// DefaultBackoff is the default Config.Backoff: 1, 2, 4, 8, 16 s for
// attempts 1–5, then the cycle repeats; each wait gets up to 20% jitter.
func DefaultBackoff(attempt int) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	d := time.Second << ((attempt - 1) % 5)
	return d + rand.N(d/5+1)
}

func defaultOperationID() string {
	return strconv.FormatInt(time.Now().UnixNano()+int64(rand.Uint32()), 10)
}

// UserID returns the configured user ID.
func (c *Client) UserID() string { return c.cfg.UserID }

// Status returns the current connection state.
func (c *Client) Status() Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.status
}

// eventMode is how a client's events are read: not yet chosen, from the
// Events channel (fed by a dispatcher goroutine), or with NextEvent.
type eventMode uint8

const (
	eventsUnread eventMode = iota
	eventsChannel
	eventsPull
	eventsClosed // closed by Close before anyone asked: either way reads nothing
)

// readEvents chooses how events are read, the first time only, and reports
// whether they are read as mode.
func (c *Client) readEvents(mode eventMode) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.evMode == eventsUnread {
		c.evMode = mode
		switch mode {
		case eventsChannel:
			go c.dispatch()
		default:
			// No dispatcher: the Events channel is closed at once.
			close(c.events)
			close(c.dispDone)
			c.evPull.Store(true)
		}
	}
	return c.evMode == mode || c.evMode == eventsClosed
}

// Events returns the ordered event stream. Events are queued without bound
// (up to Config.EventQueueCap messages, see ErrEventQueueFull) so reading
// slowly never stalls the connection. The channel is closed after Run has
// returned and every queued event was delivered, or at once by Close. The
// events of a client are read either from this channel or with NextEvent:
// after NextEvent was called, the channel is closed and empty.
func (c *Client) Events() <-chan Event {
	c.readEvents(eventsChannel)
	return c.events
}

// NextEvent returns the next event of the ordered stream that Events
// delivers, without the dispatcher goroutine behind the channel (one
// goroutine hand-off less per event). It waits until an event is queued or
// ctx ends (ctx's error). It returns ErrClosed once Run has returned and
// every queued event was taken, or at once after Close. Calls must not be
// concurrent, and a client whose Events channel was asked for cannot be
// read with NextEvent (an error).
func (c *Client) NextEvent(ctx context.Context) (Event, error) {
	if !c.evPull.Load() && !c.readEvents(eventsPull) {
		return Event{}, errors.New("transport: NextEvent: this client's events are read from the Events channel")
	}
	for {
		select {
		case <-c.dispStop:
			return Event{}, ErrClosed
		default:
		}
		e, ok, done := c.queue.pop()
		if ok {
			return e, nil
		}
		if done {
			return Event{}, ErrClosed
		}
		select {
		case <-c.queue.notify:
		case <-c.dispStop:
			return Event{}, ErrClosed
		case <-ctx.Done():
			return Event{}, ctx.Err()
		}
	}
}

// dispatch moves events from the queue to the Events channel. It is the
// only sender on c.events.
func (c *Client) dispatch() {
	defer close(c.dispDone)
	defer close(c.events)
	for {
		e, ok, done := c.queue.pop()
		if done {
			return
		}
		if !ok {
			select {
			case <-c.queue.notify:
				continue
			case <-c.dispStop:
				return
			}
		}
		select {
		case c.events <- e:
		case <-c.dispStop:
			return
		}
	}
}

// emit queues e; see eventQueue.put.
func (c *Client) emit(e Event) (dropped, first bool) { return c.queue.put(e) }

func (c *Client) setStatus(s Status) {
	c.mu.Lock()
	if c.status != StatusClosed {
		c.status = s
	}
	c.mu.Unlock()
}

// Run dials the gateway and keeps a connection up until ctx ends, Close or
// Logout is called, or a fatal error occurs. It returns nil when stopped by
// ctx, Close or Logout; an error wrapping ErrKicked after a 2002 kick; the
// *APIError of a handshake rejected with 1501–1507 (errors.Is with
// ErrTokenExpired, ErrTokenInvalid or ErrTokenKicked); an error wrapping
// ErrReconnectsExhausted after Config.MaxReconnects consecutive failed
// dials. Run may be called once; later calls return ErrClosed.
func (c *Client) Run(ctx context.Context) error {
	c.mu.Lock()
	if c.started || c.stopped {
		c.mu.Unlock()
		return ErrClosed
	}
	c.started = true
	c.mu.Unlock()
	defer close(c.runDone)
	err := c.supervise(ctx)
	c.stop(ErrClosed)
	c.queue.end()
	return err
}

// stop marks the client stopped: waiting and future requests fail with err.
func (c *Client) stop(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.stopped {
		c.stopped = true
		c.stopErr = err
		close(c.connWait)
		c.connWait = make(chan struct{})
	}
	c.status = StatusClosed
}

func (c *Client) supervise(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		select {
		case <-c.closing:
			cancel()
		case <-ctx.Done():
		}
	}()
	defer func() {
		cancel()
		<-watched
	}()
	failures := 0 // consecutive failed dials, for MaxReconnects
	// backoff counts the attempts since the last connection that stayed up
	// for StableAfter: failed dials and connections that ended sooner.
	backoff := 0
	wait := func(d time.Duration) bool {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			return true
		case <-ctx.Done():
			return false
		}
	}
	for {
		if ctx.Err() != nil {
			return nil
		}
		c.setStatus(StatusConnecting)
		c.emit(Event{Kind: EventConnecting, Attempt: failures + 1})
		gen := c.gen.Add(1)
		cn, err := c.dial(ctx, gen)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			failures++
			backoff++
			c.log.Warn("dial failed", "attempt", failures, "err", err)
			c.emit(Event{Kind: EventConnectFailed, Conn: gen, Attempt: failures, Err: err})
			if IsFatalToken(err) {
				c.stop(err)
				c.emit(Event{Kind: EventTokenInvalid, Conn: gen, Err: err})
				return err
			}
			if c.cfg.MaxReconnects > 0 && failures >= c.cfg.MaxReconnects {
				e := fmt.Errorf("%w after %d attempts: %w", ErrReconnectsExhausted, failures, err)
				c.stop(e)
				return e
			}
			// Still StatusConnecting: waiting to redial.
			if !wait(c.cfg.Backoff(backoff)) {
				return nil
			}
			continue
		}
		failures = 0
		c.mu.Lock()
		if c.stopped {
			c.mu.Unlock()
			cn.die(ErrClosed) // not started: no goroutines to wait for
			return nil
		}
		c.status = StatusConnected
		c.cur = cn
		close(c.connWait)
		c.connWait = make(chan struct{})
		c.mu.Unlock()
		c.log.Info("connected", "conn", gen)
		c.emit(Event{Kind: EventConnected, Conn: gen})
		connectedAt := time.Now()
		cn.start()

		select {
		case <-cn.done:
		case <-ctx.Done():
			cn.die(ErrClosed)
			<-cn.done
		}
		c.mu.Lock()
		c.cur = nil
		loggedOut := c.loggedOut
		c.mu.Unlock()
		cause := cn.cause()
		switch {
		case errors.Is(cause, ErrKicked):
			c.log.Warn("kicked by the server", "conn", gen)
			c.stop(cause)
			c.emit(Event{Kind: EventKicked, Conn: gen, Err: cause})
			return cause
		case loggedOut:
			c.stop(ErrClosed)
			c.emit(Event{Kind: EventDisconnected, Conn: gen, Err: cause})
			return nil
		case ctx.Err() != nil || c.isClosing():
			// Close kills the connection before the watcher cancels ctx:
			// either way this is a requested stop, not a lost connection.
			c.emit(Event{Kind: EventDisconnected, Conn: gen, Err: ErrClosed})
			return nil
		}
		c.log.Warn("disconnected", "conn", gen, "err", cause)
		c.setStatus(StatusDisconnected)
		c.emit(Event{Kind: EventDisconnected, Conn: gen, Err: cause})
		if up := time.Since(connectedAt); up >= c.cfg.StableAfter {
			backoff = 0
		} else {
			c.log.Info("connection ended soon after it was made; backing off", "conn", gen, "up", up)
		}
		backoff++
		if !wait(c.cfg.Backoff(backoff)) {
			return nil
		}
	}
}

// Close stops the client now: the connection is closed, pending and waiting
// requests fail with ErrClosed, Run returns nil, and the Events channel is
// closed (events not yet delivered are discarded). It waits for every
// goroutine of the client and is idempotent.
func (c *Client) Close() error {
	c.closeOnce.Do(func() {
		c.stop(ErrClosed)
		close(c.closing)
		c.mu.Lock()
		cn := c.cur
		started := c.started
		c.mu.Unlock()
		if cn != nil {
			cn.die(ErrClosed)
		}
		close(c.dispStop)
		c.mu.Lock()
		if c.evMode == eventsUnread {
			// Nobody asked for the events: no dispatcher to stop.
			c.evMode = eventsClosed
			close(c.events)
			close(c.dispDone)
		}
		c.mu.Unlock()
		if started {
			<-c.runDone
		}
		<-c.dispDone
	})
	return nil
}

// isClosing reports whether Close has been called.
func (c *Client) isClosing() bool {
	select {
	case <-c.closing:
		return true
	default:
		return false
	}
}

// waitConn returns the established connection, waiting for one until ctx
// ends or the client stops.
func (c *Client) waitConn(ctx context.Context) (*conn, error) {
	for {
		c.mu.Lock()
		if c.stopped {
			err := c.stopErr
			c.mu.Unlock()
			if errors.Is(err, ErrClosed) || err == nil {
				return nil, ErrClosed
			}
			return nil, fmt.Errorf("%w: %w", ErrClosed, err)
		}
		if c.cur != nil && !c.cur.isDead() {
			cn := c.cur
			c.mu.Unlock()
			return cn, nil
		}
		// Disconnected, or the connection died and the supervisor has
		// not cleared it yet: connWait is closed by the next connection
		// or by stop.
		ch := c.connWait
		c.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, fmt.Errorf("transport: waiting for a connection: %w", ctx.Err())
		}
	}
}

func (c *Client) nextMsgIncr() string {
	return c.cfg.UserID + "_" + strconv.FormatUint(c.incr.Add(1), 10)
}

// String describes cfg for logs and errors with the token redacted.
func (cfg Config) String() string {
	tok := ""
	if cfg.Token != "" {
		tok = "REDACTED"
	}
	return fmt.Sprintf("transport.Config{WSAddr:%q UserID:%q Token:%q PlatformID:%d Compression:%d Encoding:%d}",
		cfg.WSAddr, cfg.UserID, tok, cfg.PlatformID, cfg.Compression, cfg.Encoding)
}

// LogValue makes slog print cfg without its token.
func (cfg Config) LogValue() slog.Value { return slog.StringValue(cfg.String()) }
