package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
)

// bbolt on-disk constants (go.etcd.io/bbolt/internal/common), checked here
// before bbolt maps the file so that a damaged file is reported as ErrCorrupt
// instead of faulting inside bbolt.
const (
	boltMagic        = 0xED0CDAED
	boltVersion      = 2
	boltPageHeader   = 16 // id uint64, flags uint16, count uint16, overflow uint32
	boltMetaFlag     = 0x04
	boltMetaSize     = 64 // magic, version, pageSize, flags, root{pgid, seq}, freelist, pgid, txid, checksum
	boltChecksumOff  = 56
	boltNoFreelist   = ^uint64(0)
	minPageSize      = 512
	maxPageSize      = 1 << 20
	defaultPageGuess = 4096
)

type boltMeta struct {
	pageSize uint32
	root     uint64
	freelist uint64
	pgid     uint64
	txid     uint64
}

// checkHeader validates the two bbolt meta pages of an existing, non-empty
// file and that the file is long enough for the pages they reference. It
// returns (false, nil) when the file does not exist or is empty (bbolt will
// initialise it), and an error wrapping ErrCorrupt when the header is bad.
func checkHeader(path string) (exists bool, err error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return false, nil
		}
		return false, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return false, err
	}
	if !st.Mode().IsRegular() {
		return true, fmt.Errorf("%w: not a regular file", ErrCorrupt)
	}
	size := st.Size()
	if size == 0 {
		return false, nil
	}
	m0, err0 := readMeta(f, 0)
	var m1 boltMeta
	var err1 error
	if err0 == nil {
		m1, err1 = readMeta(f, int64(m0.pageSize))
	} else {
		m1, err1 = readMeta(f, defaultPageGuess)
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
		return true, fmt.Errorf("%w: not a bbolt database (%v)", ErrCorrupt, err0)
	}
	ps := int64(m.pageSize)
	if m.pgid < 4 || m.root >= m.pgid || (m.freelist != boltNoFreelist && m.freelist >= m.pgid) {
		return true, fmt.Errorf("%w: inconsistent meta page (root %d, freelist %d, high water mark %d)", ErrCorrupt, m.root, m.freelist, m.pgid)
	}
	if m.pgid > uint64(size/ps) {
		return true, fmt.Errorf("%w: file is truncated (%d bytes, meta page expects at least %d)", ErrCorrupt, size, m.pgid*uint64(ps))
	}
	return true, nil
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
	if le.Uint16(buf[8:10])&boltMetaFlag == 0 {
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
