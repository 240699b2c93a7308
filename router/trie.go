package router

// byteTrie maps byte strings to values and finds every key that is a prefix
// of a text (or, built over reversed keys, a suffix). It is immutable after
// build and safe for concurrent lookups; lookups allocate nothing.
type byteTrie struct {
	edgeStart []int32
	edgeByte  []byte
	edgeNext  []int32
	value     []int32 // value index at the node, or -1
	root      [256]int32
}

type trieBuilder struct {
	next  []map[byte]int32
	value []int32
}

func newTrieBuilder() *trieBuilder {
	return &trieBuilder{next: []map[byte]int32{nil}, value: []int32{-1}}
}

// insert adds key (reversed when rev) with the value v and returns the
// previous value at that key, or -1.
func (tb *trieBuilder) insert(key string, rev bool, v int32) int32 {
	s := int32(0)
	for i := 0; i < len(key); i++ {
		b := key[i]
		if rev {
			b = key[len(key)-1-i]
		}
		if tb.next[s] == nil {
			tb.next[s] = make(map[byte]int32)
		}
		n, ok := tb.next[s][b]
		if !ok {
			n = int32(len(tb.next))
			tb.next = append(tb.next, nil)
			tb.value = append(tb.value, -1)
			tb.next[s][b] = n
		}
		s = n
	}
	old := tb.value[s]
	tb.value[s] = v
	return old
}

func (tb *trieBuilder) lookup(key string, rev bool) int32 {
	s := int32(0)
	for i := 0; i < len(key); i++ {
		b := key[i]
		if rev {
			b = key[len(key)-1-i]
		}
		n, ok := tb.next[s][b]
		if !ok {
			return -1
		}
		s = n
	}
	return tb.value[s]
}

func (tb *trieBuilder) build() *byteTrie {
	n := len(tb.next)
	t := &byteTrie{edgeStart: make([]int32, n+1), value: tb.value}
	for b := range t.root {
		t.root[b] = -1
	}
	for b, c := range tb.next[0] {
		t.root[b] = c
	}
	for s := 0; s < n; s++ {
		t.edgeStart[s] = int32(len(t.edgeByte))
		for b := 0; b < 256; b++ {
			if c, ok := tb.next[s][byte(b)]; ok {
				t.edgeByte = append(t.edgeByte, byte(b))
				t.edgeNext = append(t.edgeNext, c)
			}
		}
	}
	t.edgeStart[n] = int32(len(t.edgeByte))
	return t
}

func (t *byteTrie) child(s int32, b byte) int32 {
	if s == 0 {
		return t.root[b]
	}
	lo, hi := int(t.edgeStart[s]), int(t.edgeStart[s+1])
	if hi-lo <= 8 {
		for e := lo; e < hi; e++ {
			if t.edgeByte[e] == b {
				return t.edgeNext[e]
			}
		}
		return -1
	}
	end := hi
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if t.edgeByte[m] < b {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < end && t.edgeByte[lo] == b {
		return t.edgeNext[lo]
	}
	return -1
}

// appendPrefixes appends the values of all keys that are prefixes of text
// (suffixes when rev), shortest first.
func (t *byteTrie) appendPrefixes(dst []int32, text string, rev bool) []int32 {
	if t == nil {
		return dst
	}
	s := int32(0)
	if v := t.value[0]; v >= 0 {
		dst = append(dst, v)
	}
	for i := 0; i < len(text); i++ {
		b := text[i]
		if rev {
			b = text[len(text)-1-i]
		}
		s = t.child(s, b)
		if s < 0 {
			return dst
		}
		if v := t.value[s]; v >= 0 {
			dst = append(dst, v)
		}
	}
	return dst
}
