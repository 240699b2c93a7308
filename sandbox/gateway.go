package sandbox

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/openimbot/openimbot/internal/wire"
)

// handshake holds the parsed query parameters (docs/protocol.md §1.2).
type handshake struct {
	sendID      string
	token       string
	platformID  int32
	operationID string
	background  bool
	gzip        bool
	encoding    wire.Encoding
	msgResp     bool
}

// parseHandshake validates the query in the order of OpenIM patch.16
// (docs/protocol.md §1.3 step 2): platformID must be an integer, isMsgResp a bool if
// present, isBackground a bool (else 500), then operationID, token and
// sendID must be non-empty, platformID known and sdkType valid. msgResp is
// known (best effort) even when an error is returned.
func parseHandshake(r *http.Request) (h handshake, cerr *CodeError) {
	q := r.URL.Query()
	if v := q.Get("v"); v != "" {
		return parseV(v)
	}
	if v := q.Get("isMsgResp"); v != "" {
		h.msgResp, _ = strconv.ParseBool(v)
	}
	h.operationID = q.Get("operationID")
	h.token = q.Get("token")
	h.sendID = q.Get("sendID")
	p, err := strconv.ParseInt(q.Get("platformID"), 10, 0)
	if err != nil || p != int64(int(p)) {
		return h, codeErr(CodeConnArgs, "platformID is not int")
	}
	if v := q.Get("isMsgResp"); v != "" {
		if _, err := strconv.ParseBool(v); err != nil {
			return h, codeErr(CodeConnArgs, "isMsgResp is not bool")
		}
	}
	compression := q.Get("compression")
	if compression == "" {
		compression = r.Header.Get("compression")
	}
	h.gzip = compression == "gzip"
	bg, err := strconv.ParseBool(q.Get("isBackground"))
	if err != nil {
		// OpenIM returns the raw parse error: 500 with the innermost text.
		return h, codeErr(CodeServerInternal, "invalid syntax")
	}
	h.background = bg
	return h, checkHandshake(&h, p, q.Get("sdkType"))
}

// checkHandshake is the common tail of both parameter forms: non-empty
// operationID, token and sendID, a known platform and a valid sdkType.
func checkHandshake(h *handshake, platformID int64, sdkType string) *CodeError {
	switch {
	case h.operationID == "":
		return codeErr(CodeConnArgs, "operationID is empty")
	case h.token == "":
		return codeErr(CodeConnArgs, "token is empty")
	case h.sendID == "":
		return codeErr(CodeConnArgs, "sendID is empty")
	case platformID < 1 || platformID > 11:
		return codeErr(CodeConnArgs, "platformID is invalid")
	}
	h.platformID = int32(platformID)
	switch sdkType {
	case "", "go":
		h.encoding = wire.Gob
	case "js":
		h.encoding = wire.JSON
	default:
		return codeErr(CodeConnArgs, "sdkType is invalid")
	}
	return nil
}

// parseV decodes the patch.16 `v` parameter: base64url JSON replacing every
// other parameter.
func parseV(v string) (h handshake, cerr *CodeError) {
	raw, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil {
		return h, codeErr(CodeConnArgs, "data is not base64")
	}
	var a struct {
		Token        string `json:"token"`
		UserID       string `json:"userID"`
		PlatformID   int    `json:"platformID"`
		OperationID  string `json:"operationID"`
		Compression  string `json:"compression"`
		SDKType      string `json:"sdkType"`
		SendResponse bool   `json:"sendResponse"`
		Background   bool   `json:"background"`
	}
	if err := json.Unmarshal(raw, &a); err != nil {
		return h, codeErr(CodeConnArgs, "data is not json, info="+err.Error())
	}
	h = handshake{sendID: a.UserID, token: a.Token, operationID: a.OperationID,
		background: a.Background, gzip: a.Compression == "gzip", msgResp: a.SendResponse}
	return h, checkHandshake(&h, int64(a.PlatformID), a.SDKType)
}

// apiBody is the handshake result body (docs/protocol.md §1.5).
func apiBody(code int, msg, detail string) []byte {
	b, _ := json.Marshal(struct {
		ErrCode int    `json:"errCode"`
		ErrMsg  string `json:"errMsg"`
		ErrDlt  string `json:"errDlt"`
	}{code, msg, detail})
	return b
}

