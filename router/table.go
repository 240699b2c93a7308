package router

import (
	"cmp"
	"errors"
	"slices"
	"strings"
	"unsafe"

	"github.com/openimbot/openimbot/bot"
	"github.com/openimbot/openimbot/content"
)

// RouteInfo describes a registered route.
type RouteInfo struct {
	ID          int      // registration order, from 0
	Rank        int      // position in precedence order, from 0
	Name        string   // from the Name option
	Description string   // from the Description option
	Matcher     string   // the matcher, as Matcher.String
	Priority    int      // from the Priority option
	Specificity int      // computed from the matcher; higher runs first among equal priorities
	Blocking    bool     // false for NonBlocking routes
	Site        Location // the Go call (On, OnFunc) that registered the route
	Source      Location // the At option, or Site
	Index       []string // the index guards that select the route; empty: tested on every message
}

func (ri RouteInfo) label() string {
	s := "route " + ri.Matcher
	if ri.Name != "" {
		s = "route " + ri.Name + " (" + ri.Matcher + ")"
	}
	return s + " at " + ri.Source.String()
}

type croute struct {
	rt   *route
	m    Matcher
	h    bot.Handler
	gs   []guard
	info RouteInfo
}

type table struct {
	cfg    *config
	r      *Router
	routes []*croute // in precedence order
	linear bool

	lists                          [][]int32
	exact, exactFold, full, fullFo map[string]int32 // to lists
	prefix, prefixFold             *byteTrie
	suffix, suffixFold             *byteTrie
	ac                             *acAutomaton
	acExact, acFold                []int32 // pattern → lists index or -1
	hasACExact, hasACFold          bool
	group, sender                  map[string]int32
	content, session               map[int64]int32
	always                         []int32
	needFold                       bool

	notFound bot.Handler
	mws      []bot.Middleware // the router's own, around dispatch
	handler  bot.Handler      // dispatch wrapped in mws
}

func chainFor(rt *route, r *Router) bot.Handler {
	var groups []*Group
	for g := rt.g; g != nil && g != &r.grp; g = g.parent {
		groups = append(groups, g)
	}
	var mws []bot.Middleware
	for i := len(groups) - 1; i >= 0; i-- {
		mws = append(mws, groups[i].mws...)
	}
	mws = append(mws, rt.mws...)
	return bot.Chain(rt.h, mws...)
}

