package autoreply_test

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openimbot/openimbot/bot"
	"github.com/openimbot/openimbot/bot/bottest"
	"github.com/openimbot/openimbot/config"
	"github.com/openimbot/openimbot/content"
	"github.com/openimbot/openimbot/plugins"
	"github.com/openimbot/openimbot/plugins/autoreply"
	"github.com/openimbot/openimbot/router"
)

// build loads rules from src and sets the plugin up on a new router.
func build(t testing.TB, src string, opts ...autoreply.Option) (*router.Router, error) {
	t.Helper()
	cfg, err := config.Parse("rules.yaml", []byte(src), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	pc, ok := cfg.Plugins.Lookup(autoreply.Name)
	if !ok {
		pc = config.PluginConfig{Name: autoreply.Name}
	}
	r := router.New()
	err = plugins.Setup(r, nil, config.Plugins{pc}, []plugins.Plugin{autoreply.New(cfg.Rules, opts...)}, nil)
	return r, err
}

func start(t *testing.T, src string, opts ...autoreply.Option) *bottest.Harness {
	t.Helper()
	r, err := build(t, src, opts...)
	if err != nil {
		t.Fatalf("setup: %v", err)
	}
	return bottest.Start(t, r, bottest.WithBotOptions(
		bot.WithRateLimit(1000, 1000), // these tests send many replies to one user quickly
		bot.WithOnError(func(err error) { t.Logf("bot error: %v", err) })))
}

const matchRules = `
rules:
  - name: ping
    full: ping
    reply: pong
  - name: greet
    keyword: [hello, hi there]
    reply: "Hello, {{.Sender}}!"
  - name: prefix
    prefix: "say:"
    reply: 'you said {{trim (replace .Text "say:" "")}}'
  - name: suffix
    suffix: "?!"
    reply: calm down
  - name: regex
    regex: '^add (?P<a>\d+) and (?P<b>\d+)$'
    reply: "a={{.a}} b={{.b}} all={{index .Match 0}}"
  - name: command
    command: /weather {city}
    description: tell the weather
    reply: "weather in {{.city}}: sunny"
  - name: expr
    expr: 'Text startsWith "len:" && len(Text) > 8'
    reply: long len
  - name: picture
    content: picture
    reply: nice picture
  - name: group-only
    full: where
    chat: group
    reply: "in group {{.GroupID}}"
  - name: single-only
    full: where
    chat: single
    reply: in private
  - name: vip
    full: vip
    users: [carol]
    reply: hi vip
  - name: one group
    full: g-only
    groups: [g2]
    reply: g2 only
  - name: mention
    keyword: status
    mentioned: true
    reply: all good
  - name: md
    full: md
    markdown: "**bold** {{.SenderID}}"
  - name: quote
    full: quote me
    reply: quoted
    quote: true
  - name: at
    full: at me
    reply: hey
    at_sender: true
  - name: empty
    full: silent
    reply: "{{if .IsGroup}}group{{end}}"
`

// TestMatchAndReply covers every condition and reply kind against a real
// sandbox. "No reply" is checked by a following ping: replies of one
// conversation arrive in order, so the next reply must be its pong.
func TestMatchAndReply(t *testing.T) {
	h := start(t, matchRules)
	reply := func(t *testing.T, user, text, want string) content.Message {
		t.Helper()
		h.Say(user, text)
		m := h.NextReply()
		if got := m.Text(); got != want {
			t.Fatalf("%q: reply %q, want %q", text, got, want)
		}
		return m
	}
	groupReply := func(t *testing.T, group, user, text, want string) content.Message {
		t.Helper()
		h.SayInGroup(group, user, text)
		m := h.NextReply()
		if got := m.Text(); got != want {
			t.Fatalf("%q in %s: reply %q, want %q", text, group, got, want)
		}
		if m.GroupID != group {
			t.Fatalf("reply went to %+v, want group %s", m, group)
		}
		return m
	}
	noReply := func(t *testing.T, user, text string) {
		t.Helper()
		h.Say(user, text)
		reply(t, user, "ping", "pong")
	}

	t.Run("full", func(t *testing.T) { reply(t, "alice", "PING", "pong") })
	t.Run("keyword", func(t *testing.T) {
		reply(t, "alice", "well, Hello everyone", "Hello, alice!")
		reply(t, "alice", "oh hi there", "Hello, alice!")
		noReply(t, "alice", "hi here")
	})
	t.Run("prefix", func(t *testing.T) {
		reply(t, "alice", "say: cheese", "you said cheese")
		noReply(t, "alice", "I say: no")
	})
	t.Run("suffix", func(t *testing.T) { reply(t, "alice", "what?!", "calm down") })
	t.Run("regex captures", func(t *testing.T) {
		reply(t, "alice", "add 2 and 40", "a=2 b=40 all=add 2 and 40")
		noReply(t, "alice", "add two and 40")
	})
	t.Run("command", func(t *testing.T) {
		reply(t, "alice", "/weather Paris", "weather in Paris: sunny")
		noReply(t, "alice", "weather Paris")
	})
	t.Run("expr", func(t *testing.T) {
		reply(t, "alice", "len: abcdef", "long len")
		noReply(t, "alice", "len: ab")
	})
	t.Run("content type", func(t *testing.T) {
		m, err := content.NewMessage(content.PictureByURL("http://example.com/a.png", 10, 10))
		if err != nil {
			t.Fatal(err)
		}
		m.SendID, m.RecvID, m.SessionType = "alice", h.BotID(), content.SingleChat
		if _, err := h.Sandbox().Inject(*m); err != nil {
			t.Fatal(err)
		}
		if got := h.NextReplyText(); got != "nice picture" {
			t.Fatalf("picture: reply %q", got)
		}
	})
	t.Run("chat single and group", func(t *testing.T) {
		reply(t, "alice", "where", "in private")
		groupReply(t, "g1", "alice", "where", "in group g1")
	})
	t.Run("users", func(t *testing.T) {
		reply(t, "carol", "vip", "hi vip")
		noReply(t, "alice", "vip")
	})
	t.Run("groups", func(t *testing.T) {
		groupReply(t, "g2", "alice", "g-only", "g2 only")
		h.SayInGroup("g1", "alice", "g-only")
		groupReply(t, "g1", "alice", "ping", "pong")
	})
	t.Run("mentioned", func(t *testing.T) {
		h.SayInGroup("g1", "alice", "status")
		groupReply(t, "g1", "alice", "ping", "pong")
		at, err := content.NewMessage(content.NewAtText("@"+h.BotID()+" status?", h.BotID()))
		if err != nil {
			t.Fatal(err)
		}
		at.SendID, at.GroupID, at.SessionType = "alice", "g1", content.ReadGroupChat
		if _, err := h.Sandbox().Inject(*at); err != nil {
			t.Fatal(err)
		}
		if got := h.NextReplyText(); got != "all good" {
			t.Fatalf("mention: reply %q", got)
		}
	})
	t.Run("markdown", func(t *testing.T) {
		m := reply(t, "alice", "md", "**bold** alice")
		if m.ContentType != content.TypeMarkdown {
			t.Fatalf("markdown reply has content type %v", m.ContentType)
		}
	})
	t.Run("quote", func(t *testing.T) {
		m := reply(t, "alice", "quote me", "quoted")
		q, ok := m.Elem.(*content.Quote)
		if m.ContentType != content.TypeQuote || !ok || q.QuoteMessage == nil || q.QuoteMessage.SendID != "alice" || q.QuoteMessage.ContentType != content.TypeText || q.QuoteMessage.ClientMsgID == "" {
			t.Fatalf("quote reply: %v %#v", m.ContentType, m.Elem)
		}
	})
	t.Run("at sender", func(t *testing.T) {
		m := groupReply(t, "g1", "alice", "at me", "@alice hey")
		if m.ContentType != content.TypeAtText || !m.Mentions("alice") {
			t.Fatalf("at reply: %v %v", m.ContentType, m.AtUserIDList)
		}
		// In a single chat there is nobody to mention: a plain reply.
		if m := reply(t, "alice", "at me", "hey"); m.ContentType != content.TypeText {
			t.Fatalf("single at reply: %v", m.ContentType)
		}
	})
	t.Run("empty template sends nothing", func(t *testing.T) {
		noReply(t, "alice", "silent")
		groupReply(t, "g1", "alice", "silent", "group")
	})
}

func TestPriorityAndContinue(t *testing.T) {
	h := start(t, `
rules:
  - {name: low, keyword: order, reply: low, priority: 1}
  - {name: high, keyword: order, reply: high, priority: 10, continue: true}
  - {name: mid, keyword: order, reply: mid, priority: 5}
  - {name: ping, full: ping, reply: pong}
`)
	h.Say("alice", "order now")
	h.Say("alice", "ping")
	got := h.NextReplies(3)
	var texts []string
	for _, m := range got {
		texts = append(texts, m.Text())
	}
	if strings.Join(texts, ",") != "high,mid,pong" {
		t.Fatalf("replies %v, want high, mid (which blocks low), pong", texts)
	}
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestCooldown(t *testing.T) {
	clk := &clock{t: time.Unix(1_700_000_000, 0)}
	h := start(t, `
plugins:
  autoreply:
    cooldown: 10s
rules:
  - {name: cd, full: cd, reply: fresh, cooldown: 1m}
  - {name: fallback, full: cd, reply: cooling, priority: -1, cooldown: 0s}
  - {name: default, full: dflt, reply: dflt}
`, autoreply.WithClock(clk.now))
	say := func(user, text, want string) {
		t.Helper()
		h.Say(user, text)
		if got := h.NextReplyText(); got != want {
			t.Fatalf("%s: %q: reply %q, want %q", user, text, got, want)
		}
	}
	say("alice", "cd", "fresh")
	say("alice", "cd", "cooling") // in cooldown: the rule steps aside
	say("bob", "cd", "fresh")     // another conversation has its own cooldown
	clk.add(59 * time.Second)
	say("alice", "cd", "cooling")
	clk.add(2 * time.Second)
	say("alice", "cd", "fresh")
	// The plugin-wide default applies to rules without their own.
	say("alice", "dflt", "dflt")
	h.Say("alice", "dflt")
	say("alice", "cd", "cooling")
	clk.add(11 * time.Second)
	say("alice", "dflt", "dflt")
}

// TestMarkdownAsText: with markdown_as_text the reply of a markdown rule is
// a text message (clients on the v3.8 SDKs do not show type 118).
func TestMarkdownAsText(t *testing.T) {
	h := start(t, "plugins:\n  autoreply:\n    markdown_as_text: true\nrules:\n  - full: md\n    markdown: '**bold** {{.SenderID}}'\n")
	h.Say("alice", "md")
	m := h.NextReply()
	if m.ContentType != content.TypeText || m.Text() != "**bold** alice" {
		t.Fatalf("reply %v %q, want text \"**bold** alice\"", m.ContentType, m.Text())
	}
	node, err := config.ParseNode("s.yaml", []byte("markdown_as_text: true\n"), nil)
	if err != nil || !autoreply.MarkdownAsText(node) || autoreply.MarkdownAsText(config.Node{}) {
		t.Fatalf("MarkdownAsText: %v", err)
	}
}

// TestTemplateDryRunSparesMessageDependentErrors: a template that fails only
// on some messages (an index out of range) loads; it fails at reply time
// for those messages alone.
func TestTemplateDryRunSparesMessageDependentErrors(t *testing.T) {
	for _, src := range []string{"{{index .Args 0}}", "{{index .Match 1}}", "{{slice .Text 1}}", "{{.Message.Elem.Kind}}"} {
		yaml := "rules:\n  - command: /say {w?}\n    reply: '" + src + "'\n"
		if _, err := build(t, yaml); err != nil {
			t.Errorf("%s: %v", src, err)
		}
	}
}

// TestLoadErrors: every bad rule is an error at load, at its file:line:col.
func TestLoadErrors(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"template syntax", "rules:\n  - full: a\n    reply: 'hi {{.Sender'\n", `rules.yaml:3:12: rule "rule 1": template: rule 1:1: unclosed action`},
		{"template unknown key", "rules:\n  - full: a\n    reply: '{{.Nobody}}'\n", `rules.yaml:3:12: rule "rule 1": template: rule 1:1:2: executing "rule 1" at <.Nobody>: map has no entry for key "Nobody" (known keys: Args,`},
		{"template unknown func", "rules:\n  - full: a\n    markdown: '{{shout .Text}}'\n", `rules.yaml:3:15: rule "rule 1": template: rule 1:1: function "shout" not defined`},
		{"template bad field", "rules:\n  - full: a\n    reply: '{{.Message.Nope}}'\n", `rules.yaml:3:12: rule "rule 1": template: rule 1:1:10: executing "rule 1" at <.Message.Nope>: can't evaluate field Nope`},
		{"template call of a string", "rules:\n  - full: a\n    reply: '{{call .Sender}}'\n", `rules.yaml:3:12: rule "rule 1": template: rule 1:1:2: executing "rule 1" at <call .Sender>: error calling call: non-function .Sender of type string`},
		{"template wrong argument", "rules:\n  - full: a\n    reply: '{{upper .IsGroup}}'\n", `rules.yaml:3:12: rule "rule 1": template: rule 1:1:8: executing "rule 1" at <.IsGroup>: wrong type for value; expected string; got bool`},
		{"regex", "rules:\n  - name: r\n    regex: 'a(b'\n    reply: x\n", `rules.yaml:3:12: rule "r": invalid regex "a(b"`},
		{"expr", "rules:\n  - name: e\n    expr: 'Text ==== 1'\n    reply: x\n", `rules.yaml:3:11: rule "e": invalid expr "Text ==== 1" at 1:`},
		{"expr not bool", "rules:\n  - name: e\n    expr: 'len(Text)'\n    reply: x\n", `rules.yaml:3:11: rule "e": invalid expr`},
		{"command", "rules:\n  - name: c\n    command: 'go {x'\n    reply: x\n", `rules.yaml:3:14: rule "c": invalid command "go {x"`},
		{"content", "rules:\n  - name: c\n    content: [text, hologram]\n    reply: x\n", `rules.yaml:3:14: rule "c": unknown content type "hologram"`},
		{"quote and at", "rules:\n  - name: q\n    full: a\n    reply: x\n    quote: true\n    at_sender: true\n", `rules.yaml:6:16: rule "q": quote and at_sender cannot be combined`},
		{"markdown quote", "rules:\n  - name: q\n    full: a\n    markdown: x\n    quote: true\n", `rules.yaml:4:15: rule "q": a markdown reply cannot quote`},
		{"plugin settings", "plugins:\n  autoreply:\n    case_sensitiv: true\nrules: []\n", `rules.yaml:3:5: unknown key "case_sensitiv"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := build(t, tt.yaml)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q\ndoes not contain %q", err, tt.want)
			}
			var ce *config.Error
			if !errors.As(err, &ce) || !ce.Pos.IsValid() {
				t.Fatalf("error %q has no position", err)
			}
		})
	}
	// Several bad rules: all reported.
	_, err := build(t, "rules:\n  - {regex: '(', reply: x}\n  - {full: a, reply: '{{'}\n")
	var es config.Errors
	if !errors.As(err, &es) || len(es) != 2 {
		t.Fatalf("want 2 errors, got %v", err)
	}
}

func TestCaseSensitive(t *testing.T) {
	h := start(t, `
plugins:
  autoreply: {case_sensitive: true}
rules:
  - {full: Hi, reply: exact}
  - {full: ping, reply: pong}
`)
	h.Say("alice", "hi")
	h.Say("alice", "Hi")
	if got := h.NextReplyText(); got != "exact" {
		t.Fatalf("reply %q", got)
	}
	h.Say("alice", "ping")
	if got := h.NextReplyText(); got != "pong" {
		t.Fatalf("reply %q", got)
	}
}

// TestRoutesCarrySource: check and help see rules at their YAML position,
// and a rule shadowed by another is reported there.
func TestRoutesCarrySource(t *testing.T) {
	r, err := build(t, "rules:\n  - {name: a, keyword: hi, reply: x}\n  - {name: b, full: hi there, reply: y}\n  - {name: c, command: /w, description: weather, reply: z}\n")
	if err != nil {
		t.Fatal(err)
	}
	var srcs []string
	for _, ri := range r.Routes() {
		srcs = append(srcs, ri.Name+"@"+ri.Source.String())
	}
	got := strings.Join(srcs, " ")
	for _, want := range []string{"a@rules.yaml:2:5", "b@rules.yaml:3:5", "c@rules.yaml:4:5"} {
		if !strings.Contains(got, want) {
			t.Errorf("routes %s: missing %s", got, want)
		}
	}
}
