package wire

import (
	"bytes"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

func reqValues(tb testing.TB) []*Req {
	return []*Req{
		{},
		{ReqIdentifier: GetNewestSeq},
		{ReqIdentifier: 1001, SendID: "u1", OperationID: "op1", MsgIncr: "u1_1", Data: []byte{0x0a, 0x02, 0x75, 0x31}},
		{ReqIdentifier: -1, Token: "tok", Data: []byte{}},
		{ReqIdentifier: math.MaxInt32, Token: strings.Repeat("t", 200), SendID: "ü✓\x00", Data: make([]byte, 70000)},
		{ReqIdentifier: math.MinInt32, MsgIncr: "x"},
		sendReq(tb),
	}
}

func respValues(tb testing.TB) []*Resp {
	return []*Resp{
		{},
		{ReqIdentifier: KickOnlineMsg},
		{ReqIdentifier: 1003, MsgIncr: "u1_1", OperationID: "op", ErrCode: 1001, ErrMsg: "ArgsError"},
		{ErrCode: math.MinInt64, ErrMsg: "min"},
		{ErrCode: math.MaxInt64, Data: []byte{0}},
		{ReqIdentifier: math.MinInt32, Data: make([]byte, 300)},
		pushResp(tb),
	}
}

func randString(r *rand.Rand) string {
	n := r.IntN(300)
	if r.IntN(3) == 0 {
		n = 0
	}
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.UintN(256))
	}
	return string(b)
}

func randBytes(r *rand.Rand) []byte {
	if r.IntN(3) == 0 {
		return nil
	}
	return []byte(randString(r))
}

func randInt(r *rand.Rand) int64 {
	switch r.IntN(4) {
	case 0:
		return 0
	case 1:
		return int64(r.IntN(300)) - 150
	}
	return int64(r.Uint64())
}

// The spliced gob encoder writes exactly what a fresh gob.Encoder writes.
func TestGobEncodeMatchesFreshEncoder(t *testing.T) {
	enc := NewEncoder(Options{})
	check := func(gotFrame []byte, err error, v any) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		if want := freshGob(t, v); !bytes.Equal(gotFrame, want) {
			t.Fatalf("%+v:\n got %x\nwant %x", v, gotFrame, want)
		}
	}
	for _, r := range reqValues(t) {
		f, err := enc.EncodeReq(r)
		check(f, err, r)
	}
	for _, r := range respValues(t) {
		f, err := enc.EncodeResp(r)
		check(f, err, r)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		rq := &Req{ReqIdentifier: int32(randInt(rng)), Token: randString(rng), SendID: randString(rng),
			OperationID: randString(rng), MsgIncr: randString(rng), Data: randBytes(rng)}
		f, err := enc.EncodeReq(rq)
		check(f, err, rq)
		rs := &Resp{ReqIdentifier: int32(randInt(rng)), MsgIncr: randString(rng), OperationID: randString(rng),
			ErrCode: int(randInt(rng)), ErrMsg: randString(rng), Data: randBytes(rng)}
		f, err = enc.EncodeResp(rs)
		check(f, err, rs)
	}
	if !enc.req.ok || !enc.resp.ok {
		t.Fatal("the encoder fell back to a fresh gob.Encoder")
	}
}

// docs/protocol.md section 2.3: the golden frames decode, the second time through the
// hand parser.
func TestDecodeGoldenWIRE(t *testing.T) {
	d := NewDecoder(Options{MaxFrame: MaxClientInbound})
	wantReq := Req{ReqIdentifier: 1001, SendID: "u1", OperationID: "op1", MsgIncr: "u1_1", Data: []byte{0x0a, 0x02, 0x75, 0x31}}
	for i := range 2 {
		var r Req
		if err := d.DecodeReq(mustHex(t, goldenReqHex), &r); err != nil {
			t.Fatalf("pass %d: %v", i, err)
		}
		if !equalReq(&r, &wantReq) {
			t.Fatalf("pass %d: got %+v, want %+v", i, r, wantReq)
		}
	}
	for i := range 2 {
		var r Resp
		r.ErrMsg = "stale"
		if err := d.DecodeResp(mustHex(t, goldenKickHex), &r); err != nil {
			t.Fatalf("pass %d: %v", i, err)
		}
		if !equalResp(&r, &Resp{ReqIdentifier: KickOnlineMsg}) || r.Data != nil {
			t.Fatalf("pass %d: got %+v", i, r)
		}
	}
	for name, c := range map[string]*descCache{"req": &d.req, "resp": &d.resp} {
		e := c.entries[c.hit]
		if e == nil || e.plan == nil || e.mismatch {
			t.Fatalf("%s: golden descriptor not on the fast path: %+v", name, e)
		}
	}
}

