package sandbox_test

// Memory of the sandbox under hostile gzip frames, measured as the RSS of
// a sandbox running in a child process (the test binary re-executed).

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"google.golang.org/protobuf/proto"

	"github.com/openimbot/openimbot/internal/pb/sdkws"
	"github.com/openimbot/openimbot/sandbox"
)

const childEnv = "OPENIMBOT_SANDBOX_CHILD"

// childInfo is what the child sandbox prints on its first line.
type childInfo struct {
	WS     string   `json:"ws"`
	Users  []string `json:"users"`
	Tokens []string `json:"tokens"`
}

// TestSandboxChildProcess is not a test: run with OPENIMBOT_SANDBOX_CHILD=n
// it is a sandbox with n registered users (u0, u1, ...) that prints its
// address and their tokens as one JSON line and serves until its stdin
// closes.
func TestSandboxChildProcess(t *testing.T) {
	n, err := strconv.Atoi(os.Getenv(childEnv))
	if err != nil {
		t.Skip("only run as a child process")
	}
	s, err := sandbox.Start(context.Background(), sandbox.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	info := childInfo{WS: s.WSURL()}
	for i := range n {
		u := "u" + strconv.Itoa(i)
		if err := s.RegisterUser(u, u); err != nil {
			t.Fatal(err)
		}
		tok, err := s.UserToken(u, 1)
		if err != nil {
			t.Fatal(err)
		}
		info.Users = append(info.Users, u)
		info.Tokens = append(info.Tokens, tok)
	}
	// A group of everyone with 100 messages of 8 KB: a pull of all of
	// them is an answer of about 850 KB.
	if err := s.CreateGroup("big", info.Users...); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 100 {
		text := make([]byte, 8000)
		for i := range text {
			text[i] = byte('a' + rng.IntN(26))
		}
		if _, err := s.SendGroupText(info.Users[0], "big", string(text)); err != nil {
			t.Fatal(err)
		}
	}
	b, _ := json.Marshal(info)
	os.Stdout.Write(append(b, '\n'))
	io.Copy(io.Discard, os.Stdin)
}

// child is a sandbox running in a child process.
type child struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	info  childInfo
}

func startChild(tb testing.TB, users int) *child {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestSandboxChildProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+strconv.Itoa(users))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	c := &child{cmd: cmd, stdin: stdin}
	tb.Cleanup(func() {
		stdin.Close()
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	line, err := bufio.NewReader(stdout).ReadBytes('\n')
	if err != nil {
		tb.Fatalf("child sandbox: %v", err)
	}
	if err := json.Unmarshal(line, &c.info); err != nil {
		tb.Fatalf("child sandbox said %q: %v", line, err)
	}
	return c
}

// procKB returns a "Vm..." figure of /proc/PID/status in KiB.
func (c *child) procKB(tb testing.TB, field string) int {
	tb.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(c.cmd.Process.Pid) + "/status")
	if err != nil {
		tb.Skipf("no /proc: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			if err != nil {
				tb.Fatalf("%s: %q", field, line)
			}
			return n
		}
	}
	tb.Fatalf("no %s in /proc/PID/status", field)
	return 0
}

func (c *child) dial(tb testing.TB, i int) *websocket.Conn {
	tb.Helper()
	q := url.Values{}
	q.Set("sendID", c.info.Users[i])
	q.Set("token", c.info.Tokens[i])
	q.Set("platformID", "1")
	q.Set("operationID", "op"+strconv.Itoa(i))
	q.Set("isBackground", "false")
	q.Set("compression", "gzip")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, resp, err := websocket.Dial(ctx, c.info.WS+"?"+q.Encode(), nil)
	if err != nil {
		var body []byte
		if resp != nil && resp.Body != nil {
			body, _ = io.ReadAll(resp.Body)
		}
		tb.Fatalf("dial %s: %v %s", c.info.Users[i], err, body)
	}
	ws.SetReadLimit(4 << 20)
	return ws
}

// gzipLevel9 compresses b at BestCompression.
func gzipLevel9(b []byte) []byte {
	var z bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&z, gzip.BestCompression)
	zw.Write(b)
	zw.Close()
	return z.Bytes()
}

// bombFrame is a gzip frame of about 48 KB that inflates to about 48 MB:
// the largest ratio deflate allows, under the gateway's 51200-byte limit.
func bombFrame(tb testing.TB) []byte {
	f := gzipLevel9(make([]byte, 48<<20))
	if len(f) > 51200 {
		tb.Fatalf("bomb frame is %d bytes", len(f))
	}
	return f
}

// bigFrame is a valid request frame of about 1 KB that inflates to about
// 1000 KB (within the limit of what the gateway inflates): a 1001 whose
// payload is a long unknown protobuf field, answered with an error.
func bigFrame(user string) []byte {
	data := make([]byte, 1000<<10)
	// Field 15, length-delimited, with a 1000 KB - 4 byte body: valid
	// protobuf that GetMaxSeqReq skips as an unknown field.
	n := len(data) - 4
	copy(data, []byte{15<<3 | 2, byte(n&0x7f | 0x80), byte(n>>7&0x7f | 0x80), byte(n >> 14)})
	return encodeReq(GeneralWsReq{ReqIdentifier: 1001, SendID: user, OperationID: "big", MsgIncr: user + "_big", Data: data}, false, true)
}

