package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/openimbot/openimbot/internal/testchild"
	"github.com/openimbot/openimbot/sandbox"
)

var screenshot = flag.String("screenshot", "", "write a screenshot of the web console of `run -config config.example.yaml` to this PNG file")

const traceYAML = `rules:
  - name: shouting
    expr: 'len(Text) >= 8 && upper(Text) == Text && lower(Text) != Text'
    reply: quiet
    priority: 10
  - {name: greet, full: [hi, hello], reply: hello}
  - name: weather
    command: "/weather {city}"
    reply: sunny
  - name: sum
    regex: '^(?P<a>-?\d+) *\+ *(?P<b>-?\d+)$'
    reply: "{{.a}}+{{.b}}"
  - name: fallback
    chat: single
    content: text
    reply: "what?"
    priority: -100
`

func TestCheckTrace(t *testing.T) {
	p := writeFile(t, t.TempDir(), "c.yaml", traceYAML)
	code, out, stderr := runCLI(t, "", "check", "-config", p, "-trace", "12 + 30")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`trace of "12 \+ 30" from alice in a single chat with bot \(\d+ of 5 routes selected by the index\)`),
		regexp.MustCompile(`(?m)^  1 +shouting +no +no match +expr len\(Text\) >= 8 .* is false; always tested$`),
		regexp.MustCompile(`(?m)^  2 +greet +no +no match +text does not match FullFold\("hi", "hello"\); not selected by the index$`),
		regexp.MustCompile(`(?m)^  3 +weather +no +no match +not the command weather; not selected by the index$`),
		regexp.MustCompile(`(?m)^  4 +sum +yes +runs and blocks +keyword "\+"$`),
		regexp.MustCompile(`(?m)^  5 +fallback +no +skipped: a route above blocked`),
		regexp.MustCompile(`(?m)^route sum runs$`),
	} {
		if !want.MatchString(out) {
			t.Errorf("trace output does not match %s:\n%s", want, out)
		}
	}
	// In a group, mentioning the bot: the fallback (single chats only) does
	// not match, and says why.
	code, out, stderr = runCLI(t, "", "check", "-config", p, "-trace", "what is this", "-group", "g1", "-sender", "bob", "-mention", "bot")
	if code != exitOK || !strings.Contains(out, `trace of "what is this" from bob in group g1, mentioning bot`) ||
		!regexp.MustCompile(`(?m)^  5 +fallback +no +no match +content type 106 not in ContentTypes\(101\)`).MatchString(out) ||
		!strings.Contains(out, "no route matches") {
		t.Errorf("group trace: exit %d\n%s%s", code, out, stderr)
	}
	if code, _, stderr := runCLI(t, "", "check", "-config", p, "-trace", "hi", "-mention", "bot"); code != exitUsage || !strings.Contains(stderr, "-mention needs -group") {
		t.Errorf("-mention without -group: exit %d: %s", code, stderr)
	}
}

func TestRunLogsRoutingFindings(t *testing.T) {
	p := writeFile(t, t.TempDir(), "c.yaml", `admin: {listen: "off"}
rules:
  - {name: greet, keyword: hello, reply: a, priority: 5}
  - {name: hidden, full: hello there, reply: b}
`)
	code, _, stderr := runCLI(t, "", "run", "-config", p)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !regexp.MustCompile(`level=WARN msg="routing: shadowed" route=hidden at=\S+c.yaml:4:5 finding="route hidden .* never runs`).MatchString(stderr) {
		t.Errorf("no warning for the shadowed route:\n%s", stderr)
	}
	if strings.Contains(stderr, "web console") {
		t.Errorf("admin.listen off, yet a console:\n%s", stderr)
	}
}

