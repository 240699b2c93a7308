package router

import (
	"fmt"
	"testing"
)

func BenchmarkACScan(b *testing.B) {
	for _, n := range []int{10, 10000} {
		var pats []string
		for i := 0; i < n; i++ {
			pats = append(pats, fmt.Sprintf("w%dq", i))
		}
		a := newAC(pats)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			var dst []int32
			for b.Loop() {
				dst = a.appendMatches(dst[:0], benchText)
			}
		})
	}
}
