package transport

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/openimbot/openimbot/internal/wire"
)

// writeTimeout bounds one frame write; a write that takes longer kills the
// connection.
const writeTimeout = 10 * time.Second

// conn is one gateway connection. It dies for good on the first error; the
// Client's supervisor then dials a new one.
type conn struct {
	c   *Client
	gen uint64
	ws  *websocket.Conn
	bc  *batchConn // ws's net.Conn
	// fr is set when bc carries the websocket frames themselves (not TLS
	// records) and the start of their stream was recovered: then the
	// transport reads them with fr and writes them with bc.writeMessage,
	// and the websocket library, which made the handshake, only closes
	// the connection. Set before the connection starts; never changed.
	fr     *frameReader
	pings  atomic.Uint64 // ping payloads sent (fr != nil)
	pongMu sync.Mutex
	pongID string        // the payload of the ping waiting for its pong
	pongCh chan struct{} // closed when that pong arrives

	ctx    context.Context // canceled when the connection dies
	cancel context.CancelFunc

	writeMu sync.Mutex
	enc     *wire.Encoder
	req     wire.Req

	lastIn atomic.Int64 // unix nanos of the last inbound ping or pong, or of a data frame (see gotFrame)
	// gotFrame is set by the read loop for every data frame; the heartbeat
	// turns it into lastIn at its next check, so the read loop does not
	// read the clock per frame.
	gotFrame atomic.Bool

	pendMu  sync.Mutex
	pending map[string]chan reply
	dead    bool
	err     error

	dieOnce sync.Once
	wg      sync.WaitGroup
	done    chan struct{} // closed when the connection is dead and its goroutines have exited
}

type reply struct {
	data []byte
	err  error
}

// replyChans recycles the channels requests wait on for their reply.
var replyChans = sync.Pool{New: func() any { return make(chan reply, 1) }}

// queryEscape escapes a query value as url.QueryEscape does.
func queryEscape(s string) string { return url.QueryEscape(s) }

// HandshakeURL returns the gateway URL a Client dials for cfg, with the
// given operation ID: the reference SDK's query parameters, in its order,
// with values URL-escaped. The result holds the token: never log it.
func HandshakeURL(cfg Config, operationID string) string {
	var b strings.Builder
	b.WriteString(cfg.WSAddr)
	if strings.Contains(cfg.WSAddr, "?") {
		b.WriteByte('&')
	} else {
		b.WriteByte('?')
	}
	platform := cfg.PlatformID
	if platform == 0 {
		platform = DefaultPlatformID
	}
	b.WriteString("sendID=" + queryEscape(cfg.UserID))
	b.WriteString("&token=" + queryEscape(cfg.Token))
	b.WriteString("&platformID=" + strconv.Itoa(int(platform)))
	b.WriteString("&operationID=" + queryEscape(operationID))
	b.WriteString("&isBackground=" + strconv.FormatBool(cfg.Background))
	if cfg.Compression == CompressGzip {
		b.WriteString("&compression=gzip")
	}
	if cfg.Encoding == EncodingJSON {
		b.WriteString("&sdkType=js")
	}
	if cfg.SDKVersion != "" {
		b.WriteString("&sdkVersion=" + queryEscape(cfg.SDKVersion))
	}
	if cfg.MsgResp {
		b.WriteString("&isMsgResp=true")
	}
	return b.String()
}

// wireOptions returns the connection's wire options. Outgoing gzip frames
// use the built-in fixed-Huffman encoder: about 5 µs per request frame
// instead of 40 for compress/gzip's BestSpeed, for frames about 5% larger;
// the gateway reads any gzip member. Frames under 512 bytes go out stored:
// compressing them saves next to nothing (wire.Options.GzipMinSize).
func (c *Client) wireOptions(max int) wire.Options {
	o := wire.Options{Gzip: c.cfg.Compression == CompressGzip, GzipLevel: wire.GzipFixedHuffman, GzipMinSize: 512, MaxFrame: max, Logger: c.log}
	if c.cfg.Encoding == EncodingJSON {
		o.Encoding = wire.JSON
	}
	return o
}

// handshakeBody is the gateway's handshake result envelope.
type handshakeBody struct {
	ErrCode *int   `json:"errCode"`
	ErrMsg  string `json:"errMsg"`
	ErrDlt  string `json:"errDlt"`
}

