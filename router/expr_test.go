package router

import (
	"testing"
)

func TestExprGuards(t *testing.T) {
	tests := []struct {
		src  string
		want string
	}{
		{`SessionType == 3 && Text startsWith "/w1q"`, `[prefix "/w1q"]`},
		{`3 == SessionType && GroupID == "g"`, `[group "g"]`},
		{`Text == "hi" || Text endsWith "?"`, `[full "hi" suffix "?"]`},
		{`Text contains "abc" and SenderID == "u"`, `[keyword "abc"]`},
		{`Text matches "(?i)^Hello"`, `[prefix (fold) "hello"]`},
		{`GroupID in ["a", "b"] && hour() > 8`, `[group "a" group "b"]`},
		{`ContentType in [101, 106]`, `[content type 101 content type 106]`},
		{`IsGroup`, `[session type 2 session type 3]`},
		{`MentionsMe && Text != ""`, `[content type 106]`},
		{`len(Text) > 3`, `[]`},
		{`Text == "a" || len(Text) > 3`, `[]`},
		{`not (Text == "a")`, `[]`},
		{`GroupID == ""`, `[]`},
		{`GroupID in [SenderID]`, `[]`},
	}
	for _, tt := range tests {
		m := Expr(tt.src).(*exprMatcher)
		if m.error != nil {
			t.Fatalf("%s: %v", tt.src, m.error)
		}
		got := "["
		for i, g := range m.gs {
			if i > 0 {
				got += " "
			}
			got += g.String()
		}
		got += "]"
		if got != tt.want {
			t.Errorf("%s: guards %s, want %s", tt.src, got, tt.want)
		}
	}
}