// acceptOptions are the upgrade options; onPing, if set, sees every Ping.
func acceptOptions(onPing func()) *websocket.AcceptOptions {
	o := &websocket.AcceptOptions{
		InsecureSkipVerify: true, // any Origin (docs/protocol.md §1.1)
		CompressionMode:    websocket.CompressionDisabled,
	}
	if onPing != nil {
		o.OnPingReceived = func(context.Context, []byte) bool { onPing(); return true }
	}
	return o
}

// serveWS handles one handshake on any path.
func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	h, cerr := parseHandshake(r)
	s.mu.Lock()
	switch {
	case len(s.conns) >= s.cfg.MaxConnections:
		cerr = codeErr(CodeConnOverMax, "over max conn num limit")
	case cerr == nil && s.refuseLeft > 0:
		s.refuseLeft--
		cerr = codeErr(s.refuseCode, "refused by RefuseHandshakes")
	}
	if cerr == nil {
		cerr = s.checkTokenLocked(h)
	}
	if cerr != nil {
		s.stats.failedHS++
	}
	s.mu.Unlock()
	if cerr != nil {
		s.log.Info("sandbox: handshake refused", "remote", r.RemoteAddr, "user", h.sendID, "platform", h.platformID,
			"operationID", h.operationID, "errCode", cerr.Code, "errDlt", cerr.Detail)
		body := apiBody(cerr.Code, cerr.Msg, cerr.Detail)
		if !h.msgResp {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.WriteHeader(http.StatusOK)
			w.Write(body)
			return
		}
		ws, err := websocket.Accept(w, r, acceptOptions(nil))
		if err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		ws.Write(ctx, websocket.MessageText, body)
		cancel()
		ws.CloseNow()
		return
	}

	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		// As gorilla's Upgrade answers a request that passed the checks
		// but is no websocket handshake.
		http.Error(w, "Bad Request: websocket: the client is not using the websocket protocol", http.StatusBadRequest)
		return
	}
	c := &conn{
		s:          s,
		id:         s.connSeq.Add(1),
		userID:     h.sendID,
		platformID: h.platformID,
		tokenKey:   tokenKey(h.token),
		opts:       wire.Options{Encoding: h.encoding, Gzip: h.gzip},
		out:        make(chan outFrame, s.cfg.SendQueue+1),
		done:       make(chan struct{}),
		remote:     r.RemoteAddr,
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.lastRead.Store(time.Now().UnixNano())
	c.dropLeft.Store(-1)
	if h.msgResp {
		c.out <- outFrame{text: apiBody(0, "", "")}
	}
	// Register before the upgrade completes, so that anything that happens
	// after the client sees the 101 (a push, a kick) reaches it.
	if cerr := s.register(c, h); cerr != nil {
		c.cancel()
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		w.Write(apiBody(cerr.Code, cerr.Msg, cerr.Detail))
		return
	}
	cw := &corkWriter{ResponseWriter: w}
	ws, err := websocket.Accept(cw, r, acceptOptions(c.touch))
	if err == nil {
		ws.SetReadLimit(wire.MaxServerInbound)
	}
	s.mu.Lock()
	c.ws = ws
	c.cork = cw.conn
	dropped := c.isDropped()
	s.mu.Unlock()
	if err != nil || dropped {
		if err != nil {
			s.log.Info("sandbox: upgrade failed", "remote", r.RemoteAddr, "err", err)
			c.drop("upgrade failed")
		} else {
			ws.CloseNow()
		}
		why, _ := c.dropWhy.Load().(string)
		s.unregister(c, why)
		s.connWG.Done()
		return
	}
	defer s.connWG.Done()
	c.run()
}

// checkTokenLocked is docs/protocol.md §1.3 steps 3 and 4.
func (s *Server) checkTokenLocked(h handshake) *CodeError {
	cl, cerr := parseToken(s.cfg.Secret, h.token, time.Now())
	if cerr != nil {
		return cerr
	}
	if cl.UserID != s.cfg.AdminUserID {
		t := s.st.tokens[tokenKey(h.token)]
		switch {
		case t == nil:
			return codeErr(CodeTokenNotExist, "")
		case t.Kicked:
			return codeErr(CodeTokenKicked, "")
		}
	}
	if cl.UserID != h.sendID {
		return codeErr(CodeTokenInvalid, "token uid "+cl.UserID+" != userID "+h.sendID)
	}
	if cl.PlatformID != h.platformID {
		return codeErr(CodeTokenInvalid, "token platform "+strconv.Itoa(int(cl.PlatformID))+" != platformID "+strconv.Itoa(int(h.platformID)))
	}
	return nil
}

