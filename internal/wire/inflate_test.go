package wire

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"math"
	"math/bits"
	"math/rand/v2"
	"testing"
)

// inflateInputs returns realistic, random, repetitive and mixed inputs.
func inflateInputs(tb testing.TB) [][]byte {
	rng := rand.New(rand.NewPCG(3, 4))
	random := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	var mixed []byte
	for i := 0; len(mixed) < 60_000; i++ {
		switch rng.IntN(4) {
		case 0:
			mixed = append(mixed, random(rng.IntN(50))...)
		case 1:
			if len(mixed) > 0 {
				from := rng.IntN(len(mixed))
				n := min(rng.IntN(300), len(mixed)-from)
				mixed = append(mixed, mixed[from:from+n]...)
			}
		case 2:
			// Text-like: a small alphabet, skewed, so that dynamic codes
			// get long (second-level tables).
			for range rng.IntN(400) {
				c := byte('a' + bits.Len32(rng.Uint32()>>8))
				mixed = append(mixed, c)
			}
		default:
			mixed = append(mixed, bytes.Repeat([]byte{byte(i)}, rng.IntN(600))...)
		}
	}
	enc := NewEncoder(Options{})
	push, err := enc.EncodeResp(pushResp(tb))
	if err != nil {
		tb.Fatal(err)
	}
	jpush, err := NewEncoder(Options{Encoding: JSON}).EncodeResp(pushResp(tb))
	if err != nil {
		tb.Fatal(err)
	}
	req, err := enc.EncodeReq(sendReq(tb))
	if err != nil {
		tb.Fatal(err)
	}
	// Skewed bytes: one very frequent symbol and many rare ones give
	// 15-bit codes.
	skew := make([]byte, 20_000)
	for i := range skew {
		skew[i] = byte(bits.LeadingZeros32(rng.Uint32()|1) * 8)
		if rng.IntN(50) == 0 {
			skew[i] = byte(rng.Uint32())
		}
	}
	inputs := [][]byte{
		nil, {0}, []byte("a"), []byte("abc"), []byte("abcdabcdabcd"),
		bytes.Clone(push), bytes.Clone(jpush), bytes.Clone(req),
		bytes.Repeat([]byte("a"), 70_000), bytes.Repeat([]byte("hello world "), 500),
		random(100), random(40_000), mixed, skew,
	}
	for i := range 50 {
		inputs = append(inputs, mixed[i*293:i*293+rng.IntN(3000)])
	}
	return inputs
}

type gzipper struct {
	name string
	do   func(in []byte) []byte
}

// gzippers compresses with compress/gzip at every level and with the
// package's own fixed-Huffman and stored encoders.
func gzippers(tb testing.TB) []gzipper {
	var out []gzipper
	for level := gzip.HuffmanOnly; level <= gzip.BestCompression; level++ {
		out = append(out, gzipper{name: "level" + string(rune('0'+level+2)), do: func(in []byte) []byte {
			var buf bytes.Buffer
			zw, err := gzip.NewWriterLevel(&buf, level)
			if err != nil {
				tb.Fatal(err)
			}
			zw.Write(in)
			zw.Close()
			return buf.Bytes()
		}})
	}
	var z fastGzip
	out = append(out, gzipper{name: "fixedhuffman", do: func(in []byte) []byte { return z.appendGzip(nil, in) }})
	out = append(out, gzipper{name: "stored", do: func(in []byte) []byte { return appendStoredGzip(nil, in) }})
	return out
}

// refBody is what the Decoder did before the built-in inflater: the
// compress/gzip path alone.
func refBody(frame []byte, limit int) ([]byte, error) {
	d := NewDecoder(Options{Gzip: true, MaxInflated: limit})
	l := limit
	if l == 0 {
		l = DefaultMaxInflated
	}
	return d.gunzipStd(new(inflater), frame, "resp", l)
}

