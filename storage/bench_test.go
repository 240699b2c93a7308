package storage

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// BenchmarkCommit measures the per-message storage cost of the sync engine:
// a dedup check-and-mark of a random 32-hex clientMsgID plus a watermark
// advance, on 50 conversations, against a database whose dedup window is
// already full (100 000 entries, so every message also evicts one). fsync is
// on in every variant.
//
//   - groupcommit: the real path (SeenOrMark + Advance), one producer;
//     the writer commits whenever its queue drains.
//   - groupcommit/producers=4: the same from 4 goroutines (a worker pool).
//   - groupcommit/paced_Nps: one producer offering N msgs/s, for the
//     durable-ack latency at a realistic rate (flood latency is the queue
//     depth that Options.MaxPending allows).
//   - txpermsg: the same writes in one bbolt transaction per message.
//
// Metrics: msgs/s (wall, until the last message is durable), the durable-ack
// latency p50/p99 (from the call to the fsync of the commit holding it) and
// msgs/commit. Run with e.g. -benchtime 3s; b.N is the message count.
func BenchmarkCommit(b *testing.B) {
	template := filepath.Join(b.TempDir(), "template.db")
	makeTemplate(b, template, DefaultDedupMax)
	b.Run("groupcommit", func(b *testing.B) { benchGroupCommit(b, template, 1, 0) })
	b.Run("groupcommit/producers=4", func(b *testing.B) { benchGroupCommit(b, template, 4, 0) })
	b.Run("groupcommit/paced_2000ps", func(b *testing.B) { benchGroupCommit(b, template, 1, 2000) })
	b.Run("groupcommit/paced_20000ps", func(b *testing.B) { benchGroupCommit(b, template, 1, 20000) })
	b.Run("txpermsg", func(b *testing.B) { benchTxPerMsg(b, template) })
}

const benchConvs = 50

// makeTemplate writes a database with a full dedup window.
func makeTemplate(b *testing.B, path string, n int) {
	db, err := Open(path, Options{NoSync: true, MaxBatch: 10_000})
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	for range n {
		db.SeenOrMark(randomID(rng))
	}
	for c := range benchConvs {
		db.Advance(fmt.Sprintf("sg_conversation_%02d", c), 1000)
	}
	if err := db.Close(); err != nil {
		b.Fatal(err)
	}
}

func randomID(rng *rand.Rand) string {
	var buf [16]byte
	binary.LittleEndian.PutUint64(buf[:8], rng.Uint64())
	binary.LittleEndian.PutUint64(buf[8:], rng.Uint64())
	return fmt.Sprintf("%x", buf)
}

// benchCopy opens a fresh fsync-on copy of the template.
func benchCopy(b *testing.B, template string) *DB {
	b.Helper()
	data, err := os.ReadFile(template)
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(b.TempDir(), "bench.db")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		b.Fatal(err)
	}
	db, err := Open(path, Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db
}

type benchMsg struct {
	conv string
	seq  int64
	id   string
}

func benchMessages(n int) []benchMsg {
	rng := rand.New(rand.NewPCG(2, uint64(n)))
	convs := make([]string, benchConvs)
	for c := range convs {
		convs[c] = fmt.Sprintf("sg_conversation_%02d", c)
	}
	msgs := make([]benchMsg, n)
	for i := range msgs {
		msgs[i] = benchMsg{convs[i%benchConvs], 1001 + int64(i/benchConvs), randomID(rng)}
	}
	return msgs
}

func reportLatencies(b *testing.B, lat []time.Duration, elapsed time.Duration, commits uint64) {
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Nanoseconds()) / 1e3
	}
	b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(pct(0.50), "p50-ack-µs")
	b.ReportMetric(pct(0.99), "p99-ack-µs")
	if commits > 0 {
		b.ReportMetric(float64(len(lat))/float64(commits), "msgs/commit")
	}
}

func benchGroupCommit(b *testing.B, template string, producers int, rate float64) {
	db := benchCopy(b, template)
	msgs := benchMessages(b.N)
	starts := make([]time.Time, b.N)
	acks := make([]Ack, b.N)
	commits0 := db.commits.Load()
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for p := range producers {
		wg.Go(func() {
			// Producer p owns the conversations c with c % producers == p,
			// as a worker pool sharded by conversation does.
			for i := range msgs {
				if (i%benchConvs)%producers != p {
					continue
				}
				m := &msgs[i]
				if rate > 0 {
					// Sleep only when more than 1ms ahead of schedule; catch
					// up back-to-back when behind.
					due := start.Add(time.Duration(float64(i) / rate * 1e9))
					if d := time.Until(due); d > time.Millisecond {
						time.Sleep(d)
					}
				}
				starts[i] = time.Now()
				if db.SeenOrMark(m.id) {
					b.Error("fresh clientMsgID reported as seen")
					return
				}
				acks[i] = db.Advance(m.conv, m.seq)
			}
		})
	}
	wg.Wait()
	if err := db.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	lat := make([]time.Duration, b.N)
	for i, a := range acks {
		if err := a.Wait(context.Background()); err != nil {
			b.Fatal(err)
		}
		lat[i] = a.b.doneAt.Sub(starts[i])
	}
	reportLatencies(b, lat, elapsed, db.commits.Load()-commits0)
}

// txPerMsg does what SeenOrMark + Advance do, but writes them in its own
// fsynced transaction.
func txPerMsg(db *DB, m *benchMsg) error {
	now := db.now().UnixNano()
	var evict [][]byte
	db.mu.Lock()
	if !db.seenLocked(m.id, now) {
		db.dedup.push(now, m.id)
		for db.dedup.len() > db.opts.DedupMax {
			e := db.dedup.pop()
			evict = append(evict, dedupKey(e.t, e.id))
		}
	}
	e := db.wm[m.conv]
	if e == nil {
		e = &wmEntry{}
		db.wm[m.conv] = e
	}
	e.seq = max(e.seq, m.seq)
	seq := e.seq
	db.mu.Unlock()
	return db.bolt.Update(func(tx *bolt.Tx) error {
		v := make([]byte, 8)
		binary.BigEndian.PutUint64(v, uint64(seq))
		if err := tx.Bucket([]byte(bucketWatermarks)).Put([]byte(m.conv), v); err != nil {
			return err
		}
		dbk := tx.Bucket([]byte(bucketDedup))
		if err := dbk.Put(dedupKey(now, m.id), nil); err != nil {
			return err
		}
		for _, k := range evict {
			if err := dbk.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
}

func benchTxPerMsg(b *testing.B, template string) {
	db := benchCopy(b, template)
	msgs := benchMessages(b.N)
	lat := make([]time.Duration, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := range msgs {
		t0 := time.Now()
		if err := txPerMsg(db, &msgs[i]); err != nil {
			b.Fatal(err)
		}
		lat[i] = time.Since(t0)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	reportLatencies(b, lat, elapsed, uint64(b.N))
}
