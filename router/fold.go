package router

import (
	"unicode"
	"unicode/utf8"
)

// foldRune maps r to the representative of its Unicode simple case folding
// orbit (the orbit regexp's (?i) uses): the lower-case ASCII letter when the
// orbit holds one, the smallest rune of the orbit otherwise. Two runes are
// equal ignoring case exactly when their foldRune values are equal.
func foldRune(r rune) rune {
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}
	m := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if f < m {
			m = f
		}
	}
	if 'A' <= m && m <= 'Z' {
		return m + 'a' - 'A'
	}
	return m
}

// isFolded reports whether s is its own fold (the common case for chat text
// in lower-case ASCII), so that fold(s) needs no allocation.
func isFolded(s string) bool {
	for i := 0; i < len(s); i++ {
		b := s[i]
		if b >= utf8.RuneSelf {
			return isFoldedSlow(s[i:])
		}
		if 'A' <= b && b <= 'Z' {
			return false
		}
	}
	return true
}

func isFoldedSlow(s string) bool {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		if r == utf8.RuneError && n == 1 {
			continue
		}
		if foldRune(r) != r {
			return false
		}
	}
	return true
}

// fold returns s with every rune replaced by foldRune. Invalid UTF-8 bytes
// are kept as they are.
func fold(s string) string {
	if isFolded(s) {
		return s
	}
	return string(appendFold(make([]byte, 0, len(s)), s))
}

func appendFold(dst []byte, s string) []byte {
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if 'A' <= b && b <= 'Z' {
				b += 'a' - 'A'
			}
			dst = append(dst, b)
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			dst = append(dst, b)
			i++
			continue
		}
		dst = utf8.AppendRune(dst, foldRune(r))
		i += n
	}
	return dst
}
