package console

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openimbot/openimbot/bot"
	"github.com/openimbot/openimbot/content"
	"github.com/openimbot/openimbot/router"
	"github.com/openimbot/openimbot/sandbox"
	"github.com/openimbot/openimbot/transport"
)

// stack is a sandbox, a bot routing through a small router, its metrics
// and a console server on a free loopback port.
type stack struct {
	sb      *sandbox.Server
	bot     *bot.Bot
	metrics *Metrics
	srv     *Server
	router  *router.Router
	runErr  chan error
}

// testRouter has a greeting, a regex rule, a panicking route and a catch
// nothing else matches.
func testRouter(t testing.TB) *router.Router {
	r := router.New()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(r.OnFunc(router.Full("hi"), func(c *bot.Context) error {
		return c.Reply("Hello, " + c.Sender() + "! I am a bot.")
	}, router.Name("greet")))
	must(r.OnFunc(router.Regex(`^order #(?P<id>\d+)$`), func(c *bot.Context) error {
		return c.Reply("Order " + c.Param("id") + " is on its way.")
	}, router.Name("order")))
	must(r.OnFunc(router.Full("boom"), func(c *bot.Context) error { panic("boom") }, router.Name("bomb")))
	must(r.OnFunc(router.Prefix("md "), func(c *bot.Context) error {
		return c.Send(c.ReplyTarget(), content.NewMarkdown("**bold** and *italic*\n- one\n- two"))
	}, router.Name("markdown")))
	must(r.Build())
	return r
}

type stackOpts struct {
	extra   []bot.Option
	refuse  bool // refuse handshakes at first
	noStart bool // do not start the console server
}

func startStack(t testing.TB, so stackOpts) *stack {
	t.Helper()
	sb, err := sandbox.Start(context.Background(), sandbox.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	for _, u := range []string{"bot", "alice", "carol"} {
		if err := sb.RegisterUser(u, u); err != nil {
			t.Fatal(err)
		}
	}
	if so.refuse {
		sb.RefuseHandshakes(1_000_000, 500)
	}
	tok, err := sb.UserToken("bot", 7)
	if err != nil {
		t.Fatal(err)
	}
	st := &stack{sb: sb, metrics: NewMetrics(), router: testRouter(t), runErr: make(chan error, 1)}
	opts := append([]bot.Option{
		bot.WithGateway(sb.WSURL()), bot.WithUser("bot"), bot.WithToken(tok),
		bot.WithStorage(filepath.Join(t.TempDir(), "bot.db")), bot.WithHandler(st.router),
		bot.WithRateLimit(0.001, 5),
		bot.WithTransportConfig(func(c *transport.Config) {
			c.Backoff = func(int) time.Duration { return 20 * time.Millisecond }
		}),
	}, st.metrics.BotOptions()...)
	opts = append(opts, so.extra...)
	st.bot, err = bot.New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	st.metrics.Attach(st.bot)
	st.srv, err = New(Options{Addr: "127.0.0.1:0", Metrics: st.metrics, BotID: "bot", Sandbox: sb,
		Router: func() *router.Router { return st.router }})
	if err != nil {
		t.Fatal(err)
	}
	if !so.noStart {
		if err := st.srv.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.srv.Close() })
	}
	go func() { st.runErr <- st.bot.Run(context.Background()) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = st.bot.Shutdown(ctx)
		if err := <-st.runErr; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return st
}

func get(t testing.TB, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// waitFor polls cond every 5ms for up to d.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// scrape returns the samples of a Prometheus text exposition, keyed by
// name{labels} as written (labels sorted by the library).
func scrape(t testing.TB, url string) map[string]float64 {
	t.Helper()
	code, body := get(t, url)
	if code != 200 {
		t.Fatalf("GET %s: %d", url, code)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("bad sample line %q", line)
		}
		out[line[:i]] = v
	}
	return out
}

