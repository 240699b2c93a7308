package router

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"

	"github.com/openimbot/openimbot/bot"
	"github.com/openimbot/openimbot/content"
)

// Matcher decides whether a route applies to a message. Matchers are built by
// the constructors of this package (Command, Prefix, Regex, Expr, Func, And,
// ...); they are immutable and safe for concurrent use. An invalid argument
// makes an invalid Matcher whose error is returned when it is registered.
type Matcher interface {
	// String describes the matcher; equal strings mean equal matchers.
	String() string

	match(in *input) bool
	guards(cfg *config) []guard
	specificity() int
	err() error
}

// input is one message being matched, with lazily computed views of it.
type input struct {
	c      *bot.Context
	msg    *content.Message
	text   string
	selfID string
	cfg    *config

	folded    string
	hasFolded bool

	caps    []capture
	args    []string
	argsSet bool

	env      *Env
	hasEnv   bool
	envArgs  []string
	exprPool *sync.Pool

	trace bool
	why   string
}

type capture struct{ k, v string }

func (in *input) fold() string {
	if !in.hasFolded {
		in.folded = fold(in.text)
		in.hasFolded = true
	}
	return in.folded
}

// fail records why a matcher did not match when tracing.
func (in *input) fail(format string, args ...any) bool {
	if in.trace {
		in.why = fmt.Sprintf(format, args...)
	}
	return false
}

func (in *input) setCap(k, v string) { in.caps = append(in.caps, capture{k, v}) }

// ---- guards ----

type guardKind uint8

const (
	gExact guardKind = iota // the first token equals s
	gExactFold
	gFull
	gFullFold
	gPrefix
	gPrefixFold
	gSuffix
	gSuffixFold
	gContains
	gContainsFold
	gGroup
	gSender
	gContent
	gSession
)

var guardNames = [...]string{"command", "command (fold)", "full", "full (fold)", "prefix", "prefix (fold)",
	"suffix", "suffix (fold)", "keyword", "keyword (fold)", "group", "sender", "content type", "session type"}

// guard is a necessary condition of a matcher that an index can test. A
// matcher's guards form a disjunction: no message matches unless one holds.
type guard struct {
	kind guardKind
	s    string
	n    int64
}

func (g guard) String() string {
	switch g.kind {
	case gContent, gSession:
		return guardNames[g.kind] + " " + strconv.FormatInt(g.n, 10)
	}
	return guardNames[g.kind] + " " + strconv.Quote(g.s)
}

func guardCost(gs []guard) int {
	if gs == nil {
		return 1 << 30
	}
	c := 0
	for _, g := range gs {
		switch g.kind {
		case gExact, gExactFold, gFull, gFullFold:
			c += 1
		case gPrefix, gPrefixFold, gSuffix, gSuffixFold:
			c += 2
		case gContains, gContainsFold:
			c += 3
			if len(g.s) < 3 {
				c += 6
			}
		case gGroup, gSender:
			c += 10
		default:
			c += 40
		}
	}
	return c
}

// ---- text matchers ----

type textKind uint8

const (
	tFull textKind = iota
	tPrefix
	tSuffix
	tKeyword
)

var textNames = [...]string{"Full", "Prefix", "Suffix", "Keyword"}

type textMatcher struct {
	kind  textKind
	fold  bool
	vals  []string // folded when fold
	orig  []string
	error error
}

func newText(kind textKind, foldCase bool, vals []string) Matcher {
	m := &textMatcher{kind: kind, fold: foldCase, orig: vals}
	name := strings.ToLower(textNames[kind])
	if len(vals) == 0 {
		m.error = &PatternError{Kind: name, Msg: "no " + name + " given"}
	}
	for _, v := range vals {
		if v == "" && kind != tFull {
			m.error = &PatternError{Kind: name, Msg: "empty " + name + " matches every message; use Any"}
		}
		if foldCase {
			v = fold(v)
		}
		m.vals = append(m.vals, v)
	}
	return m
}

// Full matches messages whose whole text equals one of texts.
func Full(texts ...string) Matcher { return newText(tFull, false, texts) }

// FullFold is Full ignoring case.
func FullFold(texts ...string) Matcher { return newText(tFull, true, texts) }

// Prefix matches messages whose text starts with one of prefixes.
func Prefix(prefixes ...string) Matcher { return newText(tPrefix, false, prefixes) }

// PrefixFold is Prefix ignoring case.
func PrefixFold(prefixes ...string) Matcher { return newText(tPrefix, true, prefixes) }

