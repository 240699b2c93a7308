package router

import (
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/openimbot/openimbot/bot"
)

type config struct {
	prefixes []string
	linear   bool
	loc      *time.Location
	logger   *slog.Logger
	err      error
}

// Option configures a Router.
type Option func(*config)

// WithCommandPrefixes sets the prefixes that start a Command. The default is
// "/". An empty string allows commands without a prefix. Prefixes must not
// contain white space.
func WithCommandPrefixes(prefixes ...string) Option {
	return func(c *config) {
		for _, p := range prefixes {
			if strings.ContainsFunc(p, isSpace) {
				c.err = &PatternError{Kind: "command prefix", Pattern: p, Msg: "contains white space"}
			}
		}
		c.prefixes = append([]string{}, prefixes...)
	}
}

// LinearScan makes the router test every route on every message, in
// precedence order, without its indexes. It selects exactly the same routes
// and is the reference the indexed dispatch is tested against; it is slower
// from a few hundred rules on. Off by default.
func LinearScan() Option { return func(c *config) { c.linear = true } }

// WithLocation sets the time zone of the hour(), minute() and weekday()
// functions of Expr rules. The default is time.Local.
func WithLocation(loc *time.Location) Option { return func(c *config) { c.loc = loc } }

// WithLogger sets the logger for routing diagnostics (expr run-time errors,
// at debug level). The default discards.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// RouteOption configures one route.
type RouteOption func(*route)

// Priority sets the route's priority; higher runs first. The default is 0;
// negative priorities run after the default ones.
func Priority(n int) RouteOption { return func(r *route) { r.priority = n } }

// NonBlocking lets lower routes run after this one (by default a route that
// ran stops the routes below it).
func NonBlocking() RouteOption { return func(r *route) { r.blocking = false } }

// WithMiddleware wraps this route's handler in mws, inside the router's and
// groups' middleware (the first is the outermost).
func WithMiddleware(mws ...bot.Middleware) RouteOption {
	return func(r *route) { r.mws = append(r.mws, mws...) }
}

// Name names the route in Routes, Trace and Analyze.
func Name(name string) RouteOption { return func(r *route) { r.name = name } }

// Description says what the route does, for people: the help plugin lists
// commands with it (RouteInfo.Description).
func Description(text string) RouteOption { return func(r *route) { r.desc = text } }

// At sets where the route was defined, for example the file, line and column
// of a rule in a YAML file. Findings and errors show it instead of the Go
// call site.
func At(loc Location) RouteOption { return func(r *route) { r.src = loc } }

type route struct {
	id       int
	m        Matcher
	h        bot.Handler
	g        *Group
	mws      []bot.Middleware
	priority int
	blocking bool
	name     string
	desc     string
	site     Location
	src      Location
}

func (rt *route) source() Location {
	if !rt.src.IsZero() {
		return rt.src
	}
	return rt.site
}

// Router routes each message to the handlers of the routes that match it (see
// the package documentation for precedence and indexing). The zero value is
// not usable; call New. A Router is safe for concurrent use.
type Router struct {
	cfg config
	grp Group

	mu       sync.Mutex
	routes   []*route
	notFound bot.Handler
	errs     []error

	tbl      atomic.Pointer[table]
	exprPool sync.Pool
	scratch  sync.Pool
}

// New returns an empty Router.
func New(opts ...Option) *Router {
	r := &Router{cfg: config{prefixes: []string{"/"}, loc: time.Local}}
	for _, o := range opts {
		o(&r.cfg)
	}
	if r.cfg.logger == nil {
		r.cfg.logger = slog.New(slog.DiscardHandler)
	}
	if r.cfg.err != nil {
		r.errs = append(r.errs, r.cfg.err)
	}
	r.grp.r = r
	return r
}

// Group is a set of routes that share matchers (and-ed with each route's) and
// middleware. Groups nest. A Group is safe for concurrent use.
type Group struct {
	r      *Router
	parent *Group
	ms     []Matcher
	mws    []bot.Middleware
}

// Group returns a group of routes that all require ms.
func (r *Router) Group(ms ...Matcher) *Group { return r.grp.Group(ms...) }

// Group returns a subgroup whose routes require g's matchers and ms.
func (g *Group) Group(ms ...Matcher) *Group {
	return &Group{r: g.r, parent: g, ms: append(append([]Matcher{}, g.ms...), ms...)}
}

// Use adds middleware around the whole router: it runs once for every
// message, before routing (so route parameters are not set yet), whether or
// not a route matches. The first middleware is the outermost. Middleware of
// groups and routes runs around each route's handler instead.
func (r *Router) Use(mws ...bot.Middleware) { r.grp.Use(mws...) }

// Use adds middleware around the handler of every route of the group and
// its subgroups, including routes registered earlier; it runs only when such
// a route runs, after the route's parameters are set. On the Router's root
// group (Router.Use) it wraps the whole dispatch instead.
func (g *Group) Use(mws ...bot.Middleware) {
	g.r.mu.Lock()
	g.mws = append(g.mws, mws...)
	g.r.tbl.Store(nil)
	g.r.mu.Unlock()
}

// On registers h for messages that match m. It returns a *PatternError if m
// is invalid (and does not register the route), ErrNilHandler if h is nil.
// Errors are also kept for Err.
func (r *Router) On(m Matcher, h bot.Handler, opts ...RouteOption) error {
	return r.grp.on(m, h, opts)
}