// checkBody asserts that the Decoder's gunzip (built-in inflater with
// fallback) gives exactly what compress/gzip gives, output and error.
func checkBody(t *testing.T, d *Decoder, frame []byte, limit int) {
	t.Helper()
	d.opts.MaxInflated = limit
	got, err := d.body(frame, "resp")
	want, werr := refBody(frame, limit)
	if (err == nil) != (werr == nil) || (err != nil && err.Error() != werr.Error()) || !bytes.Equal(got, want) {
		t.Fatalf("body = %d bytes, %v; compress/gzip = %d bytes, %v", len(got), err, len(want), werr)
	}
}

// The built-in inflater accepts what every encoder writes, with the input
// back, one inflater reused across all of them.
func TestInflateRoundTrip(t *testing.T) {
	var f inflater
	var dst []byte
	for _, z := range gzippers(t) {
		for i, in := range inflateInputs(t) {
			frame := z.do(in)
			var ok bool
			dst, ok = f.gunzip(dst[:0], frame, math.MaxInt)
			if !ok || !bytes.Equal(dst, in) {
				t.Fatalf("%s, input %d (%d bytes): ok %v, round trip equal %v", z.name, i, len(in), ok, bytes.Equal(dst, in))
			}
		}
	}
}

// Raw deflate streams: the inflater stops where compress/flate stops
// (stored blocks and empty sync-flush blocks included) and gives the same
// bytes.
func TestInflateRawMatchesFlate(t *testing.T) {
	var f inflater
	for level := flate.HuffmanOnly; level <= flate.BestCompression; level++ {
		for i, in := range inflateInputs(t)[:40] {
			var buf bytes.Buffer
			zw, _ := flate.NewWriter(&buf, level)
			half := len(in) / 2
			zw.Write(in[:half])
			zw.Flush() // an empty stored block
			zw.Write(in[half:])
			zw.Close()
			buf.WriteString("trailing")
			out, n, ok := inflateRaw(&f, buf.Bytes())
			if !ok || !bytes.Equal(out, in) || n != buf.Len()-len("trailing") {
				t.Fatalf("level %d, input %d: ok %v, equal %v, consumed %d of %d", level, i, ok, bytes.Equal(out, in), n, buf.Len())
			}
		}
	}
}

// inflateRaw inflates one raw deflate stream at the start of src and
// returns the output and the bytes consumed.
func inflateRaw(f *inflater, src []byte) ([]byte, int, bool) {
	r := bitReader{in: src}
	out, ok := f.inflate(&r, nil, math.MaxInt)
	if !ok || r.overrun() {
		return nil, 0, false
	}
	return out, r.alignedPos(), true
}

