package wire

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"math/bits"
)

// inflater gunzips whole frames held in memory (RFC 1951 and RFC 1952):
// input and output are complete byte slices, so back-references copy within
// the output itself and no window, bufio or io.Reader is involved; the
// Huffman tables live in the inflater and are rebuilt in place for every
// dynamic block, so it allocates nothing once the output buffer is large
// enough. compress/gzip spends most of a small frame reading one byte at a
// time through io.ByteReader and building tables; this does neither.
//
// It accepts a strict subset of what compress/gzip accepts, with the same
// result: whenever gunzip reports true, compress/gzip (multistream, as the
// Decoder uses it) would return the same bytes without error. Anything
// else (corrupt or truncated input, a Huffman table larger than expected)
// reports false, and the Decoder runs compress/gzip on the frame for the
// exact result and error. Output over the limit also reports false and
// sets over: compress/gzip would have produced the same bytes up to the
// limit and then one more, so the Decoder reports the size error itself.
//
// Output grows as it is produced (doubling, never beyond the limit); an
// output buffer larger than keepInflate takes a share of budget first
// (see InflateBudget), given back by release. It is not safe for
// concurrent use; Decoders take one from a pool for each frame.
type inflater struct {
	lit  [litTableSize]uint32  // literal/length table of the current dynamic block
	dist [distTableSize]uint32 // distance table of the current dynamic block
	clen [1 << clenBits]uint32 // code-length code table
	lens [maxLitSyms + maxDistSyms]uint8
	used [maxLitSyms + maxDistSyms]uint16 // indexes of lens not 0 (dynamic)

	budget *InflateBudget // nil: none
	held   int            // bytes of budget held
	over   bool           // output went over the limit
}

// keepInflate is the largest inflate output buffer a Decoder keeps for
// the next frame, and the size up to which output needs no budget.
const keepInflate = 16 << 10

// reserve takes a share of the budget before the output buffer grows to
// c bytes, if c is over keepInflate and no share is held yet.
func (f *inflater) reserve(c, limit int) {
	if c > keepInflate && f.budget != nil && f.held == 0 {
		f.held = f.budget.acquire(limit)
	}
}

// release gives back the share of the budget, if one is held.
func (f *inflater) release() {
	if f.held > 0 {
		f.budget.release(f.held)
		f.held = 0
	}
}

const (
	litRootBits  = 9
	distRootBits = 7
	clenBits     = 7
	// Table sizes: the root table and room for the second-level tables. The
	// most a complete code can need with these root sizes is 852 and 400
	// entries (zlib's "enough" bounds); buildTable checks anyway.
	litTableSize  = 1024
	distTableSize = 1024

	maxLitSyms  = 286
	maxDistSyms = 30
)

// A table entry (uint32) is
//
//	bits 0-5   code length in bits (at most 15), consumed on a match:
//	           nothing else below bit 6, so that e&63 is the length and a
//	           64-bit shift by e needs no mask
//	bits 8-10  kind
//	bits 11-14 extra bits following the code (length or distance); for
//	           a link, the index bits of the second-level table
//	bits 16-31 value: the literal, the base length or distance, the offset
//	           of a second-level table, or a code-length symbol
//
// Kind 0 is an invalid code (a zero entry, left by an incomplete code or a
// symbol deflate does not allow), so a zeroed table fails safely.
const (
	kindBad  = 0 << 8
	kindLit  = 1 << 8
	kindCopy = 2 << 8
	kindEnd  = 3 << 8
	kindLink = 4 << 8
	kindMask = 7 << 8

	extraShift = 11 // the extra bits field
	lenMask    = 63 // the code length field
)

// Read-only tables computed at init: what each symbol decodes to, and the
// tables of fixed Huffman blocks.
var (
	litPayload  [288]uint32
	distPayload [32]uint32
	clenPayload [19]uint32
	fixedLitTab [litTableSize]uint32
	fixedDstTab [distTableSize]uint32
)

