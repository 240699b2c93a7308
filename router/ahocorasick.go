package router

import "sort"

// acAutomaton is an Aho-Corasick automaton over bytes. It is immutable after
// build, so any number of goroutines may match with it at once, and a match
// allocates nothing beyond what the caller's destination slice needs.
//
// Small automata (states × byte classes ≤ acDenseLimit) get a dense
// transition table over byte classes: one table load per input byte. Larger
// ones walk sparse goto edges and failure links (amortised O(1) per byte).
type acAutomaton struct {
	// sparse goto function: the edges of state s are
	// edgeByte[edgeStart[s]:edgeStart[s+1]] (sorted) and edgeNext likewise.
	edgeStart []int32
	edgeByte  []byte
	edgeNext  []int32
	fail      []int32
	pattern   []int32 // pattern ending at the state, or -1
	dict      []int32 // nearest state on the failure chain with a pattern, or -1

	// dense transition table, nil when too large
	classOf  [256]byte
	nclasses int
	delta    []int32
	rootStay [256]bool // the root's transition on the byte is the root

	npatterns int
}

// acDenseLimit bounds the dense table (entries of 4 bytes) and keeps row
// offsets within int32.
const acDenseLimit = 1 << 22

// newAC builds an automaton for patterns; pattern i is reported as i.
// Empty patterns are ignored. Duplicate patterns must not be given.
func newAC(patterns []string) *acAutomaton { return buildAC(patterns, acDenseLimit) }

func buildAC(patterns []string, denseLimit int) *acAutomaton {
	type bnode struct {
		next map[byte]int32
	}
	nodes := []bnode{{}}
	pat := []int32{-1}
	for i, p := range patterns {
		if p == "" {
			continue
		}
		s := int32(0)
		for j := 0; j < len(p); j++ {
			if nodes[s].next == nil {
				nodes[s].next = make(map[byte]int32)
			}
			n, ok := nodes[s].next[p[j]]
			if !ok {
				n = int32(len(nodes))
				nodes = append(nodes, bnode{})
				pat = append(pat, -1)
				nodes[s].next[p[j]] = n
			}
			s = n
		}
		pat[s] = int32(i)
	}
	ns := len(nodes)
	a := &acAutomaton{
		edgeStart: make([]int32, ns+1),
		fail:      make([]int32, ns),
		pattern:   pat,
		dict:      make([]int32, ns),
		npatterns: len(patterns),
	}
	// flatten edges, sorted by byte
	var keys []byte
	for s := 0; s < ns; s++ {
		a.edgeStart[s] = int32(len(a.edgeByte))
		keys = keys[:0]
		for b := range nodes[s].next {
			keys = append(keys, b)
		}
		sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
		for _, b := range keys {
			a.edgeByte = append(a.edgeByte, b)
			a.edgeNext = append(a.edgeNext, nodes[s].next[b])
		}
	}
	a.edgeStart[ns] = int32(len(a.edgeByte))
	// BFS for failure and dictionary links
	queue := make([]int32, 0, ns)
	a.dict[0] = -1
	for e := a.edgeStart[0]; e < a.edgeStart[1]; e++ {
		c := a.edgeNext[e]
		a.fail[c] = 0
		a.dict[c] = -1
		queue = append(queue, c)
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		for e := a.edgeStart[s]; e < a.edgeStart[s+1]; e++ {
			b, c := a.edgeByte[e], a.edgeNext[e]
			f := a.fail[s]
			for {
				if n, ok := a.gotoEdge(f, b); ok {
					a.fail[c] = n
					break
				}
				if f == 0 {
					a.fail[c] = 0
					break
				}
				f = a.fail[f]
			}
			fc := a.fail[c]
			if a.pattern[fc] >= 0 {
				a.dict[c] = fc
			} else {
				a.dict[c] = a.dict[fc]
			}
			queue = append(queue, c)
		}
	}
	// byte classes: bytes that occur on no edge share class 0
	var used [256]bool
	for _, b := range a.edgeByte {
		used[b] = true
	}
	nc := 1
	for b := 0; b < 256; b++ {
		if used[b] {
			a.classOf[b] = byte(nc)
			nc++
		}
	}
	if nc <= 256 && ns*nc <= denseLimit {
		a.nclasses = nc
		a.delta = make([]int32, ns*nc)
		var rep [256]byte // a byte of each class
		for b := 0; b < 256; b++ {
			if used[b] {
				rep[a.classOf[b]] = byte(b)
			}
		}
		// BFS order guarantees fail[s] is complete before s.
		order := make([]int32, 0, ns)
		order = append(order, 0)
		for i := 0; i < len(order); i++ {
			s := order[i]
			for e := a.edgeStart[s]; e < a.edgeStart[s+1]; e++ {
				order = append(order, a.edgeNext[e])
			}
		}
		for _, s := range order {
			row := a.delta[int(s)*nc : int(s)*nc+nc]
			for k := 1; k < nc; k++ {
				if n, ok := a.gotoEdge(s, rep[k]); ok {
					row[k] = n
				} else if s == 0 {
					row[k] = 0
				} else {
					row[k] = a.delta[int(a.fail[s])*nc+k]
				}
			}
			row[0] = 0
		}
		// Store row offsets (state*nc) instead of states so that a step is
		// one load, and flag transitions into states with output as ^offset.
		for i, n := range a.delta {
			off := n * int32(nc)
			if a.pattern[n] >= 0 || a.dict[n] >= 0 {
				off = ^off
			}
			a.delta[i] = off
		}
		for b := 0; b < 256; b++ {
			a.rootStay[b] = a.delta[a.classOf[b]] == 0
		}
	}
	return a
}

