package transport

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/gob"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"google.golang.org/protobuf/proto"

	"github.com/openimbot/openimbot/content"
	"github.com/openimbot/openimbot/internal/pb/msg"
	"github.com/openimbot/openimbot/internal/pb/push"
	"github.com/openimbot/openimbot/internal/pb/sdkws"
	"github.com/openimbot/openimbot/internal/wire"
)

func TestHandshakeURL(t *testing.T) {
	cfg := Config{WSAddr: "ws://h:10001", UserID: "bot 1", Token: "a+b/c=", PlatformID: 3, Background: true,
		Compression: CompressGzip, Encoding: EncodingJSON, SDKVersion: "v1&2", MsgResp: true}
	got := HandshakeURL(cfg, "op 1")
	want := "ws://h:10001?sendID=bot+1&token=a%2Bb%2Fc%3D&platformID=3&operationID=op+1&isBackground=true&compression=gzip&sdkType=js&sdkVersion=v1%262&isMsgResp=true"
	if got != want {
		t.Fatalf("HandshakeURL\n got %s\nwant %s", got, want)
	}
	got = HandshakeURL(Config{WSAddr: "ws://h:10001/", UserID: "bot", Token: "t"}, "1")
	want = "ws://h:10001/?sendID=bot&token=t&platformID=7&operationID=1&isBackground=false"
	if got != want {
		t.Fatalf("HandshakeURL defaults\n got %s\nwant %s", got, want)
	}
}

// The client always sends isBackground and the reference SDK's parameters
// (docs/protocol.md §13 item 3, client side).
func TestHandshakeQueryOnTheWire(t *testing.T) {
	gw := newFakeGW(t)
	r := start(t, testConfig(gw))
	fc := gw.accept(t)
	for k, want := range map[string]string{"sendID": "bot", "token": "SECRET-TOKEN-abc.def", "platformID": "7", "isBackground": "false"} {
		if got := fc.query.Get(k); got != want {
			t.Errorf("query %s = %q, want %q", k, got, want)
		}
	}
	if fc.query.Get("operationID") == "" {
		t.Error("operationID missing")
	}
	for _, k := range []string{"compression", "sdkType", "isMsgResp"} {
		if fc.query.Has(k) {
			t.Errorf("query has %s by default", k)
		}
	}
	e := r.waitEvent(t, EventConnected)
	if e.Conn != 1 {
		t.Errorf("first connection generation = %d, want 1", e.Conn)
	}
	if s := r.c.Status(); s != StatusConnected {
		t.Errorf("Status = %d, want connected", s)
	}
}