func init() {
	for s := range litPayload {
		switch {
		case s < 256:
			litPayload[s] = kindLit | uint32(s)<<16
		case s == 256:
			litPayload[s] = kindEnd
		case s < 286:
			litPayload[s] = kindCopy | uint32(lengthBase[s-257])<<16 | uint32(lengthExtra[s-257])<<extraShift
		}
	}
	for s := range distBase {
		distPayload[s] = kindCopy | uint32(distBase[s])<<16 | uint32(distExtra[s])<<extraShift
	}
	for s := range clenPayload {
		clenPayload[s] = kindLit | uint32(s)<<16
	}
	var lens [288]uint8
	for s := range lens {
		switch {
		case s < 144:
			lens[s] = 8
		case s < 256:
			lens[s] = 9
		case s < 280:
			lens[s] = 7
		default:
			lens[s] = 8
		}
	}
	var dl [32]uint8
	for s := range dl {
		dl[s] = 5
	}
	if !buildTable(fixedLitTab[:], litRootBits, lens[:], litPayload[:]) ||
		!buildTable(fixedDstTab[:], distRootBits, dl[:], distPayload[:]) {
		panic("wire: fixed Huffman tables")
	}
}

// buildTable fills t with the decoding table of the canonical Huffman code
// of lens (RFC 1951 section 3.2.2; lengths 0–15, 0 meaning no code): a root
// table of 1<<root entries indexed by the next root bits, and second-level
// tables for longer codes. The entry of symbol s is payload[s] with its
// code length. It accepts what compress/flate accepts: a complete code, a
// single code of one bit (its other half invalid) or no code at all (every
// entry invalid), and reports false otherwise or if t is too small.
func buildTable(t []uint32, root uint, lens []uint8, payload []uint32) bool {
	var used [288]uint16
	n := 0
	for s, l := range lens[:min(len(lens), len(used))] {
		if l != 0 {
			used[n] = uint16(s)
			n++
		}
	}
	return buildTableUsed(t, root, lens, used[:n], 0, payload)
}

// buildTableUsed is buildTable given the symbols whose length is not 0,
// syms[j]-off for each j, in increasing order: a dynamic block's code
// lengths list them as they are read, so that the work here is per code
// rather than per symbol (most of the 286 literal/length symbols of a
// small frame have none).
func buildTableUsed(t []uint32, root uint, lens []uint8, syms []uint16, off int, payload []uint32) bool {
	rootSize := 1 << root
	if len(t) < rootSize || len(lens) > 288 || root > 15 {
		return false
	}
	// Two counters per length halve the store-to-load chains of runs of
	// equal lengths.
	var c0, c1 [16]int
	n := len(syms) &^ 1
	for j := 0; j < n; j += 2 {
		c0[lens[int(syms[j])-off]&15]++
		c1[lens[int(syms[j+1])-off]&15]++
	}
	if n < len(syms) {
		c0[lens[int(syms[n])-off]&15]++
	}
	var count [16]int
	maxLen := 0
	for l := 1; l < 16; l++ {
		count[l] = c0[l] + c1[l]
		if count[l] != 0 {
			maxLen = l
		}
	}
	if maxLen == 0 {
		clear(t[:rootSize])
		return true
	}
	left := 1
	for l := 1; l <= 15; l++ {
		left = left<<1 - count[l]
		if left < 0 {
			return false // over-subscribed
		}
	}
	if left > 0 {
		if maxLen != 1 || count[1] != 1 {
			return false // incomplete
		}
		clear(t[:rootSize])
	}

	// Symbols sorted by code length, then by value: canonical order.
	var offs [16]int
	for l := 1; l < 15; l++ {
		offs[l+1] = offs[l] + count[l]
	}
	var sorted [288]uint16
	for _, u := range syms {
		s := int(u) - off
		l := lens[s] & 15
		sorted[offs[l]] = uint16(s)
		offs[l]++
	}

	// Codes of up to root bits: the codes of length l go to the first 1<<l
	// entries, which are then copied to the next 1<<l, and so on, so that
	// every entry whose low l bits are a code holds it. Deflate sends codes
	// starting with the most significant bit and the reader takes bits from
	// the least significant end, hence the reversal.
	code := 0 // canonical code, most significant bit first
	i := 0
	for l := 1; l <= int(root); l++ {
		for range count[l] {
			rev := bits.Reverse16(uint16(code)) >> (16 - l)
			t[rev] = payload[sorted[i]] | uint32(l)
			i++
			code++
		}
		code <<= 1
		if l < int(root) {
			copy(t[1<<l:2<<l], t[:1<<l])
		}
	}

	// Longer codes: second-level tables under a root entry.
	rem := count // codes of each length not placed yet
	used := rootSize
	prefix := -1 // root index of the current second-level table
	subOff, subBits := 0, uint(0)
	for l := int(root) + 1; l <= maxLen; l++ {
		for range count[l] {
			e := payload[sorted[i]] | uint32(l)
			i++
			rev := int(bits.Reverse16(uint16(code)) >> (16 - l))
			code++
			if p := rev & (rootSize - 1); p != prefix {
				// A new second-level table, as wide as the longest code
				// sharing this prefix.
				sb := uint(l) - root
				room := 1 << sb
				for sb+root < uint(maxLen) {
					room -= rem[sb+root]
					if room <= 0 {
						break
					}
					sb++
					room <<= 1
				}
				if used+1<<sb > len(t) || used > 0xffff {
					return false
				}
				prefix, subOff, subBits = p, used, sb
				t[p] = kindLink | uint32(used)<<16 | uint32(sb)<<extraShift
				// A complete code fills the table; clearing it makes
				// sure that no entry of an earlier block survives.
				clear(t[used : used+1<<sb])
				used += 1 << sb
			}
			for j := rev >> root; j < 1<<subBits; j += 1 << (uint(l) - root) {
				t[subOff+j] = e
			}
			rem[l]--
		}
		code <<= 1
	}
	return true
}

