package router

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openimbot/openimbot/bot"
)

// logRouter returns a router and a function returning (and resetting) the
// names of the handlers that ran.
func logRouter(opts ...Option) (*Router, func(name string, ret error) bot.Handler, func() []string) {
	r := New(opts...)
	var mu sync.Mutex
	var log []string
	h := func(name string, ret error) bot.Handler {
		return bot.HandlerFunc(func(*bot.Context) error {
			mu.Lock()
			log = append(log, name)
			mu.Unlock()
			return ret
		})
	}
	get := func() []string {
		mu.Lock()
		defer mu.Unlock()
		out := log
		log = nil
		return out
	}
	return r, h, get
}

func TestPrecedence(t *testing.T) {
	type rule struct {
		name string
		m    Matcher
		opts []RouteOption
	}
	tests := []struct {
		name  string
		rules []rule
		text  string
		want  []string
	}{
		{"registration order among equals", []rule{{"a", Keyword("x"), nil}, {"b", Keyword("x"), nil}}, "x", []string{"a"}},
		{"priority beats order", []rule{{"a", Keyword("x"), nil}, {"b", Keyword("x"), []RouteOption{Priority(1)}}}, "x", []string{"b"}},
		{"negative priority runs last", []rule{{"a", Keyword("x"), []RouteOption{Priority(-1)}}, {"b", Any(), nil}}, "x", []string{"b"}},
		{"specificity: full before command", []rule{{"cmd", Command("help"), nil}, {"full", Full("/help"), nil}}, "/help", []string{"full"}},
		{"specificity: command before prefix", []rule{{"pre", Prefix("/h"), nil}, {"cmd", Command("help"), nil}}, "/help", []string{"cmd"}},
		{"specificity: prefix before keyword", []rule{{"kw", Keyword("help"), nil}, {"pre", Prefix("/help"), nil}}, "/help", []string{"pre"}},
		{"specificity: keyword before regex", []rule{{"re", Regex("help"), nil}, {"kw", Keyword("help"), nil}}, "/help", []string{"kw"}},
		{"specificity: regex before expr", []rule{{"ex", Expr(`Text contains "help"`), nil}, {"re", Regex("help"), nil}}, "/help", []string{"re"}},
		{"specificity: expr before attribute", []rule{{"single", SingleChat(), nil}, {"ex", Expr(`Text contains "help"`), nil}}, "/help", []string{"ex"}},
		{"specificity: anything before Any", []rule{{"any", Any(), nil}, {"single", SingleChat(), nil}}, "x", []string{"single"}},
		{"specificity: longer prefix first", []rule{{"short", Prefix("/"), nil}, {"long", Prefix("/he"), nil}}, "/help", []string{"long"}},
		{"specificity: more params first", []rule{{"bare", Command("w"), nil}, {"city", Command("w {city}"), nil}}, "/w Oslo", []string{"city"}},
		{"fewer params when more are missing", []rule{{"bare", Command("w"), nil}, {"city", Command("w {city}"), nil}}, "/w", []string{"bare"}},
		{"and is more specific", []rule{{"kw", Keyword("hi"), nil}, {"kw+single", And(Keyword("hi"), SingleChat()), nil}}, "hi", []string{"kw+single"}},
		{"non-blocking lets lower run", []rule{{"a", Keyword("x"), []RouteOption{NonBlocking()}}, {"b", Keyword("x"), nil}, {"c", Keyword("x"), nil}}, "x", []string{"a", "b"}},
		{"unmatched routes do not block", []rule{{"a", Keyword("y"), nil}, {"b", Keyword("x"), nil}}, "x", []string{"b"}},
	}
	for _, tt := range tests {
		for _, linear := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/linear=%v", tt.name, linear), func(t *testing.T) {
				var opts []Option
				if linear {
					opts = append(opts, LinearScan())
				}
				r, h, got := logRouter(opts...)
				for _, ru := range tt.rules {
					if err := r.On(ru.m, h(ru.name, nil), append(ru.opts, Name(ru.name))...); err != nil {
						t.Fatal(err)
					}
				}
				if err := r.Handle(ctxFor(textMsg(tt.text))); err != nil {
					t.Fatal(err)
				}
				if g := got(); !slices.Equal(g, tt.want) {
					t.Fatalf("ran %v, want %v\n%s", g, tt.want, r.Trace(ctxFor(textMsg(tt.text))))
				}
				if g := ranNames(r.Trace(ctxFor(textMsg(tt.text)))); !slices.Equal(g, tt.want) {
					t.Fatalf("trace says %v, want %v", g, tt.want)
				}
			})
		}
	}
}

