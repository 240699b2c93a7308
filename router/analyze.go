package router

import (
	"slices"
	"strconv"
	"strings"
)

func quote(s string) string { return strconv.Quote(s) }
func itoa(n int) string     { return strconv.Itoa(n) }

// Routes returns the routing table in precedence order.
func (r *Router) Routes() []RouteInfo {
	t := r.table()
	out := make([]RouteInfo, len(t.routes))
	for i, cr := range t.routes {
		out[i] = cr.info
		out[i].Index = append([]string(nil), cr.info.Index...)
	}
	return out
}

// FindingKind classifies a Finding.
type FindingKind int

// Kinds of findings.
const (
	// Duplicate: two routes with the same matcher; the lower one only runs
	// if the upper one is non-blocking or returns Continue.
	Duplicate FindingKind = iota + 1
	// Shadowed: every message the route matches is taken by a blocking
	// route above it, so it never runs unless that route returns Continue.
	Shadowed
	// Unindexed: a Regex or Expr route that no index can select (no
	// required literal or guard); it is tested on every message.
	Unindexed
	// Unsatisfiable: the route's matcher can match no message, for example
	// And(SingleChat(), GroupChat()) or a Command without prefixes.
	Unsatisfiable
)

func (k FindingKind) String() string {
	switch k {
	case Duplicate:
		return "duplicate"
	case Shadowed:
		return "shadowed"
	case Unindexed:
		return "unindexed"
	case Unsatisfiable:
		return "unsatisfiable"
	}
	return "FindingKind(" + strconv.Itoa(int(k)) + ")"
}

// Finding is a problem found in the routing table.
type Finding struct {
	Kind  FindingKind
	Route RouteInfo  // the route the finding is about
	Other *RouteInfo // the route it conflicts with (Duplicate, Shadowed)
	Msg   string
}

// String is "source: kind: message".
func (f Finding) String() string {
	return f.Route.Source.String() + ": " + f.Kind.String() + ": " + f.Msg
}

// Analyze reports duplicate and shadowed routes (with both routes' sources)
// and unindexed Regex and Expr routes. It compares every pair of routes, so
// it costs O(n²) for n routes; it is meant for load time and
// `openimbot check`, not for every message.
func (r *Router) Analyze() []Finding {
	t := r.table()
	var out []Finding
	seen := map[string]int{}
	for i, y := range t.routes {
		key := y.info.Matcher
		why := never(y.m, t.cfg)
		if j, ok := seen[key]; ok {
			x := t.routes[j].info
			out = append(out, Finding{Kind: Duplicate, Route: y.info, Other: &x,
				Msg: y.info.label() + " duplicates " + x.label()})
		} else if seen[key] = i; why == "" {
			for j := 0; j < i; j++ {
				x := t.routes[j]
				if !x.rt.blocking {
					continue
				}
				if implies(y.m, x.m, t.cfg) {
					xi := x.info
					out = append(out, Finding{Kind: Shadowed, Route: y.info, Other: &xi,
						Msg: y.info.label() + " never runs: " + xi.label() + " matches every message it matches, runs first and blocks"})
					break
				}
			}
		}
		if why != "" {
			out = append(out, Finding{Kind: Unsatisfiable, Route: y.info,
				Msg: y.info.label() + " can never match: " + why})
		}
		if y.gs == nil && hasKind(y.m) {
			out = append(out, Finding{Kind: Unindexed, Route: y.info,
				Msg: y.info.label() + " has no required literal or guard and is tested on every message"})
		}
	}
	return out
}

func hasKind(m Matcher) bool {
	switch m := m.(type) {
	case *regexMatcher, *exprMatcher:
		return true
	case *andMatcher:
		for _, x := range m.ms {
			if hasKind(x) {
				return true
			}
		}
	case *orMatcher:
		for _, x := range m.ms {
			if hasKind(x) {
				return true
			}
		}
	}
	return false
}

