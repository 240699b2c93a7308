package wire

import (
	"encoding/binary"
	"hash/crc32"
	"math/bits"
)

// fastGzip writes gzip members with one deflate block of fixed Huffman
// codes (RFC 1951 section 3.2.6) and greedy LZ77 matching over a hash of 4
// bytes. It builds no Huffman tables, so a ~600-byte frame costs a few
// microseconds instead of the 15–30 of compress/flate, at a ratio close to
// BestSpeed on small frames; every gzip reader accepts the result. It is
// not safe for concurrent use; an Encoder owns one.
type fastGzip struct {
	// table maps a hash of 4 bytes to base+position of its last
	// occurrence; entries below base belong to earlier frames.
	table [1 << fastHashBits]int32
	base  int32
}

const (
	fastHashBits = 13
	fastMinMatch = 4
	fastMaxMatch = 258
	fastMaxDist  = 32768
)

// appendGzip appends src as one gzip member to dst.
func (z *fastGzip) appendGzip(dst, src []byte) []byte {
	// Header: ID1 ID2 CM=8 FLG=0 MTIME=0 XFL=4 (fastest) OS=255.
	dst = append(dst, 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 4, 255)
	dst = z.appendDeflate(dst, src)
	dst = binary.LittleEndian.AppendUint32(dst, crc32.ChecksumIEEE(src))
	return binary.LittleEndian.AppendUint32(dst, uint32(len(src)))
}

// appendStoredGzip appends src as one gzip member of stored deflate blocks
// (RFC 1951 section 3.2.4, BTYPE=00): the bytes as they are, 23 bytes more
// than src for up to 65535 bytes (the header and trailer, and 5 bytes per
// block), at the cost of a crc32 and a copy.
func appendStoredGzip(dst, src []byte) []byte {
	// Header: ID1 ID2 CM=8 FLG=0 MTIME=0 XFL=0 OS=255.
	dst = append(dst, 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255)
	for p := 0; ; {
		n := min(len(src)-p, 0xffff)
		final := byte(0)
		if p+n == len(src) {
			final = 1 // BFINAL=1, BTYPE=00
		}
		dst = append(dst, final, byte(n), byte(n>>8), ^byte(n), ^byte(n>>8))
		dst = append(dst, src[p:p+n]...)
		if p += n; final == 1 {
			break
		}
	}
	dst = binary.LittleEndian.AppendUint32(dst, crc32.ChecksumIEEE(src))
	return binary.LittleEndian.AppendUint32(dst, uint32(len(src)))
}

// appendDeflate appends src as one final fixed-Huffman deflate block.
func (z *fastGzip) appendDeflate(dst, src []byte) []byte {
	if len(src) > 1<<30 || int64(z.base)+int64(len(src)) > 1<<30 {
		z.table = [1 << fastHashBits]int32{}
		z.base = 0
	}
	base := z.base
	w := bitWriter{dst: dst}
	w.put(1|1<<1, 3) // BFINAL=1, BTYPE=01 (fixed Huffman)
	lit := 0         // start of the pending literals
	s := 0
	for s+fastMinMatch <= len(src) {
		v := binary.LittleEndian.Uint32(src[s:])
		h := (v * 0x1e35a7bd) >> (32 - fastHashBits)
		cand := int(z.table[h] - base)
		z.table[h] = base + int32(s)
		if cand < 0 || cand >= s || s-cand > fastMaxDist || binary.LittleEndian.Uint32(src[cand:]) != v {
			s++
			continue
		}
		n := fastMinMatch
		for lim := min(fastMaxMatch, len(src)-s); n < lim && src[cand+n] == src[s+n]; n++ {
		}
		for _, c := range src[lit:s] {
			w.put(uint64(fixedLit[c].code), uint(fixedLit[c].len))
		}
		w.match(n, s-cand)
		s += n
		lit = s
	}
	for _, c := range src[lit:] {
		w.put(uint64(fixedLit[c].code), uint(fixedLit[c].len))
	}
	w.put(uint64(fixedLit[256].code), uint(fixedLit[256].len)) // end of block
	z.base = base + int32(len(src))
	return w.flush()
}

