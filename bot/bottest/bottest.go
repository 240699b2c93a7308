package bottest

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/openimbot/openimbot/bot"
	"github.com/openimbot/openimbot/content"
	"github.com/openimbot/openimbot/sandbox"
)

// DefaultBotID is the bot's user ID unless WithBotID says otherwise.
const DefaultBotID = "bot"

// DefaultTimeout bounds Start's wait for the bot to connect, and NextReply's
// wait for a reply.
const DefaultTimeout = 10 * time.Second

// Option configures Start.
type Option func(*options)

type options struct {
	botID   string
	users   []string
	botOpts []bot.Option
	backlog bot.Backlog
	setBack bool
	sandbox sandbox.Config
	gzip    bool
	storage string
	setup   []func(*sandbox.Server) error
}

// WithBotID sets the bot's user ID; default "bot".
func WithBotID(id string) Option { return func(o *options) { o.botID = id } }

// WithUsers registers users in the sandbox before the bot starts. Say and
// SayInGroup register unknown users themselves.
func WithUsers(ids ...string) Option {
	return func(o *options) { o.users = append(o.users, ids...) }
}

// WithBotOptions adds options to the bot's; they are applied after the
// harness's own (gateway, user, credentials, storage, handler, hooks), so
// they can override them.
func WithBotOptions(opts ...bot.Option) Option {
	return func(o *options) { o.botOpts = append(o.botOpts, opts...) }
}

// WithBacklog sets the bot's backlog policy; default bot.BacklogSkip.
func WithBacklog(p bot.Backlog) Option { return func(o *options) { o.backlog, o.setBack = p, true } }

// WithSandbox sets the sandbox configuration; default sandbox.Config{} (two
// free loopback ports).
func WithSandbox(cfg sandbox.Config) Option { return func(o *options) { o.sandbox = cfg } }

// WithGzip turns websocket compression on.
func WithGzip() Option { return func(o *options) { o.gzip = true } }

// WithSetup runs f on the sandbox after the bot user and WithUsers are
// registered and before the bot starts: to create groups or send messages
// "while the bot is down".
func WithSetup(f func(s *sandbox.Server) error) Option {
	return func(o *options) { o.setup = append(o.setup, f) }
}

// WithStoragePath sets the bot's database file; default a file in
// t.TempDir().
func WithStoragePath(path string) Option { return func(o *options) { o.storage = path } }

// Harness is a running sandbox and bot.
type Harness struct {
	t     testing.TB
	s     *sandbox.Server
	b     *bot.Bot
	botID string
	path  string

	opts   options
	runErr chan error
	synced chan struct{}

	mu      sync.Mutex
	cond    *sync.Cond
	sent    []content.Message // everything the bot sent, in acceptance order
	next    int               // index in sent of the next reply for WaitReply
	users   map[string]bool
	groups  map[string]bool
	stopped bool

	unsub    func()
	pumpDone chan struct{}
}

