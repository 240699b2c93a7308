package config

import (
	"strings"
	"testing"
)

func TestAdmin(t *testing.T) {
	for _, tc := range []struct {
		yaml     string
		embedded string // the address with the embedded sandbox
		server   string // against a real server
		implicit bool
	}{
		{"", DefaultAdminListen, "", true},
		{"admin: {listen: off}\n", "", "", false},
		{"admin: {listen: \"127.0.0.1:9100\"}\n", "127.0.0.1:9100", "127.0.0.1:9100", false},
		{"admin: {listen: \":0\", chat: true}\n", ":0", ":0", false},
	} {
		cfg, err := Parse("a.yaml", []byte(tc.yaml), env(nil))
		if err != nil {
			t.Fatalf("%q: %v", tc.yaml, err)
		}
		if a, imp := cfg.Admin.Addr(true); a != tc.embedded || imp != tc.implicit {
			t.Errorf("%q: embedded Addr = %q, %v; want %q, %v", tc.yaml, a, imp, tc.embedded, tc.implicit)
		}
		if a, _ := cfg.Admin.Addr(false); a != tc.server {
			t.Errorf("%q: server Addr = %q, want %q", tc.yaml, a, tc.server)
		}
	}
	_, err := Parse("a.yaml", []byte("log:\n  level: info\nadmin:\n  listen: localhost\n"), env(nil))
	if err == nil || !strings.Contains(err.Error(), "a.yaml:4:") || !strings.Contains(err.Error(), "admin.listen: want host:port") {
		t.Fatalf("a bad admin.listen: %v", err)
	}
}
