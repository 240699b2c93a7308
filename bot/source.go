package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/openimbot/openimbot/content"
	"github.com/openimbot/openimbot/transport"
)

// Source is where a bot's messages come from: the one seam every receive
// mode plugs into. The bot reads its events in order on one goroutine and
// feeds them to the sync engine, which asks the same Source for the newest
// seqs and for ranges of messages; the engine does not know which kind of
// Source it talks to, so watermarks, dedup, gap filling, ordered dispatch
// and handlers are the same in every mode.
//
// The events are transport.Events: EventConnected and EventSync make the
// engine sync by seq (newest seqs, then every gap pulled), EventPush
// carries messages (a gap before one is pulled first), EventKicked and
// EventTokenInvalid end the session (a refreshable token error makes the
// bot fetch a new token and build a new Source), and the other kinds are
// reported to the WithOn... hooks. *transport.Client (gateway mode),
// *transport.Poller (poll mode) and *transport.WebhookSource (webhook mode)
// implement Source; a message broker consumer can too.
//
// Run is called once, on its own goroutine, and returns when ctx ends,
// Close is called, or the source fails for good; NextEvent then returns the
// events left and an error. A Source that also implements MsgSender sends
// the bot's messages unless WithSender says otherwise. Implementations must
// be safe for concurrent use.
type Source interface {
	Run(ctx context.Context) error
	NextEvent(ctx context.Context) (transport.Event, error)
	Status() transport.Status
	GetNewestSeq(ctx context.Context) (map[string]int64, error)
	PullRange(ctx context.Context, ranges []transport.SeqRange) (map[string]transport.PullResult, error)
	Close() error
}

// MsgSender sends one built message as the bot (its content, and its
// RecvID or GroupID, are set) and returns the server's answer. It is the
// sending seam: the gateway Client, the REST sender of poll and webhook
// modes (transport.RESTSender) and a broker's request/reply client
// implement it. The bot's rate limit and loop guard wrap whichever is used.
// Implementations must be safe for concurrent use.
type MsgSender interface {
	SendMsg(ctx context.Context, m *content.Message) (transport.SendResult, error)
}

// SourceParams is what a SourceFunc gets to build the Source of one
// session (one token).
type SourceParams struct {
	UserID     string
	Token      string         // the current user token
	PlatformID int32          // WithPlatform
	API        *transport.API // the HTTP API (WithAdminSecret or WithAPI); nil without
	Logger     *slog.Logger
}

// SourceFunc builds the Source of one session. The bot calls it at start
// and again after fetching a new token. It must do no I/O.
type SourceFunc func(SourceParams) (Source, error)

// Receive mode names, as Context.Source and Bot.Source report them.
const (
	ModeGateway = "gateway"
	ModePoll    = "poll"
	ModeWebhook = "webhook"
)

// WebhookOptions configures webhook mode (WithWebhook). Zero values mean
// the documented defaults.
type WebhookOptions struct {
	// Listen is the TCP address the callbacks are served on; default
	// 127.0.0.1:10006 (loopback: expose it on purpose).
	Listen string
	// Listener, when set, is used instead of listening on Listen (tests,
	// socket activation).
	Listener net.Listener
	// Path is the base path the server posts under (OpenIM's webhook url
	// path); default /callbackExample.
	Path string
	// MaxBody caps a callback body; default 1 MiB.
	MaxBody int64
	// Reconcile is the period of the full sync by seq that recovers
	// callbacks the server dropped; default 30s.
	Reconcile time.Duration
}

// FallbackOptions configures the gateway-to-polling fallback
// (WithFallbackPoll). Zero values mean the documented defaults.
type FallbackOptions struct {
	// After is the number of websocket dials that must fail in a row
	// before the bot switches to polling; default 3.
	After int
	// Retry is how often the websocket is tried again while polling;
	// default 30s.
	Retry time.Duration
	// Interval and MaxInterval are the poll intervals, as for WithPoll;
	// defaults 1s and 10s.
	Interval, MaxInterval time.Duration
}