func (c *Client) apiErrorFrom(body []byte) (*APIError, bool) {
	var hb handshakeBody
	if err := json.Unmarshal(bytes.TrimSpace(body), &hb); err != nil || hb.ErrCode == nil {
		return nil, false
	}
	tok := c.cfg.Token
	clean := func(s string) string {
		if tok == "" {
			return s
		}
		return strings.ReplaceAll(s, tok, "REDACTED")
	}
	return &APIError{Code: *hb.ErrCode, Msg: clean(hb.ErrMsg), Detail: clean(hb.ErrDlt)}, true
}

// dial opens connection generation gen. The returned connection is not
// started yet.
func (c *Client) dial(ctx context.Context, gen uint64) (*conn, error) {
	opID := c.cfg.OperationID()
	u := HandshakeURL(c.cfg, opID)
	cctx, cancel := context.WithCancel(context.Background())
	cn := &conn{
		c:       c,
		gen:     gen,
		ctx:     cctx,
		cancel:  cancel,
		enc:     wire.NewEncoder(c.wireOptions(wire.MaxServerInbound)),
		pending: make(map[string]chan reply),
		done:    make(chan struct{}),
	}
	touch := func(context.Context, []byte) { cn.lastIn.Store(time.Now().UnixNano()) }
	dctx, dcancel := context.WithTimeout(ctx, c.cfg.RequestTimeout)
	defer dcancel()
	ws, resp, err := websocket.Dial(dctx, u, &websocket.DialOptions{
		HTTPClient:     batchHTTPClient(func(bc *batchConn) { cn.bc = bc }, c.cfg.TLSConfig),
		OnPingReceived: func(ctx context.Context, p []byte) bool { touch(ctx, p); return true },
		OnPongReceived: touch,
	})
	if err != nil {
		cancel()
		if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
			var body []byte
			if resp.Body != nil {
				body, _ = io.ReadAll(io.LimitReader(resp.Body, 4096))
			}
			if ae, ok := c.apiErrorFrom(body); ok && ae.Code != 0 {
				return nil, ae
			}
			return nil, fmt.Errorf("%w: HTTP status %d", ErrHandshake, resp.StatusCode)
		}
		return nil, redact(fmt.Errorf("%w: %w", ErrHandshake, err), c.cfg.Token)
	}
	ws.SetReadLimit(wire.MaxClientInbound)
	cn.ws = ws
	// Without TLS the batchConn is the socket the frames travel on. Their
	// stream is what the HTTP client read ahead behind the handshake
	// response, then the socket; neither the HTTP client (it gave up the
	// connection with the 101 response) nor the websocket library (it
	// reads only when asked) reads it.
	var rest []byte
	plain := false
	if cn.bc != nil {
		rest, plain = cn.bc.handshakeRest()
	}
	if pu, err := url.Parse(u); err != nil || resp == nil || resp.TLS != nil || (pu.Scheme != "ws" && pu.Scheme != "http") {
		plain = false
	}
	if plain {
		cn.fr = newFrameReader(io.MultiReader(bytes.NewReader(rest), cn.bc), wire.MaxClientInbound)
		cn.fr.onPing = func(p []byte) error { return cn.bc.writeMessage(wire.OpPong, p) }
		cn.fr.onPong = cn.gotPong
		cn.fr.onCtl = func() { cn.lastIn.Store(time.Now().UnixNano()) }
		cn.fr.onClose = func(code []byte) {
			// Answer the server's close with its code (RFC 6455
			// section 5.5.1) before the connection is dropped.
			if cn.bc.writeMessage(wire.OpClose, code) == nil {
				cn.bc.flush()
			}
		}
	}
	cn.lastIn.Store(time.Now().UnixNano())
	if c.cfg.MsgResp {
		typ, data, err := cn.readFirst(dctx)
		if err != nil {
			ws.CloseNow()
			cancel()
			return nil, redact(fmt.Errorf("%w: reading the handshake result frame: %w", ErrHandshake, err), c.cfg.Token)
		}
		ae, ok := c.apiErrorFrom(data)
		if typ != websocket.MessageText || !ok {
			ws.CloseNow()
			cancel()
			return nil, fmt.Errorf("%w: the first frame is not a handshake result (%s, %d bytes)", ErrHandshake, typ, len(data))
		}
		if ae.Code != 0 {
			ws.CloseNow()
			cancel()
			return nil, ae
		}
	}
	return cn, nil
}

// start runs the connection's read loop and heartbeat.
func (cn *conn) start() {
	cn.wg.Add(2)
	go cn.readLoop()
	go cn.heartbeat()
	go func() {
		cn.wg.Wait()
		close(cn.done)
	}()
}

