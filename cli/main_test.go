package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/openimbot/openimbot/internal/testchild"
	"github.com/openimbot/openimbot/sandbox"
)

// waitReady waits for the command whose exit code goes to done to call
// onReady (closing ready); it fails the test if the command exits first
// (showing its stderr) or is not ready within 10 s.
func waitReady(t *testing.T, ready <-chan struct{}, done <-chan int, errOut *testchild.Buffer) {
	t.Helper()
	select {
	case <-ready:
	case code := <-done:
		t.Fatalf("exit %d before ready: %s", code, errOut.String())
	case <-time.After(10 * time.Second):
		t.Fatal("bot not ready")
	}
}

// runningCLI is a command started by startCLI.
type runningCLI struct {
	out, errOut testchild.Buffer
	sigs        chan os.Signal
	done        chan int // its exit code
}

// startCLI runs the command with args and an empty stdin, and waits until
// it is ready (as waitReady).
func startCLI(t *testing.T, args ...string) *runningCLI {
	t.Helper()
	r := &runningCLI{sigs: make(chan os.Signal, 1), done: make(chan int, 1)}
	ready := make(chan struct{})
	c := &cli{stdin: strings.NewReader(""), stdout: &r.out, stderr: &r.errOut, signals: r.sigs, onReady: func() { close(ready) }}
	go func() { r.done <- c.main(args) }()
	waitReady(t, ready, r.done, &r.errOut)
	return r
}

// stop sends sig to the command and fails the test unless it exits with
// exitOK.
func (r *runningCLI) stop(t *testing.T, sig os.Signal) {
	t.Helper()
	r.sigs <- sig
	if code := <-r.done; code != exitOK {
		t.Fatalf("exit %d after %v: %s", code, sig, r.errOut.String())
	}
}