// receiveConfig is what the receive options write.
type receiveConfig struct {
	mode        string // "" is gateway
	custom      SourceFunc
	pollEvery   time.Duration
	pollMax     time.Duration
	webhook     WebhookOptions
	fallback    *FallbackOptions
	sender      MsgSender
	modeOptions []string // the options that set the mode, for conflicts
}

func (r *receiveConfig) setMode(opt, mode string) error {
	r.modeOptions = append(r.modeOptions, opt)
	if r.mode != "" && r.mode != mode {
		return optErr(opt, "the receive mode is already %s (%s); use one of WithPoll, WithWebhook, WithSource", r.mode, r.modeOptions[0])
	}
	r.mode = mode
	return nil
}

// needsGateway reports whether the mode dials the websocket gateway.
func (r *receiveConfig) needsGateway() bool { return r.mode == "" || r.mode == ModeGateway }

// validate checks the combinations that cannot work.
func (r *receiveConfig) validate(c *config) []error {
	var errs []error
	switch r.mode {
	case ModePoll, ModeWebhook:
		if c.apiAddr == "" {
			errs = append(errs, fmt.Errorf("%s mode needs the HTTP API (WithAdminSecret)", r.mode))
		}
		if c.adminSecret == "" && r.sender == nil {
			errs = append(errs, fmt.Errorf("%s mode sends through /msg/send_msg, which needs the admin secret (WithAdminSecret)", r.mode))
		}
	}
	if r.fallback != nil {
		if !r.needsGateway() {
			errs = append(errs, fmt.Errorf("WithFallbackPoll works in gateway mode, not in %s mode", r.mode))
		}
		if c.adminSecret == "" && r.sender == nil {
			errs = append(errs, errors.New("WithFallbackPoll sends through /msg/send_msg while polling, which needs the admin secret (WithAdminSecret)"))
		}
	}
	return errs
}

// WithPoll receives over the HTTP API only (poll mode): /msg/newest_seq
// every interval (default 1s; 0 means the default), at once again after a
// poll that found messages, and backing off after 10 idle polls up to
// maxInterval (default 10s; 0 means the default, below interval means no
// back-off); the gaps are pulled with /msg/pull_msg_by_seq. Sends go
// through /msg/send_msg, which is admin-only: WithAdminSecret is required.
func WithPoll(interval, maxInterval time.Duration) Option {
	return func(c *config) error {
		if interval < 0 || maxInterval < 0 {
			return optErr("WithPoll", "negative interval")
		}
		c.recv.pollEvery, c.recv.pollMax = interval, maxInterval
		return c.recv.setMode("WithPoll", ModePoll)
	}
}

// WithWebhook receives through OpenIM's afterSendSingleMsg and
// afterSendGroupMsg callbacks (webhook mode), served as o says. A callback
// for a message to the bot makes it sync by seq at once; messages are
// handled from those pulls, so each is handled once and in order even when
// callbacks are lost, repeated or reordered, and a full sync every
// o.Reconcile (and at start) picks up what the server never announced.
// Sends go through /msg/send_msg: WithAdminSecret is required. The
// server's webhook URL must point at o.Listen and o.Path.
func WithWebhook(o WebhookOptions) Option {
	return func(c *config) error {
		if o.Reconcile < 0 || o.MaxBody < 0 {
			return optErr("WithWebhook", "negative Reconcile or MaxBody")
		}
		if o.Path != "" && o.Path[0] != '/' {
			return optErr("WithWebhook", "path %q does not start with /", o.Path)
		}
		c.recv.webhook = o
		return c.recv.setMode("WithWebhook", ModeWebhook)
	}
}

// WithFallbackPoll makes a gateway-mode bot fall back to polling when the
// websocket cannot be established o.After times in a row while the HTTP
// API answers: it logs the switch once, polls, tries the websocket every
// o.Retry and switches back when it connects. Watermarks make both switches
// lose and repeat nothing. Sends go through /msg/send_msg while polling:
// WithAdminSecret is required. Default: no fallback.
func WithFallbackPoll(o FallbackOptions) Option {
	return func(c *config) error {
		if o.After < 0 || o.Retry < 0 || o.Interval < 0 || o.MaxInterval < 0 {
			return optErr("WithFallbackPoll", "negative value")
		}
		if o.After == 0 {
			o.After = 3
		}
		if o.Retry == 0 {
			o.Retry = 30 * time.Second
		}
		c.recv.fallback = &o
		return nil
	}
}