func TestConformance06_FatalTokenErrors(t *testing.T) {
	for _, tc := range []struct {
		code     int
		sentinel error
	}{
		{1501, ErrTokenExpired}, {1502, ErrTokenInvalid}, {1503, ErrTokenInvalid}, {1504, ErrTokenInvalid},
		{1505, ErrTokenInvalid}, {1506, ErrTokenKicked}, {1507, ErrTokenInvalid},
	} {
		t.Run(tc.sentinel.Error()+"/"+itoa(tc.code), func(t *testing.T) {
			gw := newFakeGW(t)
			gw.rejectWith(func(url.Values) map[string]any {
				return map[string]any{"errCode": tc.code, "errMsg": "TokenError", "errDlt": ""}
			})
			r := start(t, testConfig(gw))
			err := r.waitDone(t)
			var ae *APIError
			if !errors.As(err, &ae) || ae.Code != tc.code {
				t.Fatalf("Run = %v, want *APIError %d", err, tc.code)
			}
			if !errors.Is(err, tc.sentinel) {
				t.Errorf("errors.Is(%v, %v) = false", err, tc.sentinel)
			}
			if n := gw.dials.Load(); n != 1 {
				t.Errorf("dials = %d, want 1 (no reconnect loop)", n)
			}
			e := r.waitEvent(t, EventTokenInvalid)
			if !errors.Is(e.Err, tc.sentinel) {
				t.Errorf("EventTokenInvalid.Err = %v", e.Err)
			}
			if s := r.c.Status(); s != StatusClosed {
				t.Errorf("Status = %d, want closed", s)
			}
			if _, err := r.c.GetNewestSeq(context.Background()); !errors.Is(err, ErrClosed) {
				t.Errorf("request after fatal error = %v, want ErrClosed", err)
			}
		})
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestConformance06_OtherHandshakeErrorsRetry(t *testing.T) {
	gw := newFakeGW(t)
	var mu sync.Mutex
	left := 3
	gw.rejectWith(func(url.Values) map[string]any {
		mu.Lock()
		defer mu.Unlock()
		if left == 0 {
			return nil
		}
		left--
		return map[string]any{"errCode": []int{1602, 500, 1601}[left], "errMsg": "x", "errDlt": "y"}
	})
	cfg := testConfig(gw)
	var attempts []int
	var amu sync.Mutex
	cfg.Backoff = func(n int) time.Duration {
		amu.Lock()
		attempts = append(attempts, n)
		amu.Unlock()
		return 10 * time.Millisecond
	}
	r := start(t, cfg)
	var failed []Event
	for len(failed) < 3 {
		e := r.waitEvent(t, EventConnectFailed)
		failed = append(failed, e)
	}
	for i, e := range failed {
		var ae *APIError
		if !errors.As(e.Err, &ae) || ae.Detail != "y" {
			t.Errorf("ConnectFailed %d: Err = %v, want *APIError with detail", i, e.Err)
		}
		if e.Attempt != i+1 {
			t.Errorf("ConnectFailed %d: Attempt = %d", i, e.Attempt)
		}
	}
	r.waitEvent(t, EventConnected)
	amu.Lock()
	defer amu.Unlock()
	if len(attempts) != 3 || attempts[0] != 1 || attempts[2] != 3 {
		t.Errorf("backoff attempts = %v, want [1 2 3]", attempts)
	}
}

func TestMaxReconnectsExhausted(t *testing.T) {
	gw := newFakeGW(t)
	gw.rejectWith(func(url.Values) map[string]any {
		return map[string]any{"errCode": 1601, "errMsg": "ConnOverMaxNumLimit"}
	})
	cfg := testConfig(gw)
	cfg.MaxReconnects = 4
	r := start(t, cfg)
	err := r.waitDone(t)
	if !errors.Is(err, ErrReconnectsExhausted) {
		t.Fatalf("Run = %v, want ErrReconnectsExhausted", err)
	}
	if n := gw.dials.Load(); n != 4 {
		t.Errorf("dials = %d, want 4", n)
	}
}

func TestConformance06_MsgRespFirstFrame(t *testing.T) {
	// Failure reported in the first text frame after the upgrade.
	gw := newFakeGW(t)
	gw.serveWith(msgRespHandler(t, `{"errCode":1505,"errMsg":"TokenUnknownError","errDlt":""}`))
	cfg := testConfig(gw)
	cfg.MsgResp = true
	r := start(t, cfg)
	err := r.waitDone(t)
	if !errors.Is(err, ErrTokenInvalid) {
		t.Fatalf("Run = %v, want ErrTokenInvalid", err)
	}
	// Success: the first text frame says errCode 0 and the protocol follows.
	gw2 := newFakeGW(t)
	cfg2 := testConfig(gw2)
	cfg2.MsgResp = true
	r2 := start(t, cfg2)
	fc := gw2.accept(t)
	if fc.query.Get("isMsgResp") != "true" {
		t.Errorf("isMsgResp not sent")
	}
	r2.waitEvent(t, EventConnected)
	go func() {
		req := fc.nextReq(t)
		fc.reply(t, req, 0, &sdkws.GetMaxSeqResp{MaxSeqs: map[string]int64{"si_a_bot": 2}})
	}()
	seqs, err := r2.c.GetNewestSeq(ctxT(t, 5*time.Second))
	if err != nil || seqs["si_a_bot"] != 2 {
		t.Fatalf("GetNewestSeq = %v, %v", seqs, err)
	}
}

func msgRespHandler(t *testing.T, first string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		_ = ws.Write(r.Context(), websocket.MessageText, []byte(first))
		ws.CloseNow()
	}
}

// Item 7: every request frame is one self-contained gob stream that a fresh
// gob.Decoder decodes.
func TestConformance07_GobFreshStreamPerFrame(t *testing.T) {
	gw := newFakeGW(t)
	r := start(t, testConfig(gw))
	fc := gw.accept(t)
	r.waitEvent(t, EventConnected)
	type sdkReq struct { // the SDK's GeneralWsReq, with int fields
		ReqIdentifier int
		Token         string
		SendID        string
		OperationID   string
		MsgIncr       string
		Data          []byte
	}
	for i := 0; i < 3; i++ {
		done := make(chan error, 1)
		go func() { _, err := r.c.GetNewestSeq(ctxT(t, 5*time.Second)); done <- err }()
		f := <-fc.frames
		var v sdkReq
		if err := gob.NewDecoder(bytes.NewReader(f.data)).Decode(&v); err != nil {
			t.Fatalf("frame %d: fresh gob decoder: %v", i, err)
		}
		if v.ReqIdentifier != 1001 || v.SendID != "bot" || v.OperationID == "" || !strings.HasPrefix(v.MsgIncr, "bot_") {
			t.Fatalf("frame %d decoded as %+v", i, v)
		}
		var gm sdkws.GetMaxSeqReq
		if err := proto.Unmarshal(v.Data, &gm); err != nil || gm.GetUserID() != "bot" {
			t.Fatalf("payload %v %v", &gm, err)
		}
		req := fc.nextReq(t)
		fc.reply(t, req, 0, &sdkws.GetMaxSeqResp{})
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

// Item 8: sdkType=js sends JSON envelopes with the six keys, data base64.
func TestConformance08_JSONEnvelope(t *testing.T) {
	gw := newFakeGW(t)
	cfg := testConfig(gw)
	cfg.Encoding = EncodingJSON
	r := start(t, cfg)
	fc := gw.accept(t)
	if fc.query.Get("sdkType") != "js" {
		t.Fatalf("sdkType = %q", fc.query.Get("sdkType"))
	}
	r.waitEvent(t, EventConnected)
	done := make(chan error, 1)
	go func() { _, err := r.c.GetNewestSeq(ctxT(t, 5*time.Second)); done <- err }()
	f := <-fc.frames
	if f.typ != websocket.MessageBinary {
		t.Errorf("JSON envelope sent in a %v frame", f.typ)
	}
	var m map[string]any
	if err := json.Unmarshal(f.data, &m); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	for _, k := range []string{"reqIdentifier", "token", "sendID", "operationID", "msgIncr", "data"} {
		if _, ok := m[k]; !ok {
			t.Errorf("key %q missing in %s", k, f.data)
		}
	}
	if len(m) != 6 {
		t.Errorf("%d keys in %s", len(m), f.data)
	}
	if m["data"] != "CgNib3Q=" { // GetMaxSeqReq{userID:"bot"} = 0a03626f74
		t.Errorf("data = %v", m["data"])
	}
	req := fc.nextReq(t)
	fc.reply(t, req, 0, &sdkws.GetMaxSeqResp{MaxSeqs: map[string]int64{"x": 1}})
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// Items 9 and 10: envelopes travel in binary frames, gzipped exactly when
// compression=gzip; text frames (pongs) are never gzipped.
func TestConformance09_10_BinaryFramesAndGzip(t *testing.T) {
	for _, gz := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "gzip"}[gz], func(t *testing.T) {
			gw := newFakeGW(t)
			cfg := testConfig(gw)
			if gz {
				cfg.Compression = CompressGzip
			}
			r := start(t, cfg)
			fc := gw.accept(t)
			if got := fc.query.Get("compression"); (got == "gzip") != gz {
				t.Fatalf("compression query = %q", got)
			}
			r.waitEvent(t, EventConnected)
			// A push from the gateway (gzipped iff gz) is decoded.
			fc.push(t, pushOf("si_alice_bot", textMsg("alice", "bot", 1, "hi")))
			e := r.waitEvent(t, EventPush)
			if len(e.Messages) != 1 || e.Messages[0].Text() != "hi" {
				t.Fatalf("push = %+v", e.Messages)
			}
			done := make(chan error, 1)
			go func() { _, err := r.c.GetNewestSeq(ctxT(t, 5*time.Second)); done <- err }()
			f := <-fc.frames
			if f.typ != websocket.MessageBinary {
				t.Fatalf("request in a %v frame", f.typ)
			}
			isGzip := len(f.data) > 2 && f.data[0] == 0x1f && f.data[1] == 0x8b
			if isGzip != gz {
				t.Fatalf("gzip magic = %v, want %v", isGzip, gz)
			}
			if gz {
				zr, err := gzip.NewReader(bytes.NewReader(f.data))
				if err != nil {
					t.Fatal(err)
				}
				zr.Multistream(false)
				body, err := io.ReadAll(zr)
				if err != nil {
					t.Fatalf("not one complete gzip member: %v", err)
				}
				var v wire.Req
				if err := gob.NewDecoder(bytes.NewReader(body)).Decode(&v); err != nil || v.ReqIdentifier != 1001 {
					t.Fatalf("inflated body: %+v %v", v, err)
				}
			}
			fc.reply(t, fc.nextReq(t), 0, &sdkws.GetMaxSeqResp{})
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			fc.sendText(`{"type":"ping","body":"x"}`)
			select {
			case pong := <-fc.texts:
				if string(pong) != `{"type":"pong","body":"x"}` {
					t.Fatalf("pong = %s (gzipped text?)", pong)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("no text pong")
			}
		})
	}
}

// Item 11: the client decodes gob envelopes regardless of field order,
// type name and int width.
func TestConformance11_GobStructVariants(t *testing.T) {
	gw := newFakeGW(t)
	r := start(t, testConfig(gw))
	fc := gw.accept(t)
	r.waitEvent(t, EventConnected)
	type GeneralWsResp struct { // another name, other order, int fields
		Data          []byte
		ErrMsg        string
		ErrCode       int
		OperationID   string
		MsgIncr       string
		ReqIdentifier int
	}
	done := make(chan map[string]int64, 1)
	go func() {
		m, err := r.c.GetNewestSeq(ctxT(t, 5*time.Second))
		if err != nil {
			t.Error(err)
		}
		done <- m
	}()
	req := fc.nextReq(t)
	data, _ := proto.Marshal(&sdkws.GetMaxSeqResp{MaxSeqs: map[string]int64{"si_alice_bot": 3}})
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(GeneralWsResp{ReqIdentifier: 1001, MsgIncr: req.MsgIncr, OperationID: req.OperationID, Data: data}); err != nil {
		t.Fatal(err)
	}
	if err := fc.ws.Write(context.Background(), websocket.MessageBinary, buf.Bytes()); err != nil {
		t.Fatal(err)
	}
	if m := <-done; m["si_alice_bot"] != 3 {
		t.Fatalf("GetNewestSeq = %v", m)
	}
	// And a push encoded by a fresh encoder of the variant struct.
	pdata, _ := proto.Marshal(pushOf("si_alice_bot", textMsg("alice", "bot", 4, "variant")))
	buf.Reset()
	if err := gob.NewEncoder(&buf).Encode(GeneralWsResp{ReqIdentifier: 2001, Data: pdata}); err != nil {
		t.Fatal(err)
	}
	if err := fc.ws.Write(context.Background(), websocket.MessageBinary, buf.Bytes()); err != nil {
		t.Fatal(err)
	}
	e := r.waitEvent(t, EventPush)
	if e.Messages[0].Text() != "variant" || e.Messages[0].Seq != 4 {
		t.Fatalf("push = %+v", e.Messages[0])
	}
}

// Item 15: replies are matched by MsgIncr only; pushes interleave.
func TestConformance15_CorrelationByMsgIncr(t *testing.T) {
	gw := newFakeGW(t)
	r := start(t, testConfig(gw))
	fc := gw.accept(t)
	r.waitEvent(t, EventConnected)
	const n = 5
	type res struct {
		i   int
		got int64
		err error
	}
	results := make(chan res, n)
	for i := 0; i < n; i++ {
		go func() {
			m, err := r.c.GetNewestSeq(ctxT(t, 5*time.Second))
			results <- res{i, m["c"], err}
		}()
	}
	reqs := make([]*wire.Req, n)
	seen := map[string]bool{}
	for i := range reqs {
		reqs[i] = fc.nextReq(t)
		if seen[reqs[i].MsgIncr] || !strings.HasPrefix(reqs[i].MsgIncr, "bot_") {
			t.Fatalf("MsgIncr %q duplicate or badly formed", reqs[i].MsgIncr)
		}
		seen[reqs[i].MsgIncr] = true
	}
	// Reply in reverse order, each answer identifying its request, with a
	// push before every reply. All replies carry the same ReqIdentifier and
	// OperationID, so only MsgIncr can tell them apart.
	answer := map[string]int64{}
	for i := n - 1; i >= 0; i-- {
		fc.push(t, pushOf("si_alice_bot", textMsg("alice", "bot", int64(10+i), "p")))
		answer[reqs[i].MsgIncr] = int64(100 + i)
		data, _ := proto.Marshal(&sdkws.GetMaxSeqResp{MaxSeqs: map[string]int64{"c": int64(100 + i)}})
		fc.send(t, &wire.Resp{ReqIdentifier: 1001, MsgIncr: reqs[i].MsgIncr, OperationID: "same", Data: data})
	}
	got := map[int64]bool{}
	for i := 0; i < n; i++ {
		r := <-results
		if r.err != nil {
			t.Fatal(r.err)
		}
		got[r.got] = true
	}
	for i := 0; i < n; i++ {
		if !got[int64(100+i)] {
			t.Fatalf("answers = %v", got)
		}
	}
	for i := 0; i < n; i++ {
		e := r.waitEvent(t, EventPush)
		if e.Messages[0].Seq != int64(10+n-1-i) {
			t.Fatalf("push %d seq %d: pushes out of order", i, e.Messages[0].Seq)
		}
	}
}

// Item 27: a ws Ping at least every PingInterval (and the gateway's Pong
// keeps the connection alive past ReadTimeout).
func TestConformance27_PingInterval(t *testing.T) {
	gw := newFakeGW(t)
	cfg := testConfig(gw)
	cfg.PingInterval = 100 * time.Millisecond
	cfg.ReadTimeout = 2 * time.Second
	r := start(t, cfg)
	gw.accept(t)
	r.waitEvent(t, EventConnected)
	deadline := time.Now().Add(20 * time.Second)
	for gw.pings.Load() < 25 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := gw.pings.Load(); n < 25 {
		t.Fatalf("pings = %d", n)
	}
	// 25 pings at 100ms span 2.5s > ReadTimeout: pongs kept it alive.
	if n := gw.dials.Load(); n != 1 {
		t.Fatalf("dials = %d: the connection was dropped despite pongs", n)
	}
	if s := r.c.Status(); s != StatusConnected {
		t.Fatalf("Status = %d", s)
	}
}

func TestReadTimeoutReconnects(t *testing.T) {
	gw := newFakeGW(t)
	gw.ignorePings.Store(true)
	cfg := testConfig(gw)
	cfg.PingInterval = 50 * time.Millisecond
	cfg.ReadTimeout = 200 * time.Millisecond
	r := start(t, cfg)
	r.waitEvent(t, EventConnected)
	e := r.waitEvent(t, EventDisconnected)
	if !errors.Is(e.Err, ErrReadTimeout) {
		t.Fatalf("Disconnected.Err = %v, want ErrReadTimeout", e.Err)
	}
	e = r.waitEvent(t, EventConnected)
	if e.Conn != 2 {
		t.Errorf("reconnected generation = %d", e.Conn)
	}
}

// Item 30: text ping answered with the same body; other text frames are a
// protocol error that drops the connection.
func TestConformance30_TextPingPong(t *testing.T) {
	gw := newFakeGW(t)
	r := start(t, testConfig(gw))
	fc := gw.accept(t)
	r.waitEvent(t, EventConnected)
	for _, tc := range []struct{ in, want string }{
		{`{"type":"ping","body":"\"123\""}`, `{"type":"pong","body":"\"123\""}`},
		{`{"type":"ping","body":{"a":[1,2]}}`, `{"type":"pong","body":{"a":[1,2]}}`},
		{`{"type":"ping"}`, `{"type":"pong","body":null}`},
	} {
		fc.sendText(tc.in)
		select {
		case got := <-fc.texts:
			if string(got) != tc.want {
				t.Errorf("pong for %s = %s, want %s", tc.in, got, tc.want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no pong for %s", tc.in)
		}
	}
	fc.sendText(`{"type":"pong","body":1}`) // accepted silently
	fc.sendText(`{"type":"hello"}`)
	e := r.waitEvent(t, EventDisconnected)
	if !errors.Is(e.Err, ErrProtocol) {
		t.Fatalf("Disconnected.Err = %v, want ErrProtocol", e.Err)
	}
	r.waitEvent(t, EventConnected)
	if n := gw.dials.Load(); n != 2 {
		t.Errorf("dials = %d", n)
	}
}

// Item 33: a 2002 kick stops the client: EventKicked, Run returns ErrKicked,
// no redial.
func TestConformance33_Kick(t *testing.T) {
	gw := newFakeGW(t)
	r := start(t, testConfig(gw))
	fc := gw.accept(t)
	r.waitEvent(t, EventConnected)
	pending := make(chan error, 1)
	go func() { _, err := r.c.GetNewestSeq(ctxT(t, 5*time.Second)); pending <- err }()
	fc.nextReq(t)
	fc.send(t, &wire.Resp{ReqIdentifier: wire.KickOnlineMsg})
	err := r.waitDone(t)
	if !errors.Is(err, ErrKicked) {
		t.Fatalf("Run = %v, want ErrKicked", err)
	}
	r.waitEvent(t, EventKicked)
	if err := <-pending; !errors.Is(err, ErrConnectionLost) || !errors.Is(err, ErrKicked) {
		t.Errorf("pending request = %v", err)
	}
	if s := r.c.Status(); s != StatusClosed {
		t.Errorf("Status = %d", s)
	}
	time.Sleep(100 * time.Millisecond) // several backoff periods: no redial may happen
	if n := gw.dials.Load(); n != 1 {
		t.Errorf("dials = %d after a kick", n)
	}
	if _, err := r.c.GetNewestSeq(context.Background()); !errors.Is(err, ErrClosed) || !errors.Is(err, ErrKicked) {
		t.Errorf("request after kick = %v", err)
	}
}

// Item 34: Logout sends 2003 with DelUserPushTokenReq, then the client stops.
func TestConformance34_Logout(t *testing.T) {
	gw := newFakeGW(t)
	r := start(t, testConfig(gw))
	fc := gw.accept(t)
	r.waitEvent(t, EventConnected)
	go func() {
		req := fc.nextReq(t)
		if req.ReqIdentifier != wire.LogoutMsg {
			t.Errorf("reqIdentifier = %d", req.ReqIdentifier)
		}
		var d push.DelUserPushTokenReq
		if err := proto.Unmarshal(req.Data, &d); err != nil || d.GetUserID() != "bot" || d.GetPlatformID() != 7 {
			t.Errorf("DelUserPushTokenReq = %v, %v", &d, err)
		}
		fc.reply(t, req, 0, nil)
		fc.kill()
	}()
	if err := r.c.Logout(ctxT(t, 5*time.Second)); err != nil {
		t.Fatalf("Logout = %v", err)
	}
	if err := r.waitDone(t); err != nil {
		t.Fatalf("Run = %v after logout", err)
	}
	if s := r.c.Status(); s != StatusClosed {
		t.Errorf("Status = %d", s)
	}
	if err := r.c.SetBackground(context.Background(), true); !errors.Is(err, ErrClosed) {
		t.Errorf("request after logout = %v", err)
	}
	if n := gw.dials.Load(); n != 1 {
		t.Errorf("dials = %d", n)
	}
}

// Item 37: the client never sends frames over 51200 bytes, and accepts
// inbound frames up to 1 MiB.
func TestConformance37_FrameLimits(t *testing.T) {
	gw := newFakeGW(t)
	r := start(t, testConfig(gw))
	fc := gw.accept(t)
	r.waitEvent(t, EventConnected)
	big := &content.Message{RecvID: "alice", Elem: &content.Text{Content: strings.Repeat("x", 60000)}}
	_, err := r.c.SendMsg(ctxT(t, 5*time.Second), big)
	if !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("SendMsg of 60 kB = %v, want ErrFrameTooLarge", err)
	}
	// Just under the limit after the envelope is still refused when the
	// frame is over: 51100 bytes of content plus envelope > 51200.
	_, err = r.c.SendMsg(ctxT(t, 5*time.Second), &content.Message{RecvID: "alice", Elem: &content.Text{Content: strings.Repeat("y", 51100)}})
	if !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("SendMsg of 51.1 kB = %v, want ErrFrameTooLarge", err)
	}
	select {
	case f := <-fc.frames:
		t.Fatalf("a %d-byte frame was sent", len(f.data))
	case <-time.After(50 * time.Millisecond):
	}
	// The connection is still usable.
	go func() { fc.reply(t, fc.nextReq(t), 0, &sdkws.UserSendMsgResp{ServerMsgID: "s"}) }()
	if _, err := r.c.SendMsg(ctxT(t, 5*time.Second), &content.Message{RecvID: "alice", Elem: &content.Text{Content: "ok"}}); err != nil {
		t.Fatal(err)
	}
	<-fc.frames
	// Inbound: a ~1000 KB push is accepted.
	fc.push(t, pushOf("si_alice_bot", textMsg("alice", "bot", 1, strings.Repeat("z", 1000*1024))))
	e := r.waitEvent(t, EventPush)
	if len(e.Messages[0].Text()) != 1000*1024 {
		t.Fatalf("big push text %d bytes", len(e.Messages[0].Text()))
	}
	// Over 1 MiB: the connection is dropped.
	fc.push(t, pushOf("si_alice_bot", textMsg("alice", "bot", 2, strings.Repeat("z", 1100*1024))))
	r.waitEvent(t, EventDisconnected)
	r.waitEvent(t, EventConnected)
}

func TestReconnectAfterDrop(t *testing.T) {
	gw := newFakeGW(t)
	r := start(t, testConfig(gw))
	fc := gw.accept(t)
	r.waitEvent(t, EventConnected)
	fc.kill()
	e := r.waitEvent(t, EventDisconnected)
	if e.Conn != 1 || e.Err == nil {
		t.Fatalf("Disconnected = %+v", e)
	}
	e = r.waitEvent(t, EventConnected)
	if e.Conn != 2 {
		t.Fatalf("Connected generation %d", e.Conn)
	}
	fc2 := gw.accept(t)
	go func() { fc2.reply(t, fc2.nextReq(t), 0, nil) }()
	if err := r.c.SetBackground(ctxT(t, 5*time.Second), false); err != nil {
		t.Fatalf("request on the new connection: %v", err)
	}
}

func TestRequestTimeout(t *testing.T) {
	gw := newFakeGW(t)
	cfg := testConfig(gw)
	cfg.RequestTimeout = 150 * time.Millisecond
	r := start(t, cfg)
	fc := gw.accept(t)
	r.waitEvent(t, EventConnected)
	// No deadline on ctx: RequestTimeout applies.
	_, err := r.c.GetNewestSeq(context.Background())
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want DeadlineExceeded", err)
	}
	fc.nextReq(t)
	// A ctx deadline replaces RequestTimeout; cancellation ends the wait.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	got := make(chan *wire.Req, 1)
	go func() {
		select {
		case req := <-fc.reqs:
			got <- req
			cancel()
		case <-time.After(10 * time.Second):
			close(got)
		}
	}()
	_, err = r.c.GetNewestSeq(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want Canceled", err)
	}
	req := <-got
	if req == nil {
		t.Fatal("no request")
	}
	// The late reply to a given-up request is ignored; the connection lives.
	fc.reply(t, req, 0, &sdkws.GetMaxSeqResp{})
	go func() { fc.reply(t, fc.nextReq(t), 0, &sdkws.GetMaxSeqResp{MaxSeqs: map[string]int64{"c": 1}}) }()
	m, err := r.c.GetNewestSeq(ctxT(t, 10*time.Second))
	if err != nil || m["c"] != 1 {
		t.Fatalf("after a timeout: %v, %v", m, err)
	}
	if n := gw.dials.Load(); n != 1 {
		t.Fatalf("dials = %d", n)
	}
}

func TestPendingRequestsFailWhenConnectionDies(t *testing.T) {
	gw := newFakeGW(t)
	cfg := testConfig(gw)
	cfg.RequestTimeout = 30 * time.Second
	r := start(t, cfg)
	fc := gw.accept(t)
	r.waitEvent(t, EventConnected)
	const n = 4
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		go func() { _, err := r.c.GetNewestSeq(context.Background()); errs <- err }()
	}
	for i := 0; i < n; i++ {
		fc.nextReq(t)
	}
	fc.kill()
	for i := 0; i < n; i++ {
		select {
		case err := <-errs:
			if !errors.Is(err, ErrConnectionLost) {
				t.Errorf("pending request = %v, want ErrConnectionLost", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("pending request still waiting after the connection died")
		}
	}
}

func TestRequestWaitsForConnection(t *testing.T) {
	gw := newFakeGW(t)
	var mu sync.Mutex
	refuse := true
	gw.rejectWith(func(url.Values) map[string]any {
		mu.Lock()
		defer mu.Unlock()
		if refuse {
			return map[string]any{"errCode": 500, "errMsg": "ServerInternalError"}
		}
		return nil
	})
	r := start(t, testConfig(gw))
	r.waitEvent(t, EventConnectFailed)
	if st := r.c.Status(); st != StatusConnecting {
		t.Errorf("Status while redialing = %d, want StatusConnecting", st)
	}
	errc := make(chan error, 1)
	go func() { errc <- r.c.SetBackground(ctxT(t, 10*time.Second), true) }()
	mu.Lock()
	refuse = false
	mu.Unlock()
	fc := gw.accept(t)
	req := fc.nextReq(t)
	var bg sdkws.SetAppBackgroundStatusReq
	if err := proto.Unmarshal(req.Data, &bg); err != nil || !bg.GetIsBackground() || bg.GetUserID() != "bot" || req.ReqIdentifier != wire.SetBackgroundStatus {
		t.Fatalf("2004 payload %v %v", &bg, err)
	}
	fc.reply(t, req, 0, nil)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	// While disconnected, a request fails when its ctx ends.
	mu.Lock()
	refuse = true
	mu.Unlock()
	fc.kill()
	r.waitEvent(t, EventDisconnected)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := r.c.SetBackground(ctx, false); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("request while disconnected = %v", err)
	}
}

func TestCloseFailsRequests(t *testing.T) {
	gw := newFakeGW(t)
	r := start(t, testConfig(gw))
	fc := gw.accept(t)
	r.waitEvent(t, EventConnected)
	errc := make(chan error, 1)
	go func() { _, err := r.c.GetNewestSeq(context.Background()); errc <- err }()
	fc.nextReq(t)
	if err := r.c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; !errors.Is(err, ErrClosed) {
		t.Errorf("pending at Close = %v", err)
	}
	if err := r.waitDone(t); err != nil {
		t.Errorf("Run after Close = %v", err)
	}
	if _, err := r.c.GetNewestSeq(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close = %v", err)
	}
	if err := r.c.Run(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("second Run = %v", err)
	}
	r.c.Close() // idempotent
	// The event stream ends.
	for range r.events {
	}
}

func TestServerErrorReplyIsAPIError(t *testing.T) {
	gw := newFakeGW(t)
	r := start(t, testConfig(gw))
	fc := gw.accept(t)
	r.waitEvent(t, EventConnected)
	go func() { fc.reply(t, fc.nextReq(t), 1302, nil) }()
	_, err := r.c.SendMsg(ctxT(t, 5*time.Second), &content.Message{RecvID: "alice", Elem: &content.Text{Content: "x"}})
	var ae *APIError
	if !errors.As(err, &ae) || ae.Code != 1302 || ae.Msg != "Error1302" {
		t.Fatalf("err = %v, want *APIError 1302", err)
	}
	if s := r.c.Status(); s != StatusConnected {
		t.Errorf("an error reply dropped the connection")
	}
}

func TestSendMsgSetsFields(t *testing.T) {
	gw := newFakeGW(t)
	r := start(t, testConfig(gw))
	fc := gw.accept(t)
	r.waitEvent(t, EventConnected)
	got := make(chan *sdkws.MsgData, 1)
	go func() {
		req := fc.nextReq(t)
		var md sdkws.MsgData
		if err := proto.Unmarshal(req.Data, &md); err != nil {
			t.Error(err)
		}
		got <- &md
		fc.reply(t, req, 0, &msg.SendMsgResp{ServerMsgID: "srv1", ClientMsgID: md.GetClientMsgID(), SendTime: 1700000000123})
	}()
	m := &content.Message{GroupID: "g1", Elem: &content.Text{Content: "hello"}, AtUserIDList: []string{"a"}, Options: map[string]bool{"history": false}}
	before := time.Now().UnixMilli()
	res, err := r.c.SendMsg(ctxT(t, 5*time.Second), m)
	if err != nil {
		t.Fatal(err)
	}
	md := <-got
	if md.GetSendID() != "bot" || md.GetSenderPlatformID() != 7 || md.GetMsgFrom() != 100 || md.GetStatus() != 1 ||
		md.GetSendTime() != 0 || md.GetSessionType() != 3 || md.GetContentType() != 101 || md.GetGroupID() != "g1" ||
		string(md.GetContent()) != `{"content":"hello"}` || md.GetCreateTime() < before || len(md.GetClientMsgID()) != 32 ||
		md.GetOptions()["history"] != false || len(md.GetOptions()) != 1 || md.GetAtUserIDList()[0] != "a" {
		t.Fatalf("MsgData sent = %v", md)
	}
	if res.ServerMsgID != "srv1" || res.ClientMsgID != md.GetClientMsgID() || res.SendTime != 1700000000123 {
		t.Fatalf("SendResult = %+v", res)
	}
	if m.ServerMsgID != "srv1" || m.SendTime != 1700000000123 || m.Status != content.StatusSent || m.ClientMsgID != res.ClientMsgID {
		t.Fatalf("message after send = %+v", m)
	}
}

func TestNewClientMsgIDUnique(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		id := NewClientMsgID("bot")
		if len(id) != 32 || strings.Trim(id, "0123456789abcdef") != "" || seen[id] {
			t.Fatalf("clientMsgID %q", id)
		}
		seen[id] = true
	}
}

