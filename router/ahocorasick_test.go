package router

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func bruteMatches(pats []string, text string) []int32 {
	var out []int32
	for i, p := range pats {
		if p == "" {
			continue
		}
		for j := 0; j+len(p) <= len(text); j++ {
			if text[j:j+len(p)] == p {
				out = append(out, int32(i))
			}
		}
	}
	slices.Sort(out)
	return out
}

func TestACAgainstBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	alpha := "abcab\xe6\x97\xa5 "
	randStr := func(n int) string {
		var b strings.Builder
		for i := 0; i < n; i++ {
			b.WriteByte(alpha[rng.IntN(len(alpha))])
		}
		return b.String()
	}
	for round := 0; round < 500; round++ {
		seen := map[string]bool{}
		var pats []string
		for i := rng.IntN(20); i >= 0; i-- {
			p := randStr(1 + rng.IntN(4))
			if !seen[p] {
				seen[p] = true
				pats = append(pats, p)
			}
		}
		for _, limit := range []int{acDenseLimit, 0} {
			a := buildAC(pats, limit)
			if (a.delta != nil) != (limit > 0) {
				t.Fatalf("dense table %v with limit %d", a.delta != nil, limit)
			}
			for k := 0; k < 20; k++ {
				text := randStr(rng.IntN(30))
				got := a.appendMatches(nil, text)
				slices.Sort(got)
				want := bruteMatches(pats, text)
				if !slices.Equal(got, want) {
					t.Fatalf("patterns %q text %q limit %d: got %v want %v", pats, text, limit, got, want)
				}
			}
		}
	}
}

func TestACNoAllocAndConcurrent(t *testing.T) {
	a := newAC([]string{"he", "she", "his", "hers"})
	dst := make([]int32, 0, 16)
	allocs := testing.AllocsPerRun(100, func() { dst = a.appendMatches(dst[:0], "ushers and his") })
	if allocs != 0 {
		t.Fatalf("%v allocs per match", allocs)
	}
	done := make(chan []int32)
	for i := 0; i < 4; i++ {
		go func() { done <- a.appendMatches(nil, "ushers") }()
	}
	for i := 0; i < 4; i++ {
		got := <-done
		slices.Sort(got)
		if !slices.Equal(got, []int32{0, 1, 3}) {
			t.Fatalf("got %v", got)
		}
	}
}

func TestTriePrefixes(t *testing.T) {
	tb := newTrieBuilder()
	for i, k := range []string{"/", "/w", "/w1", "/x", ""} {
		tb.insert(k, false, int32(i))
	}
	tr := tb.build()
	if got := tr.appendPrefixes(nil, "/w12", false); !slices.Equal(got, []int32{4, 0, 1, 2}) {
		t.Fatalf("prefixes of /w12: %v", got)
	}
	rb := newTrieBuilder()
	rb.insert("?", true, 0)
	rb.insert("ok?", true, 1)
	rt := rb.build()
	if got := rt.appendPrefixes(nil, "is it ok?", true); !slices.Equal(got, []int32{0, 1}) {
		t.Fatalf("suffixes: %v", got)
	}
}