// WithSource receives from a Source built by f (a message broker consumer,
// a test double), reported as name by Context.Source. Default: the mode's
// own source.
func WithSource(name string, f SourceFunc) Option {
	return func(c *config) error {
		if name == "" || f == nil {
			return optErr("WithSource", "empty name or nil SourceFunc")
		}
		c.recv.custom = f
		return c.recv.setMode("WithSource", name)
	}
}

// WithSender sends the bot's messages through s instead of the Source (if
// it is a MsgSender) or the REST sender. Default: the gateway connection in
// gateway mode, /msg/send_msg in poll and webhook modes.
func WithSender(s MsgSender) Option {
	return func(c *config) error {
		if s == nil {
			return optErr("WithSender", "nil sender")
		}
		c.recv.sender = s
		return nil
	}
}

// receiver is the bot's current Source and how it sends.
type receiver struct {
	cur  atomic.Pointer[activeSource]
	rest atomic.Pointer[transport.RESTSender]
}

type activeSource struct {
	src  Source
	mode string
	tok  string // the token of this session, for Bot.API (api.go)
}

// Source returns the receive mode: "gateway", "poll", "webhook", or the
// name given to WithSource. In gateway mode with WithFallbackPoll it is
// "poll" while the bot polls.
func (b *Bot) Source() string {
	if a := b.rx.cur.Load(); a != nil {
		if f, ok := a.src.(*fallbackSource); ok {
			return f.mode()
		}
		return a.mode
	}
	return b.modeName()
}

func (b *Bot) modeName() string {
	if b.cfg.recv.mode == "" {
		return ModeGateway
	}
	return b.cfg.recv.mode
}

// Source reports the receive mode the bot was in when this handler started
// (see Bot.Source); "" for a Context built with NewContext.
func (c *Context) Source() string {
	if c.bot == nil {
		return ""
	}
	return c.bot.Source()
}

// source returns the current Source, nil before Run.
func (b *Bot) source() Source {
	if a := b.rx.cur.Load(); a != nil {
		return a.src
	}
	return nil
}

// sender returns what sends now: WithSender's, the Source if it sends, or
// the REST sender; nil when there is none yet.
func (b *Bot) sender() MsgSender {
	if s := b.cfg.recv.sender; s != nil {
		return s
	}
	if a := b.rx.cur.Load(); a != nil {
		if s, ok := a.src.(MsgSender); ok {
			return s
		}
	}
	if r := b.rx.rest.Load(); r != nil {
		return r
	}
	return nil
}

// restSender returns the REST sender, built on first use; nil without the
// admin secret.
func (b *Bot) restSender() *transport.RESTSender {
	if r := b.rx.rest.Load(); r != nil {
		return r
	}
	if b.api == nil || b.cfg.adminSecret == "" {
		return nil
	}
	r, err := transport.NewRESTSender(b.api, b.cfg.adminSecret, b.cfg.adminUserID, b.cfg.userID, b.cfg.platformID, b.cfg.nickname)
	if err != nil {
		return nil
	}
	b.rx.rest.CompareAndSwap(nil, r)
	return b.rx.rest.Load()
}

// newSource builds the Source of a session with the current token and makes
// it the bot's current one.
func (b *Bot) newSource() (Source, error) {
	p := SourceParams{UserID: b.cfg.userID, Token: b.token, PlatformID: b.cfg.platformID, API: b.api, Logger: b.log}
	var (
		src Source
		err error
	)
	rc := &b.cfg.recv
	switch {
	case rc.custom != nil:
		src, err = rc.custom(p)
	case rc.mode == ModePoll:
		b.restSender()
		src, err = transport.NewPoller(b.pollConfig(rc.pollEvery, rc.pollMax))
	case rc.mode == ModeWebhook:
		b.restSender()
		w := rc.webhook
		src, err = transport.NewWebhookSource(transport.WebhookConfig{
			Poll: b.pollConfig(0, 0), Listen: w.Listen, Listener: w.Listener, Path: w.Path,
			MaxBody: w.MaxBody, Reconcile: w.Reconcile,
		})
	case rc.fallback != nil:
		b.restSender()
		src, err = b.newFallback(*rc.fallback)
	default:
		var c *transport.Client
		c, err = transport.New(b.transportConfig())
		if err == nil {
			b.client.Store(c)
			src = c
		}
	}
	if err != nil {
		return nil, err
	}
	if src == nil {
		return nil, errors.New("bot: the SourceFunc returned no Source")
	}
	b.rx.cur.Store(&activeSource{src: src, mode: b.modeName(), tok: p.Token})
	return src, nil
}

