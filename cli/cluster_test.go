package cli

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/openimbot/openimbot/cluster"
	"github.com/openimbot/openimbot/content"
	"github.com/openimbot/openimbot/internal/testchild"
	"github.com/openimbot/openimbot/sandbox"
	"github.com/openimbot/openimbot/schedule"
)

const cliWorkerEnv = "OPENIMBOT_CLI_WORKER"

// TestCLIWorkerChild is `openimbot run -role worker` as a child process of
// TestClusterRoles; skipped otherwise. It stops when its stdin closes.
func TestCLIWorkerChild(t *testing.T) {
	if os.Getenv(cliWorkerEnv) == "" {
		t.Skip("runs only as a child process of TestClusterRoles")
	}
	sigs := make(chan os.Signal, 1)
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		sigs <- syscall.SIGTERM
	}()
	c := &cli{stdin: strings.NewReader(""), stdout: os.Stdout, stderr: os.Stderr, signals: sigs}
	if code := c.main([]string{"run", "-role", "worker", "-config", os.Getenv("CLIW_CONFIG"), "-nats", os.Getenv("CLIW_NATS")}); code != exitOK {
		t.Fatalf("exit %d", code)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startCLIWorker runs `openimbot run -role worker` with config and the
// NATS URL in a child process (TestCLIWorkerChild).
func startCLIWorker(t *testing.T, config, nats string) *testchild.Child {
	t.Helper()
	return testchild.Start(t, "TestCLIWorkerChild", cliWorkerEnv+"=1", "CLIW_CONFIG="+config, "CLIW_NATS="+nats)
}

var heldSome = regexp.MustCompile(`held="\[\d`)

// `openimbot run -role ingress` and two `-role worker` processes answer
// every message of a burst of 2,000 from 50 users, although one worker is
// killed with SIGKILL in the middle.
func TestClusterRoles(t *testing.T) {
	if testing.Short() {
		t.Skip("runs child processes")
	}
	const users, burst = 50, 2000
	// The burst is injected in a tight loop, faster than a loaded machine
	// lets the ingress read its pushes: a queue for all of it keeps the
	// sandbox from dropping the ingress as a slow consumer (which fails the
	// replies in flight), a fault this test is not about.
	s, err := sandbox.Start(context.Background(), sandbox.Config{SendQueue: 4 * burst})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.RegisterUser("bot", "Bot"); err != nil {
		t.Fatal(err)
	}
	for u := range users {
		if err := s.RegisterUser(fmt.Sprint("u", u), ""); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	port := freePort(t)
	p := writeFile(t, dir, "bot.yaml", fmt.Sprintf(`openim:
  ws_addr: %s
  api_addr: %s
  user_id: bot
  admin_secret: %s
storage: {path: %s}
send: {rate: 0}
cluster: {listen: "127.0.0.1:%d", partitions: 8}
rules:
  - {prefix: [m], reply: "re {{.Text}}"}
`, s.WSURL(), s.APIURL(), sandbox.DefaultSecret, filepath.Join(dir, "bot.db"), port))
	nats := fmt.Sprintf("nats://127.0.0.1:%d", port)

	r := startCLI(t, "run", "-role", "ingress", "-config", p)

	w1 := startCLIWorker(t, p, nats)
	w2 := startCLIWorker(t, p, nats)
	deadline := time.Now().Add(20 * time.Second)
	for !heldSome.MatchString(w1.Out.String()) || !heldSome.MatchString(w2.Out.String()) {
		if time.Now().After(deadline) {
			t.Fatalf("workers hold no partitions:\n%s\n%s", w1.Out.String(), w2.Out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}

	replies, unsub := s.Subscribe(4 * burst)
	defer unsub()
	var mu sync.Mutex
	answered := map[string]int{}
	var count sync.WaitGroup
	count.Add(1)
	go func() {
		defer count.Done()
		for m := range replies {
			if m.SendID == "bot" {
				mu.Lock()
				answered[m.RecvID+" "+m.Text()]++
				mu.Unlock()
			}
		}
	}()
	distinct := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(answered)
	}
	go func() {
		for i := range burst {
			if _, err := s.SendText(fmt.Sprint("u", i%users), "bot", fmt.Sprint("m", i)); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for distinct() < burst/4 {
		time.Sleep(time.Millisecond)
	}
	if err := w1.Cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	atKill := distinct()
	deadline = time.Now().Add(60 * time.Second)
	for distinct() < burst && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	unsub()
	count.Wait()
	lost, repeated := 0, 0
	for i := range burst {
		n := answered[fmt.Sprintf("u%d re m%d", i%users, i)]
		if n == 0 {
			lost++
		}
		if n > 1 {
			repeated += n - 1
		}
	}
	t.Logf("burst of %d from %d users, a worker SIGKILLed after %d answers: lost %d, repeated %d", burst, users, atKill, lost, repeated)
	if lost != 0 {
		t.Errorf("%d messages never answered; worker output:\n%s", lost, w2.Out.String())
	}
	conv := content.SingleConversationID("bot", "u0")
	if s.MaxSeq(conv) < 2*burst/users {
		t.Errorf("%s: max seq %d", conv, s.MaxSeq(conv))
	}
	r.stop(t, syscall.SIGTERM)
	if !strings.Contains(r.errOut.String(), "role: ingress") || !strings.Contains(w2.Out.String(), "role: worker") {
		t.Errorf("roles not logged:\n%s\n%s", r.errOut.String(), w2.Out.String())
	}
}

// A worker without a NATS URL, and a bad -role, say so.
func TestClusterRoleErrors(t *testing.T) {
	p := writeFile(t, t.TempDir(), "bot.yaml", "rules:\n  - {full: ping, reply: pong}\n")
	code, _, errOut := runCLI(t, "", "run", "-role", "worker", "-config", p)
	if code != exitRuntime || !strings.Contains(errOut, "no NATS URL (cluster.nats_url)") {
		t.Errorf("worker without nats_url: exit %d: %s", code, errOut)
	}
	code, _, errOut = runCLI(t, "", "run", "-role", "boss", "-config", p)
	if code != exitUsage || !strings.Contains(errOut, `-role "boss": want all, ingress or worker`) {
		t.Errorf("bad role: exit %d: %s", code, errOut)
	}
}

// An ingress keeps its namespaces in JetStream: the schedules' ledger of
// last runs is there after a scheduled send, so a standby that takes over
// knows what the active ingress ran.
func TestIngressScheduleLedgerInJetStream(t *testing.T) {
	if testing.Short() {
		t.Skip("runs NATS and a bot")
	}
	s := startSandbox(t, "bot", "u1")
	e, err := cluster.StartEmbedded(cluster.EmbeddedOptions{Listen: "127.0.0.1:0", StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	dir := t.TempDir()
	p := writeFile(t, dir, "bot.yaml", fmt.Sprintf(`openim:
  ws_addr: %s
  api_addr: %s
  user_id: bot
  admin_secret: %s
storage: {path: %s}
schedules:
  - name: tick
    every: 1s
    send: {to: "user:u1", text: "tick"}
`, s.WSURL(), s.APIURL(), sandbox.DefaultSecret, filepath.Join(dir, "bot.db")))
	msgs, unsub := s.Subscribe(64)
	defer unsub()
	r := startCLI(t, "run", "-role", "ingress", "-nats", e.URL(), "-config", p)
	timeout := time.After(20 * time.Second)
	for ticked := false; !ticked; {
		select {
		case m := <-msgs:
			ticked = m.SendID == "bot" && m.Text() == "tick"
		case <-timeout:
			t.Fatalf("no scheduled message:\n%s", r.errOut.String())
		}
	}
	r.stop(t, syscall.SIGTERM)

	ctx := context.Background()
	_, js, err := cluster.Connect(ctx, e.URL(), "test")
	if err != nil {
		t.Fatal(err)
	}
	be, err := cluster.Namespaces(ctx, cluster.Config{NATSURL: e.URL(), BotID: "bot"}, js)
	if err != nil {
		t.Fatal(err)
	}
	v, ok, err := be.Get(schedule.Namespace, "tick")
	if err != nil || !ok {
		t.Fatalf("the ledger of the job is not in JetStream: %q %v %v", v, ok, err)
	}
	if _, err := time.Parse(time.RFC3339Nano, string(v)); err != nil {
		t.Fatalf("ledger value %q: %v", v, err)
	}
}
