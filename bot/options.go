package bot

import (
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"time"

	"github.com/openimbot/openimbot/storage"
	"github.com/openimbot/openimbot/transport"
)

// Option configures a Bot. Options write to an unexported configuration that
// New validates once; each option documents its default.
type Option func(*config) error

// Backlog says what a bot does, on its first start, with the messages that
// were already stored in conversations it has never seen.
type Backlog struct {
	kind backlogKind
	n    int64
}

type backlogKind int

const (
	backlogSkip backlogKind = iota
	backlogAll
	backlogLast
)

// Backlog policies.
var (
	// BacklogSkip starts every conversation at its current max seq: old
	// history is never answered. It is the default.
	BacklogSkip = Backlog{kind: backlogSkip}
	// BacklogAll handles every stored message of every conversation, as
	// offline messages.
	BacklogAll = Backlog{kind: backlogAll}
)

// BacklogLast handles the newest n stored messages of each conversation (n
// ≤ 0 means none, as BacklogSkip).
func BacklogLast(n int) Backlog {
	if n <= 0 {
		return BacklogSkip
	}
	return Backlog{kind: backlogLast, n: int64(n)}
}

// String returns "skip", "all" or "last N".
func (p Backlog) String() string {
	switch p.kind {
	case backlogAll:
		return "all"
	case backlogLast:
		return fmt.Sprintf("last %d", p.n)
	}
	return "skip"
}

// start returns the seq to start after for a conversation whose newest seq
// is maxSeq, on the first start.
func (p Backlog) start(maxSeq int64) int64 {
	switch p.kind {
	case backlogAll:
		return 0
	case backlogLast:
		return max(maxSeq-p.n, 0)
	}
	return maxSeq
}

// Defaults.
const (
	DefaultHandlerTimeout  = 30 * time.Second
	DefaultQueueSize       = 256
	DefaultRate            = 5.0
	DefaultBurst           = 10
	DefaultShutdownTimeout = 10 * time.Second
	DefaultPlatformID      = 7
	DefaultAdminUserID     = "imAdmin"
	DefaultLockTimeout     = 2 * time.Second
	// DefaultCommitDelay paces the bot's storage commits (see
	// storage.Options.CommitDelay): under load, the watermarks and dedup
	// entries of the messages handled within 20ms share one commit; a
	// message after a quiet spell is committed at once, and plugin
	// namespace writes are never paced. Nothing on the reply path waits for
	// these commits; a crash only repeats the messages handled since the
	// last one (delivery is at least once). A shorter pace costs throughput
	// on small machines: each commit makes two fsyncs, and a goroutine
	// blocked in fsync keeps its scheduler slot (P) for the whole call, so
	// with two cores a 1ms pace leaves one core idle about a third of the
	// time under load. In BenchmarkPipeline (plain, two cores) 5ms gave
	// about 15% more throughput than 1ms, and 20ms about 8% more again.
	DefaultCommitDelay = 20 * time.Millisecond
)

// StorageOptions returns the options the bot opens its database with when
// given WithStorage; callers that open the database themselves for WithDB
// can start from them. log may be nil.
func StorageOptions(log *slog.Logger) storage.Options {
	return storage.Options{
		LockTimeout: DefaultLockTimeout,
		CommitDelay: DefaultCommitDelay,
		Logger:      log,
	}
}

// config is what the options write; New validates it.
type config struct {
	wsAddr      string
	userID      string
	token       string
	apiAddr     string
	adminSecret string
	adminUserID string
	nickname    string
	platformID  int32
	compression transport.Compression

	storagePath string
	db          *storage.DB

	handler         Handler
	backlog         Backlog
	seqReset        SeqResetPolicy // WithSeqReset; zero: SeqResetResync
	workers         int
	queueSize       int
	handlerTimeout  time.Duration
	shutdownTimeout time.Duration
	rate            float64
	burst           int
	loopGuard       int
	dispatchSelf    bool
	clock           Clock // WithClock (dialog.go)

	onError        []func(error)
	onConnecting   []func(attempt int)
	onConnected    []func()
	onSynced       []func()
	onConnectFail  []func(error)
	onDisconnected []func(error)
	onKicked       []func()
	onTokenInvalid []func(error)

	maxReconnects int // WithMaxReconnects; <= 0: forever

	logger    *slog.Logger
	observer  Observer                // WithObserver; nil: none
	transport func(*transport.Config) // test hook to adjust the client config
	recv      receiveConfig           // source.go: receive mode and sender
}

