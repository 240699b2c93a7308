package transport

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Match them with errors.Is.
var (
	// ErrClosed is returned by calls on a Client that was closed, logged out
	// or stopped by a fatal error, and by Run on a Client already run.
	ErrClosed = errors.New("transport: client closed")
	// ErrConnectionLost fails every request pending on a connection when that
	// connection dies; the error also wraps the cause.
	ErrConnectionLost = errors.New("transport: connection lost")
	// ErrKicked is returned by Run after the server sent a 2002 kick: the
	// token is no longer valid and the client does not reconnect.
	ErrKicked = errors.New("transport: kicked by the server")
	// ErrTokenExpired matches an *APIError with code 1501.
	ErrTokenExpired = errors.New("transport: token expired")
	// ErrTokenInvalid matches an *APIError with code 1502, 1503, 1504, 1505
	// or 1507.
	ErrTokenInvalid = errors.New("transport: token invalid")
	// ErrTokenKicked matches an *APIError with code 1506 (the token was
	// kicked by another login).
	ErrTokenKicked = errors.New("transport: token kicked")
	// ErrReconnectsExhausted is returned by Run when MaxReconnects
	// consecutive dials failed.
	ErrReconnectsExhausted = errors.New("transport: reconnect attempts exhausted")
	// ErrReadTimeout ends a connection that received nothing for
	// Config.ReadTimeout.
	ErrReadTimeout = errors.New("transport: read timeout")
	// ErrProtocol ends a connection that received a frame the protocol does
	// not allow (an unexpected text frame, an undecodable envelope, an
	// unknown request identifier).
	ErrProtocol = errors.New("transport: protocol error")
	// ErrEventQueueFull is the Err of an EventPushesDropped event: the
	// consumer of Events did not take them fast enough (more than
	// Config.EventQueueCap messages queued), so later pushes were dropped
	// until it caught up. The queued ones are still delivered; the dropped
	// ones that have a seq are recovered by a seq pull.
	ErrEventQueueFull = errors.New("transport: event queue full")
	// ErrInboundTooLarge ends a connection that received a frame over the
	// 1 MiB a client reads (wire.MaxClientInbound; with gzip, also a frame
	// inflating to more than that, wire.DefaultMaxInflated): the frame cannot be
	// skipped, so the connection is closed. Pulls ask for few enough
	// messages that only a single message over the limit does this; see
	// PullResult.TooLarge.
	ErrInboundTooLarge = errors.New("transport: inbound frame over the read limit")
	// ErrFrameTooLarge is returned for a request whose frame would exceed
	// the gateway's 51200-byte inbound limit; nothing is sent.
	ErrFrameTooLarge = errors.New("transport: frame too large")
	// ErrHandshake wraps a handshake that failed without an OpenIM error
	// body (an HTTP status other than 101 and 200, a network error).
	ErrHandshake = errors.New("transport: handshake failed")
)

// APIError is an error reported by the server: a gateway handshake failure,
// an error reply to a request, or an HTTP API error. It matches
// ErrTokenExpired, ErrTokenInvalid and ErrTokenKicked with errors.Is
// according to its Code.
type APIError struct {
	Code   int    // errCode, e.g. 1501
	Msg    string // errMsg, the symbolic name, e.g. TokenExpiredError
	Detail string // errDlt; may be empty
}

// Error returns "transport: server error <code> <msg>[: <detail>]".
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "transport: server error %d", e.Code)
	if e.Msg != "" {
		b.WriteString(" ")
		b.WriteString(e.Msg)
	}
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	return b.String()
}

// Is reports whether target is the token sentinel matching e.Code.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrTokenExpired:
		return e.Code == 1501
	case ErrTokenInvalid:
		return e.Code >= 1502 && e.Code <= 1507 && e.Code != 1506
	case ErrTokenKicked:
		return e.Code == 1506
	}
	return false
}

// IsFatalToken reports whether err is a token error (codes 1501–1507) after
// which redialing with the same token cannot succeed.
func IsFatalToken(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Code >= 1501 && ae.Code <= 1507
}

// redactedError hides secrets from the text of an error while keeping its
// root cause for errors.Is and errors.As.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// redact returns err with every occurrence of the secrets removed from its
// text.
func redact(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	changed := false
	for _, s := range secrets {
		if s == "" {
			continue
		}
		for _, v := range []string{s, queryEscape(s)} {
			if strings.Contains(msg, v) {
				msg = strings.ReplaceAll(msg, v, "REDACTED")
				changed = true
			}
		}
	}
	if !changed {
		return err
	}
	// Keep only the innermost cause in the chain (a context or network
	// error), never an intermediate error whose text holds the secret.
	root := err
	for {
		next := errors.Unwrap(root)
		if next == nil {
			break
		}
		root = next
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(root.Error(), s) {
			root = nil
			break
		}
	}
	return &redactedError{msg: msg, err: root}
}