// Suffix matches messages whose text ends with one of suffixes.
func Suffix(suffixes ...string) Matcher { return newText(tSuffix, false, suffixes) }

// SuffixFold is Suffix ignoring case.
func SuffixFold(suffixes ...string) Matcher { return newText(tSuffix, true, suffixes) }

// Keyword matches messages whose text contains one of words.
func Keyword(words ...string) Matcher { return newText(tKeyword, false, words) }

// KeywordFold is Keyword ignoring case.
func KeywordFold(words ...string) Matcher { return newText(tKeyword, true, words) }

func (m *textMatcher) String() string {
	s := textNames[m.kind]
	if m.fold {
		s += "Fold"
	}
	return s + "(" + quoteList(m.orig) + ")"
}

func quoteList(vs []string) string {
	var b strings.Builder
	for i, v := range vs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Quote(v))
	}
	return b.String()
}

func (m *textMatcher) match(in *input) bool {
	t := in.text
	if m.fold {
		t = in.fold()
	}
	for _, v := range m.vals {
		switch m.kind {
		case tFull:
			if t == v {
				return true
			}
		case tPrefix:
			if strings.HasPrefix(t, v) {
				return true
			}
		case tSuffix:
			if strings.HasSuffix(t, v) {
				return true
			}
		case tKeyword:
			if strings.Contains(t, v) {
				return true
			}
		}
	}
	return in.trace && in.fail("text does not match %s", m)
}

func (m *textMatcher) guards(*config) []guard {
	k := [...]guardKind{gFull, gPrefix, gSuffix, gContains}[m.kind]
	if m.fold {
		k++
	}
	gs := make([]guard, 0, len(m.vals))
	for _, v := range m.vals {
		gs = append(gs, guard{kind: k, s: v})
	}
	return gs
}

func (m *textMatcher) specificity() int {
	base := [...]int{5000, 3000, 3000, 2000}[m.kind]
	short := -1
	for _, v := range m.vals {
		if short < 0 || len(v) < short {
			short = len(v)
		}
	}
	return base + min(short, 999)
}

func (m *textMatcher) err() error { return m.error }

// ---- attribute matchers ----

type attrKind uint8

const (
	aSession attrKind = iota
	aContent
	aGroup
	aSender
)

type attrMatcher struct {
	kind attrKind
	ints []int64
	strs []string
	name string
}

// SessionTypes matches messages of any of the given session types.
func SessionTypes(types ...content.SessionType) Matcher {
	m := &attrMatcher{kind: aSession, name: "SessionTypes"}
	for _, t := range types {
		m.ints = append(m.ints, int64(t))
	}
	return m
}

// SingleChat matches one-to-one chats.
func SingleChat() Matcher {
	m := SessionTypes(content.SingleChat).(*attrMatcher)
	m.name = "SingleChat"
	return m
}

// GroupChat matches group chats (content.ReadGroupChat and the legacy
// content.WriteGroupChat).
func GroupChat() Matcher {
	m := SessionTypes(content.WriteGroupChat, content.ReadGroupChat).(*attrMatcher)
	m.name = "GroupChat"
	return m
}

// ContentTypes matches messages of any of the given content types.
func ContentTypes(types ...content.ContentType) Matcher {
	m := &attrMatcher{kind: aContent, name: "ContentTypes"}
	for _, t := range types {
		m.ints = append(m.ints, int64(t))
	}
	return m
}

// From matches messages sent by any of the given user IDs.
func From(userIDs ...string) Matcher {
	return &attrMatcher{kind: aSender, strs: userIDs, name: "From"}
}

// InGroup matches messages in any of the given groups.
func InGroup(groupIDs ...string) Matcher {
	return &attrMatcher{kind: aGroup, strs: groupIDs, name: "InGroup"}
}

func (m *attrMatcher) String() string {
	switch m.name {
	case "SingleChat", "GroupChat":
		return m.name + "()"
	}
	if m.strs != nil || m.kind == aGroup || m.kind == aSender {
		return m.name + "(" + quoteList(m.strs) + ")"
	}
	parts := make([]string, len(m.ints))
	for i, n := range m.ints {
		parts[i] = strconv.FormatInt(n, 10)
	}
	return m.name + "(" + strings.Join(parts, ", ") + ")"
}

