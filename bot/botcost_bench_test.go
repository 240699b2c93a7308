package bot_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openimbot/openimbot/bot"
	"github.com/openimbot/openimbot/content"
	"github.com/openimbot/openimbot/sandbox"
)

const costChildEnv = "OPENIMBOT_COST_SANDBOX"

// costUsers is how many conversations BenchmarkBotCost spreads its
// messages over.
const costUsers = 100

// TestBotCostSandboxChild is the sandbox process of BenchmarkBotCost; it
// is skipped unless the benchmark runs it. It registers "bot" and
// costUsers users, prints "READY <ws> <api>", then for each line
// "RUN <n> <window>" on its stdin injects n texts (benchRouter's, round
// robin over the users) with at most window awaiting their reply, and
// prints "DONE <elapsed ns> <p50 µs> <p99 µs>" (latency from injection to
// the sandbox accepting the reply). It ends when its stdin closes.
func TestBotCostSandboxChild(t *testing.T) {
	if os.Getenv(costChildEnv) == "" {
		t.Skip("runs only as the child process of BenchmarkBotCost")
	}
	s, err := sandbox.Start(context.Background(), sandbox.Config{SendQueue: 4096})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ids := benchUsers(t, s, costUsers)
	_, texts := benchRouter(t)
	replies, unsub := s.SubscribeFrom(4096, "bot")
	defer unsub()
	fmt.Printf("READY %s %s\n", s.WSURL(), s.APIURL())
	in := newLineReader(os.Stdin)
	next := 0 // the index of the next text, across runs
	for {
		line, ok := in()
		if !ok {
			return
		}
		f := strings.Fields(line)
		if len(f) != 3 || f[0] != "RUN" {
			t.Fatalf("unexpected command %q", line)
		}
		n, _ := strconv.Atoi(f[1])
		window, _ := strconv.Atoi(f[2])
		el, lat := closedLoop(t, s, replies, ids, texts, &next, n, window)
		slices.Sort(lat)
		fmt.Printf("DONE %d %d %d\n", el.Nanoseconds(), percentile(lat, 0.50).Microseconds(), percentile(lat, 0.99).Microseconds())
	}
}

// newLineReader returns a function reading f's lines one at a time.
func newLineReader(f *os.File) func() (string, bool) {
	var buf []byte
	one := make([]byte, 1)
	return func() (string, bool) {
		buf = buf[:0]
		for {
			n, err := f.Read(one)
			if n == 1 {
				if one[0] == '\n' {
					return string(buf), true
				}
				buf = append(buf, one[0])
			}
			if err != nil {
				return "", false
			}
		}
	}
}

// benchUsers registers "bot" and n users user000…, and returns the users.
func benchUsers(tb testing.TB, s *sandbox.Server, n int) []string {
	must(tb, s.RegisterUser("bot", "Bot"))
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("user%03d", i)
		must(tb, s.RegisterUser(ids[i], ids[i]))
	}
	return ids
}

// percentile returns the p-quantile (0 <= p <= 1) of sorted, 0 when it is
// empty.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(float64(len(sorted))*p))]
}

// closedLoop injects n texts from ids to the bot with at most window
// unanswered, and returns the time until the last reply arrived and the
// latency of each. Outstanding messages are kept per user, FIFO: a
// conversation is handled and answered in order, so a reply answers the
// user's oldest message.
func closedLoop(t testing.TB, s *sandbox.Server, replies <-chan content.Message, ids, texts []string, next *int, n, window int) (time.Duration, []time.Duration) {
	var mu sync.Mutex
	pending := make(map[string][]time.Time, len(ids))
	slots := make(chan struct{}, window)
	lat := make([]time.Duration, 0, n)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for got := 0; got < n; {
			m := <-replies
			if m.SendID != "bot" {
				continue
			}
			now := time.Now()
			mu.Lock()
			q := pending[m.RecvID]
			if len(q) == 0 {
				mu.Unlock()
				t.Errorf("unexpected reply to %s", m.RecvID)
				continue
			}
			lat = append(lat, now.Sub(q[0]))
			pending[m.RecvID] = q[1:]
			mu.Unlock()
			<-slots
			got++
		}
	}()
	start := time.Now()
	for range n {
		i := *next
		*next++
		slots <- struct{}{}
		u := ids[i%len(ids)]
		mu.Lock()
		pending[u] = append(pending[u], time.Now())
		mu.Unlock()
		if _, err := s.SendText(u, "bot", texts[(i/len(ids)+i)%len(texts)]); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatalf("replies stalled")
	}
	return time.Since(start), lat
}

