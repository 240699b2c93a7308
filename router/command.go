package router

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/openimbot/openimbot/bot"
)

// ---- argument splitting ----

// ErrArgs is matched (errors.Is) by the errors of SplitArgs.
var ErrArgs = errors.New("router: bad arguments")

// ArgsError is an argument string that cannot be split: an unterminated quote
// or a trailing backslash. Offset is the byte offset of the problem.
type ArgsError struct {
	Offset int
	Msg    string
}

func (e *ArgsError) Error() string {
	return "router: bad arguments at byte " + strconv.Itoa(e.Offset) + ": " + e.Msg
}

// Is reports whether target is ErrArgs.
func (e *ArgsError) Is(target error) bool { return target == ErrArgs }

type token struct {
	s          string
	start, end int // byte range in the input
	quoted     bool
}

// tokenize splits s at Unicode white space, shell-style: "double quotes"
// group and allow backslash escapes, 'single quotes' group literally, and a
// backslash outside quotes escapes the next character. Adjacent parts join
// ("a"b is ab).
func tokenize(s string, dst []token) ([]token, error) {
	i := 0
	for {
		for i < len(s) {
			r, n := utf8.DecodeRuneInString(s[i:])
			if !isSpace(r) {
				break
			}
			i += n
		}
		if i >= len(s) {
			return dst, nil
		}
		start := i
		var b []byte // nil while the token is a plain substring
		quoted := false
		plainEnd := -1
	loop:
		for i < len(s) {
			c := s[i]
			switch {
			case c == '"' || c == '\'':
				if b == nil {
					b = append([]byte(nil), s[start:i]...)
				}
				quoted = true
				q := c
				open := i
				i++
				for {
					if i >= len(s) {
						return dst, &ArgsError{Offset: open, Msg: "unterminated " + string(q) + " quote"}
					}
					if s[i] == q {
						i++
						break
					}
					if q == '"' && s[i] == '\\' {
						if i+1 >= len(s) {
							return dst, &ArgsError{Offset: i, Msg: "backslash at end of input"}
						}
						_, n := utf8.DecodeRuneInString(s[i+1:])
						b = append(b, s[i+1:i+1+n]...)
						i += 1 + n
						continue
					}
					b = append(b, s[i])
					i++
				}
			case c == '\\':
				if b == nil {
					b = append([]byte(nil), s[start:i]...)
				}
				if i+1 >= len(s) {
					return dst, &ArgsError{Offset: i, Msg: "backslash at end of input"}
				}
				_, n := utf8.DecodeRuneInString(s[i+1:])
				b = append(b, s[i+1:i+1+n]...)
				i += 1 + n
			default:
				r, n := utf8.DecodeRuneInString(s[i:])
				if isSpace(r) {
					break loop
				}
				if b != nil {
					b = append(b, s[i:i+n]...)
				}
				i += n
			}
		}
		plainEnd = i
		t := token{start: start, end: plainEnd, quoted: quoted}
		if b != nil {
			t.s = string(b)
		} else {
			t.s = s[start:plainEnd]
		}
		dst = append(dst, t)
	}
}

// SplitArgs splits s into arguments the way Command does: at white space,
// with "double quotes" (backslash escapes inside), 'single quotes' (literal)
// and backslash escapes outside quotes. Errors are *ArgsError.
func SplitArgs(s string) ([]string, error) {
	toks, err := tokenize(s, nil)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(toks))
	for i, t := range toks {
		out[i] = t.s
	}
	return out, nil
}

// ---- command patterns ----

type paramType uint8

const (
	pString paramType = iota
	pInt
	pFloat
)

var paramTypeNames = [...]string{"string", "int", "float"}

type paramSpec struct {
	name     string
	typ      paramType
	optional bool
	rest     bool
}

type optSpec struct {
	names []string // canonical first
	value bool
}

type cmdMatcher struct {
	pattern  string
	name     string
	names    []string // name and aliases
	prefixes []string // nil: the router's
	fold     bool
	params   []paramSpec
	opts     []optSpec
	required int
	error    error
}

// CommandOption configures a Command matcher.
type CommandOption func(*cmdMatcher)