// Concatenated members and every optional header field, as compress/gzip
// reads them.
func TestInflateMembersAndHeaders(t *testing.T) {
	member := func(in []byte, h gzip.Header) []byte {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Header = h
		zw.Write(in)
		zw.Close()
		return buf.Bytes()
	}
	// withHCRC inserts an FHCRC field into a member without one.
	withHCRC := func(m []byte, good bool) []byte {
		m = bytes.Clone(m)
		m[3] |= 2
		hdrEnd := 10
		if m[3]&4 != 0 {
			hdrEnd += 2 + int(binary.LittleEndian.Uint16(m[10:]))
		}
		for _, fl := range []byte{8, 16} {
			if m[3]&fl != 0 {
				hdrEnd += bytes.IndexByte(m[hdrEnd:], 0) + 1
			}
		}
		crc := uint16(crc32.ChecksumIEEE(m[:hdrEnd]))
		if !good {
			crc++
		}
		return append(m[:hdrEnd:hdrEnd], append(binary.LittleEndian.AppendUint16(nil, crc), m[hdrEnd:]...)...)
	}
	a, b := []byte("first member, first member"), bytes.Repeat([]byte("second "), 30)
	full := gzip.Header{Name: "name.txt", Comment: "a comment", Extra: []byte{1, 2, 3, 4}}
	long := gzip.Header{Name: string(bytes.Repeat([]byte("n"), 511))}
	tooLong := gzip.Header{Name: string(bytes.Repeat([]byte("n"), 512))}
	cases := []struct {
		name  string
		frame []byte
		fast  bool // the built-in inflater accepts it
	}{
		{"plain", member(a, gzip.Header{}), true},
		{"all fields", member(a, full), true},
		{"hcrc", withHCRC(member(a, full), true), true},
		{"hcrc bad", withHCRC(member(a, full), false), false},
		{"name 511", member(a, long), true},
		{"name 512", member(a, tooLong), false},
		{"two members", append(member(a, full), member(b, gzip.Header{})...), true},
		{"empty members", append(member(nil, gzip.Header{}), member(nil, full)...), true},
		{"three members", append(append(member(a, gzip.Header{}), member(nil, gzip.Header{})...), member(b, full)...), true},
		{"trailing zero", append(member(a, gzip.Header{}), 0), false},
		{"trailing 10 zeros", append(member(a, gzip.Header{}), make([]byte, 10)...), false},
		{"trailing garbage", append(member(a, gzip.Header{}), []byte("garbage!garbage!")...), false},
		{"empty", nil, false},
		{"header only", member(a, gzip.Header{})[:10], false},
	}
	var f inflater
	d := NewDecoder(Options{Gzip: true})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, ok := f.gunzip(nil, c.frame, math.MaxInt)
			if ok != c.fast {
				t.Fatalf("inflater accepted: %v, want %v", ok, c.fast)
			}
			checkBody(t, d, c.frame, 0)
		})
	}
}

// Corruption anywhere (truncation, any single bit flipped, wrong CRC or
// size) gives compress/gzip's result exactly.
func TestInflateCorrupt(t *testing.T) {
	d := NewDecoder(Options{Gzip: true})
	var frames [][]byte
	for _, z := range gzippers(t) {
		frames = append(frames, z.do(inflateInputs(t)[5])) // the push frame
	}
	frames = append(frames, testDynamicFrames(t)...)
	for _, frame := range frames {
		for n := 0; n < len(frame); n += 3 {
			checkBody(t, d, frame[:n], 0)
		}
		for i := 0; i < 8*len(frame); i += 11 {
			g := bytes.Clone(frame)
			g[i/8] ^= 1 << (i % 8)
			checkBody(t, d, g, 0)
		}
	}
}

// The inflate limit: a frame inflating to exactly the limit decodes, one
// byte more is a *SizeError, as before; the built-in inflater never
// returns more than the limit.
func TestInflateLimit(t *testing.T) {
	in := bytes.Repeat([]byte("0123456789"), 1000)
	for _, z := range gzippers(t) {
		frame := z.do(in)
		d := NewDecoder(Options{Gzip: true})
		for _, limit := range []int{len(in), len(in) - 1, 1, -1} {
			checkBody(t, d, frame, limit)
		}
		d.opts.MaxInflated = len(in) - 1
		_, err := d.body(frame, "resp")
		var se *SizeError
		if !errors.As(err, &se) || !se.Inflated || !errors.Is(err, ErrFrameTooLarge) {
			t.Fatalf("%s: over the limit: %v", z.name, err)
		}
		var f inflater
		if _, ok := f.gunzip(nil, frame, len(in)-1); ok {
			t.Fatalf("%s: the inflater went over the limit", z.name)
		}
		// A large output buffer from an earlier frame does not lift the
		// limit.
		if _, ok := f.gunzip(make([]byte, 0, 2*len(in)), frame, len(in)-1); ok {
			t.Fatalf("%s: the inflater went over the limit into spare capacity", z.name)
		}
	}
}

