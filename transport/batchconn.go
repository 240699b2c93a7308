package transport

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"math/rand/v2"
	"net"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/openimbot/openimbot/internal/wire"
)

// batchConn is the net.Conn under a gateway websocket. It lets request
// writers hand their frames over without waiting for the socket: they only
// append to a buffer, and a flusher goroutine (flushSoon) sends what is
// buffered with one write once the goroutines ready to run have had their
// turn, so the frames of concurrent requests share one write. On a plain
// (ws://) connection the transport frames and masks its messages itself
// (writeMessage) and the websocket library writes nothing after the
// handshake. Under TLS (wss://) the batchConn carries TLS records, so
// frames are written through the library, with flushing deferred
// (deferFlush) around a request's write so that it only buffers; other
// writes (the library's pings, pongs and close frames) are sent before
// Write returns. Until handshakeRest is called it keeps a copy of what it
// reads. Every socket write has a deadline of about writeTimeout; a failed
// write closes the connection, which ends its read loop. Close stops the
// flusher. Safe for concurrent use; a nil *batchConn's methods other than
// Write and Close do nothing.
type batchConn struct {
	net.Conn
	mu       sync.Mutex
	deferred bool   // set by a request writer around its frame write (TLS)
	buf      []byte // bytes not yet sent
	spare    []byte
	flushing bool // a goroutine is writing to the socket
	deadline time.Time
	err      error         // the first write error; later writes fail with it
	kick     chan struct{} // wakes the flusher goroutine (started by the first flushSoon); closed by Close
	kicked   bool          // a kick is pending
	closed   bool

	// The bytes read while tapping is on: the handshake response and
	// whatever arrived behind it (see handshakeRest).
	tapMu   sync.Mutex
	tapping bool
	tap     []byte
	tapDone atomic.Bool // tapping has ended: reads skip tapMu
}

// Read reads from the socket, keeping a copy while tapping.
func (c *batchConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 && !c.tapDone.Load() {
		c.tapMu.Lock()
		if c.tapping {
			if len(c.tap)+n > maxTap {
				c.tapping, c.tap = false, nil // not a handshake: give up
				c.tapDone.Store(true)
			} else {
				c.tap = append(c.tap, p[:n]...)
			}
		}
		c.tapMu.Unlock()
	}
	return n, err
}

// maxTap bounds the bytes kept while tapping.
const maxTap = 64 << 10

// handshakeRest stops tapping and returns the bytes that arrived after the
// HTTP response to the handshake (the start of the websocket stream, which
// the HTTP client read ahead into its buffer), and whether it could tell
// where that response ended.
func (c *batchConn) handshakeRest() ([]byte, bool) {
	c.tapMu.Lock()
	defer c.tapMu.Unlock()
	tapped, was := c.tap, c.tapping
	c.tapping, c.tap = false, nil
	c.tapDone.Store(true)
	if !was {
		return nil, false
	}
	// Read the responses as the HTTP client did: informational ones
	// (1xx other than 101) are skipped, the 101 ends the handshake.
	src := bytes.NewReader(tapped)
	br := bufio.NewReader(src)
	for {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			return nil, false
		}
		if resp.StatusCode == http.StatusSwitchingProtocols {
			consumed := len(tapped) - src.Len() - br.Buffered()
			return tapped[consumed:], true
		}
		if resp.StatusCode < 100 || resp.StatusCode >= 200 {
			return nil, false
		}
	}
}

// writeMessage queues p as one websocket message: one final frame with
// the opcode (1 text, 2 binary), masked with a fresh key as a client's
// frames must be (RFC 6455 sections 5.2 and 5.3), and has the flusher
// send it. It fails once the connection has failed or closed.
func (c *batchConn) writeMessage(opcode byte, p []byte) error {
	key := rand.Uint32()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return c.err
	}
	if c.closed {
		return net.ErrClosed
	}
	c.buf = appendMaskedFrame(c.buf, opcode, key, p)
	c.kickLocked()
	return nil
}