func (m *attrMatcher) match(in *input) bool {
	switch m.kind {
	case aSession:
		if slices.Contains(m.ints, int64(in.msg.SessionType)) {
			return true
		}
		return in.trace && in.fail("session type %s not in %s", in.msg.SessionType, m)
	case aContent:
		if slices.Contains(m.ints, int64(in.msg.ContentType)) {
			return true
		}
		return in.trace && in.fail("content type %d not in %s", in.msg.ContentType, m)
	case aGroup:
		if slices.Contains(m.strs, in.msg.GroupID) && in.msg.GroupID != "" {
			return true
		}
		return in.trace && in.fail("group %q not in %s", in.msg.GroupID, m)
	default:
		if slices.Contains(m.strs, in.msg.SendID) {
			return true
		}
		return in.trace && in.fail("sender %q not in %s", in.msg.SendID, m)
	}
}

func (m *attrMatcher) guards(*config) []guard {
	var gs []guard
	switch m.kind {
	case aSession, aContent:
		k := gSession
		if m.kind == aContent {
			k = gContent
		}
		gs = make([]guard, 0, len(m.ints))
		for _, n := range m.ints {
			gs = append(gs, guard{kind: k, n: n})
		}
	default:
		k := gGroup
		if m.kind == aSender {
			k = gSender
		}
		gs = make([]guard, 0, len(m.strs))
		for _, s := range m.strs {
			if k == gGroup && s == "" {
				continue
			}
			gs = append(gs, guard{kind: k, s: s})
		}
	}
	return gs
}

func (m *attrMatcher) specificity() int {
	switch m.kind {
	case aGroup, aSender:
		return 40
	case aContent:
		return 20
	}
	return 10
}

func (m *attrMatcher) err() error { return nil }

// ---- mentions ----

type mentionMatcher struct{}

// MentionsMe matches at-text messages (content.TypeAtText) that mention the
// bot (its SelfID) or everyone (content.AtAllTag).
func MentionsMe() Matcher { return mentionMatcher{} }

func (mentionMatcher) String() string { return "MentionsMe()" }

func (mentionMatcher) match(in *input) bool {
	if mentionsMe(in.msg, in.selfID) {
		return true
	}
	return in.trace && in.fail("message does not mention the bot")
}

func mentionsMe(m *content.Message, self string) bool {
	if m.ContentType != content.TypeAtText {
		return false
	}
	for _, id := range m.AtUserIDList {
		if id == content.AtAllTag || (id == self && self != "") {
			return true
		}
	}
	return false
}

func (mentionMatcher) guards(*config) []guard {
	return []guard{{kind: gContent, n: int64(content.TypeAtText)}}
}
func (mentionMatcher) specificity() int { return 20 }
func (mentionMatcher) err() error       { return nil }

// ---- predicates ----

type funcMatcher struct {
	name string
	f    func(*bot.Context) bool
	id   string
}

// Func matches when f returns true. name appears in traces and findings.
// f must be safe for concurrent use and must not keep c.
func Func(name string, f func(c *bot.Context) bool) Matcher {
	return &funcMatcher{name: name, f: f}
}

func (m *funcMatcher) String() string {
	return fmt.Sprintf("Func(%q, %p)", m.name, m)
}

func (m *funcMatcher) match(in *input) bool {
	if m.f == nil || in.c == nil {
		return in.trace && in.fail("func %q: no context", m.name)
	}
	if m.f(in.c) {
		return true
	}
	return in.trace && in.fail("func %q returned false", m.name)
}

func (m *funcMatcher) guards(*config) []guard { return nil }
func (m *funcMatcher) specificity() int       { return 5 }
func (m *funcMatcher) err() error {
	if m.f == nil {
		return &PatternError{Kind: "func", Pattern: m.name, Msg: "nil function"}
	}
	return nil
}

type anyMatcher struct{}

// Any matches every message.
func Any() Matcher { return anyMatcher{} }

func (anyMatcher) String() string         { return "Any()" }
func (anyMatcher) match(*input) bool      { return true }
func (anyMatcher) guards(*config) []guard { return nil }
func (anyMatcher) specificity() int       { return 0 }
func (anyMatcher) err() error             { return nil }

// ---- combinators ----

type andMatcher struct{ ms []Matcher }

// And matches when every one of ms matches; And() matches everything.
// The parameters of all parts are kept.
func And(ms ...Matcher) Matcher {
	var flat []Matcher
	for _, m := range ms {
		if a, ok := m.(*andMatcher); ok {
			flat = append(flat, a.ms...)
			continue
		}
		if m == nil {
			m = &errMatcher{&PatternError{Kind: "matcher", Msg: "nil matcher in And"}}
		}
		flat = append(flat, m)
	}
	if len(flat) == 1 {
		return flat[0]
	}
	return &andMatcher{flat}
}

