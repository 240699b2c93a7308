package bot

import (
	"context"
	"log/slog"
	"time"

	"github.com/openimbot/openimbot/content"
	"github.com/openimbot/openimbot/storage"
	"github.com/openimbot/openimbot/transport"
)

// Observer receives the runtime's events, one call at each step of a
// message's path, for metrics, logs and consoles. The bot calls it from its
// event goroutine and from every worker at once: implementations must be
// safe for concurrent use, must not block and should be cheap (they run on
// the hot path). Embed NopObserver to implement only some methods.
//
// What an observer can read from the bot instead of being told (Stats for
// duplicates, QueueDepth, Status) is not reported here: a metrics collector
// reads it when it is scraped, at no cost per message.
type Observer interface {
	// Received is called when a message is handed to the handler; offline
	// is true for a message pulled after a (re)connect rather than pushed.
	Received(m *content.Message, offline bool)
	// Handled is called when the handler returned (or panicked).
	Handled(e HandledEvent)
	// Sent is called when a send finished, from a handler or not.
	Sent(e SendEvent)
	// SyncLag is called when a sync after a connect learned the newest
	// seqs, as the catch-up proceeds and when it is caught up: sum is the
	// number of stored messages not yet handed to the workers, max the
	// largest such count of one conversation (during a catch-up, an upper
	// bound).
	SyncLag(sum, max int64)
	// Committed is called after each storage commit of a database the bot
	// opened itself (WithStorage); with WithDB set storage.Options.OnCommit
	// instead.
	Committed(d time.Duration, writes int, err error)
}

// NopObserver implements Observer by doing nothing; embed it in an observer
// that only needs some of the methods.
type NopObserver struct{}

// Received does nothing.
func (NopObserver) Received(*content.Message, bool) {}

// Handled does nothing.
func (NopObserver) Handled(HandledEvent) {}

// Sent does nothing.
func (NopObserver) Sent(SendEvent) {}

// SyncLag does nothing.
func (NopObserver) SyncLag(int64, int64) {}

// Committed does nothing.
func (NopObserver) Committed(time.Duration, int, error) {}

// HandledEvent describes one handler invocation.
type HandledEvent struct {
	Message  *content.Message // must not be kept after Handled returns
	Offline  bool
	Route    string        // the route that ran (Context.Route); "" when none did
	Duration time.Duration // from the start of the handler to its return
	Err      error         // the handler's error or the recovered panic (a *HandlerError); nil on success
	Panic    bool          // the handler panicked
	Sends    int           // sends made through the Context
	SendErr  error         // the last failed send through the Context, if any
}

// SendEvent describes one finished send.
type SendEvent struct {
	To       Target
	Elem     content.Element // what was sent; must not be modified
	Duration time.Duration
	Err      error // nil on success; matches ErrRateLimited for a send over the limit
}

// WithObserver sets the observer of the runtime's events; default none,
// which costs one nil check per event.
func WithObserver(o Observer) Option {
	return func(c *config) error {
		if o == nil {
			return optErr("WithObserver", "nil observer")
		}
		c.observer = o
		return nil
	}
}

// QueueDepth returns the number of messages waiting in the worker queues
// (0 before Run). Safe for concurrent use.
func (b *Bot) QueueDepth() int {
	b.mu.Lock()
	ready := b.sync != nil
	b.mu.Unlock()
	if !ready {
		return 0
	}
	n := 0
	for _, ch := range b.disp.shards {
		n += len(ch)
	}
	return n
}

// Route returns the name of the route that handled the message, as set by
// a router with SetRoute ("" if none).
func (c *Context) Route() string { return c.route }

// SetRoute records the route that runs the message's handler; routers call
// it before running a route, so that logs and metrics name it.
func (c *Context) SetRoute(name string) { c.route = name }

// noteSend records the result of a send made through the Context.
func (c *Context) noteSend(err error) {
	c.sends++
	if err != nil {
		c.sendErr = err
	}
}

// observeReceived reports a message about to be handled.
func (b *Bot) observeReceived(c *Context) {
	if o := b.cfg.observer; o != nil {
		o.Received(c.msg, c.offline)
	}
}

// observeHandled reports a handler's return to the observer and, at debug
// level, logs one line for the message.
func (b *Bot) observeHandled(c *Context, err error) {
	o := b.cfg.observer
	debug := b.log.Enabled(context.Background(), slog.LevelDebug)
	if o == nil && !debug {
		return
	}
	d := time.Since(c.start)
	var panicked bool
	if he, ok := err.(*HandlerError); ok && he.Panic != nil {
		panicked = true
	}
	if o != nil {
		o.Handled(HandledEvent{Message: c.msg, Offline: c.offline, Route: c.route, Duration: d,
			Err: err, Panic: panicked, Sends: c.sends, SendErr: c.sendErr})
	}
	if debug {
		m := c.msg
		route := c.route
		if route == "" {
			route = "none"
		}
		send := "none"
		switch {
		case c.sendErr != nil:
			send = "failed: " + c.sendErr.Error()
		case c.sends > 0:
			send = "ok"
		}
		attrs := []slog.Attr{
			slog.String("conversation", m.ConversationID), slog.Int64("seq", m.Seq),
			slog.String("sender", m.SendID), slog.String("content", m.ContentType.String()),
			slog.Bool("offline", c.offline), slog.String("route", route),
			slog.Duration("duration", d), slog.Int("sends", c.sends), slog.String("send", send),
		}
		if err != nil {
			attrs = append(attrs, slog.Any("err", err))
		}
		b.log.LogAttrs(context.Background(), slog.LevelDebug, "bot: message", attrs...)
	}
}

// observeSend reports a send started at start that finished with *err;
// send defers it when an observer is set.
func (b *Bot) observeSend(to Target, start time.Time, err *error) {
	b.observeSendOf(to, nil, start, err)
}

// observeSendOf is observeSend with the element sent.
func (b *Bot) observeSendOf(to Target, elem content.Element, start time.Time, err *error) {
	b.cfg.observer.Sent(SendEvent{To: to, Elem: elem, Duration: time.Since(start), Err: *err})
}

// observeLag reports the sync lag of gaps (nil: caught up).
func (s *syncer) observeLag(gaps []gap) {
	if s.obs == nil {
		return
	}
	var sum, mx int64
	for _, g := range gaps {
		n := g.end - g.begin + 1
		sum += n
		mx = max(mx, n)
	}
	s.lagMax = mx
	s.obs.SyncLag(sum, mx)
}

// observeProgress reports the lag of a catch-up with remaining seqs left.
func (s *syncer) observeProgress(remaining int64) {
	if s.obs == nil {
		return
	}
	remaining = max(remaining, 0)
	s.obs.SyncLag(remaining, min(s.lagMax, remaining))
}

// storageCommitted is the storage.Options.OnCommit of a database the bot
// opens itself.
func (b *Bot) storageCommitted(d time.Duration, writes int, err error) {
	if o := b.cfg.observer; o != nil {
		o.Committed(d, writes, err)
	}
}

// storageOptions are StorageOptions with the observer's commit hook.
func (b *Bot) storageOptions() storage.Options {
	o := StorageOptions(b.log)
	if b.cfg.observer != nil {
		o.OnCommit = b.storageCommitted
	}
	return o
}

// Connected reports whether the bot's connection is up (Status is
// transport.StatusConnected), for health checks.
func (b *Bot) Connected() bool { return b.Status() == transport.StatusConnected }