// buildTable is called with r.mu held.
func buildTable(r *Router) *table {
	t := &table{cfg: &r.cfg, r: r, linear: r.cfg.linear}
	crs := make([]*croute, len(r.routes))
	for i, rt := range r.routes {
		cr := &croute{rt: rt, m: rt.m, h: chainFor(rt, r)}
		cr.gs = rt.m.guards(&r.cfg)
		cr.info = RouteInfo{ID: rt.id, Name: rt.name, Description: rt.desc, Matcher: rt.m.String(), Priority: rt.priority,
			Specificity: rt.m.specificity(), Blocking: rt.blocking, Site: rt.site, Source: rt.source()}
		for _, g := range cr.gs {
			cr.info.Index = append(cr.info.Index, g.String())
		}
		crs[i] = cr
	}
	slices.SortStableFunc(crs, func(a, b *croute) int {
		if c := cmp.Compare(b.info.Priority, a.info.Priority); c != 0 {
			return c
		}
		if c := cmp.Compare(b.info.Specificity, a.info.Specificity); c != 0 {
			return c
		}
		return cmp.Compare(a.info.ID, b.info.ID)
	})
	for i, cr := range crs {
		cr.info.Rank = i
	}
	t.routes = crs
	t.notFound = r.notFound
	t.mws = append([]bot.Middleware(nil), r.grp.mws...)
	t.handler = bot.Chain(bot.HandlerFunc(func(c *bot.Context) error { return t.dispatch(c, nil, true) }), t.mws...)

	strIdx := func(mp *map[string]int32, k string, rank int32) {
		if *mp == nil {
			*mp = make(map[string]int32)
		}
		li, ok := (*mp)[k]
		if !ok {
			li = int32(len(t.lists))
			t.lists = append(t.lists, nil)
			(*mp)[k] = li
		}
		t.lists[li] = append(t.lists[li], rank)
	}
	intIdx := func(mp *map[int64]int32, k int64, rank int32) {
		if *mp == nil {
			*mp = make(map[int64]int32)
		}
		li, ok := (*mp)[k]
		if !ok {
			li = int32(len(t.lists))
			t.lists = append(t.lists, nil)
			(*mp)[k] = li
		}
		t.lists[li] = append(t.lists[li], rank)
	}
	tries := [4]*trieBuilder{}
	trieIdx := func(which int, k string, rank int32) {
		if tries[which] == nil {
			tries[which] = newTrieBuilder()
		}
		rev := which >= 2
		li := tries[which].lookup(k, rev)
		if li < 0 {
			li = int32(len(t.lists))
			t.lists = append(t.lists, nil)
			tries[which].insert(k, rev, li)
		}
		t.lists[li] = append(t.lists[li], rank)
	}
	acPat := map[string]int32{}
	var acPatterns []string
	var acE, acF []int32
	acIdx := func(k string, foldCase bool, rank int32) {
		p, ok := acPat[k]
		if !ok {
			p = int32(len(acPatterns))
			acPat[k] = p
			acPatterns = append(acPatterns, k)
			acE = append(acE, -1)
			acF = append(acF, -1)
		}
		slot := &acE[p]
		if foldCase {
			slot = &acF[p]
			t.hasACFold = true
		} else {
			t.hasACExact = true
		}
		if *slot < 0 {
			*slot = int32(len(t.lists))
			t.lists = append(t.lists, nil)
		}
		t.lists[*slot] = append(t.lists[*slot], rank)
	}
	for i, cr := range crs {
		rank := int32(i)
		if cr.gs == nil {
			t.always = append(t.always, rank)
			continue
		}
		for _, g := range cr.gs {
			switch g.kind {
			case gExact:
				strIdx(&t.exact, g.s, rank)
			case gExactFold:
				strIdx(&t.exactFold, g.s, rank)
				t.needFold = true
			case gFull:
				strIdx(&t.full, g.s, rank)
			case gFullFold:
				strIdx(&t.fullFo, g.s, rank)
				t.needFold = true
			case gPrefix:
				trieIdx(0, g.s, rank)
			case gPrefixFold:
				trieIdx(1, g.s, rank)
				t.needFold = true
			case gSuffix:
				trieIdx(2, g.s, rank)
			case gSuffixFold:
				trieIdx(3, g.s, rank)
				t.needFold = true
			case gContains:
				acIdx(g.s, false, rank)
			case gContainsFold:
				acIdx(g.s, true, rank)
				t.needFold = true
			case gGroup:
				strIdx(&t.group, g.s, rank)
			case gSender:
				strIdx(&t.sender, g.s, rank)
			case gContent:
				intIdx(&t.content, g.n, rank)
			case gSession:
				intIdx(&t.session, g.n, rank)
			}
		}
	}
	for i, p := range []**byteTrie{&t.prefix, &t.prefixFold, &t.suffix, &t.suffixFold} {
		if tries[i] != nil {
			*p = tries[i].build()
		}
	}
	if len(acPatterns) > 0 {
		t.ac = newAC(acPatterns)
		t.acExact, t.acFold = acE, acF
	}
	return t
}

type scratch struct {
	in    input
	mark  []uint32
	stamp uint32
	cands []int32
	hits  []int32
}

func (t *table) getScratch() *scratch {
	s, _ := t.r.scratch.Get().(*scratch)
	if s == nil {
		s = &scratch{}
	}
	if len(s.mark) < len(t.routes) {
		s.mark = make([]uint32, len(t.routes))
		s.stamp = 0
	}
	s.stamp++
	if s.stamp == 0 {
		clear(s.mark)
		s.stamp = 1
	}
	s.cands = s.cands[:0]
	return s
}

func (s *scratch) add(list []int32) {
	for _, r := range list {
		if s.mark[r] != s.stamp {
			s.mark[r] = s.stamp
			s.cands = append(s.cands, r)
		}
	}
}