func (m *andMatcher) String() string { return "And(" + joinMatchers(m.ms) + ")" }

func joinMatchers(ms []Matcher) string {
	parts := make([]string, len(ms))
	for i, x := range ms {
		parts[i] = x.String()
	}
	return strings.Join(parts, ", ")
}

func (m *andMatcher) match(in *input) bool {
	for _, x := range m.ms {
		if !x.match(in) {
			return false
		}
	}
	return true
}

func (m *andMatcher) guards(cfg *config) []guard {
	var best []guard
	for _, x := range m.ms {
		g := x.guards(cfg)
		if g != nil && guardCost(g) < guardCost(best) {
			best = g
		}
	}
	return best
}

func (m *andMatcher) specificity() int {
	s := 0
	for _, x := range m.ms {
		s += x.specificity()
	}
	return s
}

func (m *andMatcher) err() error {
	for _, x := range m.ms {
		if e := x.err(); e != nil {
			return e
		}
	}
	return nil
}

type orMatcher struct{ ms []Matcher }

// Or matches when any of ms matches, trying them in order; the parameters
// of the first that matches are kept. Or() matches nothing.
func Or(ms ...Matcher) Matcher {
	for i, m := range ms {
		if m == nil {
			ms[i] = &errMatcher{&PatternError{Kind: "matcher", Msg: "nil matcher in Or"}}
		}
	}
	return &orMatcher{ms}
}

func (m *orMatcher) String() string { return "Or(" + joinMatchers(m.ms) + ")" }

func (m *orMatcher) match(in *input) bool {
	for _, x := range m.ms {
		mark := len(in.caps)
		argsSet, args := in.argsSet, in.args
		if x.match(in) {
			return true
		}
		in.caps = in.caps[:mark]
		in.argsSet, in.args = argsSet, args
	}
	return in.trace && in.fail("no alternative of %s matched", m)
}

func (m *orMatcher) guards(cfg *config) []guard {
	gs := []guard{}
	for _, x := range m.ms {
		g := x.guards(cfg)
		if g == nil {
			return nil
		}
		gs = append(gs, g...)
	}
	return gs
}

func (m *orMatcher) specificity() int {
	if len(m.ms) == 0 {
		return 0
	}
	s := m.ms[0].specificity()
	for _, x := range m.ms[1:] {
		s = min(s, x.specificity())
	}
	return s
}

func (m *orMatcher) err() error {
	for _, x := range m.ms {
		if e := x.err(); e != nil {
			return e
		}
	}
	return nil
}

type notMatcher struct{ m Matcher }

// Not matches when m does not. Parameters set by m are discarded.
func Not(m Matcher) Matcher {
	if m == nil {
		m = &errMatcher{&PatternError{Kind: "matcher", Msg: "nil matcher in Not"}}
	}
	return &notMatcher{m}
}

func (m *notMatcher) String() string { return "Not(" + m.m.String() + ")" }

func (m *notMatcher) match(in *input) bool {
	mark := len(in.caps)
	argsSet, args := in.argsSet, in.args
	trace := in.trace
	in.trace = false
	ok := m.m.match(in)
	in.trace = trace
	in.caps = in.caps[:mark]
	in.argsSet, in.args = argsSet, args
	if ok {
		return in.trace && in.fail("%s matched", m.m)
	}
	return true
}

func (m *notMatcher) guards(*config) []guard { return nil }
func (m *notMatcher) specificity() int       { return 0 }
func (m *notMatcher) err() error             { return m.m.err() }

type errMatcher struct{ e error }

func (m *errMatcher) String() string         { return "Invalid(" + m.e.Error() + ")" }
func (m *errMatcher) match(*input) bool      { return false }
func (m *errMatcher) guards(*config) []guard { return nil }
func (m *errMatcher) specificity() int       { return 0 }
func (m *errMatcher) err() error             { return m.e }

// isSpace is the separator of command tokens.
func isSpace(r rune) bool { return unicode.IsSpace(r) }

// firstTokenEnd returns the byte length of the first whitespace-free run.
func firstTokenEnd(s string) int {
	for i, r := range s {
		if isSpace(r) {
			return i
		}
	}
	return len(s)
}
