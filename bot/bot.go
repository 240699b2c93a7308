package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/openimbot/openimbot/storage"
	"github.com/openimbot/openimbot/transport"
)

// runtimeNamespace is the storage namespace of the runtime's own keys.
// Namespaces starting with "openimbot." are reserved.
const runtimeNamespace = "openimbot.runtime"

// Bot is a running OpenIM bot: one account, one connection, a sync engine
// and a worker pool. Build it with New, start it with Run, stop it with
// Shutdown (graceful) or Close (now), or by ending Run's ctx.
//
// All methods are safe for concurrent use.
type Bot struct {
	cfg    config
	log    *slog.Logger
	rl     *limiter
	guard  *loopGuard // nil when off
	client atomic.Pointer[transport.Client]
	dbp    atomic.Pointer[storage.DB]
	rx     receiver // source.go: the current Source and the REST sender

	// handlerCtx is the parent of every handler's ctx; cancelHandlers ends
	// it (Close, or a drain that ran out of time).
	handlerCtx     context.Context
	cancelHandlers context.CancelFunc
	deadlines      sharedDeadline

	mu       sync.Mutex
	started  bool
	closed   bool
	stop     chan struct{} // closed by Shutdown and Close
	stopOnce sync.Once
	graceful atomic.Bool   // Shutdown rather than Close
	done     chan struct{} // closed when Run returns
	waits    waitRegistry  // handlers waiting for an answer (dialog.go)

	api     *transport.API // with WithAdminSecret
	apiv    *API           // Bot.API (api.go), made once
	apiOnce sync.Once
	sync    *syncer
	disp    *dispatcher
	token   string // current token; used by the Run goroutine only

	clientDone chan struct{} // closed when the current client's Run returned
	clientErr  error         // its result, valid after clientDone
}