// The SDK's and the server's declarations (docs/protocol.md section 13 item 11):
// other type names, other field order, int instead of int32.
type GeneralWsReq struct {
	Data          []byte
	MsgIncr       string
	ReqIdentifier int
	OperationID   string
	Token         string
	SendID        string
}

type GeneralWsResp struct {
	ErrMsg        string
	Data          []byte
	ErrCode       int32
	OperationID   string
	MsgIncr       string
	ReqIdentifier int
	Extra         string // unknown to us: ignored
	Flag          bool   // unknown to us: ignored
}

func TestGobCrossStructCompat(t *testing.T) {
	enc := NewEncoder(Options{})
	d := NewDecoder(Options{})
	for _, r := range reqValues(t) {
		// ours -> theirs
		f, err := enc.EncodeReq(r)
		if err != nil {
			t.Fatal(err)
		}
		var g GeneralWsReq
		if err := gob.NewDecoder(bytes.NewReader(f)).Decode(&g); err != nil {
			t.Fatal(err)
		}
		back := Req{ReqIdentifier: int32(g.ReqIdentifier), Token: g.Token, SendID: g.SendID,
			OperationID: g.OperationID, MsgIncr: g.MsgIncr, Data: g.Data}
		if !equalReq(&back, r) {
			t.Fatalf("ours->theirs: got %+v want %+v", back, r)
		}
		// theirs -> ours, twice (verification, then the fast path)
		g = GeneralWsReq{ReqIdentifier: int(r.ReqIdentifier), Token: r.Token, SendID: r.SendID,
			OperationID: r.OperationID, MsgIncr: r.MsgIncr, Data: r.Data}
		f = freshGob(t, &g)
		for range 2 {
			var got Req
			if err := d.DecodeReq(f, &got); err != nil {
				t.Fatal(err)
			}
			if !equalReq(&got, r) {
				t.Fatalf("theirs->ours: got %+v want %+v", got, r)
			}
		}
	}
	for _, r := range respValues(t) {
		if r.ErrCode > math.MaxInt32 || r.ErrCode < math.MinInt32 {
			continue // does not fit their int32
		}
		f, err := enc.EncodeResp(r)
		if err != nil {
			t.Fatal(err)
		}
		var g GeneralWsResp
		if err := gob.NewDecoder(bytes.NewReader(f)).Decode(&g); err != nil {
			t.Fatal(err)
		}
		back := Resp{ReqIdentifier: int32(g.ReqIdentifier), MsgIncr: g.MsgIncr, OperationID: g.OperationID,
			ErrCode: int(g.ErrCode), ErrMsg: g.ErrMsg, Data: g.Data}
		if !equalResp(&back, r) {
			t.Fatalf("ours->theirs: got %+v want %+v", back, r)
		}
		g = GeneralWsResp{ReqIdentifier: int(r.ReqIdentifier), MsgIncr: r.MsgIncr, OperationID: r.OperationID,
			ErrCode: int32(r.ErrCode), ErrMsg: r.ErrMsg, Data: r.Data, Extra: "x", Flag: true}
		f = freshGob(t, &g)
		for range 2 {
			var got Resp
			if err := d.DecodeResp(f, &got); err != nil {
				t.Fatal(err)
			}
			if !equalResp(&got, r) {
				t.Fatalf("theirs->ours: got %+v want %+v", got, r)
			}
		}
	}
	for name, c := range map[string]*descCache{"req": &d.req, "resp": &d.resp} {
		e := c.entries[c.hit]
		if e == nil || e.plan == nil || e.mismatch {
			t.Fatalf("%s: foreign descriptor not on the fast path: %+v", name, e)
		}
	}
}

// A peer whose ReqIdentifier does not fit our int32 gets gob's error, from
// the fast path as from encoding/gob.
func TestGobInt32Overflow(t *testing.T) {
	d := NewDecoder(Options{})
	ok := freshGob(t, &GeneralWsResp{ReqIdentifier: 2001})
	bad := freshGob(t, &GeneralWsResp{ReqIdentifier: math.MaxInt32 + 1})
	var r Resp
	if err := d.DecodeResp(ok, &r); err != nil || r.ReqIdentifier != 2001 {
		t.Fatalf("got %+v, %v", r, err)
	}
	if err := d.DecodeResp(bad, &r); !errors.Is(err, ErrBadFrame) {
		t.Fatalf("got %v, want ErrBadFrame", err)
	}
	if err := gob.NewDecoder(bytes.NewReader(bad)).Decode(&Resp{}); err == nil {
		t.Fatal("encoding/gob accepted an int32 overflow")
	}
}

// A descriptor the hand parser does not handle (a nested struct) still
// decodes, through encoding/gob.
type nestedResp struct {
	ReqIdentifier int32
	Inner         struct{ A, B int }
	ErrMsg        string
}

