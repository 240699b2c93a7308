package sandbox

import (
	"regexp"
	"testing"
)

// Message IDs are 32 lowercase hex digits, as OpenIM's, and never repeat.
func TestNewIDFormatAndUnique(t *testing.T) {
	re := regexp.MustCompile(`^[0-9a-f]{32}$`)
	seen := make(map[string]bool, 200_000)
	for range 200_000 {
		id := newID()
		if !re.MatchString(id) {
			t.Fatalf("newID() = %q, want 32 lowercase hex digits", id)
		}
		if seen[id] {
			t.Fatalf("newID() repeated %q", id)
		}
		seen[id] = true
	}
}

func BenchmarkNewID(b *testing.B) {
	b.ReportAllocs()
	for range b.N {
		_ = newID()
	}
}