func defaultConfig() config {
	return config{
		platformID:      DefaultPlatformID,
		adminUserID:     DefaultAdminUserID,
		backlog:         BacklogSkip,
		workers:         32 * runtime.GOMAXPROCS(0),
		queueSize:       DefaultQueueSize,
		handlerTimeout:  DefaultHandlerTimeout,
		shutdownTimeout: DefaultShutdownTimeout,
		rate:            DefaultRate,
		burst:           DefaultBurst,
		loopGuard:       DefaultLoopGuard,
	}
}

func (c *config) validate() error {
	var errs []error
	if c.wsAddr == "" && c.recv.needsGateway() {
		errs = append(errs, errors.New("no gateway address (WithGateway)"))
	}
	errs = append(errs, c.recv.validate(c)...)
	if c.userID == "" {
		errs = append(errs, errors.New("no user ID (WithUser)"))
	}
	if c.token == "" && c.adminSecret == "" {
		errs = append(errs, errors.New("no credentials (WithToken or WithAdminSecret)"))
	}
	if c.token != "" && c.adminSecret != "" {
		errs = append(errs, errors.New("both WithToken and WithAdminSecret given; use one"))
	}
	if c.storagePath != "" && c.db != nil {
		errs = append(errs, errors.New("both WithStorage and WithDB given; use one"))
	}
	if c.storagePath == "" && c.db == nil {
		errs = append(errs, errors.New("no storage (WithStorage or WithDB): watermarks must be durable"))
	}
	if c.handler == nil {
		errs = append(errs, errors.New("no handler (WithHandler)"))
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", ErrConfig, errors.Join(errs...))
	}
	return nil
}

func optErr(name, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrConfig, name, fmt.Sprintf(format, args...))
}

// WithGateway sets the websocket address of the OpenIM message gateway, e.g.
// "ws://127.0.0.1:10001". Required.
func WithGateway(wsAddr string) Option {
	return func(c *config) error {
		if wsAddr == "" {
			return optErr("WithGateway", "empty address")
		}
		c.wsAddr = wsAddr
		return nil
	}
}

// WithUser sets the bot's user ID. Required.
func WithUser(userID string) Option {
	return func(c *config) error {
		if userID == "" {
			return optErr("WithUser", "empty user ID")
		}
		c.userID = userID
		return nil
	}
}

// WithToken sets the user token for the bot's user ID and platform. Either
// WithToken or WithAdminSecret is required. A token cannot be refreshed: when
// the gateway reports it expired or invalid, Run returns the error.
func WithToken(token string) Option {
	return func(c *config) error {
		if token == "" {
			return optErr("WithToken", "empty token")
		}
		c.token = token
		return nil
	}
}

// WithAdminSecret makes the bot fetch its user token through the HTTP API at
// apiAddr (e.g. "http://127.0.0.1:10002") with the server's admin secret,
// registering the bot's user first if it does not exist, and fetch a new
// token when the gateway reports the current one expired. adminUserID is the
// administrator's user ID; omitted, it defaults to "imAdmin". A server that
// cannot be reached (a connection error, a timeout, a 5xx) is retried with
// the websocket's back-off and attempt limit (transport Config.Backoff and
// MaxReconnects), so a bot started before its server waits for it; a
// rejected secret or admin user ID makes Run fail at once.
func WithAdminSecret(apiAddr, secret string, adminUserID ...string) Option {
	return func(c *config) error {
		if apiAddr == "" || secret == "" {
			return optErr("WithAdminSecret", "empty API address or secret")
		}
		if c.apiAddr != "" && c.apiAddr != apiAddr {
			return optErr("WithAdminSecret", "API address differs from WithAPI's")
		}
		if len(adminUserID) > 1 {
			return optErr("WithAdminSecret", "at most one admin user ID")
		}
		c.apiAddr, c.adminSecret = apiAddr, secret
		if len(adminUserID) == 1 && adminUserID[0] != "" {
			c.adminUserID = adminUserID[0]
		}
		return nil
	}
}

// WithAPI sets the address of the OpenIM HTTP API (e.g.
// "http://127.0.0.1:10002") for a bot that uses WithToken: the bot's
// profile is then read from it to fill the sender nickname and face URL of
// outgoing messages. WithAdminSecret sets it too. Default: none.
func WithAPI(apiAddr string) Option {
	return func(c *config) error {
		if apiAddr == "" {
			return optErr("WithAPI", "empty API address")
		}
		c.apiAddr = apiAddr
		return nil
	}
}

// WithNickname sets the sender nickname put on outgoing messages. By default
// the bot uses the nickname of its profile when it can read it through the
// HTTP API (WithAdminSecret), and none otherwise.
func WithNickname(nickname string) Option {
	return func(c *config) error {
		c.nickname = nickname
		return nil
	}
}

