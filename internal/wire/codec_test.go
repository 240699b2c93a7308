package wire

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	for _, o := range allOptions() {
		t.Run(optName(o), func(t *testing.T) {
			enc, dec := NewEncoder(o), NewDecoder(o)
			for _, want := range reqValues(t) {
				for range 2 { // the second pass uses the cached descriptor
					f, err := enc.EncodeReq(want)
					if err != nil {
						t.Fatal(err)
					}
					var got Req
					if err := dec.DecodeReq(f, &got); err != nil {
						t.Fatalf("%+v: %v", want, err)
					}
					if !equalReq(&got, want) {
						t.Fatalf("got %+v, want %+v", got, want)
					}
				}
			}
			for _, want := range respValues(t) {
				for range 2 {
					f, err := enc.EncodeResp(want)
					if err != nil {
						t.Fatal(err)
					}
					var got Resp
					if err := dec.DecodeResp(f, &got); err != nil {
						t.Fatalf("%+v: %v", want, err)
					}
					if !equalResp(&got, want) {
						t.Fatalf("got %+v, want %+v", got, want)
					}
				}
			}
		})
	}
}

// Gzip frames are complete gzip members that any reader inflates to the
// plain frame.
func TestGzipFrameIsGzipMember(t *testing.T) {
	for _, enc := range []Encoding{Gob, JSON} {
		plain := NewEncoder(Options{Encoding: enc})
		gz := NewEncoder(Options{Encoding: enc, Gzip: true})
		r := sendReq(t)
		p, err := plain.EncodeReq(r)
		if err != nil {
			t.Fatal(err)
		}
		z, err := gz.EncodeReq(r)
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(bytes.NewReader(z))
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, p) {
			t.Fatalf("%v: gunzipped frame differs from the plain frame", enc)
		}
	}
}

// docs/protocol.md section 2.4 examples, exactly.
func TestJSONExactText(t *testing.T) {
	enc := NewEncoder(Options{Encoding: JSON})
	f, err := enc.EncodeReq(&Req{ReqIdentifier: 1001, SendID: "u1", OperationID: "op1", MsgIncr: "u1_1", Data: []byte{0x0a, 0x02, 0x75, 0x31}})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"reqIdentifier":1001,"token":"","sendID":"u1","operationID":"op1","msgIncr":"u1_1","data":"CgJ1MQ=="}`; string(f) != want {
		t.Fatalf("got  %s\nwant %s", f, want)
	}
	for _, data := range [][]byte{nil, {}} {
		f, err = enc.EncodeResp(&Resp{ReqIdentifier: 2002, Data: data})
		if err != nil {
			t.Fatal(err)
		}
		if want := `{"reqIdentifier":2002,"msgIncr":"","operationID":"","errCode":0,"errMsg":"","data":null}`; string(f) != want {
			t.Fatalf("got  %s\nwant %s", f, want)
		}
	}
	f, err = enc.EncodeReq(&Req{ReqIdentifier: 2004, Data: []byte{}})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"reqIdentifier":2004,"token":"","sendID":"","operationID":"","msgIncr":"","data":null}`; string(f) != want {
		t.Fatalf("got  %s\nwant %s", f, want)
	}
	// The examples decode.
	d := NewDecoder(Options{Encoding: JSON})
	var r Resp
	if err := d.DecodeResp([]byte(`{"reqIdentifier":2002,"msgIncr":"","operationID":"","errCode":0,"errMsg":"","data":null}`), &r); err != nil || !equalResp(&r, &Resp{ReqIdentifier: 2002}) {
		t.Fatalf("got %+v, %v", r, err)
	}
	var q Req
	if err := d.DecodeReq([]byte(`{"reqIdentifier":1001,"token":"","sendID":"u1","operationID":"op1","msgIncr":"u1_1","data":"CgJ1MQ=="}`), &q); err != nil ||
		!equalReq(&q, &Req{ReqIdentifier: 1001, SendID: "u1", OperationID: "op1", MsgIncr: "u1_1", Data: []byte{0x0a, 0x02, 0x75, 0x31}}) {
		t.Fatalf("got %+v, %v", q, err)
	}
}

