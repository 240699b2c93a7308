package config

import (
	"net"
	"strings"
)

// Admin configures the admin HTTP listener: Prometheus metrics on
// /metrics, /healthz, /readyz and the web console.
type Admin struct {
	// Listen is the listener's host:port, or "off". Empty (the default)
	// means DefaultAdminListen with the embedded sandbox and off against a
	// real server. Keep it on loopback: the console shows the routing
	// table and, with Chat, sends as other users.
	Listen string `yaml:"listen"`
	// Chat turns the console's chat panel on against a real server, where
	// it would send as other users through the admin API; default false.
	// With the embedded sandbox the chat panel is always on.
	Chat bool `yaml:"chat"`
}

// DefaultAdminListen is the admin listener's address with the embedded
// sandbox.
const DefaultAdminListen = "127.0.0.1:8080"

// Addr returns the address the admin listener listens on, "" when it is
// off, and whether the address is the implicit default (the sandbox's).
func (a Admin) Addr(embedded bool) (addr string, implicit bool) {
	switch strings.ToLower(a.Listen) {
	case "off", "none", "false":
		return "", false
	case "":
		if embedded {
			return DefaultAdminListen, true
		}
		return "", false
	}
	return a.Listen, false
}

// validateAdmin checks admin.listen.
func (c *Config) validateAdmin(bad func(path, format string, args ...any)) {
	addr, _ := c.Admin.Addr(true)
	if addr == "" {
		return
	}
	if _, port, err := net.SplitHostPort(addr); err != nil || port == "" {
		bad("admin.listen", "want host:port (e.g. 127.0.0.1:8080) or off, got %q", short(c.Admin.Listen))
	}
}
