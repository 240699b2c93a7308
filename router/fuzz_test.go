package router

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/openimbot/openimbot/bot"
)

// FuzzSplitArgs: splitting never panics, and quoting the arguments again
// and splitting gives them back.
func FuzzSplitArgs(f *testing.F) {
	for _, s := range []string{``, `a b`, `"a b" c`, `'x y'z`, `a\ b`, `"unterminated`, `end\`, `"\"" '\'`, "日本 語\t\n x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		args, err := SplitArgs(s)
		if err != nil {
			return
		}
		var b strings.Builder
		for _, a := range args {
			b.WriteString(` "`)
			for i := 0; i < len(a); i++ {
				if a[i] == '"' || a[i] == '\\' {
					b.WriteByte('\\')
				}
				b.WriteByte(a[i])
			}
			b.WriteString(`"`)
		}
		again, err := SplitArgs(b.String())
		if err != nil || !slices.Equal(args, again) {
			t.Fatalf("%q split to %q; requoted %q split to %q, %v", s, args, b.String(), again, err)
		}
	})
}

// FuzzCommand: any pattern and text: no panic; indexed and linear agree.
func FuzzCommand(f *testing.F) {
	f.Add("weather {city} {days:int}", "/weather Paris 3")
	f.Add("say {text...}", `/say "hi there" you`)
	f.Add("ls --all|-a --sort=|-s {dir?}", "/ls -as name --all=false -- -x")
	f.Add("w {a:float}", "/w -1e3")
	f.Add("{bad", "/{bad")
	f.Fuzz(func(t *testing.T, pattern, text string) {
		m := Command(pattern)
		if m.err() != nil {
			return
		}
		agree(t, []Matcher{m, Command(pattern, IgnoreCase(), Aliases("x"))}, text)
	})
}

// FuzzRegexGuard: whenever a regex matches, the guard it is indexed by
// holds.
func FuzzRegexGuard(f *testing.F) {
	f.Add(`(?i)\bw1q\s*#?(\d+)`, "W1Q #5")
	f.Add(`^/w(?:\s+(.*))?$`, "/w x")
	f.Add(`(?i)k|straße`, "\u212a")
	f.Add(`a(b|cd)+e`, "xabcde")
	f.Fuzz(func(t *testing.T, pattern, text string) {
		m, ok := Regex(pattern).(*regexMatcher)
		if !ok || m.err() != nil || !m.re.MatchString(text) || m.lits == nil {
			return
		}
		in := &input{text: text, msg: textMsg(text)}
		for _, g := range m.lits {
			if guardHolds(g, in) {
				return
			}
		}
		t.Fatalf("regex %q matches %q but none of its guards %v holds", pattern, text, m.lits)
	})
}

// FuzzRoute: random rule sets (from seed) against a fuzzed text: indexed and
// linear routers run the same handlers in the same order.
func FuzzRoute(f *testing.F) {
	f.Add(uint64(1), "/x hi")
	f.Add(uint64(2), "HI \u212a ab")
	f.Add(uint64(3), "日本 /X 42")
	f.Fuzz(func(t *testing.T, seed uint64, text string) {
		rng := rand.New(rand.NewPCG(seed, seed>>7))
		ms := make([]Matcher, 1+rng.IntN(20))
		for i := range ms {
			ms[i] = randMatcher(rng, 2)
		}
		agree(t, ms, text)
	})
}

func agree(t *testing.T, ms []Matcher, text string) {
	t.Helper()
	var logs [2][]string
	for i, opts := range [][]Option{{WithCommandPrefixes("/", "!", "")}, {WithCommandPrefixes("/", "!", ""), LinearScan()}} {
		r := New(opts...)
		for j, m := range ms {
			var ro []RouteOption
			if j%3 == 1 {
				ro = append(ro, NonBlocking())
			}
			r.OnFunc(m, func(c *bot.Context) error {
				logs[i] = append(logs[i], fmt.Sprint(j, c.Params(), c.Args()))
				return nil
			}, ro...)
		}
		for _, msg := range []*bot.Context{ctxFor(textMsg(text)), ctxFor(groupMsg(text, "g1")), ctxFor(atMsg(text, "g2", testSelf))} {
			if err := r.Handle(msg); err != nil {
				t.Fatal(err)
			}
		}
	}
	if !slices.Equal(logs[0], logs[1]) {
		var desc []string
		for _, m := range ms {
			desc = append(desc, m.String())
		}
		t.Fatalf("text %q rules %q: indexed %q, linear %q", text, desc, logs[0], logs[1])
	}
}