func TestPushDecodedIntoMessages(t *testing.T) {
	gw := newFakeGW(t)
	r := start(t, testConfig(gw))
	fc := gw.accept(t)
	r.waitEvent(t, EventConnected)
	full := fullMsgData()
	bad := textMsg("alice", "bot", 8, "x")
	bad.Content = []byte(`{"content":`) // does not decode: kept as Unknown
	notif := &sdkws.MsgData{SendID: "sys", RecvID: "bot", SessionType: 4, ContentType: 1204, Content: []byte(`{"detail":"{}"}`), Seq: 5}
	fc.push(t, &sdkws.PushMessages{
		Msgs:             map[string]*sdkws.PullMsgs{"sg_g1": {Msgs: []*sdkws.MsgData{full, bad}}},
		NotificationMsgs: map[string]*sdkws.PullMsgs{"n_alice_bot": {Msgs: []*sdkws.MsgData{notif}}},
	})
	e := r.waitEvent(t, EventPush)
	if len(e.Messages) != 3 {
		t.Fatalf("%d messages", len(e.Messages))
	}
	m := e.Messages[0]
	if m.ConversationID != "sg_g1" {
		t.Errorf("ConversationID = %q", m.ConversationID)
	}
	checkMessage(t, &m, full)
	if u, ok := e.Messages[1].Elem.(*content.Unknown); !ok || string(u.Raw) != `{"content":` || e.Messages[1].Seq != 8 {
		t.Errorf("undecodable content: Elem %#v", e.Messages[1].Elem)
	}
	if n := e.Messages[2]; n.ConversationID != "n_alice_bot" || n.Seq != 5 || n.ContentType != 1204 || n.Elem == nil {
		t.Errorf("notification = %+v", n)
	}
}