// bitReader reads deflate bits, least significant first, from a byte
// slice. Past the end it supplies zero bytes, counted in pos, so that the
// hot loop needs no bounds test; overrun reports whether bits past the end
// were consumed.
type bitReader struct {
	in  []byte
	pos int    // next byte to load; may exceed len(in)
	b   uint64 // bits not yet consumed; any bits above nb are either zero or the next input bits
	nb  uint   // valid bits in b
}

// refill makes at least 56 bits valid and reports false if bits past the
// end of the input have been consumed.
func (r *bitReader) refill() bool {
	if r.pos+8 <= len(r.in) {
		r.b |= binary.LittleEndian.Uint64(r.in[r.pos:]) << r.nb
		r.pos += int((63 - r.nb) >> 3)
		r.nb |= 56
		return true
	}
	for r.nb <= 56 {
		if r.pos < len(r.in) {
			r.b |= uint64(r.in[r.pos]) << r.nb
		}
		r.pos++
		r.nb += 8
	}
	return !r.overrun()
}

func (r *bitReader) overrun() bool {
	return 8*r.pos-int(r.nb) > 8*len(r.in)
}

// need makes at least n (≤ 56) bits valid.
func (r *bitReader) need(n uint) bool {
	if r.nb >= n {
		return true
	}
	return r.refill()
}

// take consumes n valid bits.
func (r *bitReader) take(n uint) uint32 {
	v := uint32(r.b & (1<<n - 1))
	r.b >>= n
	r.nb -= n
	return v
}

// alignedPos drops the bits up to the next byte boundary, empties the
// buffer and returns the position of the next unread byte.
func (r *bitReader) alignedPos() int {
	p := r.pos - int(r.nb/8)
	r.pos, r.b, r.nb = p, 0, 0
	return p
}

// gunzip appends to dst the contents of the gzip members making up src and
// reports whether it could (see inflater). Output beyond limit bytes
// reports false. The returned slice is dst, grown if needed, also when it
// reports false.
func (f *inflater) gunzip(dst, src []byte, limit int) ([]byte, bool) {
	// The trailer's ISIZE of the last member sizes the output (a hint,
	// bounded by the limit and by deflate's largest ratio, 1032:1; a large
	// one takes its share of the budget first, as growing would).
	if len(src) >= 18 {
		hint := int(binary.LittleEndian.Uint32(src[len(src)-4:]))
		if hint <= limit-len(dst) && hint <= 1032*len(src) && cap(dst)-len(dst) < hint {
			f.reserve(len(dst)+hint, limit)
			dst = append(dst[:len(dst):len(dst)], make([]byte, hint)...)[:len(dst)]
		}
	}
	p := 0
	for {
		q, ok := gzipHeader(src, p)
		if !ok {
			return dst, false
		}
		start := len(dst)
		r := bitReader{in: src, pos: q}
		if dst, ok = f.inflate(&r, dst, limit); !ok || r.overrun() {
			return dst, false
		}
		t := r.alignedPos()
		if len(src)-t < 8 ||
			binary.LittleEndian.Uint32(src[t:]) != crc32.ChecksumIEEE(dst[start:]) ||
			binary.LittleEndian.Uint32(src[t+4:]) != uint32(len(dst)-start) {
			return dst, false
		}
		p = t + 8
		if p == len(src) {
			return dst, true
		}
	}
}