// The hand-written JSON equals encoding/json's output (with data null when
// empty, as the server writes it).
func TestJSONMatchesEncodingJSON(t *testing.T) {
	enc := NewEncoder(Options{Encoding: JSON})
	rng := rand.New(rand.NewPCG(3, 4))
	tricky := []string{"", "a\"b\\c", "<script>&amp;</script>", "\x00\x01\x1f\x7f", "\b\f\n\r\t", "\u2028\u2029", "\xff\xfe", "ü✓😀", "\xe2\x80"}
	for i := range 3000 {
		var s string
		if i < len(tricky) {
			s = tricky[i]
		} else {
			s = randString(rng)
		}
		r := &Resp{ReqIdentifier: int32(randInt(rng)), MsgIncr: s, OperationID: randString(rng), ErrCode: int(randInt(rng)), ErrMsg: s, Data: randBytes(rng)}
		got, err := enc.EncodeResp(r)
		if err != nil {
			t.Fatal(err)
		}
		shadow := *r
		if len(shadow.Data) == 0 {
			shadow.Data = nil
		}
		want, err := json.Marshal(&shadow)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("got  %s\nwant %s", got, want)
		}
		q := &Req{ReqIdentifier: int32(randInt(rng)), Token: s, SendID: randString(rng), OperationID: s, MsgIncr: randString(rng), Data: randBytes(rng)}
		got, err = enc.EncodeReq(q)
		if err != nil {
			t.Fatal(err)
		}
		qs := *q
		if len(qs.Data) == 0 {
			qs.Data = nil
		}
		if want, _ = json.Marshal(&qs); !bytes.Equal(got, want) {
			t.Fatalf("got  %s\nwant %s", got, want)
		}
	}
}