// The read loop never waits for the consumer: with nobody reading Events,
// pushes beyond EventQueueCap are dropped (the connection stays up), one
// EventPushesDropped in order after the queued pushes reports how many
// messages were dropped, and pushes flow again once the consumer reads.
func TestEventQueueCapDropsPushesNotConnection(t *testing.T) {
	gw := newFakeGW(t)
	cfg := testConfig(gw)
	cfg.EventQueueCap = 50
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	t.Cleanup(func() { cancel(); c.Close() })
	fc := gw.accept(t)
	for i := 1; i <= 200; i++ {
		fc.push(t, pushOf("si_alice_bot", textMsg("alice", "bot", int64(i), "m")))
	}
	// The read loop kept working although nobody reads the events.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		c.queue.mu.Lock()
		lost := c.queue.lost
		c.queue.mu.Unlock()
		if lost == 150 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d messages dropped, want 150", lost)
		}
	}
	var seqs []int64
	dropped := -1
	next := func() Event {
		select {
		case e := <-c.Events():
			return e
		case <-time.After(10 * time.Second):
			t.Fatalf("no event; got %d messages, dropped %d", len(seqs), dropped)
		}
		return Event{}
	}
	for dropped < 0 {
		switch e := next(); e.Kind {
		case EventPush:
			for _, m := range e.Messages {
				seqs = append(seqs, m.Seq)
			}
		case EventPushesDropped:
			if !errors.Is(e.Err, ErrEventQueueFull) {
				t.Errorf("EventPushesDropped.Err = %v", e.Err)
			}
			dropped = e.Dropped
		case EventDisconnected:
			t.Fatalf("disconnected: %v", e.Err)
		}
	}
	if len(seqs) != 50 || dropped != 150 {
		t.Fatalf("%d messages queued and %d dropped, want 50 and 150", len(seqs), dropped)
	}
	for i, s := range seqs {
		if s != int64(i+1) {
			t.Fatalf("message %d has seq %d: queued messages lost or reordered", i, s)
		}
	}
	// The same connection delivers the next push.
	fc.push(t, pushOf("si_alice_bot", textMsg("alice", "bot", 201, "m")))
	for {
		e := next()
		if e.Kind == EventDisconnected {
			t.Fatalf("disconnected: %v", e.Err)
		}
		if e.Kind == EventPush {
			if e.Messages[0].Seq != 201 || e.Conn != 1 {
				t.Fatalf("next push %+v on connection %d", e.Messages[0].Seq, e.Conn)
			}
			break
		}
	}
	select {
	case <-fc.closed:
		t.Fatal("the connection was closed")
	default:
	}
}