// die ends the connection with err (the first error wins) and fails every
// pending request with ErrConnectionLost.
func (cn *conn) die(err error) {
	cn.dieOnce.Do(func() {
		cn.pendMu.Lock()
		cn.dead = true
		cn.err = err
		pend := cn.pending
		cn.pending = nil
		cn.pendMu.Unlock()
		var lost error = fmt.Errorf("%w: %w", ErrConnectionLost, err)
		if len(pend) == 1 {
			lost = &soleLossError{lost}
		}
		for _, ch := range pend {
			ch <- reply{err: lost}
		}
		cn.cancel()
		if cn.ws != nil {
			cn.ws.CloseNow()
		}
	})
}

func (cn *conn) cause() error {
	cn.pendMu.Lock()
	defer cn.pendMu.Unlock()
	return cn.err
}

// heartbeat sends a ws Ping every PingInterval and kills the connection when
// nothing arrived for ReadTimeout.
func (cn *conn) heartbeat() {
	defer cn.wg.Done()
	cfg := &cn.c.cfg
	check := cfg.ReadTimeout / 4
	if check > time.Second {
		check = time.Second
	}
	if check < time.Millisecond {
		check = time.Millisecond
	}
	watch := time.NewTicker(check)
	defer watch.Stop()
	ping := time.NewTicker(cfg.PingInterval)
	defer ping.Stop()
	pinging := make(chan struct{}, 1)
	for {
		select {
		case <-cn.ctx.Done():
			return
		case <-watch.C:
			if cn.gotFrame.Swap(false) {
				cn.lastIn.Store(time.Now().UnixNano())
			}
			idle := time.Since(time.Unix(0, cn.lastIn.Load()))
			if idle > cfg.ReadTimeout {
				cn.die(fmt.Errorf("%w: nothing received for %v", ErrReadTimeout, idle.Round(time.Millisecond)))
				return
			}
		case <-ping.C:
			select {
			case pinging <- struct{}{}:
			default:
				continue // the previous ping still waits for its pong
			}
			cn.wg.Add(1)
			go func() {
				defer cn.wg.Done()
				defer func() { <-pinging }()
				ctx, cancel := context.WithTimeout(cn.ctx, cfg.ReadTimeout)
				defer cancel()
				if err := cn.ping(ctx); err != nil && cn.ctx.Err() == nil {
					cn.die(fmt.Errorf("%w: ping: %w", ErrReadTimeout, err))
				}
			}()
		}
	}
}

// readFirst reads the first message, bounded by ctx.
func (cn *conn) readFirst(ctx context.Context) (websocket.MessageType, []byte, error) {
	if cn.fr == nil {
		return cn.ws.Read(ctx)
	}
	// A blocked read ends when the connection is closed.
	stop := context.AfterFunc(ctx, func() { cn.ws.CloseNow() })
	op, msg, err := cn.fr.next()
	if !stop() {
		// The deadline passed and closed the connection, perhaps just
		// after the frame arrived.
		return 0, nil, ctx.Err()
	}
	return websocket.MessageType(op), msg, err
}

// ping sends a websocket ping and waits for its pong. The heartbeat has
// one ping in flight at a time.
func (cn *conn) ping(ctx context.Context) error {
	// The payload is a decimal counter (coder/websocket's choice too);
	// the gateway only echoes it.
	if cn.fr == nil {
		return cn.ws.Ping(ctx)
	}
	id := strconv.FormatUint(cn.pings.Add(1), 10)
	ch := make(chan struct{})
	cn.pongMu.Lock()
	cn.pongID, cn.pongCh = id, ch
	cn.pongMu.Unlock()
	defer func() {
		cn.pongMu.Lock()
		if cn.pongCh == ch {
			cn.pongCh = nil
		}
		cn.pongMu.Unlock()
	}()
	if err := cn.bc.writeMessage(wire.OpPing, []byte(id)); err != nil {
		return fmt.Errorf("failed to ping: %w", err)
	}
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("failed to wait for pong: %w", ctx.Err())
	}
}

// gotPong ends the wait of the ping whose payload p carries.
func (cn *conn) gotPong(p []byte) {
	cn.pongMu.Lock()
	defer cn.pongMu.Unlock()
	if cn.pongCh != nil && string(p) == cn.pongID {
		close(cn.pongCh)
		cn.pongCh = nil
	}
}

// textFrame is the gateway's application-level ping/pong.
type textFrame struct {
	Type string          `json:"type"`
	Body json.RawMessage `json:"body"`
}

