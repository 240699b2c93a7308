package sandbox

import (
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Config configures a Server. Zero values mean the documented defaults. The
// fields map one to one to the flags of `openimbot sandbox`:
// -ws (WSAddr), -api (APIAddr), -secret (Secret), -db (StorePath),
// -history (MaxHistory).
type Config struct {
	// WSAddr is the TCP address the websocket gateway listens on; default
	// "127.0.0.1:0" (a free loopback port; see Server.WSURL).
	WSAddr string
	// APIAddr is the TCP address of the HTTP API; default "127.0.0.1:0".
	APIAddr string
	// Secret signs tokens (HS256) and is what /auth/get_admin_token expects;
	// default "openIM123" as in OpenIM's example configuration.
	Secret string
	// AdminUserID is the administrator user ID; default "imAdmin".
	AdminUserID string
	// StorePath, when set, is a file that keeps users, groups, tokens and
	// messages across restarts (an append-only log of JSON lines). Empty
	// means memory only.
	StorePath string
	// TokenTTL is the lifetime of issued tokens; default 90 days.
	TokenTTL time.Duration
	// ReadTimeout closes a connection that sent no frame and no Ping for
	// this long; default 30s (docs/protocol.md §4.1). Server Pings to Web (platform
	// 5) connections go out every 0.9 × ReadTimeout.
	ReadTimeout time.Duration
	// MaxConnections is the connection count at which handshakes fail with
	// 1601; default 100000.
	MaxConnections int
	// SendQueue is the per-connection outbound queue length; a connection
	// whose queue overflows is closed (docs/protocol.md §2.6). Default 256.
	SendQueue int
	// MaxHistory is how many messages each conversation keeps, the newest
	// ones; default 10000, negative means all. Older messages are evicted
	// as OpenIM clears or expires messages: the conversation's min seq
	// rises, pulls leave out seqs below it, the max seq stays.
	MaxHistory int
	// Webhook, when its URL is set, posts OpenIM's afterSendSingleMsg and
	// afterSendGroupMsg callbacks (see WebhookConfig); default off.
	Webhook WebhookConfig
	// Logger receives one line per connection, request and HTTP call;
	// default discards. Tokens and the secret are never logged.
	Logger *slog.Logger
}

// Defaults.
const (
	DefaultAddr           = "127.0.0.1:0"
	DefaultSecret         = "openIM123"
	DefaultAdminUserID    = "imAdmin"
	DefaultTokenTTL       = 90 * 24 * time.Hour
	DefaultReadTimeout    = 30 * time.Second
	DefaultMaxConnections = 100000
	DefaultSendQueue      = 256
	DefaultMaxHistory     = 10000
)

func (c Config) withDefaults() (Config, error) {
	if c.WSAddr == "" {
		c.WSAddr = DefaultAddr
	}
	if c.APIAddr == "" {
		c.APIAddr = DefaultAddr
	}
	if c.Secret == "" {
		c.Secret = DefaultSecret
	}
	if c.AdminUserID == "" {
		c.AdminUserID = DefaultAdminUserID
	}
	if c.TokenTTL == 0 {
		c.TokenTTL = DefaultTokenTTL
	}
	if c.TokenTTL < 0 {
		return c, fmt.Errorf("sandbox: config: TokenTTL %v is negative", c.TokenTTL)
	}
	if c.ReadTimeout == 0 {
		c.ReadTimeout = DefaultReadTimeout
	}
	if c.ReadTimeout < 0 {
		return c, fmt.Errorf("sandbox: config: ReadTimeout %v is negative", c.ReadTimeout)
	}
	if c.MaxConnections == 0 {
		c.MaxConnections = DefaultMaxConnections
	}
	if c.MaxConnections < 0 {
		return c, fmt.Errorf("sandbox: config: MaxConnections %d is negative", c.MaxConnections)
	}
	if c.SendQueue == 0 {
		c.SendQueue = DefaultSendQueue
	}
	if c.SendQueue < 0 {
		return c, fmt.Errorf("sandbox: config: SendQueue %d is negative", c.SendQueue)
	}
	if c.MaxHistory == 0 {
		c.MaxHistory = DefaultMaxHistory
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// Errors returned by the Go API. Server-side OpenIM error codes are reported
// as *CodeError values, which also match these sentinels where one applies.
var (
	ErrClosed        = errors.New("sandbox: server closed")
	ErrUserExists    = errors.New("sandbox: user already registered")
	ErrUnknownUser   = errors.New("sandbox: unknown user")
	ErrGroupExists   = errors.New("sandbox: group already exists")
	ErrUnknownGroup  = errors.New("sandbox: unknown group")
	ErrNotFound      = errors.New("sandbox: message not found")
	ErrInvalid       = errors.New("sandbox: invalid argument")
	ErrCorruptStore  = errors.New("sandbox: corrupt store file")
	ErrNotInGroup    = errors.New("sandbox: not a group member")
	ErrAdminPlatform = errors.New("sandbox: platform 10 is for admin tokens only")
)

// CodeError is an OpenIM error code with its symbolic name and detail, as the
// gateway and the HTTP API report it.
type CodeError struct {
	Code   int
	Msg    string // symbolic name, e.g. "ArgsError"
	Detail string // may be empty
	base   error  // a sentinel this error also matches, or nil
}

func (e *CodeError) Error() string {
	if e.Detail == "" {
		return fmt.Sprintf("sandbox: %d %s", e.Code, e.Msg)
	}
	return fmt.Sprintf("sandbox: %d %s: %s", e.Code, e.Msg, e.Detail)
}

// Unwrap returns the sentinel this error corresponds to, if any.
func (e *CodeError) Unwrap() error { return e.base }

// OpenIM error codes used by the sandbox (docs/protocol.md §5.3).
const (
	CodeServerInternal    = 500
	CodeArgs              = 1001
	CodeNoPermission      = 1002
	CodeRecordNotFound    = 1004
	CodeUserIDNotFound    = 1101
	CodeRegisteredAlready = 1102
	CodeGroupIDNotFound   = 1201
	CodeGroupIDExisted    = 1202
	CodeNotInGroupYet     = 1203
	CodeTokenExpired      = 1501
	CodeTokenInvalid      = 1502
	CodeTokenMalformed    = 1503
	CodeTokenNotValidYet  = 1504
	CodeTokenUnknown      = 1505
	CodeTokenKicked       = 1506
	CodeTokenNotExist     = 1507
	CodeConnOverMax       = 1601
	CodeConnArgs          = 1602
)

// codeName returns OpenIM's symbolic name of code.
func codeName(code int) string {
	switch code {
	case 0:
		return ""
	case CodeServerInternal:
		return "ServerInternalError"
	case CodeArgs:
		return "ArgsError"
	case CodeNoPermission:
		return "NoPermissionError"
	case 1003:
		return "DuplicateKeyError"
	case CodeRecordNotFound:
		return "RecordNotFoundError"
	case CodeUserIDNotFound:
		return "UserIDNotFoundError"
	case CodeRegisteredAlready:
		return "RegisteredAlreadyError"
	case CodeGroupIDNotFound:
		return "GroupIDNotFoundError"
	case CodeGroupIDExisted:
		return "GroupIDExisted"
	case CodeNotInGroupYet:
		return "NotInGroupYetError"
	case CodeTokenExpired:
		return "TokenExpiredError"
	case CodeTokenInvalid:
		return "TokenInvalidError"
	case CodeTokenMalformed:
		return "TokenMalformedError"
	case CodeTokenNotValidYet:
		return "TokenNotValidYetError"
	case CodeTokenUnknown:
		return "TokenUnknownError"
	case CodeTokenKicked:
		return "TokenKickedError"
	case CodeTokenNotExist:
		return "TokenNotExistError"
	case CodeConnOverMax:
		return "ConnOverMaxNumLimit"
	case CodeConnArgs:
		return "args err, need token, sendID, platformID"
	}
	return fmt.Sprintf("Error%d", code)
}

func codeErr(code int, detail string) *CodeError {
	e := &CodeError{Code: code, Msg: codeName(code), Detail: detail}
	switch code {
	case CodeArgs:
		e.base = ErrInvalid
	case CodeUserIDNotFound:
		e.base = ErrUnknownUser
	case CodeRegisteredAlready:
		e.base = ErrUserExists
	case CodeGroupIDNotFound:
		e.base = ErrUnknownGroup
	case CodeGroupIDExisted:
		e.base = ErrGroupExists
	case CodeNotInGroupYet:
		e.base = ErrNotInGroup
	}
	return e
}
