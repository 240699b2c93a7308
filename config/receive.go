package config

import (
	"net"
	"strings"
	"time"
)

// Receive modes (openim.receive).
const (
	ReceiveGateway = "gateway"
	ReceivePoll    = "poll"
	ReceiveWebhook = "webhook"
)

// Poll configures poll mode (openim.poll).
type Poll struct {
	// Interval is the time between polls while messages arrive; default
	// 1s. A poll that found messages is followed by another at once.
	Interval time.Duration `yaml:"interval"`
	// MaxInterval bounds the back-off after 10 idle polls; default 10s.
	MaxInterval time.Duration `yaml:"max_interval"`
}

// Webhook configures webhook mode: where the bot serves OpenIM's
// afterSendSingleMsg and afterSendGroupMsg callbacks.
type Webhook struct {
	// Listen is the TCP address of the callback listener; default
	// 127.0.0.1:10006 (loopback: exposing it is a decision).
	Listen string `yaml:"listen"`
	// Path is the base path the server posts under (the path of the url in
	// OpenIM's webhooks.yml); default /callbackExample.
	Path string `yaml:"path"`
	// Reconcile is the period of the full sync by seq that recovers
	// callbacks the server dropped; default 30s.
	Reconcile time.Duration `yaml:"reconcile"`
}

// Receive defaults.
const (
	DefaultPollInterval     = time.Second
	DefaultPollMaxInterval  = 10 * time.Second
	DefaultWebhookListen    = "127.0.0.1:10006"
	DefaultWebhookPath      = "/callbackExample"
	DefaultWebhookReconcile = 30 * time.Second
	DefaultFallbackAfter    = 3
	DefaultFallbackRetry    = 30 * time.Second
)

// validateReceive checks the receive mode and the combinations that cannot
// work. Errors are placed at the key that chose the mode.
func (c *Config) validateReceive(bad func(path, format string, args ...any)) {
	o := &c.OpenIM
	mode := o.Receive
	switch mode {
	case ReceiveGateway, ReceivePoll, ReceiveWebhook:
	default:
		bad("openim.receive", "want gateway, poll or webhook, got %q", short(mode))
		return
	}
	switch o.Fallback {
	case "none", ReceivePoll:
	default:
		bad("openim.fallback", "want none or poll, got %q", short(o.Fallback))
	}
	if o.FallbackAfter <= 0 {
		bad("openim.fallback_after", "must be at least 1, got %d", o.FallbackAfter)
	}
	if o.FallbackRetry <= 0 {
		bad("openim.fallback_retry", "must be positive, got %v", o.FallbackRetry)
	}
	if o.Poll.Interval <= 0 {
		bad("openim.poll.interval", "must be positive, got %v", o.Poll.Interval)
	}
	if o.Poll.MaxInterval <= 0 {
		bad("openim.poll.max_interval", "must be positive, got %v", o.Poll.MaxInterval)
	} else if o.Poll.MaxInterval < o.Poll.Interval {
		bad("openim.poll.max_interval", "must not be below openim.poll.interval (%v), got %v", o.Poll.Interval, o.Poll.MaxInterval)
	}
	w := &c.Webhook
	if w.Reconcile <= 0 {
		bad("webhook.reconcile", "must be positive, got %v", w.Reconcile)
	}
	if !strings.HasPrefix(w.Path, "/") {
		bad("webhook.path", "must start with /, got %q", short(w.Path))
	}
	if w.Listen != "" {
		if _, _, err := net.SplitHostPort(w.Listen); err != nil {
			bad("webhook.listen", "want host:port, got %q", short(w.Listen))
		}
	}
	embedded := o.Embedded() // the embedded sandbox gives the bot its secret
	switch mode {
	case ReceivePoll, ReceiveWebhook:
		if !embedded && o.AdminSecret == "" {
			bad("openim.receive", "%s mode sends through /msg/send_msg, which only an admin may call: set openim.admin_secret", mode)
		}
		if !embedded && o.APIAddr == "" {
			bad("openim.receive", "%s mode receives through the HTTP API: set openim.api_addr", mode)
		}
		if o.Fallback == ReceivePoll {
			bad("openim.fallback", "falls back from the gateway to polling; openim.receive is %s", mode)
		}
	}
	if mode == ReceiveWebhook && w.Listen == "" {
		bad("openim.receive", "webhook mode needs webhook.listen, the address OpenIM posts its callbacks to")
	}
	if o.Fallback == ReceivePoll && !embedded && o.AdminSecret == "" {
		bad("openim.fallback", "polling sends through /msg/send_msg, which only an admin may call: set openim.admin_secret")
	}
}
