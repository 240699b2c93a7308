package sandbox_test

// A raw OpenIM client written directly on coder/websocket, encoding/gob,
// encoding/json, compress/gzip and protobuf, independent of internal/wire and
// transport, so the sandbox is checked against docs/protocol.md on its own.

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/gob"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"google.golang.org/protobuf/proto"

	"github.com/openimbot/openimbot/sandbox"
)

// GeneralWsReq mirrors the SDK's request envelope: int code, other field
// order than the server's Req (docs/protocol.md §13 item 11).
type GeneralWsReq struct {
	MsgIncr       string `json:"msgIncr"`
	ReqIdentifier int    `json:"reqIdentifier"`
	SendID        string `json:"sendID"`
	OperationID   string `json:"operationID"`
	Token         string `json:"token"`
	Data          []byte `json:"data"`
}

// GeneralWsResp mirrors the SDK's response envelope, fields reordered.
type GeneralWsResp struct {
	Data          []byte `json:"data"`
	ErrMsg        string `json:"errMsg"`
	ErrCode       int    `json:"errCode"`
	OperationID   string `json:"operationID"`
	MsgIncr       string `json:"msgIncr"`
	ReqIdentifier int    `json:"reqIdentifier"`
}

// rawOpts select the handshake variant.
type rawOpts struct {
	platform int32
	gzip     bool
	js       bool
	msgResp  bool
	path     string
	query    url.Values // overrides
	dialOpts *websocket.DialOptions
}

type rawClient struct {
	t    *testing.T
	ws   *websocket.Conn
	user string
	o    rawOpts
	n    int
}