func (b *Bot) pollConfig(every, maxEvery time.Duration) transport.PollConfig {
	return transport.PollConfig{API: b.api, UserID: b.cfg.userID, Token: b.token, Interval: every, MaxInterval: maxEvery, Logger: b.log}
}

// fallbackSource is gateway mode with WithFallbackPoll: a gateway Client,
// replaced by a Poller after o.After failed dials in a row while the HTTP
// API answers, and by a new Client again once a websocket probe connects.
// The consumer drains the old source's events before it reads the new
// one's, so events stay in order; the new source starts with
// EventConnected, so the engine syncs by seq across the switch.
type fallbackSource struct {
	o       FallbackOptions
	newGW   func() (*transport.Client, error)
	newPoll func() (*transport.Poller, error)
	rest    MsgSender
	log     *slog.Logger

	mu     sync.Mutex
	cur    Source
	ended  bool
	fails  int
	change chan struct{} // closed and replaced when cur changes or Run ends

	switchReq chan struct{} // cap 1: the consumer counted o.After failures
	closed    chan struct{}
	closeOnce sync.Once
}

func (b *Bot) newFallback(o FallbackOptions) (*fallbackSource, error) {
	tc := b.transportConfig()
	pc := b.pollConfig(o.Interval, o.MaxInterval)
	f := &fallbackSource{
		o:         o,
		newGW:     func() (*transport.Client, error) { return transport.New(tc) },
		newPoll:   func() (*transport.Poller, error) { return transport.NewPoller(pc) },
		log:       b.log,
		change:    make(chan struct{}),
		switchReq: make(chan struct{}, 1),
		closed:    make(chan struct{}),
	}
	if r := b.restSender(); r != nil {
		f.rest = r
	}
	gw, err := f.newGW()
	if err != nil {
		return nil, err
	}
	if _, err := f.newPoll(); err != nil {
		return nil, err
	}
	f.cur = gw
	return f, nil
}

func (f *fallbackSource) current() Source {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cur
}

func (f *fallbackSource) mode() string {
	if _, ok := f.current().(*transport.Poller); ok {
		return ModePoll
	}
	return ModeGateway
}

func (f *fallbackSource) setCurrent(s Source) {
	f.mu.Lock()
	f.cur = s
	f.fails = 0
	close(f.change)
	f.change = make(chan struct{})
	f.mu.Unlock()
}

func (f *fallbackSource) Status() transport.Status { return f.current().Status() }
func (f *fallbackSource) Close() error {
	f.closeOnce.Do(func() { close(f.closed) })
	return nil
}

func (f *fallbackSource) GetNewestSeq(ctx context.Context) (map[string]int64, error) {
	return f.current().GetNewestSeq(ctx)
}

func (f *fallbackSource) PullRange(ctx context.Context, r []transport.SeqRange) (map[string]transport.PullResult, error) {
	return f.current().PullRange(ctx, r)
}

// SendMsg sends over the websocket when it is the current source, else
// through /msg/send_msg.
func (f *fallbackSource) SendMsg(ctx context.Context, m *content.Message) (transport.SendResult, error) {
	if c, ok := f.current().(*transport.Client); ok || f.rest == nil {
		if !ok {
			return transport.SendResult{}, ErrNotConnected
		}
		return c.SendMsg(ctx, m)
	}
	return f.rest.SendMsg(ctx, m)
}