// A zip bomb stops at the limit (compress/gzip's error) without inflating
// everything.
func TestInflateBomb(t *testing.T) {
	// A fixed block: one zero byte, then copies of 258 at distance 1, 64
	// MiB in all.
	var w bitWriter
	w.put(1|1<<1, 3)
	w.put(uint64(fixedLit[0].code), uint(fixedLit[0].len))
	for range (64 << 20) / 258 {
		w.match(258, 1)
	}
	w.put(uint64(fixedLit[256].code), uint(fixedLit[256].len))
	frame := gzipOf(w.flush(), nil)
	d := NewDecoder(Options{Gzip: true})
	var r Resp
	err := d.DecodeResp(frame, &r)
	var se *SizeError
	if !errors.As(err, &se) || !se.Inflated || se.Limit != DefaultMaxInflated {
		t.Fatalf("DecodeResp: %v", err)
	}
}

// dynWriter writes deflate blocks with chosen code lengths, for tests of
// codes compress/flate never writes: 15-bit codes, degenerate, empty,
// incomplete and over-subscribed codes.
type dynWriter struct {
	w bitWriter
}

// canonical returns the bit-reversed canonical codes of lens.
func canonical(lens []uint8) []uint16 {
	var count [16]int
	for _, l := range lens {
		count[l]++
	}
	count[0] = 0
	var next [16]int
	code := 0
	for l := 1; l < 16; l++ {
		code = (code + count[l-1]) << 1
		next[l] = code
	}
	codes := make([]uint16, len(lens))
	for s, l := range lens {
		if l > 0 {
			codes[s] = bits.Reverse16(uint16(next[l])) >> (16 - l)
			next[l]++
		}
	}
	return codes
}

// token is a literal (dist 0) or a copy.
type token struct {
	lit    byte
	length int
	dist   int
}

// block writes one dynamic block; symbols without a code are written as
// the single bit 1 (giving a corrupt stream on purpose).
func (dw *dynWriter) block(final bool, lit, dist []uint8, toks []token) {
	w := &dw.w
	w.put(map[bool]uint64{false: 0, true: 1}[final]|2<<1, 3)
	w.put(uint64(len(lit)-257), 5)
	w.put(uint64(len(dist)-1), 5)
	// Code-length code: symbols 0–15 with 4 bits each (complete), 16–18
	// unused; in codeOrder, so 19 lengths.
	w.put(15, 4)
	for _, s := range codeOrder {
		if s < 16 {
			w.put(4, 3)
		} else {
			w.put(0, 3)
		}
	}
	clc := canonical([]uint8{4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4})
	for _, l := range append(append([]uint8(nil), lit...), dist...) {
		w.put(uint64(clc[l]), 4)
	}
	lc, dc := canonical(lit), canonical(dist)
	sym := func(codes []uint16, lens []uint8, s int) {
		if s < len(lens) && lens[s] > 0 {
			w.put(uint64(codes[s]), uint(lens[s]))
		} else {
			w.put(1, 1)
		}
	}
	for _, t := range toks {
		if t.dist == 0 {
			sym(lc, lit, int(t.lit))
			continue
		}
		i := lengthIndex[t.length-3]
		sym(lc, lit, 257+int(i))
		if e := lengthExtra[i]; e > 0 {
			w.put(uint64(t.length-int(lengthBase[i])), uint(e))
		}
		var d uint8
		if t.dist <= 256 {
			d = distIndexLow[t.dist-1]
		} else {
			d = distIndexHigh[(t.dist-1)>>7]
		}
		sym(dc, dist, int(d))
		if e := distExtra[d]; e > 0 {
			w.put(uint64(t.dist-int(distBase[d])), uint(e))
		}
	}
	sym(lc, lit, 256)
}

// gzipOf wraps a deflate stream with a gzip header and a trailer for
// want.
func gzipOf(deflate, want []byte) []byte {
	out := []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255}
	out = append(out, deflate...)
	out = binary.LittleEndian.AppendUint32(out, crc32.ChecksumIEEE(want))
	return binary.LittleEndian.AppendUint32(out, uint32(len(want)))
}