// gzipHeader parses the member header at src[p:] as compress/gzip does and
// returns the position of the deflate data.
func gzipHeader(src []byte, p int) (int, bool) {
	const (
		flagHdrCrc  = 1 << 1
		flagExtra   = 1 << 2
		flagName    = 1 << 3
		flagComment = 1 << 4
	)
	h := p
	if len(src)-p < 10 || src[p] != 0x1f || src[p+1] != 0x8b || src[p+2] != 8 {
		return 0, false
	}
	flg := src[p+3]
	p += 10
	if flg&flagExtra != 0 {
		if len(src)-p < 2 {
			return 0, false
		}
		n := int(binary.LittleEndian.Uint16(src[p:]))
		p += 2
		if len(src)-p < n {
			return 0, false
		}
		p += n
	}
	for _, fl := range [2]byte{flagName, flagComment} {
		if flg&fl != 0 {
			// compress/gzip reads at most 512 bytes, the NUL included.
			i := bytes.IndexByte(src[p:min(len(src), p+512)], 0)
			if i < 0 {
				return 0, false
			}
			p += i + 1
		}
	}
	if flg&flagHdrCrc != 0 {
		if len(src)-p < 2 || binary.LittleEndian.Uint16(src[p:]) != uint16(crc32.ChecksumIEEE(src[h:p])) {
			return 0, false
		}
		p += 2
	}
	return p, true
}

// inflate appends one deflate stream from r to dst; back-references may
// reach back to len(dst) at entry.
func (f *inflater) inflate(r *bitReader, dst []byte, limit int) ([]byte, bool) {
	start := len(dst)
	for {
		if !r.need(3) {
			return dst, false
		}
		final := r.take(1) == 1
		var ok bool
		switch r.take(2) {
		case 0:
			dst, ok = f.stored(r, dst, limit)
		case 1:
			dst, ok = f.codes(r, dst, start, limit, &fixedLitTab, &fixedDstTab)
		case 2:
			if !f.dynamic(r) {
				return dst, false
			}
			dst, ok = f.codes(r, dst, start, limit, &f.lit, &f.dist)
		}
		if !ok {
			return dst, false
		}
		if final {
			return dst, true
		}
	}
}

// stored copies a stored block.
func (f *inflater) stored(r *bitReader, dst []byte, limit int) ([]byte, bool) {
	if r.overrun() {
		return dst, false
	}
	p := r.alignedPos()
	in := r.in
	if len(in)-p < 4 {
		return dst, false
	}
	n := int(binary.LittleEndian.Uint16(in[p:]))
	if uint16(n) != ^binary.LittleEndian.Uint16(in[p+2:]) || len(in)-p-4 < n {
		return dst, false
	}
	if len(dst)+n > limit {
		f.over = true
		return dst, false
	}
	if cap(dst)-len(dst) < n {
		out, ok := f.grow(dst[:cap(dst)], len(dst), n, limit)
		if !ok {
			return dst, false
		}
		dst = out[:len(dst)]
	}
	r.pos = p + 4 + n
	return append(dst, in[p+4:p+4+n]...), true
}

// codeOrder is the order of the code-length code lengths (RFC 1951 section
// 3.2.7).
var codeOrder = [19]uint8{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}