// candidates returns the ranks of the routes that may match, sorted.
func (t *table) candidates(in *input, s *scratch) []int32 {
	text := in.text
	s.add(t.always)
	var head string
	if t.exact != nil || t.exactFold != nil {
		head = text[:firstTokenEnd(text)]
	}
	if li, ok := t.exact[head]; ok && t.exact != nil {
		s.add(t.lists[li])
	}
	if li, ok := t.full[text]; ok {
		s.add(t.lists[li])
	}
	if t.prefix != nil {
		s.hits = t.prefix.appendPrefixes(s.hits[:0], text, false)
		for _, li := range s.hits {
			s.add(t.lists[li])
		}
	}
	if t.suffix != nil {
		s.hits = t.suffix.appendPrefixes(s.hits[:0], text, true)
		for _, li := range s.hits {
			s.add(t.lists[li])
		}
	}
	var ft string
	if t.needFold {
		ft = in.fold()
		if t.exactFold != nil {
			if li, ok := t.exactFold[ft[:firstTokenEnd(ft)]]; ok {
				s.add(t.lists[li])
			}
		}
		if li, ok := t.fullFo[ft]; ok {
			s.add(t.lists[li])
		}
		if t.prefixFold != nil {
			s.hits = t.prefixFold.appendPrefixes(s.hits[:0], ft, false)
			for _, li := range s.hits {
				s.add(t.lists[li])
			}
		}
		if t.suffixFold != nil {
			s.hits = t.suffixFold.appendPrefixes(s.hits[:0], ft, true)
			for _, li := range s.hits {
				s.add(t.lists[li])
			}
		}
	}
	if t.ac != nil {
		same := t.hasACFold && len(ft) == len(text) && (len(text) == 0 || unsafe.StringData(ft) == unsafe.StringData(text) || ft == text)
		if t.hasACExact || same {
			s.hits = t.ac.appendMatches(s.hits[:0], text)
			for _, p := range s.hits {
				if li := t.acExact[p]; li >= 0 {
					s.add(t.lists[li])
				}
				if same {
					if li := t.acFold[p]; li >= 0 {
						s.add(t.lists[li])
					}
				}
			}
		}
		if t.hasACFold && !same {
			s.hits = t.ac.appendMatches(s.hits[:0], ft)
			for _, p := range s.hits {
				if li := t.acFold[p]; li >= 0 {
					s.add(t.lists[li])
				}
			}
		}
	}
	msg := in.msg
	if t.group != nil && msg.GroupID != "" {
		if li, ok := t.group[msg.GroupID]; ok {
			s.add(t.lists[li])
		}
	}
	if t.sender != nil {
		if li, ok := t.sender[msg.SendID]; ok {
			s.add(t.lists[li])
		}
	}
	if t.content != nil {
		if li, ok := t.content[int64(msg.ContentType)]; ok {
			s.add(t.lists[li])
		}
	}
	if t.session != nil {
		if li, ok := t.session[int64(msg.SessionType)]; ok {
			s.add(t.lists[li])
		}
	}
	if len(s.cands) > 1 {
		slices.Sort(s.cands)
	}
	return s.cands
}

// guardHolds evaluates one guard directly (for traces and tests).
func guardHolds(g guard, in *input) bool {
	t := in.text
	switch g.kind {
	case gExactFold, gFullFold, gPrefixFold, gSuffixFold, gContainsFold:
		t = in.fold()
	}
	switch g.kind {
	case gExact, gExactFold:
		return t[:firstTokenEnd(t)] == g.s
	case gFull, gFullFold:
		return t == g.s
	case gPrefix, gPrefixFold:
		return strings.HasPrefix(t, g.s)
	case gSuffix, gSuffixFold:
		return strings.HasSuffix(t, g.s)
	case gContains, gContainsFold:
		return strings.Contains(t, g.s)
	case gGroup:
		return in.msg.GroupID != "" && in.msg.GroupID == g.s
	case gSender:
		return in.msg.SendID == g.s
	case gContent:
		return int64(in.msg.ContentType) == g.n
	case gSession:
		return int64(in.msg.SessionType) == g.n
	}
	return false
}

var emptyMessage content.Message

func (t *table) initInput(in *input, c *bot.Context) {
	msg := c.Message()
	if msg == nil {
		msg = &emptyMessage
	}
	caps := in.caps[:0]
	*in = input{c: c, msg: msg, text: msg.Text(), selfID: c.SelfID(), cfg: t.cfg, exprPool: &t.r.exprPool, caps: caps}
}