// startSandbox starts a sandbox, closed at cleanup, with users registered
// (each with its ID as nickname).
func startSandbox(t *testing.T, users ...string) *sandbox.Server {
	t.Helper()
	s, err := sandbox.Start(context.Background(), sandbox.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	for _, u := range users {
		if err := s.RegisterUser(u, u); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// waitFor polls until out contains want n times.
func waitFor(t *testing.T, out *testchild.Buffer, want string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for strings.Count(out.String(), want) < n {
		if time.Now().After(deadline) {
			t.Fatalf("output never had %q %d times:\n%s", want, n, out.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// runCLI runs the command with stdin and returns the exit code and outputs.
func runCLI(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut testchild.Buffer
	c := &cli{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errOut}
	code := c.main(args)
	return code, out.String(), errOut.String()
}

func TestUsage(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want string
	}{
		{nil, exitUsage, "usage: openimbot"},
		{[]string{"fly"}, exitUsage, `unknown command "fly"`},
		{[]string{"run"}, exitUsage, "-config FILE is required"},
		{[]string{"run", "-bogus"}, exitUsage, "flag provided but not defined"},
		{[]string{"check", "-config", "a", "extra"}, exitUsage, `unexpected argument "extra"`},
		{[]string{"db"}, exitUsage, "want stats or dump"},
		{[]string{"db", "stats"}, exitUsage, "-db FILE is required"},
		{[]string{"run", "-config", "/nonexistent/x.yaml"}, exitUsage, "no such file"},
		{[]string{"run", "-config", "../config.example.yaml", "-log-level", "loud"}, exitUsage, "-log-level: want debug, info, warn or error"},
	}
	for _, tt := range tests {
		code, _, stderr := runCLI(t, "", tt.args...)
		if code != tt.code || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tt.args, code, stderr, tt.code, tt.want)
		}
	}
	if code, out, _ := runCLI(t, "", "help"); code != exitOK || !strings.Contains(out, "commands:") {
		t.Errorf("help: %d %q", code, out)
	}
}

// TestConfigErrors: a bad file exits 2 naming the file, line and column,
// for run and check alike.
// configErrorCase is a configuration file that run and check reject at
// load (exit 2) with an error naming the file and want (line, column,
// message).
type configErrorCase struct{ name, yaml, want string }

// checkConfigErrors writes each case's file and runs run and check on it.
func checkConfigErrors(t *testing.T, tests []configErrorCase) {
	t.Helper()
	dir := t.TempDir()
	for _, tt := range tests {
		p := writeFile(t, dir, strings.ReplaceAll(tt.name, " ", "_")+".yaml", tt.yaml)
		for _, cmd := range []string{"run", "check"} {
			code, _, stderr := runCLI(t, "", cmd, "-config", p)
			if code != exitUsage || !strings.Contains(stderr, p+tt.want) {
				t.Errorf("%s %s: exit %d, stderr %q; want 2 and %q", cmd, tt.name, code, stderr, p+tt.want)
			}
		}
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []configErrorCase{
		{"unknown key", "openim:\n  user_id: bot\n  usr_id: x\n", ":3:3: unknown key \"usr_id\""},
		{"wrong type", "openim:\n  platform_id: seven\n", ":2:16: expected an integer"},
		{"bad rule regex", "rules:\n  - regex: '(('\n    reply: x\n", `:2:12: rule "rule 1": invalid regex "((" at 1:1`},
		{"bad template", "rules:\n  - full: a\n    reply: '{{.Nope}}'\n", `:3:12: rule "rule 1": template:`},
		{"unknown plugin", "plugins:\n  weather: {}\n", `:2:3: "weather" (available: autoreply, dialog, echo, help, ratelimit)`},
		{"missing env", "openim:\n  ws_addr: ws://h:1\n  token: ${OPENIMBOT_TEST_UNSET}\n", ":3:10: environment variable OPENIMBOT_TEST_UNSET is not set"},
	}
	checkConfigErrors(t, tests)
}

// TestConsole runs the example configuration as the README does:
// lines in, replies out, exit 0 at the end of input.
func TestConsole(t *testing.T) {
	code, out, stderr := runCLI(t, "hi\n\n/help\n/weather Paris\n/echo  two  words\n", "run", "-config", "../config.example.yaml", "-log-level", "warn")
	if code != exitOK {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	for _, want := range []string{
		"Hello, alice! I am a bot.",
		"Commands:\n",
		"/weather {city} - tell the weather in a city",
		"/echo - repeat the text",
		"It is always sunny in Paris in the sandbox.",
		"two  words",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// Replies come in the order of the lines.
	if i, j := strings.Index(out, "Hello"), strings.Index(out, "sunny"); i < 0 || j < i {
		t.Errorf("replies out of order:\n%s", out)
	}
	if stderr != "" {
		t.Errorf("stderr at -log-level warn: %q", stderr)
	}
}

// TestReload: SIGHUP swaps in the new rules; a bad file keeps the old ones
// and logs why; SIGTERM then shuts down with exit 0.
func TestReload(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, dir, "bot.yaml", "rules:\n  - {full: hi, reply: first}\n")
	stdinR, stdinW := io.Pipe()
	defer stdinW.Close()
	sigs := make(chan os.Signal, 1)
	reloaded := make(chan error, 1)
	ready := make(chan struct{})
	var out, errOut testchild.Buffer
	c := &cli{stdin: stdinR, stdout: &out, stderr: &errOut, signals: sigs,
		onReload: func(err error) { reloaded <- err }, onReady: func() { close(ready) }}
	done := make(chan int, 1)
	go func() { done <- c.main([]string{"run", "-config", path}) }()
	waitReady(t, ready, done, &errOut)
	say := func(line string) {
		if _, err := io.WriteString(stdinW, line+"\n"); err != nil {
			t.Fatal(err)
		}
	}
	say("hi")
	waitFor(t, &out, "first\n", 1)

	writeFile(t, dir, "bot.yaml", "rules:\n  - {full: hi, reply: second}\n  - {full: new, reply: added}\n")
	sigs <- syscall.SIGHUP
	if err := <-reloaded; err != nil {
		t.Fatalf("reload of a good file: %v", err)
	}
	say("hi")
	say("new")
	waitFor(t, &out, "second\n", 1)
	waitFor(t, &out, "added\n", 1)

	writeFile(t, dir, "bot.yaml", "rules:\n  - {full: hi, reply: third, typo: 1}\n")
	sigs <- syscall.SIGHUP
	err := <-reloaded
	if err == nil || !strings.Contains(err.Error(), path+":2:30: unknown key \"typo\"") {
		t.Fatalf("reload of a bad file: %v", err)
	}
	waitFor(t, &errOut, "reload failed; keeping the current rules", 1)
	say("hi")
	waitFor(t, &out, "second\n", 2)
	if strings.Contains(out.String(), "third") {
		t.Fatalf("bad rules were applied:\n%s", out.String())
	}

	sigs <- syscall.SIGTERM
	select {
	case code := <-done:
		if code != exitOK {
			t.Fatalf("exit %d after SIGTERM: %s", code, errOut.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no exit after SIGTERM")
	}
}

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "c.yaml", `plugins: [help]
rules:
  - {name: greet, keyword: hello, reply: a, priority: 5}
  - {name: hidden, full: hello there, reply: b}
  - {name: any, reply: c, priority: -1, continue: true}
`)
	code, out, stderr := runCLI(t, "", "check", "-config", p)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		p + ": ok",
		"plugins: autoreply, help",
		"routing table (4 routes, in precedence order)",
		p + ":3:5",
		"greet",
		`KeywordFold("hello")`,
		"continue",
		p + ":1:11", // the help plugin's route, at its name
		p + `:4:5: shadowed: route hidden (FullFold("hello there")) never runs: route greet`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("check output lacks %q:\n%s", want, out)
		}
	}
	// The example configuration checks clean.
	if code, out, stderr := runCLI(t, "", "check", "-config", "../config.example.yaml"); code != exitOK || !strings.Contains(out, "ok") {
		t.Errorf("example: exit %d\n%s%s", code, out, stderr)
	}
}

// TestDB runs a bot with a database file, then inspects it.
func TestDB(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "bot.db")
	p := writeFile(t, dir, "c.yaml", "storage: {path: "+db+"}\nlog: {level: warn}\nrules:\n  - {full: hi, reply: hello}\n")
	// Twice: the second run continues the first's sandbox history and
	// watermarks.
	for range 2 {
		if code, out, stderr := runCLI(t, "hi\n", "run", "-config", p); code != exitOK || out != "alice> hi\nbot> hello\n" {
			t.Fatalf("run: exit %d, out %q, stderr %q", code, out, stderr)
		}
	}
	code, out, stderr := runCLI(t, "", "db", "stats", "-db", db)
	if code != exitOK || !regexp.MustCompile(`conversations +1\n`).MatchString(out) {
		t.Fatalf("stats: exit %d\n%s%s", code, out, stderr)
	}
	if !strings.Contains(out, db) {
		t.Errorf("stats lacks the path:\n%s", out)
	}
	code, out, stderr = runCLI(t, "", "db", "dump", "-db", db)
	if code != exitOK || !strings.Contains(out, `"kind":"watermark"`) || !strings.Contains(out, `"conversationID":"si_alice_bot","seq":4`) {
		t.Fatalf("dump: exit %d\n%s%s", code, out, stderr)
	}
	if code, _, stderr := runCLI(t, "", "db", "stats", "-db", writeFile(t, dir, "junk.db", "not a database at all, not at all")); code != exitRuntime || stderr == "" {
		t.Errorf("stats of a junk file: exit %d %q", code, stderr)
	}
}

// TestRealServer runs the bot against a separately started OpenIM-compatible
// server (the sandbox standing in for OpenIM), once with the admin secret
// and once with a token from the environment.
func TestRealServer(t *testing.T) {
	s := startSandbox(t, "bot1", "carol")
	dir := t.TempDir()
	var token string
	for i, cred := range []string{
		"admin_secret: " + sandbox.DefaultSecret,
		"token: ${OPENIMBOT_TEST_TOKEN}",
	} {
		t.Run(strings.Fields(cred)[0], func(t *testing.T) {
			if strings.HasPrefix(cred, "token") {
				// Fetched now: a newer token for the platform kicks older ones.
				var err error
				if token, err = s.UserToken("bot1", 7); err != nil {
					t.Fatal(err)
				}
				t.Setenv("OPENIMBOT_TEST_TOKEN", token)
			}
			p := writeFile(t, dir, "real.yaml", fmt.Sprintf(`openim:
  ws_addr: %s
  api_addr: %s
  user_id: bot1
  %s
storage: {path: %s}
rules:
  - {full: ping, reply: pong %d}
`, s.WSURL(), s.APIURL(), cred, filepath.Join(dir, fmt.Sprintf("bot%d.db", i)), i))
			r := startCLI(t, "run", "-config", p)
			replies, unsub := s.Subscribe(16)
			defer unsub()
			if _, err := s.SendText("carol", "bot1", "ping"); err != nil {
				t.Fatal(err)
			}
			want := fmt.Sprintf("pong %d", i)
			for m := range replies {
				if m.SendID == "bot1" {
					if m.Text() != want || m.RecvID != "carol" {
						t.Fatalf("reply %q to %s", m.Text(), m.RecvID)
					}
					break
				}
			}
			r.stop(t, syscall.SIGINT)
			if (token != "" && strings.Contains(r.errOut.String(), token)) || strings.Contains(r.errOut.String(), sandbox.DefaultSecret) {
				t.Fatalf("a credential was logged:\n%s", r.errOut.String())
			}
		})
	}
}

// TestReloadUnderLoad: reloads while messages stream in drop none of them;
// each is answered exactly once, by the rules of one version or the other.
func TestReloadUnderLoad(t *testing.T) {
	s := startSandbox(t)
	const users, perUser = 20, 5
	dir := t.TempDir()
	version := func(v string) string {
		return fmt.Sprintf(`openim:
  ws_addr: %s
  api_addr: %s
  user_id: bot1
  admin_secret: %s
storage: {path: %s}
rules:
  - {regex: '^n(?P<i>\d+)$', reply: '%s{{.i}}'}
`, s.WSURL(), s.APIURL(), sandbox.DefaultSecret, filepath.Join(dir, "bot.db"), v)
	}
	p := writeFile(t, dir, "bot.yaml", version("a"))
	sigs := make(chan os.Signal, 1)
	ready := make(chan struct{})
	reloaded := make(chan error, 1)
	var out, errOut testchild.Buffer
	c := &cli{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut, signals: sigs,
		onReady: func() { close(ready) }, onReload: func(err error) { reloaded <- err }}
	done := make(chan int, 1)
	go func() { done <- c.main([]string{"run", "-config", p, "-log-level", "warn"}) }()
	waitReady(t, ready, done, &errOut)
	replies, unsub := s.Subscribe(users * perUser)
	defer unsub()

	var wg sync.WaitGroup
	for u := range users {
		user := fmt.Sprintf("u%d", u)
		if err := s.RegisterUser(user, user); err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perUser {
				if _, err := s.SendText(user, "bot1", fmt.Sprintf("n%d", i)); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	for i := range 10 {
		writeFile(t, dir, "bot.yaml", version(string(rune('a'+i%2+1))))
		sigs <- syscall.SIGHUP
		if err := <-reloaded; err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	got := map[string]int{}
	deadline := time.After(20 * time.Second)
	for n := 0; n < users*perUser; {
		select {
		case m := <-replies:
			if m.SendID != "bot1" {
				continue
			}
			n++
			got[m.RecvID+"/"+m.Text()[1:]]++
		case <-deadline:
			t.Fatalf("%d of %d replies", n, users*perUser)
		}
	}
	for u := range users {
		for i := range perUser {
			if k := fmt.Sprintf("u%d/%d", u, i); got[k] != 1 {
				t.Errorf("%s answered %d times", k, got[k])
			}
		}
	}
	sigs <- syscall.SIGTERM
	if code := <-done; code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
}
