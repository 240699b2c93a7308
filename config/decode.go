package config

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// decoder walks a yaml.Node tree into Go values, collecting errors with
// positions. It supports structs (keys from `yaml:"name"` tags, or the
// lower-cased field name; `yaml:"-"` skips a field), strings, bools, integers,
// floats, time.Duration (Go syntax, "30s"), pointers, slices (a single scalar
// is accepted as a one-item list), maps with string keys, any, Node (the raw
// node) and types implementing nodeDecoder.
type decoder struct {
	file   string
	secret map[*yaml.Node]bool // scalars whose value came from the environment
	errs   Errors
	budget int // nodes left to visit; bounds alias expansion

	// track, when not nil, records the position of every mapping value by
	// its dotted path ("openim.platform_id", "rules.0.regex").
	track map[string]Pos
	path  []string
	// fromEnv, when track is set, records the paths whose value came from
	// the environment.
	fromEnv map[string]bool
}

// visit decodes val into v with key pushed on the path.
func (d *decoder) visit(key string, val *yaml.Node, v reflect.Value) {
	d.path = append(d.path, key)
	if d.track != nil {
		if r := d.resolveQuiet(val); r != nil {
			key := strings.Join(d.path, ".")
			d.track[key] = d.pos(r)
			if d.secret[r] && d.fromEnv != nil {
				d.fromEnv[key] = true
			}
		}
	}
	d.decode(val, v)
	d.path = d.path[:len(d.path)-1]
}

// resolveQuiet follows aliases without charging the budget.
func (d *decoder) resolveQuiet(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// nodeDecoder is implemented by types that decode themselves, such as Rule.
type nodeDecoder interface {
	decodeNode(d *decoder, n *yaml.Node)
}

// maxNodes bounds the number of nodes decoded from one file, counting every
// visit through an alias, so that alias bombs fail instead of exploding.
const maxNodes = 1 << 20

func newDecoder(file string, secret map[*yaml.Node]bool) *decoder {
	return &decoder{file: file, secret: secret, budget: maxNodes}
}

// show quotes a scalar's value for an error message, unless it came from the
// environment (it may be a secret).
func (d *decoder) show(n *yaml.Node) string {
	if d.secret[n] {
		return "a value from the environment"
	}
	return strconv.Quote(short(n.Value))
}

func (d *decoder) pos(n *yaml.Node) Pos {
	if n == nil {
		return Pos{File: d.file}
	}
	return Pos{File: d.file, Line: n.Line, Col: n.Column}
}

func (d *decoder) errorf(n *yaml.Node, kind error, format string, args ...any) {
	if len(d.errs) >= maxErrors {
		return
	}
	d.errs = append(d.errs, &Error{Pos: d.pos(n), Kind: kind, Msg: fmt.Sprintf(format, args...)})
}

func (d *decoder) err() error {
	if len(d.errs) == 0 {
		return nil
	}
	return d.errs
}

var (
	nodeType     = reflect.TypeFor[Node]()
	durationType = reflect.TypeFor[time.Duration]()
)

// kindName names a node's kind for error messages.
func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!int":
			return "an integer"
		case "!!float":
			return "a number"
		case "!!bool":
			return "a boolean"
		case "!!null":
			return "null"
		}
		return "a string"
	}
	return "an unsupported YAML node"
}

