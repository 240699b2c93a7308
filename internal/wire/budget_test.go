package wire

import (
	"bytes"
	"errors"
	"runtime"
	"sync"
	"testing"
)

// bomb48 is a ~48 KB gzip frame inflating to 48 MiB of zeros: one dynamic
// block whose 258-byte copy at distance 1 costs two bits, deflate's
// largest ratio (what compress/gzip's BestCompression writes for zeros,
// built here without compressing 48 MiB).
func bomb48(tb testing.TB) []byte {
	const n = 48 << 20
	lit := make([]uint8, 286)
	lit[0], lit[256], lit[285] = 2, 2, 1
	toks := []token{{lit: 0}}
	for range (n - 1) / 258 {
		toks = append(toks, token{length: 258, dist: 1})
	}
	var dw dynWriter
	dw.block(true, lit, []uint8{1}, toks)
	frame := gzipOf(dw.w.flush(), make([]byte, 1+258*((n-1)/258)))
	if len(frame) > MaxServerInbound {
		tb.Fatalf("bomb of %d bytes", len(frame))
	}
	return frame
}

// A gzip bomb costs at most about twice the inflate limit in allocations,
// on either side and on both paths (built-in inflater and compress/gzip).
// Before, a 48 KB frame allocated the 16 MiB limit at once (sized from the
// frame's claimed length), then as much again in the compress/gzip
// fallback, and the Decoder kept both.
func TestInflateBombAllocs(t *testing.T) {
	bomb := bomb48(t)
	for _, o := range []Options{
		{Gzip: true, MaxFrame: MaxClientInbound},
		{Gzip: true, MaxFrame: MaxServerInbound},
	} {
		d := NewDecoder(o)
		var r Resp
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		err := d.DecodeResp(bomb, &r)
		runtime.ReadMemStats(&after)
		var se *SizeError
		if !errors.As(err, &se) || !se.Inflated || se.Limit != DefaultMaxInflated {
			t.Fatalf("DecodeResp(bomb) = %v", err)
		}
		alloc := after.TotalAlloc - before.TotalAlloc
		t.Logf("MaxFrame %d: %d KiB allocated for a 48 MiB bomb", o.MaxFrame, alloc>>10)
		if alloc > 2*DefaultMaxInflated+64<<10 {
			t.Errorf("MaxFrame %d: %d bytes allocated, want <= 2 × %d", o.MaxFrame, alloc, DefaultMaxInflated)
		}
		if cap(d.zout) > keepInflate {
			t.Errorf("the Decoder keeps a %d-byte buffer", cap(d.zout))
		}
		// The compress/gzip path is bounded the same way.
		runtime.ReadMemStats(&before)
		_, err = d.gunzipStd(new(inflater), bomb, "resp", DefaultMaxInflated)
		runtime.ReadMemStats(&after)
		if !errors.As(err, &se) {
			t.Fatalf("gunzipStd(bomb) = %v", err)
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 2*DefaultMaxInflated+128<<10 {
			t.Errorf("compress/gzip path: %d bytes allocated", alloc)
		}
	}
}

// After a large frame the Decoder keeps no large buffer: an idle
// connection holds at most keepInflate bytes of inflate output, whichever
// path inflated the frame; small frames reuse the kept buffer.
func TestDecoderKeepsNoLargeBuffer(t *testing.T) {
	enc := NewEncoder(Options{Gzip: true})
	big, err := enc.EncodeResp(&Resp{ReqIdentifier: PushMsg, Data: bytes.Repeat([]byte("large frame "), 80000)})
	if err != nil {
		t.Fatal(err)
	}
	big = bytes.Clone(big)
	small, err := enc.EncodeResp(pushResp(t))
	if err != nil {
		t.Fatal(err)
	}
	d := NewDecoder(Options{Gzip: true})
	var r Resp
	if err := d.DecodeResp(small, &r); err != nil {
		t.Fatal(err)
	}
	kept := cap(d.zout)
	if kept == 0 || kept > keepInflate {
		t.Fatalf("after a small frame the Decoder keeps %d bytes", kept)
	}
	if err := d.DecodeResp(big, &r); err != nil || len(r.Data) != 960000 {
		t.Fatalf("large frame: %d bytes, %v", len(r.Data), err)
	}
	if cap(d.zout) > keepInflate {
		t.Fatalf("after a large frame the Decoder keeps %d bytes", cap(d.zout))
	}
	out, err := d.gunzipStd(new(inflater), big, "resp", -1)
	if err != nil || len(out) < 960000 {
		t.Fatalf("compress/gzip path: %d bytes, %v", len(out), err)
	}
	if cap(d.zout) > keepInflate {
		t.Fatalf("after compress/gzip the Decoder keeps %d bytes", cap(d.zout))
	}
	if n := testing.AllocsPerRun(20, func() { d.body(small, "resp") }); n != 0 {
		t.Fatalf("inflating small frames after a large one: %v allocations per frame", n)
	}
}

// Decoders sharing a budget never hold more than it at once, however many
// inflate large frames and bombs concurrently, and every valid frame still
// decodes.
func TestInflateBudgetBounds(t *testing.T) {
	const limit = 64 << 10
	budget := NewInflateBudget(2 * limit)
	enc := NewEncoder(Options{Gzip: true})
	want := bytes.Repeat([]byte("0123456789abcdef"), 50<<10/16)
	valid, err := enc.EncodeResp(&Resp{ReqIdentifier: PushMsg, Data: want})
	if err != nil {
		t.Fatal(err)
	}
	valid = bytes.Clone(valid)
	bomb := bomb48(t)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := NewDecoder(Options{Gzip: true, MaxInflated: limit, InflateBudget: budget})
			var r Resp
			for i := range 10 {
				if (g+i)%2 == 0 {
					if err := d.DecodeResp(bomb, &r); !errors.Is(err, ErrFrameTooLarge) {
						t.Errorf("bomb: %v", err)
						return
					}
				} else if err := d.DecodeResp(valid, &r); err != nil || !bytes.Equal(r.Data, want) {
					t.Errorf("valid frame: %d bytes, %v", len(r.Data), err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if p := budget.Peak(); p == 0 || p > budget.Size() {
		t.Fatalf("budget peak %d, size %d", p, budget.Size())
	}
	if budget.used != 0 || len(budget.waiters) != 0 {
		t.Fatalf("budget left with %d bytes used, %d waiters", budget.used, len(budget.waiters))
	}
}

// The budget serves waiters first come, first served, and a request over
// its size takes the whole budget.
func TestInflateBudgetOrder(t *testing.T) {
	b := NewInflateBudget(100)
	if n := b.acquire(60); n != 60 {
		t.Fatalf("acquire(60) = %d", n)
	}
	got := make(chan int, 2)
	go func() { got <- b.acquire(1000) }() // clamped to 100: waits for everything
	for {
		b.mu.Lock()
		n := len(b.waiters)
		b.mu.Unlock()
		if n == 1 {
			break
		}
		runtime.Gosched()
	}
	go func() { got <- b.acquire(10) }() // would fit, but waits its turn
	for {
		b.mu.Lock()
		n := len(b.waiters)
		b.mu.Unlock()
		if n == 2 {
			break
		}
		runtime.Gosched()
	}
	b.release(60)
	if n := <-got; n != 100 {
		t.Fatalf("first waiter got %d, want 100", n)
	}
	b.release(100)
	if n := <-got; n != 10 {
		t.Fatalf("second waiter got %d, want 10", n)
	}
	b.release(10)
	if b.used != 0 || b.Peak() != 100 {
		t.Fatalf("used %d, peak %d", b.used, b.Peak())
	}
}

// After Release an Encoder holds no large buffer and no compressor, and
// encodes the same frames as before; a JSON Decoder keeps no large data
// buffer between frames.
func TestEncoderRelease(t *testing.T) {
	big := &Resp{ReqIdentifier: PullMsgByRange, MsgIncr: "u_1", Data: bytes.Repeat([]byte("pulled message "), 40000)}
	small := pushResp(t)
	for _, o := range []Options{
		{Gzip: true, GzipLevel: GzipFixedHuffman},
		{Gzip: true},
		{Gzip: true, GzipLevel: 9},
		{Encoding: JSON, Gzip: true},
		{},
	} {
		e := NewEncoder(o)
		want := func(r *Resp) []byte {
			b, err := NewEncoder(o).EncodeResp(r)
			if err != nil {
				t.Fatal(err)
			}
			return bytes.Clone(b)
		}
		for range 2 {
			for _, r := range []*Resp{big, small} {
				got, err := e.EncodeResp(r)
				if err != nil || !bytes.Equal(got, want(r)) {
					t.Fatalf("%s: frame after Release differs: %v", optName(o), err)
				}
			}
			e.EncodeResp(big)
			e.Release()
			if cap(e.val) > keepEncode || cap(e.out) > keepEncode || cap(e.zout) > keepEncode || e.zbuf.Cap() > keepEncode || e.fz != nil || e.zw != nil {
				t.Fatalf("%s: after Release: val %d out %d zout %d zbuf %d, compressor kept %v %v",
					optName(o), cap(e.val), cap(e.out), cap(e.zout), e.zbuf.Cap(), e.fz != nil, e.zw != nil)
			}
		}
		if !o.Gzip {
			continue
		}
		// The decoding side of the same frames.
		d := NewDecoder(Options{Encoding: o.Encoding, Gzip: true, MaxFrame: MaxClientInbound})
		frame, _ := NewEncoder(o).EncodeResp(big)
		var r Resp
		if err := d.DecodeResp(frame, &r); err != nil || !bytes.Equal(r.Data, big.Data) {
			t.Fatalf("%s: decode: %v", optName(o), err)
		}
		if cap(d.zout) > keepInflate || cap(d.jbuf) > keepInflate {
			t.Fatalf("%s: the Decoder keeps %d and %d bytes", optName(o), cap(d.zout), cap(d.jbuf))
		}
	}
}
