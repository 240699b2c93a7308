package router

import (
	"regexp"
	"regexp/syntax"
	"strconv"
	"strings"
	"unicode/utf8"
)

type regexMatcher struct {
	src   string
	re    *regexp.Regexp
	names []string
	lits  []guard // required literals (a disjunction), nil if none
	best  int
	error error
}

// Regex matches messages whose text contains a match of the regular
// expression pattern (Go RE2 syntax; anchor with ^ and $ to match the whole
// text; (?i) ignores case). Named groups, (?P<name>...) or (?<name>...),
// become route parameters; a group that did not take part is set to "".
func Regex(pattern string) Matcher {
	m := &regexMatcher{src: pattern}
	re, err := regexp.Compile(pattern)
	if err != nil {
		pe := &PatternError{Kind: "regex", Pattern: pattern, Msg: err.Error(), Err: err}
		var se *syntax.Error
		if ok := asSyntaxError(err, &se); ok && se.Expr != "" {
			if i := strings.Index(pattern, se.Expr); i >= 0 {
				pe.Line = 1 + strings.Count(pattern[:i], "\n")
				pe.Column = 1 + utf8.RuneCountInString(pattern[strings.LastIndexByte(pattern[:i], '\n')+1:i])
			}
		}
		m.error = pe
		return m
	}
	m.re = re
	m.names = re.SubexpNames()
	if ast, err := syntax.Parse(pattern, syntax.Perl); err == nil {
		m.lits = regexGuards(ast.Simplify())
		if m.lits != nil {
			for _, g := range m.lits {
				if m.best == 0 || len(g.s) < m.best {
					m.best = len(g.s)
				}
			}
		}
	}
	return m
}

// RegexFold is Regex ignoring case: Regex("(?i)" + pattern).
func RegexFold(pattern string) Matcher {
	m := Regex("(?i)" + pattern).(*regexMatcher)
	if pe, ok := m.error.(*PatternError); ok {
		pe.Pattern = pattern
		if pe.Line == 1 && pe.Column > 4 {
			pe.Column -= 4
		}
	}
	return m
}

func asSyntaxError(err error, target **syntax.Error) bool {
	se, ok := err.(*syntax.Error)
	if ok {
		*target = se
	}
	return ok
}

func (m *regexMatcher) String() string { return "Regex(" + strconv.Quote(m.src) + ")" }

func (m *regexMatcher) match(in *input) bool {
	if m.re == nil {
		return false
	}
	if len(m.names) <= 1 {
		if m.re.MatchString(in.text) {
			return true
		}
		return in.trace && in.fail("regex %s did not match", m.src)
	}
	loc := m.re.FindStringSubmatchIndex(in.text)
	if loc == nil {
		return in.trace && in.fail("regex %s did not match", m.src)
	}
	for i, n := range m.names {
		if n == "" {
			continue
		}
		v := ""
		if loc[2*i] >= 0 {
			v = in.text[loc[2*i]:loc[2*i+1]]
		}
		in.setCap(n, v)
	}
	return true
}

func (m *regexMatcher) guards(*config) []guard { return m.lits }

func (m *regexMatcher) specificity() int { return 1000 + min(m.best, 999) }

func (m *regexMatcher) err() error { return m.error }

// regexGuards returns literals of which every match of re must contain one
// (as a substring, a prefix of the text, or folded when the literal ignores
// case), or nil when it finds none. The choice among possible guards prefers
// long literals.
func regexGuards(re *syntax.Regexp) []guard {
	// anchored prefix: ^literal...
	if re.Op == syntax.OpConcat && len(re.Sub) > 1 && re.Sub[0].Op == syntax.OpBeginText {
		if s, f, ok := literalRun(re.Sub[1:]); ok {
			k := gPrefix
			if f {
				k = gPrefixFold
				s = fold(s)
			}
			return []guard{{kind: k, s: s}}
		}
	}
	return requiredLits(re)
}

// literalRun joins the literal nodes at the start of subs.
func literalRun(subs []*syntax.Regexp) (string, bool, bool) {
	var b strings.Builder
	foldCase := false
	for _, s := range subs {
		if s.Op != syntax.OpLiteral {
			break
		}
		if s.Flags&syntax.FoldCase != 0 {
			foldCase = true
		}
		for _, r := range s.Rune {
			b.WriteRune(r)
		}
	}
	str := b.String()
	if str == "" || strings.ContainsRune(str, utf8.RuneError) {
		return "", false, false
	}
	return str, foldCase, true
}

func litGuard(s string, foldCase bool) []guard {
	if s == "" || strings.ContainsRune(s, utf8.RuneError) {
		return nil
	}
	if foldCase {
		return []guard{{kind: gContainsFold, s: fold(s)}}
	}
	return []guard{{kind: gContains, s: s}}
}

func litScore(gs []guard) int {
	if gs == nil {
		return -1
	}
	m := -1
	for _, g := range gs {
		if m < 0 || len(g.s) < m {
			m = len(g.s)
		}
	}
	return m*8 - len(gs)
}

func requiredLits(re *syntax.Regexp) []guard {
	switch re.Op {
	case syntax.OpLiteral:
		return litGuard(string(re.Rune), re.Flags&syntax.FoldCase != 0)
	case syntax.OpCapture, syntax.OpPlus:
		return requiredLits(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return requiredLits(re.Sub[0])
		}
	case syntax.OpConcat:
		var best []guard
		consider := func(g []guard) {
			if g != nil && litScore(g) > litScore(best) {
				best = g
			}
		}
		for i := 0; i < len(re.Sub); i++ {
			if re.Sub[i].Op == syntax.OpLiteral {
				j := i
				for j < len(re.Sub) && re.Sub[j].Op == syntax.OpLiteral {
					j++
				}
				if s, f, ok := literalRun(re.Sub[i:j]); ok {
					consider(litGuard(s, f))
				}
				i = j - 1
				continue
			}
			consider(requiredLits(re.Sub[i]))
		}
		return best
	case syntax.OpAlternate:
		var all []guard
		for _, s := range re.Sub {
			g := requiredLits(s)
			if g == nil {
				return nil
			}
			all = append(all, g...)
		}
		return all
	}
	return nil
}
