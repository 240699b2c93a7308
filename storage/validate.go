package storage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
)

// bbolt on-disk format (go.etcd.io/bbolt/internal/common). Open checks a file
// against it before bbolt maps the file: bbolt panics on damaged pages, in
// some cases on a goroutine of its own where no recover can catch it, so a
// damaged file must never reach it.
const (
	boltMagic       = 0xED0CDAED
	boltVersion     = 2
	boltPageHeader  = 16 // id uint64, flags uint16, count uint16, overflow uint32
	boltElemSize    = 16 // branch: pos, ksize uint32, pgid uint64; leaf: flags, pos, ksize, vsize uint32
	boltBucketHdr   = 16 // root pgid uint64, sequence uint64
	boltBranchFlag  = 0x01
	boltLeafFlag    = 0x02
	boltMetaFlag    = 0x04
	boltFreeFlag    = 0x10
	boltBucketLeaf  = 0x01
	boltMetaSize    = 64 // magic, version, pageSize, flags, root{pgid, seq}, freelist, pgid, txid, checksum
	boltChecksumOff = 56
	boltNoFreelist  = ^uint64(0)
	minPageSize     = 512
	maxPageSize     = 1 << 20
	maxTreeDepth    = 64
)

type boltMeta struct {
	pageSize uint32
	root     uint64
	freelist uint64
	pgid     uint64 // high water mark: pages [0, pgid) exist
	txid     uint64
}

// validateFile checks the bbolt file behind f, which the caller has locked:
// both meta pages, then every page reachable from the newest valid meta
// (bounds, page ids and types, element bounds, key order, no page reachable
// twice, nested and inline buckets) and the freelist page if there is one.
// An empty file is valid (bbolt initialises it). Every failure wraps
// ErrCorrupt.
func validateFile(f *os.File) error {
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%w: not a regular file", ErrCorrupt)
	}
	size := st.Size()
	if size == 0 {
		return nil
	}
	m0, err0 := readMeta(f, 0)
	var m1 boltMeta
	var err1 error
	if err0 == nil {
		m1, err1 = readMeta(f, int64(m0.pageSize))
	} else {
		m1, err1 = readMeta(f, int64(os.Getpagesize()))
	}
	var m boltMeta
	switch {
	case err0 == nil && err1 == nil:
		m = m0
		if m1.txid > m0.txid {
			m = m1
		}
	case err0 == nil:
		m = m0
	case err1 == nil:
		m = m1
	default:
		return fmt.Errorf("%w: not a bbolt database (%v)", ErrCorrupt, err0)
	}
	ps := int64(m.pageSize)
	if m.pgid < 3 || m.pgid > uint64(size/ps) {
		return fmt.Errorf("%w: file is truncated (%d bytes, meta page expects %d pages of %d bytes)", ErrCorrupt, size, m.pgid, ps)
	}
	v := &validator{f: f, ps: ps, hwm: m.pgid, reachable: make(map[uint64]bool)}
	if err := v.bucket(m.root, 0); err != nil {
		return fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	if m.freelist != boltNoFreelist {
		if err := v.freelist(m.freelist); err != nil {
			return fmt.Errorf("%w: %v", ErrCorrupt, err)
		}
	}
	return nil
}

func readMeta(f *os.File, off int64) (boltMeta, error) {
	var buf [boltPageHeader + boltMetaSize]byte
	if _, err := f.ReadAt(buf[:], off); err != nil {
		if errors.Is(err, io.EOF) {
			return boltMeta{}, errors.New("file too short for a meta page")
		}
		return boltMeta{}, err
	}
	le := binary.NativeEndian
	if le.Uint16(buf[8:10]) != boltMetaFlag {
		return boltMeta{}, errors.New("no meta page")
	}
	meta := buf[boltPageHeader:]
	if le.Uint32(meta[0:4]) != boltMagic {
		return boltMeta{}, errors.New("bad magic number")
	}
	if v := le.Uint32(meta[4:8]); v != boltVersion {
		return boltMeta{}, fmt.Errorf("bbolt format version %d", v)
	}
	h := fnv.New64a()
	h.Write(meta[:boltChecksumOff])
	if h.Sum64() != le.Uint64(meta[boltChecksumOff:boltChecksumOff+8]) {
		return boltMeta{}, errors.New("meta page checksum mismatch")
	}
	m := boltMeta{
		pageSize: le.Uint32(meta[8:12]),
		root:     le.Uint64(meta[16:24]),
		freelist: le.Uint64(meta[32:40]),
		pgid:     le.Uint64(meta[40:48]),
		txid:     le.Uint64(meta[48:56]),
	}
	if m.pageSize < minPageSize || m.pageSize > maxPageSize || m.pageSize&(m.pageSize-1) != 0 {
		return boltMeta{}, fmt.Errorf("bad page size %d", m.pageSize)
	}
	return m, nil
}

