package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestMain makes the test binary the custombot program when asked to, so
// that the tests below run the real CLI in a child process.
func TestMain(m *testing.M) {
	if os.Getenv("CUSTOMBOT_BE_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// custombot runs the program with args and stdin, and returns its exit code
// and outputs.
func custombot(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "CUSTOMBOT_BE_MAIN=1")
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, out.String(), errOut.String()
	case errors.As(err, &ee):
		return ee.ExitCode(), out.String(), errOut.String()
	}
	t.Fatal(err)
	return 0, "", ""
}

// TestRunWithThePlugin runs the custom CLI on the embedded sandbox with the
// example configuration, twice on the same database: the plugin's section
// is read, its command answers, and what it stored survives the restart.
func TestRunWithThePlugin(t *testing.T) {
	src, err := os.ReadFile("custombot.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "bot.yaml")
	db := filepath.Join(dir, "bot.db")
	if err := os.WriteFile(conf, append(src, "storage:\n  path: "+db+"\n"...), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := custombot(t, "/weather lisbon\n/weather Paris\n/help\n", "run", "-config", conf)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	for _, want := range []string{"Lisbon: sun, 21°C", "No forecast for Paris, sorry.", "/weather {city?} - the weather in a city"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	code, out, errOut = custombot(t, "/weather\n", "run", "-config", conf)
	if code != 0 || !strings.Contains(out, "Lisbon: sun, 21°C") {
		t.Fatalf("second run: exit %d, output %q\n%s", code, out, errOut)
	}
}

// TestCheck: `check` knows the plugin: it lists its route, and reports a
// mistake in its section at the file's line and column with exit status 2.
func TestCheck(t *testing.T) {
	code, out, errOut := custombot(t, "", "check", "-config", "custombot.yaml")
	if code != 0 || !strings.Contains(out, "weather") || !strings.Contains(out, "custombot.yaml:") {
		t.Fatalf("check: exit %d\n%s%s", code, out, errOut)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("plugins:\n  weather:\n    forecasts:\n      - city: Oslo\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = custombot(t, "", "check", "-config", bad)
	if want := "bad.yaml:4:9: weather: a forecast needs a city and a sky"; code != 2 || !strings.Contains(errOut, want) {
		t.Fatalf("check of a bad file: exit %d, stderr %q, want 2 and %q", code, errOut, want)
	}
}