// register adds c under policy 1: other connections of the same user and
// platform with a different token are kicked and their tokens marked kicked.
// It fails if the server is not serving or the token was kicked since it
// was checked.
func (s *Server) register(c *conn, h handshake) *CodeError {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.wsSrv == nil {
		return codeErr(CodeServerInternal, "server stopping")
	}
	if t := s.st.tokens[c.tokenKey]; t != nil && t.Kicked {
		return codeErr(CodeTokenKicked, "")
	}
	if c.userID != s.cfg.AdminUserID {
		if err := s.kickTokensLocked(c.userID, c.platformID, c.tokenKey, "same platform logged in with another token"); err != nil {
			s.log.Error("sandbox: policy 1", "err", err)
		}
	}
	s.conns[c] = struct{}{}
	before := s.platformsLocked(c.userID)
	s.byUser[c.userID] = append(s.byUser[c.userID], c)
	c.setDropEvery(s.dropEvery)
	s.stats.totalConns++
	s.connWG.Add(1)
	s.log.Info("sandbox: connected", "conn", c.id, "remote", c.remote, "user", c.userID, "platform", c.platformID,
		"operationID", h.operationID, "encoding", c.opts.Encoding.String(), "gzip", c.opts.Gzip, "background", h.background)
	s.statusChangedLocked(c.userID, before)
	return nil
}

func (s *Server) unregister(c *conn, reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.conns[c]; !ok {
		return
	}
	before := s.platformsLocked(c.userID)
	delete(s.conns, c)
	if left := slices.DeleteFunc(s.byUser[c.userID], func(o *conn) bool { return o == c }); len(left) > 0 {
		s.byUser[c.userID] = left
	} else {
		delete(s.byUser, c.userID)
	}
	s.log.Info("sandbox: disconnected", "conn", c.id, "user", c.userID, "platform", c.platformID, "reason", reason)
	s.statusChangedLocked(c.userID, before)
}

// outFrame is one queued outbound frame: an envelope (from newResp; the
// writer frees it once encoded) or a text frame.
type outFrame struct {
	resp       *envelope
	text       []byte
	closeAfter string // non-empty: close the connection after this frame, for this reason
}

// conn is one gateway connection. Fields after the comment are guarded by
// Server.mu.
type conn struct {
	s          *Server
	id         uint64
	ws         *websocket.Conn // set under Server.mu once the upgrade is done
	cork       *corkConn       // ws's net.Conn; set with ws
	userID     string
	platformID int32
	tokenKey   string
	opts       wire.Options
	remote     string
	out        chan outFrame
	done       chan struct{} // closed by drop
	ctx        context.Context
	cancel     context.CancelFunc // called by drop
	dropOnce   sync.Once
	dropWhy    atomic.Value // string
	lastRead   atomic.Int64 // unix nanos of the last inbound frame or Ping
	dropLeft   atomic.Int64 // frames until DropEvery closes; <0 disabled

	// guarded by Server.mu
	background bool
	kicked     bool
	statusSubs map[string]struct{}
}

func (c *conn) setDropEvery(n int) {
	if n <= 0 {
		c.dropLeft.Store(-1)
	} else {
		c.dropLeft.Store(int64(n))
	}
}

// frame counts one data frame for DropEvery.
func (c *conn) frame() {
	if c.dropLeft.Load() < 0 {
		return
	}
	if c.dropLeft.Add(-1) == 0 {
		c.cork.flush() // the frames written so far go out first
		c.drop("DropEvery")
	}
}

// drop closes the connection now, without a close frame. Safe to call many
// times and with Server.mu held.
func (c *conn) drop(reason string) {
	c.dropOnce.Do(func() {
		c.dropWhy.Store(reason)
		close(c.done)
		c.cancel()
		if c.ws != nil { // nil before the upgrade; serveWS closes it then
			c.ws.CloseNow()
		}
	})
}

func (c *conn) isDropped() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// send queues f; a full queue closes the connection (docs/protocol.md §2.6).
func (c *conn) send(f outFrame) {
	select {
	case <-c.done:
		return
	default:
	}
	select {
	case c.out <- f:
	default:
		c.drop("send queue full")
	}
}

