package router

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/openimbot/openimbot/bot"
	"github.com/openimbot/openimbot/content"
)

// matches routes msg through a router holding m alone, both indexed and
// linear, and returns whether the route ran and its parameters.
func matches(t *testing.T, m Matcher, msg *content.Message) (bool, map[string]string, []string) {
	t.Helper()
	var res [2]struct {
		ran    bool
		params map[string]string
		args   []string
	}
	for i, opts := range [][]Option{nil, {LinearScan()}} {
		r := New(append(opts, WithCommandPrefixes("/", "!"))...)
		if err := r.OnFunc(m, func(c *bot.Context) error {
			res[i].ran = true
			res[i].params = map[string]string{}
			for k, v := range c.Params() {
				res[i].params[k] = v
			}
			res[i].args = c.Args()
			return nil
		}); err != nil {
			t.Fatalf("%s: %v", m, err)
		}
		if err := r.Handle(ctxFor(msg)); err != nil {
			t.Fatal(err)
		}
	}
	if res[0].ran != res[1].ran {
		t.Fatalf("%s on %q: indexed %v, linear %v", m, msg.Text(), res[0].ran, res[1].ran)
	}
	return res[0].ran, res[0].params, res[0].args
}

func TestMatchers(t *testing.T) {
	single := textMsg
	grp := func(s string) *content.Message { return groupMsg(s, "g1") }
	tests := []struct {
		name string
		m    Matcher
		msg  *content.Message
		want bool
	}{
		{"full", Full("hello"), single("hello"), true},
		{"full other", Full("hello"), single("hello!"), false},
		{"full any of", Full("a", "hello"), single("hello"), true},
		{"full fold", FullFold("HeLLo"), single("hello"), true},
		{"full fold kelvin", FullFold("k"), single("\u212a"), true},
		{"full empty", Full(""), &content.Message{ContentType: content.TypePicture, Elem: &content.Picture{}}, true},
		{"prefix", Prefix("/w"), single("/weather"), true},
		{"prefix miss", Prefix("/w"), single(" /w"), false},
		{"prefix fold", PrefixFold("HEY"), single("hey you"), true},
		{"prefix case", Prefix("HEY"), single("hey you"), false},
		{"suffix", Suffix("?"), single("why?"), true},
		{"suffix miss", Suffix("?"), single("why"), false},
		{"suffix fold", SuffixFold("OK"), single("is it ok"), true},
		{"keyword", Keyword("cat", "dog"), single("my dog barks"), true},
		{"keyword miss", Keyword("cat", "dog"), single("my bird"), false},
		{"keyword case", Keyword("Dog"), single("my dog"), false},
		{"keyword fold", KeywordFold("DOG"), single("my Dog"), true},
		{"keyword fold unicode", KeywordFold("ÉTÉ"), single("un été chaud"), true},
		{"keyword fold long s", KeywordFold("s"), single("\u017f"), true},
		{"regex", Regex(`^\d+$`), single("123"), true},
		{"regex miss", Regex(`^\d+$`), single("12a"), false},
		{"regex fold", Regex(`(?i)hello`), single("HeLLo there"), true},
		{"regexfold", RegexFold(`hello`), single("HELLO"), true},
		{"command", Command("help"), single("/help"), true},
		{"command args", Command("help"), single("/help me"), true},
		{"command word", Command("help"), single("/helpme"), false},
		{"command other prefix", Command("help"), single("!help"), true},
		{"command no prefix", Command("help"), single("help"), false},
		{"command alias", Command("help", Aliases("h", "?")), single("/? x"), true},
		{"command case", Command("help"), single("/HELP"), false},
		{"command ignore case", Command("help", IgnoreCase()), single("/HELP"), true},
		{"command own prefix", Command("help", CommandPrefixes("#")), single("#help"), true},
		{"command own prefix excludes", Command("help", CommandPrefixes("#")), single("/help"), false},
		{"command missing param", Command("w {city}"), single("/w"), false},
		{"command bad int", Command("w {city} {days:int}"), single("/w Paris three"), false},
		{"command int", Command("w {city} {days:int}"), single("/w Paris 3"), true},
		{"command bad quote", Command("say {text...}"), single(`/say "oops`), false},
		{"single", SingleChat(), single("x"), true},
		{"single in group", SingleChat(), grp("x"), false},
		{"group", GroupChat(), grp("x"), true},
		{"group legacy", GroupChat(), &content.Message{SessionType: content.WriteGroupChat, Elem: &content.Text{}}, true},
		{"session types", SessionTypes(content.NotificationChat), single("x"), false},
		{"content", ContentTypes(content.TypeText, content.TypePicture), single("x"), true},
		{"content miss", ContentTypes(content.TypePicture), single("x"), false},
		{"from", From("u0", "u1"), single("x"), true},
		{"from miss", From("u2"), single("x"), false},
		{"in group", InGroup("g1"), grp("x"), true},
		{"in group miss", InGroup("g2"), grp("x"), false},
		{"in group single", InGroup(""), single("x"), false},
		{"mentions me", MentionsMe(), atMsg("@bot hi", "g1", testSelf), true},
		{"mentions all", MentionsMe(), atMsg("@all hi", "g1", content.AtAllTag), true},
		{"mentions other", MentionsMe(), atMsg("@x hi", "g1", "x"), false},
		{"mentions plain text", MentionsMe(), grp("@bot hi"), false},
		{"and", And(GroupChat(), Keyword("hi")), grp("oh hi"), true},
		{"and miss", And(GroupChat(), Keyword("hi")), single("oh hi"), false},
		{"or", Or(Full("a"), Full("b")), single("b"), true},
		{"or miss", Or(Full("a"), Full("b")), single("c"), false},
		{"or empty", Or(), single("c"), false},
		{"not", Not(Keyword("spam")), single("ham"), true},
		{"not miss", Not(Keyword("spam")), single("spam!"), false},
		{"any", Any(), single(""), true},
		{"func", Func("long", func(c *bot.Context) bool { return len(c.Text()) > 3 }), single("long"), true},
		{"func miss", Func("long", func(c *bot.Context) bool { return len(c.Text()) > 3 }), single("no"), false},
		{"expr", Expr(`Text startsWith "/w" && SessionType == 3`), grp("/w x"), true},
		{"expr guard miss", Expr(`Text startsWith "/w" && SessionType == 3`), single("/w x"), false},
		{"expr args", Expr(`len(Args) == 2 && Args[1] == "b c"`), single(`/x a "b c"`), true},
		{"expr mentions", Expr(`MentionsMe && IsGroup`), atMsg("hi", "g1", testSelf), true},
		{"expr sender", Expr(`SenderID == "u1" || GroupID == "g9"`), single("x"), true},
		{"expr time", Expr(`hour() >= 0 && hour() < 24 && weekday() <= 6 && minute() < 60`), single("x"), true},
		{"expr runtime error", Expr(`Args[5] == "x"`), single("/x"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _, _ := matches(t, tt.m, tt.msg)
			if got != tt.want {
				t.Fatalf("%s on %q = %v, want %v", tt.m, tt.msg.Text(), got, tt.want)
			}
		})
	}
}