// resolve follows aliases and document wrappers and charges the budget.
// It returns nil when the node has nothing to decode.
func (d *decoder) resolve(n *yaml.Node) *yaml.Node {
	for n != nil {
		d.budget--
		if d.budget < 0 {
			if d.budget == -1 {
				d.errorf(n, ErrValue, "the document is too large (more than %d nodes after expanding aliases)", maxNodes)
			}
			return nil
		}
		switch n.Kind {
		case yaml.DocumentNode:
			if len(n.Content) == 0 {
				return nil
			}
			n = n.Content[0]
		case yaml.AliasNode:
			n = n.Alias
		default:
			return n
		}
	}
	return nil
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// decode decodes n into v, which must be settable. A null node leaves v as it
// is, so defaults set before decoding survive an empty value.
func (d *decoder) decode(n *yaml.Node, v reflect.Value) {
	if n = d.resolve(n); n == nil {
		return
	}
	if v.Type() == nodeType {
		v.Set(reflect.ValueOf(Node{n: n, file: d.file, secret: d.secret}))
		return
	}
	if v.CanAddr() {
		if nd, ok := v.Addr().Interface().(nodeDecoder); ok {
			nd.decodeNode(d, n)
			return
		}
	}
	if isNull(n) {
		return
	}
	if v.Type() == durationType {
		d.duration(n, v)
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.decode(n, v.Elem())
	case reflect.Interface:
		if v.NumMethod() != 0 {
			d.errorf(n, ErrType, "cannot decode into %s", v.Type())
			return
		}
		if x := d.any(n); x != nil {
			v.Set(reflect.ValueOf(x))
		}
	case reflect.String:
		if d.scalar(n, "a string") {
			v.SetString(n.Value)
		}
	case reflect.Bool:
		if !d.scalar(n, "true or false") {
			return
		}
		switch strings.ToLower(n.Value) {
		case "true":
			v.SetBool(true)
		case "false":
			v.SetBool(false)
		default:
			d.errorf(n, ErrType, "expected true or false, got %s", d.show(n))
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if !d.scalar(n, "an integer") {
			return
		}
		i, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, v.Type().Bits())
		if err != nil {
			d.numErr(n, err, "an integer")
			return
		}
		v.SetInt(i)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if !d.scalar(n, "a non-negative integer") {
			return
		}
		u, err := strconv.ParseUint(strings.ReplaceAll(n.Value, "_", ""), 0, v.Type().Bits())
		if err != nil {
			d.numErr(n, err, "a non-negative integer")
			return
		}
		v.SetUint(u)
	case reflect.Float32, reflect.Float64:
		if !d.scalar(n, "a number") {
			return
		}
		f, err := strconv.ParseFloat(n.Value, v.Type().Bits())
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			d.errorf(n, ErrType, "expected a number, got %s", d.show(n))
			return
		}
		v.SetFloat(f)
	case reflect.Slice:
		d.slice(n, v)
	case reflect.Map:
		d.mapping(n, v)
	case reflect.Struct:
		d.structure(n, v)
	default:
		d.errorf(n, ErrType, "cannot decode into %s", v.Type())
	}
}

// scalar reports whether n is a scalar, recording a type error if not.
func (d *decoder) scalar(n *yaml.Node, want string) bool {
	if n.Kind != yaml.ScalarNode {
		d.errorf(n, ErrType, "expected %s, got %s", want, kindName(n))
		return false
	}
	return true
}

func (d *decoder) numErr(n *yaml.Node, err error, want string) {
	if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
		d.errorf(n, ErrValue, "%s is out of range", d.show(n))
		return
	}
	d.errorf(n, ErrType, "expected %s, got %s", want, d.show(n))
}

func (d *decoder) duration(n *yaml.Node, v reflect.Value) {
	if !d.scalar(n, "a duration such as 30s") {
		return
	}
	s := strings.TrimSpace(n.Value)
	if s == "0" {
		v.SetInt(0)
		return
	}
	dur, err := time.ParseDuration(s)
	if err != nil {
		d.errorf(n, ErrType, "expected a duration such as 30s or 1m30s, got %s", d.show(n))
		return
	}
	if dur < 0 {
		d.errorf(n, ErrValue, "duration %s is negative", d.show(n))
		return
	}
	v.SetInt(int64(dur))
}

func (d *decoder) slice(n *yaml.Node, v reflect.Value) {
	switch n.Kind {
	case yaml.SequenceNode:
		out := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, item := range n.Content {
			d.visit(strconv.Itoa(i), item, out.Index(i))
		}
		v.Set(out)
	case yaml.ScalarNode:
		// A single scalar stands for a one-item list: keyword: hi.
		out := reflect.MakeSlice(v.Type(), 1, 1)
		d.decode(n, out.Index(0))
		v.Set(out)
	default:
		d.errorf(n, ErrType, "expected a list, got %s", kindName(n))
	}
}

