package config

import (
	"errors"
	"strings"
	"testing"
)

// send.loop_guard defaults to 5, 0 turns the guard off, and a negative
// value is an error at its position.
func TestSendLoopGuard(t *testing.T) {
	if got := Default().Send.LoopGuard; got != 5 {
		t.Fatalf("default loop_guard = %d, want 5", got)
	}
	for _, tc := range []struct {
		yaml string
		want int
	}{
		{"send:\n  rate: 0\n", 5},
		{"send:\n  loop_guard: 0\n", 0},
		{"send:\n  loop_guard: 12\n", 12},
	} {
		cfg, err := Parse("f.yaml", []byte(tc.yaml), nil)
		if err != nil {
			t.Fatalf("%q: %v", tc.yaml, err)
		}
		if cfg.Send.LoopGuard != tc.want {
			t.Fatalf("%q: loop_guard = %d, want %d", tc.yaml, cfg.Send.LoopGuard, tc.want)
		}
	}
	_, err := Parse("f.yaml", []byte("send:\n  loop_guard: -1\n"), nil)
	if !errors.Is(err, ErrValue) || !strings.Contains(err.Error(), "f.yaml:2:15: send.loop_guard: must not be negative") {
		t.Fatalf("loop_guard -1: %v", err)
	}
}