// bitWriter packs deflate bits LSB first.
type bitWriter struct {
	dst  []byte
	bits uint64
	n    uint
}

// put appends the low n (≤ 32) bits of v.
func (w *bitWriter) put(v uint64, n uint) {
	w.bits |= v << w.n
	w.n += n
	if w.n >= 32 {
		w.dst = binary.LittleEndian.AppendUint32(w.dst, uint32(w.bits))
		w.bits >>= 32
		w.n -= 32
	}
}

// match appends a <length, distance> pair.
func (w *bitWriter) match(length, dist int) {
	i := lengthIndex[length-3]
	sym := fixedLit[257+int(i)]
	w.put(uint64(sym.code), uint(sym.len))
	if e := lengthExtra[i]; e > 0 {
		w.put(uint64(length-int(lengthBase[i])), uint(e))
	}
	var d uint8
	if dist <= 256 {
		d = distIndexLow[dist-1]
	} else {
		d = distIndexHigh[(dist-1)>>7]
	}
	w.put(uint64(fixedDist[d]), 5)
	if e := distExtra[d]; e > 0 {
		w.put(uint64(dist-int(distBase[d])), uint(e))
	}
}

// flush appends the remaining bits, padded to a byte, and returns the
// output.
func (w *bitWriter) flush() []byte {
	for w.n > 0 {
		w.dst = append(w.dst, byte(w.bits))
		w.bits >>= 8
		w.n = w.n - min(w.n, 8)
	}
	return w.dst
}

// huffCode is a Huffman code already bit-reversed for LSB-first output.
type huffCode struct {
	code uint16
	len  uint8
}

// Deflate's length and distance tables (RFC 1951 section 3.2.5).
var (
	lengthBase  = [29]uint16{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lengthExtra = [29]uint8{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	distBase    = [30]uint16{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	distExtra   = [30]uint8{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
)

// Lookup tables derived from the above at init; read-only afterwards.
var (
	fixedLit      [288]huffCode // literal/length symbol → fixed code
	fixedDist     [30]uint16    // distance symbol → fixed 5-bit code
	lengthIndex   [256]uint8    // length-3 → index into lengthBase
	distIndexLow  [256]uint8    // dist-1 (< 256) → distance symbol
	distIndexHigh [256]uint8    // (dist-1)>>7 (dist > 256) → distance symbol
)

func init() {
	rev := func(code uint16, n uint8) uint16 { return bits.Reverse16(code) >> (16 - n) }
	for v := range fixedLit {
		var c huffCode
		switch {
		case v < 144:
			c = huffCode{uint16(0x30 + v), 8}
		case v < 256:
			c = huffCode{uint16(0x190 + v - 144), 9}
		case v < 280:
			c = huffCode{uint16(v - 256), 7}
		default:
			c = huffCode{uint16(0xc0 + v - 280), 8}
		}
		fixedLit[v] = huffCode{rev(c.code, c.len), c.len}
	}
	for d := range fixedDist {
		fixedDist[d] = rev(uint16(d), 5)
	}
	for i := range lengthBase {
		end := 259
		if i+1 < len(lengthBase) {
			end = int(lengthBase[i+1])
		}
		for l := int(lengthBase[i]); l < end; l++ {
			lengthIndex[l-3] = uint8(i)
		}
	}
	for d := range distBase {
		end := fastMaxDist + 1
		if d+1 < len(distBase) {
			end = int(distBase[d+1])
		}
		for x := int(distBase[d]); x < end; x++ {
			if x <= 256 {
				distIndexLow[x-1] = uint8(d)
			} else {
				distIndexHigh[(x-1)>>7] = uint8(d)
			}
		}
	}
}