func ctx5(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func handshakeURL(s *sandbox.Server, user, token string, o rawOpts) string {
	if o.platform == 0 {
		o.platform = 7
	}
	q := url.Values{}
	q.Set("sendID", user)
	q.Set("token", token)
	q.Set("platformID", strconv.Itoa(int(o.platform)))
	q.Set("operationID", "op"+strconv.FormatInt(time.Now().UnixNano(), 10))
	q.Set("isBackground", "false")
	if o.gzip {
		q.Set("compression", "gzip")
	}
	if o.js {
		q.Set("sdkType", "js")
	}
	if o.msgResp {
		q.Set("isMsgResp", "true")
	}
	for k, v := range o.query {
		if len(v) == 0 || (len(v) == 1 && v[0] == "\x00") {
			q.Del(k)
		} else {
			q[k] = v
		}
	}
	return s.WSURL() + o.path + "?" + q.Encode()
}

// dialRaw connects and fails the test on error.
func dialRaw(t *testing.T, s *sandbox.Server, user, token string, o rawOpts) *rawClient {
	t.Helper()
	c, err := tryDial(t, s, user, token, o)
	if err != nil {
		t.Fatalf("dial %s: %v", user, err)
	}
	return c
}

func tryDial(t *testing.T, s *sandbox.Server, user, token string, o rawOpts) (*rawClient, error) {
	t.Helper()
	ws, resp, err := websocket.Dial(ctx5(t), handshakeURL(s, user, token, o), o.dialOpts)
	if err != nil {
		if resp != nil && resp.Body != nil {
			b, _ := io.ReadAll(resp.Body)
			return nil, fmt.Errorf("%w: HTTP %d %s", err, resp.StatusCode, b)
		}
		return nil, err
	}
	ws.SetReadLimit(1 << 20)
	c := &rawClient{t: t, ws: ws, user: user, o: o}
	t.Cleanup(func() { ws.CloseNow() })
	return c, nil
}

// encodeReq builds one frame the way the SDK does: a fresh gob encoder (or
// JSON), then gzip if negotiated.
func encodeReq(r GeneralWsReq, js, gz bool) []byte {
	var buf bytes.Buffer
	if js {
		json.NewEncoder(&buf).Encode(r)
	} else if err := gob.NewEncoder(&buf).Encode(r); err != nil {
		panic(err)
	}
	if !gz {
		return buf.Bytes()
	}
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(buf.Bytes())
	zw.Close()
	return z.Bytes()
}

func decodeResp(frame []byte, js, gz bool) (GeneralWsResp, error) {
	var r GeneralWsResp
	body := frame
	if gz {
		zr, err := gzip.NewReader(bytes.NewReader(frame))
		if err != nil {
			return r, fmt.Errorf("gunzip: %w", err)
		}
		if body, err = io.ReadAll(zr); err != nil {
			return r, fmt.Errorf("gunzip: %w", err)
		}
	}
	if js {
		return r, json.Unmarshal(body, &r)
	}
	return r, gob.NewDecoder(bytes.NewReader(body)).Decode(&r)
}

// send writes a request and returns its MsgIncr.
func (c *rawClient) send(code int, m proto.Message) string {
	c.t.Helper()
	c.n++
	incr := c.user + "_" + strconv.Itoa(c.n)
	var data []byte
	if m != nil {
		var err error
		if data, err = proto.Marshal(m); err != nil {
			c.t.Fatal(err)
		}
	}
	c.sendEnv(GeneralWsReq{ReqIdentifier: code, SendID: c.user, OperationID: "op-" + incr, MsgIncr: incr, Data: data})
	return incr
}

func (c *rawClient) sendEnv(r GeneralWsReq) {
	c.t.Helper()
	if err := c.ws.Write(ctx5(c.t), websocket.MessageBinary, encodeReq(r, c.o.js, c.o.gzip)); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// next reads one binary envelope frame.
func (c *rawClient) next() GeneralWsResp {
	c.t.Helper()
	typ, b, err := c.ws.Read(ctx5(c.t))
	if err != nil {
		c.t.Fatalf("%s: read: %v", c.user, err)
	}
	if typ != websocket.MessageBinary {
		c.t.Fatalf("%s: got a %v frame %q, want binary", c.user, typ, b)
	}
	r, err := decodeResp(b, c.o.js, c.o.gzip)
	if err != nil {
		c.t.Fatalf("%s: decode: %v", c.user, err)
	}
	return r
}

// reply reads frames until the reply to incr, collecting pushes.
func (c *rawClient) reply(incr string) (GeneralWsResp, []GeneralWsResp) {
	c.t.Helper()
	var pushes []GeneralWsResp
	for {
		r := c.next()
		if r.MsgIncr == incr {
			return r, pushes
		}
		pushes = append(pushes, r)
	}
}

// call sends a request, waits for its reply and decodes the payload into out.
func (c *rawClient) call(code int, in, out proto.Message) GeneralWsResp {
	c.t.Helper()
	incr := c.send(code, in)
	r, _ := c.reply(incr)
	if r.ReqIdentifier != code {
		c.t.Fatalf("reply ReqIdentifier %d, want %d", r.ReqIdentifier, code)
	}
	if out != nil && r.ErrCode == 0 {
		if err := proto.Unmarshal(r.Data, out); err != nil {
			c.t.Fatalf("decode %d payload: %v", code, err)
		}
	}
	return r
}

// expectClosed asserts the connection ends without another data frame.
func (c *rawClient) expectClosed() error {
	c.t.Helper()
	typ, b, err := c.ws.Read(ctx5(c.t))
	if err == nil {
		c.t.Fatalf("%s: got a %v frame (%d bytes), want the connection closed", c.user, typ, len(b))
	}
	if errors.Is(err, context.DeadlineExceeded) {
		c.t.Fatalf("%s: connection still open", c.user)
	}
	return err
}

// handshakeError reads an HTTP-200 JSON handshake failure with a plain HTTP
// GET (no upgrade).
func handshakeError(t *testing.T, s *sandbox.Server, rawURL string) (status int, body map[string]any) {
	t.Helper()
	u := "http" + strings.TrimPrefix(rawURL, "ws")
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &body); err != nil {
		t.Fatalf("body %q: %v", b, err)
	}
	return resp.StatusCode, body
}

// signJWT builds an HS256 token as OpenIM does (docs/protocol.md §5.2).
func signJWT(secret, user string, platform int32, exp, iat int64) string {
	enc := base64.RawURLEncoding
	h := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	c, _ := json.Marshal(map[string]any{"UserID": user, "PlatformID": platform, "exp": exp, "iat": iat})
	msg := h + "." + enc.EncodeToString(c)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(msg))
	return msg + "." + enc.EncodeToString(mac.Sum(nil))
}

// apiCall posts to the HTTP API and returns the decoded envelope.
func apiCall(t *testing.T, s *sandbox.Server, path, token string, body any, hdr ...string) map[string]any {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, s.APIURL()+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("operationID", "op1")
	if token != "" {
		req.Header.Set("token", token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			req.Header.Del(hdr[i])
		} else {
			req.Header.Set(hdr[i], hdr[i+1])
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: HTTP %d", path, resp.StatusCode)
	}
	var env map[string]any
	rb, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(rb, &env); err != nil {
		t.Fatalf("%s: body %q: %v", path, rb, err)
	}
	for _, k := range []string{"errCode", "errMsg", "errDlt"} {
		if _, ok := env[k]; !ok {
			t.Fatalf("%s: envelope %s lacks %q", path, rb, k)
		}
	}
	return env
}

func errCode(env map[string]any) int {
	f, _ := env["errCode"].(float64)
	return int(f)
}
