package config

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestReceiveDefaults(t *testing.T) {
	cfg, err := Parse("empty.yaml", nil, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	o, w := cfg.OpenIM, cfg.Webhook
	if o.Receive != "gateway" || o.Fallback != "none" || o.Poll.Interval != time.Second || o.Poll.MaxInterval != 10*time.Second ||
		o.FallbackAfter != 3 || o.FallbackRetry != 30*time.Second ||
		w.Listen != "127.0.0.1:10006" || w.Path != "/callbackExample" || w.Reconcile != 30*time.Second {
		t.Fatalf("%+v %+v", o, w)
	}
}

func TestReceiveModes(t *testing.T) {
	cfg, err := Parse("poll.yaml", []byte(`openim:
  api_addr: http://127.0.0.1:10002
  admin_secret: s
  receive: poll
  poll: {interval: 100ms, max_interval: 2s}
`), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.OpenIM.Receive != ReceivePoll || cfg.OpenIM.Poll.Interval != 100*time.Millisecond || cfg.OpenIM.Poll.MaxInterval != 2*time.Second {
		t.Fatalf("%+v", cfg.OpenIM)
	}
	cfg, err = Parse("webhook.yaml", []byte(`openim:
  api_addr: http://127.0.0.1:10002
  admin_secret: s
  receive: webhook
webhook: {listen: "0.0.0.0:9000", path: /cb, reconcile: 1m}
`), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Webhook.Listen != "0.0.0.0:9000" || cfg.Webhook.Path != "/cb" || cfg.Webhook.Reconcile != time.Minute {
		t.Fatalf("%+v", cfg.Webhook)
	}
}

func TestFallbackKeys(t *testing.T) {
	cfg, err := Parse("fb.yaml", []byte(`openim:
  ws_addr: ws://127.0.0.1:10001
  api_addr: http://127.0.0.1:10002
  admin_secret: s
  fallback: poll
  fallback_after: 5
  fallback_retry: 2m
`), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if o := cfg.OpenIM; o.Fallback != ReceivePoll || o.FallbackAfter != 5 || o.FallbackRetry != 2*time.Minute {
		t.Fatalf("%+v", o)
	}
	for _, c := range []struct{ yaml, want string }{
		{"openim:\n  fallback_retry: -1s\n", `f.yaml:2:19: duration "-1s" is negative`},
		{"openim:\n  fallback_after: often\n", `f.yaml:2:19: expected an integer, got "often"`},
	} {
		if _, err := Parse("f.yaml", []byte(c.yaml), env(nil)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got %v, want %q", c.yaml, err, c.want)
		}
	}
}

func TestReceiveImpossibleCombinations(t *testing.T) {
	for _, c := range []struct{ name, yaml, want string }{
		{"unknown mode", "openim:\n  receive: carrier-pigeon\n", "f.yaml:2:12: openim.receive: want gateway, poll or webhook"},
		{"poll without secret", "openim:\n  ws_addr: ws://h:1\n  api_addr: http://h:2\n  token: t\n  receive: poll\n",
			"f.yaml:5:12: openim.receive: poll mode sends through /msg/send_msg, which only an admin may call"},
		{"webhook without secret", "openim:\n  api_addr: http://h:2\n  token: t\n  receive: webhook\n",
			"f.yaml:4:12: openim.receive: webhook mode sends through /msg/send_msg"},
		{"webhook without listen", "openim:\n  receive: webhook\nwebhook:\n  listen: \"\"\n",
			"f.yaml:2:12: openim.receive: webhook mode needs webhook.listen"},
		{"fallback in poll mode", "openim:\n  receive: poll\n  fallback: poll\n", "f.yaml:3:13: openim.fallback: falls back from the gateway"},
		{"fallback without secret", "openim:\n  ws_addr: ws://h:1\n  token: t\n  fallback: poll\n", "f.yaml:4:13: openim.fallback: polling sends through"},
		{"bad fallback", "openim:\n  fallback: sometimes\n", "openim.fallback: want none or poll"},
		{"zero fallback_after", "openim:\n  fallback_after: 0\n", "f.yaml:2:19: openim.fallback_after: must be at least 1, got 0"},
		{"zero fallback_retry", "openim:\n  fallback_retry: 0s\n", "f.yaml:2:19: openim.fallback_retry: must be positive, got 0s"},
		{"max below interval", "openim:\n  poll:\n    interval: 5s\n    max_interval: 1s\n", "f.yaml:4:19: openim.poll.max_interval: must not be below"},
		{"zero interval", "openim:\n  poll:\n    interval: 0s\n", "openim.poll.interval: must be positive"},
		{"bad path", "webhook:\n  path: cb\n", "f.yaml:2:9: webhook.path: must start with /"},
		{"bad listen", "webhook:\n  listen: nowhere\n", "webhook.listen: want host:port"},
		{"zero reconcile", "webhook:\n  reconcile: 0s\n", "webhook.reconcile: must be positive"},
	} {
		_, err := Parse("f.yaml", []byte(c.yaml), env(nil))
		if err == nil || !errors.Is(err, ErrValue) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", c.name, err, c.want)
		}
	}
}