type validator struct {
	f         *os.File
	ps        int64
	hwm       uint64
	reachable map[uint64]bool
}

// page reads page id with its overflow pages, checking its header.
func (v *validator) page(id uint64, wantFlags ...uint16) ([]byte, error) {
	if id < 2 || id >= v.hwm {
		return nil, fmt.Errorf("page %d out of bounds (high water mark %d)", id, v.hwm)
	}
	var hdr [boltPageHeader]byte
	if _, err := v.f.ReadAt(hdr[:], int64(id)*v.ps); err != nil {
		return nil, fmt.Errorf("page %d: %v", id, err)
	}
	le := binary.NativeEndian
	if got := le.Uint64(hdr[0:8]); got != id {
		return nil, fmt.Errorf("page %d identifies as %d", id, got)
	}
	flags := le.Uint16(hdr[8:10])
	ok := false
	for _, w := range wantFlags {
		ok = ok || flags == w
	}
	if !ok {
		return nil, fmt.Errorf("page %d has unexpected flags %#x", id, flags)
	}
	overflow := uint64(le.Uint32(hdr[12:16]))
	if id+overflow >= v.hwm {
		return nil, fmt.Errorf("page %d overflows past the high water mark", id)
	}
	for i := id; i <= id+overflow; i++ {
		if v.reachable[i] {
			return nil, fmt.Errorf("page %d referenced twice", i)
		}
		v.reachable[i] = true
	}
	buf := make([]byte, int64(overflow+1)*v.ps)
	if _, err := v.f.ReadAt(buf, int64(id)*v.ps); err != nil {
		return nil, fmt.Errorf("page %d: %v", id, err)
	}
	return buf, nil
}

// elem is one decoded branch or leaf element.
type elem struct {
	flags uint32
	key   []byte
	val   []byte
	pgid  uint64
}

// elems decodes the elements of a branch or leaf page held in p (a page
// read from the file, or an inline bucket's page), checking their bounds.
func elems(p []byte, branch bool) ([]elem, error) {
	if len(p) < boltPageHeader {
		return nil, errors.New("page shorter than its header")
	}
	le := binary.NativeEndian
	n := int(le.Uint16(p[10:12]))
	if boltPageHeader+n*boltElemSize > len(p) {
		return nil, fmt.Errorf("%d elements do not fit in the page", n)
	}
	out := make([]elem, n)
	for i := range n {
		off := boltPageHeader + i*boltElemSize
		e := p[off : off+boltElemSize]
		var pos, ksize, vsize uint64
		if branch {
			pos, ksize = uint64(le.Uint32(e[0:4])), uint64(le.Uint32(e[4:8]))
			out[i].pgid = le.Uint64(e[8:16])
		} else {
			out[i].flags = le.Uint32(e[0:4])
			pos, ksize, vsize = uint64(le.Uint32(e[4:8])), uint64(le.Uint32(e[8:12])), uint64(le.Uint32(e[12:16]))
		}
		start := uint64(off) + pos
		if start+ksize+vsize > uint64(len(p)) {
			return nil, fmt.Errorf("element %d runs past the page", i)
		}
		out[i].key = p[start : start+ksize]
		out[i].val = p[start+ksize : start+ksize+vsize]
	}
	return out, nil
}

// bucket checks the tree of a bucket whose root page is root.
func (v *validator) bucket(root uint64, depth int) error {
	if depth > maxTreeDepth {
		return errors.New("buckets nested too deep")
	}
	_, err := v.tree(root, nil, nil, depth)
	return err
}

