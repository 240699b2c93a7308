package wire

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

// A stored member is valid gzip holding the input as it is: compress/gzip
// (the reader of the OpenIM gateway) and the built-in inflater both return
// the input, for empty inputs, inputs around the 65535-byte block size and
// larger ones; its deflate data is stored blocks (BTYPE=00) only.
func TestStoredGzip(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	var f inflater
	for _, n := range []int{0, 1, 2, 100, 511, 512, 513, 65534, 65535, 65536, 65537, 131070, 131071, 200_000} {
		in := make([]byte, n)
		for i := range in {
			in[i] = byte(rng.Uint32())
		}
		frame := appendStoredGzip([]byte("prefix"), in)
		if string(frame[:6]) != "prefix" {
			t.Fatalf("%d bytes: dst overwritten", n)
		}
		frame = frame[6:]
		blocks := max(1, (n+0xfffe)/0xffff)
		if want := 18 + 5*blocks + n; len(frame) != want {
			t.Fatalf("%d bytes: member of %d bytes, want %d", n, len(frame), want)
		}
		// Every block header: BTYPE=00, BFINAL on the last only.
		for b, p := 0, 10; b < blocks; b++ {
			size := min(n-b*0xffff, 0xffff)
			if want := byte(0); b == blocks-1 {
				want = 1
				if frame[p] != want {
					t.Fatalf("%d bytes: block %d header %#x", n, b, frame[p])
				}
			} else if frame[p] != want {
				t.Fatalf("%d bytes: block %d header %#x", n, b, frame[p])
			}
			if l := int(frame[p+1]) | int(frame[p+2])<<8; l != size || frame[p+3] != ^frame[p+1] || frame[p+4] != ^frame[p+2] {
				t.Fatalf("%d bytes: block %d LEN %d, want %d", n, b, l, size)
			}
			p += 5 + size
		}
		if got := gunzipAll(t, frame); !bytes.Equal(got, in) {
			t.Fatalf("%d bytes: compress/gzip reads something else", n)
		}
		out, ok := f.gunzip(nil, frame, math.MaxInt)
		if !ok || !bytes.Equal(out, in) {
			t.Fatalf("%d bytes: the inflater: %v", n, ok)
		}
	}
}

// With GzipMinSize, an Encoder writes frames smaller than it as stored
// members and compresses the others; both decode to the plain frame with
// compress/gzip and with a Decoder. Bodies one below, at and one above the
// threshold, both encodings, both compressors.
func TestGzipMinSize(t *testing.T) {
	const minSize = 512
	for _, enc := range []Encoding{Gob, JSON} {
		for _, level := range []int{GzipFixedHuffman, 0} {
			plain := NewEncoder(Options{Encoding: enc})
			e := NewEncoder(Options{Encoding: enc, Gzip: true, GzipLevel: level, GzipMinSize: minSize})
			d := NewDecoder(Options{Encoding: enc, Gzip: true})
			// Find the Data lengths that make bodies of minSize-1, minSize
			// and minSize+1 bytes (JSON base64 moves in steps of 4).
			seen := map[int]bool{}
			for n := 0; n < minSize; n++ {
				r := &Req{ReqIdentifier: SendMsg, SendID: "bot", OperationID: "op", MsgIncr: "bot_1", Data: bytes.Repeat([]byte("hello "), n)[:n]}
				p, err := plain.EncodeReq(r)
				if err != nil {
					t.Fatal(err)
				}
				if len(p) < minSize-8 || len(p) > minSize+8 {
					continue
				}
				p = bytes.Clone(p)
				seen[len(p)-minSize] = true
				z, err := e.EncodeReq(r)
				if err != nil {
					t.Fatal(err)
				}
				stored := z[10]&6 == 0 // BTYPE of the first block
				if stored != (len(p) < minSize) {
					t.Fatalf("%v level %d: a %d-byte body: stored %v", enc, level, len(p), stored)
				}
				if stored && len(z) != len(p)+23 {
					t.Fatalf("%v level %d: a %d-byte body: stored member of %d bytes", enc, level, len(p), len(z))
				}
				if got := gunzipAll(t, z); !bytes.Equal(got, p) {
					t.Fatalf("%v level %d: a %d-byte body: compress/gzip reads something else", enc, level, len(p))
				}
				var got Req
				if err := d.DecodeReq(z, &got); err != nil || !equalReq(&got, r) {
					t.Fatalf("%v level %d: a %d-byte body: decoded %+v, %v", enc, level, len(p), got, err)
				}
			}
			if enc == Gob && !(seen[-1] && seen[0] && seen[1]) {
				t.Fatalf("%v: bodies around the threshold not covered: %v", enc, seen)
			}
		}
	}
}

// GzipMinSize 0 keeps compressing every frame: the same bytes as an
// Encoder without it, small frames included.
func TestGzipMinSizeZero(t *testing.T) {
	for _, level := range []int{GzipFixedHuffman, 0} {
		a := NewEncoder(Options{Gzip: true, GzipLevel: level})
		b := NewEncoder(Options{Gzip: true, GzipLevel: level, GzipMinSize: 0})
		for _, r := range []*Req{{ReqIdentifier: GetNewestSeq}, sendReq(t)} {
			x, err := a.EncodeReq(r)
			if err != nil {
				t.Fatal(err)
			}
			y, err := b.EncodeReq(r)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(x, y) || x[10]&6 == 0 {
				t.Fatalf("level %d: frames differ or are stored", level)
			}
		}
	}
}

// MaxFrame applies to the stored member, as to any frame.
func TestGzipMinSizeMaxFrame(t *testing.T) {
	e := NewEncoder(Options{Gzip: true, GzipMinSize: 1 << 20, MaxFrame: 300})
	_, err := e.EncodeReq(&Req{ReqIdentifier: SendMsg, Data: make([]byte, 400)})
	var se *SizeError
	if !errors.As(err, &se) || se.Size <= 400 {
		t.Fatalf("err = %v", err)
	}
}