func TestCommandParams(t *testing.T) {
	tests := []struct {
		pattern string
		text    string
		params  map[string]string
		args    []string
	}{
		{"weather {city} {days:int}", "/weather Paris 3", map[string]string{"city": "Paris", "days": "3"}, []string{"Paris", "3"}},
		{"weather {city} {days:int?}", "/weather 'New York'", map[string]string{"city": "New York"}, []string{"New York"}},
		{"say {text...}", "/say  hello   \"big\"  world  ", map[string]string{"text": "hello   \"big\"  world"}, []string{"hello", "big", "world"}},
		{"ls --all|-a --sort=", "/ls -a --sort name dir", map[string]string{"-all": "true", "-sort": "name"}, []string{"dir"}},
		{"ls --all|-a --sort=|-s", "/ls --all=false -s size", map[string]string{"-all": "false", "-sort": "size"}, nil},
		{"ls -n=", "/ls -n5 -xy", map[string]string{"-n": "5", "-x": "true", "-y": "true"}, nil},
		{"ls", "/ls --undeclared --k=v -- --not-an-option", map[string]string{"-undeclared": "true", "-k": "v"}, []string{"--not-an-option"}},
		{"calc {a:float} {b:int}", `/calc -1.5 -2`, map[string]string{"a": "-1.5", "b": "-2"}, []string{"-1.5", "-2"}},
		{"echo", `/echo a\ b "c\"d" 'e\f'`, map[string]string{}, []string{"a b", `c"d`, `e\f`}},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			ok, params, args := matches(t, Command(tt.pattern), textMsg(tt.text))
			if !ok {
				tr := New().Trace(ctxFor(textMsg(tt.text)))
				t.Fatalf("%q did not match %q %v", tt.text, tt.pattern, tr)
			}
			for k, v := range tt.params {
				if params[k] != v {
					t.Errorf("param %s = %q, want %q (all %v)", k, params[k], v, params)
				}
			}
			if len(params) != len(tt.params) {
				t.Errorf("params %v, want %v", params, tt.params)
			}
			if !slices.Equal(args, tt.args) {
				t.Errorf("args %q, want %q", args, tt.args)
			}
		})
	}
}

