package router

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/openimbot/openimbot/bot"
	"github.com/openimbot/openimbot/content"
)

// benchText is a 63-byte chat line that matches no benchmark rule, so a
// linear scan visits every rule (docs/performance.md stage 4).
const benchText = "hey folks, anyone up for lunch at noon? the usual place is fine"

func benchRule(kind string, i int) Matcher {
	w := fmt.Sprintf("w%dq", i)
	switch kind {
	case "command":
		return Command(w + " {arg?}")
	case "prefix":
		return Prefix("/" + w)
	case "keyword":
		return Keyword(w)
	case "full":
		return Full("/" + w)
	case "regex":
		return Regex(`(?i)\b` + w + `\s*#?(\d+)`)
	case "expr":
		return Expr(`SessionType == 3 && Text startsWith "/` + w + `"`)
	case "mixed":
		kinds := []string{"command", "prefix", "keyword", "full", "regex", "expr"}
		return benchRule(kinds[i%len(kinds)], i)
	}
	panic(kind)
}

func benchRouter(b *testing.B, kind string, n int, opts ...Option) *Router {
	r := New(opts...)
	h := bot.HandlerFunc(func(*bot.Context) error { return nil })
	for i := 0; i < n; i++ {
		if err := r.On(benchRule(kind, i), h); err != nil {
			b.Fatal(err)
		}
	}
	if err := r.Build(); err != nil {
		b.Fatal(err)
	}
	return r
}

func BenchmarkRoute(b *testing.B) {
	msg := &content.Message{SendID: "u1", GroupID: "g1", SessionType: content.GroupChat,
		ContentType: content.TypeText, Elem: &content.Text{Content: benchText}}
	if len(benchText) != 63 {
		b.Fatalf("bench text is %d bytes", len(benchText))
	}
	c := bot.NewContext(context.Background(), msg, "bot")
	run := func(b *testing.B, kind string, n int, opts ...Option) {
		r := benchRouter(b, kind, n, opts...)
		if tr := r.Trace(c); len(ranNames(tr)) != 0 {
			b.Fatalf("bench text matched: %v", tr)
		}
		runtime.GC() // finish collecting the setup's garbage before timing
		b.ReportAllocs()
		b.ResetTimer()
		cpu0 := cpuTime()
		for b.Loop() {
			if err := r.Handle(c); err != nil {
				b.Fatal(err)
			}
		}
		// CPU time per message: unlike ns/op it does not grow when other
		// processes compete for the (shared) cores.
		b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
	}
	for _, kind := range []string{"command", "prefix", "keyword", "full", "regex", "expr", "mixed"} {
		for _, n := range []int{10, 1000, 10000} {
			b.Run(fmt.Sprintf("kind=%s/rules=%d", kind, n), func(b *testing.B) { run(b, kind, n) })
		}
		b.Run(fmt.Sprintf("kind=%s/rules=10000/linear", kind), func(b *testing.B) { run(b, kind, 10000, LinearScan()) })
	}
}
