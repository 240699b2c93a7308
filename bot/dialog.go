package bot

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/openimbot/openimbot/content"
)

// Dialog defaults.
const (
	// DefaultWaitTimeout is how long Wait waits unless WaitTimeout says
	// otherwise.
	DefaultWaitTimeout = 5 * time.Minute
	// MaxWaits bounds the handlers waiting at once (one per user and
	// conversation at most); a Wait beyond it fails with ErrTooManyWaits.
	MaxWaits = 10000
)

// Dialog errors.
var (
	// ErrWaitTimeout is returned by Wait and Ask when no answer came in
	// time.
	ErrWaitTimeout = errors.New("bot: no answer in time")
	// ErrWaitCanceled is returned by Wait and Ask, with the answer's
	// Context, when the answer was a cancel word (WaitCancelWords).
	ErrWaitCanceled = errors.New("bot: dialog cancelled by the user")
	// ErrAlreadyWaiting is returned by Wait when another handler already
	// waits for the same user in the same conversation.
	ErrAlreadyWaiting = errors.New("bot: a handler already waits for this user in this conversation")
	// ErrTooManyWaits is returned by Wait when MaxWaits handlers wait
	// already.
	ErrTooManyWaits = errors.New("bot: too many handlers waiting")
	// ErrCannotWait is returned by Wait on a Context that does not come
	// from a running bot (NewContext).
	ErrCannotWait = errors.New("bot: this context cannot wait (not from a running bot)")
)

// WithClock sets the clock of dialog timeouts (Context.Wait); default
// SystemClock(). Tests give a bottest.Clock to move time without sleeping.
func WithClock(c Clock) Option {
	return func(cfg *config) error {
		if c == nil {
			return optErr("WithClock", "nil clock")
		}
		cfg.clock = c
		return nil
	}
}

func (b *Bot) clock() Clock {
	if b.cfg.clock != nil {
		return b.cfg.clock
	}
	return SystemClock()
}

// WaitOption configures one Wait or Ask.
type WaitOption func(*waitConfig)

type waitConfig struct {
	timeout time.Duration
	cancel  []string
	match   func(*content.Message) bool
}

// WaitTimeout sets how long Wait waits; default DefaultWaitTimeout. d <= 0
// means the default.
func WaitTimeout(d time.Duration) WaitOption {
	return func(w *waitConfig) {
		if d > 0 {
			w.timeout = d
		}
	}
}

// WaitCancelWords sets the answers that cancel the dialog: Wait then
// returns the answer's Context with ErrWaitCanceled. They are compared with
// the trimmed text, ignoring case. Default "cancel" and "/cancel"; no
// words turns cancelling off.
func WaitCancelWords(words ...string) WaitOption {
	return func(w *waitConfig) { w.cancel = words }
}

// WaitMatch sets which messages of the user answer the wait; the others
// are routed as usual. Default: any message. f runs on the dispatcher's
// goroutine of the conversation and must be quick; a panic in it counts as
// false.
func WaitMatch(f func(*content.Message) bool) WaitOption {
	return func(w *waitConfig) { w.match = f }
}

// Ask replies prompt, then waits for the answer as Wait does.
func (c *Context) Ask(prompt string, opts ...WaitOption) (*Context, error) {
	if c.bot == nil {
		return nil, ErrCannotWait
	}
	if err := c.Reply(prompt); err != nil {
		return nil, err
	}
	return c.Wait(opts...)
}

// Wait waits for the next message of the same user in the same
// conversation and returns its Context: reply to the answer with it, and
// call Ask or Wait on it for the next question. The message goes to the
// waiting handler instead of the handler chain (the router). Meanwhile the
// conversation is not blocked: the other users of a group, and other
// conversations, are handled as usual; the messages of the conversation
// still reach handlers one at a time, in order (the waited-for message is
// handed over, and the next message of the conversation waits until the
// handler has waited again or returned).
//
// Wait returns ErrWaitTimeout when no answer came within WaitTimeout, the
// answer's Context and ErrWaitCanceled when the answer is a cancel word,
// ErrClosed when the bot stops (a Shutdown does not wait for dialogs),
// ErrAlreadyWaiting when another handler waits for the same user and
// conversation, ErrTooManyWaits, or ErrCannotWait for a Context from
// NewContext. Whatever it returns, c's own ctx gets a fresh handler
// timeout (WithHandlerTimeout), counted from Wait's return.
//
// Delivery: a dialog lives in memory. When a handler starts waiting, the
// watermark of the message it handles advances, as do those of the later
// messages of the conversation, and of each answer once the handler waits
// again or returns. So a crash or restart ends the dialogs in progress, and
// the messages they consumed are not delivered again. For dialogs that
// survive restarts, use the dialog plugin (its state is in storage).
func (c *Context) Wait(opts ...WaitOption) (*Context, error) {
	b := c.bot
	if b == nil || b.disp == nil {
		return nil, ErrCannotWait
	}
	cfg := waitConfig{timeout: DefaultWaitTimeout, cancel: []string{"cancel", "/cancel"}}
	for _, o := range opts {
		o(&cfg)
	}
	defer c.refresh()
	s := c.session()
	w, err := b.waits.add(waitKey(c.msg.ConversationID, c.msg.SendID), cfg.match)
	if err != nil {
		return nil, err
	}
	// Let the conversation go on: the first time, the shard's worker goes
	// on in a new goroutine (this one becomes the handler's own); later, the
	// worker that handed us the previous answer waits for this signal.
	switch {
	case !s.detached:
		s.detached = true
		if c.shard != nil {
			c.shard.detach()
		}
	case s.yield != nil:
		close(s.yield)
		s.yield = nil
	}
	clk := b.clock()
	t := clk.NewTimer(cfg.timeout)
	var dv delivery
	select {
	case dv = <-w.ch:
		t.Stop()
	case <-t.C():
		if b.waits.remove(w) {
			return nil, ErrWaitTimeout
		}
		dv = <-w.ch // delivered meanwhile
	case <-b.disp.quit:
		t.Stop()
		if b.waits.remove(w) {
			return nil, ErrClosed
		}
		dv = <-w.ch
	case <-b.handlerCtx.Done():
		t.Stop()
		if b.waits.remove(w) {
			return nil, ErrClosed
		}
		dv = <-w.ch
	}
	s.yield = dv.yield
	nc := &Context{msg: dv.msg, selfID: c.selfID, offline: dv.offline, bot: b, start: time.Now(), sess: s}
	text := strings.TrimSpace(dv.msg.Text())
	for _, word := range cfg.cancel {
		if strings.EqualFold(text, word) {
			return nc, ErrWaitCanceled
		}
	}
	return nc, nil
}