// longCodes returns complete literal/length code lengths up to 15 bits:
// 'a' 1 bit, 'b' 2 bits, … (a chain), the rest filling the last levels.
func longCodes() []uint8 {
	lit := make([]uint8, 286)
	for i := range 14 {
		lit['a'+i] = uint8(i + 1)
	}
	// Left after the chain: 2^15 slots of 15 bits minus used = 2 codes of
	// 15 bits; give them to end of block and the first length code.
	lit[256], lit[257] = 15, 15
	return lit
}

// testDynamicFrames are gzip frames with hand-made dynamic blocks that
// compress/gzip accepts.
func testDynamicFrames(tb testing.TB) [][]byte {
	var frames [][]byte
	add := func(want []byte, blocks func(dw *dynWriter)) {
		var dw dynWriter
		blocks(&dw)
		frames = append(frames, gzipOf(dw.w.flush(), want))
	}
	var toks []token
	var want []byte
	for i := range 300 {
		c := byte('a' + i%14)
		toks = append(toks, token{lit: c})
		want = append(want, c)
	}
	toks = append(toks, token{length: 3, dist: 1})
	want = append(want, want[len(want)-1], want[len(want)-1], want[len(want)-1])
	// 15-bit codes and a one-bit distance code (degenerate).
	dist1 := make([]uint8, 1)
	dist1[0] = 1
	add(want, func(dw *dynWriter) { dw.block(true, longCodes(), dist1, toks) })
	// Literals only, with an empty distance code; two blocks, the second
	// copying from the first.
	lit := make([]uint8, 257)
	for i := range 256 {
		lit[i] = 9
	}
	lit[256] = 1 // 256 codes of 9 bits + one of 1 bit: complete
	var lits []token
	for _, c := range want[:300] {
		lits = append(lits, token{lit: c})
	}
	twice := bytes.Clone(want[:300])
	for _, c := range [][2]int{{258, 300}, {42, 258}} {
		for range c[0] {
			twice = append(twice, twice[len(twice)-c[1]])
		}
	}
	add(twice, func(dw *dynWriter) {
		dw.block(false, lit, make([]uint8, 1), lits)
		dw.block(true, copyCodes(), dist30(), []token{{length: 258, dist: 300}, {length: 42, dist: 258}})
	})
	return frames
}

// copyCodes is a complete literal/length code of four 2-bit codes: 'a',
// end of block, lengths 35–42 and 258.
func copyCodes() []uint8 {
	lit := make([]uint8, 286)
	lit['a'], lit[256], lit[273], lit[285] = 2, 2, 2, 2
	return lit
}

// dist30 is a complete code of the 30 distance symbols: 2 of 4 bits, 28
// of 5 bits.
func dist30() []uint8 {
	d := make([]uint8, 30)
	for i := range d {
		d[i] = 5
	}
	d[0], d[1] = 4, 4
	return d
}