// WithPlatform sets the platform ID the bot logs in as; default 7 (Linux).
func WithPlatform(platformID int32) Option {
	return func(c *config) error {
		if platformID <= 0 {
			return optErr("WithPlatform", "platform ID %d is not positive", platformID)
		}
		c.platformID = platformID
		return nil
	}
}

// WithCompression turns gzip compression of websocket frames on or off;
// default off (see package transport for the cost of gzip).
func WithCompression(gzip bool) Option {
	return func(c *config) error {
		c.compression = transport.CompressNone
		if gzip {
			c.compression = transport.CompressGzip
		}
		return nil
	}
}

// WithStorage sets the path of the bot's database file, opened by Run and
// closed when the bot stops. One of WithStorage or WithDB is required.
func WithStorage(path string) Option {
	return func(c *config) error {
		if path == "" {
			return optErr("WithStorage", "empty path")
		}
		c.storagePath = path
		return nil
	}
}

// WithDB uses an open database. The bot flushes it when it stops but does
// not close it: the caller does. StorageOptions gives the options the bot
// itself would open it with.
func WithDB(db *storage.DB) Option {
	return func(c *config) error {
		if db == nil {
			return optErr("WithDB", "nil database")
		}
		c.db = db
		return nil
	}
}

// WithHandler sets the handler every message is dispatched to. Required.
func WithHandler(h Handler) Option {
	return func(c *config) error {
		if h == nil {
			return optErr("WithHandler", "nil handler")
		}
		c.handler = h
		return nil
	}
}

// WithBacklog sets what to do with stored history on the first start of a
// bot (a database that has never completed a sync); default BacklogSkip.
// Conversations that appear later are always handled from their first
// message.
func WithBacklog(p Backlog) Option {
	return func(c *config) error {
		c.backlog = p
		return nil
	}
}

// WithWorkers sets the number of dispatch shards, each run by one goroutine;
// default 32 × GOMAXPROCS (handlers mostly wait: a reply is a round trip to
// the gateway, so many more shards than cores keep the connection busy;
// BenchmarkPipeline on 2 cores gains about 20% in throughput from 16 to 64
// shards and nothing beyond). Conversations are assigned to shards by a
// hash of their ID: one conversation is always handled in order, and conversations
// that share a shard share its order (a slow handler delays the other
// conversations of its shard only).
func WithWorkers(n int) Option {
	return func(c *config) error {
		if n <= 0 {
			return optErr("WithWorkers", "%d workers", n)
		}
		c.workers = n
		return nil
	}
}

// WithQueueSize sets the capacity of each shard's queue; default 256. The
// shards together hold at most 4096 queued messages, which bounds the
// memory of a catch-up whatever the backlog. When a queue is full, or the
// shards hold 4096, the sync engine waits (backpressure); the transport
// queues pushes meanwhile, up to 4096 messages, and drops those beyond,
// which the bot then pulls by seq.
func WithQueueSize(n int) Option {
	return func(c *config) error {
		if n <= 0 {
			return optErr("WithQueueSize", "queue size %d", n)
		}
		c.queueSize = n
		return nil
	}
}

// WithHandlerTimeout bounds each handler invocation: its Context is
// cancelled after d; default 30s; 0 means no timeout. The handler is not
// abandoned: the next message of its shard waits until it returns.
func WithHandlerTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return optErr("WithHandlerTimeout", "negative timeout %v", d)
		}
		c.handlerTimeout = d
		return nil
	}
}

// WithShutdownTimeout bounds the drain when Run's ctx ends (Shutdown has its
// own ctx); default 10s. After it, handler contexts are cancelled.
func WithShutdownTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return optErr("WithShutdownTimeout", "timeout %v is not positive", d)
		}
		c.shutdownTimeout = d
		return nil
	}
}

// WithRateLimit limits what the bot sends to each conversation to perSecond
// messages a second on average with bursts of burst; default 5 a second,
// burst 10. A send over the limit fails at once with an error matching
// ErrRateLimited. perSecond ≤ 0 disables the limit.
func WithRateLimit(perSecond float64, burst int) Option {
	return func(c *config) error {
		if perSecond > 0 && burst <= 0 {
			return optErr("WithRateLimit", "burst %d is not positive", burst)
		}
		c.rate, c.burst = perSecond, burst
		return nil
	}
}

// WithDispatchSelf makes the bot dispatch its own messages (sent from this
// or another of its connections) to the handler; default false, which
// protects against reply loops.
func WithDispatchSelf(on bool) Option {
	return func(c *config) error {
		c.dispatchSelf = on
		return nil
	}
}

