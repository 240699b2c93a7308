package ratelimit

import (
	"sync"
	"time"

	"github.com/openimbot/openimbot/bot"
	"github.com/openimbot/openimbot/plugins"
)

// Name is the plugin's name.
const Name = "ratelimit"

// Plugin is the ratelimit plugin.
type Plugin struct {
	now func() time.Time
}

var _ plugins.Plugin = (*Plugin)(nil)

// Option configures the plugin.
type Option func(*Plugin)

// WithClock sets the clock; default time.Now.
func WithClock(now func() time.Time) Option { return func(p *Plugin) { p.now = now } }

// New returns the ratelimit plugin.
func New(opts ...Option) *Plugin {
	p := &Plugin{now: time.Now}
	for _, o := range opts {
		o(p)
	}
	return p
}

// Name returns "ratelimit".
func (*Plugin) Name() string { return Name }

type settings struct {
	Rate    int           `yaml:"rate"`
	Per     time.Duration `yaml:"per"`
	Burst   int           `yaml:"burst"`
	Scope   string        `yaml:"scope"`
	Message string        `yaml:"message"`
}

// Setup adds the middleware to every route of h.Router.
func (p *Plugin) Setup(h plugins.Host) error {
	set := settings{Rate: 5, Per: time.Minute, Scope: "sender"}
	if err := h.Config.Decode(&set); err != nil {
		return err
	}
	switch {
	case set.Rate < 1:
		return h.Config.Errorf("ratelimit: rate must be at least 1, got %d", set.Rate)
	case set.Per <= 0:
		return h.Config.Errorf("ratelimit: per must be a positive duration")
	case set.Burst < 0:
		return h.Config.Errorf("ratelimit: burst must not be negative, got %d", set.Burst)
	case set.Scope != "sender" && set.Scope != "conversation":
		return h.Config.Errorf("ratelimit: scope must be sender or conversation, got %q", set.Scope)
	}
	if set.Burst == 0 {
		set.Burst = set.Rate
	}
	l := &Limiter{
		rate:    float64(set.Rate) / set.Per.Seconds(),
		burst:   float64(set.Burst),
		now:     p.now,
		buckets: make(map[string]*bucket),
	}
	bySender := set.Scope == "sender"
	h.Router.Use(func(next bot.Handler) bot.Handler {
		return bot.HandlerFunc(func(c *bot.Context) error {
			key := c.ConversationID()
			if bySender {
				key = c.Sender()
			}
			ok, first := l.Allow(key)
			if ok {
				return next.Handle(c)
			}
			h.Logger.Debug("ratelimit: message dropped", "key", key)
			if first && set.Message != "" {
				return c.Reply(set.Message)
			}
			return nil
		})
	})
	return nil
}

// Limiter is a set of token buckets by key. It is safe for concurrent use.
type Limiter struct {
	rate  float64 // tokens per second
	burst float64
	now   func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
	calls   int
}

type bucket struct {
	tokens  float64
	last    time.Time
	limited bool // the last call was refused
}

// Allow takes a token from key's bucket. ok says whether one was there;
// first is true when ok is false and the previous call for key was allowed.
func (l *Limiter) Allow(key string) (ok, first bool) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls++
	if l.calls%1024 == 0 {
		l.prune(now)
	}
	b := l.buckets[key]
	if b == nil {
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	b.tokens = min(l.burst, b.tokens+now.Sub(b.last).Seconds()*l.rate)
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		b.limited = false
		return true, false
	}
	first = !b.limited
	b.limited = true
	return false, first
}

// prune drops buckets that have refilled completely.
func (l *Limiter) prune(now time.Time) {
	for k, b := range l.buckets {
		if b.tokens+now.Sub(b.last).Seconds()*l.rate >= l.burst {
			delete(l.buckets, k)
		}
	}
}