// Hand-made dynamic blocks: long codes, degenerate and empty codes, copies
// across blocks, and codes compress/flate rejects (incomplete,
// over-subscribed) or symbols it rejects.
func TestInflateDynamic(t *testing.T) {
	var f inflater
	d := NewDecoder(Options{Gzip: true})
	for i, frame := range testDynamicFrames(t) {
		want, err := refBody(frame, 0)
		if err != nil {
			t.Fatalf("frame %d: compress/gzip: %v", i, err)
		}
		got, ok := f.gunzip(nil, frame, math.MaxInt)
		if !ok || !bytes.Equal(got, want) {
			t.Fatalf("frame %d: ok %v", i, ok)
		}
		checkBody(t, d, frame, 0)
	}
	toks := []token{{lit: 'a'}, {lit: 'b'}, {length: 3, dist: 2}}
	bad := map[string]func(dw *dynWriter){
		"incomplete literal code": func(dw *dynWriter) {
			l := longCodes()
			l[257] = 0
			dw.block(true, l, dist30(), toks)
		},
		"over-subscribed literal code": func(dw *dynWriter) {
			l := longCodes()
			l[258] = 15
			dw.block(true, l, dist30(), toks)
		},
		"incomplete distance code": func(dw *dynWriter) {
			dd := dist30()
			dd[29] = 0
			dw.block(true, longCodes(), dd, toks)
		},
		"empty distance code used": func(dw *dynWriter) {
			dw.block(true, longCodes(), make([]uint8, 1), toks)
		},
		"degenerate distance code, other half": func(dw *dynWriter) {
			dd := make([]uint8, 2)
			dd[1] = 1 // distance 2 has code 0; distance 1 is written as the missing code
			dw.block(true, longCodes(), dd, []token{{lit: 'a'}, {length: 3, dist: 1}})
		},
		"distance too far": func(dw *dynWriter) {
			dw.block(true, longCodes(), dist30(), []token{{lit: 'a'}, {length: 3, dist: 2}})
		},
		"distance into an earlier member": func(dw *dynWriter) {
			dw.block(true, longCodes(), dist30(), []token{{length: 3, dist: 1}})
		},
	}
	for name, blocks := range bad {
		t.Run(name, func(t *testing.T) {
			var dw dynWriter
			blocks(&dw)
			frame := gzipOf(dw.w.flush(), []byte("ababa"))
			if name == "distance into an earlier member" {
				// A first member of "x": a fixed block, literal 'x', end.
				var w bitWriter
				w.put(1|1<<1, 3)
				w.put(uint64(fixedLit['x'].code), uint(fixedLit['x'].len))
				w.put(uint64(fixedLit[256].code), uint(fixedLit[256].len))
				// The second member's trailer is what copying from the
				// first would give, so that only the distance check
				// rejects it.
				second := gzipOf(dw.w.flush(), []byte("xxx"))
				frame = append(gzipOf(w.flush(), []byte("x")), second...)
			}
			if _, err := refBody(frame, 0); err == nil {
				t.Fatal("compress/gzip accepts it")
			}
			if _, ok := f.gunzip(nil, frame, math.MaxInt); ok {
				t.Fatal("the inflater accepts it")
			}
			checkBody(t, d, frame, 0)
		})
	}
}

// Fixed blocks with the symbols deflate does not allow (literal/length 286
// and 287, distance 30 and 31) and a stored block with a bad length.
func TestInflateBadSymbols(t *testing.T) {
	rev := func(code uint16, n uint) uint64 { return uint64(bits.Reverse16(code) >> (16 - n)) }
	var frames [][]byte
	for _, sym := range []uint16{286, 287} {
		var w bitWriter
		w.put(1|1<<1, 3)
		w.put(uint64(fixedLit['a'].code), uint(fixedLit['a'].len))
		w.put(rev(0xc0+sym-280, 8), 8)
		w.put(0, 5)
		w.put(uint64(fixedLit[256].code), uint(fixedLit[256].len))
		frames = append(frames, gzipOf(w.flush(), []byte("aa")))
	}
	for _, d := range []uint16{30, 31} {
		var w bitWriter
		w.put(1|1<<1, 3)
		w.put(uint64(fixedLit['a'].code), uint(fixedLit['a'].len))
		w.put(uint64(fixedLit[257].code), uint(fixedLit[257].len))
		w.put(rev(d, 5), 5)
		w.put(uint64(fixedLit[256].code), uint(fixedLit[256].len))
		frames = append(frames, gzipOf(w.flush(), []byte("aaaa")))
	}
	frames = append(frames, gzipOf([]byte{1, 3, 0, 0xfd, 0xff, 'a', 'b', 'c'}, []byte("abc"))) // NLEN
	frames = append(frames, gzipOf([]byte{1, 3, 0, 0xfc, 0xff, 'a', 'b'}, []byte("ab")))       // truncated
	frames = append(frames, gzipOf([]byte{7}, nil))                                            // block type 3
	var f inflater
	d := NewDecoder(Options{Gzip: true})
	for i, frame := range frames {
		if _, err := refBody(frame, 0); err == nil {
			t.Fatalf("frame %d: compress/gzip accepts it", i)
		}
		if _, ok := f.gunzip(nil, frame, math.MaxInt); ok {
			t.Fatalf("frame %d: the inflater accepts it", i)
		}
		checkBody(t, d, frame, 0)
	}
	// The good stored block is accepted.
	good := gzipOf([]byte{1, 3, 0, 0xfc, 0xff, 'a', 'b', 'c'}, []byte("abc"))
	if out, ok := f.gunzip(nil, good, math.MaxInt); !ok || string(out) != "abc" {
		t.Fatalf("stored block: %q %v", out, ok)
	}
}