// kick sends 2002 and closes. Server.mu is held.
func (c *conn) kick(reason string) {
	if c.kicked {
		return
	}
	c.kicked = true
	c.s.log.Info("sandbox: kick", "conn", c.id, "user", c.userID, "platform", c.platformID, "reason", reason)
	c.send(outFrame{resp: newResp(wire.Resp{ReqIdentifier: wire.KickOnlineMsg}), closeAfter: "kicked: " + reason})
}

// run serves the connection until it ends.
func (c *conn) run() {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); c.writeLoop() }()
	timeout := c.s.cfg.ReadTimeout
	var watchdog *time.Timer
	watchdog = time.AfterFunc(timeout, func() {
		idle := time.Since(time.Unix(0, c.lastRead.Load()))
		if idle >= timeout {
			c.drop("read timeout")
			return
		}
		watchdog.Reset(timeout - idle)
	})
	if c.platformID == 5 {
		wg.Add(1)
		go func() { defer wg.Done(); c.pingLoop(timeout * 9 / 10) }()
	}
	reason := c.readLoop()
	c.drop(reason)
	watchdog.Stop()
	wg.Wait()
	why, _ := c.dropWhy.Load().(string)
	c.s.unregister(c, why)
}

func (c *conn) touch() { c.lastRead.Store(time.Now().UnixNano()) }

// readLoop reads and handles frames until the connection must close, and
// returns why.
func (c *conn) readLoop() string {
	dec := wire.NewDecoder(wire.Options{Encoding: c.opts.Encoding, Gzip: c.opts.Gzip, MaxFrame: wire.MaxServerInbound})
	ctx := context.Background()
	var req wire.Req
	var buf bytes.Buffer // reused: what is decoded from a frame does not alias it past handle
	for {
		typ, r, err := c.ws.Reader(ctx)
		if err == nil {
			buf.Reset()
			_, err = buf.ReadFrom(r)
		}
		if err != nil {
			if errors.Is(err, websocket.ErrMessageTooBig) {
				return "frame too large"
			}
			return "read: " + err.Error()
		}
		data := buf.Bytes()
		c.touch()
		c.s.stats.framesIn.Add(1)
		c.frame()
		if typ == websocket.MessageText {
			if why := c.handleText(data); why != "" {
				return why
			}
			continue
		}
		if err := dec.DecodeReq(data, &req); err != nil {
			return "undecodable frame: " + err.Error()
		}
		if req.SendID != c.userID {
			return "envelope sendID " + strconv.Quote(req.SendID) + " is not the connection's user"
		}
		if why := c.handle(&req); why != "" {
			return why
		}
		// Nothing of a handled frame stays referenced while the
		// connection waits for the next one: req.Data may alias a large
		// inflate buffer, and buf grew to the frame's size.
		req = wire.Req{}
		if buf.Cap() > idleReadBuf {
			buf = bytes.Buffer{}
		}
	}
}

// idleReadBuf is the largest frame buffer a connection keeps between
// frames.
const idleReadBuf = 16 << 10

// handleText answers the application ping (docs/protocol.md §4.1).
func (c *conn) handleText(data []byte) string {
	var p struct {
		Type string          `json:"type"`
		Body json.RawMessage `json:"body"`
	}
	if err := json.Unmarshal(data, &p); err != nil {
		return "text frame is not JSON"
	}
	switch p.Type {
	case "ping":
		body := p.Body
		if len(body) == 0 {
			body = json.RawMessage("null")
		}
		b, _ := json.Marshal(struct {
			Type string          `json:"type"`
			Body json.RawMessage `json:"body"`
		}{"pong", body})
		c.s.mu.Lock()
		c.send(outFrame{text: b})
		c.s.mu.Unlock()
		return ""
	case "pong":
		return ""
	}
	return "text frame of type " + strconv.Quote(p.Type)
}

