package config

import (
	"errors"
	"strings"
	"testing"
)

func TestSeqResetKey(t *testing.T) {
	cfg, err := Parse("empty.yaml", nil, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Sync.SeqReset != "resync" {
		t.Fatalf("default sync.seq_reset = %q, want resync", cfg.Sync.SeqReset)
	}
	for _, p := range []string{"resync", "replay", "keep"} {
		cfg, err := Parse("s.yaml", []byte("sync:\n  seq_reset: "+p+"\n"), env(nil))
		if err != nil || cfg.Sync.SeqReset != p {
			t.Fatalf("%s: %+v, %v", p, cfg.Sync, err)
		}
	}
	_, err = Parse("s.yaml", []byte("sync:\n  seq_reset: forget\n"), env(nil))
	if !errors.Is(err, ErrValue) || !strings.Contains(err.Error(), `s.yaml:2:14: sync.seq_reset: want resync, replay or keep, got "forget"`) {
		t.Fatalf("got %v", err)
	}
}