func (a *acAutomaton) gotoEdge(s int32, b byte) (int32, bool) {
	lo, hi := int(a.edgeStart[s]), int(a.edgeStart[s+1])
	if hi-lo <= 8 {
		for e := lo; e < hi; e++ {
			if a.edgeByte[e] == b {
				return a.edgeNext[e], true
			}
		}
		return 0, false
	}
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if a.edgeByte[m] < b {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < int(a.edgeStart[s+1]) && a.edgeByte[lo] == b {
		return a.edgeNext[lo], true
	}
	return 0, false
}

func (a *acAutomaton) step(s int32, b byte) int32 {
	for {
		if n, ok := a.gotoEdge(s, b); ok {
			return n
		}
		if s == 0 {
			return 0
		}
		s = a.fail[s]
	}
}

// appendMatches appends to dst the index of every pattern occurring in text,
// once per occurrence, and returns the extended slice.
func (a *acAutomaton) appendMatches(dst []int32, text string) []int32 {
	if a == nil || len(a.pattern) <= 1 {
		return dst
	}
	s := int32(0)
	if a.delta != nil {
		nc := int32(a.nclasses)
		delta, classOf, rootStay := a.delta, &a.classOf, &a.rootStay
		off := int32(0)
		for i := 0; i < len(text); i++ {
			if off == 0 {
				// at the root, skip bytes that start no pattern
				for i < len(text) && rootStay[text[i]] {
					i++
				}
				if i == len(text) {
					break
				}
			}
			off = delta[off+int32(classOf[text[i]])]
			if off >= 0 {
				continue
			}
			off = ^off
			t := off / nc
			if a.pattern[t] < 0 {
				t = a.dict[t]
			}
			for t >= 0 {
				dst = append(dst, a.pattern[t])
				t = a.dict[t]
			}
		}
		return dst
	}
	for i := 0; i < len(text); i++ {
		s = a.step(s, text[i])
		t := s
		if a.pattern[t] < 0 {
			t = a.dict[t]
		}
		for t >= 0 {
			dst = append(dst, a.pattern[t])
			t = a.dict[t]
		}
	}
	return dst
}
