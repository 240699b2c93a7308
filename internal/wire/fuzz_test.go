package wire

import (
	"bytes"
	"compress/gzip"
	"encoding/gob"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// primedDecoder knows the descriptors of our envelopes, of the golden
// frames (docs/protocol.md §2.3) and of the SDK-style declarations, so that fuzzed frames sharing
// one of them reach the hand parser.
func primedDecoder(tb testing.TB) *Decoder {
	d := NewDecoder(Options{})
	enc := NewEncoder(Options{})
	var r Resp
	var q Req
	f, _ := enc.EncodeResp(&Resp{ReqIdentifier: 1})
	respFrames := [][]byte{bytes.Clone(f), mustHex(tb, goldenKickHex), freshGob(tb, &GeneralWsResp{ReqIdentifier: 1})}
	f, _ = enc.EncodeReq(&Req{ReqIdentifier: 1})
	reqFrames := [][]byte{bytes.Clone(f), mustHex(tb, goldenReqHex), freshGob(tb, &GeneralWsReq{ReqIdentifier: 1})}
	for _, f := range respFrames {
		if err := d.DecodeResp(f, &r); err != nil {
			tb.Fatal(err)
		}
	}
	for _, f := range reqFrames {
		if err := d.DecodeReq(f, &q); err != nil {
			tb.Fatal(err)
		}
	}
	// Our own descriptor may equal the golden one (same gob type ids), so
	// there are two or three entries.
	for _, c := range []*descCache{&d.req, &d.resp} {
		n := 0
		for _, e := range c.entries {
			if e == nil {
				continue
			}
			n++
			if e.plan == nil || e.mismatch {
				tb.Fatalf("priming: %+v", e)
			}
		}
		if n < 2 {
			tb.Fatalf("priming: %d descriptors cached", n)
		}
	}
	return d
}

// clonePrimed returns a Decoder sharing primed's cached descriptors (which
// are never modified once cached), so that new ones do not evict them.
func clonePrimed(primed *Decoder) *Decoder {
	d := NewDecoder(Options{})
	d.req, d.resp = primed.req, primed.resp
	return d
}

func gobResp(frame []byte) (Resp, error) {
	var r Resp
	err := gob.NewDecoder(bytes.NewReader(frame)).Decode(&r)
	return r, err
}

func gobReq(frame []byte) (Req, error) {
	var r Req
	err := gob.NewDecoder(bytes.NewReader(frame)).Decode(&r)
	return r, err
}

func FuzzDecode(f *testing.F) {
	f.Add(mustHex(f, goldenReqHex))
	f.Add(mustHex(f, goldenKickHex))
	primed := primedDecoder(f)
	var sb strings.Builder
	f.Fuzz(func(t *testing.T, frame []byte) {
		// Every option combination: no panic, only our errors.
		for _, o := range allOptions() {
			o.MaxFrame, o.MaxInflated = MaxClientInbound, 4<<20
			d := NewDecoder(o)
			var r Resp
			var q Req
			for range 2 {
				if err := d.DecodeResp(frame, &r); err != nil && !errors.Is(err, ErrBadFrame) && !errors.Is(err, ErrFrameTooLarge) {
					t.Fatalf("%s: DecodeResp: unexpected error %v", optName(o), err)
				}
				if err := d.DecodeReq(frame, &q); err != nil && !errors.Is(err, ErrBadFrame) && !errors.Is(err, ErrFrameTooLarge) {
					t.Fatalf("%s: DecodeReq: unexpected error %v", optName(o), err)
				}
			}
			for _, c := range []*descCache{&d.req, &d.resp} {
				for _, e := range c.entries {
					if e != nil && e.mismatch {
						t.Fatalf("%s: the hand parser disagreed with encoding/gob on descriptor %x", optName(o), e.prefix)
					}
				}
			}
		}

		// Gob: the hand parser, whenever it accepts a frame, agrees with
		// encoding/gob.
		if at, ms, me, id, ok := splitGob(frame); ok {
			if e := primed.resp.lookup(frame[:at]); e != nil && e.plan != nil && e.id == id {
				var v vals
				if e.plan.parse(frame[:me], ms, &v) {
					var got Resp
					v.fillResp(frame, &got, &sb)
					want, err := gobResp(frame)
					if err != nil {
						t.Fatalf("fast path accepted a frame encoding/gob rejects (%v): %+v", err, got)
					}
					if !equalResp(&got, &want) {
						t.Fatalf("fast path %+v, encoding/gob %+v", got, want)
					}
				}
			}
			if e := primed.req.lookup(frame[:at]); e != nil && e.plan != nil && e.id == id {
				var v vals
				if e.plan.parse(frame[:me], ms, &v) {
					var got Req
					v.fillReq(frame, &got, &sb)
					want, err := gobReq(frame)
					if err != nil {
						t.Fatalf("fast path accepted a frame encoding/gob rejects (%v): %+v", err, got)
					}
					if !equalReq(&got, &want) {
						t.Fatalf("fast path %+v, encoding/gob %+v", got, want)
					}
				}
			}
		}

		// JSON: the decoder (hand parser or encoding/json) gives exactly
		// what encoding/json gives.
		jd := NewDecoder(Options{Encoding: JSON})
		var jr, wjr Resp
		jerr, wjerr := jd.DecodeResp(frame, &jr), json.Unmarshal(frame, &wjr)
		if (jerr == nil) != (wjerr == nil) || (jerr == nil && !equalResp(&jr, &wjr)) {
			t.Fatalf("json DecodeResp = %+v, %v; encoding/json = %+v, %v", jr, jerr, wjr, wjerr)
		}
		var jq, wjq Req
		jerr, wjerr = jd.DecodeReq(frame, &jq), json.Unmarshal(frame, &wjq)
		if (jerr == nil) != (wjerr == nil) || (jerr == nil && !equalReq(&jq, &wjq)) {
			t.Fatalf("json DecodeReq = %+v, %v; encoding/json = %+v, %v", jq, jerr, wjq, wjerr)
		}

		// The public decoder (primed or fresh, twice) gives exactly what
		// encoding/gob gives, and the same through gzip.
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(frame)
		zw.Close()
		want, wantErr := gobResp(frame)
		wantQ, wantQErr := gobReq(frame)
		for _, tc := range []struct {
			d     *Decoder
			frame []byte
		}{{clonePrimed(primed), frame}, {NewDecoder(Options{}), frame}, {NewDecoder(Options{Gzip: true}), buf.Bytes()}} {
			for range 2 {
				var got Resp
				err := tc.d.DecodeResp(tc.frame, &got)
				if (err == nil) != (wantErr == nil) || (err == nil && !equalResp(&got, &want)) {
					t.Fatalf("DecodeResp = %+v, %v; encoding/gob = %+v, %v", got, err, want, wantErr)
				}
				var q Req
				err = tc.d.DecodeReq(tc.frame, &q)
				if (err == nil) != (wantQErr == nil) || (err == nil && !equalReq(&q, &wantQ)) {
					t.Fatalf("DecodeReq = %+v, %v; encoding/gob = %+v, %v", q, err, wantQ, wantQErr)
				}
			}
		}
	})
}

// The hand-written JSON string escaping equals encoding/json's.
func FuzzJSONString(f *testing.F) {
	for _, s := range []string{"", "a\"b\\c", "<&>", "\x00\x1f\x7f", "\u2028\u2029", "\xff", "ü✓😀"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendJSONString(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("got %s, want %s", got, want)
		}
	})
}
