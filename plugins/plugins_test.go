package plugins_test

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openimbot/openimbot/bot"
	"github.com/openimbot/openimbot/bot/bottest"
	"github.com/openimbot/openimbot/config"
	"github.com/openimbot/openimbot/plugins"
	"github.com/openimbot/openimbot/plugins/autoreply"
	"github.com/openimbot/openimbot/plugins/echo"
	"github.com/openimbot/openimbot/plugins/help"
	"github.com/openimbot/openimbot/plugins/ratelimit"
	"github.com/openimbot/openimbot/router"
	"github.com/openimbot/openimbot/storage"
)

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

func setup(t *testing.T, src string, clk *clock) (*router.Router, error) {
	t.Helper()
	cfg, err := config.Parse("bot.yaml", []byte(src), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	r := router.New()
	available := []plugins.Plugin{autoreply.New(cfg.Rules), echo.New(), help.New(), ratelimit.New(ratelimit.WithClock(clk.now))}
	return r, plugins.Setup(r, nil, cfg.Plugins, available, nil)
}

func start(t *testing.T, src string, clk *clock) *bottest.Harness {
	t.Helper()
	r, err := setup(t, src, clk)
	if err != nil {
		t.Fatal(err)
	}
	return bottest.Start(t, r, bottest.WithBotOptions(bot.WithRateLimit(1000, 1000)))
}

func TestEchoAndHelp(t *testing.T) {
	h := start(t, `
plugins:
  echo:
  help: {header: "I know:", footer: "bye"}
  autoreply:
rules:
  - {command: "/weather {city}", description: tell the weather, reply: sunny}
`, &clock{})
	h.Say("alice", "/echo  hello   world ")
	if got := h.NextReplyText(); got != "hello   world" {
		t.Fatalf("echo: %q", got)
	}
	h.Say("alice", "/echo")
	if got := h.NextReplyText(); got != "usage: /echo TEXT" {
		t.Fatalf("echo usage: %q", got)
	}
	h.Say("alice", "/help")
	got := h.NextReplyText()
	for _, want := range []string{"I know:", "/echo - repeat the text", "/help - list the commands", "/weather {city} - tell the weather", "bye"} {
		if !strings.Contains(got, want) {
			t.Errorf("help text %q lacks %q", got, want)
		}
	}
}

func TestRateLimit(t *testing.T) {
	clk := &clock{t: time.Unix(1_700_000_000, 0)}
	h := start(t, `
plugins:
  ratelimit: {rate: 2, per: 1m, message: slow down}
  echo:
`, clk)
	for _, want := range []string{"1", "2"} {
		h.Say("alice", "/echo "+want)
		if got := h.NextReplyText(); got != want {
			t.Fatalf("reply %q, want %q", got, want)
		}
	}
	h.Say("alice", "/echo 3")       // limited: the message is replied once
	m4 := h.Say("alice", "/echo 4") // still limited: dropped silently
	if got := h.NextReplyText(); got != "slow down" {
		t.Fatalf("reply %q, want slow down", got)
	}
	waitHandled(t, h, m4.ConversationID, m4.Seq)
	h.Say("bob", "/echo b") // other senders have their own bucket
	if got := h.NextReplyText(); got != "b" {
		t.Fatalf("bob: reply %q", got)
	}
	clk.add(30 * time.Second) // one token back
	h.Say("alice", "/echo 5")
	if got := h.NextReplyText(); got != "5" {
		t.Fatalf("after refill: reply %q", got)
	}
}

// waitHandled waits until the bot has handled the message at seq.
func waitHandled(t *testing.T, h *bottest.Harness, conv string, seq int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if wm, _ := h.Bot().DB().Watermark(conv); wm >= seq {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("message %s/%d not handled", conv, seq)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestSetupErrors(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"unknown plugin", "plugins:\n  echo:\n  weather: {}\n", `bot.yaml:3:3: "weather" (available: autoreply, echo, help, ratelimit)`},
		{"echo key", "plugins:\n  echo: {cmd: x}\n", `bot.yaml:2:10: unknown key "cmd"`},
		{"echo command", "plugins:\n  echo: {command: 'a b'}\n", `bot.yaml:2:9: echo: command must be one word`},
		{"help type", "plugins:\n  help: {header: [a]}\n", `bot.yaml:2:18: expected a string, got a list`},
		{"ratelimit rate", "plugins:\n  ratelimit:\n    rate: 0\n", `bot.yaml:3:5: ratelimit: rate must be at least 1`},
		{"ratelimit scope", "plugins:\n  ratelimit: {scope: room}\n", `ratelimit: scope must be sender or conversation`},
		{"ratelimit per", "plugins:\n  ratelimit: {per: soon}\n", `bot.yaml:2:20: expected a duration`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := setup(t, tt.yaml, &clock{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
	_, err := setup(t, "plugins: [nope]\n", &clock{})
	if !errors.Is(err, plugins.ErrUnknown) {
		t.Fatalf("unknown plugin error %v is not ErrUnknown", err)
	}
}

type storePlugin struct{ got *plugins.Host }

func (storePlugin) Name() string { return "store" }
func (p storePlugin) Setup(h plugins.Host) error {
	*p.got = h
	return h.Store.Put("k", []byte("v"))
}

// TestHostStore: each plugin gets the namespace named after it.
func TestHostStore(t *testing.T) {
	db, err := storage.Open(t.TempDir()+"/s.db", storage.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var got plugins.Host
	cfg, err := config.Parse("s.yaml", []byte("plugins: [store]\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := plugins.Setup(router.New(), db, cfg.Plugins, []plugins.Plugin{storePlugin{&got}}, nil); err != nil {
		t.Fatal(err)
	}
	if got.Store.Name() != "store" || got.Logger == nil || !got.Config.IsZero() {
		t.Fatalf("host %+v", got)
	}
	v, ok, err := db.Namespace("store").Get("k")
	if err != nil || !ok || string(v) != "v" {
		t.Fatalf("namespace: %q %v %v", v, ok, err)
	}
}