// Aliases adds other names for the command.
func Aliases(names ...string) CommandOption {
	return func(m *cmdMatcher) { m.names = append(m.names, names...) }
}

// CommandPrefixes replaces the router's command prefixes (see
// WithCommandPrefixes) for this command. An empty string means no prefix.
func CommandPrefixes(prefixes ...string) CommandOption {
	return func(m *cmdMatcher) { m.prefixes = append([]string{}, prefixes...) }
}

// IgnoreCase makes the command name and aliases match in any case.
func IgnoreCase() CommandOption { return func(m *cmdMatcher) { m.fold = true } }

// Command matches a command: the message text starts with a command prefix
// (the router's, "/" by default) and the command name or an alias as its own
// word, followed by arguments. The pattern is the name followed by
// parameter and option declarations separated by spaces:
//
//	weather {city} {days:int}      positional parameters, required
//	say {text...}                  a rest parameter: the raw remaining text
//	find {what} {limit:int?}       an optional parameter (after required ones)
//	ls --all|-a --sort=            a boolean flag with an alias, a value option
//
// Parameter types are string (the default), int and float; a message whose
// arguments are missing or do not parse does not match (Trace says why).
// Arguments split as SplitArgs does. "--name=value", "--name value" for
// declared value options, "-n value", "--flag", "-abc" (three flags) and
// "--" (end of options) are recognised; undeclared options are accepted as
// flags ("--name=value" as a value). Extra positional arguments are allowed.
//
// On a match the parameters are set as route parameters (Context.Param), all
// positional arguments as Context.Args, and options under "-" plus their
// first declared name; read them with Flag, Option, Int and Float.
func Command(pattern string, opts ...CommandOption) Matcher {
	m := &cmdMatcher{pattern: pattern}
	m.parse()
	for _, o := range opts {
		o(m)
	}
	if m.error == nil {
		for _, n := range m.names[1:] {
			if n == "" || strings.ContainsFunc(n, isSpace) {
				m.error = &PatternError{Kind: "command", Pattern: pattern, Msg: "invalid alias " + strconv.Quote(n)}
			}
		}
	}
	return m
}

func (m *cmdMatcher) fail(col int, msg string) {
	if m.error == nil {
		m.error = &PatternError{Kind: "command", Pattern: m.pattern, Line: 1, Column: col + 1, Msg: msg}
	}
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !(r == '_' || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z') || (i > 0 && '0' <= r && r <= '9')) {
			return false
		}
	}
	return true
}

func isOptName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !(r == '_' || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z') || ('0' <= r && r <= '9') || (i > 0 && r == '-')) {
			return false
		}
	}
	return true
}