// refresh gives c a new handler ctx, counted from now.
func (c *Context) refresh() {
	c.start, c.ctx = time.Now(), nil
}

// session returns the wait state of c's handler invocation.
func (c *Context) session() *waitSession {
	if c.sess == nil {
		c.sess = &waitSession{}
	}
	return c.sess
}

// waitSession is the state of one handler invocation that waits; it is
// shared by the Contexts Wait returns and used by the handler's goroutine
// only.
type waitSession struct {
	detached bool          // the shard's worker went on without this goroutine
	yield    chan struct{} // closed to let the worker go on after an answer
}

// endWait runs after a handler returned: a worker waiting for this handler
// (it handed it an answer) goes on.
func (c *Context) endWait() {
	if s := c.sess; s != nil && s.yield != nil {
		close(s.yield)
		s.yield = nil
	}
}

func waitKey(conv, user string) string { return conv + "\x00" + user }

// waiter is one waiting handler.
type waiter struct {
	key   string
	match func(*content.Message) bool
	ch    chan delivery // buffered: the deliverer never blocks on it
}

type delivery struct {
	msg     *content.Message
	offline bool
	yield   chan struct{}
}

// waitRegistry holds the waiting handlers by user and conversation. The
// zero value is ready to use.
type waitRegistry struct {
	n  atomic.Int32 // len(m), read without the lock on every message
	mu sync.Mutex
	m  map[string]*waiter
}

func (r *waitRegistry) add(key string, match func(*content.Message) bool) (*waiter, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = make(map[string]*waiter)
	}
	if r.m[key] != nil {
		return nil, ErrAlreadyWaiting
	}
	if len(r.m) >= MaxWaits {
		return nil, fmt.Errorf("%w (%d)", ErrTooManyWaits, MaxWaits)
	}
	w := &waiter{key: key, match: match, ch: make(chan delivery, 1)}
	r.m[key] = w
	r.n.Store(int32(len(r.m)))
	return w, nil
}

// remove unregisters w; false when it was delivered to already.
func (r *waitRegistry) remove(w *waiter) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m[w.key] != w {
		return false
	}
	delete(r.m, w.key)
	r.n.Store(int32(len(r.m)))
	return true
}

// deliver hands it's message to the handler waiting for it, if any, and
// returns once that handler waits again or returns: the conversation's
// next message must see its next wait. It reports whether it did.
func (r *waitRegistry) deliver(it *item) bool {
	if r.n.Load() == 0 || it.msg == nil {
		return false
	}
	key := waitKey(it.msg.ConversationID, it.msg.SendID)
	r.mu.Lock()
	w := r.m[key]
	if w == nil || w.match != nil && !safeMatch(w.match, it.msg) {
		r.mu.Unlock()
		return false
	}
	delete(r.m, key)
	r.n.Store(int32(len(r.m)))
	yield := make(chan struct{})
	w.ch <- delivery{msg: it.msg, offline: it.offline, yield: yield}
	r.mu.Unlock()
	<-yield
	return true
}

// safeMatch runs a WaitMatch filter; a panic counts as no match (the
// message is routed as usual).
func safeMatch(f func(*content.Message) bool, m *content.Message) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	return f(m)
}

// detach lets the shard's worker go on in a new goroutine while the
// handler running on the current one waits; the item being handled counts
// as handled for the watermark. The current goroutine ends when the
// handler returns (see work).
func (r *shardRun) detach() {
	r.detached = true
	r.d.wg.Add(1)
	go r.d.workFrom(r.ch, r.conv, r.seq)
}