func TestGobUnhandledDescriptorFallsBack(t *testing.T) {
	d := NewDecoder(Options{})
	v := nestedResp{ReqIdentifier: 2001, ErrMsg: "e"}
	v.Inner.A = 5
	f := freshGob(t, &v)
	for range 2 {
		var r Resp
		if err := d.DecodeResp(f, &r); err != nil {
			t.Fatal(err)
		}
		if !equalResp(&r, &Resp{ReqIdentifier: 2001, ErrMsg: "e"}) {
			t.Fatalf("got %+v", r)
		}
	}
	if e := d.resp.entries[d.resp.hit]; e == nil || e.plan != nil || e.mismatch {
		t.Fatalf("entry %+v, want a cached slow-path entry", e)
	}
}

// The fast path makes no gob.Decoder per frame: a fresh decoder costs more
// than 100 allocations, the fast path at most one (the strings).
func TestGobDecodeFastPathAllocs(t *testing.T) {
	enc := NewEncoder(Options{})
	f, err := enc.EncodeResp(pushResp(t))
	if err != nil {
		t.Fatal(err)
	}
	f = bytes.Clone(f)
	d := NewDecoder(Options{})
	var r Resp
	if err := d.DecodeResp(f, &r); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(200, func() {
		if err := d.DecodeResp(f, &r); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 1 {
		t.Fatalf("%v allocs per decode, want <= 1", allocs)
	}
	encAllocs := testing.AllocsPerRun(200, func() {
		if _, err := enc.EncodeResp(&r); err != nil {
			t.Fatal(err)
		}
	})
	if encAllocs > 0 {
		t.Fatalf("%v allocs per encode, want 0", encAllocs)
	}
}

// Inflater and compressor are reused (kept by the Encoder, or from a shared
// pool): a new gzip.Reader costs about 40 KB and a new writer about 800 KB
// per frame, reuse well under 2 KB.
func TestGzipObjectsReused(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops objects at random under the race detector")
	}
	o := Options{Gzip: true}
	enc, dec := NewEncoder(o), NewDecoder(o)
	r := pushResp(t)
	f, err := enc.EncodeResp(r)
	if err != nil {
		t.Fatal(err)
	}
	f = bytes.Clone(f)
	var got Resp
	perOp := func(fn func()) uint64 {
		fn()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		const n = 50
		for range n {
			fn()
		}
		runtime.ReadMemStats(&after)
		return (after.TotalAlloc - before.TotalAlloc) / n
	}
	if b := perOp(func() {
		if err := dec.DecodeResp(f, &got); err != nil {
			t.Fatal(err)
		}
	}); b > 2048 {
		t.Fatalf("gzip decode allocates %d bytes per frame", b)
	}
	if b := perOp(func() {
		if _, err := enc.EncodeResp(r); err != nil {
			t.Fatal(err)
		}
	}); b > 2048 {
		t.Fatalf("gzip encode allocates %d bytes per frame", b)
	}
}

// A peer process that registered many gob types before its envelope type
// has large type ids (multi-byte on the wire); its frames decode the same,
// on the verification frame and on the fast path after it.
func TestGobLargeTypeIDs(t *testing.T) {
	for i := range 300 {
		typ := reflect.StructOf([]reflect.StructField{{Name: fmt.Sprintf("LargeIDField%d", i), Type: reflect.TypeFor[int]()}})
		if err := gob.NewEncoder(io.Discard).EncodeValue(reflect.New(typ).Elem()); err != nil {
			t.Fatal(err)
		}
	}
	type GatewayResp struct { // first encoded after the 300 types above
		ReqIdentifier int32
		MsgIncr       string
		OperationID   string
		ErrCode       int
		ErrMsg        string
		Data          []byte
	}
	d := NewDecoder(Options{})
	for i, want := range respValues(t) {
		if i == 20 {
			break
		}
		f := freshGob(t, &GatewayResp{ReqIdentifier: want.ReqIdentifier, MsgIncr: want.MsgIncr, OperationID: want.OperationID,
			ErrCode: want.ErrCode, ErrMsg: want.ErrMsg, Data: want.Data})
		_, _, _, id, ok := splitGob(f)
		if !ok || id < 300 {
			t.Fatalf("value type id %d (ok %v), want ≥ 300", id, ok)
		}
		var got Resp
		if err := d.DecodeResp(f, &got); err != nil {
			t.Fatal(err)
		}
		if !equalResp(&got, want) {
			t.Fatalf("frame %d: got %+v want %+v", i, got, want)
		}
	}
	if e := d.resp.entries[d.resp.hit]; e == nil || e.plan == nil || e.mismatch {
		t.Fatalf("large-id descriptor not on the fast path: %+v", e)
	}
}
