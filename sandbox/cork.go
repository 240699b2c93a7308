package sandbox

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/openimbot/openimbot/internal/wire"
)

// writeTimeout bounds one socket write of a connection: a peer that does not
// read for this long is dropped.
const writeTimeout = 10 * time.Second

// maxBurst caps the frames the writer loop sends in one corked write.
const maxBurst = 64

// maxIdleCork is the largest cork buffer a connection keeps after a
// flush (a burst of small frames fits; a large answer's buffer is not kept
// by an idle connection).
const maxIdleCork = 64 << 10

// corkConn is the net.Conn under an accepted websocket. While corked it
// buffers writes; uncork sends the buffer with one write. The writer loop
// corks while it drains a burst of queued frames, so a burst costs one
// write(2) instead of one per frame (coder/websocket flushes after every
// message). Writes while not corked (control frames) go straight through.
// Every socket write has a deadline of about writeTimeout. Safe for
// concurrent use.
type corkConn struct {
	net.Conn
	mu       sync.Mutex
	corked   bool
	buf      []byte
	deadline time.Time // the write deadline set on Conn
	err      error     // the first write error; later writes fail with it
}

func (c *corkConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return 0, c.err
	}
	if c.corked {
		c.buf = append(c.buf, p...)
		return len(p), nil
	}
	return c.writeLocked(p)
}

// writeLocked writes p to the socket, refreshing the write deadline when
// less than 90% of writeTimeout is left.
func (c *corkConn) writeLocked(p []byte) (int, error) {
	now := time.Now()
	if c.deadline.Sub(now) < writeTimeout*9/10 {
		c.deadline = now.Add(writeTimeout)
		if err := c.Conn.SetWriteDeadline(c.deadline); err != nil {
			c.err = err
			return 0, err
		}
	}
	n, err := c.Conn.Write(p)
	if err != nil {
		c.err = err
	}
	return n, err
}

// writeMessage writes p as one websocket message of one final, unmasked
// frame (a server's frame, RFC 6455 section 5.2) with the given opcode
// (1 text, 2 binary). The writer loop writes data messages this way rather
// than through the websocket library, whose Write takes two channel-based
// locks and flushes a bufio.Writer for every frame; the bytes on the wire
// are the same. The library still writes control frames (pong, close)
// through Write; each of those is one Write call, and c.mu keeps every
// Write and every message whole.
func (c *corkConn) writeMessage(opcode byte, p []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return c.err
	}
	c.buf = wire.AppendFrameHeader(c.buf, opcode, len(p), false)
	c.buf = append(c.buf, p...)
	if c.corked {
		return nil
	}
	return c.flushLocked()
}

// cork makes writes buffer until uncork.
func (c *corkConn) cork() {
	c.mu.Lock()
	c.corked = true
	c.mu.Unlock()
}

// uncork sends what was buffered and makes writes go straight through.
func (c *corkConn) uncork() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.corked = false
	return c.flushLocked()
}

// flush sends what was buffered; the conn stays corked if it was.
func (c *corkConn) flush() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.flushLocked()
}

func (c *corkConn) flushLocked() error {
	if c.err != nil {
		return c.err
	}
	if len(c.buf) == 0 {
		return nil
	}
	_, err := c.writeLocked(c.buf)
	if cap(c.buf) > maxIdleCork {
		c.buf = nil
	} else {
		c.buf = c.buf[:0]
	}
	return err
}

// corkWriter is the ResponseWriter handed to websocket.Accept: its Hijack
// wraps the connection in a corkConn.
type corkWriter struct {
	http.ResponseWriter
	conn *corkConn // set by a successful Hijack
}

func (w *corkWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("sandbox: the ResponseWriter cannot hijack")
	}
	nc, brw, err := hj.Hijack()
	if err != nil {
		return nil, nil, err
	}
	if err := brw.Writer.Flush(); err != nil {
		nc.Close()
		return nil, nil, err
	}
	w.conn = &corkConn{Conn: nc}
	return w.conn, bufio.NewReadWriter(brw.Reader, bufio.NewWriterSize(w.conn, 4096)), nil
}