// Start starts a sandbox and a bot running h, registered as the bot user,
// with storage in t.TempDir(); it waits until the bot has connected and
// finished its first sync. Everything is stopped by t.Cleanup; a bot that
// ended with an error fails the test.
func Start(t testing.TB, h bot.Handler, opts ...Option) *Harness {
	t.Helper()
	o := options{botID: DefaultBotID}
	for _, f := range opts {
		f(&o)
	}
	s, err := sandbox.Start(context.Background(), o.sandbox)
	if err != nil {
		t.Fatalf("bottest: start sandbox: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	hs := &Harness{
		t: t, s: s, botID: o.botID, opts: o,
		users:    make(map[string]bool),
		groups:   make(map[string]bool),
		pumpDone: make(chan struct{}),
	}
	hs.cond = sync.NewCond(&hs.mu)
	if err := s.RegisterUser(o.botID, "Bot "+o.botID); err != nil {
		t.Fatalf("bottest: register bot: %v", err)
	}
	for _, u := range o.users {
		hs.register(u)
	}
	ch, unsub := s.Subscribe(1024)
	hs.unsub = unsub
	go hs.pump(ch)
	t.Cleanup(hs.stopPump)

	for _, f := range o.setup {
		if err := f(s); err != nil {
			t.Fatalf("bottest: setup: %v", err)
		}
	}
	hs.path = o.storage
	if hs.path == "" {
		hs.path = filepath.Join(t.TempDir(), "bot.db")
	}
	hs.startBot(h)
	t.Cleanup(hs.stopBot)
	return hs
}

// startBot builds and runs a bot and waits for its first sync.
func (hs *Harness) startBot(h bot.Handler, extra ...bot.Option) {
	t, o := hs.t, hs.opts
	t.Helper()
	synced := make(chan struct{})
	var once sync.Once
	bopts := []bot.Option{
		bot.WithGateway(hs.s.WSURL()),
		bot.WithUser(o.botID),
		bot.WithAdminSecret(hs.s.APIURL(), sandbox.DefaultSecret),
		bot.WithStorage(hs.path),
		bot.WithHandler(h),
		bot.WithCompression(o.gzip),
		bot.WithOnSynced(func() { once.Do(func() { close(synced) }) }),
	}
	if o.setBack {
		bopts = append(bopts, bot.WithBacklog(o.backlog))
	}
	bopts = append(bopts, o.botOpts...)
	bopts = append(bopts, extra...)
	b, err := bot.New(bopts...)
	if err != nil {
		t.Fatalf("bottest: %v", err)
	}
	runErr := make(chan error, 1)
	hs.mu.Lock()
	hs.b, hs.runErr = b, runErr
	hs.mu.Unlock()
	go func() { runErr <- b.Run(context.Background()) }()
	select {
	case <-synced:
	case err := <-runErr:
		runErr <- err
		t.Fatalf("bottest: bot stopped before it connected: %v", err)
	case <-time.After(DefaultTimeout):
		t.Fatalf("bottest: bot did not connect and sync within %v", DefaultTimeout)
	}
}

// RestartBot stops the bot (as Stop) and starts a new one with the same
// storage, handler h and options (plus extra), and waits for its first
// sync. The sandbox keeps running, so messages sent in between are
// pulled by the new bot.
func (h *Harness) RestartBot(handler bot.Handler, extra ...bot.Option) {
	h.t.Helper()
	if err := h.Stop(); err != nil {
		h.t.Fatalf("bottest: RestartBot: stop: %v", err)
	}
	h.startBot(handler, extra...)
}

func (h *Harness) stopBot() {
	if err := h.Stop(); err != nil {
		h.t.Errorf("bottest: %v", err)
	}
}

// Stop shuts the bot down gracefully (it is also done by t.Cleanup) and
// returns Run's error. The sandbox keeps running. Stop is idempotent.
func (h *Harness) Stop() error {
	h.mu.Lock()
	b, runErr := h.b, h.runErr
	h.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), DefaultTimeout)
	defer cancel()
	if err := b.Shutdown(ctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	select {
	case err := <-runErr:
		runErr <- nil
		if err != nil {
			return fmt.Errorf("bot.Run: %w", err)
		}
		return nil
	case <-ctx.Done():
		return errors.New("bot.Run did not return")
	}
}

func (h *Harness) stopPump() {
	h.unsub()
	<-h.pumpDone
	h.mu.Lock()
	h.stopped = true
	h.cond.Broadcast()
	h.mu.Unlock()
}

func (h *Harness) pump(ch <-chan content.Message) {
	defer close(h.pumpDone)
	for m := range ch {
		if m.SendID != h.botID {
			continue
		}
		h.mu.Lock()
		h.sent = append(h.sent, m)
		h.cond.Broadcast()
		h.mu.Unlock()
	}
}

// Sandbox returns the sandbox, for fault injection and inspection.
func (h *Harness) Sandbox() *sandbox.Server { return h.s }

// Bot returns the running bot (the newest one after RestartBot).
func (h *Harness) Bot() *bot.Bot {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.b
}

// BotID returns the bot's user ID.
func (h *Harness) BotID() string { return h.botID }

// StoragePath returns the bot's database file.
func (h *Harness) StoragePath() string { return h.path }

func (h *Harness) register(user string) {
	h.mu.Lock()
	known := h.users[user]
	h.users[user] = true
	h.mu.Unlock()
	if known {
		return
	}
	if err := h.s.RegisterUser(user, user); err != nil && !errors.Is(err, sandbox.ErrUserExists) {
		h.t.Fatalf("bottest: register %s: %v", user, err)
	}
}

// Say sends text from user to the bot in their single chat and returns the
// stored message (with its seq). The user is registered if needed.
func (h *Harness) Say(user, text string) content.Message {
	h.t.Helper()
	h.register(user)
	m, err := h.s.SendText(user, h.botID, text)
	if err != nil {
		h.t.Fatalf("bottest: Say(%s): %v", user, err)
	}
	return m
}

// SayInGroup sends text from user to group, creating the group with the
// bot and user as members if it does not exist yet.
func (h *Harness) SayInGroup(group, user, text string) content.Message {
	h.t.Helper()
	h.register(user)
	h.mu.Lock()
	known := h.groups[group]
	h.groups[group] = true
	h.mu.Unlock()
	if !known {
		if err := h.s.CreateGroup(group, h.botID, user); err != nil && !errors.Is(err, sandbox.ErrGroupExists) {
			h.t.Fatalf("bottest: create group %s: %v", group, err)
		}
	}
	m, err := h.s.SendGroupText(user, group, text)
	if err != nil {
		h.t.Fatalf("bottest: SayInGroup(%s, %s): %v", group, user, err)
	}
	return m
}

