package bot

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/openimbot/openimbot/content"
	"github.com/openimbot/openimbot/storage"
)

// Context is what a handler gets for one message: the message, the bot's own
// identity, route parameters set by a router, and the means to reply.
//
// A Context belongs to one handler invocation. It is not safe for concurrent
// use, and it must not be kept after the handler returns.
type Context struct {
	ctx     context.Context // nil until first used, for runtime contexts
	start   time.Time       // when the handler started (runtime contexts)
	msg     *content.Message
	selfID  string
	offline bool
	logger  *slog.Logger
	bot     *Bot         // nil for NewContext
	shard   *shardRun    // the worker running the handler (dialog.go)
	sess    *waitSession // set by the first Wait (dialog.go)

	route   string // SetRoute
	sends   int    // sends through the Context
	sendErr error  // the last failed one

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
// when the bot is closed (or a drain runs out of time) or the per-handler
// timeout passes (WithHandlerTimeout; it may end up to 10ms later). It is
// not cancelled when the handler returns: do not use it afterwards.
func (c *Context) Context() context.Context {
	if c.ctx == nil {
		if c.bot == nil {
			c.ctx = context.Background()
		} else {
			c.ctx = c.bot.handlerContext(c.start)
		}
	}
	return c.ctx
}

// Deadline, Done, Err and Value make Context a context.Context.
func (c *Context) Deadline() (time.Time, bool) { return c.Context().Deadline() }

// Done is the ctx's Done channel.
func (c *Context) Done() <-chan struct{} { return c.Context().Done() }

// Err is the ctx's error.
func (c *Context) Err() error { return c.Context().Err() }

// Value returns the ctx's value for key.
func (c *Context) Value(key any) any { return c.Context().Value(key) }

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

// Logger returns the logger for this message, with the conversation, seq
// and sender as attributes; it never returns nil.
func (c *Context) Logger() *slog.Logger {
	if c.logger == nil {
		if c.bot == nil {
			c.logger = slog.New(slog.DiscardHandler)
		} else {
			c.logger = c.bot.log.With("conversation", c.msg.ConversationID, "seq", c.msg.Seq,
				"sender", c.msg.SendID, "offline", c.offline)
		}
	}
	return c.logger
}

// Bot returns the bot handling the message; nil for a Context built with
// NewContext.
func (c *Context) Bot() *Bot { return c.bot }

// ConversationID returns the message's conversation ID.
func (c *Context) ConversationID() string { return c.msg.ConversationID }

// Sender returns the sender's user ID.
func (c *Context) Sender() string { return c.msg.SendID }

// IsGroup reports whether the message was sent in a group.
func (c *Context) IsGroup() bool { return c.msg.SessionType.IsGroup() }

// Namespace returns the storage namespace name of the bot's database, for
// plugin state. It returns nil for a Context built with NewContext or
// before the database is open.
func (c *Context) Namespace(name string) *storage.Namespace {
	if c.bot == nil {
		return nil
	}
	db := c.bot.DB()
	if db == nil {
		return nil
	}
	return db.Namespace(name)
}

// ReplyTarget returns where Reply sends: the group of a group message, the
// sender of a single-chat message (the other side, for the bot's own
// messages).
func (c *Context) ReplyTarget() Target {
	m := c.msg
	if m.SessionType.IsGroup() || (m.GroupID != "" && m.SessionType != content.SingleChat) {
		return ToGroup(m.GroupID)
	}
	if m.SendID == c.selfID && m.RecvID != "" {
		return ToUser(m.RecvID)
	}
	return ToUser(m.SendID)
}

// Reply sends text to the message's conversation: to the group for a group
// message, to the sender for a single chat. It blocks until the gateway
// answers or the handler's ctx ends.
func (c *Context) Reply(text string) error {
	return c.reply(content.NewText(text))
}

// ReplyQuote is Reply with a message that quotes the one being handled.
func (c *Context) ReplyQuote(text string) error {
	return c.reply(content.NewQuote(text, c.msg))
}

// reply sends elem to the message's conversation.
func (c *Context) reply(elem content.Element) error {
	if c.bot == nil {
		return ErrNoSender
	}
	t := c.ReplyTarget()
	// Reuse the message's conversation ID when the reply lands in the same
	// conversation (not for notification streams and chats).
	conv := c.msg.ConversationID
	if !(t.UserID != "" && strings.HasPrefix(conv, "si_") || t.GroupID != "" && strings.HasPrefix(conv, "sg_")) {
		conv = ""
	}
	_, err := c.bot.sendFor(c.Context(), c.msg, t, conv, elem)
	c.noteSend(err)
	return err
}

// ReplyMention is Reply that, in a group, @-mentions the sender: the text is
// prefixed with "@<senderID> ". In a single chat it is Reply.
func (c *Context) ReplyMention(text string) error {
	if c.ReplyTarget().GroupID == "" {
		return c.reply(content.NewText(text))
	}
	at := content.NewAtText("@"+c.msg.SendID+" "+text, c.msg.SendID)
	if c.msg.SenderNickname != "" {
		at.SetNickname(c.msg.SendID, c.msg.SenderNickname)
	}
	return c.reply(at)
}

// Send sends elem to target with the handler's ctx. Errors: ErrNoSender for
// a Context from NewContext, an error matching ErrRateLimited when the
// target's conversation is over the outbound limit, one matching
// ErrLoopGuard when the bot has answered bots there too often (see
// WithLoopGuard), or the transport's.
func (c *Context) Send(to Target, elem content.Element) error {
	if c.bot == nil {
		return ErrNoSender
	}
	_, err := c.bot.sendFor(c.Context(), c.msg, to, "", elem)
	c.noteSend(err)
	return err
}

// SendText sends text to a user.
func (c *Context) SendText(userID, text string) error {
	return c.Send(ToUser(userID), content.NewText(text))
}

// SendGroupText sends text to a group.
func (c *Context) SendGroupText(groupID, text string) error {
	return c.Send(ToGroup(groupID), content.NewText(text))
}