// New builds a Bot from options. It validates them and does no I/O.
func New(opts ...Option) (*Bot, error) {
	cfg := defaultConfig()
	for i, o := range opts {
		if o == nil {
			return nil, fmt.Errorf("%w: option %d is nil", ErrConfig, i)
		}
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	log := cfg.logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	b := &Bot{
		cfg:   cfg,
		log:   log.With("bot", cfg.userID),
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
		token: cfg.token,
	}
	if cfg.rate > 0 {
		b.rl = newLimiter(cfg.rate, cfg.burst)
	}
	if cfg.loopGuard > 0 {
		b.guard = newLoopGuard(cfg.loopGuard, b.log)
	}
	if cfg.apiAddr != "" {
		api, err := transport.NewAPI(cfg.apiAddr, transport.WithAPILogger(b.log))
		if err != nil {
			return nil, fmt.Errorf("%w: API address: %w", ErrConfig, err)
		}
		b.api = api
	}
	b.handlerCtx, b.cancelHandlers = context.WithCancel(context.Background())
	return b, nil
}

// SelfID returns the bot's user ID.
func (b *Bot) SelfID() string { return b.cfg.userID }

// DB returns the bot's database: the one given with WithDB, or the one
// opened by Run with WithStorage (nil before Run opened it). Plugins use
// its namespaces.
func (b *Bot) DB() *storage.DB {
	if b.cfg.db != nil {
		return b.cfg.db
	}
	return b.dbp.Load()
}

// Stats returns the sync engine's counters (zero before Run).
func (b *Bot) Stats() Stats {
	b.mu.Lock()
	sy := b.sync
	b.mu.Unlock()
	if sy == nil {
		return Stats{}
	}
	return sy.snapshot()
}

// Status returns the connection status (transport.StatusIdle before Run).
func (b *Bot) Status() transport.Status {
	if c := b.source(); c != nil {
		return c.Status()
	}
	return transport.StatusIdle
}

// Run connects, syncs and dispatches until ctx ends, Shutdown or Close is
// called, or a fatal error occurs: the bot was kicked (ErrKicked), or the
// token was rejected and cannot be refreshed (an error matching
// transport.ErrTokenExpired or transport.ErrTokenInvalid), or storage
// failed to open. When ctx ends Run drains in-flight handlers (for at most
// WithShutdownTimeout) and flushes storage, as Shutdown does, and returns
// nil. Run may be called once.
func (b *Bot) Run(ctx context.Context) error {
	b.mu.Lock()
	switch {
	case b.closed:
		b.mu.Unlock()
		return ErrClosed
	case b.started:
		b.mu.Unlock()
		return ErrRunning
	}
	b.started = true
	b.mu.Unlock()
	defer close(b.done)

	db := b.cfg.db
	if db == nil {
		var err error
		db, err = storage.Open(b.cfg.storagePath, b.storageOptions())
		if err != nil {
			return fmt.Errorf("bot: open storage: %w", err)
		}
		b.dbp.Store(db)
	}
	st := &dbStore{db: db}

	b.disp = newDispatcher(b.cfg.workers, b.cfg.queueSize, b.handle, func(conv string, seq int64) {
		db.Advance(conv, seq)
	})
	b.disp.rewind = func(conv string, seq int64) { db.Rewind(conv, seq) }
	b.disp.limitQueued(maxQueuedItems)
	sy := newSyncer(func() syncGateway {
		if s := b.source(); s != nil {
			return s
		}
		return nil
	}, st, b.disp.enqueue, b.cfg.userID, b.cfg.dispatchSelf, b.cfg.backlog, b.log, b.reportErr)
	sy.obs = b.cfg.observer
	sy.seqReset = b.cfg.seqReset
	b.mu.Lock()
	b.sync = sy
	b.mu.Unlock()
	b.disp.start()

	// loopCtx ends the event loop: ctx, or Shutdown/Close.
	loopCtx, cancelLoop := context.WithCancel(ctx)
	defer cancelLoop()
	stopWatch := make(chan struct{})
	var watch sync.WaitGroup
	watch.Add(1)
	go func() {
		defer watch.Done()
		select {
		case <-b.stop:
			cancelLoop()
		case <-stopWatch:
		}
	}()

	runErr := b.loop(loopCtx)
	close(stopWatch)
	watch.Wait()

	// Stop taking messages, drain in-flight handlers: Shutdown waits until
	// its ctx ends (it then cancels handlerCtx), Close has cancelled
	// handlerCtx already, otherwise (ctx ended, fatal error) the shutdown
	// timeout bounds the wait.
	drained := b.disp.stop()
	var timeout <-chan time.Time
	if !b.graceful.Load() {
		t := time.NewTimer(b.cfg.shutdownTimeout)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-drained:
	case <-timeout:
		b.log.Warn("bot: handlers did not return within the shutdown timeout; cancelling them")
	case <-b.handlerCtx.Done():
	}
	b.cancelHandlers()
	<-drained

	b.stopClient()
	fctx, cancel := context.WithTimeout(context.Background(), b.cfg.shutdownTimeout)
	defer cancel()
	if ferr := db.Flush(fctx); ferr != nil {
		b.reportErr(fmt.Errorf("bot: flush storage: %w", ferr))
		if runErr == nil {
			runErr = fmt.Errorf("bot: flush storage: %w", ferr)
		}
	}
	if b.cfg.db == nil {
		if cerr := db.Close(); cerr != nil && runErr == nil {
			runErr = fmt.Errorf("bot: close storage: %w", cerr)
		}
	}
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	return runErr
}

// loop runs transport clients and consumes their events until ctx ends or
// a fatal error; it replaces the client when a refreshed token allows. When
// ctx ends, the current client is left running so that draining handlers
// can still send; Run closes it afterwards.
func (b *Bot) loop(ctx context.Context) error {
	refreshes := 0
	for {
		if b.token == "" || refreshes > 0 {
			tok, err := b.fetchTokenRetry(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return fmt.Errorf("%w: %w", ErrTokenRefresh, err)
			}
			b.token = tok
		}
		client, err := b.newSource()
		if err != nil {
			return fmt.Errorf("bot: %w", err)
		}
		done := make(chan struct{})
		b.clientDone = done
		go func() {
			defer close(done)
			b.clientErr = client.Run(context.Background())
		}()
		res := b.consume(ctx, client)
		if res.stopped {
			return nil
		}
		_ = client.Close()
		<-done
		if res.fatal != nil {
			res.classify(res.fatal)
		} else {
			res.classify(b.clientErr)
		}
		switch {
		case res.err == nil:
			return nil
		case res.refresh && b.cfg.adminSecret != "" && (refreshes == 0 || res.connected):
			refreshes++
			b.log.Info("bot: token rejected; fetching a new one", "err", res.err)
			continue
		}
		return res.err
	}
}

// stopClient closes the current client and waits for its Run.
func (b *Bot) stopClient() {
	if c := b.source(); c != nil {
		_ = c.Close()
		<-b.clientDone
	}
}

type clientResult struct {
	stopped   bool  // ctx ended; the client is still running
	fatal     error // the client reported a kick or a rejected token
	err       error
	refresh   bool // the token was rejected in a way a new token may fix
	connected bool // the client connected at least once
}

// classify sets the result from the client's Run error.
func (res *clientResult) classify(err error) {
	var ae *transport.APIError
	switch {
	case err == nil:
	case errors.Is(err, transport.ErrKicked):
		res.err = fmt.Errorf("%w: %w", ErrKicked, err)
	case errors.Is(err, transport.ErrTokenExpired):
		res.err, res.refresh = fmt.Errorf("bot: %w", err), true
	case errors.As(err, &ae) && ae.Code == 1507:
		res.err, res.refresh = fmt.Errorf("bot: %w", err), true
	default:
		res.err = fmt.Errorf("bot: %w", err)
	}
}

// consume handles the client's events in order until ctx ends (stopped)
// or the client stops (its event channel closes).
func (b *Bot) consume(ctx context.Context, client Source) clientResult {
	var res clientResult
	for {
		if ctx.Err() != nil {
			res.stopped = true
			return res
		}
		// NextEvent rather than the Events channel: the events come
		// straight from the client's queue, one goroutine hand-off less.
		ev, err := client.NextEvent(ctx)
		if err != nil {
			if ctx.Err() != nil {
				res.stopped = true
			}
			// Otherwise ErrClosed: the client stopped and its events
			// were all taken.
			return res
		}
		switch ev.Kind {
		case transport.EventConnecting:
			for _, f := range b.cfg.onConnecting {
				f(ev.Attempt)
			}
		case transport.EventConnected:
			res.connected = true
			b.log.Debug("bot: connected", "conn", ev.Conn) // the transport logs it at info
			for _, f := range b.cfg.onConnected {
				f()
			}
			if err := b.sync.onConnected(ctx); err != nil {
				b.syncFailed(ctx, err)
			} else {
				for _, f := range b.cfg.onSynced {
					f()
				}
			}
		case transport.EventConnectFailed:
			for _, f := range b.cfg.onConnectFail {
				f(ev.Err)
			}
		case transport.EventDisconnected:
			b.log.Debug("bot: disconnected", "conn", ev.Conn, "err", ev.Err) // the transport logs it with its cause
			for _, f := range b.cfg.onDisconnected {
				f(ev.Err)
			}
		case transport.EventKicked:
			for _, f := range b.cfg.onKicked {
				f()
			}
			// The client stops: the result does not depend on a Shutdown
			// racing with the end of its event stream.
			res.fatal = ev.Err
			if res.fatal == nil {
				res.fatal = transport.ErrKicked
			}
			return res
		case transport.EventTokenInvalid:
			for _, f := range b.cfg.onTokenInvalid {
				f(ev.Err)
			}
			res.fatal = ev.Err
			if res.fatal == nil {
				res.fatal = transport.ErrTokenInvalid
			}
			return res
		case transport.EventPush:
			if err := b.sync.onPush(ctx, ev.Messages); err != nil {
				b.syncFailed(ctx, err)
			}
		case transport.EventSync:
			// Messages are waiting on the server (a poll or a webhook
			// callback saw them): pull them by seq.
			if err := b.sync.onConnected(ctx); err != nil {
				b.syncFailed(ctx, err)
			}
		case transport.EventPushesDropped:
			// The loop was busy (a catch-up, full shards) while pushes
			// arrived: the transport dropped the ones over its cap. Pull
			// what they carried, as after a reconnect.
			b.log.Warn("bot: pushes dropped while the pipeline was busy; re-syncing by seq", "dropped", ev.Dropped)
			if err := b.sync.onConnected(ctx); err != nil {
				b.syncFailed(ctx, err)
			}
		}
	}
}

// eventQueueCap is the transport's Config.EventQueueCap for a bot (unless
// WithTransportConfig sets another): the pushed messages that may wait
// while the event loop is busy (a catch-up, full shards). Beyond it pushes
// are dropped and pulled by seq instead, so memory does not grow with the
// load; a pull carries up to 100 messages per frame, so recovering them
// that way costs less than the pushes did.
const eventQueueCap = 4096

func (b *Bot) transportConfig() transport.Config {
	cfg := transport.Config{
		WSAddr:        b.cfg.wsAddr,
		UserID:        b.cfg.userID,
		Token:         b.token,
		PlatformID:    b.cfg.platformID,
		Compression:   b.cfg.compression,
		Logger:        b.log,
		API:           b.api,
		EventQueueCap: eventQueueCap,
		MaxReconnects: -1, // forever, unless WithMaxReconnects
		// The sync engine needs only the seq of the bot's own messages
		// unless it dispatches them.
		SkipOwnContent: !b.cfg.dispatchSelf,
	}
	if b.cfg.maxReconnects > 0 {
		cfg.MaxReconnects = b.cfg.maxReconnects
	}
	if b.cfg.transport != nil {
		b.cfg.transport(&cfg)
	}
	cfg.WSAddr, cfg.UserID, cfg.Token = b.cfg.wsAddr, b.cfg.userID, b.token
	return cfg
}

// Shutdown stops the bot gracefully: it stops taking messages (queued ones
// that have not started are left for the next start: their watermark does
// not advance), waits for in-flight handlers to return, flushes storage,
// closes the connection and waits for Run to return. If ctx ends first,
// handler contexts are cancelled, Shutdown still waits for Run and returns
// ctx's error. Shutdown is idempotent; on a bot that was never run it only
// marks it closed. It must not be called from a handler (it would wait for
// that handler): start it in a goroutine instead.
func (b *Bot) Shutdown(ctx context.Context) error {
	b.graceful.Store(true)
	if !b.signalStop() {
		return nil
	}
	select {
	case <-b.done:
		return nil
	case <-ctx.Done():
		b.cancelHandlers()
		<-b.done
		return ctx.Err()
	}
}

// Close stops the bot now: handler contexts are cancelled, the connection is
// closed and storage is flushed; it waits for every goroutine of the bot,
// including running handlers, to return. Idempotent. Like Shutdown, it
// must not be called from a handler.
func (b *Bot) Close() error {
	b.cancelHandlers()
	if !b.signalStop() {
		return nil
	}
	<-b.done
	return nil
}

// signalStop closes b.stop and reports whether Run was started (so there is
// something to wait for).
func (b *Bot) signalStop() bool {
	b.stopOnce.Do(func() { close(b.stop) })
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.started {
		b.closed = true
		return false
	}
	return true
}

// syncFailed reports a failed sync step, unless the bot is stopping or the
// connection was lost (the next connect syncs again: nothing to report).
func (b *Bot) syncFailed(ctx context.Context, err error) {
	switch {
	case ctx.Err() != nil, errors.Is(err, ErrClosed):
	case errors.Is(err, transport.ErrConnectionLost), errors.Is(err, transport.ErrClosed):
		b.log.Warn("bot: sync interrupted by the connection; it resumes after the reconnect", "err", err)
	default:
		b.reportErr(err)
	}
}

// reportErr sends err to the OnError sink and logs it.
func (b *Bot) reportErr(err error) {
	b.log.Error("bot: error", "err", err)
	for _, f := range b.cfg.onError {
		f(err)
	}
}

// handle runs the handler for one dispatched item, recovering a panic.
func (b *Bot) handle(it *item) {
	if b.waits.deliver(it) { // an answer a handler waits for (dialog.go)
		return
	}
	c := &Context{
		shard:   it.shard,
		msg:     it.msg,
		selfID:  b.cfg.userID,
		offline: it.offline,
		bot:     b,
		start:   time.Now(),
	}
	b.API().observe(it.msg) // group notifications drop cached members
	b.warnUndecodable(it.msg)
	b.observeReceived(c)
	err := b.call(c)
	c.endWait()
	b.observeHandled(c, err)
	if err != nil {
		b.reportErr(err)
	}
}

func (b *Bot) call(c *Context) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = &HandlerError{
				ConversationID: c.msg.ConversationID, Seq: c.msg.Seq, ClientMsgID: c.msg.ClientMsgID,
				Panic: p, Stack: debug.Stack(),
			}
		}
	}()
	if herr := b.cfg.handler.Handle(c); herr != nil {
		return &HandlerError{ConversationID: c.msg.ConversationID, Seq: c.msg.Seq, ClientMsgID: c.msg.ClientMsgID, Err: herr}
	}
	return nil
}

// dbStore adapts *storage.DB to the sync engine.
type dbStore struct {
	db   *storage.DB
	init atomic.Bool
}

func (s *dbStore) Watermark(conv string) (int64, bool) { return s.db.Watermark(conv) }
func (s *dbStore) SeenOrMark(id string) bool           { return s.db.SeenOrMark(id) }
func (s *dbStore) SetStart(conv string, seq int64)     { s.db.Advance(conv, seq) }
func (s *dbStore) Watermarks() map[string]int64        { return s.db.Watermarks() }

func (s *dbStore) Initialized() bool {
	if s.init.Load() {
		return true
	}
	_, ok, err := s.db.Namespace(runtimeNamespace).Get("initialized")
	if err == nil && ok {
		s.init.Store(true)
	}
	return ok
}

func (s *dbStore) SetInitialized() error {
	if err := s.db.Namespace(runtimeNamespace).Put("initialized", []byte(time.Now().UTC().Format(time.RFC3339))); err != nil {
		return err
	}
	s.init.Store(true)
	return nil
}
