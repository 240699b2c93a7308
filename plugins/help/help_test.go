package help

import (
	"testing"

	"github.com/openimbot/openimbot/router"
)

func TestCommandUsage(t *testing.T) {
	tests := []struct {
		matcher, want string
		ok            bool
	}{
		{`Command("weather {city}")`, "weather {city}", true},
		{`And(Command("roll {n:int?}", aliases "r"), SingleChat())`, "roll {n:int?}", true},
		{`Command("say \"x\"")`, `say "x"`, true},
		{`KeywordFold("hello")`, "", false},
		{`Command(`, "", false},
		{`Command("")`, "", false},
	}
	for _, tt := range tests {
		got, ok := CommandUsage(tt.matcher)
		if got != tt.want || ok != tt.ok {
			t.Errorf("CommandUsage(%s) = %q, %v; want %q, %v", tt.matcher, got, ok, tt.want, tt.ok)
		}
	}
}

func TestText(t *testing.T) {
	routes := []router.RouteInfo{
		{Matcher: `Command("b")`, Name: "bee"},
		{Matcher: `Full("x")`, Name: "not a command"},
		{Matcher: `Command("a {x}")`},
		{Matcher: `Command("b")`, Name: "again"},
	}
	if got, want := Text(routes, "H:", "F"), "H:\n/b - bee\n/a {x}\nF"; got != want {
		t.Fatalf("Text = %q, want %q", got, want)
	}
	if got := Text(nil, "", ""); got != "" {
		t.Fatalf("empty Text = %q", got)
	}
}