// dynamic reads the code definitions of a dynamic block into f.lit and
// f.dist.
func (f *inflater) dynamic(r *bitReader) bool {
	if !r.need(14) {
		return false
	}
	nlit := int(r.take(5)) + 257
	ndist := int(r.take(5)) + 1
	nclen := int(r.take(4)) + 4
	if nlit > maxLitSyms || ndist > maxDistSyms {
		return false
	}
	var cl [19]uint8
	for i := range nclen {
		if !r.need(3) {
			return false
		}
		cl[codeOrder[i]] = uint8(r.take(3))
	}
	if !buildTable(f.clen[:], clenBits, cl[:], clenPayload[:]) {
		return false
	}
	lens := f.lens[:nlit+ndist]
	used, nu := f.used[:len(lens)], 0 // the symbols of lens not 0
	// The bit buffer in locals, refilled as in codes.
	in, b, nb, pos := r.in, r.b, r.nb, r.pos
	for i := 0; i < len(lens); {
		if nb < 7+7 {
			if pos+8 <= len(in) {
				b |= binary.LittleEndian.Uint64(in[pos:]) << (nb & 63)
				pos += int((63 - nb) >> 3)
				nb |= 56
			} else {
				r.b, r.nb, r.pos = b, nb, pos
				if !r.refill() {
					return false
				}
				b, nb, pos = r.b, r.nb, r.pos
			}
		}
		e := f.clen[b&(1<<clenBits-1)]
		if e&kindMask != kindLit {
			return false
		}
		b >>= e & lenMask
		nb -= uint(e & lenMask)
		sym := uint8(e >> 16)
		if sym < 16 {
			// Listed as used whatever the length, counted only if not 0.
			lens[i] = sym
			used[nu] = uint16(i)
			nu += int(sym+15) >> 4
			i++
			continue
		}
		var rep int
		var v uint8
		switch sym {
		case 16:
			if i == 0 {
				return false
			}
			rep, v = 3+int(b&3), lens[i-1]
			b >>= 2
			nb -= 2
		case 17:
			rep = 3 + int(b&7)
			b >>= 3
			nb -= 3
		default:
			rep = 11 + int(b&127)
			b >>= 7
			nb -= 7
		}
		if rep > len(lens)-i {
			return false
		}
		run := lens[i : i+rep]
		if v == 0 {
			clear(run)
		} else {
			for j := range run {
				run[j] = v
				used[nu] = uint16(i + j)
				nu++
			}
		}
		i += rep
	}
	r.b, r.nb, r.pos = b, nb, pos
	// The used symbols of the distance code follow those of the
	// literal/length code.
	k := nu
	for k > 0 && int(used[k-1]) >= nlit {
		k--
	}
	return buildTableUsed(f.lit[:], litRootBits, lens[:nlit], used[:k], 0, litPayload[:]) &&
		buildTableUsed(f.dist[:], distRootBits, lens[nlit:], used[k:nu], nlit, distPayload[:])
}

// codes decodes the symbols of a Huffman block up to its end of block,
// appending to dst. Back-references may reach back to dst[start].
func (f *inflater) codes(r *bitReader, dst []byte, start, limit int, lit *[litTableSize]uint32, dist *[distTableSize]uint32) ([]byte, bool) {
	const litMask, distMask = 1<<litRootBits - 1, 1<<distRootBits - 1
	in := r.in
	b, nb, pos := r.b, r.nb, r.pos
	out := dst[:min(cap(dst), limit)] // len(dst) ≤ limit
	o := len(dst)
	for {
		// Runs of literals first, then one symbol of any kind, which
		// needs at most 15+5+15+13 = 48 bits.
		if lit == &fixedLitTab {
			r.pos = pos
			b, nb, o = fixedLiterals(r, b, nb, out, o)
			pos = r.pos
		} else {
			pos, b, nb, o = literals(in, pos, b, nb, out, o, lit)
		}
		if nb < 48 {
			if pos+8 <= len(in) {
				b |= binary.LittleEndian.Uint64(in[pos:]) << nb
				pos += int((63 - nb) >> 3)
				nb |= 56
			} else {
				r.b, r.nb, r.pos = b, nb, pos
				if !r.refill() {
					return out[:o], false
				}
				b, nb, pos = r.b, r.nb, r.pos
			}
		}
		e := lit[b&litMask]
		if e&kindMask == kindLink {
			e = lit[(int(e>>16)+int(b>>litRootBits)&(1<<(e>>extraShift&15)-1))&(litTableSize-1)]
		}
		b >>= e & lenMask
		nb -= uint(e & lenMask)
		switch e & kindMask {
		case kindLit:
			if o >= len(out) {
				var ok bool
				if out, ok = f.grow(out, o, 1, limit); !ok {
					return out[:o], false
				}
			}
			out[o] = byte(e >> 16)
			o++
		case kindCopy:
			x := e >> extraShift & 15
			length := int(e>>16) + int(b&(1<<x-1))
			b >>= x
			nb -= uint(x)
			d := dist[b&distMask]
			if d&kindMask == kindLink {
				d = dist[(int(d>>16)+int(b>>distRootBits)&(1<<(d>>extraShift&15)-1))&(distTableSize-1)]
			}
			if d&kindMask != kindCopy {
				return out[:o], false
			}
			b >>= d & lenMask
			nb -= uint(d & lenMask)
			x = d >> extraShift & 15
			distance := int(d>>16) + int(b&(1<<x-1))
			b >>= x
			nb -= uint(x)
			if distance > o-start {
				return out[:o], false
			}
			if length > len(out)-o {
				var ok bool
				if out, ok = f.grow(out, o, length, limit); !ok {
					return out[:o], false
				}
			}
			o = copyBack(out, o, distance, length)
		case kindEnd:
			r.b, r.nb, r.pos = b, nb, pos
			return out[:o], true
		default:
			return out[:o], false
		}
	}
}