func TestEventOrderAndGenerations(t *testing.T) {
	gw := newFakeGW(t)
	r := start(t, testConfig(gw))
	fc := gw.accept(t)
	var kinds []EventKind
	next := func() Event {
		select {
		case e := <-r.events:
			kinds = append(kinds, e.Kind)
			return e
		case <-time.After(10 * time.Second):
			t.Fatalf("events so far %v", kinds)
			return Event{}
		}
	}
	if e := next(); e.Kind != EventConnecting || e.Attempt != 1 {
		t.Fatalf("first event %+v", e)
	}
	if e := next(); e.Kind != EventConnected || e.Conn != 1 {
		t.Fatalf("second event %+v", e)
	}
	fc.push(t, pushOf("si_alice_bot", textMsg("alice", "bot", 1, "a")))
	fc.kill()
	if e := next(); e.Kind != EventPush || e.Conn != 1 {
		t.Fatalf("third event %+v", e)
	}
	if e := next(); e.Kind != EventDisconnected || e.Conn != 1 {
		t.Fatalf("fourth event %+v", e)
	}
	if e := next(); e.Kind != EventConnecting {
		t.Fatalf("fifth event %+v", e)
	}
	if e := next(); e.Kind != EventConnected || e.Conn != 2 {
		t.Fatalf("sixth event %+v", e)
	}
}

func TestNewValidates(t *testing.T) {
	for _, cfg := range []Config{
		{UserID: "u", Token: "t"},
		{WSAddr: "ws://x", Token: "t"},
		{WSAddr: "ws://x", UserID: "u"},
		{WSAddr: "ws://x", UserID: "u", Token: "t", PlatformID: 12},
		{WSAddr: "ws://x", UserID: "u", Token: "t", Compression: 5},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) succeeded", cfg)
		} else if strings.Contains(err.Error(), "t\"") {
			t.Errorf("error shows the token: %v", err)
		}
	}
}

func TestDefaultBackoff(t *testing.T) {
	for n, base := range map[int]time.Duration{1: 1, 2: 2, 3: 4, 4: 8, 5: 16, 6: 1, 10: 16} {
		d := DefaultBackoff(n)
		if d < base*time.Second || d > base*time.Second*6/5 {
			t.Errorf("DefaultBackoff(%d) = %v", n, d)
		}
	}
}

