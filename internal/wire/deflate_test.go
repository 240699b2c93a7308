package wire

import (
	"bytes"
	"compress/gzip"
	"io"
	"math/rand/v2"
	"testing"
)

func gunzipAll(t testing.TB, frame []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(frame))
	if err != nil {
		t.Fatalf("gzip header: %v", err)
	}
	zr.Multistream(false)
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("gunzip: %v", err)
	}
	return out
}

// The fast encoder's members inflate, with compress/gzip, to the input:
// empty, tiny, repetitive (long matches, length 258, distances of every
// size class), random and mixed inputs, one encoder reused across frames.
func TestFastGzipRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	random := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	var mixed []byte
	for i := 0; len(mixed) < 200_000; i++ {
		switch rng.IntN(3) {
		case 0:
			mixed = append(mixed, random(rng.IntN(50))...)
		case 1:
			if len(mixed) > 0 {
				from := rng.IntN(len(mixed))
				n := min(rng.IntN(300), len(mixed)-from)
				mixed = append(mixed, mixed[from:from+n]...)
			}
		default:
			mixed = append(mixed, bytes.Repeat([]byte{byte(i)}, rng.IntN(600))...)
		}
	}
	inputs := [][]byte{
		nil, {0}, []byte("abc"), []byte("abcd"), []byte("abcdabcd"),
		bytes.Repeat([]byte("a"), 1000), bytes.Repeat([]byte("hello world "), 500),
		random(100), random(70_000), mixed,
	}
	for i := range 300 {
		inputs = append(inputs, mixed[i*37:i*37+rng.IntN(2000)])
	}
	// The largest output: bytes of 9-bit codes without repeats.
	for _, n := range []int{1, 7, 100, 5000, 70_000} {
		high := random(n)
		for i := range high {
			high[i] = 144 + high[i]%112
		}
		inputs = append(inputs, high)
	}
	var z fastGzip
	for i, in := range inputs {
		frame := z.appendGzip(nil, in)
		if got := gunzipAll(t, frame); !bytes.Equal(got, in) {
			t.Fatalf("input %d (%d bytes): round trip differs", i, len(in))
		}
		// Appended to bytes already there, in a buffer just full.
		prefix := make([]byte, 5, 5)
		copy(prefix, "head:")
		frame = z.appendGzip(prefix, in)
		if string(frame[:5]) != "head:" {
			t.Fatalf("input %d: the bytes before the member changed", i)
		}
		if got := gunzipAll(t, frame[5:]); !bytes.Equal(got, in) {
			t.Fatalf("input %d (%d bytes): round trip after a prefix differs", i, len(in))
		}
	}
	// A repetitive frame compresses.
	in := bytes.Repeat([]byte("hello world "), 500)
	if n := len(z.appendGzip(nil, in)); n > len(in)/10 {
		t.Fatalf("%d bytes compress to %d", len(in), n)
	}
}

// The encoder's position base wraps without corrupting later frames.
func TestFastGzipBaseWrap(t *testing.T) {
	var z fastGzip
	z.base = 1<<30 - 100
	in := bytes.Repeat([]byte("0123456789"), 50)
	for range 3 {
		if got := gunzipAll(t, z.appendGzip(nil, in)); !bytes.Equal(got, in) {
			t.Fatal("round trip differs after the base wrapped")
		}
	}
}

func FuzzFastGzip(f *testing.F) {
	f.Add([]byte("hello hello hello"), []byte("world"))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		var z fastGzip
		for _, in := range [][]byte{a, b, append(a, b...)} {
			if got := gunzipAll(t, z.appendGzip(nil, in)); !bytes.Equal(got, in) {
				t.Fatalf("round trip differs for %q", in)
			}
		}
	})
}
