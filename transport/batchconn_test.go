package transport

import (
	"bytes"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
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
