package bot

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/openimbot/openimbot/content"
	"github.com/openimbot/openimbot/transport"
)

// This file is the seam a message broker uses to split a bot in two
// processes (package cluster): an ingress that holds the account and runs
// the sync engine, and workers that run the handlers on messages the
// ingress handed over and send through the ingress.

// triggerKey is the context key of the message a send answers.
type triggerKey struct{}

// TriggerOf returns the message being handled when ctx is the ctx a
// MsgSender got for a send made by Context.Reply and its kin: the message
// the send answers, which the loop guard needs. nil otherwise.
func TriggerOf(ctx context.Context) *content.Message {
	m, _ := ctx.Value(triggerKey{}).(*content.Message)
	return m
}

// WithRelay makes the bot a relay worker: it receives nothing by itself
// (no connection to the server, no token, no HTTP API; messages come in by
// Dispatch) and sends through s. It must come after the options that set
// the credentials and the receive mode, which it replaces; the name is what
// Context.Source reports.
func WithRelay(name string, s MsgSender) Option {
	return func(c *config) error {
		if name == "" || s == nil {
			return optErr("WithRelay", "empty name or nil sender")
		}
		c.recv = receiveConfig{mode: name, sender: s, modeOptions: []string{"WithRelay"}}
		c.recv.custom = func(SourceParams) (Source, error) { return newIdleSource(), nil }
		c.token, c.adminSecret, c.apiAddr = "relay", "", ""
		return nil
	}
}

// Dispatch hands m to the handlers as if the sync engine had delivered it:
// in order with the other messages of its conversation, on the bot's
// workers, with the handler timeout and panic recovery of any message. It
// does not touch watermarks or dedup: the caller (a broker consumer) owns
// delivery. done, if not nil, is called once the handler returned (not when
// the bot stops before running it). Dispatch blocks while the conversation's
// queue is full; it fails with ErrNotConnected before Run and ErrClosed
// after.
func (b *Bot) Dispatch(ctx context.Context, m *content.Message, done func()) error {
	if m == nil || m.ConversationID == "" {
		return errors.New("bot: Dispatch: a message with a conversation ID is required")
	}
	b.mu.Lock()
	running, closed := b.sync != nil, b.closed
	b.mu.Unlock()
	switch {
	case closed:
		return ErrClosed
	case !running:
		return ErrNotConnected
	}
	return b.disp.enqueue(ctx, item{conv: m.ConversationID, msg: m, dispatch: true, done: done})
}

// SendRelayed sends m, built by a relay worker's bot for a handler
// answering trigger (nil: not an answer), through this bot's connection,
// with this bot's rate limit and loop guard: the ingress side of WithRelay.
// m must carry its conversation ID and one of RecvID and GroupID.
func (b *Bot) SendRelayed(ctx context.Context, trigger, m *content.Message) (_ transport.SendResult, err error) {
	var to Target
	switch {
	case m.GroupID != "" && m.RecvID == "":
		to = ToGroup(m.GroupID)
	case m.RecvID != "" && m.GroupID == "":
		to = ToUser(m.RecvID)
	default:
		return transport.SendResult{}, fmt.Errorf("%w: relayed message: set exactly one of RecvID and GroupID", ErrInvalidTarget)
	}
	if m.ConversationID == "" {
		return transport.SendResult{}, fmt.Errorf("%w: relayed message without a conversation ID", ErrInvalidTarget)
	}
	if b.cfg.observer != nil {
		defer b.observeSend(to, time.Now(), &err)
	}
	if b.guard != nil && trigger != nil {
		if err := b.guard.admit(trigger, b.cfg.userID, m.ConversationID, time.Now()); err != nil {
			return transport.SendResult{}, err
		}
	}
	client := b.sender()
	if client == nil {
		return transport.SendResult{}, ErrNotConnected
	}
	if b.rl != nil && !b.rl.allow(m.ConversationID, time.Now()) {
		return transport.SendResult{}, &RateLimitError{ConversationID: m.ConversationID}
	}
	out := *m
	out.SendID = b.cfg.userID
	out.SenderNickname = b.cfg.nickname
	out.Ex = botMarkerEx
	res, err := client.SendMsg(ctx, &out)
	if err != nil {
		return res, fmt.Errorf("bot: send to %s: %w", to, err)
	}
	return res, nil
}

// idleSource is the Source of a relay worker: connected at once, no
// conversations, no events until closed.
type idleSource struct {
	events chan transport.Event
	closed chan struct{}
	once   sync.Once
}

func newIdleSource() *idleSource {
	s := &idleSource{events: make(chan transport.Event, 1), closed: make(chan struct{})}
	s.events <- transport.Event{Kind: transport.EventConnected}
	return s
}

func (s *idleSource) Run(ctx context.Context) error {
	select {
	case <-ctx.Done():
	case <-s.closed:
	}
	return nil
}

func (s *idleSource) NextEvent(ctx context.Context) (transport.Event, error) {
	select {
	case ev := <-s.events:
		return ev, nil
	case <-s.closed:
		return transport.Event{}, ErrClosed
	case <-ctx.Done():
		return transport.Event{}, ctx.Err()
	}
}

func (s *idleSource) Status() transport.Status {
	select {
	case <-s.closed:
		return transport.StatusClosed
	default:
		return transport.StatusConnected
	}
}

func (s *idleSource) GetNewestSeq(context.Context) (map[string]int64, error) {
	return map[string]int64{}, nil
}

func (s *idleSource) PullRange(context.Context, []transport.SeqRange) (map[string]transport.PullResult, error) {
	return map[string]transport.PullResult{}, nil
}

func (s *idleSource) Close() error {
	s.once.Do(func() { close(s.closed) })
	return nil
}

// Stopping returns a channel closed once Shutdown or Close was called, even
// before Run: a process that waits before it runs the bot (a standby
// ingress) stops waiting.
func (b *Bot) Stopping() <-chan struct{} { return b.stop }
