package transport

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A rejected handshake (HTTP 200 JSON, keep-alive) must not leave its TCP
// connection idle in a pool: each redial would add one more, open until the
// idle timeout. After several rejected dials and one accepted, at most the
// accepted connection is open on the server.
func TestRejectedHandshakesLeaveNoOpenConnections(t *testing.T) {
	var mu sync.Mutex
	open := map[net.Conn]bool{}
	var rejects atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rejects.Add(1) <= 5 {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			_ = json.NewEncoder(w).Encode(map[string]any{"errCode": 1601, "errMsg": "ConnOverMaxNumLimit", "errDlt": ""})
			return
		}
		w.WriteHeader(http.StatusServiceUnavailable) // then the test stops the client
	}))
	srv.Config.ConnState = func(c net.Conn, s http.ConnState) {
		mu.Lock()
		defer mu.Unlock()
		switch s {
		case http.StateNew:
			open[c] = true
		case http.StateClosed, http.StateHijacked:
			delete(open, c)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	cfg := Config{WSAddr: "ws" + strings.TrimPrefix(srv.URL, "http"), UserID: "bot", Token: "T",
		RequestTimeout: 3 * time.Second, Backoff: func(int) time.Duration { return time.Millisecond }}
	r := start(t, cfg)
	for range 6 {
		r.waitEvent(t, EventConnectFailed)
	}
	r.c.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := len(open)
		mu.Unlock()
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d handshake connections still open on the server", n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