// Tokens never appear in error strings or logs, whatever fails.
func TestSecretsNeverInErrorsOrLogs(t *testing.T) {
	const tok = "TOPSECRET/tok+en="
	var logs bytes.Buffer
	var lmu sync.Mutex
	logger := slog.New(slog.NewTextHandler(lockedWriter{&logs, &lmu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	check := func(what, s string) {
		t.Helper()
		for _, v := range []string{tok, url.QueryEscape(tok), "TOPSECRET"} {
			if strings.Contains(s, v) {
				t.Errorf("%s contains the token: %s", what, s)
			}
		}
	}
	// 1. Nothing listens: the dial error (which net/http builds from the URL).
	gw := newFakeGW(t)
	addr := gw.url()
	gw.srv.Close()
	cfg := Config{WSAddr: addr, UserID: "bot", Token: tok, Logger: logger, MaxReconnects: 2,
		Backoff: func(int) time.Duration { return time.Millisecond }}
	c, _ := New(cfg)
	err := c.Run(context.Background())
	if err == nil {
		t.Fatal("Run succeeded against a closed server")
	}
	check("Run error", err.Error())
	for e := errors.Unwrap(err); e != nil; e = errors.Unwrap(e) {
		check("wrapped error", e.Error())
	}
	// 2. A handshake error whose detail echoes the token.
	gw2 := newFakeGW(t)
	gw2.rejectWith(func(q url.Values) map[string]any {
		return map[string]any{"errCode": 1503, "errMsg": "TokenMalformedError " + q.Get("token"), "errDlt": "bad " + q.Get("token")}
	})
	cfg.WSAddr = gw2.url()
	c2, _ := New(cfg)
	err = c2.Run(context.Background())
	check("handshake error", err.Error())
	// 3. A 404 (not a gateway).
	gw3 := newFakeGW(t)
	gw3.serveWith(httpNotFound())
	cfg.WSAddr = gw3.url()
	c3, _ := New(cfg)
	err = c3.Run(context.Background())
	check("404 error", err.Error())
	// 4. HTTP API errors with token and secret.
	api, _ := NewAPI("http://127.0.0.1:1", WithAPILogger(logger))
	_, err = api.GetAdminToken(context.Background(), tok, "imAdmin")
	check("API error", err.Error())
	_, err = api.GetUsersInfo(context.Background(), tok, "bot")
	check("API error", err.Error())
	lmu.Lock()
	check("logs", logs.String())
	lmu.Unlock()
	if !strings.Contains(logs.String(), "dial failed") {
		t.Errorf("expected dial failures in the log: %s", logs.String())
	}
}

func TestConfigFormattingHidesToken(t *testing.T) {
	cfg := Config{WSAddr: "ws://x", UserID: "bot", Token: "TOPSECRET"}
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("cfg", "cfg", cfg)
	for _, s := range []string{fmt.Sprint(cfg), fmt.Sprintf("%v %+v %s", cfg, cfg, cfg), buf.String()} {
		if strings.Contains(s, "TOPSECRET") || !strings.Contains(s, "bot") {
			t.Errorf("formatted config: %s", s)
		}
	}
}

type lockedWriter struct {
	b  *bytes.Buffer
	mu *sync.Mutex
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// Unknown request identifiers and undecodable frames drop the connection
// (as the reference SDK does); a late reply to a given-up request does not.
func TestProtocolErrorsDropConnection(t *testing.T) {
	gw := newFakeGW(t)
	r := start(t, testConfig(gw))
	fc := gw.accept(t)
	r.waitEvent(t, EventConnected)
	fc.send(t, &wire.Resp{ReqIdentifier: 1002, MsgIncr: "bot_999"}) // no such request: ignored
	fc.send(t, &wire.Resp{ReqIdentifier: 3001})
	e := r.waitEvent(t, EventDisconnected)
	if !errors.Is(e.Err, ErrProtocol) || !strings.Contains(e.Err.Error(), "3001") {
		t.Fatalf("Disconnected.Err = %v", e.Err)
	}
	r.waitEvent(t, EventConnected)
	fc2 := gw.accept(t)
	if err := fc2.ws.Write(context.Background(), websocket.MessageBinary, []byte("not gob")); err != nil {
		t.Fatal(err)
	}
	e = r.waitEvent(t, EventDisconnected)
	if !errors.Is(e.Err, ErrProtocol) || !errors.Is(e.Err, wire.ErrBadFrame) {
		t.Fatalf("Disconnected.Err = %v", e.Err)
	}
}

// A 106 message carries its mentions in MsgData.atUserIDList (the field the
// server uses, docs/protocol.md §7.3), and an Elem without Content is encoded as its
// content JSON (an *Unknown as its raw bytes), whether Elem or raw Content
// holds the mentions.
func TestSendMsgAtTextFillsAtUserIDList(t *testing.T) {
	gw := newFakeGW(t)
	r := start(t, testConfig(gw))
	fc := gw.accept(t)
	r.waitEvent(t, EventConnected)
	got := make(chan *sdkws.MsgData, 3)
	go func() {
		for range 3 {
			req := fc.nextReq(t)
			var md sdkws.MsgData
			if err := proto.Unmarshal(req.Data, &md); err != nil {
				t.Error(err)
			}
			got <- &md
			fc.reply(t, req, 0, &msg.SendMsgResp{ServerMsgID: "s", ClientMsgID: md.GetClientMsgID(), SendTime: 1})
		}
	}()
	// Elem only: content from Elem, mentions from Elem.
	m := &content.Message{GroupID: "g1", Elem: content.NewAtText("@alice @bob hi", "alice", "bob")}
	if _, err := r.c.SendMsg(ctxT(t, 5*time.Second), m); err != nil {
		t.Fatal(err)
	}
	md := <-got
	if md.GetContentType() != 106 || !slices.Equal(md.GetAtUserIDList(), []string{"alice", "bob"}) {
		t.Fatalf("Elem AtText: contentType %d atUserIDList %q", md.GetContentType(), md.GetAtUserIDList())
	}
	var at struct {
		Text       string   `json:"text"`
		AtUserList []string `json:"atUserList"`
	}
	if err := json.Unmarshal(md.GetContent(), &at); err != nil || at.Text != "@alice @bob hi" || len(at.AtUserList) != 2 {
		t.Fatalf("content %s (%v)", md.GetContent(), err)
	}
	// Raw content only: mentions from the content JSON.
	m = &content.Message{GroupID: "g1", ContentType: content.TypeAtText,
		Content: []byte(`{"text":"@carol","atUserList":["carol"],"isAtSelf":false}`)}
	if _, err := r.c.SendMsg(ctxT(t, 5*time.Second), m); err != nil {
		t.Fatal(err)
	}
	if md = <-got; !slices.Equal(md.GetAtUserIDList(), []string{"carol"}) {
		t.Fatalf("raw AtText: atUserIDList %q", md.GetAtUserIDList())
	}
	// An Unknown element is sent as its raw content, not as Go struct JSON.
	m = &content.Message{RecvID: "alice", Elem: &content.Unknown{Type: 110, Raw: []byte(`{"data":"x"}`)}}
	if _, err := r.c.SendMsg(ctxT(t, 5*time.Second), m); err != nil {
		t.Fatal(err)
	}
	if md = <-got; string(md.GetContent()) != `{"data":"x"}` || md.GetContentType() != 110 || len(md.GetAtUserIDList()) != 0 {
		t.Fatalf("Unknown: contentType %d content %s", md.GetContentType(), md.GetContent())
	}
}

// A request made after its connection died, but before the supervisor
// noticed, was never sent: it waits for the next connection like any
// request made while disconnected, instead of failing with
// ErrConnectionLost.
func TestRequestOnDyingConnectionWaitsForNext(t *testing.T) {
	gw := newFakeGW(t)
	r := start(t, testConfig(gw))
	gw.accept(t)
	r.waitEvent(t, EventConnected)
	r.c.mu.Lock()
	cn := r.c.cur
	r.c.mu.Unlock()
	cn.die(errors.New("test: connection dropped"))
	go func() {
		fc := gw.accept(t)
		req := fc.nextReq(t)
		fc.reply(t, req, 0, &sdkws.GetMaxSeqResp{MaxSeqs: map[string]int64{"si_alice_bot": 3}})
	}()
	seqs, err := r.c.GetNewestSeq(ctxT(t, 5*time.Second))
	if err != nil || seqs["si_alice_bot"] != 3 {
		t.Fatalf("GetNewestSeq = %v, %v", seqs, err)
	}
}

// PullRange cuts ranges into SeqRanges with end-begin+1 ≤ num ≤ 100, at
// most 100 messages per 1002 request, order Asc, userID the client's own;
// Begin 0 starts at seq 1 (seq 0 is never stored) and [0, 0] sends nothing.
func TestPullRangeChunking(t *testing.T) {
	gw := newFakeGW(t)
	r := start(t, testConfig(gw))
	fc := gw.accept(t)
	r.waitEvent(t, EventConnected)
	var mu sync.Mutex
	var got []*sdkws.PullMessageBySeqsReq
	gw.handle(func(fc *fakeConn, req *wire.Req) {
		var pr sdkws.PullMessageBySeqsReq
		if req.ReqIdentifier != wire.PullMsgByRange || proto.Unmarshal(req.Data, &pr) != nil {
			t.Errorf("request %d", req.ReqIdentifier)
		}
		mu.Lock()
		got = append(got, &pr)
		mu.Unlock()
		fc.reply(t, req, 0, &sdkws.PullMessageBySeqsResp{})
	})
	_ = fc
	_, err := r.c.PullRange(ctxT(t, 5*time.Second), []SeqRange{
		{ConversationID: "si_a_bot", Begin: 0, End: 150},
		{ConversationID: "n_a_bot", Begin: 0, End: 0},
		{ConversationID: "sg_g1", Begin: 7, End: 56},
	})
	if err != nil {
		t.Fatal(err)
	}
	type rng struct {
		conv            string
		begin, end, num int64
	}
	var ranges []rng
	for _, pr := range got {
		if pr.GetUserID() != "bot" || pr.GetOrder() != sdkws.PullOrder_PullOrderAsc {
			t.Errorf("request userID %q order %v", pr.GetUserID(), pr.GetOrder())
		}
		total := int64(0)
		for _, sr := range pr.GetSeqRanges() {
			if sr.GetEnd()-sr.GetBegin()+1 > sr.GetNum() || sr.GetNum() > 100 {
				t.Errorf("range %v: end-begin+1 > num or num > 100", sr)
			}
			total += sr.GetNum()
			ranges = append(ranges, rng{sr.GetConversationID(), sr.GetBegin(), sr.GetEnd(), sr.GetNum()})
		}
		if total > pullSeqsPerRequest {
			t.Errorf("request asks for %d messages, more than %d", total, pullSeqsPerRequest)
		}
	}
	slices.SortFunc(ranges, func(a, b rng) int {
		return strings.Compare(a.conv+itoa(int(a.begin+1000)), b.conv+itoa(int(b.begin+1000)))
	})
	// Requests of at most 20 seqs (pullSeqsPerRequest), filled across
	// conversations: the last of si_a_bot also takes sg_g1's first ten.
	want := []rng{{"sg_g1", 7, 16, 10}, {"sg_g1", 17, 36, 20}, {"sg_g1", 37, 56, 20},
		{"si_a_bot", 1, 20, 20}, {"si_a_bot", 21, 40, 20}, {"si_a_bot", 41, 60, 20}, {"si_a_bot", 61, 80, 20},
		{"si_a_bot", 81, 100, 20}, {"si_a_bot", 101, 120, 20}, {"si_a_bot", 121, 140, 20}, {"si_a_bot", 141, 150, 10}}
	if !slices.Equal(ranges, want) {
		t.Fatalf("ranges %v, want %v", ranges, want)
	}
}

// The 51200-byte gateway limit applies to the frame as sent: with gzip a
// compressible message larger than 51200 bytes goes out in a frame under
// the limit, and an incompressible one is refused without sending.
func TestConformance37_GzipLimitAfterCompression(t *testing.T) {
	gw := newFakeGW(t)
	cfg := testConfig(gw)
	cfg.Compression = CompressGzip
	r := start(t, cfg)
	fc := gw.accept(t)
	r.waitEvent(t, EventConnected)
	text := strings.Repeat("compressible ", 6000) // 78 kB
	go func() {
		req := fc.nextReq(t)
		var md sdkws.MsgData
		if err := proto.Unmarshal(req.Data, &md); err != nil || len(md.GetContent()) < 78000 {
			t.Errorf("MsgData content %d bytes, %v", len(md.GetContent()), err)
		}
		fc.reply(t, req, 0, &sdkws.UserSendMsgResp{ServerMsgID: "s"})
	}()
	if _, err := r.c.SendMsg(ctxT(t, 5*time.Second), &content.Message{RecvID: "alice", Elem: &content.Text{Content: text}}); err != nil {
		t.Fatalf("SendMsg of 78 kB compressible = %v", err)
	}
	if f := <-fc.frames; len(f.data) > 51200 {
		t.Fatalf("frame of %d bytes", len(f.data))
	}
	rnd := make([]byte, 60000)
	prng := mrand.New(mrand.NewPCG(1, 2))
	for i := range rnd {
		rnd[i] = byte(prng.Uint32())
	}
	noise := base64.StdEncoding.EncodeToString(rnd) // 80 kB; about 60 kB after gzip
	_, err := r.c.SendMsg(ctxT(t, 5*time.Second), &content.Message{RecvID: "alice", Elem: &content.Text{Content: noise}})
	if !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("SendMsg of 80 kB incompressible = %v, want ErrFrameTooLarge", err)
	}
	select {
	case f := <-fc.frames:
		t.Fatalf("a %d-byte frame was sent", len(f.data))
	case <-time.After(50 * time.Millisecond):
	}
}

// Handshake answers that are not the gateway's HTTP 200 JSON: a proxy's
// non-200 page is a retryable ErrHandshake naming the status; an OpenIM
// JSON error body is read whatever the status, and a token code there is
// fatal; a 200 that is neither an upgrade nor an OpenIM body retries.
func TestHandshakeNon200Answers(t *testing.T) {
	gw := newFakeGW(t)
	var step atomic.Int32
	gw.serveWith(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch step.Add(1) {
		case 1:
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			io.WriteString(w, "<html>502 Bad Gateway</html>")
		case 2:
			w.WriteHeader(http.StatusOK)
			io.WriteString(w, "<html>maintenance</html>")
		default:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, `{"errCode":1501,"errMsg":"TokenExpiredError","errDlt":""}`)
		}
	}))
	r := start(t, testConfig(gw))
	e := r.waitEvent(t, EventConnectFailed)
	if !errors.Is(e.Err, ErrHandshake) || !strings.Contains(e.Err.Error(), "502") || IsFatalToken(e.Err) {
		t.Errorf("502: Err = %v", e.Err)
	}
	e = r.waitEvent(t, EventConnectFailed)
	if !errors.Is(e.Err, ErrHandshake) || !strings.Contains(e.Err.Error(), "200") {
		t.Errorf("200 HTML: Err = %v", e.Err)
	}
	err := r.waitDone(t)
	if !errors.Is(err, ErrTokenExpired) {
		t.Fatalf("Run = %v, want ErrTokenExpired", err)
	}
	if n := step.Load(); n != 3 {
		t.Errorf("%d dials, want 3", n)
	}
}

