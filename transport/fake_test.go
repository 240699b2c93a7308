package transport

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"google.golang.org/protobuf/proto"

	"github.com/openimbot/openimbot/internal/pb/sdkws"
	"github.com/openimbot/openimbot/internal/wire"
)

// fakeGW is a small in-test gateway: it accepts websockets, hands every
// connection to the test, and decodes request frames with internal/wire.
type fakeGW struct {
	t   *testing.T
	srv *httptest.Server

	// reject, when it returns non-nil, answers the handshake with that HTTP
	// 200 JSON body instead of upgrading.
	reject atomic.Pointer[func(q url.Values) map[string]any]
	// ignorePings makes the gateway not answer ws Pings.
	ignorePings atomic.Bool
	// onReq, when set, handles requests instead of queuing them on reqs.
	onReq atomic.Pointer[func(fc *fakeConn, req *wire.Req)]

	// override, when set, serves every request instead of the gateway.
	override atomic.Pointer[http.Handler]

	dials atomic.Int32
	pings atomic.Int32
	conns chan *fakeConn
}

type fakeConn struct {
	gw    *fakeGW
	ws    *websocket.Conn
	query url.Values
	gzip  bool
	json  bool

	mu  sync.Mutex
	enc *wire.Encoder

	reqs   chan *wire.Req
	frames chan rawFrame // every frame received, before decoding
	texts  chan []byte   // text frames received
	closed chan struct{}
}

type fakeReq = wire.Req

type rawFrame struct {
	typ  websocket.MessageType
	data []byte
}

func newFakeGW(t *testing.T) *fakeGW {
	t.Helper()
	gw := &fakeGW{t: t, conns: make(chan *fakeConn, 16)}
	gw.srv = httptest.NewServer(http.HandlerFunc(gw.serve))
	t.Cleanup(gw.srv.Close)
	return gw
}

// newFakeGWTLS is newFakeGW serving wss:// with a test certificate, which
// tlsConfig trusts.
func newFakeGWTLS(t *testing.T) *fakeGW {
	t.Helper()
	gw := &fakeGW{t: t, conns: make(chan *fakeConn, 16)}
	gw.srv = httptest.NewTLSServer(http.HandlerFunc(gw.serve))
	t.Cleanup(gw.srv.Close)
	return gw
}

// tlsConfig trusts the certificate of a newFakeGWTLS.
func (gw *fakeGW) tlsConfig() *tls.Config {
	roots := x509.NewCertPool()
	roots.AddCert(gw.srv.Certificate())
	return &tls.Config{RootCAs: roots}
}

func (gw *fakeGW) url() string { return "ws" + strings.TrimPrefix(gw.srv.URL, "http") }

func (gw *fakeGW) serve(w http.ResponseWriter, r *http.Request) {
	gw.dials.Add(1)
	if h := gw.override.Load(); h != nil {
		(*h).ServeHTTP(w, r)
		return
	}
	q := r.URL.Query()
	if f := gw.reject.Load(); f != nil {
		if body := (*f)(q); body != nil {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			_ = json.NewEncoder(w).Encode(body)
			return
		}
	}
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		OnPingReceived: func(context.Context, []byte) bool {
			gw.pings.Add(1)
			return !gw.ignorePings.Load()
		},
	})
	if err != nil {
		return
	}
	ws.SetReadLimit(1 << 22)
	fc := &fakeConn{
		gw: gw, ws: ws, query: q,
		gzip:   q.Get("compression") == "gzip",
		json:   q.Get("sdkType") == "js",
		reqs:   make(chan *wire.Req, 256),
		frames: make(chan rawFrame, 256),
		texts:  make(chan []byte, 16),
		closed: make(chan struct{}),
	}
	opts := wire.Options{Gzip: fc.gzip}
	if fc.json {
		opts.Encoding = wire.JSON
	}
	fc.enc = wire.NewEncoder(opts)
	if q.Get("isMsgResp") == "true" {
		_ = ws.Write(r.Context(), websocket.MessageText, []byte(`{"errCode":0,"errMsg":"","errDlt":""}`))
	}
	select {
	case gw.conns <- fc:
	default:
		gw.t.Errorf("fakeGW: connection queue full")
	}
	dec := wire.NewDecoder(opts)
	defer close(fc.closed)
	for {
		typ, data, err := ws.Read(context.Background())
		if err != nil {
			return
		}
		select {
		case fc.frames <- rawFrame{typ, data}:
		default:
		}
		if typ == websocket.MessageText {
			select {
			case fc.texts <- data:
			default:
			}
			continue
		}
		var req wire.Req
		if err := dec.DecodeReq(data, &req); err != nil {
			gw.t.Errorf("fakeGW: bad request frame: %v", err)
			ws.CloseNow()
			return
		}
		if f := gw.onReq.Load(); f != nil {
			(*f)(fc, &req)
			continue
		}
		fc.reqs <- &req
	}
}