// writeLoop writes queued frames in order until the connection ends. The
// frames already queued when it wakes up go out corked, in one socket write.
func (c *conn) writeLoop() {
	// Gob gzip frames use the cheap built-in encoder: clients accept any
	// level.
	var enc respEncoder = wire.NewEncoder(wire.Options{Encoding: c.opts.Encoding, Gzip: c.opts.Gzip, GzipLevel: wire.GzipFixedHuffman})
	if c.opts.Encoding == wire.JSON {
		enc = &jsonRespEncoder{gzip: c.opts.Gzip}
	}
	// Data messages are framed here and written to the corkConn
	// (corkConn.writeMessage); its write deadline bounds them, and drop
	// closes the connection to abort one.
	for {
		var f outFrame
		select {
		case f = <-c.out:
		case <-c.done:
			return
		}
		c.cork.cork()
		for n := 1; ; n++ {
			if d := time.Duration(c.s.delay.Load()); d > 0 {
				if err := c.cork.flush(); err != nil {
					c.drop("write: " + err.Error())
					return
				}
				t := time.NewTimer(d)
				select {
				case <-t.C:
				case <-c.done:
					t.Stop()
					return
				}
			}
			opcode, b := byte(wire.OpText), f.text
			if f.resp != nil {
				var err error
				if b, err = enc.EncodeResp(&f.resp.Resp); err != nil {
					c.drop("encode: " + err.Error())
					return
				}
				freeResp(f.resp)
				opcode = wire.OpBinary
			}
			if err := c.cork.writeMessage(opcode, b); err != nil {
				c.drop("write: " + err.Error())
				return
			}
			c.s.stats.framesOut.Add(1)
			c.frame()
			if f.closeAfter != "" {
				c.cork.uncork()
				c.drop(f.closeAfter)
				return
			}
			if n == maxBurst {
				break
			}
			select {
			case f = <-c.out:
				continue
			default:
			}
			break
		}
		if err := c.cork.uncork(); err != nil {
			c.drop("write: " + err.Error())
			return
		}
		if len(c.out) == 0 {
			// Idle: large buffers and the compressor go back.
			enc.Release()
		}
	}
}

// envelope is the envelope of a queued frame, with room for a small
// payload of its own (a 1003 answer).
type envelope struct {
	wire.Resp
	buf [96]byte
}

// envelopes recycles the envelopes of queued frames.
var envelopes = sync.Pool{New: func() any { return new(envelope) }}

// newResp returns a recycled envelope set to r, for an outFrame.
func newResp(r wire.Resp) *envelope {
	e := envelopes.Get().(*envelope)
	e.Resp = r
	return e
}

// freeResp recycles an envelope that nothing refers to any more, its
// payload included if it is in buf.
func freeResp(e *envelope) {
	e.Resp = wire.Resp{}
	envelopes.Put(e)
}

// respEncoder encodes the frames of a connection; Release lets go of
// large buffers and the compressor while the connection is idle.
type respEncoder interface {
	EncodeResp(*wire.Resp) ([]byte, error)
	Release()
}

// pingLoop sends ws Pings to a Web connection (docs/protocol.md §4.1).
func (c *conn) pingLoop(period time.Duration) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(c.ctx, period)
		c.ws.Ping(ctx) // a missing Pong is not an error: the read deadline decides
		cancel()
	}
}

// jsonRespEncoder is the sdkType=js envelope encoder. Like OpenIM it is
// encoding/json of the Resp struct, so a nil payload is "data":null but
// an empty one (a reply whose protobuf message has no fields set) is
// "data":"".
type jsonRespEncoder struct {
	gzip bool
	buf  bytes.Buffer
	zw   *gzip.Writer
}

// jsonGzipWriters are the gzip.Writers of idle JSON connections (several
// hundred KB each at the default level).
var jsonGzipWriters sync.Pool

func (e *jsonRespEncoder) EncodeResp(r *wire.Resp) ([]byte, error) {
	b, err := json.Marshal(r)
	if err != nil || !e.gzip {
		return b, err
	}
	e.buf.Reset()
	if e.zw == nil {
		e.zw, _ = jsonGzipWriters.Get().(*gzip.Writer)
	}
	if e.zw == nil {
		e.zw = gzip.NewWriter(&e.buf)
	} else {
		e.zw.Reset(&e.buf)
	}
	e.zw.Write(b)
	if err := e.zw.Close(); err != nil {
		return nil, err
	}
	return e.buf.Bytes(), nil
}

func (e *jsonRespEncoder) Release() {
	if e.zw != nil {
		e.zw.Reset(io.Discard)
		jsonGzipWriters.Put(e.zw)
		e.zw = nil
	}
	if e.buf.Cap() > idleReadBuf {
		e.buf = bytes.Buffer{}
	}
}