// Unsolicited frames that are not pushes or kicks leave the connection up:
// a 2005 online-status notification (empty MsgIncr), a 2005 reply nobody
// waits for, a 2001 with no payload and a 2001 carrying an error code.
func TestUnsolicitedFramesKeepConnection(t *testing.T) {
	gw := newFakeGW(t)
	r := start(t, testConfig(gw))
	fc := gw.accept(t)
	r.waitEvent(t, EventConnected)
	tips, err := proto.Marshal(&sdkws.SubUserOnlineStatusTips{Subscribers: []*sdkws.SubUserOnlineStatusElem{{UserID: "alice", OnlinePlatformIDs: []int32{1, 7}}}})
	if err != nil {
		t.Fatal(err)
	}
	fc.send(t, &wire.Resp{ReqIdentifier: wire.SubUserOnlineStatus, OperationID: "op", Data: tips})
	fc.send(t, &wire.Resp{ReqIdentifier: wire.SubUserOnlineStatus, MsgIncr: "someone_else_1", Data: tips})
	fc.send(t, &wire.Resp{ReqIdentifier: wire.PushMsg})
	fc.send(t, &wire.Resp{ReqIdentifier: wire.PushMsg, ErrCode: 500, ErrMsg: "ServerInternalError"})
	fc.push(t, pushOf("si_alice_bot", textMsg("alice", "bot", 1, "after")))
	e := r.waitEvent(t, EventPush)
	if len(e.Messages) != 1 || e.Messages[0].Text() != "after" || e.Conn != 1 {
		t.Fatalf("push after unsolicited frames: %+v", e)
	}
	go func() {
		req := fc.nextReq(t)
		fc.reply(t, req, 0, &sdkws.GetMaxSeqResp{MaxSeqs: map[string]int64{"si_alice_bot": 1}})
	}()
	if seqs, err := r.c.GetNewestSeq(ctxT(t, 5*time.Second)); err != nil || seqs["si_alice_bot"] != 1 {
		t.Fatalf("GetNewestSeq = %v, %v", seqs, err)
	}
	if n := gw.dials.Load(); n != 1 {
		t.Fatalf("%d dials: the connection was dropped", n)
	}
}

