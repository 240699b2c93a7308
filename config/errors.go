package config

import (
	"errors"
	"fmt"
	"strings"
)

// Error kinds, for errors.Is.
var (
	// ErrSyntax: the file is not valid YAML.
	ErrSyntax = errors.New("config: syntax error")
	// ErrUnknownKey: a mapping key that the schema does not know.
	ErrUnknownKey = errors.New("config: unknown key")
	// ErrType: a value of the wrong YAML kind or type (a list where a string
	// is expected, a word where a number is expected, ...).
	ErrType = errors.New("config: wrong type")
	// ErrValue: a well-typed value that is not allowed (a platform ID out of
	// range, an unknown backlog policy, ...).
	ErrValue = errors.New("config: invalid value")
	// ErrEnv: a ${NAME} reference to an unset environment variable, or a
	// malformed reference.
	ErrEnv = errors.New("config: environment variable")
)

// Pos is a position in a configuration file. Line and Col count from 1; a
// zero Line means the position is unknown (a default value).
type Pos struct {
	File string
	Line int
	Col  int
}

// String returns "file:line:col", "file:line" when the column is unknown, or
// the file name alone when the line is unknown.
func (p Pos) String() string {
	switch {
	case p.Line == 0:
		return p.File
	case p.Col == 0:
		return fmt.Sprintf("%s:%d", p.File, p.Line)
	default:
		return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
	}
}

// IsValid reports whether the position has a line.
func (p Pos) IsValid() bool { return p.Line > 0 }

// Error is one configuration error at a position. Its message has the form
// "config: file:line:col: what went wrong".
type Error struct {
	Pos  Pos
	Kind error  // one of ErrSyntax, ErrUnknownKey, ErrType, ErrValue, ErrEnv
	Msg  string // what went wrong, without the position
}

func (e *Error) Error() string {
	if e.Pos.File == "" && e.Pos.Line == 0 {
		return "config: " + e.Msg
	}
	return "config: " + e.Pos.String() + ": " + e.Msg
}

// Unwrap returns the error's kind.
func (e *Error) Unwrap() error { return e.Kind }

// Errors is a list of configuration errors, in file order. It is what Load,
// Parse and Node.Decode return when anything is wrong; errors.Is and
// errors.As look through every item.
type Errors []*Error

func (es Errors) Error() string {
	var b strings.Builder
	for i, e := range es {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Unwrap returns the items, for errors.Is and errors.As.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// Errorf returns an Errors holding one ErrValue error at pos. Plugins use it
// to report a value that decoded fine but is not acceptable, with the same
// file:line:col form as the loader's errors.
func Errorf(pos Pos, format string, args ...any) error {
	return Errors{{Pos: pos, Kind: ErrValue, Msg: fmt.Sprintf(format, args...)}}
}

// maxErrors bounds the errors collected from one file.
const maxErrors = 50
