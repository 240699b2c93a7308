package config_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/openimbot/openimbot/config"
)

// TestSyntaxErrorPositions: a YAML syntax error is reported at the line and
// column of the problem, not at the start of the enclosing block.
func TestSyntaxErrorPositions(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"bad indentation", "rules:\n  - name: a\n    reply: x\n   bad: y\n", "f.yaml:4:4: "},
		{"two colons", "openim:\n  user_id: bot\n  nickname: a: b\n", "f.yaml:3:14: mapping values are not allowed"},
		{"tab", "openim:\n  user_id: bot\n\tnickname: x\n", "f.yaml:3:1: "},
		{"unclosed quote", "rules:\n  - name: a\n    reply: \"x\n  - name: b\n    reply: y\n", "f.yaml:3:12: "},
		{"unclosed bracket", "log:\n  level: [info\n  format: text\n", "f.yaml:2:10: "},
		{"unclosed bracket in a rule", "rules:\n  - name: a\n    full: [a, b\n    reply: x\n", "f.yaml:3:11: "},
		{"dedent", "openim:\n  user_id: bot\n - x\n", "f.yaml:3:2: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Parse("f.yaml", []byte(tt.yaml), nil)
			if !errors.Is(err, config.ErrSyntax) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want a syntax error containing %q", err, tt.want)
			}
		})
	}
}

// TestDuplicateRuleNames: a name given to two rules is an error at the
// second one, naming the line of the first.
func TestDuplicateRuleNames(t *testing.T) {
	src := "rules:\n  - name: greet\n    full: hi\n    reply: a\n  - full: yo\n    reply: b\n  - name: greet\n    full: hello\n    reply: c\n"
	_, err := config.Parse("f.yaml", []byte(src), nil)
	want := `f.yaml:7:11: rule "greet": the name is already used by the rule at line 2`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("got %v, want %q", err, want)
	}
	// Unnamed rules get distinct default names and are not duplicates.
	if _, err := config.Parse("f.yaml", []byte("rules:\n  - full: a\n    reply: x\n  - full: b\n    reply: y\n"), nil); err != nil {
		t.Fatal(err)
	}
}

// TestParseRules: rules load from a list or from a configuration file,
// with positions, validation and environment expansion.
func TestParseRules(t *testing.T) {
	env := func(name string) (string, bool) { return map[string]string{"WHO": "Ann"}[name], name == "WHO" }
	list := "- name: hi\n  full: hi\n  reply: Hello ${WHO}\n- name: bye\n  keyword: bye\n  reply: Bye\n"
	rules, err := config.ParseRules("rules.yaml", []byte(list), env)
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) != 2 || rules[0].Reply != "Hello Ann" || rules[1].Name != "bye" {
		t.Fatalf("rules: %+v", rules)
	}
	if p := rules[1].PosOf("keyword"); p.String() != "rules.yaml:5:12" {
		t.Errorf("keyword position %s", p)
	}
	rules, err = config.ParseRules("bot.yaml", []byte("openim:\n  user_id: b\nrules:\n  - full: x\n    reply: y\n"), nil)
	if err != nil || len(rules) != 1 || rules[0].Pos.Line != 4 {
		t.Fatalf("from a configuration file: %v %+v", err, rules)
	}
	for _, tt := range []struct{ src, want string }{
		{"- name: a\n  full: x\n", `rules.yaml:1:3: rule "a": needs a reply or a markdown template`},
		{"- name: a\n  full: x\n  reply: y\n- name: a\n  full: z\n  reply: w\n", `rules.yaml:4:9: rule "a": the name is already used`},
		{"- nme: a\n", `rules.yaml:1:3: unknown key "nme"`},
		{"just text\n", "rules.yaml:1:1: expected a list of rules"},
		{"- full: [a\n", "rules.yaml:1:9: "},
	} {
		if _, err := config.ParseRules("rules.yaml", []byte(tt.src), nil); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: got %v, want %q", tt.src, err, tt.want)
		}
	}
	if rules, err := config.ParseRules("empty.yaml", nil, nil); err != nil || rules != nil {
		t.Errorf("empty: %v %v", rules, err)
	}
}

// TestParseNode: a plugin's section parsed on its own decodes like one from
// a configuration file, errors carrying file:line:col.
func TestParseNode(t *testing.T) {
	n, err := config.ParseNode("weather.yaml", []byte("city: Oslo\ndays: 3\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		City string `yaml:"city"`
		Days int    `yaml:"days"`
	}
	if err := n.Decode(&s); err != nil || s.City != "Oslo" || s.Days != 3 {
		t.Fatalf("%v %+v", err, s)
	}
	n, err = config.ParseNode("weather.yaml", []byte("city: Oslo\ndays: three\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Decode(&s); err == nil || !strings.Contains(err.Error(), "weather.yaml:2:7: ") {
		t.Fatalf("got %v", err)
	}
	if n, err := config.ParseNode("e.yaml", nil, nil); err != nil || !n.IsZero() {
		t.Fatalf("empty: %v %v", n, err)
	}
}

// TestMaxReconnects: openim.max_reconnects defaults to 0 (never give up)
// and must not be negative.
func TestMaxReconnects(t *testing.T) {
	cfg, err := config.Parse("f.yaml", nil, nil)
	if err != nil || cfg.OpenIM.MaxReconnects != 0 {
		t.Fatalf("default: %v %d", err, cfg.OpenIM.MaxReconnects)
	}
	cfg, err = config.Parse("f.yaml", []byte("openim:\n  max_reconnects: 20\n"), nil)
	if err != nil || cfg.OpenIM.MaxReconnects != 20 {
		t.Fatalf("20: %v", err)
	}
	_, err = config.Parse("f.yaml", []byte("openim:\n  max_reconnects: -1\n"), nil)
	if err == nil || !strings.Contains(err.Error(), "f.yaml:2:19: openim.max_reconnects: must not be negative") {
		t.Fatalf("-1: %v", err)
	}
}