// BenchmarkBotCost is BenchmarkPipeline with the sandbox and the message
// injection in a child process (TestBotCostSandboxChild), so that the
// CPU time and allocations of this process are the bot's own: messages
// pushed to the bot over one websocket, routed over benchRouter's 100
// routes, one reply each, a durable watermark, pipelineWindow messages
// in flight over 100 conversations. One op is one message. It reports
// the bot process's CPU time (getrusage, user+system) and heap
// allocations (runtime.MemStats.Mallocs) per message, msgs/s and the
// p50/p99 latency from injection to the sandbox accepting the reply.
// Before the timed run, 2,000 messages warm the connection, router and
// storage up.
func BenchmarkBotCost(b *testing.B) {
	for _, gz := range []bool{false, true} {
		b.Run(codecName(gz), func(b *testing.B) { benchBotCost(b, gz) })
	}
}

func benchBotCost(b *testing.B, gz bool) {
	ch := startSandboxChild(b, "TestBotCostSandboxChild", costChildEnv+"=1")
	defer ch.stop()
	run := func(n int) (el time.Duration, p50, p99 float64) {
		if _, err := fmt.Fprintf(ch.in, "RUN %d %d\n", n, pipelineWindow); err != nil {
			b.Fatal(err)
		}
		for ch.out.Scan() {
			f := strings.Fields(ch.out.Text())
			if len(f) == 4 && f[0] == "DONE" {
				ns, _ := strconv.ParseInt(f[1], 10, 64)
				p50, _ = strconv.ParseFloat(f[2], 64)
				p99, _ = strconv.ParseFloat(f[3], 64)
				return time.Duration(ns), p50, p99
			}
		}
		b.Fatalf("the sandbox child ended: %v", ch.out.Err())
		return
	}
	r, _ := benchRouter(b)
	synced := make(chan struct{})
	var once sync.Once
	bt, err := bot.New(
		bot.WithGateway(ch.ws), bot.WithUser("bot"), bot.WithAdminSecret(ch.api, sandbox.DefaultSecret),
		bot.WithStorage(filepath.Join(b.TempDir(), "bot.db")),
		bot.WithHandler(r), bot.WithCompression(gz), bot.WithRateLimit(0, 0),
		bot.WithOnSynced(func() { once.Do(func() { close(synced) }) }),
	)
	must(b, err)
	defer runSynced(b, bt, synced)()
	run(2000)

	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	b.ResetTimer()
	io0 := procIO()
	cpu0 := cpuTime()
	el, p50, p99 := run(b.N)
	cpu := cpuTime() - cpu0
	io1 := procIO()
	b.StopTimer()
	runtime.ReadMemStats(&ms1)
	b.ReportMetric(float64(b.N)/el.Seconds(), "msgs/s")
	b.ReportMetric(p50, "p50-µs")
	b.ReportMetric(p99, "p99-µs")
	b.ReportMetric(float64(cpu.Nanoseconds())/1e3/float64(b.N), "bot-cpu-µs/msg")
	b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/float64(b.N), "bot-allocs/msg")
	b.ReportMetric(float64(ms1.TotalAlloc-ms0.TotalAlloc)/float64(b.N), "bot-B/msg")
	if io0 != nil && io1 != nil {
		b.ReportMetric(float64(io1["syscr"]-io0["syscr"])/float64(b.N), "bot-reads/msg")
		b.ReportMetric(float64(io1["syscw"]-io0["syscw"])/float64(b.N), "bot-writes/msg")
	}
}

// procIO returns the process's I/O counters from /proc/self/io (syscr and
// syscw count read and write system calls, sockets included), or nil where
// there is no such file.
func procIO() map[string]int64 {
	data, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return nil
	}
	m := make(map[string]int64)
	for _, line := range strings.Split(string(data), "\n") {
		k, v, ok := strings.Cut(line, ": ")
		if ok {
			m[k], _ = strconv.ParseInt(v, 10, 64)
		}
	}
	return m
}