// keys checks a mapping's keys (scalars, no duplicates, no merge keys) and
// calls f for each key/value pair that passes.
func (d *decoder) keys(n *yaml.Node, f func(key string, k, val *yaml.Node)) {
	seen := make(map[string]int, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := d.resolve(n.Content[i])
		if k == nil {
			return
		}
		val := n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.errorf(k, ErrType, "a key must be a string, got %s", kindName(k))
			continue
		}
		if k.Value == "<<" && k.Style == 0 && k.ShortTag() == "!!merge" {
			d.errorf(k, ErrSyntax, "merge keys (<<) are not supported")
			continue
		}
		if line, dup := seen[k.Value]; dup {
			d.errorf(k, ErrSyntax, "duplicate key %q (first at line %d)", short(k.Value), line)
			continue
		}
		seen[k.Value] = k.Line
		f(k.Value, k, val)
	}
}

func (d *decoder) mapping(n *yaml.Node, v reflect.Value) {
	if n.Kind != yaml.MappingNode {
		d.errorf(n, ErrType, "expected a mapping, got %s", kindName(n))
		return
	}
	t := v.Type()
	if t.Key().Kind() != reflect.String {
		d.errorf(n, ErrType, "cannot decode into %s", t)
		return
	}
	if v.IsNil() {
		v.Set(reflect.MakeMapWithSize(t, len(n.Content)/2))
	}
	d.keys(n, func(key string, _, val *yaml.Node) {
		elem := reflect.New(t.Elem()).Elem()
		d.visit(key, val, elem)
		v.SetMapIndex(reflect.ValueOf(key).Convert(t.Key()), elem)
	})
}

// fieldName returns the YAML key of a struct field, or "" to skip it.
func fieldName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	tag := f.Tag.Get("yaml")
	name, _, _ := strings.Cut(tag, ",")
	if name == "-" {
		return ""
	}
	if name == "" {
		name = strings.ToLower(f.Name)
	}
	return name
}

func (d *decoder) structure(n *yaml.Node, v reflect.Value) {
	if n.Kind != yaml.MappingNode {
		d.errorf(n, ErrType, "expected a mapping, got %s", kindName(n))
		return
	}
	t := v.Type()
	fields := make(map[string]int, t.NumField())
	var names []string
	for i := range t.NumField() {
		if name := fieldName(t.Field(i)); name != "" {
			fields[name] = i
			names = append(names, name)
		}
	}
	d.keys(n, func(key string, k, val *yaml.Node) {
		i, ok := fields[key]
		if !ok {
			slices.Sort(names)
			d.errorf(k, ErrUnknownKey, "unknown key %q (known keys: %s)", short(key), strings.Join(names, ", "))
			return
		}
		d.visit(key, val, v.Field(i))
	})
}

// any decodes n into plain Go values: map[string]any, []any, string, int,
// float64, bool or nil.
func (d *decoder) any(n *yaml.Node) any {
	if n = d.resolve(n); n == nil {
		return nil
	}
	switch n.Kind {
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		d.keys(n, func(key string, _, val *yaml.Node) { m[key] = d.any(val) })
		return m
	case yaml.SequenceNode:
		s := make([]any, 0, len(n.Content))
		for _, item := range n.Content {
			s = append(s, d.any(item))
		}
		return s
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return nil
		case "!!bool":
			return strings.EqualFold(n.Value, "true")
		case "!!int":
			if i, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64); err == nil {
				return int(i)
			}
		case "!!float":
			if f, err := strconv.ParseFloat(n.Value, 64); err == nil {
				return f
			}
		}
		return n.Value
	}
	d.errorf(n, ErrType, "unsupported YAML node")
	return nil
}

// short trims a value for an error message.
func short(s string) string {
	const max = 40
	if len(s) <= max {
		return s
	}
	return s[:max] + "..."
}