// TestRunWebConsole runs the example configuration, which starts the admin
// listener, and chats with the bot in the web console.
func TestRunWebConsole(t *testing.T) {
	stdinR, stdinW := io.Pipe()
	defer stdinW.Close()
	sigs := make(chan os.Signal, 1)
	ready := make(chan struct{})
	reloaded := make(chan error, 1)
	var out, errOut testchild.Buffer
	c := &cli{stdin: stdinR, stdout: &out, stderr: &errOut, signals: sigs,
		onReady: func() { close(ready) }, onReload: func(err error) { reloaded <- err }}
	done := make(chan int, 1)
	go func() { done <- c.main([]string{"run", "-config", "../config.example.yaml"}) }()
	waitReady(t, ready, done, &errOut)
	waitFor(t, &errOut, `msg="web console and metrics" url=http://127.0.0.1:`, 1)
	url := regexp.MustCompile(`msg="web console and metrics" url=(http://127\.0\.0\.1:\d+/)`).FindStringSubmatch(errOut.String())[1]
	defer func() {
		sigs <- syscall.SIGTERM
		select {
		case code := <-done:
			if code != exitOK {
				t.Errorf("exit %d after SIGTERM: %s", code, errOut.String())
			}
		case <-time.After(20 * time.Second):
			t.Error("no exit after SIGTERM")
		}
	}()

	get := func(path string) (int, string) {
		res, err := http.Get(url + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if code, body := get("readyz"); code != 200 {
		t.Fatalf("readyz: %d %s", code, body)
	}
	sigs <- syscall.SIGHUP
	if err := <-reloaded; err != nil {
		t.Fatal(err)
	}
	if _, body := get("metrics"); !strings.Contains(body, `openimbot_config_reloads_total{result="ok"} 1`) {
		t.Errorf("metrics after a reload:\n%s", body)
	}

	path := chromiumPath(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true), chromedp.Flag("disable-dev-shm-usage", true), chromedp.WindowSize(1400, 1060))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	ctx, cancelC := chromedp.NewContext(actx)
	defer cancelC()
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	step := func(steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := chromedp.Do(sctx, steps...); err != nil {
			t.Fatal(err)
		}
	}
	waitJS := func(what, expr string) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			if ok {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	say := func(text string) {
		step(chromedp.SendKeys(chromedp.CSS("#text"), text), chromedp.Click(chromedp.CSS("#send")))
		waitJS("the input to clear", `document.querySelector("#text").value === ""`)
	}
	step(chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS(`body[data-ready="1"]`)))
	waitJS("the routing table", `[...document.querySelectorAll("#routes tbody tr")].some(e => e.textContent.includes("sum"))`)
	say("hi")
	waitJS("the greeting", `[...document.querySelectorAll(".msg.bot .body")].some(e => e.textContent.startsWith("Hello, alice! I am a bot."))`)
	say("12 + 30")
	waitJS("the sum rule's trace", `(document.querySelector("#trace-route") || {}).textContent === "sum"`)
	waitJS("the sum rule's reply", `[...document.querySelectorAll(".msg.bot .body")].some(e => e.textContent.startsWith("12 + 30? Ask a calculator"))`)
	say("thanks a lot")
	waitJS("the quoted reply", `[...document.querySelectorAll(".msg.bot blockquote")].some(e => e.textContent === "alice: thanks a lot")`)
	say("12 + 30")
	waitJS("the route of the last message", `[...document.querySelectorAll(".msg.user .route b")].filter(e => e.textContent === "sum").length === 2`)
	if *screenshot != "" {
		step(chromedp.Sleep(1200 * time.Millisecond)) // a counters refresh
		png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(*screenshot, png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// chromiumPath returns the Chromium binary; without one the test is
// skipped, except in CI (CI=true), where browser tests must run.
func chromiumPath(t *testing.T) string {
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is not installed, and browser tests must run in CI (scripts/test.sh installs it)")
	}
	t.Skip("chromium is not installed; the browser tests need it (apt-get install chromium)")
	return ""
}

// TestWebConsoleAgainstRealServer runs a bot against a server (a
// standalone sandbox): the console's chat panel is off by default, with
// the inspection panels on; with admin.chat it sends as other users
// through the admin API and shows the bot's replies.
func TestWebConsoleAgainstRealServer(t *testing.T) {
	s := startSandbox(t, "bot1", "carol")
	dir := t.TempDir()
	for i, chat := range []bool{false, true} {
		p := writeFile(t, dir, "real.yaml", fmt.Sprintf(`openim:
  ws_addr: %s
  api_addr: %s
  user_id: bot1
  admin_secret: %s
storage: {path: %s}
admin: {listen: "127.0.0.1:0", chat: %v}
rules:
  - {name: ping, full: ping, reply: pong}
`, s.WSURL(), s.APIURL(), sandbox.DefaultSecret, filepath.Join(dir, fmt.Sprintf("bot%d.db", i)), chat))
		r := startCLI(t, "run", "-config", p)
		waitFor(t, &r.errOut, `msg="web console and metrics" url=http://127.0.0.1:`, 1)
		url := regexp.MustCompile(`msg="web console and metrics" url=(http://127\.0\.0\.1:\d+/)`).FindStringSubmatch(r.errOut.String())[1]
		post := func(path, body string) (int, string) {
			res, err := http.Post(url+path, "application/json", strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			return res.StatusCode, string(b)
		}
		getBody := func(path string) string {
			res, err := http.Get(url + path)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			return string(b)
		}
		if info := getBody("api/info"); !strings.Contains(info, `"mode":"server"`) || !strings.Contains(info, fmt.Sprintf(`"chat":%v`, chat)) {
			t.Errorf("chat %v: info %s", chat, info)
		}
		if routes := getBody("api/routes"); !strings.Contains(routes, `"name":"ping"`) {
			t.Errorf("chat %v: routes %s", chat, routes)
		}
		if code, body := post("api/trace", `{"text":"ping","sender":"carol"}`); code != 200 || !strings.Contains(body, `"route":"ping"`) {
			t.Errorf("chat %v: trace %d %s", chat, code, body)
		}
		code, body := post("api/send", `{"from":"carol","text":"ping"}`)
		if !chat {
			if code != 403 {
				t.Errorf("chat off: send %d %s, want 403", code, body)
			}
		} else {
			if code != 200 {
				t.Fatalf("chat on: send %d %s", code, body)
			}
			deadline := time.Now().Add(10 * time.Second)
			for {
				ev := getBody("api/events?after=0&wait=0")
				if strings.Contains(ev, `"from":"carol"`) && strings.Contains(ev, `"text":"pong"`) &&
					strings.Contains(ev, `"type":"handled"`) && strings.Contains(ev, `"route":"ping"`) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("chat on: events %s", ev)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
		r.stop(t, syscall.SIGINT)
	}
}
