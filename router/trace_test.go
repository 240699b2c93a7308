package router

import (
	"strings"
	"testing"

	"github.com/openimbot/openimbot/bot"
)

func TestTraceAllListsEveryRoute(t *testing.T) {
	r := New()
	nop := func(*bot.Context) error { return nil }
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(r.OnFunc(Full("hi"), nop, Name("greet")))
	must(r.OnFunc(Regex(`^order #(\d+)$`), nop, Name("order")))
	must(r.OnFunc(Command("weather {city}"), nop))
	must(r.Build())

	tr := r.TraceAll(ctxFor(textMsg("order #42")))
	if len(tr.Steps) != 3 || tr.Routes != 3 {
		t.Fatalf("TraceAll has %d steps of %d routes, want every route:\n%s", len(tr.Steps), tr.Routes, tr)
	}
	idx := r.Trace(ctxFor(textMsg("order #42")))
	if tr.Candidates != idx.Candidates || tr.Candidates >= 3 {
		t.Errorf("Candidates %d, indexed Trace tested %d (the index should skip some)", tr.Candidates, idx.Candidates)
	}
	var matched []string
	for _, s := range tr.Steps {
		if s.Matched {
			matched = append(matched, s.Route.Name)
		} else if s.Result != "no match" && !strings.HasPrefix(s.Result, "skipped") {
			t.Errorf("step %s: result %q", s.Route.Matcher, s.Result)
		}
	}
	if strings.Join(matched, ",") != "order" {
		t.Errorf("matched %v, want [order]\n%s", matched, tr)
	}
	out := tr.String()
	if !strings.Contains(out, "not selected by the index") || !strings.Contains(out, "runs and blocks") {
		t.Errorf("trace text:\n%s", out)
	}
}

func TestHandleRecordsRouteName(t *testing.T) {
	r := New()
	nop := func(*bot.Context) error { return nil }
	if err := r.OnFunc(Full("hi"), nop, Name("greet")); err != nil {
		t.Fatal(err)
	}
	if err := r.OnFunc(Prefix("echo "), nop); err != nil {
		t.Fatal(err)
	}
	for text, want := range map[string]string{"hi": "greet", "echo x": `Prefix("echo ")`, "nothing": ""} {
		c := ctxFor(textMsg(text))
		if err := r.Handle(c); err != nil {
			t.Fatal(err)
		}
		if c.Route() != want {
			t.Errorf("%q: Route() = %q, want %q", text, c.Route(), want)
		}
	}
}