// OnFunc is On with a handler function.
func (r *Router) OnFunc(m Matcher, f func(*bot.Context) error, opts ...RouteOption) error {
	if f == nil {
		return r.grp.on(m, nil, opts)
	}
	return r.grp.on(m, bot.HandlerFunc(f), opts)
}

// On registers h in the group for messages that match the group's matchers
// and m (nil m: the group's matchers alone).
func (g *Group) On(m Matcher, h bot.Handler, opts ...RouteOption) error {
	return g.on(m, h, opts)
}

// OnFunc is On with a handler function.
func (g *Group) OnFunc(m Matcher, f func(*bot.Context) error, opts ...RouteOption) error {
	if f == nil {
		return g.on(m, nil, opts)
	}
	return g.on(m, bot.HandlerFunc(f), opts)
}

// NotFound sets the handler that runs when no route ran. The default does
// nothing.
func (r *Router) NotFound(h bot.Handler) {
	r.mu.Lock()
	r.notFound = h
	r.tbl.Store(nil)
	r.mu.Unlock()
}

// Err returns every registration error so far, joined, or nil.
func (r *Router) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return errors.Join(r.errs...)
}

// Build checks the registered routes and builds the index now instead of on
// the first message. It returns Err.
func (r *Router) Build() error {
	r.table()
	return r.Err()
}

func callSite() Location {
	var pcs [16]uintptr
	n := runtime.Callers(3, pcs[:])
	frames := runtime.CallersFrames(pcs[:n])
	for {
		f, more := frames.Next()
		inPkg := strings.HasPrefix(f.Function, "github.com/openimbot/openimbot/router.") && !strings.HasSuffix(f.File, "_test.go")
		if !inPkg {
			return Location{File: f.File, Line: f.Line}
		}
		if !more {
			return Location{}
		}
	}
}

func (g *Group) on(m Matcher, h bot.Handler, opts []RouteOption) error {
	rt := &route{h: h, g: g, blocking: true, site: callSite()}
	for _, o := range opts {
		o(rt)
	}
	var ms []Matcher
	ms = append(ms, g.ms...)
	if m != nil {
		ms = append(ms, m)
	}
	if len(ms) == 0 {
		ms = append(ms, Any())
	}
	rt.m = And(ms...)
	var err error
	if e := rt.m.err(); e != nil {
		var pe *PatternError
		if errors.As(e, &pe) {
			cp := *pe
			cp.Route = rt.source()
			err = &cp
		} else {
			err = fmt.Errorf("router: %s: %w", rt.source(), e)
		}
	} else if h == nil {
		err = fmt.Errorf("router: %s: %w", rt.source(), ErrNilHandler)
	}
	r := g.r
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.errs = append(r.errs, err)
		return err
	}
	rt.id = len(r.routes)
	r.routes = append(r.routes, rt)
	r.tbl.Store(nil)
	return nil
}

// Handle routes one message: it runs the matching routes in precedence
// order until a blocking one ran, or NotFound when none ran. It returns the
// handlers' errors (joined), never Continue.
func (r *Router) Handle(c *bot.Context) error {
	return r.table().handler.Handle(c)
}

// Trace reports how c's message would be routed: the candidate routes the
// indexes chose, in precedence order, whether each matched and why not, and
// which would run. No handler runs; every handler is assumed not to return
// Continue. Route parameters are not set on c.
func (r *Router) Trace(c *bot.Context) Trace {
	var tr Trace
	r.table().dispatch(c, &tr, false)
	return tr
}

// TraceRun is Trace that also runs the handlers, as Handle does.
func (r *Router) TraceRun(c *bot.Context) (Trace, error) {
	var tr Trace
	t := r.table()
	err := bot.Chain(bot.HandlerFunc(func(c *bot.Context) error { return t.dispatch(c, &tr, true) }), t.mws...).Handle(c)
	return tr, err
}

func (r *Router) table() *table {
	if t := r.tbl.Load(); t != nil {
		return t
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if t := r.tbl.Load(); t != nil {
		return t
	}
	t := buildTable(r)
	r.tbl.Store(t)
	return t
}

// Live is a bot.Handler that routes through a Router which can be replaced
// at any time, for configuration reloads: build a new Router, then Swap it
// in. Messages in flight finish on the router they started with. Live is
// safe for concurrent use.
type Live struct {
	p atomic.Pointer[Router]
}

// NewLive returns a Live routing through r (nil: messages are dropped
// until Swap).
func NewLive(r *Router) *Live {
	l := &Live{}
	if r != nil {
		r.table()
		l.p.Store(r)
	}
	return l
}

// Swap builds r's index and makes it the router for the next messages,
// returning the previous one. If r has registration errors, Swap returns
// them and keeps the current router.
func (l *Live) Swap(r *Router) (*Router, error) {
	if r == nil {
		return nil, errors.New("router: Swap with a nil router")
	}
	if err := r.Build(); err != nil {
		return nil, err
	}
	return l.p.Swap(r), nil
}

// Router returns the current router.
func (l *Live) Router() *Router { return l.p.Load() }

// Handle routes c through the current router.
func (l *Live) Handle(c *bot.Context) error {
	if r := l.p.Load(); r != nil {
		return r.Handle(c)
	}
	return nil
}