// WithOnError adds a sink for handler errors, recovered panics
// (*HandlerError) and runtime errors (failed syncs, storage errors). It may
// be called from several goroutines at once and must not block for long.
// Default: errors are only logged.
func WithOnError(f func(error)) Option {
	return func(c *config) error {
		if f != nil {
			c.onError = append(c.onError, f)
		}
		return nil
	}
}

// WithOnConnecting adds a hook called before each dial (attempt counts from
// 1 after every established connection). Lifecycle hooks run on the bot's
// event goroutine, in order; they must not block. Every hook option adds a
// hook: several hooks of one kind run in the order they were given; nil
// functions are ignored.
func WithOnConnecting(f func(attempt int)) Option {
	return func(c *config) error {
		if f != nil {
			c.onConnecting = append(c.onConnecting, f)
		}
		return nil
	}
}

// WithOnConnected adds a hook called after each successful handshake, before
// the sync that follows it.
func WithOnConnected(f func()) Option {
	return func(c *config) error {
		if f != nil {
			c.onConnected = append(c.onConnected, f)
		}
		return nil
	}
}

// WithOnSynced adds a hook called after each sync that follows a connect
// has delivered every gap to the workers: from then on, messages are
// dispatched as they are pushed.
func WithOnSynced(f func()) Option {
	return func(c *config) error {
		if f != nil {
			c.onSynced = append(c.onSynced, f)
		}
		return nil
	}
}

// WithOnConnectFailed adds a hook called when a dial or handshake fails.
func WithOnConnectFailed(f func(error)) Option {
	return func(c *config) error {
		if f != nil {
			c.onConnectFail = append(c.onConnectFail, f)
		}
		return nil
	}
}

// WithOnDisconnected adds a hook called when an established connection ends.
func WithOnDisconnected(f func(error)) Option {
	return func(c *config) error {
		if f != nil {
			c.onDisconnected = append(c.onDisconnected, f)
		}
		return nil
	}
}

// WithOnKicked adds a hook called when the server kicks the bot (another
// login with a new token); Run then returns an error matching ErrKicked.
func WithOnKicked(f func()) Option {
	return func(c *config) error {
		if f != nil {
			c.onKicked = append(c.onKicked, f)
		}
		return nil
	}
}

// WithOnTokenInvalid adds a hook called when the gateway rejects the token.
// With WithAdminSecret an expired token is replaced and the bot reconnects;
// otherwise Run returns the error.
func WithOnTokenInvalid(f func(error)) Option {
	return func(c *config) error {
		if f != nil {
			c.onTokenInvalid = append(c.onTokenInvalid, f)
		}
		return nil
	}
}

// WithLogger sets the logger; default discards.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		c.logger = l
		return nil
	}
}

// WithMaxReconnects makes Run give up after n consecutive failed dials
// (returning an error matching transport.ErrReconnectsExhausted); the
// same bound applies to reaching the HTTP API for a token. The default, and
// n <= 0, is to keep trying forever: a bot is a service, and its server may
// be down for longer than any fixed number of attempts. The back-off
// between attempts is the transport's (1, 2, 4, 8, 16 s cycling).
func WithMaxReconnects(n int) Option {
	return func(c *config) error {
		c.maxReconnects = n
		return nil
	}
}

// WithTransportConfig lets the caller adjust the transport configuration the
// bot builds (timeouts, backoff, encoding) before the client is created. The
// function must not change WSAddr, UserID or Token.
func WithTransportConfig(f func(*transport.Config)) Option {
	return func(c *config) error {
		c.transport = f
		return nil
	}
}

// WithLoopGuard bounds loops between bots: the bot sends at most n messages
// into a conversation while handling other bots' messages since the last
// human message there; a handler's send over the limit fails at once with a
// *LoopGuardError (matching ErrLoopGuard) and the first refusal is logged at
// WARN with the conversation. A human message in the conversation starts
// the count afresh, and so do 10 minutes without any. Default
// DefaultLoopGuard (5); 0 turns the guard off; it holds whatever the rate
// limit.
//
// A message is a bot's when it carries the marker this framework puts in
// the ex field of everything a bot sends ({"openimbot_bot":true}), or when
// it is the bot's own (WithDispatchSelf); any other message counts as a
// person's, however fast it comes, so bots of other frameworks are bounded
// by the rate limit only, unless they set the same marker. Sends outside
// handlers (Bot.Send) are neither counted nor refused.
func WithLoopGuard(n int) Option {
	return func(c *config) error {
		if n < 0 {
			return optErr("WithLoopGuard", "limit %d is negative (0 turns the guard off)", n)
		}
		c.loopGuard = n
		return nil
	}
}
