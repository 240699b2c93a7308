package config

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse checks that no input makes the loader panic, and that whatever
// it accepts also decodes as plugin configuration without panicking.
// Seeds: testdata/*.yaml.
func FuzzParse(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(full))
	lookup := env(map[string]string{"TOKEN": "t", "A": "1"})
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse("fuzz.yaml", data, lookup)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		for _, p := range cfg.Plugins {
			var v any
			_ = p.Config.Decode(&v)
			var s struct {
				A []string
				B map[string]int
				C Node
			}
			_ = p.Config.Decode(&s)
		}
	})
}
