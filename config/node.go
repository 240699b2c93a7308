package config

import (
	"fmt"
	"reflect"

	"go.yaml.in/yaml/v3"
)

// Node is a raw piece of configuration with its position, such as one
// plugin's section. Environment references in it are already expanded.
// The zero Node is an absent section: Decode leaves its target untouched.
//
// A Node is immutable and safe for concurrent use.
type Node struct {
	n      *yaml.Node
	file   string
	secret map[*yaml.Node]bool
}

// Decode decodes the node into v, a non-nil pointer, as strictly as the rest
// of the file: unknown keys and wrong types are errors with file:line:col.
// Struct fields take their keys from `yaml:"name"` tags (or the lower-cased
// field name); a single value is accepted where a list is expected; fields of
// type Node receive the raw sub-node, for nested positions. Values already in
// *v are kept for keys the node does not set, so set defaults first.
func (n Node) Decode(v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("config: Node.Decode needs a non-nil pointer, got %T", v)
	}
	if n.n == nil {
		return nil
	}
	d := newDecoder(n.file, n.secret)
	d.decode(n.n, rv.Elem())
	return d.err()
}

// Pos returns the node's position (Line 0 for the zero Node).
func (n Node) Pos() Pos {
	if n.n == nil {
		return Pos{File: n.file}
	}
	return Pos{File: n.file, Line: n.n.Line, Col: n.n.Column}
}

// IsZero reports whether the node is absent.
func (n Node) IsZero() bool { return n.n == nil }

// Errorf returns an ErrValue error at the node's position, for a value that
// decoded fine but is not acceptable to its user.
func (n Node) Errorf(format string, args ...any) error {
	return Errorf(n.Pos(), format, args...)
}
