package bot

// Handler handles one message. A Handler runs on the worker that owns the
// message's conversation: messages of one conversation reach it one at a
// time, in seq order; messages of different conversations run in parallel.
//
// A returned error is reported to the bot's OnError sink and logged; the
// message still counts as handled. A panic is recovered for that one message
// and reported the same way.
type Handler interface {
	Handle(c *Context) error
}

// HandlerFunc adapts a function to a Handler.
type HandlerFunc func(c *Context) error

// Handle calls f(c).
func (f HandlerFunc) Handle(c *Context) error { return f(c) }

// Middleware wraps a Handler, for example to log, to filter or to recover.
type Middleware func(Handler) Handler

// Chain returns h wrapped by mws: the first middleware is the outermost, so it
// runs first.
func Chain(h Handler, mws ...Middleware) Handler {
	for i := len(mws) - 1; i >= 0; i-- {
		h = mws[i](h)
	}
	return h
}
