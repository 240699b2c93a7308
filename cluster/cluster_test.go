package cluster_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/openimbot/openimbot/bot"
	"github.com/openimbot/openimbot/cluster"
	"github.com/openimbot/openimbot/content"
	"github.com/openimbot/openimbot/internal/testchild"
	"github.com/openimbot/openimbot/sandbox"
	"github.com/openimbot/openimbot/storage"
)

const (
	childEnv = "OPENIMBOT_CLUSTER_CHILD"
	users    = 100
	total    = 10000
	botID    = "bot"
)

// ingressOpts are added to the ingress bot's options (a test's limits).
var ingressOpts []bot.Option

// leaseTTL and replicas are what the test processes use (the node-loss
// test raises them).
var (
	leaseTTL = 3 * time.Second
	replicas = 1
)

func testLogger(t testing.TB) *slog.Logger {
	if os.Getenv("CLUSTER_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	return slog.New(slog.DiscardHandler)
}

// startNATS starts an embedded NATS server with JetStream on a free port.
func startNATS(t testing.TB) *cluster.Embedded {
	t.Helper()
	e, err := cluster.StartEmbedded(cluster.EmbeddedOptions{Listen: "127.0.0.1:0", StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	streamURL = e.URL()
	return e
}

// startSandbox starts the sandbox with the bot and the users.
func startSandbox(t testing.TB) *sandbox.Server {
	t.Helper()
	s, err := sandbox.Start(context.Background(), sandbox.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.RegisterUser(botID, "Bot"); err != nil {
		t.Fatal(err)
	}
	for u := range users {
		if err := s.RegisterUser(fmt.Sprint("u", u), ""); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// send sends messages from..to-1, message i from user i mod users.
func send(t testing.TB, s *sandbox.Server, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		if _, err := s.SendText(fmt.Sprint("u", i%users), botID, fmt.Sprint("m", i)); err != nil {
			t.Error(err)
			return
		}
	}
}

// ingress runs an ingress bot in this process until the test ends.
type ingress struct {
	in   *cluster.Ingress
	done chan error
	stop context.CancelFunc
}

func startIngress(t testing.TB, natsURL string, s *sandbox.Server, dir string) *ingress {
	t.Helper()
	return startIngressAt(t, natsURL, s.WSURL(), s.APIURL(), filepath.Join(dir, "ingress.db"))
}

func startIngressAt(t testing.TB, natsURL, wsURL, apiURL, dbPath string) *ingress {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	nc, js, err := cluster.Connect(ctx, natsURL, "ingress")
	if err != nil {
		t.Fatal(err)
	}
	in, err := cluster.NewIngress(ctx, cluster.Config{BotID: botID, LeaseTTL: leaseTTL, Replicas: replicas, Logger: testLogger(t).With("p", "ingress")}, nc, js)
	if err != nil {
		t.Fatal(err)
	}
	db, err := storage.Open(dbPath, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	g := &ingress{in: in, done: make(chan error, 1), stop: cancel}
	go func() {
		// A supervisor: an ingress that lost its lease (NATS too slow to
		// renew it) stands by again with a new bot.
		for {
			b, err := bot.New(append([]bot.Option{bot.WithGateway(wsURL), bot.WithUser(botID), bot.WithAdminSecret(apiURL, sandbox.DefaultSecret),
				bot.WithDB(db), bot.WithBacklog(bot.BacklogAll), bot.WithHandler(in.Handler()), bot.WithRateLimit(0, 0)}, ingressOpts...)...)
			if err != nil {
				g.done <- err
				return
			}
			err = in.Run(ctx, b, db)
			if errors.Is(err, cluster.ErrLeaseLost) && ctx.Err() == nil {
				t.Logf("the ingress lost its lease; standing by again")
				continue
			}
			g.done <- err
			return
		}
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-g.done; err != nil && err != context.Canceled {
			t.Errorf("ingress: %v", err)
		}
		db.Close()
		nc.Close()
	})
	return g
}

// recorder is a handler that appends "conversation seq" to a file before
// it returns (O_APPEND: whole lines, in the order they were written, from
// any number of processes).
func recorder(f *os.File, reply bool, name string) bot.Handler {
	return bot.HandlerFunc(func(c *bot.Context) error {
		m := c.Message()
		if _, err := fmt.Fprintf(f, "%s %d %s\n", m.ConversationID, m.Seq, name); err != nil {
			return err
		}
		if reply {
			return c.Reply("re " + m.Text())
		}
		return nil
	})
}

// runWorker runs a worker in this process until ctx ends.
func runWorker(ctx context.Context, t testing.TB, natsURL, out string, reply bool, name string) <-chan error {
	t.Helper()
	nc, js, err := cluster.Connect(ctx, natsURL, name)
	if err != nil {
		t.Fatal(err)
	}
	w, err := cluster.NewWorker(ctx, cluster.Config{BotID: botID, LeaseTTL: leaseTTL, Replicas: replicas, Logger: testLogger(t).With("p", name)}, nc, js)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(out, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	b, err := bot.New(bot.WithUser(botID), bot.WithStorage(filepath.Join(filepath.Dir(out), name+".db")),
		bot.WithHandler(recorder(f, reply, name)), bot.WithRateLimit(0, 0), w.BotOption())
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		err := w.Run(ctx, b)
		f.Close()
		nc.Close()
		done <- err
	}()
	return done
}

// TestWorkerChild is a worker process of the kill tests; it is skipped
// unless one of them runs it. It stops when its stdin closes.
func TestWorkerChild(t *testing.T) {
	if os.Getenv(childEnv) != "worker" {
		t.Skip("runs only as a child process of the cluster tests")
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	if err := <-runWorker(ctx, t, os.Getenv("CT_NATS"), os.Getenv("CT_OUT"), false, os.Getenv("CT_NAME")); err != nil {
		t.Fatal(err)
	}
}

// key is the "conversation seq" of a record line.
func key(l string) string {
	f := strings.Fields(l)
	if len(f) < 2 {
		return l
	}
	return f[0] + " " + f[1]
}

// by returns the handler (worker name) of a record line.
func by(l string) string {
	f := strings.Fields(l)
	if len(f) < 3 {
		return ""
	}
	return f[2]
}

func unique(lines []string) int {
	seen := make(map[string]bool, len(lines))
	for _, l := range lines {
		seen[key(l)] = true
	}
	return len(seen)
}

// waitHandled waits until n distinct messages were recorded.
func waitHandled(t testing.TB, path string, n int, within time.Duration) []string {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		lines := testchild.Lines(t, path)
		if unique(lines) >= n {
			return lines
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d messages handled after %v", unique(lines), n, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// check verifies the record against the sandbox: every message handled,
// first handlings in seq order per conversation; it returns the lost and
// repeated counts.
func check(t testing.TB, s *sandbox.Server, lines []string, perConv int64) (lost, repeated int) {
	t.Helper()
	last := map[string]int64{}
	seen := map[string]bool{}
	for _, l := range lines {
		var conv string
		var seq int64
		if _, err := fmt.Sscanf(l, "%s %d", &conv, &seq); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		if seen[key(l)] {
			repeated++
			continue
		}
		seen[key(l)] = true
		if seq != last[conv]+1 {
			t.Errorf("out of order: %s seq %d first handled after seq %d", conv, seq, last[conv])
		}
		last[conv] = seq
	}
	var missing []string
	for u := range users {
		conv := content.SingleConversationID(botID, fmt.Sprint("u", u))
		for seq := int64(1); seq <= perConv; seq++ {
			if !seen[fmt.Sprintf("%s %d", conv, seq)] {
				lost++
				missing = append(missing, fmt.Sprintf("%s %d", conv, seq))
			}
		}
	}
	if lost > 0 && streamURL != "" {
		inStream := streamContents(t, streamURL)
		for _, k := range missing {
			t.Logf("lost %s: in the stream: %s", k, inStream[k])
		}
	}
	return lost, repeated
}

// streamURL is the NATS URL of the running test, for diagnostics.
var streamURL string

// streamContents maps "conversation seq" to where each message sits in the
// stream ("partition/stream seq").
func streamContents(t testing.TB, url string) map[string]string {
	nc, js, err := cluster.Connect(context.Background(), url, "probe")
	if err != nil {
		t.Log(err)
		return nil
	}
	defer nc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := js.OrderedConsumer(ctx, "openimbot_"+botID, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Log(err)
		return nil
	}
	out := map[string]string{}
	for {
		b, err := c.Fetch(1000, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			break
		}
		n := 0
		for m := range b.Messages() {
			n++
			var cm content.Message
			if json.Unmarshal(m.Data(), &cm) == nil {
				md, _ := m.Metadata()
				out[fmt.Sprintf("%s %d", cm.ConversationID, cm.Seq)] = fmt.Sprintf("%s/%d", m.Subject(), md.Sequence.Stream)
			}
		}
		if n == 0 {
			break
		}
	}
	return out
}

// One worker, a second one added mid-stream: 10,000 messages over 100
// conversations handled exactly once, in order per conversation, and every
// handler's reply sent through the ingress.
func TestExactlyOnceWorkerJoins(t *testing.T) {
	e := startNATS(t)
	s := startSandbox(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "handled.txt")
	startIngress(t, e.URL(), s, dir)

	ctx, cancel := context.WithCancel(context.Background())
	w1 := runWorker(ctx, t, e.URL(), out, true, "w1")
	var sending sync.WaitGroup
	sending.Add(1)
	go func() { defer sending.Done(); send(t, s, 0, total) }()
	waitHandled(t, out, total/4, 60*time.Second)
	w2 := runWorker(ctx, t, e.URL(), out, true, "w2")
	sending.Wait()
	lines := waitHandled(t, out, total, 90*time.Second)
	time.Sleep(200 * time.Millisecond) // anything handled twice shows up now
	lines = testchild.Lines(t, out)
	lost, repeated := check(t, s, lines, total/users)
	per := map[string]int{}
	for _, l := range lines {
		per[by(l)]++
	}
	t.Logf("worker joins: %d messages, %d handled (%v), lost %d, repeated %d", total, len(lines), per, lost, repeated)
	if per["w2"] == 0 {
		t.Error("the worker added mid-stream handled nothing")
	}
	if lost != 0 || repeated != 0 {
		t.Errorf("lost %d, repeated %d: want 0 and 0", lost, repeated)
	}
	// Every reply reached the sandbox: 100 messages and 100 replies per conversation.
	deadline := time.Now().Add(30 * time.Second)
	for u := 0; u < users; u++ {
		conv := content.SingleConversationID(botID, fmt.Sprint("u", u))
		for s.MaxSeq(conv) < 2*total/users && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if got := s.MaxSeq(conv); got != 2*total/users {
			t.Errorf("%s: max seq %d, want %d (every message and its reply)", conv, got, 2*total/users)
		}
	}
	cancel()
	for _, w := range []<-chan error{w1, w2} {
		if err := <-w; err != nil {
			t.Errorf("worker: %v", err)
		}
	}
}

// Two worker processes; one killed with SIGKILL mid-stream: its partitions
// are taken over, nothing is lost, order holds, and only messages it was
// handed and had not acknowledged are handled again.
func TestWorkerKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("runs child processes")
	}
	e := startNATS(t)
	s := startSandbox(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "handled.txt")
	startIngress(t, e.URL(), s, dir)
	env := []string{childEnv + "=worker", "CT_NATS=" + e.URL(), "CT_OUT=" + out}
	c1 := testchild.Start(t, "TestWorkerChild", append(env, "CT_NAME=w1")...)
	testchild.Start(t, "TestWorkerChild", append(env, "CT_NAME=w2")...)
	var sending sync.WaitGroup
	sending.Add(1)
	go func() { defer sending.Done(); send(t, s, 0, total) }()
	waitHandled(t, out, total/3, 60*time.Second)
	if err := c1.Cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	atKill := len(testchild.Lines(t, out))
	sending.Wait()
	lines := waitHandled(t, out, total, 90*time.Second)
	time.Sleep(300 * time.Millisecond)
	lines = testchild.Lines(t, out)
	lost, repeated := check(t, s, lines, total/users)
	t.Logf("worker SIGKILLed after %d handled: %d messages, %d handled, lost %d, repeated %d", atKill, total, len(lines), lost, repeated)
	if lost != 0 {
		t.Errorf("lost %d", lost)
	}
	if bound := 16 * 512; repeated > bound {
		t.Errorf("repeated %d > %d (partitions x unacknowledged per partition)", repeated, bound)
	}
}

// TestIngressChild is an ingress process of TestIngressTakeover; skipped
// otherwise. It runs until killed or its stdin closes.
func TestIngressChild(t *testing.T) {
	if os.Getenv(childEnv) != "ingress" {
		t.Skip("runs only as a child process of the cluster tests")
	}
	g := startIngressAt(t, os.Getenv("CT_NATS"), os.Getenv("CT_WS"), os.Getenv("CT_API"), os.Getenv("CT_DB"))
	_, _ = io.Copy(io.Discard, os.Stdin)
	g.stop()
}

// The active ingress (a child process) killed with SIGKILL mid-stream: the
// standby takes the lease within seconds, resumes from the watermarks kept
// in JetStream (its own database has none) and nothing is lost or repeated:
// what the dead one published and the standby publishes again is dropped
// by the stream's dedup.
func TestIngressTakeover(t *testing.T) {
	if testing.Short() {
		t.Skip("runs child processes")
	}
	e := startNATS(t)
	s := startSandbox(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "handled.txt")
	a := testchild.Start(t, "TestIngressChild", childEnv+"=ingress", "CT_NATS="+e.URL(), "CT_WS="+s.WSURL(), "CT_API="+s.APIURL(),
		"CT_DB="+filepath.Join(dir, "a.db"))
	// The child takes the lease first.
	time.Sleep(time.Second)
	b := startIngressAt(t, e.URL(), s.WSURL(), s.APIURL(), filepath.Join(dir, "b.db"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := runWorker(ctx, t, e.URL(), out, false, "w1")
	var sending sync.WaitGroup
	sending.Add(1)
	go func() { defer sending.Done(); send(t, s, 0, total) }()
	waitHandled(t, out, total/3, 60*time.Second)
	if b.in.Active() {
		t.Fatalf("the second ingress is active while the first runs:\n%s", a.Out.String())
	}
	if err := a.Cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	killed := time.Now()
	atKill := len(testchild.Lines(t, out))
	inStream := streamMsgs(t, e.URL())
	for !b.in.Active() {
		if time.Since(killed) > 15*time.Second {
			t.Fatal("the standby did not take over within 15s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	takeover := time.Since(killed)
	sending.Wait()
	lines := waitHandled(t, out, total, 90*time.Second)
	time.Sleep(300 * time.Millisecond)
	lines = testchild.Lines(t, out)
	lost, repeated := check(t, s, lines, total/users)
	t.Logf("active ingress SIGKILLed after %d published, %d handled; standby active after %v, re-published %d (dropped by dedup): %d messages, %d handled, lost %d, repeated %d",
		inStream, atKill, takeover.Round(time.Millisecond), b.in.Duplicates(), total, len(lines), lost, repeated)
	if d := b.in.Duplicates(); d > int64(inStream)/2 {
		t.Errorf("the standby re-published %d messages: it did not resume from the watermarks in JetStream", d)
	}
	if lost != 0 {
		t.Errorf("lost %d", lost)
	}
	if repeated > 0 {
		t.Errorf("repeated %d: the stream's dedup should drop every re-publish", repeated)
	}
	cancel()
	<-w
}

// streamMsgs returns the number of messages in the bot's stream.
func streamMsgs(t testing.TB, url string) uint64 {
	t.Helper()
	nc, js, err := cluster.Connect(context.Background(), url, "probe")
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	st, err := js.Stream(context.Background(), "openimbot_"+botID)
	if err != nil {
		t.Fatal(err)
	}
	return st.CachedInfo().State.Msgs
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startCluster3 starts three NATS servers with JetStream in one cluster on
// loopback and waits until JetStream answers with replicas 3.
func startCluster3(t *testing.T) ([]*cluster.Embedded, string) {
	t.Helper()
	ports := []int{freePort(t), freePort(t), freePort(t)}
	var routes []string
	for _, p := range ports {
		routes = append(routes, fmt.Sprintf("nats://127.0.0.1:%d", p))
	}
	nodes := make([]*cluster.Embedded, 3)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for i := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e, err := cluster.StartEmbedded(cluster.EmbeddedOptions{
				Listen: "127.0.0.1:0", StoreDir: t.TempDir(), ServerName: fmt.Sprint("n", i),
				ClusterName: "test", ClusterListen: fmt.Sprintf("127.0.0.1:%d", ports[i]), Routes: routes,
			})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			nodes[i] = e
		}()
	}
	wg.Wait()
	for _, e := range nodes {
		if e != nil {
			t.Cleanup(e.Close)
		}
	}
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	var urls []string
	for _, e := range nodes {
		urls = append(urls, e.URL())
	}
	url := strings.Join(urls, ",")
	deadline := time.Now().Add(30 * time.Second)
	for {
		nc, js, err := cluster.Connect(context.Background(), url, "probe")
		if err == nil {
			_, err = js.CreateOrUpdateKeyValue(context.Background(), jetstream.KeyValueConfig{Bucket: "probe", Replicas: 3})
			nc.Close()
			if err == nil {
				streamURL = url
				return nodes, url
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the JetStream cluster is not up after 30s: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// One node of a three-node JetStream cluster (replicas 3) stopped
// mid-stream: the stream leader, the node the most is at stake on. Nothing
// is lost; repeats are bounded by what the workers had not acknowledged.
func TestNATSNodeLoss(t *testing.T) {
	if testing.Short() {
		t.Skip("three NATS servers")
	}
	leaseTTL, replicas = 6*time.Second, 3
	defer func() { leaseTTL, replicas = 3*time.Second, 1 }()
	nodes, url := startCluster3(t)
	s := startSandbox(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "handled.txt")
	startIngress(t, url, s, dir)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w1 := runWorker(ctx, t, url, out, false, "w1")
	w2 := runWorker(ctx, t, url, out, false, "w2")
	var sending sync.WaitGroup
	sending.Add(1)
	go func() { defer sending.Done(); send(t, s, 0, total) }()
	waitHandled(t, out, total/3, 60*time.Second)

	nc, js, err := cluster.Connect(context.Background(), url, "probe")
	if err != nil {
		t.Fatal(err)
	}
	st, err := js.Stream(context.Background(), "openimbot_"+botID)
	if err != nil {
		t.Fatal(err)
	}
	leader := st.CachedInfo().Cluster.Leader
	nc.Close()
	victim := -1
	for i, e := range nodes {
		if e.Server.Name() == leader {
			victim = i
		}
	}
	if victim < 0 {
		t.Fatalf("stream leader %q is none of the nodes", leader)
	}
	atStop := len(testchild.Lines(t, out))
	nodes[victim].Close()
	sending.Wait()
	lines := waitHandled(t, out, total, 120*time.Second)
	time.Sleep(300 * time.Millisecond)
	lines = testchild.Lines(t, out)
	lost, repeated := check(t, s, lines, total/users)
	t.Logf("NATS node %s (stream leader) stopped after %d handled: %d messages, %d handled, lost %d, repeated %d",
		leader, atStop, total, len(lines), lost, repeated)
	if lost != 0 {
		t.Errorf("lost %d", lost)
	}
	if bound := 16 * 512; repeated > bound {
		t.Errorf("repeated %d > %d", repeated, bound)
	}
	cancel()
	<-w1
	<-w2
}

// A worker's sends go through the ingress's rate limit and come back with
// the real result: the first reply is sent, the second is refused with a
// *bot.RateLimitError, as in one process.
func TestRelayedSendRateLimit(t *testing.T) {
	ingressOpts = []bot.Option{bot.WithRateLimit(0.001, 1)}
	defer func() { ingressOpts = nil }()
	e := startNATS(t)
	s := startSandbox(t)
	startIngress(t, e.URL(), s, t.TempDir())
	results := make(chan error, 2)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := runWorkerHandler(ctx, t, e.URL(), bot.HandlerFunc(func(c *bot.Context) error {
		results <- c.Reply("first")
		results <- c.Reply("second")
		return nil
	}), "w1", 0)
	if _, err := s.SendText("u1", botID, "hi"); err != nil {
		t.Fatal(err)
	}
	var got []error
	for range 2 {
		select {
		case err := <-results:
			got = append(got, err)
		case <-time.After(30 * time.Second):
			t.Fatal("the worker did not handle the message")
		}
	}
	var rl *bot.RateLimitError
	if got[0] != nil || !errors.As(got[1], &rl) || !errors.Is(got[1], bot.ErrRateLimited) {
		t.Errorf("replies: %v, %v; want nil and a *bot.RateLimitError", got[0], got[1])
	}
	conv := content.SingleConversationID(botID, "u1")
	if n := s.MaxSeq(conv); n != 2 {
		t.Errorf("%s: max seq %d, want 2 (the message and one reply)", conv, n)
	}
	cancel()
	<-done
}