func TestMalformedFrames(t *testing.T) {
	good := map[Encoding][]byte{}
	for _, enc := range []Encoding{Gob, JSON} {
		f, err := NewEncoder(Options{Encoding: enc}).EncodeResp(pushResp(t))
		if err != nil {
			t.Fatal(err)
		}
		good[enc] = bytes.Clone(f)
	}
	gzipOf := func(b []byte) []byte {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(b)
		zw.Close()
		return buf.Bytes()
	}
	for _, o := range allOptions() {
		t.Run(optName(o), func(t *testing.T) {
			d := NewDecoder(o)
			g := good[o.Encoding]
			frame := func(body []byte) []byte {
				if o.Gzip {
					return gzipOf(body)
				}
				return body
			}
			var r Resp
			var q Req
			if err := d.DecodeResp(frame(g), &r); err != nil {
				t.Fatal(err)
			}
			bad := map[string][]byte{
				"empty":      frame(nil),
				"garbage":    frame([]byte("\x12\x34 this is not an envelope \xff\xff\xff")),
				"zeros":      frame(make([]byte, 64)),
				"huge count": frame([]byte{0xf8, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2}),
			}
			for n := 0; n < len(g); n += 1 + n/8 {
				bad["truncated"+string(rune('a'+n%26))+itoa(n)] = frame(g[:n])
			}
			if o.Gzip {
				bad["bad gzip header"] = []byte("\x1f\x8b\x08\x00garbage")
				z := gzipOf(g)
				bad["truncated gzip"] = z[:len(z)/2]
				zc := bytes.Clone(z)
				zc[len(zc)-5] ^= 0xff // CRC/size trailer
				bad["bad gzip crc"] = zc
				bad["plain frame"] = g
				bad["gzip trailing garbage"] = append(bytes.Clone(z), "junk"...)
			}
			for name, f := range bad {
				if err := d.DecodeResp(f, &r); !errors.Is(err, ErrBadFrame) {
					t.Errorf("%s: DecodeResp err = %v, want ErrBadFrame", name, err)
				} else if !equalResp(&r, &Resp{}) {
					t.Errorf("%s: r not zeroed after error: %+v", name, r)
				}
				if err := d.DecodeReq(f, &q); !errors.Is(err, ErrBadFrame) {
					t.Errorf("%s: DecodeReq err = %v, want ErrBadFrame", name, err)
				}
			}
			// Still works after all that.
			if err := d.DecodeResp(frame(g), &r); err != nil || !equalResp(&r, pushResp(t)) {
				t.Fatalf("after bad frames: %+v, %v", r, err)
			}
		})
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func TestFrameLimits(t *testing.T) {
	send, recv := ClientOptions(Gob, false)
	if send.MaxFrame != 51200 || recv.MaxFrame != 1<<20 {
		t.Fatalf("client limits %d/%d", send.MaxFrame, recv.MaxFrame)
	}
	ss, sr := ServerOptions(JSON, true)
	if ss.MaxFrame != MaxClientInbound || sr.MaxFrame != MaxServerInbound || !ss.Gzip || ss.Encoding != JSON {
		t.Fatalf("server options %+v %+v", ss, sr)
	}
	enc := NewEncoder(send)
	// Exactly at the limit passes, one more byte fails.
	base, err := enc.EncodeReq(&Req{ReqIdentifier: SendMsg, Data: []byte{1}})
	if err != nil {
		t.Fatal(err)
	}
	overhead := len(base) - 1
	var fit []byte
	for n := MaxServerInbound - overhead - 8; ; n++ {
		f, err := enc.EncodeReq(&Req{ReqIdentifier: SendMsg, Data: make([]byte, n)})
		if err != nil {
			var se *SizeError
			if !errors.Is(err, ErrFrameTooLarge) || !errors.As(err, &se) || se.Size != MaxServerInbound+1 || se.Limit != MaxServerInbound {
				t.Fatalf("err = %v (%+v)", err, se)
			}
			if !strings.Contains(err.Error(), "51201 bytes, limit 51200") {
				t.Fatalf("error text %q", err)
			}
			break
		}
		fit = f
	}
	if len(fit) != MaxServerInbound {
		t.Fatalf("largest accepted frame %d bytes", len(fit))
	}
	// Inbound: the decoder's limit.
	big, err := NewEncoder(Options{}).EncodeResp(&Resp{ReqIdentifier: PushMsg, Data: make([]byte, MaxClientInbound)})
	if err != nil {
		t.Fatal(err)
	}
	var r Resp
	if err := NewDecoder(recv).DecodeResp(big, &r); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("oversize inbound: %v", err)
	}
	// A gzip bomb: small frame, large inflated size.
	gzEnc := NewEncoder(Options{Gzip: true})
	bomb, err := gzEnc.EncodeResp(&Resp{ReqIdentifier: PushMsg, Data: make([]byte, 4<<20)})
	if err != nil {
		t.Fatal(err)
	}
	bomb = bytes.Clone(bomb) // the encoder's buffer is reused below
	if len(bomb) > MaxClientInbound {
		t.Fatalf("bomb is %d bytes", len(bomb))
	}
	d := NewDecoder(Options{Gzip: true, MaxFrame: MaxClientInbound, MaxInflated: 1 << 20})
	var se *SizeError
	if err := d.DecodeResp(bomb, &r); !errors.Is(err, ErrFrameTooLarge) || !errors.As(err, &se) || !se.Inflated {
		t.Fatalf("bomb: %v", err)
	}
	// The default bound is the largest frame a peer accepts, 1 MiB.
	if err := NewDecoder(Options{Gzip: true, MaxFrame: MaxClientInbound}).DecodeResp(bomb, &r); !errors.As(err, &se) || !se.Inflated || se.Limit != MaxClientInbound {
		t.Fatalf("default bound: %v", err)
	}
	fits, err := gzEnc.EncodeResp(&Resp{ReqIdentifier: PushMsg, Data: make([]byte, MaxClientInbound-1000)})
	if err != nil {
		t.Fatal(err)
	}
	if err := NewDecoder(Options{Gzip: true, MaxFrame: MaxClientInbound}).DecodeResp(fits, &r); err != nil || len(r.Data) != MaxClientInbound-1000 {
		t.Fatalf("within the default bound: %v", err)
	}
	// Within a larger bound the bomb decodes.
	if err := NewDecoder(Options{Gzip: true, MaxFrame: MaxClientInbound, MaxInflated: 8 << 20}).DecodeResp(bomb, &r); err != nil || len(r.Data) != 4<<20 {
		t.Fatalf("larger bound: %v", err)
	}
}

// JSON envelopes in other forms than the server's (whitespace, escapes,
// other key case, extra keys) decode as encoding/json decodes them.
func TestJSONDecodeVariants(t *testing.T) {
	d := NewDecoder(Options{Encoding: JSON})
	cases := []string{
		`{"reqIdentifier":2001,"msgIncr":"m","operationID":"op","errCode":0,"errMsg":"","data":"CgJ1MQ=="}`,
		`{ "reqIdentifier" : 2001 , "data" : "CgJ1MQ==" }`,
		`{"ReqIdentifier":2001,"OPERATIONID":"op","data":null}`,
		`{"reqIdentifier":2001,"operationID":"o\"p\u00fc","token":"ignored","extra":[1,2,{}]}`,
		`{"errCode":-7,"errMsg":"ü✓","reqIdentifier":-2147483648,"data":""}`,
		`{"reqIdentifier":1,"reqIdentifier":2}`,
		`{}`,
		"{\"errMsg\":\"\xff\"}",
	}
	bad := []string{
		`{"reqIdentifier":2147483648}`,
		`{"reqIdentifier":1.5}`,
		`{"reqIdentifier":01}`,
		`{"data":"not base64!"}`,
		`{"errMsg":"a`,
		`{"errMsg":"a"}x`,
		`[]`,
		`{"errMsg":"tab	inside"}`,
	}
	for _, c := range cases {
		var want, got Resp
		if err := json.Unmarshal([]byte(c), &want); err != nil {
			t.Fatalf("%s: %v", c, err)
		}
		if err := d.DecodeResp([]byte(c), &got); err != nil || !equalResp(&got, &want) {
			t.Fatalf("%s: got %+v, %v; want %+v", c, got, err, want)
		}
	}
	for _, c := range bad {
		var r Resp
		if err := d.DecodeResp([]byte(c), &r); !errors.Is(err, ErrBadFrame) {
			t.Fatalf("%s: err = %v", c, err)
		}
	}
}