func (t *table) dispatch(c *bot.Context, tr *Trace, run bool) error {
	s := t.getScratch()
	in := &s.in
	t.initInput(in, c)
	in.trace = tr != nil
	var cands []int32
	if !t.linear {
		cands = t.candidates(in, s)
	}
	n := len(cands)
	if t.linear {
		n = len(t.routes)
	}
	if tr != nil {
		tr.Text = in.text
		tr.Routes = len(t.routes)
		tr.Candidates = n
	}
	var errs []error
	var applied []string
	ran := false
	stopped := false
	for i := 0; i < n; i++ {
		rank := int32(i)
		if !t.linear {
			rank = cands[i]
		}
		cr := t.routes[rank]
		if stopped {
			if tr != nil {
				tr.Steps = append(tr.Steps, TraceStep{Route: cr.info, Via: t.via(cr, in), Result: "skipped: a route above blocked"})
			}
			continue
		}
		in.caps, in.args, in.argsSet, in.why = in.caps[:0], nil, false, ""
		ok := cr.m.match(in)
		var step *TraceStep
		if tr != nil {
			tr.Steps = append(tr.Steps, TraceStep{Route: cr.info, Via: t.via(cr, in), Matched: ok, Why: in.why})
			step = &tr.Steps[len(tr.Steps)-1]
			if !ok {
				step.Result = "no match"
			}
		}
		if !ok {
			continue
		}
		if !run {
			step.Ran = true
			if cr.rt.blocking {
				step.Result = "runs and blocks"
				stopped = true
			} else {
				step.Result = "runs (non-blocking)"
			}
			continue
		}
		// apply parameters: clear those of an earlier route, then set ours
		for _, k := range applied {
			c.SetParam(k, "")
		}
		applied = applied[:0]
		for _, cp := range in.caps {
			c.SetParam(cp.k, cp.v)
			applied = append(applied, cp.k)
		}
		if in.argsSet {
			c.SetArgs(in.args)
		} else {
			c.SetArgs(nil)
		}
		c.SetRoute(cr.info.metricName())
		err := cr.h.Handle(c)
		ran = true
		cont := !cr.rt.blocking
		switch {
		case err == nil:
		case errors.Is(err, Continue):
			cont = true
		default:
			errs = append(errs, err)
		}
		if step != nil {
			step.Ran = true
			switch {
			case err != nil && !errors.Is(err, Continue):
				step.Result = "ran: " + err.Error()
			case cont:
				step.Result = "ran, continue"
			default:
				step.Result = "ran and blocked"
			}
		}
		if !cont {
			stopped = true
		}
	}
	in.c, in.msg, in.env, in.args = nil, nil, nil, nil // drop references
	t.r.scratch.Put(s)
	if !ran && !stopped && t.notFound != nil {
		if tr != nil {
			tr.NotFound = true
		}
		if run {
			if err := t.notFound.Handle(c); err != nil && !errors.Is(err, Continue) {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// via names the index guard that made cr a candidate.
func (t *table) via(cr *croute, in *input) string {
	if t.linear {
		return "linear scan"
	}
	if cr.gs == nil {
		return "always tested"
	}
	for _, g := range cr.gs {
		if guardHolds(g, in) {
			return g.String()
		}
	}
	return "?"
}

// Trace is how one message was (or would be) routed.
type Trace struct {
	Text       string      // the message text
	Routes     int         // routes in the table
	Candidates int         // routes the indexes selected for a full test
	Steps      []TraceStep // the candidates, in precedence order
	NotFound   bool        // no route ran and the NotFound handler did (or would)
}

// TraceStep is one candidate route of a Trace.
type TraceStep struct {
	Route   RouteInfo
	Via     string // the index guard that selected it, "always tested" or "linear scan"
	Matched bool
	Why     string // why it did not match
	Ran     bool
	Result  string // "no match", "runs and blocks", "ran, continue", "skipped: ...", ...
}

// String renders the trace, one line per step.
func (tr Trace) String() string {
	var b strings.Builder
	b.WriteString("text " + quote(tr.Text))
	b.WriteString(": " + itoa(tr.Candidates) + " of " + itoa(tr.Routes) + " routes tested\n")
	for _, s := range tr.Steps {
		b.WriteString("  " + s.Route.label() + " [" + s.Via + "]: " + s.Result)
		if s.Why != "" {
			b.WriteString(" (" + s.Why + ")")
		}
		b.WriteByte('\n')
	}
	if tr.NotFound {
		b.WriteString("  not found handler\n")
	}
	return b.String()
}
