package bot

import (
	"errors"
	"fmt"
)

// Sentinel errors. Errors returned by this package wrap them; match them
// with errors.Is.
var (
	// ErrConfig wraps every error of New about its options.
	ErrConfig = errors.New("bot: invalid configuration")
	// ErrClosed is returned by Run on a bot that was shut down or closed, and
	// by sends after that.
	ErrClosed = errors.New("bot: closed")
	// ErrRunning is returned by a second call of Run.
	ErrRunning = errors.New("bot: already running")
	// ErrNotConnected is returned by sends before Run has created a client.
	ErrNotConnected = errors.New("bot: not running")
	// ErrRateLimited is matched by the *RateLimitError of a send over the
	// per-conversation outbound limit.
	ErrRateLimited = errors.New("bot: outbound rate limit exceeded")
	// ErrKicked is returned by Run when the server kicked the bot.
	ErrKicked = errors.New("bot: kicked by the server")
	// ErrTokenRefresh wraps the failure to fetch a new token.
	ErrTokenRefresh = errors.New("bot: token refresh failed")
	// ErrNoSender is returned by the send methods of a Context built with
	// NewContext, which has no bot.
	ErrNoSender = errors.New("bot: context has no bot to send with")
	// ErrInvalidTarget is returned for a send to an empty user or group ID.
	ErrInvalidTarget = errors.New("bot: invalid target")
	// ErrPanic is matched by a HandlerError holding a recovered panic.
	ErrPanic = errors.New("bot: handler panicked")
)

// RateLimitError reports a send refused by the outbound rate limit.
type RateLimitError struct {
	ConversationID string
}

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("bot: outbound rate limit exceeded for conversation %s", e.ConversationID)
}

// Is matches ErrRateLimited.
func (e *RateLimitError) Is(target error) bool { return target == ErrRateLimited }

// HandlerError reports a handler that returned an error or panicked for one
// message. For a panic, Panic holds the recovered value, Stack the
// goroutine's stack and the error matches ErrPanic.
type HandlerError struct {
	ConversationID string
	Seq            int64  // 0 for online-only messages
	ClientMsgID    string // the message's client ID
	Err            error  // the returned error; nil for a panic
	Panic          any    // the recovered value, for a panic
	Stack          []byte // the stack at the panic
}

func (e *HandlerError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("bot: handler panicked on %s seq %d: %v", e.ConversationID, e.Seq, e.Panic)
	}
	return fmt.Sprintf("bot: handler failed on %s seq %d: %v", e.ConversationID, e.Seq, e.Err)
}

// Unwrap returns the handler's error.
func (e *HandlerError) Unwrap() error { return e.Err }

// Is matches ErrPanic for a panic.
func (e *HandlerError) Is(target error) bool { return target == ErrPanic && e.Err == nil }

// SyncError reports a failed step of the sync engine (newest seqs, a pull);
// the bot retries on the next push gap or reconnect.
type SyncError struct {
	Op             string // "newest seq", "pull"
	ConversationID string // for a pull of one conversation's gap; may be empty
	Err            error
}

func (e *SyncError) Error() string {
	if e.ConversationID != "" {
		return fmt.Sprintf("bot: sync: %s %s: %v", e.Op, e.ConversationID, e.Err)
	}
	return fmt.Sprintf("bot: sync: %s: %v", e.Op, e.Err)
}

func (e *SyncError) Unwrap() error { return e.Err }