// NextEvent returns the current source's events; when it ended and another
// took its place, the next one's.
func (f *fallbackSource) NextEvent(ctx context.Context) (transport.Event, error) {
	for {
		f.mu.Lock()
		cur, change, ended := f.cur, f.change, f.ended
		f.mu.Unlock()
		ev, err := cur.NextEvent(ctx)
		if err == nil {
			if _, gw := cur.(*transport.Client); gw {
				f.count(ev)
			}
			return ev, nil
		}
		if ctx.Err() != nil {
			return ev, err
		}
		if ended {
			return ev, err
		}
		// The source ended: wait until Run replaced it or ended.
		f.mu.Lock()
		moved := f.cur != cur
		f.mu.Unlock()
		if moved {
			continue
		}
		select {
		case <-change:
		case <-ctx.Done():
			return transport.Event{}, ctx.Err()
		}
	}
}

// count counts failed dials in a row and asks Run to switch.
func (f *fallbackSource) count(ev transport.Event) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch ev.Kind {
	case transport.EventConnected:
		f.fails = 0
	case transport.EventConnectFailed:
		f.fails++
		if f.fails >= f.o.After {
			select {
			case f.switchReq <- struct{}{}:
			default:
			}
		}
	}
}

// Run runs the current source and switches between the gateway and
// polling.
func (f *fallbackSource) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-f.closed:
			cancel()
		case <-ctx.Done():
		}
	}()
	defer func() {
		f.mu.Lock()
		f.ended = true
		close(f.change)
		f.change = make(chan struct{})
		f.mu.Unlock()
	}()
	gw := f.current().(*transport.Client)
	gwDone := make(chan error, 1)
	go func() { gwDone <- gw.Run(ctx) }()
	for {
		// Gateway phase.
		var poll *transport.Poller
		for poll == nil {
			select {
			case err := <-gwDone:
				return err
			case <-f.switchReq:
				p, err := f.newPoll()
				if err != nil {
					return err
				}
				hctx, hcancel := context.WithTimeout(ctx, 10*time.Second)
				_, herr := p.GetNewestSeq(hctx)
				hcancel()
				if herr != nil {
					f.log.Warn("bot: websocket unreachable and the HTTP API does not answer either; still dialing", "err", herr)
					f.mu.Lock()
					f.fails = 0
					f.mu.Unlock()
					continue
				}
				f.log.Warn("bot: websocket unreachable; receiving by HTTP polling until it comes back",
					"failed_dials", f.o.After, "retry", f.o.Retry)
				poll = p
			}
		}
		pollDone := make(chan error, 1)
		go func() { pollDone <- poll.Run(ctx) }()
		f.setCurrent(poll)
		gw.Close()
		if err := <-gwDone; ctx.Err() != nil {
			<-pollDone
			return nil
		} else if err != nil && (errors.Is(err, transport.ErrKicked) || transport.IsFatalToken(err)) {
			poll.Close()
			<-pollDone
			return err
		}
		// Poll phase: probe the websocket every Retry.
		gw = nil
		for gw == nil {
			t := time.NewTimer(f.o.Retry)
			select {
			case err := <-pollDone:
				t.Stop()
				return err
			case <-t.C:
			}
			gw, gwDone = f.probe(ctx)
		}
		f.log.Info("bot: websocket reachable again; leaving HTTP polling")
		f.setCurrent(gw)
		poll.Close()
		if err := <-pollDone; err != nil && ctx.Err() == nil {
			f.log.Warn("bot: poller ended", "err", err)
		}
	}
}

// probe dials the websocket with a new Client and returns it, running,
// with the channel of its Run result, if it connects within a few seconds;
// nil otherwise.
func (f *fallbackSource) probe(ctx context.Context) (*transport.Client, chan error) {
	g, err := f.newGW()
	if err != nil {
		f.log.Warn("bot: websocket probe", "err", err)
		return nil, nil
	}
	runDone := make(chan error, 1)
	go func() { runDone <- g.Run(ctx) }()
	deadline := time.Now().Add(min(f.o.Retry, 5*time.Second))
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if g.Status() == transport.StatusConnected {
			return g, runDone
		}
		time.Sleep(20 * time.Millisecond)
	}
	g.Close()
	<-runDone
	return nil, nil
}