func (m *cmdMatcher) parse() {
	p := m.pattern
	type part struct {
		s   string
		off int
	}
	var parts []part
	for i := 0; i < len(p); {
		for i < len(p) && p[i] == ' ' {
			i++
		}
		if i >= len(p) {
			break
		}
		j := i
		for j < len(p) && p[j] != ' ' {
			j++
		}
		parts = append(parts, part{p[i:j], i})
		i = j
	}
	if len(parts) == 0 {
		m.fail(0, "empty command pattern")
		return
	}
	name := parts[0].s
	if strings.ContainsAny(name, "{}") || strings.ContainsFunc(name, isSpace) {
		m.fail(0, "invalid command name "+strconv.Quote(name))
		return
	}
	m.name = name
	m.names = []string{name}
	seen := map[string]bool{}
	optional := false
	for _, pt := range parts[1:] {
		s := pt.s
		switch {
		case strings.HasPrefix(s, "{"):
			if !strings.HasSuffix(s, "}") {
				m.fail(pt.off, "parameter "+s+" is not closed with }")
				return
			}
			body := s[1 : len(s)-1]
			var ps paramSpec
			if strings.HasSuffix(body, "...") {
				ps.rest = true
				body = strings.TrimSuffix(body, "...")
			}
			if strings.HasSuffix(body, "?") {
				ps.optional = true
				body = strings.TrimSuffix(body, "?")
			}
			if k := strings.IndexByte(body, ':'); k >= 0 {
				typ := body[k+1:]
				body = body[:k]
				switch typ {
				case "string", "":
				case "int":
					ps.typ = pInt
				case "float":
					ps.typ = pFloat
				default:
					m.fail(pt.off+1+k+1, "unknown parameter type "+strconv.Quote(typ)+" (want string, int or float)")
					return
				}
			}
			if !isIdent(body) {
				m.fail(pt.off+1, "invalid parameter name "+strconv.Quote(body))
				return
			}
			if seen[body] {
				m.fail(pt.off+1, "duplicate parameter "+body)
				return
			}
			seen[body] = true
			if len(m.params) > 0 && m.params[len(m.params)-1].rest {
				m.fail(pt.off, "parameter after the rest parameter "+m.params[len(m.params)-1].name)
				return
			}
			if ps.rest && ps.typ != pString {
				m.fail(pt.off, "a rest parameter must be a string")
				return
			}
			if ps.optional {
				optional = true
			} else if optional {
				m.fail(pt.off, "required parameter "+body+" after an optional one")
				return
			} else {
				m.required++
			}
			ps.name = body
			m.params = append(m.params, ps)
		case strings.HasPrefix(s, "-"):
			var o optSpec
			off := pt.off
			for _, alt := range strings.Split(s, "|") {
				raw := alt
				if strings.HasSuffix(alt, "=") {
					o.value = true
					alt = strings.TrimSuffix(alt, "=")
				}
				n := strings.TrimPrefix(strings.TrimPrefix(alt, "-"), "-")
				if !strings.HasPrefix(alt, "-") || !isOptName(n) || (!strings.HasPrefix(alt, "--") && len(n) != 1) {
					m.fail(off, "invalid option "+strconv.Quote(alt)+" (want --name or -x, alternatives joined by |, = for a value)")
					return
				}
				if seen["-"+n] {
					m.fail(off, "duplicate option "+alt)
					return
				}
				seen["-"+n] = true
				o.names = append(o.names, n)
				off += len(raw) + 1
			}
			m.opts = append(m.opts, o)
		default:
			m.fail(pt.off, "unexpected "+strconv.Quote(s)+" (want {param} or --option)")
			return
		}
	}
}

func (m *cmdMatcher) String() string {
	s := "Command(" + strconv.Quote(m.pattern)
	if len(m.names) > 1 {
		s += ", aliases " + quoteList(m.names[1:])
	}
	if m.prefixes != nil {
		s += ", prefixes " + quoteList(m.prefixes)
	}
	if m.fold {
		s += ", ignore case"
	}
	return s + ")"
}

func (m *cmdMatcher) prefixList(cfg *config) []string {
	if m.prefixes != nil {
		return m.prefixes
	}
	return cfg.prefixes
}

func (m *cmdMatcher) guards(cfg *config) []guard {
	var gs []guard
	k := gExact
	if m.fold {
		k = gExactFold
	}
	for _, p := range m.prefixList(cfg) {
		for _, n := range m.names {
			s := p + n
			if m.fold {
				s = fold(s)
			}
			gs = append(gs, guard{kind: k, s: s})
		}
	}
	if gs == nil {
		gs = []guard{} // no prefixes: matches nothing
	}
	return gs
}

func (m *cmdMatcher) specificity() int {
	return 4000 + 10*min(len(m.params), 50) + min(len(m.name), 9)
}

func (m *cmdMatcher) err() error { return m.error }

func (m *cmdMatcher) findOpt(name string) *optSpec {
	for i := range m.opts {
		for _, n := range m.opts[i].names {
			if n == name {
				return &m.opts[i]
			}
		}
	}
	return nil
}

