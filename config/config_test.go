package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) LookupFunc {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestDefaults(t *testing.T) {
	cfg, err := Parse("empty.yaml", nil, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.File = "empty.yaml"
	if cfg.OpenIM != want.OpenIM || cfg.Log != want.Log || cfg.Console != want.Console || cfg.Sync != want.Sync || cfg.Send != want.Send || cfg.Storage != want.Storage {
		t.Fatalf("got %+v, want %+v", cfg, want)
	}
	if !cfg.OpenIM.Embedded() || cfg.OpenIM.UserID != "bot" || cfg.OpenIM.PlatformID != 7 || cfg.OpenIM.AdminUserID != "imAdmin" || cfg.Console.User != "alice" {
		t.Fatalf("defaults: %+v", cfg)
	}
	// A comment-only file is empty too.
	if _, err := Parse("c.yaml", []byte("# nothing\n"), env(nil)); err != nil {
		t.Fatal(err)
	}
}

const full = `openim:
  ws_addr: ws://127.0.0.1:10001
  api_addr: 127.0.0.1:10002
  user_id: bot1
  token: ${TOKEN}
  admin_secret: ${SECRET:-openIM123}
  admin_user_id: root
  platform_id: ${PID:-3}
  compression: gzip
storage:
  path: /tmp/x.db
sync:
  backlog: last:20
log:
  level: debug
  format: json
console:
  user: bob
plugins:
  echo:
  ratelimit:
    rate: 5
    per: 1m
rules:
  - name: greet
    keyword: [hi, hello]
    reply: "Hello, {{.Sender}}!"
    cooldown: 30s
    priority: 5
  - regex: '^(?P<n>\d+)$'
    markdown: "**{{.n}}**"
    quote: true
    at_sender: true
    continue: true
    chat: group
    content: text
`

func TestFull(t *testing.T) {
	cfg, err := Parse("full.yaml", []byte(full), env(map[string]string{"TOKEN": "tok", "PID": ""}))
	if err != nil {
		t.Fatal(err)
	}
	o := cfg.OpenIM
	if o.Token != "tok" || o.AdminSecret != "openIM123" || o.PlatformID != 3 || o.Compression != "gzip" || o.AdminUserID != "root" || o.Embedded() {
		t.Fatalf("openim: %+v", o)
	}
	if cfg.Sync.Backlog != (Backlog{Mode: BacklogLast, N: 20}) || cfg.Sync.Backlog.String() != "last:20" {
		t.Fatalf("backlog: %+v", cfg.Sync.Backlog)
	}
	if cfg.Log.SlogLevel().String() != "DEBUG" || cfg.Log.Format != "json" || cfg.Console.User != "bob" || cfg.Storage.Path != "/tmp/x.db" {
		t.Fatalf("log/console/storage: %+v %+v %+v", cfg.Log, cfg.Console, cfg.Storage)
	}
	if len(cfg.Plugins) != 2 || cfg.Plugins[0].Name != "echo" || !cfg.Plugins[0].Config.IsZero() || cfg.Plugins[1].Name != "ratelimit" {
		t.Fatalf("plugins: %+v", cfg.Plugins)
	}
	var rl struct {
		Rate  int           `yaml:"rate"`
		Per   time.Duration `yaml:"per"`
		Burst int           `yaml:"burst"`
	}
	rl.Burst = 9
	if err := cfg.Plugins[1].Config.Decode(&rl); err != nil {
		t.Fatal(err)
	}
	if rl.Rate != 5 || rl.Per != time.Minute || rl.Burst != 9 {
		t.Fatalf("ratelimit: %+v", rl)
	}
	if got := cfg.Plugins[1].Config.Pos().String(); got != "full.yaml:22:5" {
		t.Fatalf("plugin pos %s", got)
	}
	if len(cfg.Rules) != 2 {
		t.Fatalf("rules: %+v", cfg.Rules)
	}
	r0, r1 := cfg.Rules[0], cfg.Rules[1]
	if r0.Name != "greet" || len(r0.Keyword) != 2 || r0.Cooldown != 30*time.Second || r0.Priority != 5 || r0.Pos.String() != "full.yaml:25:5" {
		t.Fatalf("rule 0: %+v", r0)
	}
	if r0.PosOf("reply").String() != "full.yaml:27:12" || !r0.Has("keyword") || r0.Has("regex") {
		t.Fatalf("rule 0 positions: %v", r0.keys)
	}
	if r1.Name != "rule 2" || r1.Regex != `^(?P<n>\d+)$` || !r1.Quote || !r1.AtSender || !r1.Continue || r1.Chat != "group" || len(r1.Content) != 1 || r1.Content[0] != "text" {
		t.Fatalf("rule 1: %+v", r1)
	}
	if got := cfg.PosOf("rules.1.regex").String(); got != "full.yaml:30:12" {
		t.Fatalf("PosOf rules.1.regex = %s", got)
	}
	if got := cfg.PosOf("openim.platform_id").String(); got != "full.yaml:8:16" {
		t.Fatalf("PosOf platform_id = %s", got)
	}
	if got := cfg.PosOf("openim.nickname").String(); got != "full.yaml" {
		t.Fatalf("PosOf unset = %s", got)
	}
}

func TestPluginsList(t *testing.T) {
	cfg, err := Parse("p.yaml", []byte("plugins:\n  - echo\n  - help: {command: /h}\n"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Plugins) != 2 || cfg.Plugins[0].Name != "echo" || cfg.Plugins[1].Name != "help" || cfg.Plugins[1].Pos.String() != "p.yaml:3:5" {
		t.Fatalf("%+v", cfg.Plugins)
	}
	if _, ok := cfg.Plugins.Lookup("help"); !ok {
		t.Fatal("Lookup help")
	}
	var h struct{ Command string }
	if err := cfg.Plugins[1].Config.Decode(&h); err != nil || h.Command != "/h" {
		t.Fatalf("%v %+v", err, h)
	}
}

// TestErrors checks every kind of error and its exact position.
func TestErrors(t *testing.T) {
	tests := []struct {
		name, yaml string
		env        map[string]string
		kind       error
		want       string // substring of the message, with the position
	}{
		{"syntax", "openim:\n  user_id: [a\n", nil, ErrSyntax, "f.yaml:2:12: did not find expected ',' or ']'"},
		{"syntax indent", "openim:\n  user_id: a\n    b: c\n", nil, ErrSyntax, "f.yaml:3:6: mapping values are not allowed"},
		{"tab syntax", "openim:\n\tuser_id: a\n", nil, ErrSyntax, "f.yaml:2"},
		{"two documents", "log: {}\n---\nlog: {}\n", nil, ErrSyntax, "more than one YAML document"},
		{"top not mapping", "- a\n", nil, ErrType, "f.yaml:1:1: expected a mapping at the top"},
		{"unknown top key", "openim: {}\nbogus: 1\n", nil, ErrUnknownKey, `f.yaml:2:1: unknown key "bogus"`},
		{"unknown nested key", "openim:\n  user_id: a\n  usr: b\n", nil, ErrUnknownKey, `f.yaml:3:3: unknown key "usr" (known keys: admin_secret, admin_user_id, api_addr`},
		{"unknown rule key", "rules:\n  - keyword: hi\n    reply: x\n    replly: y\n", nil, ErrUnknownKey, `f.yaml:4:5: unknown key "replly"`},
		{"duplicate key", "log:\n  level: info\n  level: debug\n", nil, ErrSyntax, `f.yaml:3:3: duplicate key "level" (first at line 2)`},
		{"merge key", "a: &a {level: info}\nlog:\n  <<: *a\n", nil, ErrUnknownKey, `f.yaml:1:1: unknown key "a"`},
		{"string got mapping", "openim:\n  user_id: {a: 1}\n", nil, ErrType, "f.yaml:2:12: expected a string, got a mapping"},
		{"int got word", "openim:\n  platform_id: seven\n", nil, ErrType, `f.yaml:2:16: expected an integer, got "seven"`},
		{"int got list", "openim:\n  platform_id: [7]\n", nil, ErrType, "f.yaml:2:16: expected an integer, got a list"},
		{"int out of range", "rules:\n  - reply: x\n    priority: 99999999999999999999\n", nil, ErrValue, `f.yaml:3:15: "99999999999999999999" is out of range`},
		{"bool", "rules:\n  - reply: x\n    quote: maybe\n", nil, ErrType, `f.yaml:3:12: expected true or false, got "maybe"`},
		{"duration", "rules:\n  - reply: x\n    cooldown: 10\n", nil, ErrType, `f.yaml:3:15: expected a duration such as 30s`},
		{"negative duration", "rules:\n  - reply: x\n    cooldown: -1s\n", nil, ErrValue, `f.yaml:3:15: duration "-1s" is negative`},
		{"list got mapping", "rules:\n  - reply: x\n    keyword: {a: b}\n", nil, ErrType, "f.yaml:3:14: expected a list, got a mapping"},
		{"rules not list", "rules: {a: b}\n", nil, ErrType, "f.yaml:1:8: expected a list, got a mapping"},
		{"rule null", "rules:\n  -\n", nil, ErrType, "expected a rule"},
		{"plugins scalar", "plugins: echo\n", nil, ErrType, "f.yaml:1:10: plugins: expected a mapping"},
		{"plugin twice", "plugins: [echo, echo]\n", nil, ErrSyntax, `f.yaml:1:17: plugin "echo" is listed twice`},
		{"platform range", "openim:\n  platform_id: 12\n", nil, ErrValue, "f.yaml:2:16: openim.platform_id: must be an OpenIM platform ID from 1 to 11"},
		{"platform zero", "openim:\n  platform_id: 0\n", nil, ErrValue, "f.yaml:2:16: openim.platform_id"},
		{"compression", "openim:\n  compression: zstd\n", nil, ErrValue, `f.yaml:2:16: openim.compression: want none or gzip, got "zstd"`},
		{"backlog", "sync:\n  backlog: last:0\n", nil, ErrValue, `f.yaml:2:12: sync.backlog: want skip, all or last:N`},
		{"backlog word", "sync:\n  backlog: some\n", nil, ErrValue, `f.yaml:2:12: sync.backlog`},
		{"log level", "log:\n  level: loud\n", nil, ErrValue, `f.yaml:2:10: log.level: want debug, info, warn or error, got "loud"`},
		{"send rate", "send:\n  rate: -1\n", nil, ErrValue, "f.yaml:2:9: send.rate: must not be negative"},
		{"send burst", "send:\n  burst: 0\n", nil, ErrValue, "f.yaml:2:10: send.burst: must be at least 1"},
		{"log format", "log:\n  format: xml\n", nil, ErrValue, `f.yaml:2:11: log.format: want text or json`},
		{"console same as bot", "console:\n  user: bot\n", nil, ErrValue, "f.yaml:2:9: console.user: must differ"},
		{"empty user", "openim:\n  user_id: ''\n", nil, ErrValue, "f.yaml:2:12: openim.user_id: must not be empty"},
		{"api without ws", "openim:\n  api_addr: http://h:1\n", nil, ErrValue, "f.yaml:2:13: openim.api_addr: openim.ws_addr must be set too"},
		{"no credentials", "openim:\n  ws_addr: ws://h:1\n", nil, ErrValue, "f.yaml:2:12: openim.ws_addr: a real server needs openim.token or openim.admin_secret"},
		{"secret without api", "openim:\n  ws_addr: ws://h:1\n  admin_secret: s\n", nil, ErrValue, "f.yaml:3:17: openim.admin_secret: getting a token"},
		{"bad ws scheme", "openim:\n  ws_addr: http://h:1\n  token: t\n", nil, ErrValue, `f.yaml:2:12: openim.ws_addr: scheme must be ws or wss`},
		{"rule without reply", "rules:\n  - keyword: hi\n", nil, ErrValue, `f.yaml:2:5: rule "rule 1": needs a reply or a markdown template`},
		{"rule two replies", "rules:\n  - keyword: hi\n    reply: a\n    markdown: b\n", nil, ErrValue, `f.yaml:4:15: rule "rule 1": set reply or markdown, not both`},
		{"rule chat", "rules:\n  - reply: a\n    chat: room\n", nil, ErrValue, `f.yaml:3:11: rule "rule 1": chat: want single, group or any`},
		{"rule empty keyword", "rules:\n  - reply: a\n    keyword: ['']\n", nil, ErrValue, `f.yaml:3:14: rule "rule 1": keyword: empty item`},
		{"env unset", "openim:\n  ws_addr: ws://h:1\n  token: ${OPENIM_TOKEN}\n", nil, ErrEnv, "f.yaml:3:10: environment variable OPENIM_TOKEN is not set"},
		{"env unterminated", "openim:\n  token: ${OPENIM_TOKEN\n", nil, ErrEnv, "f.yaml:2:10: unterminated ${"},
		{"env bad name", "openim:\n  token: ${1X}\n", nil, ErrEnv, "f.yaml:2:10: invalid environment variable reference ${1X}"},
		{"env value hidden in validation", "openim:\n  compression: ${PID}\n", map[string]string{"PID": "hunter2"}, ErrValue, "f.yaml:2:16: openim.compression: want none or gzip, got a value from the environment"},
		{"env value hidden", "openim:\n  platform_id: ${PID}\n", map[string]string{"PID": "hunter2"}, ErrType, "f.yaml:2:16: expected an integer, got a value from the environment"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("f.yaml", []byte(tt.yaml), env(tt.env))
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, tt.kind) {
				t.Errorf("error %q is not %v", err, tt.kind)
			}
			var ce *Error
			if !errors.As(err, &ce) {
				t.Errorf("error %q is not a *Error", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q shows an environment value", err)
			}
		})
	}
}

func TestManyErrors(t *testing.T) {
	_, err := Parse("f.yaml", []byte("a: 1\nb: 2\nlog:\n  c: 3\n"), env(nil))
	var es Errors
	if !errors.As(err, &es) || len(es) != 3 {
		t.Fatalf("want 3 errors, got %v", err)
	}
	if es[0].Pos.Line != 1 || es[1].Pos.Line != 2 || es[2].Pos.Line != 4 {
		t.Fatalf("positions: %v", err)
	}
}

func TestEnvExpansion(t *testing.T) {
	e := env(map[string]string{"A": "x", "EMPTY": ""})
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"${A}", "x"},
		{"pre-${A}-post", "pre-x-post"},
		{"${EMPTY}", ""},
		{"${EMPTY:-d}", "d"},
		{"${UNSET:-d e}", "d e"},
		{"${UNSET:-}", ""},
		{"$${A}", "${A}"},
		{"^hi$", "^hi$"},
		{"$A", "$A"},
		{"${A}${A}", "xx"},
	}
	for _, tt := range tests {
		got, _, err := expand(tt.in, e)
		if err != nil || got != tt.want {
			t.Errorf("expand(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestNodeDecode(t *testing.T) {
	cfg, err := Parse("n.yaml", []byte("plugins:\n  x:\n    a: 1\n    b: [1, two]\n    c: {d: true}\n    sub: {e: 1}\n"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	n := cfg.Plugins[0].Config
	var strict struct{ A int }
	err = n.Decode(&strict)
	if !errors.Is(err, ErrUnknownKey) || !strings.Contains(err.Error(), `n.yaml:4:5: unknown key "b"`) {
		t.Fatalf("strict decode: %v", err)
	}
	var loose struct {
		A   int
		B   []any
		C   map[string]any
		Sub Node
	}
	if err := n.Decode(&loose); err != nil {
		t.Fatal(err)
	}
	if loose.A != 1 || len(loose.B) != 2 || loose.B[1] != "two" || loose.B[0] != 1 || loose.C["d"] != true {
		t.Fatalf("%+v", loose)
	}
	if loose.Sub.Pos().String() != "n.yaml:6:10" {
		t.Fatalf("sub pos %s", loose.Sub.Pos())
	}
	if err := n.Decode(loose); err == nil {
		t.Fatal("Decode into a non-pointer: no error")
	}
	var zero Node
	if err := zero.Decode(&loose); err != nil || !zero.IsZero() {
		t.Fatal(err)
	}
	if e := loose.Sub.Errorf("bad %d", 1); !errors.Is(e, ErrValue) || !strings.Contains(e.Error(), "n.yaml:6:10: bad 1") {
		t.Fatal(e)
	}
}

func TestAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 9; i++ {
		b.WriteString("a" + string(rune('0'+i)) + ": &a" + string(rune('0'+i)) + " [")
		for j := range 10 {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*a" + string(rune('0'+i-1)))
		}
		b.WriteString("]\n")
	}
	b.WriteString("plugins:\n  x: *a8\n")
	cfg, err := Parse("bomb.yaml", []byte(b.String()), env(nil))
	if err == nil {
		var v any
		err = cfg.Plugins[0].Config.Decode(&v)
	}
	if err == nil {
		t.Fatal("alias bomb decoded without error")
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(p, []byte("console:\n  user: carol\n  extra: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(p)
	if err == nil || !strings.Contains(err.Error(), p+":3:3: unknown key \"extra\"") {
		t.Fatalf("Load: %v", err)
	}
	if _, err := Load(filepath.Join(dir, "missing.yaml")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Load missing: %v", err)
	}
}

func TestURL(t *testing.T) {
	if URL("h:1", "ws") != "ws://h:1" || URL("wss://h", "ws") != "wss://h" || URL("", "ws") != "" {
		t.Fatal("URL")
	}
}