func TestMetricsAfterKnownWorkload(t *testing.T) {
	st := startStack(t, stackOpts{})
	base := st.srv.URL()
	waitFor(t, 10*time.Second, "ready", func() bool { ok, _ := st.metrics.Ready(); return ok })

	replies, unsub := st.sb.SubscribeFrom(256, "bot")
	defer unsub()
	// alice: 3 greetings, 1 order, 1 panic, 1 text no route matches;
	// carol: 7 greetings, of which the last 2 replies are over the
	// rate limit (burst 5).
	say := func(user, text string) {
		if _, err := st.sb.SendText(user, "bot", text); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range []string{"hi", "hi", "order #42", "boom", "hi", "what?"} {
		say("alice", s)
	}
	for range 7 {
		say("carol", "hi")
	}
	waitFor(t, 10*time.Second, "13 handled messages", func() bool {
		m := scrape(t, base+"metrics")
		n := 0.0
		for _, r := range []string{"greet", "order", "bomb", "none"} {
			n += m[`openimbot_messages_handled_total{route="`+r+`"}`]
		}
		return n == 13
	})
	got := 0
	timeout := time.After(5 * time.Second)
	for got < 9 {
		select {
		case <-replies:
			got++
		case <-timeout:
			t.Fatalf("%d replies, want 9", got)
		}
	}
	st.metrics.ConfigReloaded(nil)
	st.metrics.ConfigReloaded(errors.New("bad rule"))
	st.metrics.ConfigReloaded(nil)

	var m map[string]float64
	waitFor(t, 5*time.Second, "the commit of the handled messages", func() bool {
		m = scrape(t, base+"metrics")
		return m[`openimbot_storage_commit_duration_seconds_count`] > 0 && m[`openimbot_messages_handled_total{route="none"}`] == 1
	})
	want := map[string]float64{
		`openimbot_messages_received_total{content="text",source="push"}`:    13,
		`openimbot_messages_handled_total{route="greet"}`:                    10,
		`openimbot_messages_handled_total{route="order"}`:                    1,
		`openimbot_messages_handled_total{route="bomb"}`:                     1,
		`openimbot_messages_handled_total{route="none"}`:                     1,
		`openimbot_handler_duration_seconds_count{route="greet"}`:            10,
		`openimbot_handler_duration_seconds_bucket{route="greet",le="+Inf"}`: 10,
		`openimbot_handler_duration_seconds_count{route="order"}`:            1,
		`openimbot_handler_errors_total{kind="panic",route="bomb"}`:          1,
		`openimbot_handler_errors_total{kind="error",route="greet"}`:         2, // the replies over the limit
		`openimbot_sends_total`:                                              11,
		`openimbot_send_failures_total{reason="rate_limit"}`:                 2,
		`openimbot_send_duration_seconds_count`:                              9,
		`openimbot_messages_duplicate_total`:                                 0,
		`openimbot_sync_lag_messages`:                                        0,
		`openimbot_sync_lag_max_messages`:                                    0,
		`openimbot_worker_queue_depth`:                                       0,
		`openimbot_connected`:                                                1,
		`openimbot_connection_state`:                                         2,
		`openimbot_ready`:                                                    1,
		`openimbot_reconnects_total`:                                         0,
		`openimbot_config_reloads_total{result="ok"}`:                        2,
		`openimbot_config_reloads_total{result="failed"}`:                    1,
	}
	for k, v := range want {
		if got, ok := m[k]; !ok || got != v {
			t.Errorf("%s = %v (present %v), want %v", k, got, ok, v)
		}
	}
	// The histogram's buckets are cumulative and end at the count.
	prev := 0.0
	for _, le := range []string{"0.0001", "0.001", "0.01", "0.1", "1", "+Inf"} {
		v := m[`openimbot_handler_duration_seconds_bucket{route="greet",le="`+le+`"}`]
		if v < prev {
			t.Errorf("bucket le=%s = %v below the previous one %v", le, v, prev)
		}
		prev = v
	}
	if m[`openimbot_handler_duration_seconds_sum{route="greet"}`] <= 0 {
		t.Error("handler duration sum is not positive")
	}
	for _, k := range []string{"go_goroutines", "process_cpu_seconds_total", "go_memstats_heap_alloc_bytes"} {
		if _, ok := m[k]; !ok {
			t.Errorf("%s missing: no Go runtime or process metrics", k)
		}
	}
	// No label carries message text or user IDs.
	for k := range m {
		for _, bad := range []string{"alice", "carol", "order #42", "what?"} {
			if strings.Contains(k, bad) {
				t.Errorf("a label carries message data: %s", k)
			}
		}
	}
}

func TestReadyzAcrossConnectSyncAndDrop(t *testing.T) {
	var (
		mu       sync.Mutex
		duringCS []string // /readyz answers seen between connect and sync
		srvURL   string
	)
	probe := bot.WithOnConnected(func() {
		// Runs on the bot's event goroutine after the metrics' hook and
		// before the sync starts: the bot is connected, not caught up.
		mu.Lock()
		u := srvURL
		mu.Unlock()
		if u == "" {
			return
		}
		res, err := http.Get(u + "readyz")
		if err != nil {
			return
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		mu.Lock()
		duringCS = append(duringCS, fmt.Sprintf("%d %s", res.StatusCode, strings.TrimSpace(string(b))))
		mu.Unlock()
	})
	st := startStack(t, stackOpts{refuse: true, extra: []bot.Option{probe}})
	base := st.srv.URL()
	mu.Lock()
	srvURL = base
	mu.Unlock()

	if code, body := get(t, base+"healthz"); code != 200 || strings.TrimSpace(body) != "ok" {
		t.Fatalf("healthz: %d %q", code, body)
	}
	// Handshakes are refused: not connected.
	time.Sleep(100 * time.Millisecond)
	code, body := get(t, base+"readyz")
	if code != 503 || !strings.Contains(body, "not connected") {
		t.Fatalf("readyz before connecting: %d %q, want 503 not connected", code, body)
	}
	// Connect and sync: ready.
	st.sb.RefuseHandshakes(0, 0)
	waitFor(t, 10*time.Second, "readyz 200", func() bool { c, _ := get(t, base+"readyz"); return c == 200 })
	mu.Lock()
	seen := append([]string(nil), duringCS...)
	mu.Unlock()
	if len(seen) != 1 || !strings.HasPrefix(seen[0], "503 connected, catching up") {
		t.Fatalf("readyz between connect and sync: %q, want one 503 catching up", seen)
	}
	// The gateway drops the connection and refuses the next handshakes.
	st.sb.RefuseHandshakes(1_000_000, 500)
	st.sb.DropAll()
	waitFor(t, 10*time.Second, "readyz 503 after the drop", func() bool {
		c, b := get(t, base+"readyz")
		return c == 503 && strings.Contains(b, "not connected")
	})
	if g := scrape(t, base+"metrics")["openimbot_connected"]; g != 0 {
		t.Errorf("openimbot_connected = %v after the drop", g)
	}
	// And back.
	st.sb.RefuseHandshakes(0, 0)
	waitFor(t, 10*time.Second, "readyz 200 again", func() bool { c, _ := get(t, base+"readyz"); return c == 200 })
	if r := scrape(t, base+"metrics")["openimbot_reconnects_total"]; r != 1 {
		t.Errorf("reconnects_total = %v, want 1", r)
	}
}

func TestStartOnTakenPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	s, err := New(Options{Addr: ln.Addr().String(), Metrics: NewMetrics(), BotID: "bot"})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Start()
	if !errors.Is(err, ErrAddrInUse) || !strings.Contains(err.Error(), ln.Addr().String()) {
		t.Fatalf("Start on a taken port: %v", err)
	}
}

func TestReceivedLabels(t *testing.T) {
	m := NewMetrics()
	for _, c := range []struct {
		t       content.ContentType
		offline bool
		n       int
	}{{content.TypeText, false, 3}, {content.TypeText, true, 2}, {content.TypePicture, false, 1}, {content.TypeAtText, true, 1}, {1201, false, 2}} {
		for range c.n {
			m.Received(&content.Message{ContentType: c.t}, c.offline)
		}
	}
	s, err := New(Options{Metrics: m, BotID: "bot", Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got := scrape(t, s.URL()+"metrics")
	for k, v := range map[string]float64{
		`openimbot_messages_received_total{content="text",source="push"}`:    3,
		`openimbot_messages_received_total{content="text",source="pull"}`:    2,
		`openimbot_messages_received_total{content="picture",source="push"}`: 1,
		`openimbot_messages_received_total{content="at_text",source="pull"}`: 1,
	} {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	n := 0.0
	for k, v := range got {
		if strings.HasPrefix(k, "openimbot_messages_received_total") {
			n += v
		}
	}
	if n != 9 {
		t.Errorf("%v messages received in all, want 9", n)
	}
	if code, body := get(t, s.URL()+"readyz"); code != 503 || !strings.Contains(body, "not running") {
		t.Errorf("readyz without a bot: %d %s", code, body)
	}
}