func TestBlockingAndErrors(t *testing.T) {
	boom := errors.New("boom")
	r, h, got := logRouter()
	r.On(Keyword("x"), h("cont", Continue), Priority(3))
	r.On(Keyword("x"), h("wrapped", fmt.Errorf("skip: %w", Continue)), Priority(2))
	r.On(Keyword("x"), h("nb-err", boom), Priority(1), NonBlocking())
	r.On(Keyword("x"), h("err", boom))
	r.On(Keyword("x"), h("never", nil), Priority(-1))
	r.NotFound(h("notfound", nil))
	err := r.Handle(ctxFor(textMsg("x")))
	if g := got(); !slices.Equal(g, []string{"cont", "wrapped", "nb-err", "err"}) {
		t.Fatalf("ran %v", g)
	}
	if !errors.Is(err, boom) || errors.Is(err, Continue) || strings.Count(err.Error(), "boom") != 2 {
		t.Fatalf("err %v", err)
	}
	// NotFound runs only when no route ran
	if err := r.Handle(ctxFor(textMsg("y"))); err != nil {
		t.Fatal(err)
	}
	if g := got(); !slices.Equal(g, []string{"notfound"}) {
		t.Fatalf("ran %v", g)
	}
	tr := r.Trace(ctxFor(textMsg("y")))
	if !tr.NotFound {
		t.Fatalf("trace %v", tr)
	}
	// a route that ran and returned Continue counts as ran: no NotFound
	r2, h2, got2 := logRouter()
	r2.On(Keyword("x"), h2("cont", Continue))
	r2.NotFound(h2("notfound", nil))
	r2.Handle(ctxFor(textMsg("x")))
	if g := got2(); !slices.Equal(g, []string{"cont"}) {
		t.Fatalf("ran %v", g)
	}
}

func TestMiddlewareOrderAndGroups(t *testing.T) {
	var log []string
	mw := func(name string) bot.Middleware {
		return func(next bot.Handler) bot.Handler {
			return bot.HandlerFunc(func(c *bot.Context) error {
				log = append(log, name+">")
				err := next.Handle(c)
				log = append(log, "<"+name)
				return err
			})
		}
	}
	h := func(name string) func(*bot.Context) error {
		return func(*bot.Context) error { log = append(log, name); return nil }
	}
	r := New()
	r.Use(mw("r1"), mw("r2"))
	admin := r.Group(From("admin"))
	admin.Use(mw("g1"))
	sub := admin.Group(GroupChat())
	sub.Use(mw("s1"))
	if err := sub.OnFunc(Command("ban {user}"), h("ban"), WithMiddleware(mw("route"))); err != nil {
		t.Fatal(err)
	}
	admin.OnFunc(nil, h("admin-any"))
	r.OnFunc(Any(), h("any"))
	r.Use(mw("r3")) // applies to routes registered earlier too
	r.NotFound(bot.HandlerFunc(h("nf")))

	m := groupMsg("/ban bob", "g1")
	m.SendID = "admin"
	if err := r.Handle(ctxFor(m)); err != nil {
		t.Fatal(err)
	}
	want := []string{"r1>", "r2>", "r3>", "g1>", "s1>", "route>", "ban", "<route", "<s1", "<g1", "<r3", "<r2", "<r1"}
	// the router's middleware wraps dispatch, also when nothing matches
	defer func() {
		log = nil
		r.Handle(ctxFor(textMsg("")))
		if want := []string{"r1>", "r2>", "r3>", "any", "<r3", "<r2", "<r1"}; !slices.Equal(log, want) {
			t.Errorf("got %v want %v", log, want)
		}
	}()
	if !slices.Equal(log, want) {
		t.Fatalf("got %v\nwant %v", log, want)
	}
	// the group's matchers are required: not admin → not the group's routes
	log = nil
	m.SendID = "u1"
	r.Handle(ctxFor(m))
	if want := []string{"r1>", "r2>", "r3>", "any", "<r3", "<r2", "<r1"}; !slices.Equal(log, want) {
		t.Fatalf("got %v want %v", log, want)
	}
	// admin in a single chat: the subgroup does not apply, the group does
	log = nil
	m2 := textMsg("/ban bob")
	m2.SendID = "admin"
	r.Handle(ctxFor(m2))
	if want := []string{"r1>", "r2>", "r3>", "g1>", "admin-any", "<g1", "<r3", "<r2", "<r1"}; !slices.Equal(log, want) {
		t.Fatalf("got %v want %v", log, want)
	}
}

