package sandbox

import (
	"bytes"
	"errors"
	"net"
	"sync"
	"testing"
	"time"
)

// countConn counts the socket writes under a corkConn.
type countConn struct {
	net.Conn // nil: only the methods below are used
	mu       sync.Mutex
	writes   int
	data     bytes.Buffer
	fail     error
}

func (c *countConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fail != nil {
		return 0, c.fail
	}
	c.writes++
	c.data.Write(p)
	return len(p), nil
}

func (c *countConn) SetWriteDeadline(time.Time) error { return nil }

// While corked, writes are held and uncork sends them with one socket
// write; uncorked writes go straight through; a failed write fails the
// later ones.
func TestCorkConn(t *testing.T) {
	cc := &countConn{}
	c := &corkConn{Conn: cc}
	c.Write([]byte("direct "))
	c.cork()
	c.Write([]byte("a "))
	c.Write([]byte("b "))
	if cc.writes != 1 {
		t.Fatalf("%d socket writes while corked, want 1 (the direct one)", cc.writes)
	}
	if err := c.flush(); err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("c "))
	if err := c.uncork(); err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("d"))
	if cc.writes != 4 || cc.data.String() != "direct a b c d" {
		t.Fatalf("%d socket writes, %q", cc.writes, cc.data.String())
	}
	cc.fail = errors.New("broken pipe")
	c.cork()
	c.Write([]byte("e"))
	if err := c.uncork(); err == nil {
		t.Fatal("uncork with a failing socket = nil")
	}
	cc.fail = nil
	if _, err := c.Write([]byte("f")); err == nil {
		t.Fatal("Write after a failed socket write = nil")
	}
}