// NextReply returns the next message the bot sent that no earlier
// NextReply, WaitReply or Replies returned, waiting at most DefaultTimeout.
// It fails the test on timeout. It waits on the sandbox's message stream,
// never by sleeping.
func (h *Harness) NextReply() content.Message {
	h.t.Helper()
	return h.WaitReply(DefaultTimeout)
}

// NextReplyText is NextReply returning the reply's text ("" for a reply
// without text).
func (h *Harness) NextReplyText() string {
	h.t.Helper()
	m := h.WaitReply(DefaultTimeout)
	return m.Text()
}

// NextReplies returns the next n replies, as NextReply.
func (h *Harness) NextReplies(n int) []content.Message {
	h.t.Helper()
	return h.WaitReplies(n, DefaultTimeout)
}

// WaitReply is NextReply waiting at most timeout; a timeout of 0 or less
// means DefaultTimeout.
func (h *Harness) WaitReply(timeout time.Duration) content.Message {
	h.t.Helper()
	ms, err := h.waitReplies(context.Background(), timeout, 1)
	if err != nil {
		h.t.Fatalf("bottest: WaitReply: %v", err)
	}
	return ms[0]
}

// WaitReplyContext is WaitReply bounded by ctx (DefaultTimeout when ctx has
// no deadline).
func (h *Harness) WaitReplyContext(ctx context.Context) content.Message {
	h.t.Helper()
	ms, err := h.waitReplies(ctx, 0, 1)
	if err != nil {
		h.t.Fatalf("bottest: WaitReply: %v", err)
	}
	return ms[0]
}

// WaitReplies waits for the next n replies, as WaitReply (timeout 0 means
// DefaultTimeout).
func (h *Harness) WaitReplies(n int, timeout time.Duration) []content.Message {
	h.t.Helper()
	ms, err := h.waitReplies(context.Background(), timeout, n)
	if err != nil {
		h.t.Fatalf("bottest: WaitReplies(%d): %v", n, err)
	}
	return ms
}

// SayEach makes every users[i] say line(i) at the same time, waits for
// one reply each (at most timeout; 0 means DefaultTimeout) and returns the
// replies' texts by the user they went to. It checks concurrent dialogs:
// which user got which answer is up to the caller.
func (h *Harness) SayEach(users []string, line func(i int) string, timeout time.Duration) map[string]string {
	h.t.Helper()
	var wg sync.WaitGroup
	for i, u := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h.Say(u, line(i))
		}()
	}
	wg.Wait()
	got := make(map[string]string, len(users))
	for _, m := range h.WaitReplies(len(users), timeout) {
		got[m.RecvID] = m.Text()
	}
	return got
}

// WaitReplyText is WaitReply returning the reply's text.
//
// Deprecated: WaitReplyText(0) reads like an index; use NextReplyText, or
// WaitReply(timeout) and its Text for another timeout.
func (h *Harness) WaitReplyText(timeout time.Duration) string {
	h.t.Helper()
	m := h.WaitReply(timeout)
	return m.Text()
}

func (h *Harness) waitReplies(ctx context.Context, timeout time.Duration, n int) ([]content.Message, error) {
	if _, ok := ctx.Deadline(); !ok || timeout > 0 {
		if timeout <= 0 {
			timeout = DefaultTimeout
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	stop := context.AfterFunc(ctx, func() {
		h.mu.Lock()
		h.cond.Broadcast()
		h.mu.Unlock()
	})
	defer stop()
	h.mu.Lock()
	defer h.mu.Unlock()
	for len(h.sent)-h.next < n {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("%d of %d replies after %w", len(h.sent)-h.next, n, err)
		}
		if h.stopped {
			return nil, errors.New("harness stopped")
		}
		h.cond.Wait()
	}
	out := append([]content.Message(nil), h.sent[h.next:h.next+n]...)
	for i := range out {
		if out[i].Elem == nil {
			_ = out[i].DecodeContent()
		}
	}
	h.next += n
	return out, nil
}

// Replies returns the replies not yet returned by WaitReply, without
// waiting, and marks them returned.
func (h *Harness) Replies() []content.Message {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := append([]content.Message(nil), h.sent[h.next:]...)
	h.next = len(h.sent)
	return out
}

// Sent returns every message the bot sent since Start, in the order the
// sandbox accepted them.
func (h *Harness) Sent() []content.Message {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]content.Message(nil), h.sent...)
}