func TestParamsDoNotLeakBetweenRoutes(t *testing.T) {
	r := New()
	var second map[string]string
	r.OnFunc(Regex(`(?P<a>x)`), func(c *bot.Context) error { return Continue })
	r.OnFunc(Regex(`(?P<b>x)`), func(c *bot.Context) error {
		second = map[string]string{}
		for k, v := range c.Params() {
			if v != "" {
				second[k] = v
			}
		}
		return nil
	})
	r.Handle(ctxFor(textMsg("x")))
	if len(second) != 1 || second["b"] != "x" {
		t.Fatalf("params of the second route: %v", second)
	}
}

func TestMentions(t *testing.T) {
	r, h, got := logRouter()
	r.On(And(MentionsMe(), Keyword("help")), h("help", nil))
	r.On(MentionsMe(), h("mention", nil))
	r.On(Any(), h("other", nil))
	cases := []struct {
		msg  *bot.Context
		want string
	}{
		{ctxFor(atMsg("@bot help", "g1", testSelf)), "help"},
		{ctxFor(atMsg("@bot hi", "g1", "x", testSelf)), "mention"},
		{ctxFor(atMsg("@all hi", "g1", "AtAllTag")), "mention"},
		{ctxFor(atMsg("@x help", "g1", "x")), "other"},
		{ctxFor(groupMsg("@bot help", "g1")), "other"},
	}
	for i, c := range cases {
		r.Handle(c.msg)
		if g := got(); len(g) != 1 || g[0] != c.want {
			t.Errorf("case %d: ran %v want %s", i, g, c.want)
		}
	}
}

