package router

import (
	"errors"
	"fmt"
	"strconv"
)

// Continue, returned by a handler (possibly wrapped), lets lower routes run
// after it as if the route were NonBlocking. It is not reported as an error.
var Continue = errors.New("router: continue")

// ErrInvalidPattern is matched (errors.Is) by every *PatternError.
var ErrInvalidPattern = errors.New("router: invalid pattern")

// ErrNilHandler is returned when a route is registered without a handler.
var ErrNilHandler = errors.New("router: nil handler")

// Location is a position in a source file: a Go file and line of a Handle
// call, or the place in a configuration file a route was loaded from.
// Zero fields are unknown.
type Location struct {
	File   string
	Line   int
	Column int
}

// String returns "file:line:column", leaving out unknown parts.
func (l Location) String() string {
	if l.File == "" && l.Line == 0 {
		return "?"
	}
	s := l.File
	if l.Line > 0 {
		s += ":" + strconv.Itoa(l.Line)
		if l.Column > 0 {
			s += ":" + strconv.Itoa(l.Column)
		}
	}
	return s
}

// IsZero reports whether l is unknown.
func (l Location) IsZero() bool { return l == Location{} }

// PatternError is an invalid command pattern, regex, expression or text
// matcher argument. Line and Column are 1-based positions inside Pattern
// (0 when unknown); Route is where the route was registered.
type PatternError struct {
	Kind    string // "command", "regex", "expr", "prefix", ...
	Pattern string
	Line    int
	Column  int
	Msg     string
	Route   Location
	Err     error // the underlying parser error, if any
}

func (e *PatternError) Error() string {
	s := "router: "
	if !e.Route.IsZero() {
		s += e.Route.String() + ": "
	}
	s += "invalid " + e.Kind + " " + strconv.Quote(e.Pattern)
	if e.Line > 0 {
		s += fmt.Sprintf(" at %d:%d", e.Line, e.Column)
	}
	return s + ": " + e.Msg
}

// Unwrap returns the underlying parser error.
func (e *PatternError) Unwrap() error { return e.Err }

// Is reports whether target is ErrInvalidPattern.
func (e *PatternError) Is(target error) bool { return target == ErrInvalidPattern }
