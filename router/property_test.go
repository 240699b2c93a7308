package router

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/openimbot/openimbot/bot"
	"github.com/openimbot/openimbot/content"
)

// words for random rules and messages: short, overlapping, mixed case and
// some non-ASCII with case folding quirks (Kelvin sign, long s).
var propWords = []string{"a", "ab", "abc", "B", "bc", "/x", "/X", "x", "hi", "HI", "Hi", "k", "\u212a",
	"s", "\u017f", "é", "É", "日本", "/", "!", "go", "gO", "x y", " ", "-", "1", "42"}

func randWord(rng *rand.Rand) string { return propWords[rng.IntN(len(propWords))] }

func randText(rng *rand.Rand) string {
	n := rng.IntN(5)
	s := ""
	for i := 0; i < n; i++ {
		if i > 0 && rng.IntN(2) == 0 {
			s += " "
		}
		s += randWord(rng)
	}
	return s
}

func randLeaf(rng *rand.Rand) Matcher {
	w := randWord(rng)
	for w == "" || w == " " {
		w = randWord(rng)
	}
	switch rng.IntN(22) {
	case 0:
		return Full(randText(rng))
	case 1:
		return FullFold(randText(rng))
	case 2:
		return Prefix(w)
	case 3:
		return PrefixFold(w, randWord(rng)+"z")
	case 4:
		return Suffix(w)
	case 5:
		return SuffixFold(w)
	case 6:
		return Keyword(w, randWord(rng)+"q")
	case 7:
		return KeywordFold(w)
	case 8:
		return Command("x")
	case 9:
		return Command("x {a}", IgnoreCase())
	case 10:
		return Command("hi {n:int?}", Aliases("go"), CommandPrefixes("/", "!", ""))
	case 11:
		pats := []string{"^/x", "(?i)hi", "a(b|c)", "(?i)^k", "s+", "é|É", "^$", `\d+`, "(?i)(ab|x)y", "(?P<w>go)"}
		return Regex(pats[rng.IntN(len(pats))])
	case 12:
		exprs := []string{`Text startsWith "/x"`, `SessionType == 3 && Text contains "a"`, `Text == "hi" || Text endsWith "b"`,
			`IsGroup and GroupID == "g1"`, `len(Text) > 3`, `ContentType == 106 && MentionsMe`, `SenderID == "u2" && Text matches "(?i)k"`,
			`GroupID in ["g1", "g3"] && Text in ["hi", "ab", "x y"]`, `SessionType in [1, 2] || ContentType in [106]`, `Text in []`}
		return Expr(exprs[rng.IntN(len(exprs))])
	case 13:
		return SingleChat()
	case 14:
		return GroupChat()
	case 15:
		return InGroup("g1", "g2")
	case 16:
		return From("u1")
	case 17:
		return MentionsMe()
	case 18:
		return ContentTypes(content.TypeText)
	case 19:
		return Func("odd", func(c *bot.Context) bool { return len(c.Text())%2 == 1 })
	case 20:
		return Not(randLeaf(rng))
	default:
		return Any()
	}
}

func randMatcher(rng *rand.Rand, depth int) Matcher {
	if depth > 0 && rng.IntN(3) == 0 {
		n := 1 + rng.IntN(3)
		ms := make([]Matcher, n)
		for i := range ms {
			ms[i] = randMatcher(rng, depth-1)
		}
		if rng.IntN(2) == 0 {
			return And(ms...)
		}
		return Or(ms...)
	}
	return randLeaf(rng)
}

func randMessage(rng *rand.Rand) *content.Message {
	text := randText(rng)
	groups := []string{"", "g1", "g2", "g3"}
	g := groups[rng.IntN(len(groups))]
	m := textMsg(text)
	if g != "" {
		m = groupMsg(text, g)
	}
	if rng.IntN(4) == 0 {
		at := []string{testSelf}
		if rng.IntN(2) == 0 {
			at = []string{"other"}
		}
		m = atMsg(text, g, at...)
	}
	if rng.IntN(3) == 0 {
		m.SendID = "u2"
	}
	return m
}

type selection struct {
	name   string
	params map[string]string
	args   []string
}

// runAll routes m through r and records which routes ran with which
// parameters. Every third route is non-blocking so that several can run.
func runAll(r *Router, rec *recorder, m *content.Message) ([]selection, error) {
	c := ctxFor(m)
	rec.log = nil
	err := r.Handle(c)
	return rec.log, err
}

type recorder struct{ log []selection }

func buildPair(rng *rand.Rand, n int) (idx, lin *Router, ri, rl *recorder, descs []string) {
	idx, lin = New(WithCommandPrefixes("/", "!")), New(WithCommandPrefixes("/", "!"), LinearScan())
	ri, rl = &recorder{}, &recorder{}
	for i := 0; i < n; i++ {
		m := randMatcher(rng, 2)
		var opts []RouteOption
		if rng.IntN(3) == 0 {
			opts = append(opts, NonBlocking())
		}
		if rng.IntN(4) == 0 {
			opts = append(opts, Priority(rng.IntN(3)-1))
		}
		name := fmt.Sprint(i)
		opts = append(opts, Name(name))
		descs = append(descs, m.String())
		for j, r := range []*Router{idx, lin} {
			rec := []*recorder{ri, rl}[j]
			r.OnFunc(m, func(c *bot.Context) error {
				p := map[string]string{}
				for k, v := range c.Params() {
					if v != "" {
						p[k] = v
					}
				}
				rec.log = append(rec.log, selection{name, p, slices.Clone(c.Args())})
				return nil
			}, opts...)
		}
	}
	return idx, lin, ri, rl, descs
}

func TestIndexedAgreesWithLinear(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 300; round++ {
		n := 1 + rng.IntN(30)
		idx, lin, ri, rl, descs := buildPair(rng, n)
		if err := idx.Err(); err != nil {
			t.Fatalf("round %d: registration: %v", round, err)
		}
		for k := 0; k < 40; k++ {
			m := randMessage(rng)
			a, _ := runAll(idx, ri, m)
			b, _ := runAll(lin, rl, m)
			if fmt.Sprint(a) != fmt.Sprint(b) {
				t.Fatalf("round %d text %q: indexed ran %v, linear ran %v\nrules: %q", round, m.Text(), a, b, descs)
			}
			// every route that matches must be a candidate with a holding guard
			tr := idx.Trace(ctxFor(m))
			for _, s := range tr.Steps {
				if s.Via == "?" {
					t.Fatalf("candidate %s without a holding guard for %q", s.Route.Matcher, m.Text())
				}
			}
		}
	}
}