func TestTrace(t *testing.T) {
	r := New()
	nop := func(*bot.Context) error { return nil }
	r.OnFunc(Command("w {city} {days:int}"), nop, Name("weather"))
	r.OnFunc(Prefix("/w"), nop, Name("w-prefix"), NonBlocking())
	r.OnFunc(Keyword("lunch"), nop, Name("lunch"))
	r.OnFunc(SingleChat(), nop, Name("single"))
	for i := 0; i < 100; i++ {
		r.OnFunc(Prefix(fmt.Sprintf("/z%d", i)), nop)
	}
	tr := r.Trace(ctxFor(textMsg("/w Oslo soon")))
	if tr.Routes != 104 || tr.Candidates != 3 {
		t.Fatalf("routes %d candidates %d\n%s", tr.Routes, tr.Candidates, tr)
	}
	s := tr.String()
	for _, want := range []string{
		`route weather (Command("w {city} {days:int}")) at `, `[command "/w"]: no match (command w: {days} wants an int, got "soon")`,
		`route w-prefix (Prefix("/w")) at `, `[prefix "/w"]: runs (non-blocking)`,
		`route single (SingleChat()) at `, `[session type 1]: runs and blocks`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("trace lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "lunch") {
		t.Errorf("lunch is no candidate:\n%s", s)
	}
	tr, err := r.TraceRun(ctxFor(textMsg("/w Oslo 3")))
	if err != nil || len(tr.Steps) != 3 || tr.Steps[0].Result != "ran and blocked" || tr.Steps[1].Result != "skipped: a route above blocked" {
		t.Fatalf("TraceRun: %v\n%s", err, tr)
	}
}

func TestRoutesAndAnalyze(t *testing.T) {
	r := New()
	nop := func(*bot.Context) error { return nil }
	r.OnFunc(Prefix("/"), nop, Name("slash"), Priority(5))                                      // shadows every command
	r.OnFunc(Command("help"), nop, Name("help"))                                                // shadowed by slash
	r.OnFunc(Keyword("hi"), nop, Name("hi"))                                                    //
	r.OnFunc(Keyword("hi"), nop, Name("hi-again"), At(Location{"rules.yaml", 4, 3}))            // duplicate
	r.OnFunc(Full("oh hi there"), nop, Name("full"), Priority(-1))                              // shadowed by keyword hi
	r.OnFunc(And(GroupChat(), Keyword("yo")), nop, Name("group-yo"))                            //
	r.OnFunc(And(InGroup("g1"), Keyword("yo"), Keyword("x")), nop, Name("g1-yo"), Priority(-1)) // shadowed? no: GroupChat() vs InGroup
	r.OnFunc(Keyword("zz"), nop, Name("nb"), NonBlocking())
	r.OnFunc(Full("zz"), nop, Name("after-nb"), Priority(-1)) // not shadowed: nb does not block
	r.OnFunc(Regex(`\d+`), nop, Name("digits"))               // unindexed
	r.OnFunc(Expr(`len(Text) > 100`), nop, Name("long"))      // unindexed
	r.OnFunc(And(SingleChat(), GroupChat()), nop, Name("never1"))
	r.OnFunc(Or(And(From("x"), From("y")), And(Full("a"), Full("b"))), nop, Name("never2"))
	r.OnFunc(Command("c", CommandPrefixes()), nop, Name("never3"))
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	routes := r.Routes()
	if len(routes) != 14 || routes[0].Name != "slash" || routes[0].Rank != 0 {
		t.Fatalf("routes: %+v", routes[0])
	}
	for _, ri := range routes {
		if ri.Site.Line == 0 || !strings.HasSuffix(ri.Site.File, "router_test.go") {
			t.Fatalf("site of %s: %v", ri.Name, ri.Site)
		}
	}
	byName := map[string]RouteInfo{}
	for _, ri := range routes {
		byName[ri.Name] = ri
	}
	if byName["hi-again"].Source.String() != "rules.yaml:4:3" || !slices.Equal(byName["help"].Index, []string{`command "/help"`}) || byName["digits"].Index != nil {
		t.Fatalf("route info: %+v %+v %+v", byName["hi-again"], byName["help"], byName["digits"])
	}
	var got []string
	for _, f := range r.Analyze() {
		other := ""
		if f.Other != nil {
			other = f.Other.Name
		}
		got = append(got, f.Kind.String()+" "+f.Route.Name+" "+other)
		if f.Kind != Unindexed && f.Kind != Unsatisfiable && (!strings.Contains(f.Msg, f.Other.Source.String()) || !strings.Contains(f.String(), f.Route.Source.String())) {
			t.Errorf("finding lacks a site: %s", f)
		}
	}
	slices.Sort(got)
	want := []string{"duplicate hi-again hi", "shadowed full hi", "shadowed help slash", "unindexed digits ", "unindexed long ",
		"unsatisfiable never1 ", "unsatisfiable never2 ", "unsatisfiable never3 "}
	if !slices.Equal(got, want) {
		t.Fatalf("findings\n%q\nwant\n%q", got, want)
	}
}

func TestShadowImplications(t *testing.T) {
	cfg := &config{prefixes: []string{"/"}}
	tests := []struct {
		y, x Matcher
		want bool
	}{
		{Full("/help me"), Prefix("/help"), true},
		{Full("/help me"), Suffix("me"), true},
		{Prefix("/help"), Keyword("elp"), true},
		{Keyword("abc"), Keyword("b"), true},
		{Keyword("b"), Keyword("abc"), false},
		{Prefix("/HELP"), PrefixFold("/help"), true},
		{PrefixFold("/help"), Prefix("/help"), false},
		{Command("help {x}"), Command("help"), true},
		{Command("help"), Command("help {x}"), false},
		{Command("help", Aliases("h")), Command("help"), false},
		{Command("help"), Prefix("/he"), true},
		{Command("help"), Command("help", IgnoreCase()), true},
		{SingleChat(), SessionTypes(1, 3), true},
		{GroupChat(), InGroup("g1"), false},
		{InGroup("g1"), InGroup("g1", "g2"), true},
		{And(SingleChat(), Keyword("a")), SingleChat(), true},
		{SingleChat(), And(SingleChat(), Keyword("a")), false},
		{Or(Full("a"), Full("ab")), Prefix("a"), true},
		{Full("b"), Or(Prefix("a"), Suffix("b")), true},
		{MentionsMe(), ContentTypes(106), true},
		{Keyword("x"), Any(), true},
		{Regex("a"), Regex("a"), true},
		{Regex("ab"), Regex("a"), false},
		{Not(Full("a")), Not(Full("a")), true},
	}
	for _, tt := range tests {
		if got := implies(tt.y, tt.x, cfg); got != tt.want {
			t.Errorf("%s implies %s = %v, want %v", tt.y, tt.x, got, tt.want)
		}
	}
	f := func(*bot.Context) bool { return true }
	if implies(Func("a", f), Func("a", f), cfg) {
		t.Error("two Func matchers must not be assumed equal")
	}
}

func TestRegistrationAfterDispatchAndLive(t *testing.T) {
	r, h, got := logRouter()
	r.On(Keyword("a"), h("a", nil))
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := r.Handle(ctxFor(textMsg("a b"))); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	for i := 0; i < 50; i++ {
		r.On(Keyword(fmt.Sprintf("k%d", i)), h("k", nil))
		r.Use(func(next bot.Handler) bot.Handler { return next })
	}
	close(stop)
	wg.Wait()
	got()
	r.On(Keyword("b"), h("b", nil), Priority(1))
	r.Handle(ctxFor(textMsg("a b")))
	if g := got(); !slices.Equal(g, []string{"b"}) {
		t.Fatalf("route registered after dispatch: ran %v", g)
	}

	live := NewLive(r)
	r2, h2, got2 := logRouter()
	r2.On(Keyword("a"), h2("new", nil))
	old, err := live.Swap(r2)
	if err != nil || old != r || live.Router() != r2 {
		t.Fatalf("swap: %v %p", err, old)
	}
	live.Handle(ctxFor(textMsg("a")))
	if g := got2(); !slices.Equal(g, []string{"new"}) {
		t.Fatalf("after swap ran %v", g)
	}
	bad := New()
	bad.On(Regex("("), h("x", nil))
	if _, err := live.Swap(bad); !errors.Is(err, ErrInvalidPattern) || live.Router() != r2 {
		t.Fatalf("swap to a bad router: %v", err)
	}
	if err := NewLive(nil).Handle(ctxFor(textMsg("a"))); err != nil {
		t.Fatal(err)
	}
}

func TestNoMatchAllocatesNothing(t *testing.T) {
	r := New()
	nop := func(*bot.Context) error { return nil }
	for i := 0; i < 100; i++ {
		r.OnFunc(Command(fmt.Sprintf("c%d", i)), nop)
		r.OnFunc(Prefix(fmt.Sprintf("/p%d", i)), nop)
		r.OnFunc(Keyword(fmt.Sprintf("k%dq", i)), nop)
		r.OnFunc(KeywordFold(fmt.Sprintf("F%dq", i)), nop)
		r.OnFunc(Full(fmt.Sprintf("f%d", i)), nop)
		r.OnFunc(Regex(fmt.Sprintf(`(?i)\br%dq\s*(\d+)`, i)), nop)
		r.OnFunc(Expr(fmt.Sprintf(`SessionType == 3 && Text startsWith "/e%d"`, i)), nop)
	}
	c := ctxFor(groupMsg("nothing to see here, move along please", "g1"))
	r.Handle(c)
	if a := testing.AllocsPerRun(100, func() { r.Handle(c) }); a != 0 {
		t.Fatalf("%v allocs per unmatched message", a)
	}
}

func TestExprRuntimeErrorIsLogged(t *testing.T) {
	var buf strings.Builder
	var mu sync.Mutex
	lw := writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return buf.Write(p) })
	r := New(WithLogger(slog.New(slog.NewTextHandler(lw, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	ran := false
	r.OnFunc(Expr(`Args[5] == "x"`), func(*bot.Context) error { ran = true; return nil })
	if err := r.Handle(ctxFor(textMsg("/x"))); err != nil || ran {
		t.Fatalf("err %v ran %v", err, ran)
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(buf.String(), "expr rule failed") || !strings.Contains(buf.String(), "Args[5]") {
		t.Fatalf("log: %q", buf.String())
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func TestConcurrentDispatch(t *testing.T) {
	r := New()
	r.OnFunc(Expr(`IsGroup && Text startsWith "/e" && len(Args) == 1`), func(c *bot.Context) error {
		c.SetParam("who", "expr")
		return nil
	})
	r.OnFunc(Regex(`(?i)^/r\s+(?P<n>\d+)$`), func(c *bot.Context) error { return nil })
	r.OnFunc(Command("c {n:int}"), func(c *bot.Context) error { return nil })
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				cases := []struct {
					text  string
					param string
					want  string
				}{
					{fmt.Sprintf("/e %d", i), "who", "expr"},
					{fmt.Sprintf("/R %d", i), "n", fmt.Sprint(i)},
					{fmt.Sprintf("/c %d", i), "n", fmt.Sprint(i)},
				}
				for _, cs := range cases {
					c := ctxFor(groupMsg(cs.text, "g1"))
					if err := r.Handle(c); err != nil {
						t.Error(err)
						return
					}
					if got := c.Param(cs.param); got != cs.want {
						t.Errorf("worker %d %q: %s = %q, want %q", w, cs.text, cs.param, got, cs.want)
						return
					}
				}
			}
		}(w)
	}
	wg.Wait()
}

func TestExprTimeZone(t *testing.T) {
	tokyo := time.FixedZone("JST", 9*3600)
	m := textMsg("x")
	m.SendTime = time.Date(2026, 11, 29, 23, 30, 0, 0, time.UTC).UnixMilli() // Sunday 23:30 UTC
	for _, tt := range []struct {
		loc  *time.Location
		expr string
	}{
		{time.UTC, `hour() == 23 && minute() == 30 && weekday() == 0`},
		{tokyo, `hour() == 8 && weekday() == 1`},
	} {
		r := New(WithLocation(tt.loc))
		ran := false
		r.OnFunc(Expr(tt.expr), func(*bot.Context) error { ran = true; return nil })
		r.Handle(ctxFor(m))
		if !ran {
			t.Errorf("%s in %s did not match", tt.expr, tt.loc)
		}
	}
}
