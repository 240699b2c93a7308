package console

import (
	"context"
	"flag"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

var screenshot = flag.String("screenshot", "", "write a screenshot of the console after the browser test to this PNG file")

// chromium returns the path of the Chromium binary. Without one the
// browser tests are skipped, except in CI (CI=true), where they must run.
func chromium(t *testing.T) string {
	t.Helper()
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

// browser returns a chromedp context driving a headless Chromium.
func browser(t *testing.T) context.Context {
	path := chromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // tests may run as root
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1400, 900),
	)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelC(); cancelA() })
	// The first Run starts the browser; it lives as long as ctx, so no
	// timeout here (each step gets its own).
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// do runs steps with a timeout.
func do(ctx context.Context, t *testing.T, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

// js runs a JavaScript statement.
func js(stmt string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Evaluate[bool](stmt+"; true")(ctx, tg)
		return err
	})
}

// say types text into the chat box and sends it.
func say(text string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.WaitVisible(chromedp.CSS("#text")),
		js(`document.querySelector("#text").value = ""`),
		chromedp.SendKeys(chromedp.CSS("#text"), text),
		chromedp.Click(chromedp.CSS("#send")),
		// The page clears the input once the server took the message:
		// wait for it, so that the next message is not typed before.
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			for {
				empty, err := chromedp.Evaluate[bool](`document.querySelector("#text").value === ""`)(ctx, tg)
				if err != nil || empty {
					return err
				}
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(20 * time.Millisecond):
				}
			}
		}),
	)
}

// waitJS polls the page until the expression js is true.
func waitJS(ctx context.Context, t *testing.T, what, expr string) {
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
			html, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("main")))
			t.Fatalf("timed out waiting for %s; page:\n%s", what, html)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestBrowserChat(t *testing.T) {
	ctx := browser(t)
	st := startStack(t, stackOpts{})
	waitFor(t, 10*time.Second, "ready", func() bool { ok, _ := st.metrics.Ready(); return ok })

	do(ctx, t, chromedp.Navigate(st.srv.URL()), chromedp.WaitVisible(chromedp.CSS(`body[data-ready="1"]`)))
	// The routing table is shown.
	waitJS(ctx, t, "the routing table", `document.querySelectorAll("#routes tbody tr").length === 4`)

	// Type "hi", see the greeting.
	do(ctx, t, say("hi"))
	waitJS(ctx, t, "the greeting", `[...document.querySelectorAll(".msg.bot .body")].some(e => e.textContent === "Hello, alice! I am a bot.")`)
	waitJS(ctx, t, "the route of hi", `[...document.querySelectorAll(".msg.user .route b")].some(e => e.textContent === "greet")`)

	// A message matching the regex rule: its trace shows the rule matched,
	// and why the others did not.
	do(ctx, t, say("order #42"))
	waitJS(ctx, t, "the order reply", `[...document.querySelectorAll(".msg.bot .body")].some(e => e.textContent === "Order 42 is on its way.")`)
	waitJS(ctx, t, "the trace of the regex match", `(document.querySelector("#trace-route") || {}).textContent === "order"`)
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](
		`[...document.querySelectorAll("#trace tr.step")].map(r => r.innerText.replace(/\s+/g, " ").trim())`))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 {
		t.Fatalf("trace rows %q, want one per route (4)", rows)
	}
	var matched []string
	for _, r := range rows {
		if strings.Contains(r, " yes ") {
			matched = append(matched, r)
		}
	}
	if len(matched) != 1 || !strings.HasPrefix(matched[0], "order yes runs and blocks") {
		t.Errorf("matched trace rows %q, want only order", matched)
	}
	waitJS(ctx, t, "the route of the order", `[...document.querySelectorAll(".msg.user .route b")].some(e => e.textContent === "order")`)

	// Markdown replies are rendered.
	do(ctx, t, say("md please"))
	waitJS(ctx, t, "the markdown reply", `[...document.querySelectorAll(".msg.bot .body.md strong")].some(e => e.textContent === "bold") && document.querySelectorAll(".msg.bot .body.md li").length === 2`)

	// A group with an @-mention, a quote and a picture.
	do(ctx, t,
		chromedp.SetValue(chromedp.CSS("#chat-type"), "group"),
		js(`document.querySelector("#chat-type").dispatchEvent(new Event("change"))`),
		chromedp.SendKeys(chromedp.CSS("#mentions"), "bot"),
		say("@bot hi"),
	)
	waitJS(ctx, t, "the mention in the group", `[...document.querySelectorAll(".msg.user .mention")].some(e => e.textContent === "@bot")`)
	do(ctx, t,
		js(`document.querySelector("#mentions").value = ""`),
		js(`document.querySelector(".msg.user .quote-btn").click()`),
		say("hi"),
	)
	waitJS(ctx, t, "the quote", `[...document.querySelectorAll(".msg.user blockquote")].some(e => e.textContent === "alice: @bot hi")`)
	waitJS(ctx, t, "the group greeting", `[...document.querySelectorAll(".msg.bot .body")].some(e => e.textContent === "Hello, alice! I am a bot.")`)
	pic := "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
	do(ctx, t, chromedp.SetValue(chromedp.CSS("#picture"), pic), chromedp.Click(chromedp.CSS("#send")))
	waitJS(ctx, t, "the picture", `[...document.querySelectorAll(".msg.user img")].some(e => e.src.startsWith("data:image/png"))`)

	// Live counters.
	waitJS(ctx, t, "the live counters", `Number((document.querySelector("#c-messages_handled_total") || {}).textContent) >= 6`)

	if *screenshot != "" {
		shootConsole(ctx, t, st, *screenshot)
	}
}

// shootConsole leaves the page in a state that shows every panel (the
// single chat with a greeting and the trace of a regex match) and saves a
// screenshot.
func shootConsole(ctx context.Context, t *testing.T, st *stack, path string) {
	do(ctx, t,
		chromedp.SetValue(chromedp.CSS("#chat-type"), "single"),
		js(`document.querySelector("#chat-type").dispatchEvent(new Event("change"))`),
		js(`[...document.querySelectorAll(".msg.user")].find(e => e.textContent.includes("order #42")).click()`),
		chromedp.Sleep(1200*time.Millisecond), // a counters refresh
	)
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot written to %s", path)
}