func (m *cmdMatcher) match(in *input) bool {
	end := firstTokenEnd(in.text)
	head := in.text[:end]
	if m.fold {
		head = fold(head)
	}
	found := false
	for _, p := range m.prefixList(in.cfg) {
		if !strings.HasPrefix(head, p) && !(m.fold && strings.HasPrefix(head, fold(p))) {
			continue
		}
		for _, n := range m.names {
			want := p + n
			if m.fold {
				want = fold(want)
			}
			if head == want {
				found = true
				break
			}
		}
		if found {
			break
		}
	}
	if !found {
		return in.trace && in.fail("not the command %s", m.name)
	}
	rest := in.text[end:]
	toks, err := tokenize(rest, nil)
	if err != nil {
		return in.trace && in.fail("command %s: %v", m.name, err)
	}
	var args []string
	pi := 0
	optsDone := false
	mark := len(in.caps)
	for ti := 0; ti < len(toks); ti++ {
		t := toks[ti]
		if !optsDone && !t.quoted && len(t.s) > 1 && t.s[0] == '-' && !(t.s[1] >= '0' && t.s[1] <= '9') && t.s[1] != '.' {
			if t.s == "--" {
				optsDone = true
				continue
			}
			if strings.HasPrefix(t.s, "--") {
				name, val, hasVal := strings.Cut(t.s[2:], "=")
				o := m.findOpt(name)
				key := name
				if o != nil {
					key = o.names[0]
				}
				switch {
				case hasVal:
				case o != nil && o.value:
					if ti+1 >= len(toks) {
						in.caps = in.caps[:mark]
						return in.trace && in.fail("command %s: option --%s needs a value", m.name, name)
					}
					ti++
					val = toks[ti].s
				default:
					val = "true"
				}
				in.setCap("-"+key, val)
				continue
			}
			// short options: -abc, -n value, -n=value
			shorts := t.s[1:]
			for si := 0; si < len(shorts); {
				r, n := utf8.DecodeRuneInString(shorts[si:])
				name := shorts[si : si+n]
				si += n
				o := m.findOpt(name)
				key := name
				if o != nil {
					key = o.names[0]
				}
				if si < len(shorts) && shorts[si] == '=' {
					in.setCap("-"+key, shorts[si+1:])
					break
				}
				if o != nil && o.value {
					var val string
					switch {
					case si < len(shorts):
						val = shorts[si:]
					case ti+1 < len(toks):
						ti++
						val = toks[ti].s
					default:
						in.caps = in.caps[:mark]
						return in.trace && in.fail("command %s: option -%s needs a value", m.name, name)
					}
					in.setCap("-"+key, val)
					break
				}
				_ = r
				in.setCap("-"+key, "true")
			}
			continue
		}
		if pi < len(m.params) {
			ps := m.params[pi]
			if ps.rest {
				in.setCap(ps.name, strings.TrimRightFunc(rest[t.start:], isSpace))
				for _, u := range toks[ti:] {
					args = append(args, u.s)
				}
				pi++
				break
			}
			switch ps.typ {
			case pInt:
				if _, err := strconv.Atoi(t.s); err != nil {
					in.caps = in.caps[:mark]
					return in.trace && in.fail("command %s: {%s} wants an int, got %q", m.name, ps.name, t.s)
				}
			case pFloat:
				if _, err := strconv.ParseFloat(t.s, 64); err != nil {
					in.caps = in.caps[:mark]
					return in.trace && in.fail("command %s: {%s} wants a float, got %q", m.name, ps.name, t.s)
				}
			}
			in.setCap(ps.name, t.s)
			pi++
		}
		args = append(args, t.s)
	}
	if pi < m.required {
		in.caps = in.caps[:mark]
		return in.trace && in.fail("command %s: missing {%s}", m.name, m.params[pi].name)
	}
	in.args = args
	in.argsSet = true
	return true
}

// Args returns the positional arguments of the command that routed c
// (Context.Args).
func Args(c *bot.Context) []string { return c.Args() }

// Flag reports whether the boolean option name (without dashes) was given
// to the command that routed c ("--name", "-n" or "--name=true").
func Flag(c *bot.Context, name string) bool {
	v, ok := c.Params()["-"+name]
	return ok && v != "" && v != "false" && v != "0"
}

// OptionValue returns the value of the option name (without dashes) given to the
// command that routed c, and whether it was given.
func OptionValue(c *bot.Context, name string) (string, bool) {
	v, ok := c.Params()["-"+name]
	return v, ok && v != ""
}

// Int returns the route parameter name as an int (0 when unset or not an
// int; a Command {name:int} parameter is validated when matching).
func Int(c *bot.Context, name string) int {
	n, _ := strconv.Atoi(c.Param(name))
	return n
}

// Float returns the route parameter name as a float64 (0 when unset or not
// a number).
func Float(c *bot.Context, name string) float64 {
	f, _ := strconv.ParseFloat(c.Param(name), 64)
	return f
}