// Close leaves no goroutine of the client behind, even with requests
// pending, requests waiting for a connection, a pull in flight and a ws
// Ping waiting for its pong.
func TestCloseLeavesNoGoroutines(t *testing.T) {
	// Goroutines of the package other than test code, by goroutine header
	// line; those that existed before this test (other tests' clients
	// still draining) are not counted.
	stacks := func() map[string]string {
		buf := make([]byte, 4<<20)
		buf = buf[:runtime.Stack(buf, true)]
		out := map[string]string{}
		for _, g := range strings.Split(string(buf), "\n\n") {
			if strings.Contains(g, "openimbot/transport.(*") && !strings.Contains(g, "_test.go") {
				id, _, _ := strings.Cut(g, " [")
				out[id] = g
			}
		}
		return out
	}
	before := stacks()
	clientStacks := func() []string {
		var out []string
		for id, g := range stacks() {
			if _, ok := before[id]; !ok {
				out = append(out, g)
			}
		}
		return out
	}
	gw := newFakeGW(t)
	gw.ignorePings.Store(true)
	cfg := testConfig(gw)
	cfg.PingInterval = 20 * time.Millisecond
	cfg.ReadTimeout = time.Minute
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	runErr := make(chan error, 1)
	go func() { runErr <- c.Run(context.Background()) }()
	fc := gw.accept(t)
	for c.Status() != StatusConnected {
		time.Sleep(time.Millisecond)
	}
	errs := make(chan error, 3)
	go func() { _, err := c.GetNewestSeq(context.Background()); errs <- err }()
	go func() {
		_, err := c.PullRange(context.Background(), []SeqRange{{ConversationID: "si_a_bot", Begin: 1, End: 450}})
		errs <- err
	}()
	fc.nextReq(t) // the first request is on the wire
	for deadline := time.Now().Add(5 * time.Second); gw.pings.Load() == 0; {
		if time.Now().After(deadline) {
			t.Fatal("no ws Ping")
		}
		time.Sleep(time.Millisecond)
	}
	if n := len(clientStacks()); n < 4 {
		t.Fatalf("only %d client goroutines seen while running", n)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	go func() { _, err := c.GetNewestSeq(context.Background()); errs <- err }()
	for range 3 {
		select {
		case err := <-errs:
			if !errors.Is(err, ErrClosed) && !errors.Is(err, ErrConnectionLost) {
				t.Errorf("request after Close = %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("a request did not end after Close")
		}
	}
	if err := <-runErr; err != nil {
		t.Errorf("Run = %v", err)
	}
	for range c.Events() {
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		left := clientStacks()
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d client goroutines after Close:\n%s", len(left), strings.Join(left, "\n\n"))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Fields the server assigns (serverMsgID, seq, sendTime, status, isRead)
// are not carried over when a received message is sent again (docs/protocol.md
// §7.7): status goes out as 1, the others empty.
func TestSendMsgClearsServerFields(t *testing.T) {
	gw := newFakeGW(t)
	r := start(t, testConfig(gw))
	fc := gw.accept(t)
	r.waitEvent(t, EventConnected)
	got := make(chan *sdkws.MsgData, 1)
	go func() {
		req := fc.nextReq(t)
		var md sdkws.MsgData
		if err := proto.Unmarshal(req.Data, &md); err != nil {
			t.Error(err)
		}
		got <- &md
		fc.reply(t, req, 0, &sdkws.UserSendMsgResp{ServerMsgID: "new", ClientMsgID: md.GetClientMsgID(), SendTime: 5})
	}()
	m := &content.Message{RecvID: "alice", SessionType: content.SingleChat, Elem: &content.Text{Content: "again"},
		ServerMsgID: "old", Seq: 9, SendTime: 1700000000000, Status: content.StatusSent, IsRead: true, SendID: "alice", MsgFrom: 200}
	if _, err := r.c.SendMsg(ctxT(t, 5*time.Second), m); err != nil {
		t.Fatal(err)
	}
	md := <-got
	if md.GetServerMsgID() != "" || md.GetSeq() != 0 || md.GetSendTime() != 0 || md.GetStatus() != 1 || md.GetIsRead() ||
		md.GetSendID() != "bot" || md.GetMsgFrom() != 100 {
		t.Fatalf("MsgData sent = %v", md)
	}
}

// Logout on a connection that died just before it: the client stops (Run
// returns nil, no redial) and Logout reports success, as when the server
// closes the connection right after its 2003 reply.
func TestLogoutOnDyingConnection(t *testing.T) {
	gw := newFakeGW(t)
	r := start(t, testConfig(gw))
	gw.accept(t)
	r.waitEvent(t, EventConnected)
	r.c.mu.Lock()
	cn := r.c.cur
	r.c.mu.Unlock()
	// If the supervisor redialed before Logout began, the 2003 goes out on
	// the new connection: answer it as the gateway does.
	gw.handle(func(fc *fakeConn, req *wire.Req) {
		if req.ReqIdentifier != wire.LogoutMsg {
			t.Errorf("request %d", req.ReqIdentifier)
		}
		fc.reply(t, req, 0, nil)
		fc.kill()
	})
	cn.die(errors.New("test: connection dropped"))
	if err := r.c.Logout(ctxT(t, 5*time.Second)); err != nil {
		t.Fatalf("Logout = %v", err)
	}
	if err := r.waitDone(t); err != nil {
		t.Fatalf("Run = %v", err)
	}
	if n := gw.dials.Load(); n > 2 {
		t.Errorf("%d dials: the client redialed after the logout", n)
	}
}

// A text pong larger than the websocket library's 4 KiB write buffer,
// while websocket pings go out every millisecond: every pong arrives
// whole (no ping frame lands inside it) and the connection stays up.
func TestTextPongLargeBesidePings(t *testing.T) {
	gw := newFakeGW(t)
	cfg := testConfig(gw)
	cfg.PingInterval = time.Millisecond
	r := start(t, cfg)
	fc := gw.accept(t)
	r.waitEvent(t, EventConnected)
	body := `"` + strings.Repeat("x", 20000) + `"`
	for i := range 30 {
		fc.sendText(`{"type":"ping","body":` + body + `}`)
		select {
		case got := <-fc.texts:
			if string(got) != `{"type":"pong","body":`+body+`}` {
				t.Fatalf("pong %d: %d bytes, not the ping's body", i, len(got))
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no pong %d (dials %d)", i, gw.dials.Load())
		}
	}
	if n := gw.dials.Load(); n != 1 {
		t.Fatalf("dials = %d: the connection was dropped", n)
	}
}

// Over wss:// (the websocket library reads and writes the frames there):
// the certificate is trusted through Config.TLSConfig, requests are
// answered, pushes arrive, large text pongs arrive whole beside heartbeat
// pings, and the gateway sees the pings; without TLSConfig the test
// certificate is refused as a handshake error.
func TestTLSGateway(t *testing.T) {
	gw := newFakeGWTLS(t)
	cfg := testConfig(gw)
	cfg.TLSConfig = gw.tlsConfig()
	cfg.PingInterval = time.Millisecond
	r := start(t, cfg)
	fc := gw.accept(t)
	r.waitEvent(t, EventConnected)
	go func() {
		req := fc.nextReq(t)
		fc.reply(t, req, 0, &sdkws.GetMaxSeqResp{MaxSeqs: map[string]int64{"si_a_bot": 7}})
	}()
	seqs, err := r.c.GetNewestSeq(ctxT(t, 5*time.Second))
	if err != nil || seqs["si_a_bot"] != 7 {
		t.Fatalf("GetNewestSeq = %v, %v", seqs, err)
	}
	fc.push(t, &sdkws.PushMessages{Msgs: map[string]*sdkws.PullMsgs{"si_a_bot": {Msgs: []*sdkws.MsgData{
		{SendID: "a", RecvID: "bot", ClientMsgID: "c1", SessionType: 1, ContentType: 101, Content: []byte(`{"content":"hi"}`), Seq: 8},
	}}}})
	if e := r.waitEvent(t, EventPush); len(e.Messages) != 1 || e.Messages[0].Seq != 8 {
		t.Fatalf("push = %+v", e.Messages)
	}
	body := `"` + strings.Repeat("x", 20000) + `"`
	for i := range 10 {
		fc.sendText(`{"type":"ping","body":` + body + `}`)
		select {
		case got := <-fc.texts:
			if string(got) != `{"type":"pong","body":`+body+`}` {
				t.Fatalf("pong %d: %d bytes, not the ping's body", i, len(got))
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no pong %d", i)
		}
	}
	if gw.pings.Load() == 0 {
		t.Fatal("no websocket ping reached the gateway")
	}
	if n := gw.dials.Load(); n != 1 {
		t.Fatalf("dials = %d", n)
	}

	gw2 := newFakeGWTLS(t)
	cfg2 := testConfig(gw2)
	cfg2.MaxReconnects = 1
	r2 := start(t, cfg2)
	select {
	case err := <-r2.done:
		if err == nil || !strings.Contains(err.Error(), "handshake failed") || !strings.Contains(err.Error(), "certificate") {
			t.Fatalf("without TLSConfig: Run = %v, want a handshake error about the certificate", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("without TLSConfig: Run did not end after its one attempt")
	}
}