func (gw *fakeGW) serveWith(h http.Handler) { gw.override.Store(&h) }

func (gw *fakeGW) handle(f func(fc *fakeConn, req *wire.Req)) { gw.onReq.Store(&f) }

func (gw *fakeGW) rejectWith(f func(q url.Values) map[string]any) { gw.reject.Store(&f) }

// accept waits for the next connection.
func (gw *fakeGW) accept(t *testing.T) *fakeConn {
	t.Helper()
	select {
	case fc := <-gw.conns:
		return fc
	case <-time.After(10 * time.Second):
		t.Fatal("fakeGW: no connection within 10s")
		return nil
	}
}

func (fc *fakeConn) send(t testing.TB, r *wire.Resp) {
	t.Helper()
	fc.mu.Lock()
	defer fc.mu.Unlock()
	frame, err := fc.enc.EncodeResp(r)
	if err != nil {
		t.Errorf("fakeGW: encode: %v", err)
		return
	}
	_ = fc.ws.Write(context.Background(), websocket.MessageBinary, frame)
}

func (fc *fakeConn) sendText(s string) {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	_ = fc.ws.Write(context.Background(), websocket.MessageText, []byte(s))
}

// reply answers req with payload (marshaled when a proto.Message).
func (fc *fakeConn) reply(t testing.TB, req *wire.Req, errCode int, payload proto.Message) {
	t.Helper()
	var data []byte
	if payload != nil {
		var err error
		data, err = proto.Marshal(payload)
		if err != nil {
			t.Fatal(err)
		}
	}
	r := &wire.Resp{ReqIdentifier: req.ReqIdentifier, MsgIncr: req.MsgIncr, OperationID: req.OperationID, ErrCode: errCode, Data: data}
	if errCode != 0 {
		r.ErrMsg = fmt.Sprintf("Error%d", errCode)
		r.Data = nil
	}
	fc.send(t, r)
}

func (fc *fakeConn) push(t testing.TB, pm *sdkws.PushMessages) {
	t.Helper()
	data, err := proto.Marshal(pm)
	if err != nil {
		t.Fatal(err)
	}
	fc.send(t, &wire.Resp{ReqIdentifier: wire.PushMsg, OperationID: "push", Data: data})
}

func (fc *fakeConn) nextReq(t testing.TB) *wire.Req {
	t.Helper()
	select {
	case r := <-fc.reqs:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("fakeGW: no request within 10s")
		return nil
	}
}

func (fc *fakeConn) kill() { fc.ws.CloseNow() }

// testConfig returns a fast Config for gw.
func testConfig(gw *fakeGW) Config {
	return Config{
		WSAddr:         gw.url(),
		UserID:         "bot",
		Token:          "SECRET-TOKEN-abc.def",
		PingInterval:   200 * time.Millisecond,
		ReadTimeout:    time.Second,
		RequestTimeout: 3 * time.Second,
		Backoff:        func(int) time.Duration { return 20 * time.Millisecond },
	}
}

// running is a started Client with its event stream collected.
type running struct {
	c      *Client
	cancel context.CancelFunc
	done   chan error
	events chan Event
}

func start(t *testing.T, cfg Config) *running {
	t.Helper()
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{c: c, cancel: cancel, done: make(chan error, 1), events: make(chan Event, 1<<16)}
	go func() { r.done <- c.Run(ctx) }()
	go func() {
		for e := range c.Events() {
			r.events <- e
		}
		close(r.events)
	}()
	t.Cleanup(func() {
		cancel()
		c.Close()
	})
	return r
}

// waitEvent returns the next event of kind k, failing after 10s.
func (r *running) waitEvent(t *testing.T, k EventKind) Event {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case e, ok := <-r.events:
			if !ok {
				t.Fatalf("event stream closed while waiting for kind %d", k)
			}
			if e.Kind == k {
				return e
			}
		case <-deadline:
			t.Fatalf("no event of kind %d within 10s", k)
		}
	}
}

func (r *running) waitDone(t *testing.T) error {
	t.Helper()
	select {
	case err := <-r.done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return within 10s")
		return nil
	}
}

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
