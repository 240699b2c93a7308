package transport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// recConn records the socket writes of a batchConn.
type recConn struct {
	net.Conn // nil: only the methods below are used
	mu       sync.Mutex
	writes   [][]byte
	fail     error
	closed   bool
}

func (r *recConn) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return 0, r.fail
	}
	r.writes = append(r.writes, bytes.Clone(p))
	return len(p), nil
}

func (r *recConn) SetWriteDeadline(time.Time) error { return nil }

func (r *recConn) Close() error {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	return nil
}

func (r *recConn) snapshot() (n int, all string, closed bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, w := range r.writes {
		all += string(w)
	}
	return len(r.writes), all, r.closed
}

// Frames written while flushing is deferred go out together in one socket
// write, in order; a write that is not deferred (a control frame) is sent
// before Write returns.
func TestBatchConnDeferredFramesShareOneWrite(t *testing.T) {
	rc := &recConn{}
	bc := &batchConn{Conn: rc}
	bc.deferFlush(true)
	for _, f := range []string{"one ", "two ", "three "} {
		if _, err := bc.Write([]byte(f)); err != nil {
			t.Fatal(err)
		}
	}
	bc.deferFlush(false)
	if n, _, _ := rc.snapshot(); n != 0 {
		t.Fatalf("%d socket writes before flush", n)
	}
	if err := bc.flush(); err != nil {
		t.Fatal(err)
	}
	if n, all, _ := rc.snapshot(); n != 1 || all != "one two three " {
		t.Fatalf("after flush: %d writes, %q", n, all)
	}
	if _, err := bc.Write([]byte("pong")); err != nil {
		t.Fatal(err)
	}
	if n, all, _ := rc.snapshot(); n != 2 || !strings.HasSuffix(all, "pong") {
		t.Fatalf("a write that is not deferred: %d writes, %q", n, all)
	}
}

// flushSoon's flusher sends what concurrent writers buffered; every byte
// arrives and each writer's frames keep their order. Close stops the
// flusher; a failed socket write closes the connection and later writes
// fail.
func TestBatchConnFlusher(t *testing.T) {
	rc := &recConn{}
	bc := &batchConn{Conn: rc}
	var mu sync.Mutex // as conn.writeMu
	var wg sync.WaitGroup
	const writers, frames = 8, 200
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range frames {
				mu.Lock()
				bc.deferFlush(true)
				bc.Write([]byte{byte('a' + w), byte(i)})
				bc.deferFlush(false)
				mu.Unlock()
				bc.flushSoon()
			}
		}()
	}
	wg.Wait()
	var all string
	for deadline := time.Now().Add(5 * time.Second); ; {
		_, all, _ = rc.snapshot()
		if len(all) == 2*writers*frames {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d bytes sent", len(all), 2*writers*frames)
		}
		time.Sleep(time.Millisecond)
	}
	next := make([]int, writers)
	for i := 0; i < len(all); i += 2 {
		w := int(all[i] - 'a')
		if int(all[i+1]) != next[w]%256 {
			t.Fatalf("writer %d: frame %d arrived when %d was due", w, all[i+1], next[w])
		}
		next[w]++
	}

	rc.mu.Lock()
	rc.fail = errors.New("broken pipe")
	rc.mu.Unlock()
	bc.deferFlush(true)
	bc.Write([]byte("x"))
	bc.deferFlush(false)
	if err := bc.flush(); err == nil {
		t.Fatal("flush after a failed socket write = nil")
	}
	if _, _, closed := rc.snapshot(); !closed {
		t.Fatal("a failed socket write did not close the connection")
	}
	if _, err := bc.Write([]byte("y")); err == nil {
		t.Fatal("Write after a failed socket write = nil")
	}
	if err := bc.Close(); err != nil {
		t.Fatal(err)
	}
	bc.flushSoon() // after Close: no flusher, no panic
}

// Frames that writeMessage builds are read whole and in order by the
// websocket library on the server side, for every length class of the
// header (7-bit, 16-bit, 64-bit) and both message types, while the
// library writes its own pings on the same connection.
func TestBatchConnFramesReadByTheLibrary(t *testing.T) {
	sizes := []int{0, 1, 7, 8, 9, 125, 126, 127, 4000, 5000, 65535, 65536, 200000}
	payload := func(i, n int) []byte {
		b := make([]byte, n)
		for j := range b {
			b[j] = byte(i*31 + j*7)
		}
		return b
	}
	errs := make(chan error, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, nil)
		if err != nil {
			errs <- err
			return
		}
		defer ws.CloseNow()
		ws.SetReadLimit(1 << 20)
		for i := range 2 * len(sizes) {
			typ, got, err := ws.Read(r.Context())
			if err != nil {
				errs <- fmt.Errorf("message %d: %w", i, err)
				return
			}
			want, wantTyp := payload(i, sizes[i%len(sizes)]), websocket.MessageBinary
			if i >= len(sizes) {
				wantTyp = websocket.MessageText
			}
			if typ != wantTyp || !bytes.Equal(got, want) {
				errs <- fmt.Errorf("message %d: %v of %d bytes, want %v of %d bytes as sent", i, typ, len(got), wantTyp, len(want))
				return
			}
		}
		errs <- ws.Write(r.Context(), websocket.MessageText, []byte("done"))
	}))
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, bc := dialBatch(t, ctx, srv.URL)
	done := make(chan []byte, 1)
	go func() { // reads the pongs and the server's "done"
		_, b, _ := ws.Read(ctx)
		done <- b
	}()
	pingCtx, stopPings := context.WithCancel(ctx)
	pinged := make(chan int)
	go func() {
		n := 0
		for pingCtx.Err() == nil {
			if ws.Ping(pingCtx) == nil {
				n++
			}
		}
		pinged <- n
	}()
	for i := range 2 * len(sizes) {
		op := byte(websocket.MessageBinary)
		if i >= len(sizes) {
			op = byte(websocket.MessageText)
		}
		if err := bc.writeMessage(op, payload(i, sizes[i%len(sizes)])); err != nil {
			t.Fatal(err)
		}
		if i%3 == 0 {
			time.Sleep(time.Millisecond) // let pings fall between frames
		}
	}
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
	if b := <-done; string(b) != "done" {
		t.Fatalf("server's last message %q", b)
	}
	stopPings()
	t.Logf("%d messages read whole beside %d pings", 2*len(sizes), <-pinged)
}

// dialBatch dials the websocket server at the http:// URL u through
// batchHTTPClient and returns the connection and its batchConn; the
// connection is closed when the test ends.
func dialBatch(t *testing.T, ctx context.Context, u string) (*websocket.Conn, *batchConn) {
	t.Helper()
	var bc *batchConn
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(u, "http"), &websocket.DialOptions{
		HTTPClient: batchHTTPClient(func(c *batchConn) { bc = c }, nil),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.CloseNow() })
	return ws, bc
}