func TestAccessors(t *testing.T) {
	r := New()
	var verbose bool
	var units string
	var days int
	var temp float64
	r.OnFunc(Command("w {city} {days:int} {t:float?} --units=|-u -v"), func(c *bot.Context) error {
		verbose = Flag(c, "v")
		units, _ = OptionValue(c, "units")
		days, temp = Int(c, "days"), Float(c, "t")
		return nil
	})
	if err := r.Handle(ctxFor(textMsg("/w Oslo 4 2.5 -u metric -v"))); err != nil {
		t.Fatal(err)
	}
	if !verbose || units != "metric" || days != 4 || temp != 2.5 {
		t.Fatalf("verbose %v units %q days %d temp %v", verbose, units, days, temp)
	}
}

func TestRegexParams(t *testing.T) {
	ok, params, _ := matches(t, Regex(`(?i)^order\s+#?(?P<id>\d+)(?:\s+(?P<note>.+))?$`), textMsg("ORDER #42"))
	if !ok || params["id"] != "42" || params["note"] != "" {
		t.Fatalf("ok %v params %v", ok, params)
	}
}

func TestSplitArgs(t *testing.T) {
	got, err := SplitArgs(`a "b c" 'd e' f\ g "h\"i" j"k"l`)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"a", "b c", "d e", "f g", `h"i`, "jkl"}
	if !slices.Equal(got, want) {
		t.Fatalf("got %q want %q", got, want)
	}
	for _, bad := range []string{`"open`, `'open`, `end\`, `"x\`} {
		_, err := SplitArgs(bad)
		var ae *ArgsError
		if !errors.As(err, &ae) || !errors.Is(err, ErrArgs) {
			t.Errorf("%q: err %v", bad, err)
		}
	}
}

func TestPatternErrors(t *testing.T) {
	tests := []struct {
		m          Matcher
		kind       string
		line, col  int
		msgContain string
	}{
		{Regex(`a(b`), "regex", 1, 1, "missing closing )"},
		{Regex(`x[z-a]`), "regex", 1, 3, "invalid character class range"},
		{Expr("Text == \n  1 +"), "expr", 2, 5, "unexpected"},
		{Expr(`Text startsWith 5`), "expr", 1, 6, "mismatched types"},
		{Expr(`NoSuchField == 1`), "expr", 1, 1, "unknown name"},
		{Expr(`len(Text)`), "expr", 0, 0, "bool"},
		{Command("w {city"), "command", 1, 3, "not closed"},
		{Command("w {days:integer}"), "command", 1, 9, "unknown parameter type"},
		{Command("w {a...} {b}"), "command", 1, 10, "after the rest"},
		{Command("w {a?} {b}"), "command", 1, 8, "required parameter b after an optional"},
		{Command("w {a} {a}"), "command", 1, 8, "duplicate parameter"},
		{Command("w ---x"), "command", 1, 3, "invalid option"},
		{Command(""), "command", 1, 1, "empty"},
		{Prefix(""), "prefix", 0, 0, "empty prefix"},
		{Keyword(), "keyword", 0, 0, "no keyword"},
	}
	for _, tt := range tests {
		r := New()
		err := r.OnFunc(tt.m, func(*bot.Context) error { return nil })
		var pe *PatternError
		if !errors.As(err, &pe) || !errors.Is(err, ErrInvalidPattern) {
			t.Errorf("%s: err %v", tt.m, err)
			continue
		}
		if pe.Kind != tt.kind || (tt.line != 0 && (pe.Line != tt.line || pe.Column != tt.col)) || !strings.Contains(pe.Error(), tt.msgContain) {
			t.Errorf("%s: got kind %s at %d:%d %q; want %s at %d:%d containing %q", tt.m, pe.Kind, pe.Line, pe.Column, pe.Error(), tt.kind, tt.line, tt.col, tt.msgContain)
		}
		if !strings.Contains(pe.Error(), "matcher_test.go:") || pe.Route.Line == 0 {
			t.Errorf("%s: error %q lacks the registration site", tt.m, pe.Error())
		}
		if r.Err() == nil || len(r.Routes()) != 0 {
			t.Errorf("%s: invalid route registered or error not kept", tt.m)
		}
	}
	r := New()
	err := r.On(Regex("("), bot.HandlerFunc(func(*bot.Context) error { return nil }), At(Location{File: "rules.yaml", Line: 7, Column: 3}))
	if err == nil || !strings.HasPrefix(err.Error(), "router: rules.yaml:7:3: invalid regex") {
		t.Errorf("At location: %v", err)
	}
	if err := r.On(Any(), nil); !errors.Is(err, ErrNilHandler) {
		t.Errorf("nil handler: %v", err)
	}
	if err := New(WithCommandPrefixes("a b")).Err(); !errors.Is(err, ErrInvalidPattern) {
		t.Errorf("prefix with space: %v", err)
	}
}