// The fast path allocates nothing in steady state.
func TestInflateAllocs(t *testing.T) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(inflateInputs(t)[5])
	zw.Close()
	d := NewDecoder(Options{Gzip: true})
	frame := buf.Bytes()
	if _, err := d.body(frame, "resp"); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { d.body(frame, "resp") }); n != 0 {
		t.Fatalf("%v allocations per frame", n)
	}
}

func FuzzInflate(f *testing.F) {
	for _, z := range gzippers(f) {
		for _, in := range inflateInputs(f)[:9] {
			f.Add(z.do(in))
		}
	}
	for _, fr := range testDynamicFrames(f) {
		f.Add(fr)
	}
	for level := flate.HuffmanOnly; level <= flate.BestCompression; level += 3 {
		var buf bytes.Buffer
		zw, _ := flate.NewWriter(&buf, level)
		zw.Write(inflateInputs(f)[5])
		zw.Flush()
		zw.Close()
		f.Add(buf.Bytes())
	}
	var inf inflater
	d := NewDecoder(Options{Gzip: true})
	f.Fuzz(func(t *testing.T, data []byte) {
		// As a gzip frame: exactly compress/gzip's output and error.
		checkBody(t, d, data, 1<<20)
		if out, ok := inf.gunzip(nil, data, 1<<20); ok {
			want, err := refBody(data, 1<<20)
			if err != nil || !bytes.Equal(out, want) {
				t.Fatalf("the inflater accepts a frame compress/gzip gives %v for, or differs", err)
			}
		}
		// As a raw deflate stream: whatever the inflater accepts,
		// compress/flate inflates to the same bytes, stopping at the same
		// place.
		out, n, ok := inflateRaw(&inf, data)
		if !ok {
			return
		}
		rd := bytes.NewReader(data)
		want, err := io.ReadAll(flate.NewReader(rd))
		if err != nil || !bytes.Equal(out, want) || n != len(data)-rd.Len() {
			t.Fatalf("inflater: %d bytes, consumed %d; compress/flate: %d bytes, %v, consumed %d",
				len(out), n, len(want), err, len(data)-rd.Len())
		}
	})
}

// BenchmarkInflate is the built-in inflater alone on the ~600-byte push
// frame (gob), compressed by compress/gzip at BestSpeed (the default
// sender) and by the fixed-Huffman encoder.
func BenchmarkInflate(b *testing.B) {
	in := inflateInputs(b)[5]
	for _, z := range gzippers(b) {
		if z.name != "level3" && z.name != "fixedhuffman" {
			continue
		}
		b.Run(map[string]string{"level3": "bestspeed"}[z.name]+map[string]string{"fixedhuffman": "fixedhuffman"}[z.name], func(b *testing.B) {
			frame := z.do(in)
			var f inflater
			out, _ := f.gunzip(nil, frame, math.MaxInt)
			b.SetBytes(int64(len(in)))
			b.ReportAllocs()
			cpu := startCPU()
			for b.Loop() {
				var ok bool
				if out, ok = f.gunzip(out[:0], frame, math.MaxInt); !ok {
					b.Fatal("not accepted")
				}
			}
			cpu.report(b)
		})
	}
}