// readLoop reads frames until the connection dies. It never runs user code
// and never blocks on the event consumer.
func (cn *conn) readLoop() {
	defer cn.wg.Done()
	c := cn.c
	dec := wire.NewDecoder(c.wireOptions(wire.MaxClientInbound))
	var buf bytes.Buffer
	var resp wire.RespView
	// Reads are not bounded by a context (coder/websocket would arm one
	// per read): die closes the websocket, which ends a blocked read.
	ctx := context.Background()
	for {
		var typ websocket.MessageType
		var frame []byte
		if cn.fr != nil {
			op, msg, err := cn.fr.next()
			if err != nil {
				cn.die(readError(err, c.cfg.Token))
				return
			}
			typ, frame = websocket.MessageType(op), msg
		} else {
			t, r, err := cn.ws.Reader(ctx)
			if err != nil {
				cn.die(readError(err, c.cfg.Token))
				return
			}
			buf.Reset()
			if _, err := buf.ReadFrom(r); err != nil {
				cn.die(readError(err, c.cfg.Token))
				return
			}
			typ, frame = t, buf.Bytes()
		}
		if !cn.gotFrame.Load() {
			cn.gotFrame.Store(true)
		}
		if typ == websocket.MessageText {
			if err := cn.handleText(frame); err != nil {
				cn.die(err)
				return
			}
			continue
		}
		if err := dec.DecodeRespView(frame, &resp); err != nil {
			if errors.Is(err, wire.ErrFrameTooLarge) {
				// A gzip frame inflating past the limit is over the read
				// limit as much as a frame read past it.
				cn.die(fmt.Errorf("%w: %w", ErrInboundTooLarge, err))
				return
			}
			cn.die(fmt.Errorf("%w: %w", ErrProtocol, err))
			return
		}
		if err := cn.handleResp(&resp); err != nil {
			cn.die(err)
			return
		}
	}
}

func (cn *conn) handleText(b []byte) error {
	var f textFrame
	if err := json.Unmarshal(b, &f); err != nil {
		return fmt.Errorf("%w: text frame is not JSON (%d bytes)", ErrProtocol, len(b))
	}
	switch f.Type {
	case "ping":
		body := f.Body
		if len(body) == 0 {
			body = json.RawMessage("null")
		}
		out, err := json.Marshal(textFrame{Type: "pong", Body: body})
		if err != nil {
			return fmt.Errorf("%w: text ping: %w", ErrProtocol, err)
		}
		cn.writeMu.Lock()
		if cn.fr != nil {
			// Not through the library: a data frame it writes may reach
			// the batchConn in several writes, and a frame of ours
			// could land between them.
			err = cn.bc.writeMessage(wire.OpText, out)
		} else {
			ctx, cancel := context.WithTimeout(cn.ctx, writeTimeout)
			err = cn.ws.Write(ctx, websocket.MessageText, out)
			cancel()
		}
		cn.writeMu.Unlock()
		if err != nil {
			return fmt.Errorf("transport: write text pong: %w", err)
		}
		return nil
	case "pong":
		return nil
	}
	return fmt.Errorf("%w: unexpected text frame of type %q", ErrProtocol, f.Type)
}

// handleResp handles one decoded frame. r's slices alias the read buffer:
// what outlives the call is copied.
func (cn *conn) handleResp(r *wire.RespView) error {
	switch r.ReqIdentifier {
	case wire.PushMsg:
		if r.ErrCode != 0 {
			return nil
		}
		own := ""
		if cn.c.cfg.SkipOwnContent {
			own = cn.c.cfg.UserID
		}
		msgs, err := decodePushOwn(r.Data, own)
		if err != nil {
			return fmt.Errorf("%w: push: %w", ErrProtocol, err)
		}
		if len(msgs) == 0 {
			return nil
		}
		if _, first := cn.c.emit(Event{Kind: EventPush, Conn: cn.gen, Messages: msgs}); first {
			cn.c.log.Warn("event queue full: dropping pushes until the consumer catches up; it re-syncs by seq",
				"conn", cn.gen, "queued", cn.c.queue.queued(), "cap", cn.c.cfg.EventQueueCap)
		}
		return nil
	case wire.KickOnlineMsg:
		return ErrKicked
	case wire.SubUserOnlineStatus:
		if len(r.MsgIncr) == 0 {
			return nil // an online-status notification; not subscribed by this client
		}
	}
	cn.pendMu.Lock()
	ch, ok := cn.pending[string(r.MsgIncr)]
	if ok {
		delete(cn.pending, string(r.MsgIncr))
	}
	cn.pendMu.Unlock()
	if !ok {
		switch r.ReqIdentifier {
		case wire.GetNewestSeq, wire.PullMsgByRange, wire.SendMsg, wire.SendSignalMsg,
			wire.PullMsgBySeqList, wire.GetConvMaxReadSeq, wire.PullConvLastMessage,
			wire.LogoutMsg, wire.SetBackgroundStatus, wire.SubUserOnlineStatus:
			// A reply whose request gave up (its ctx ended): ignore it.
			cn.c.log.Debug("reply without a pending request", "reqIdentifier", r.ReqIdentifier, "msgIncr", string(r.MsgIncr))
			return nil
		}
		return fmt.Errorf("%w: unknown reqIdentifier %d", ErrProtocol, r.ReqIdentifier)
	}
	if r.ErrCode != 0 {
		ch <- reply{err: &APIError{Code: r.ErrCode, Msg: string(r.ErrMsg)}}
		return nil
	}
	ch <- reply{data: bytes.Clone(r.Data)}
	return nil
}

