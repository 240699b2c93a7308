package bot

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/openimbot/openimbot/content"
	"github.com/openimbot/openimbot/transport"
)

// Target is where a message goes: a user (single chat) or a group. Exactly
// one of the fields is set; build it with ToUser or ToGroup.
type Target struct {
	UserID  string
	GroupID string
}

// ToUser returns the single-chat target userID.
func ToUser(userID string) Target { return Target{UserID: userID} }

// ToGroup returns the group target groupID.
func ToGroup(groupID string) Target { return Target{GroupID: groupID} }

// String returns "user:<id>" or "group:<id>".
func (t Target) String() string {
	if t.GroupID != "" {
		return "group:" + t.GroupID
	}
	return "user:" + t.UserID
}

// Sender sends messages as the bot outside a handler (a scheduler, a
// plugin's background job, a test). *Bot implements it.
type Sender interface {
	Send(ctx context.Context, to Target, elem content.Element) (transport.SendResult, error)
	SendText(ctx context.Context, to Target, text string) (transport.SendResult, error)
}

var _ Sender = (*Bot)(nil)

// SendText sends a text message to a user or group; see Send.
func (b *Bot) SendText(ctx context.Context, to Target, text string) (transport.SendResult, error) {
	return b.Send(ctx, to, content.NewText(text))
}

// Send sends elem to a user or group as the bot and waits for the gateway's
// answer (the seq arrives later, with the bot's own echo, which is not
// dispatched). It fails with ErrInvalidTarget for an empty target, with a
// *RateLimitError (matching ErrRateLimited) when the target's conversation
// is over the outbound limit, with ErrNotConnected before Run, and with the
// transport's errors otherwise. While the bot is reconnecting a send waits
// for the connection until ctx ends. Safe for concurrent use.
func (b *Bot) Send(ctx context.Context, to Target, elem content.Element) (transport.SendResult, error) {
	return b.send(ctx, to, "", elem)
}

// send sends elem to to, whose conversation ID is conv if known ("" to
// compute it).
func (b *Bot) send(ctx context.Context, to Target, conv string, elem content.Element) (_ transport.SendResult, err error) {
	if b.cfg.observer != nil {
		defer b.observeSendOf(to, elem, time.Now(), &err)
	}
	switch {
	case to.GroupID != "" && to.UserID == "":
		if conv == "" {
			conv = content.GroupConversationID(to.GroupID)
		}
	case to.UserID != "" && to.GroupID == "":
		if conv == "" {
			conv = content.SingleConversationID(b.cfg.userID, to.UserID)
		}
	default:
		return transport.SendResult{}, fmt.Errorf("%w: %+v: set exactly one of UserID and GroupID", ErrInvalidTarget, to)
	}
	m, err := content.NewMessage(elem)
	if err != nil {
		return transport.SendResult{}, fmt.Errorf("bot: send to %s: %w", to, err)
	}
	client := b.sender()
	if client == nil {
		return transport.SendResult{}, ErrNotConnected
	}
	if b.rl != nil && !b.rl.allow(conv, time.Now()) {
		return transport.SendResult{}, &RateLimitError{ConversationID: conv}
	}
	m.ConversationID = conv
	if to.GroupID != "" {
		m.GroupID, m.SessionType = to.GroupID, content.GroupChat
	} else {
		m.RecvID, m.SessionType = to.UserID, content.SingleChat
	}
	m.SenderNickname = b.cfg.nickname
	m.Ex = botMarkerEx // see loopGuard
	res, err := client.SendMsg(ctx, m)
	if err != nil {
		return res, fmt.Errorf("bot: send to %s: %w", to, err)
	}
	return res, nil
}

// deadlineGranularity is how much later than the exact handler timeout a
// handler's ctx may end: handlers that start within one such window share
// one ctx (and one timer), which saves a timer, a context and a child
// registration on handlerCtx per message.
const deadlineGranularity = 10 * time.Millisecond

// handlerContext returns the ctx for a handler that started at start:
// handlerCtx, or a shared child of it that ends at the handler timeout
// (rounded up to deadlineGranularity).
func (b *Bot) handlerContext(start time.Time) context.Context {
	if b.cfg.handlerTimeout <= 0 {
		return b.handlerCtx
	}
	end := start.Add(b.cfg.handlerTimeout + deadlineGranularity).Truncate(deadlineGranularity)
	d := &b.deadlines
	d.mu.Lock()
	defer d.mu.Unlock()
	if !end.Equal(d.end) {
		// The previous shared ctx is released by its own timer.
		d.ctx, d.cancel = context.WithDeadline(b.handlerCtx, end)
		d.end = end
	}
	return d.ctx
}

// sharedDeadline is the handler ctx shared by the handlers that start in
// one deadlineGranularity window.
type sharedDeadline struct {
	mu     sync.Mutex
	end    time.Time
	ctx    context.Context
	cancel context.CancelFunc // kept so that its resources are clearly owned; the timer releases them
}

// limiter is a token bucket per conversation.
type limiter struct {
	rate  float64 // tokens per second
	burst float64

	mu        sync.Mutex
	buckets   map[string]*bucket
	lastPrune time.Time
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newLimiter(rate float64, burst int) *limiter {
	return &limiter{rate: rate, burst: float64(burst), buckets: make(map[string]*bucket)}
}

// allow takes a token for conv if one is available.
func (l *limiter) allow(conv string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	bk := l.buckets[conv]
	if bk == nil {
		if len(l.buckets) >= 4096 && now.Sub(l.lastPrune) > time.Second {
			l.prune(now)
		}
		bk = &bucket{tokens: l.burst, last: now}
		l.buckets[conv] = bk
	} else {
		bk.tokens = min(l.burst, bk.tokens+now.Sub(bk.last).Seconds()*l.rate)
		bk.last = now
	}
	if bk.tokens < 1 {
		return false
	}
	bk.tokens--
	return true
}

// prune drops the buckets that have refilled completely: they are
// equivalent to a new one.
func (l *limiter) prune(now time.Time) {
	l.lastPrune = now
	full := time.Duration(l.burst / l.rate * float64(time.Second))
	for k, bk := range l.buckets {
		if now.Sub(bk.last) >= full {
			delete(l.buckets, k)
		}
	}
}
