package bot_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openimbot/openimbot/bot"
	"github.com/openimbot/openimbot/sandbox"
)

const catchupChildEnv = "OPENIMBOT_CATCHUP_SANDBOX"

// TestCatchupSandboxChild is the sandbox process of BenchmarkCatchup (so
// that the sandbox's own memory does not count in the bot's heap); it is
// skipped unless the benchmark runs it. It registers "bot" and
// CATCHUP_CONVS users, sends CATCHUP_MSGS texts round-robin from them to
// the bot, prints "READY <ws> <api>" and serves until its stdin closes.
func TestCatchupSandboxChild(t *testing.T) {
	if os.Getenv(catchupChildEnv) == "" {
		t.Skip("runs only as the child process of BenchmarkCatchup")
	}
	convs, _ := strconv.Atoi(os.Getenv("CATCHUP_CONVS"))
	msgs, _ := strconv.Atoi(os.Getenv("CATCHUP_MSGS"))
	s, err := sandbox.Start(context.Background(), sandbox.Config{SendQueue: 4096})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	offlineBacklog(t, s, convs, msgs/convs)
	fmt.Printf("READY %s %s\n", s.WSURL(), s.APIURL())
	_, _ = io.Copy(io.Discard, os.Stdin)
}

// startCatchupSandbox runs TestCatchupSandboxChild with a backlog of msgs
// messages over convs conversations and returns its addresses and a stop
// function.
func startCatchupSandbox(b testing.TB, convs, msgs int) (ws, api string, stop func()) {
	b.Helper()
	ch := startSandboxChild(b, "TestCatchupSandboxChild", catchupChildEnv+"=1",
		"CATCHUP_CONVS="+strconv.Itoa(convs), "CATCHUP_MSGS="+strconv.Itoa(msgs))
	go func() {
		for ch.out.Scan() {
		}
	}()
	return ch.ws, ch.api, ch.stop
}

// sandboxChild is a sandbox served by a child process: the test binary
// re-run as one of its Test...Child functions, which prints
// "READY <ws> <api>" on its stdout and serves until its stdin closes.
type sandboxChild struct {
	ws, api string
	in      io.WriteCloser // the child's stdin
	out     *bufio.Scanner // the child's stdout after the READY line
	stop    func()         // closes stdin and waits for the child
}

// startSandboxChild runs the test binary's test (a Test...Child function)
// in a child process with env added to its environment, and waits for its
// READY line.
func startSandboxChild(b testing.TB, test string, env ...string) *sandboxChild {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), env...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	stop := func() {
		_ = stdin.Close()
		_ = cmd.Wait()
	}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 3 && f[0] == "READY" {
			return &sandboxChild{ws: f[1], api: f[2], in: stdin, out: sc, stop: stop}
		}
	}
	stop()
	b.Fatalf("the sandbox child %s ended before it was ready: %v", test, sc.Err())
	return nil
}

// heapPeak samples the live heap (runtime/metrics heap objects bytes)
// every 2ms until stop is called, which returns the peak.
func heapPeak() (stop func() uint64) {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(sample)
			if v := sample[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-t.C:
			case <-done:
				return
			}
		}
	}()
	return func() uint64 {
		close(done)
		wg.Wait()
		return peak.Load()
	}
}

// BenchmarkCatchup measures a bot coming back to a backlog: msgs missed
// messages over 1,000 conversations (the sandbox runs in a child process),
// BacklogAll, default queues, with and without a reply to each message.
// It reports the time until every message was handled (s-to-handled) and
// the peak live heap of the bot's process during the catch-up
// (peak-heap-MB, sampled every 2ms). Run with -benchtime 1x; each
// iteration fills a new sandbox first (not timed).
func BenchmarkCatchup(b *testing.B) {
	for _, msgs := range []int{100_000, 200_000} {
		for _, reply := range []bool{false, true} {
			name := fmt.Sprintf("msgs=%dk/reply=%v", msgs/1000, reply)
			b.Run(name, func(b *testing.B) { benchCatchup(b, 1000, msgs, reply) })
		}
	}
}

func benchCatchup(b *testing.B, convs, msgs int, reply bool) {
	var secs, peaks []float64
	for range b.N {
		b.StopTimer()
		ws, api, stop := startCatchupSandbox(b, convs, msgs)
		var handled atomic.Int64
		all := make(chan struct{})
		b1, err := bot.New(
			bot.WithGateway(ws), bot.WithUser("bot"), bot.WithAdminSecret(api, sandbox.DefaultSecret),
			bot.WithStorage(filepath.Join(b.TempDir(), "bot.db")), bot.WithBacklog(bot.BacklogAll),
			bot.WithRateLimit(0, 0),
			bot.WithHandler(bot.HandlerFunc(func(c *bot.Context) error {
				if reply {
					if err := c.Reply("ok"); err != nil {
						return err
					}
				}
				if handled.Add(1) == int64(msgs) {
					close(all)
				}
				return nil
			})))
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		ctx, cancel := context.WithCancel(context.Background())
		runErr := make(chan error, 1)
		peak := heapPeak()
		b.StartTimer()
		start := time.Now()
		go func() { runErr <- b1.Run(ctx) }()
		select {
		case <-all:
		case err := <-runErr:
			b.Fatalf("Run ended: %v", err)
		case <-time.After(5 * time.Minute):
			b.Fatalf("handled %d of %d messages in 5 minutes", handled.Load(), msgs)
		}
		el := time.Since(start)
		b.StopTimer()
		p := peak()
		cancel()
		if err := <-runErr; err != nil {
			b.Fatal(err)
		}
		stop()
		secs = append(secs, el.Seconds())
		peaks = append(peaks, float64(p)/(1<<20))
		b.Logf("%d messages over %d conversations, reply %v: all handled in %v, peak heap %.1f MB; %+v",
			msgs, convs, reply, el.Round(time.Millisecond), float64(p)/(1<<20), b1.Stats())
		b.StartTimer()
	}
	b.ReportMetric(mean(secs), "s-to-handled")
	b.ReportMetric(mean(peaks), "peak-heap-MB")
	b.ReportMetric(float64(msgs)/mean(secs), "msgs/s")
}

func mean(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}