// bombRun is one run of the gzip bomb scenario against a fresh child
// sandbox: rounds of 50 connections sending a 48 KB bomb each at the same
// time, then 40 connections that send one valid frame inflating to about
// 1 MB, pull an answer of about 850 KB and stay idle. It returns the peak RSS (VmHWM) of the sandbox and
// its RSS while the 40 connections are idle, in MB.
func bombRun(tb testing.TB) (peakMB, idleMB float64) {
	const conns, rounds, idle = 50, 3, 40
	c := startChild(tb, conns)
	bomb := bombFrame(tb)
	for range rounds {
		var wg sync.WaitGroup
		wss := make([]*websocket.Conn, conns)
		for i := range conns {
			wss[i] = c.dial(tb, i)
		}
		start := make(chan struct{})
		for i, ws := range wss {
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer ws.CloseNow()
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				<-start
				if err := ws.Write(ctx, websocket.MessageBinary, bomb); err != nil {
					tb.Errorf("conn %d: write: %v", i, err)
					return
				}
				// The sandbox closes a connection whose frame inflates
				// past its limit; wait for that (or an answer).
				for {
					if _, _, err := ws.Read(ctx); err != nil {
						return
					}
				}
			}()
		}
		close(start)
		wg.Wait()
	}
	var wss []*websocket.Conn
	for i := range idle {
		ws := c.dial(tb, i)
		defer ws.CloseNow()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if err := ws.Write(ctx, websocket.MessageBinary, bigFrame(c.info.Users[i])); err != nil {
			tb.Fatalf("conn %d: write: %v", i, err)
		}
		typ, b, err := ws.Read(ctx)
		cancel()
		if err != nil || typ != websocket.MessageBinary {
			tb.Fatalf("conn %d: no answer to a valid 1 MB frame: %v", i, err)
		}
		if r, err := decodeResp(b, false, true); err != nil || r.MsgIncr != c.info.Users[i]+"_big" {
			tb.Fatalf("conn %d: answer %+v, %v", i, r, err)
		}
		pull, _ := proto.Marshal(&sdkws.PullMessageBySeqsReq{UserID: c.info.Users[i], Order: sdkws.PullOrder_PullOrderAsc,
			SeqRanges: []*sdkws.SeqRange{{ConversationID: "sg_big", Begin: 1, End: 200, Num: 200}}})
		ctx, cancel = context.WithTimeout(context.Background(), 30*time.Second)
		if err := ws.Write(ctx, websocket.MessageBinary, encodeReq(GeneralWsReq{ReqIdentifier: 1002, SendID: c.info.Users[i], OperationID: "pull", MsgIncr: "pull", Data: pull}, false, true)); err != nil {
			tb.Fatalf("conn %d: write: %v", i, err)
		}
		for {
			_, b, err := ws.Read(ctx)
			if err != nil {
				tb.Fatalf("conn %d: no answer to a pull: %v", i, err)
			}
			r, err := decodeResp(b, false, true)
			if err != nil {
				tb.Fatal(err)
			}
			if r.MsgIncr != "pull" {
				continue // a push
			}
			var pr sdkws.PullMessageBySeqsResp
			if err := proto.Unmarshal(r.Data, &pr); err != nil || len(pr.Msgs["sg_big"].GetMsgs()) < 100 {
				tb.Fatalf("conn %d: pull answer: %v", i, err)
			}
			break
		}
		cancel()
		wss = append(wss, ws)
	}
	time.Sleep(500 * time.Millisecond)
	idleMB = float64(c.procKB(tb, "VmRSS")) / 1024
	peakMB = float64(c.procKB(tb, "VmHWM")) / 1024
	for _, ws := range wss {
		ws.CloseNow()
	}
	return peakMB, idleMB
}

// Gzip bombs do not blow up the sandbox's memory: 50 connections sending
// 48 KB frames that inflate to 48 MB at once, three times, then 40 idle
// connections that each sent a valid frame inflating to 1 MB and pulled an
// answer of 850 KB, keep the sandbox's peak RSS within 100 MB. (Before, one such bomb took the
// sandbox to about 100 MB and 50 at once to about 2 GB; idle connections
// kept their inflate buffers.) BenchmarkGzipBombRSS reports the figures.
func TestGzipBombMemory(t *testing.T) {
	if raceEnabled {
		t.Skip("RSS under the race detector is not the sandbox's; BenchmarkGzipBombRSS measures it")
	}
	if testing.Short() {
		t.Skip("-short; BenchmarkGzipBombRSS measures the same")
	}
	peak, idle := bombRun(t)
	t.Logf("sandbox peak RSS %.1f MB, RSS with 40 idle connections %.1f MB", peak, idle)
	if peak > 100 {
		t.Errorf("peak RSS %.1f MB, want <= 100 MB", peak)
	}
	if idle > 60 {
		t.Errorf("RSS with 40 idle connections %.1f MB, want <= 60 MB", idle)
	}
}

// BenchmarkGzipBombRSS runs the scenario of TestGzipBombMemory once per
// iteration against a fresh child sandbox and reports its peak RSS and
// its RSS with 40 idle connections.
func BenchmarkGzipBombRSS(b *testing.B) {
	var peak, idle float64
	n := 0
	for b.Loop() {
		p, i := bombRun(b)
		peak, idle = max(peak, p), max(idle, i)
		n++
	}
	b.ReportMetric(peak, "peak-RSS-MB")
	b.ReportMetric(idle, "idle-RSS-MB")
	_ = fmt.Sprint(n)
}
