package transport

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// flakyGW accepts every websocket, keeps it for hold, then drops it without
// a close frame; it records when each dial arrived.
type flakyGW struct {
	srv  *httptest.Server
	hold time.Duration

	mu    sync.Mutex
	dials []time.Time
}

func newFlakyGW(t *testing.T, hold time.Duration) *flakyGW {
	gw := &flakyGW{hold: hold}
	gw.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gw.mu.Lock()
		gw.dials = append(gw.dials, time.Now())
		gw.mu.Unlock()
		ws, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		time.Sleep(gw.hold)
		ws.CloseNow()
	}))
	t.Cleanup(gw.srv.Close)
	return gw
}

// waitDials returns the intervals between the first n dials.
func (gw *flakyGW) waitDials(t *testing.T, n int, limit time.Duration) []time.Duration {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		gw.mu.Lock()
		got := append([]time.Time(nil), gw.dials...)
		gw.mu.Unlock()
		if len(got) >= n {
			var iv []time.Duration
			for i := 1; i < n; i++ {
				iv = append(iv, got[i].Sub(got[i-1]))
			}
			return iv
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d dials within %v, want %d", len(got), limit, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func flakyConfig(gw *flakyGW, step time.Duration) Config {
	return Config{
		WSAddr: "ws" + strings.TrimPrefix(gw.srv.URL, "http"), UserID: "bot", Token: "t",
		Backoff:       func(n int) time.Duration { return step << (n - 1) },
		MaxReconnects: -1,
	}
}

// A gateway that accepts and drops at once is redialled ever more slowly:
// a connection shorter than StableAfter does not reset the back-off.
func TestBackoffGrowsWhileConnectionsDropAtOnce(t *testing.T) {
	const step = 20 * time.Millisecond
	gw := newFlakyGW(t, 0)
	start(t, flakyConfig(gw, step)) // StableAfter: the default 20s
	iv := gw.waitDials(t, 6, 20*time.Second)
	for i, d := range iv {
		if want := step << i; d < want {
			t.Fatalf("interval %d = %v, want at least Backoff(%d) = %v (intervals %v)", i+1, d, i+1, want, iv)
		}
	}
}

// A connection that stayed up for StableAfter resets the back-off: the
// next redial waits Backoff(1) again.
func TestBackoffResetsAfterStableConnection(t *testing.T) {
	const step, hold = 50 * time.Millisecond, 150 * time.Millisecond
	gw := newFlakyGW(t, hold)
	cfg := flakyConfig(gw, step)
	cfg.StableAfter = 100 * time.Millisecond
	start(t, cfg)
	iv := gw.waitDials(t, 6, 20*time.Second)
	// hold + Backoff(1) each time; a growing back-off would make the 5th
	// interval hold + Backoff(5) = 950ms.
	for i, d := range iv {
		if d >= hold+4*step {
			t.Fatalf("interval %d = %v: the back-off grew across stable connections (intervals %v)", i+1, d, iv)
		}
	}
}