// tree checks the subtree at page id, whose keys must be >= min and < max
// (nil: unbounded), the way bbolt's own consistency check does; it returns
// the largest key in the subtree.
func (v *validator) tree(id uint64, min, max []byte, depth int) ([]byte, error) {
	if depth > maxTreeDepth {
		return nil, errors.New("tree too deep")
	}
	p, err := v.page(id, boltBranchFlag, boltLeafFlag)
	if err != nil {
		return nil, err
	}
	branch := binary.NativeEndian.Uint16(p[8:10]) == boltBranchFlag
	es, err := elems(p, branch)
	if err != nil {
		return nil, fmt.Errorf("page %d: %v", id, err)
	}
	if branch && len(es) == 0 {
		return nil, fmt.Errorf("page %d: empty branch page", id)
	}
	running := min
	var last []byte
	for i, e := range es {
		if err := checkOrder(i, e.key, running, max); err != nil {
			return nil, fmt.Errorf("page %d: %v", id, err)
		}
		if branch {
			next := max
			if i < len(es)-1 {
				next = es[i+1].key
			}
			last, err = v.tree(e.pgid, e.key, next, depth+1)
			if err != nil {
				return nil, err
			}
			running = last
			continue
		}
		running, last = e.key, e.key
		if e.flags&boltBucketLeaf != 0 {
			if err := v.bucketValue(e.val, depth+1); err != nil {
				return nil, fmt.Errorf("bucket %q: %v", e.key, err)
			}
		}
	}
	return bytes.Clone(last), nil
}

func checkOrder(i int, key, prev, max []byte) error {
	if i == 0 && prev != nil && bytes.Compare(prev, key) > 0 {
		return fmt.Errorf("key %d sorts before its parent's key", i)
	}
	if i > 0 && bytes.Compare(prev, key) >= 0 {
		return fmt.Errorf("key %d out of order", i)
	}
	if max != nil && bytes.Compare(key, max) >= 0 {
		return fmt.Errorf("key %d not below the next parent key", i)
	}
	return nil
}

// bucketValue checks a bucket entry's value: a header, then either a root
// page id or an inline page.
func (v *validator) bucketValue(val []byte, depth int) error {
	if len(val) < boltBucketHdr {
		return errors.New("bucket header too short")
	}
	if root := binary.NativeEndian.Uint64(val[0:8]); root != 0 {
		return v.bucket(root, depth)
	}
	if depth > maxTreeDepth {
		return errors.New("buckets nested too deep")
	}
	inline := val[boltBucketHdr:]
	if len(inline) < boltPageHeader || binary.NativeEndian.Uint16(inline[8:10]) != boltLeafFlag {
		return errors.New("bad inline bucket page")
	}
	es, err := elems(inline, false)
	if err != nil {
		return fmt.Errorf("inline bucket: %v", err)
	}
	for i, e := range es {
		var prev []byte
		if i > 0 {
			prev = es[i-1].key
		}
		if err := checkOrder(i, e.key, prev, nil); err != nil {
			return fmt.Errorf("inline bucket: %v", err)
		}
		if e.flags&boltBucketLeaf != 0 {
			if err := v.bucketValue(e.val, depth+1); err != nil {
				return fmt.Errorf("bucket %q: %v", e.key, err)
			}
		}
	}
	return nil
}

// freelist checks a synced freelist page: ids within bounds and not in use.
func (v *validator) freelist(id uint64) error {
	p, err := v.page(id, boltFreeFlag)
	if err != nil {
		return fmt.Errorf("freelist: %v", err)
	}
	le := binary.NativeEndian
	data := p[boltPageHeader:]
	n := uint64(le.Uint16(p[10:12]))
	if n == 0xFFFF {
		if len(data) < 8 {
			return errors.New("freelist: short page")
		}
		n, data = le.Uint64(data[0:8]), data[8:]
	}
	if n > uint64(len(data)/8) {
		return fmt.Errorf("freelist: %d ids do not fit in the page", n)
	}
	for i := range n {
		fid := le.Uint64(data[8*i:])
		if fid < 2 || fid >= v.hwm || v.reachable[fid] {
			return fmt.Errorf("freelist: page %d cannot be free", fid)
		}
	}
	return nil
}