// literals decodes the literals of table lit at the start of the bits b
// (nb valid, then in[pos:]) into out[o:] and returns the new pos, b, nb
// and o. It refills b eight bytes at a time and stops before the first
// symbol that is not a literal of the root table, when out is full, or
// when fewer than eight bytes of input remain. A separate function keeps
// the loop's few variables in registers.
func literals(in []byte, pos int, b uint64, nb uint, out []byte, o int, lit *[litTableSize]uint32) (int, uint64, uint, int) {
	const litMask = 1<<litRootBits - 1
	for pos+8 <= len(in) && pos >= 0 {
		b |= binary.LittleEndian.Uint64(in[pos:]) << (nb & 63)
		pos += int((63 - nb) >> 3)
		nb |= 56
		// At least 56 bits: up to six literals of at most litRootBits
		// bits, each looked up with litRootBits valid bits.
		for nb >= litRootBits {
			e := lit[b&litMask]
			if e&kindMask != kindLit || o >= len(out) {
				return pos, b, nb, o
			}
			b >>= e & lenMask
			nb -= uint(e & lenMask)
			out[o] = byte(e >> 16)
			o++
		}
	}
	return pos, b, nb, o
}

// fixedLiterals is literals for the fixed Huffman table (with r.in and
// r.pos for in and pos), three literals at a time. A fixed literal code
// has 8 or 9 bits (RFC 1951 section 3.2.6), so the second code starts at
// bit 8 or 9 and the third at bit 16, 17 or 18: branches on the lengths
// pick the place, and as they are predicted the processor loads the
// second and third entries without waiting for the first, instead of
// one dependent table load after another. (Arithmetic selects, which
// put the choice on that chain of loads, gained a third as much.)
func fixedLiterals(r *bitReader, b uint64, nb uint, out []byte, o int) (uint64, uint, int) {
	const litMask = 1<<litRootBits - 1
	lit := &fixedLitTab
	for r.pos+8 <= len(r.in) && r.pos >= 0 {
		b |= binary.LittleEndian.Uint64(r.in[r.pos:]) << (nb & 63)
		r.pos += int((63 - nb) >> 3)
		nb |= 56
		// At least 56 bits: twice three codes of at most 9 bits.
		for nb >= 27 {
			e1 := lit[b&litMask]
			if e1&kindMask != kindLit || len(out)-o < 3 {
				return b, nb, o
			}
			var e2 uint32
			if e1&1 == 0 {
				e2 = lit[b>>8&litMask]
			} else {
				e2 = lit[b>>9&litMask]
			}
			out[o] = byte(e1 >> 16)
			if e2&kindMask != kindLit {
				n := e1 & lenMask
				return b >> n, nb - uint(n), o + 1
			}
			out[o+1] = byte(e2 >> 16)
			n := (e1 + e2) & lenMask
			var e3 uint32
			switch n {
			case 16:
				e3 = lit[b>>16&litMask]
			case 17:
				e3 = lit[b>>17&litMask]
			default:
				e3 = lit[b>>18&litMask]
			}
			if e3&kindMask != kindLit {
				return b >> n, nb - uint(n), o + 2
			}
			out[o+2] = byte(e3 >> 16)
			n = (n + e3) & lenMask
			b >>= n
			nb -= uint(n)
			o += 3
		}
	}
	return b, nb, o
}

// copyBack copies length bytes from distance bytes back in out to out[o:]
// and returns the new end.
func copyBack(out []byte, o, distance, length int) int {
	from := o - distance
	if distance >= length {
		return o + copy(out[o:o+length], out[from:from+length])
	}
	// Overlapping: the source repeats every distance bytes, so copying
	// what is already there doubles it each time.
	for end := o + length; o < end; {
		o += copy(out[o:end], out[from:o])
	}
	return o
}

// grow returns out (whose first o bytes are written) with room for n more
// bytes, or false (setting over) if that would exceed limit. The buffer
// doubles, up to the limit; one over keepInflate takes a share of the
// budget first.
//
//go:noinline
func (f *inflater) grow(out []byte, o, n, limit int) ([]byte, bool) {
	if o+n > limit {
		f.over = true
		return out, false
	}
	c := min(max(2*len(out), o+n, 512), limit)
	f.reserve(c, limit)
	next := make([]byte, c)
	copy(next, out[:o])
	return next, true
}