// readError is the cause of a connection whose read failed with err: one
// matching ErrInboundTooLarge for a frame over the read limit
// (wire.MaxClientInbound), which coder/websocket cannot skip.
func readError(err error, token string) error {
	if errors.Is(err, websocket.ErrMessageTooBig) {
		return fmt.Errorf("%w: %w", ErrInboundTooLarge, redact(err, token))
	}
	return redact(err, token)
}

// soleLossError is the error of a request that was the only one pending on
// a connection when it died: the connection's cause concerns it alone
// (for a frame over the read limit, it was its answer).
type soleLossError struct{ err error }

func (e *soleLossError) Error() string { return e.err.Error() }
func (e *soleLossError) Unwrap() error { return e.err }

func isSoleLoss(err error) bool {
	var s *soleLossError
	return errors.As(err, &s)
}

// isDead reports whether cn has died.
func (cn *conn) isDead() bool {
	cn.pendMu.Lock()
	defer cn.pendMu.Unlock()
	return cn.dead
}

// notSentError is roundTrip's error for a connection that was already dead:
// nothing was sent, so the request may go on the next connection.
type notSentError struct{ err error }

func (e *notSentError) Error() string { return e.err.Error() }
func (e *notSentError) Unwrap() error { return e.err }

// roundTrip sends one request on cn and waits for its reply. It returns a
// *notSentError when cn was dead before anything was sent.
func (cn *conn) roundTrip(ctx context.Context, ident int32, payload []byte) ([]byte, error) {
	c := cn.c
	incr := c.nextMsgIncr()
	ch := replyChans.Get().(chan reply)
	cn.pendMu.Lock()
	if cn.dead {
		err := cn.err
		cn.pendMu.Unlock()
		return nil, &notSentError{fmt.Errorf("%w: %w", ErrConnectionLost, err)}
	}
	cn.pending[incr] = ch
	cn.pendMu.Unlock()
	forget := func() {
		cn.pendMu.Lock()
		if cn.pending != nil {
			delete(cn.pending, incr)
		}
		cn.pendMu.Unlock()
	}

	cn.writeMu.Lock()
	cn.req = wire.Req{
		ReqIdentifier: ident,
		SendID:        c.cfg.UserID,
		OperationID:   c.cfg.OperationID(),
		MsgIncr:       incr,
		Data:          payload,
	}
	frame, err := cn.enc.EncodeReq(&cn.req)
	if err != nil {
		cn.writeMu.Unlock()
		forget()
		if errors.Is(err, wire.ErrFrameTooLarge) {
			return nil, fmt.Errorf("%w: %w", ErrFrameTooLarge, err)
		}
		return nil, fmt.Errorf("transport: encode request %d: %w", ident, err)
	}
	// The frame only goes into the batchConn's buffer (framed there on a
	// plain connection; through the websocket library, which writes to
	// the TLS layer above the batchConn, on a TLS one). The socket write,
	// bounded by writeTimeout, is left to its flusher, which sends the
	// frames of concurrent requests together, and does not use the
	// request's context. A failed socket write closes the connection: the
	// read loop then fails every pending request.
	if cn.fr != nil {
		err = cn.bc.writeMessage(wire.OpBinary, frame)
	} else {
		cn.bc.deferFlush(true)
		err = cn.ws.Write(context.Background(), websocket.MessageBinary, frame)
		cn.bc.deferFlush(false)
		if err == nil {
			cn.bc.flushSoon()
		}
	}
	cn.writeMu.Unlock()
	if err != nil {
		cn.die(fmt.Errorf("transport: write: %w", redact(err, c.cfg.Token)))
		// die delivered ErrConnectionLost to ch.
	}
	select {
	case r := <-ch:
		// The one send to ch was this reply (whoever takes a request
		// out of pending sends to it once): ch is empty and no one
		// else holds it.
		replyChans.Put(ch)
		return r.data, r.err
	case <-ctx.Done():
		forget()
		return nil, ctx.Err()
	}
}
