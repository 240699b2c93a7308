package storage

import (
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// openAndReadAll opens path and, if that works, reads everything back.
// Damaged input may fail with ErrCorrupt or ErrUnsupportedVersion but must
// never panic or crash the process.
func openAndReadAll(t *testing.T, path string) error {
	db, err := Open(path, Options{NoSync: true})
	if err != nil {
		if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrUnsupportedVersion) {
			t.Fatalf("Open of a damaged file = %v, want ErrCorrupt", err)
		}
		return err
	}
	defer db.Close()
	if _, err := db.Stats(); err != nil && !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Stats: %v", err)
	}
	if err := db.Dump(io.Discard); err != nil && !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Dump: %v", err)
	}
	db.Namespace("plugin").ForEach(func(string, []byte) error { return nil })
	db.Advance("after-damage", 1)
	db.SeenOrMark("after-damage")
	db.Namespace("plugin").Put("after-damage", []byte("x"))
	return db.Close()
}

func TestOpenRandomDamageNeverPanics(t *testing.T) {
	dir := t.TempDir()
	orig := filepath.Join(dir, "orig.db")
	writeRealDB(t, orig)
	data, err := os.ReadFile(orig)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 11))
	var corrupt, opened int
	for i := range 60 {
		d := append([]byte(nil), data...)
		// Damage a few bytes of one page past the meta pages (damaged meta
		// pages are covered by checksums and TestOpenCorrupt).
		page := 2 + rng.IntN(len(d)/4096-2)
		for range 1 + rng.IntN(8) {
			d[page*4096+rng.IntN(4096)] = byte(rng.Uint32())
		}
		path := filepath.Join(dir, "damaged.db")
		if err := os.WriteFile(path, d, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := openAndReadAll(t, path); err != nil {
			corrupt++
		} else {
			opened++
		}
		_ = i
	}
	t.Logf("60 damaged files: %d rejected as corrupt, %d opened (damage in values or free pages)", corrupt, opened)
	if corrupt == 0 {
		t.Fatal("no damaged file was detected")
	}
}

func FuzzOpen(f *testing.F) {
	dir := f.TempDir()
	orig := filepath.Join(dir, "seed.db")
	db, err := Open(orig, Options{NoSync: true})
	if err != nil {
		f.Fatal(err)
	}
	db.Advance("conv", 3)
	db.SeenOrMark("cm")
	db.Namespace("plugin").Put("k", []byte("v"))
	db.Close()
	seed, _ := os.ReadFile(orig)
	f.Add(seed)
	f.Add([]byte{})
	f.Add([]byte("not a database"))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "f.db")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		openAndReadAll(t, path)
	})
}
