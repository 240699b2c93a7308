package storage

import (
	"context"
	"encoding/binary"
	"fmt"
	"runtime/debug"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Ack is the durable acknowledgement of a write: it completes when the commit
// holding the write has been fsynced (or has failed). The zero Ack is already
// complete with no error. Safe for concurrent use.
type Ack struct{ b *batch }

// Done returns a channel closed when the write is durable or has failed.
func (a Ack) Done() <-chan struct{} {
	if a.b == nil {
		c := make(chan struct{})
		close(c)
		return c
	}
	return a.b.done
}

// Wait blocks until the write is durable and returns nil, or returns the
// commit error (matching ErrWrite, ErrClosed or ErrReadOnly), or ctx's error.
func (a Ack) Wait(ctx context.Context) error {
	if a.b == nil {
		return nil
	}
	select {
	case <-a.b.done:
		return a.b.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

type opKind uint8

const (
	opDedupPut opKind = iota
	opDedupDel
	opNSPut
	opNSDel
)

type op struct {
	kind opKind
	ns   string
	key  []byte
	val  []byte
}

// batch is one transaction's worth of writes. Watermark updates are coalesced
// per conversation; the other writes keep their order.
type batch struct {
	wm     map[string]int64
	ops    []op
	n      int  // writes counted against MaxBatch
	sealed bool // Flush waits on it: later writes go to a new batch
	waited bool // a namespace write's caller blocks on it: commit without pacing
	done   chan struct{}
	err    error
	doneAt time.Time // when done was closed (benchmarks)
}

func newBatch() *batch {
	return &batch{wm: make(map[string]int64), done: make(chan struct{})}
}

func doneAck(err error) Ack {
	b := &batch{done: make(chan struct{}), err: err}
	close(b.done)
	return Ack{b}
}

func (b *batch) finish(err error, at time.Time) {
	b.err = err
	b.doneAt = at
	b.wm, b.ops = nil, nil
	close(b.done)
}

// batchLocked returns the open batch that takes the next write, starting a
// new one when the last is taken, sealed or full. db.mu must be held.
func (db *DB) batchLocked() *batch {
	if n := len(db.queue); n > 0 {
		if b := db.queue[n-1]; !b.sealed && b.n < db.opts.MaxBatch {
			if b.n+1 >= db.opts.MaxBatch {
				db.hurryLocked() // the caller's write may fill it
			}
			return b
		}
	}
	b := newBatch()
	if len(db.queue) > 0 {
		// The last batch is full or sealed: no point in pacing.
		db.hurryLocked()
	}
	db.queue = append(db.queue, b)
	select {
	case db.wake <- struct{}{}:
	default:
	}
	return b
}

// hurryLocked ends the writer's pacing wait (see Options.CommitDelay).
func (db *DB) hurryLocked() {
	select {
	case db.urgent <- struct{}{}:
	default:
	}
}

// hurriedLocked reports whether the next commit should start without
// pacing: a Flush or a namespace write waits, a batch is full, writers wait
// for room, or the DB is closing. db.mu must be held.
func (db *DB) hurriedLocked() bool {
	if db.closing || len(db.queue) > 1 {
		return true
	}
	if len(db.queue) == 1 {
		if b := db.queue[0]; b.sealed || b.waited || b.n >= db.opts.MaxBatch {
			return true
		}
	}
	return db.opts.MaxPending > 0 && db.queued >= db.opts.MaxPending
}

// paceLocked waits until CommitDelay has passed since last, unless hurried. db.mu
// is held on entry and on return; it is released while waiting.
func (db *DB) paceLocked(last time.Time, t *time.Timer) {
	d := db.opts.CommitDelay
	if d <= 0 || last.IsZero() {
		return
	}
	select { // a stale signal from before this check
	case <-db.urgent:
	default:
	}
	wait := d - time.Since(last)
	if wait <= 0 || db.hurriedLocked() {
		return
	}
	db.mu.Unlock()
	t.Reset(wait)
	select {
	case <-t.C:
	case <-db.urgent:
		t.Stop()
	case <-db.stop:
		t.Stop()
	}
	db.mu.Lock()
}

func (db *DB) enqueueLocked(o op) *batch {
	b := db.batchLocked()
	b.ops = append(b.ops, o)
	b.n++
	db.queued++
	return b
}

// waitRoomLocked blocks while more than MaxPending writes are queued (see
// Options.MaxPending). db.mu must be held; it is released while waiting, so
// callers re-check their state afterwards.
func (db *DB) waitRoomLocked() {
	for db.opts.MaxPending > 0 && db.queued >= db.opts.MaxPending && !db.closing {
		db.hurryLocked()
		db.room.Wait()
	}
}

// run is the writer goroutine: group commit, one batch per transaction.
func (db *DB) run() {
	debug.SetPanicOnFault(true)
	defer close(db.writerDone)
	backoff := 50 * time.Millisecond
	var lastCommit time.Time // end of the last successful commit, for pacing
	pacer := time.NewTimer(time.Hour)
	pacer.Stop()
	for {
		db.mu.Lock()
		for len(db.queue) == 0 && !db.closing {
			db.mu.Unlock()
			<-db.wake
			db.mu.Lock()
		}
		if len(db.queue) > 0 {
			db.paceLocked(lastCommit, pacer)
		}
		if len(db.queue) == 0 {
			db.mu.Unlock()
			return
		}
		b := db.queue[0]
		db.queue[0] = nil
		db.queue = db.queue[1:]
		db.queued -= b.n
		db.room.Broadcast()
		db.inflight = b
		closing := db.closing
		db.mu.Unlock()

		if db.hooks.beforeCommit != nil {
			db.hooks.beforeCommit()
		}
		t0 := time.Now()
		err := db.commit(b)
		if db.opts.OnCommit != nil {
			db.opts.OnCommit(time.Since(t0), b.n, err)
		}

		db.mu.Lock()
		db.inflight = nil
		if err != nil {
			db.log.Error("storage: commit failed", "writes", b.n, "err", err, "retry", !closing)
			if closing {
				if db.closeErr == nil {
					db.closeErr = err
				}
			} else {
				db.requeueLocked(b)
			}
		} else {
			db.commits.Add(1)
		}
		db.mu.Unlock()
		now := time.Now()
		b.finish(err, now)

		if err == nil {
			backoff = 50 * time.Millisecond
			lastCommit = now
			continue
		}
		if !closing {
			t := time.NewTimer(backoff)
			select {
			case <-t.C:
			case <-db.stop:
				t.Stop()
			}
			backoff = min(2*backoff, 5*time.Second)
		}
	}
}

// requeueLocked puts the watermark and dedup writes of a failed batch back at
// the head of the queue so that they are retried before any later write.
// Namespace writes are not retried: their callers got the error.
func (db *DB) requeueLocked(failed *batch) {
	var r *batch
	if len(db.queue) > 0 {
		r = db.queue[0]
	} else {
		r = newBatch()
		db.queue = append(db.queue, r)
	}
	var keep []op
	for _, o := range failed.ops {
		if o.kind == opDedupPut || o.kind == opDedupDel {
			keep = append(keep, o)
		}
	}
	r.ops = append(keep, r.ops...)
	r.n += len(keep)
	db.queued += len(keep)
	for conv, seq := range failed.wm {
		if cur, ok := r.wm[conv]; !ok || seq > cur {
			if !ok {
				r.n++
				db.queued++
			}
			r.wm[conv] = seq
		}
		if e := db.wm[conv]; e != nil && e.b == failed {
			e.b = r
		}
	}
}

// commit writes one batch in one transaction; bbolt fsyncs on commit unless
// Options.NoSync.
func (db *DB) commit(b *batch) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: panic in bbolt: %v", ErrCorrupt, r)
		}
		if err != nil {
			err = fmt.Errorf("%w: %s: %w", ErrWrite, db.path, err)
		}
	}()
	return db.bolt.Update(func(tx *bolt.Tx) error {
		if len(b.wm) > 0 {
			wb := tx.Bucket([]byte(bucketWatermarks))
			convs := make([]string, 0, len(b.wm))
			for c := range b.wm {
				convs = append(convs, c)
			}
			slices.Sort(convs) // sorted inserts keep bbolt's node splits cheap
			// bbolt keeps the key and value slices until the commit: one
			// buffer per value.
			vals := make([]byte, 8*len(convs))
			for i, c := range convs {
				v := vals[8*i : 8*i+8 : 8*i+8]
				binary.BigEndian.PutUint64(v, uint64(b.wm[c]))
				if err := wb.Put([]byte(c), v); err != nil {
					return fmt.Errorf("watermark of %q: %w", c, err)
				}
			}
		}
		dbk := tx.Bucket([]byte(bucketDedup))
		nsb := tx.Bucket([]byte(bucketNS))
		for _, o := range b.ops {
			var err error
			switch o.kind {
			case opDedupPut:
				err = dbk.Put(o.key, nil)
			case opDedupDel:
				err = dbk.Delete(o.key)
			case opNSPut:
				var bk *bolt.Bucket
				if bk, err = nsb.CreateBucketIfNotExists([]byte(o.ns)); err == nil {
					err = bk.Put(o.key, o.val)
				}
			case opNSDel:
				if bk := nsb.Bucket([]byte(o.ns)); bk != nil {
					err = bk.Delete(o.key)
				}
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// Watermark returns the highest seq recorded for the conversation, from
// memory; ok is false if none was ever recorded. Safe for concurrent use;
// never blocks on the disk.
func (db *DB) Watermark(conversationID string) (seq int64, ok bool) {
	db.mu.Lock()
	defer db.mu.Unlock()
	if e := db.wm[conversationID]; e != nil {
		return e.seq, true
	}
	return 0, false
}

// Watermarks returns a copy of all watermarks. Safe for concurrent use.
func (db *DB) Watermarks() map[string]int64 {
	db.mu.Lock()
	defer db.mu.Unlock()
	m := make(map[string]int64, len(db.wm))
	for c, e := range db.wm {
		m[c] = e.seq
	}
	return m
}

// Rewind sets the conversation's watermark to seq, lower than the current
// one or not: for a server whose seqs went back (a reset, a restored
// backup). Like Advance, memory is updated at once, the write is persisted
// by the group-commit writer, and the Ack completes when it is durable;
// an Advance made after Rewind returns raises the watermark from seq.
// Errors as for Advance. Safe for concurrent use.
func (db *DB) Rewind(conversationID string, seq int64) Ack {
	if err := db.checkWatermark(conversationID, seq); err != nil {
		return doneAck(err)
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	db.waitRoomLocked()
	if db.closing {
		return doneAck(ErrClosed)
	}
	return db.queueWatermarkLocked(conversationID, seq, db.wm[conversationID])
}

// Advance raises the conversation's watermark to seq if seq is higher; it
// never lowers it. Memory is updated before Advance returns (Watermark sees
// it at once); the write is persisted by the group-commit writer and the
// returned Ack completes when it is durable. When seq does not raise the
// watermark, the Ack completes when the current watermark is durable.
//
// An empty conversationID or a negative seq returns an Ack failing with
// ErrInvalidKey; a closed or read-only DB, one failing with ErrClosed or
// ErrReadOnly. Advance does not wait for the disk; it blocks only for
// backpressure, while more than Options.MaxPending writes are queued. Safe
// for concurrent use.
func (db *DB) Advance(conversationID string, seq int64) Ack {
	if err := db.checkWatermark(conversationID, seq); err != nil {
		return doneAck(err)
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	if e := db.wm[conversationID]; e == nil || seq > e.seq {
		db.waitRoomLocked()
	}
	if db.closing {
		return doneAck(ErrClosed)
	}
	e := db.wm[conversationID]
	if e != nil && seq <= e.seq {
		return Ack{e.b}
	}
	return db.queueWatermarkLocked(conversationID, seq, e)
}

// checkWatermark returns the error a watermark write of seq for
// conversationID fails with before it is queued: ErrInvalidKey for an
// empty, too long or negative argument, ErrReadOnly on a read-only DB.
func (db *DB) checkWatermark(conversationID string, seq int64) error {
	if conversationID == "" || seq < 0 || len(conversationID) > bolt.MaxKeySize {
		return fmt.Errorf("%w: watermark for conversation %q seq %d", ErrInvalidKey, conversationID, seq)
	}
	if db.opts.ReadOnly {
		return ErrReadOnly
	}
	return nil
}

// queueWatermarkLocked sets the conversation's watermark in memory (e is
// its entry, nil when it has none) to seq and queues the write in the
// current batch, whose Ack it returns. db.mu is held.
func (db *DB) queueWatermarkLocked(conversationID string, seq int64, e *wmEntry) Ack {
	if e == nil {
		e = &wmEntry{}
		db.wm[conversationID] = e
	}
	e.seq = seq
	b := db.batchLocked()
	if _, ok := b.wm[conversationID]; !ok {
		b.n++
		db.queued++
	}
	b.wm[conversationID] = seq
	e.b = b
	return Ack{b}
}