// implies reports whether every message matching y also matches x. It is
// conservative: false when unsure.
func implies(y, x Matcher, cfg *config) bool {
	switch xm := x.(type) {
	case anyMatcher:
		return true
	case *andMatcher:
		for _, xx := range xm.ms {
			if !implies(y, xx, cfg) {
				return false
			}
		}
		return true
	}
	switch ym := y.(type) {
	case *andMatcher:
		for _, yy := range ym.ms {
			if implies(yy, x, cfg) {
				return true
			}
		}
		return false
	case *orMatcher:
		if len(ym.ms) == 0 {
			return true
		}
		for _, yy := range ym.ms {
			if !implies(yy, x, cfg) {
				return false
			}
		}
		return true
	}
	if xm, ok := x.(*orMatcher); ok {
		for _, xx := range xm.ms {
			if implies(y, xx, cfg) {
				return true
			}
		}
		return false
	}
	if y.String() == x.String() {
		_, isFunc := y.(*funcMatcher)
		return !isFunc || y == x
	}
	switch xm := x.(type) {
	case *textMatcher:
		return textImplies(y, xm, cfg)
	case *attrMatcher:
		ym, ok := y.(*attrMatcher)
		if !ok || ym.kind != xm.kind {
			if ym, ok := y.(mentionMatcher); ok {
				_ = ym
				return xm.kind == aContent && slices.Contains(xm.ints, 106)
			}
			return false
		}
		for _, n := range ym.ints {
			if !slices.Contains(xm.ints, n) {
				return false
			}
		}
		for _, s := range ym.strs {
			if !slices.Contains(xm.strs, s) {
				return false
			}
		}
		return len(ym.ints)+len(ym.strs) > 0
	case *cmdMatcher:
		ym, ok := y.(*cmdMatcher)
		if !ok || len(xm.params) > 0 || len(xm.opts) > 0 || (ym.fold && !xm.fold) {
			return false
		}
		// every head y accepts must be a head x accepts
		xs := map[string]bool{}
		for _, g := range xm.guards(cfg) {
			xs[g.s] = true
		}
		for _, g := range ym.guards(cfg) {
			s := g.s
			if xm.fold && !ym.fold {
				s = fold(s)
			}
			if !xs[s] {
				return false
			}
		}
		return true
	}
	return false
}

// textImplies: does every message matching y match the text matcher x?
func textImplies(y Matcher, x *textMatcher, cfg *config) bool {
	// what y guarantees about the text: each of its alternatives is a
	// (kind, literal) fact
	var facts []guard
	switch ym := y.(type) {
	case *textMatcher:
		if ym.fold && !x.fold {
			return false
		}
		facts = ym.guards(cfg)
	case *cmdMatcher:
		if ym.fold && !x.fold {
			return false
		}
		for _, g := range ym.guards(cfg) {
			// a command head means the text starts with it
			facts = append(facts, guard{kind: gPrefix, s: g.s})
		}
	default:
		return false
	}
	if len(facts) == 0 {
		return false
	}
	for _, f := range facts {
		s := f.s
		if x.fold {
			s = fold(s)
		}
		ok := false
		for _, v := range x.vals {
			if factImplies(f.kind, s, x.kind, v) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// factImplies: text has property (fk, s) ⇒ text has property (xk, v).
func factImplies(fk guardKind, s string, xk textKind, v string) bool {
	switch fk {
	case gFull, gFullFold:
		switch xk {
		case tFull:
			return s == v
		case tPrefix:
			return strings.HasPrefix(s, v)
		case tSuffix:
			return strings.HasSuffix(s, v)
		case tKeyword:
			return strings.Contains(s, v)
		}
	case gPrefix, gPrefixFold:
		switch xk {
		case tPrefix:
			return strings.HasPrefix(s, v)
		case tKeyword:
			return strings.Contains(s, v)
		}
	case gSuffix, gSuffixFold:
		switch xk {
		case tSuffix:
			return strings.HasSuffix(s, v)
		case tKeyword:
			return strings.Contains(s, v)
		}
	case gContains, gContainsFold:
		return xk == tKeyword && strings.Contains(s, v)
	}
	return false
}

// never returns why m can match no message, or "" when it may match. It is
// conservative: "" when unsure.
func never(m Matcher, cfg *config) string {
	switch m := m.(type) {
	case *orMatcher:
		for _, x := range m.ms {
			if never(x, cfg) == "" {
				return ""
			}
		}
		return "no alternative can match"
	case *cmdMatcher:
		if len(m.prefixList(cfg)) == 0 {
			return "the command has no prefixes"
		}
	case *andMatcher:
		for _, x := range m.ms {
			if why := never(x, cfg); why != "" {
				return why
			}
		}
		// attribute sets of one kind must intersect
		for i, x := range m.ms {
			a, ok := x.(*attrMatcher)
			if !ok {
				continue
			}
			for _, y := range m.ms[i+1:] {
				b, ok := y.(*attrMatcher)
				if !ok || a.kind != b.kind {
					continue
				}
				meet := false
				for _, n := range a.ints {
					meet = meet || slices.Contains(b.ints, n)
				}
				for _, s := range a.strs {
					meet = meet || slices.Contains(b.strs, s)
				}
				if !meet {
					return a.String() + " and " + b.String() + " exclude each other"
				}
			}
		}
		// two full-text rules of the same case mode must share a text
		for i, x := range m.ms {
			a, ok := x.(*textMatcher)
			if !ok || a.kind != tFull || a.fold {
				continue
			}
			for _, y := range m.ms[i+1:] {
				b, ok := y.(*textMatcher)
				if !ok || b.kind != tFull || b.fold {
					continue
				}
				meet := false
				for _, v := range a.vals {
					meet = meet || slices.Contains(b.vals, v)
				}
				if !meet {
					return a.String() + " and " + b.String() + " exclude each other"
				}
			}
		}
	}
	return ""
}
