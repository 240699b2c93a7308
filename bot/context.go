package bot

import (
	"context"
	"log/slog"
	"time"

	"github.com/openimbot/openimbot/content"
)

// Context is what a handler gets for one message: the message, the bot's own
// identity, route parameters set by a router, and the means to reply.
//
// A Context belongs to one handler invocation. It is not safe for concurrent
// use, and it must not be kept after the handler returns.
type Context struct {
	ctx     context.Context
	msg     *content.Message
	selfID  string
	offline bool
	logger  *slog.Logger

	params map[string]string
	args   []string
}

// NewContext returns a Context for msg as seen by the bot selfID, with no way
// to send. The runtime builds its own; NewContext is for tests and for code
// that drives handlers directly, as httptest.NewRequest is for net/http.
func NewContext(ctx context.Context, msg *content.Message, selfID string) *Context {
	return &Context{ctx: ctx, msg: msg, selfID: selfID}
}

// Context returns the context of this handler invocation. It is cancelled
// when the bot shuts down or the per-handler timeout passes.
func (c *Context) Context() context.Context { return c.ctx }

// Deadline, Done, Err and Value make Context a context.Context.
func (c *Context) Deadline() (time.Time, bool) { return c.ctx.Deadline() }

// Done is the ctx's Done channel.
func (c *Context) Done() <-chan struct{} { return c.ctx.Done() }

// Err is the ctx's error.
func (c *Context) Err() error { return c.ctx.Err() }

// Value returns the ctx's value for key.
func (c *Context) Value(key any) any { return c.ctx.Value(key) }

// Message returns the message being handled.
func (c *Context) Message() *content.Message { return c.msg }

// Text returns the message's plain text (see content.Message.Text).
func (c *Context) Text() string { return c.msg.Text() }

// SelfID returns the bot's own user ID.
func (c *Context) SelfID() string { return c.selfID }

// Offline reports whether the message was pulled after a (re)connect rather
// than pushed live.
func (c *Context) Offline() bool { return c.offline }

// Param returns the route parameter name ("" if unset).
func (c *Context) Param(name string) string { return c.params[name] }

// Params returns all route parameters. The map must not be modified.
func (c *Context) Params() map[string]string { return c.params }

// SetParam sets a route parameter. Routers call it for named captures and
// command parameters.
func (c *Context) SetParam(name, value string) {
	if c.params == nil {
		c.params = make(map[string]string)
	}
	c.params[name] = value
}

// Args returns the positional arguments of a command, set by a router.
func (c *Context) Args() []string { return c.args }

// SetArgs sets the positional arguments of a command.
func (c *Context) SetArgs(args []string) { c.args = args }

// Logger returns the logger for this message; it never returns nil.
func (c *Context) Logger() *slog.Logger {
	if c.logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.logger
}