// appendMaskedFrame appends a final frame with the opcode, payload p and
// masking key key (its bytes in little-endian order).
func appendMaskedFrame(b []byte, opcode byte, key uint32, p []byte) []byte {
	n := len(p)
	b = wire.AppendFrameHeader(b, opcode, n, true)
	b = binary.LittleEndian.AppendUint32(b, key)
	at := len(b)
	b = append(b, p...)
	out := b[at:]
	k8 := uint64(key) | uint64(key)<<32
	i := 0
	for ; i+8 <= n; i += 8 {
		binary.LittleEndian.PutUint64(out[i:], binary.LittleEndian.Uint64(out[i:])^k8)
	}
	for ; i < n; i++ {
		out[i] ^= byte(key >> (8 * (i & 3)))
	}
	return b
}

// flushSoon makes the flusher goroutine send the buffered bytes.
func (c *batchConn) flushSoon() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.kickLocked()
}

// kickLocked wakes the flusher (starting it the first time) unless a kick
// is pending or the connection is done. c.mu is held.
func (c *batchConn) kickLocked() {
	if c.kicked || c.closed || c.err != nil {
		return
	}
	if c.kick == nil {
		c.kick = make(chan struct{}, 1)
		go c.flushLoop(c.kick)
	}
	c.kicked = true
	c.kick <- struct{}{} // never blocks: kicked was false, so the channel is empty
}

func (c *batchConn) flushLoop(kick <-chan struct{}) {
	for range kick {
		// Let the goroutines that are ready to run (request writers
		// among them) go first, so that their frames share this write.
		runtime.Gosched()
		c.mu.Lock()
		c.kicked = false
		c.mu.Unlock()
		c.flush()
	}
}

// Close closes the connection and stops the flusher.
func (c *batchConn) Close() error {
	c.mu.Lock()
	if !c.closed {
		c.closed = true
		if c.kick != nil {
			close(c.kick)
		}
	}
	c.mu.Unlock()
	return c.Conn.Close()
}

// Write sends p after what is buffered, before it returns, unless
// flushing is deferred.
func (c *batchConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return 0, err
	}
	c.buf = append(c.buf, p...)
	deferred := c.deferred
	c.mu.Unlock()
	if deferred {
		return len(p), nil
	}
	if err := c.flush(); err != nil {
		return 0, err
	}
	return len(p), nil
}

// deferFlush makes Write buffer without flushing (on) or flush again (off).
// The caller that turned it on must call flush or flushSoon after turning
// it off.
func (c *batchConn) deferFlush(on bool) {
	if c == nil {
		return
	}
	c.mu.Lock()
	c.deferred = on
	c.mu.Unlock()
}

// flush sends the buffered bytes. If another goroutine is sending, it
// returns at once: that goroutine sends these bytes too.
func (c *batchConn) flush() error {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.flushing {
		return c.err
	}
	c.flushing = true
	for len(c.buf) > 0 && c.err == nil {
		out := c.buf
		c.buf = c.spare[:0]
		now := time.Now()
		refresh := c.deadline.Sub(now) < writeTimeout*9/10
		if refresh {
			c.deadline = now.Add(writeTimeout)
		}
		dl := c.deadline
		c.mu.Unlock()
		var err error
		if refresh {
			err = c.Conn.SetWriteDeadline(dl)
		}
		if err == nil {
			_, err = c.Conn.Write(out)
		}
		c.mu.Lock()
		if cap(out) <= 1<<20 {
			c.spare = out[:0]
		}
		if err != nil {
			c.err = err
			c.buf = nil
			c.Conn.Close()
		}
	}
	c.flushing = false
	return c.err
}

// batchHTTPClient returns an HTTP client for the websocket handshake whose
// connections are batchConns; conn receives each one it dials.
func batchHTTPClient(conn func(*batchConn), tlsConf *tls.Config) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if tlsConf != nil {
		tr.TLSClientConfig = tlsConf.Clone()
	}
	// One transport per dial: a connection whose handshake was refused
	// (HTTP 200 JSON, keep-alive) must be closed, not left idle in this
	// pool until IdleConnTimeout. An upgrade is not affected.
	tr.DisableKeepAlives = true
	dial := tr.DialContext
	if dial == nil {
		dial = (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	}
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		nc, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		bc := &batchConn{Conn: nc, tapping: true}
		conn(bc)
		return bc, nil
	}
	return &http.Client{Transport: tr}
}
