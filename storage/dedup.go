package storage

import "encoding/binary"

// dedupWindow is the in-memory dedup window: a FIFO of (time, clientMsgID) in
// insertion order, which is also the key order of the dedup bucket, plus an
// index from clientMsgID to the time of its newest entry. Pruning pops from
// the front, so each message costs O(1) amortised and never scans.
type dedupWindow struct {
	ids  map[string]int64
	fifo []dedupEntry
	head int
}

type dedupEntry struct {
	t  int64 // unix nanoseconds
	id string
}

func (w *dedupWindow) init() { w.ids = make(map[string]int64) }

func (w *dedupWindow) len() int { return len(w.fifo) - w.head }

func (w *dedupWindow) push(t int64, id string) {
	w.fifo = append(w.fifo, dedupEntry{t, id})
	w.ids[id] = t
}

func (w *dedupWindow) front() dedupEntry { return w.fifo[w.head] }

func (w *dedupWindow) pop() dedupEntry {
	e := w.fifo[w.head]
	w.fifo[w.head] = dedupEntry{}
	w.head++
	if t, ok := w.ids[e.id]; ok && t == e.t {
		delete(w.ids, e.id)
	}
	if w.head >= 1024 && w.head*2 >= len(w.fifo) {
		n := copy(w.fifo, w.fifo[w.head:])
		clear(w.fifo[n:])
		w.fifo = w.fifo[:n]
		w.head = 0
	}
	return e
}

// dedupKey is the dedup bucket key: bigendian(unix nanos) + clientMsgID, so
// inserts append and pruning deletes from the front.
func dedupKey(t int64, id string) []byte {
	k := make([]byte, 8+len(id))
	binary.BigEndian.PutUint64(k, uint64(t))
	copy(k[8:], id)
	return k
}

// seenLocked reports whether id is in the window and younger than the TTL.
func (db *DB) seenLocked(id string, now int64) bool {
	t, ok := db.dedup.ids[id]
	return ok && t >= now-int64(db.opts.DedupTTL)
}

// Seen reports whether clientMsgID is in the dedup window, without recording
// it. Served from memory; safe for concurrent use.
func (db *DB) Seen(clientMsgID string) bool {
	if clientMsgID == "" {
		return false
	}
	now := db.now().UnixNano()
	db.mu.Lock()
	defer db.mu.Unlock()
	return db.seenLocked(clientMsgID, now)
}

// SeenOrMark is the dedup check for messages without a seq: it reports true
// if clientMsgID is already in the window, and otherwise records it (at the
// current time), queues its persistence and returns false. The window keeps
// at most Options.DedupMax entries no older than Options.DedupTTL; each call
// prunes the oldest entries past either bound and queues their deletion.
//
// An empty clientMsgID is never recorded and reports false. On a read-only or
// closed DB it only checks. Served from memory; it does not wait for the
// disk and blocks only for backpressure (Options.MaxPending). Safe for
// concurrent use.
func (db *DB) SeenOrMark(clientMsgID string) (seen bool) {
	if clientMsgID == "" {
		return false
	}
	now := db.now().UnixNano()
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.seenLocked(clientMsgID, now) {
		return true
	}
	if db.opts.ReadOnly || len(clientMsgID)+8 > maxKeyLen {
		return false
	}
	db.waitRoomLocked()
	now = db.now().UnixNano()            // keep the window in time order after a wait
	if db.seenLocked(clientMsgID, now) { // marked by another caller meanwhile
		return true
	}
	if db.closing {
		return false
	}
	db.dedup.push(now, clientMsgID)
	db.enqueueLocked(op{kind: opDedupPut, key: dedupKey(now, clientMsgID)})
	cutoff := now - int64(db.opts.DedupTTL)
	for db.dedup.len() > db.opts.DedupMax || (db.dedup.len() > 0 && db.dedup.front().t < cutoff) {
		e := db.dedup.pop()
		db.enqueueLocked(op{kind: opDedupDel, key: dedupKey(e.t, e.id)})
	}
	return false
}
