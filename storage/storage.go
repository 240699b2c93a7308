package storage

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// SchemaVersion is the version of the on-disk layout written by this package.
const SchemaVersion = 1

// Defaults of Options.
const (
	DefaultLockTimeout = time.Second
	DefaultDedupMax    = 100_000
	DefaultDedupTTL    = 24 * time.Hour
	DefaultMaxBatch    = 1000
	// DefaultMaxPending is the default of Options.MaxPending, as a multiple
	// of MaxBatch.
	DefaultMaxPending = 4
	// DefaultCommitDelay is the default of Options.CommitDelay.
	DefaultCommitDelay = time.Millisecond
)

// Bucket layout. Every top-level bucket belongs to this package; plugins only
// see nested buckets of bucketNS through Namespace.
const (
	bucketMeta       = "openimbot.meta"
	bucketWatermarks = "watermarks" // conversationID -> bigendian(int64 seq)
	bucketDedup      = "dedup"      // bigendian(unix nanos) + clientMsgID -> empty
	bucketNS         = "ns"         // namespace name -> nested bucket of the plugin's keys
	keySchema        = "schema"
	keyVersion       = "version"
	schemaName       = "openimbot.storage"
)

// Options configures Open. The zero value is usable: every field documents its
// default.
type Options struct {
	// LockTimeout is how long Open waits for the file lock held by another
	// process before failing with ErrLocked. Zero or negative means the
	// default, 1s.
	LockTimeout time.Duration
	// DedupMax bounds the dedup window by count: when it is full, the oldest
	// entry is dropped for each new one. Zero or negative means the default,
	// 100 000.
	DedupMax int
	// DedupTTL bounds the dedup window by age: entries older than this are
	// dropped. Zero or negative means the default, 24h.
	DedupTTL time.Duration
	// MaxBatch caps the writes (watermark updates, dedup insertions and
	// deletions, namespace writes) in one transaction. Repeated watermark
	// updates of one conversation inside a batch count once. Zero or
	// negative means the default, 1000.
	MaxBatch int
	// MaxPending bounds the writes queued behind the writer: when the disk
	// cannot keep up and more than MaxPending writes wait, Advance,
	// SeenOrMark and namespace writes block until the writer takes the next
	// batch (backpressure, so memory and the durable-ack latency stay
	// bounded). Zero means the default, 4×MaxBatch; negative means no bound.
	MaxPending int
	// MaxSize caps the database file size in bytes; a commit that would grow
	// the file beyond it fails with an error matching ErrWrite. Zero means no
	// limit.
	MaxSize int64
	// ReadOnly opens the file read-only under a shared lock, for inspection
	// tools. It still fails with ErrLocked while a read-write handle (a
	// running bot) holds the file. Writes fail with ErrReadOnly.
	ReadOnly bool
	// NoSync skips fsync on commit. For tests only: a crash can lose or
	// damage the data.
	NoSync bool
	// Logger receives write failures and open-time pruning. Nil discards.
	Logger *slog.Logger
	// CommitDelay paces group commit: after a commit, the writer waits until
	// CommitDelay has passed before starting the next one, so writes arriving
	// meanwhile share one fsync instead of each paying for their own. The
	// wait is cut short by Flush, Close, a namespace write (its caller
	// blocks until the commit), a full batch (MaxBatch) and backpressure
	// (MaxPending); a write arriving after an idle spell is committed at
	// once. It adds at most CommitDelay to the durable-ack latency of
	// Advance and SeenOrMark. Zero means the default, 1ms; negative disables
	// pacing.
	CommitDelay time.Duration
	// OnCommit, if set, is called by the writer goroutine after every
	// commit attempt with how long the transaction (and its fsync) took,
	// the writes it carried and its error. It must return quickly: the
	// next commit waits for it. Default: none.
	OnCommit func(d time.Duration, writes int, err error)
}

func (o Options) normalized() Options {
	if o.LockTimeout <= 0 {
		o.LockTimeout = DefaultLockTimeout
	}
	if o.DedupMax <= 0 {
		o.DedupMax = DefaultDedupMax
	}
	if o.DedupTTL <= 0 {
		o.DedupTTL = DefaultDedupTTL
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = DefaultMaxBatch
	}
	if o.MaxPending == 0 {
		o.MaxPending = DefaultMaxPending * o.MaxBatch
	}
	if o.MaxSize < 0 {
		o.MaxSize = 0
	}
	if o.CommitDelay == 0 {
		o.CommitDelay = DefaultCommitDelay
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// DB is an open bot database. It is safe for concurrent use; see the package
// documentation for the durability contract of each method.
type DB struct {
	path  string
	opts  Options
	log   *slog.Logger
	bolt  *bolt.DB
	now   func() time.Time
	hooks hooks
	nsb   atomic.Pointer[nsBackendBox] // plugin namespaces stored elsewhere (backend.go)

	mu       sync.Mutex
	wm       map[string]*wmEntry
	dedup    dedupWindow
	queue    []*batch   // batches not yet taken by the writer; the last one may be open
	inflight *batch     // the batch being committed
	queued   int        // writes in queue (counted as in batch.n)
	room     *sync.Cond // signalled when the writer takes a batch or on Close
	closing  bool
	closeErr error // commit failures while closing

	wake       chan struct{} // cap 1: work queued or closing
	urgent     chan struct{} // cap 1: end the commit pacing wait (Flush, full batch, backpressure)
	stop       chan struct{} // closed by Close
	writerDone chan struct{}
	commits    atomic.Uint64
	closeOnce  sync.Once
	closeRet   error
}

type wmEntry struct {
	seq int64
	b   *batch // the batch that persists seq (maybe already done)
}

// Open opens or creates the database file at path. See Options for defaults.
//
// A file locked by another process (or handle) fails after opts.LockTimeout
// with a *FileError matching ErrLocked; a damaged, foreign or non-bbolt file
// fails with a *FileError matching ErrCorrupt; a file from a newer schema
// fails with ErrUnsupportedVersion. Open never panics on a bad file.
//
// Open loads all watermarks and the dedup window into memory, dropping dedup
// entries past DedupMax or DedupTTL, and starts the writer goroutine, which
// Close stops.
func Open(path string, opts Options) (*DB, error) {
	return open(path, opts, hooks{})
}

// hooks are test seams; the zero value is production behaviour.
type hooks struct {
	now          func() time.Time // clock of the dedup window; nil means time.Now
	beforeCommit func()           // called by the writer before each commit
}

func open(path string, opts Options, h hooks) (*DB, error) {
	if h.now == nil {
		h.now = time.Now
	}
	opts = opts.normalized()
	if path == "" {
		return nil, &FileError{Path: path, Op: "open", Err: errors.New("empty path")}
	}
	flag := os.O_RDWR | os.O_CREATE
	if opts.ReadOnly {
		flag = os.O_RDONLY
	}
	f, err := os.OpenFile(path, flag, 0o600)
	if err != nil {
		return nil, &FileError{Path: path, Op: "open", Err: err}
	}
	if err := lockFile(f, opts.ReadOnly, opts.LockTimeout); err != nil {
		f.Close()
		if errors.Is(err, ErrLocked) {
			err = fmt.Errorf("%w (gave up after %v)", ErrLocked, opts.LockTimeout)
		}
		return nil, &FileError{Path: path, Op: "open", Err: err}
	}
	if err := protect(func() error { return validateFile(f) }); err != nil {
		f.Close()
		return nil, &FileError{Path: path, Op: "open", Err: err}
	}
	if st, err := f.Stat(); opts.ReadOnly && err == nil && st.Size() == 0 {
		// bbolt would try to write the first pages into a read-only handle.
		f.Close()
		return nil, &FileError{Path: path, Op: "open", Err: fmt.Errorf("%w: the file is empty", ErrCorrupt)}
	}
	bopts := &bolt.Options{
		Timeout:        opts.LockTimeout,
		NoFreelistSync: true,
		FreelistType:   bolt.FreelistMapType,
		ReadOnly:       opts.ReadOnly,
		NoSync:         opts.NoSync,
		MaxSize:        int(opts.MaxSize),
		// bbolt gets the file that is already locked and validated.
		OpenFile: func(string, int, os.FileMode) (*os.File, error) { return f, nil },
	}
	var bdb *bolt.DB
	err = protect(func() error {
		var err error
		bdb, err = bolt.Open(path, 0o600, bopts)
		return err
	})
	if err != nil {
		f.Close() // bbolt closes it on error, but not if it panicked
		switch {
		case errors.Is(err, berrors.ErrTimeout):
			err = fmt.Errorf("%w (gave up after %v)", ErrLocked, opts.LockTimeout)
		case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrChecksum),
			errors.Is(err, berrors.ErrVersionMismatch), errors.Is(err, berrors.ErrInvalidMapping):
			err = fmt.Errorf("%w: %v", ErrCorrupt, err)
		}
		return nil, &FileError{Path: path, Op: "open", Err: err}
	}
	db := &DB{
		path:       path,
		opts:       opts,
		log:        opts.Logger.With("db", path),
		bolt:       bdb,
		now:        h.now,
		hooks:      h,
		wm:         make(map[string]*wmEntry),
		wake:       make(chan struct{}, 1),
		urgent:     make(chan struct{}, 1),
		stop:       make(chan struct{}),
		writerDone: make(chan struct{}),
	}
	db.dedup.init()
	db.room = sync.NewCond(&db.mu)
	if err := protect(db.load); err != nil {
		bdb.Close()
		return nil, &FileError{Path: path, Op: "load", Err: err}
	}
	if opts.ReadOnly {
		close(db.writerDone)
	} else {
		go db.run()
	}
	return db, nil
}

// protect runs fn with faults on mapped memory turned into panics and turns
// any panic (bbolt panics on some damaged pages) into an ErrCorrupt error.
func protect(fn func() error) (err error) {
	old := debug.SetPanicOnFault(true)
	defer debug.SetPanicOnFault(old)
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v", ErrCorrupt, r)
		}
	}()
	return fn()
}

// load checks or creates the schema marker and loads watermarks and the
// dedup window.
func (db *DB) load() error {
	if db.opts.ReadOnly {
		return db.bolt.View(func(tx *bolt.Tx) error {
			if err := checkSchema(tx); err != nil {
				return err
			}
			return db.loadTx(tx, false)
		})
	}
	return db.bolt.Update(func(tx *bolt.Tx) error {
		if err := checkSchema(tx); err != nil {
			return err
		}
		if tx.Bucket([]byte(bucketMeta)) == nil {
			mb, err := tx.CreateBucket([]byte(bucketMeta))
			if err != nil {
				return err
			}
			var v [4]byte
			binary.BigEndian.PutUint32(v[:], SchemaVersion)
			if err := mb.Put([]byte(keySchema), []byte(schemaName)); err != nil {
				return err
			}
			if err := mb.Put([]byte(keyVersion), v[:]); err != nil {
				return err
			}
		}
		for _, name := range [][]byte{[]byte(bucketWatermarks), []byte(bucketDedup), []byte(bucketNS)} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return db.loadTx(tx, true)
	})
}

// checkSchema accepts a database with this package's marker, or an empty
// bbolt database (no buckets: a file bbolt initialised before the marker was
// written).
func checkSchema(tx *bolt.Tx) error {
	mb := tx.Bucket([]byte(bucketMeta))
	if mb == nil {
		empty := true
		if err := tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
			empty = false
			return nil
		}); err != nil {
			return err
		}
		if !empty {
			return fmt.Errorf("%w: a bbolt database of another program (no %q schema marker)", ErrCorrupt, bucketMeta)
		}
		return nil
	}
	if string(mb.Get([]byte(keySchema))) != schemaName {
		return fmt.Errorf("%w: schema marker is %q, want %q", ErrCorrupt, mb.Get([]byte(keySchema)), schemaName)
	}
	v := mb.Get([]byte(keyVersion))
	if len(v) != 4 {
		return fmt.Errorf("%w: bad schema version record", ErrCorrupt)
	}
	if n := binary.BigEndian.Uint32(v); n != SchemaVersion {
		return fmt.Errorf("%w: file has version %d, this program reads %d", ErrUnsupportedVersion, n, SchemaVersion)
	}
	return nil
}

func (db *DB) loadTx(tx *bolt.Tx, writable bool) error {
	if wb := tx.Bucket([]byte(bucketWatermarks)); wb != nil {
		if err := wb.ForEach(func(k, v []byte) error {
			if len(v) != 8 {
				return fmt.Errorf("%w: watermark of conversation %q has %d bytes, want 8", ErrCorrupt, k, len(v))
			}
			db.wm[string(k)] = &wmEntry{seq: int64(binary.BigEndian.Uint64(v))}
			return nil
		}); err != nil {
			return err
		}
	}
	dbk := tx.Bucket([]byte(bucketDedup))
	if dbk == nil {
		return nil
	}
	cutoff := db.now().Add(-db.opts.DedupTTL).UnixNano()
	var stale [][]byte
	c := dbk.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		if len(k) <= 8 {
			return fmt.Errorf("%w: dedup key of %d bytes", ErrCorrupt, len(k))
		}
		t := int64(binary.BigEndian.Uint64(k))
		if t < cutoff {
			stale = append(stale, append([]byte(nil), k...))
			continue
		}
		db.dedup.push(t, string(k[8:]))
	}
	for db.dedup.len() > db.opts.DedupMax {
		e := db.dedup.pop()
		stale = append(stale, dedupKey(e.t, e.id))
	}
	if writable {
		for _, k := range stale {
			if err := dbk.Delete(k); err != nil {
				return err
			}
		}
		if len(stale) > 0 {
			db.log.Info("storage: pruned dedup window at open", "entries", len(stale))
		}
	}
	return nil
}

// Path returns the database file path given to Open.
func (db *DB) Path() string { return db.path }

// Flush blocks until every write queued before the call is durable, or ctx
// ends. It returns the commit error (matching ErrWrite) if the commit that
// held those writes failed; failed watermark and dedup writes stay queued and
// are retried, so a later Flush can succeed. Flush on a read-only DB returns
// nil; on a closed DB, ErrClosed.
func (db *DB) Flush(ctx context.Context) error {
	if db.opts.ReadOnly {
		return nil
	}
	db.mu.Lock()
	if db.closing {
		db.mu.Unlock()
		return ErrClosed
	}
	var b *batch
	if n := len(db.queue); n > 0 {
		b = db.queue[n-1]
		b.sealed = true
		db.hurryLocked()
	} else {
		b = db.inflight
	}
	db.mu.Unlock()
	if b == nil {
		return nil
	}
	return Ack{b}.Wait(ctx)
}

// Close makes every queued write durable, stops the writer and releases the
// file. It is idempotent: later calls return the first call's result. It
// returns an error matching ErrWrite if a final commit failed.
func (db *DB) Close() error {
	db.closeOnce.Do(func() {
		db.mu.Lock()
		db.closing = true
		db.room.Broadcast()
		db.mu.Unlock()
		close(db.stop)
		select {
		case db.wake <- struct{}{}:
		default:
		}
		<-db.writerDone
		err := db.closeErr
		if cerr := db.bolt.Close(); cerr != nil && err == nil {
			err = &FileError{Path: db.path, Op: "close", Err: cerr}
		}
		db.closeRet = err
	})
	return db.closeRet
}

// Stats describes a database, for `openimbot db stats`.
type Stats struct {
	Path          string
	FileSize      int64
	SchemaVersion int
	ReadOnly      bool
	Conversations int // conversations with a watermark
	DedupEntries  int // entries in the dedup window
	Namespaces    []NamespaceStats
	Commits       uint64 // transactions committed by this handle's writer
	PendingWrites int    // writes queued and not yet committed
}

// NamespaceStats is the size of one plugin namespace.
type NamespaceStats struct {
	Name string
	Keys int
}

// Stats returns counts from memory and from the file. Safe for concurrent
// use.
func (db *DB) Stats() (Stats, error) {
	db.mu.Lock()
	s := Stats{
		Path:          db.path,
		SchemaVersion: SchemaVersion,
		ReadOnly:      db.opts.ReadOnly,
		Conversations: len(db.wm),
		DedupEntries:  db.dedup.len(),
		Commits:       db.commits.Load(),
	}
	s.PendingWrites = db.queued
	if db.inflight != nil {
		s.PendingWrites += db.inflight.n
	}
	db.mu.Unlock()
	if fi, err := os.Stat(db.path); err == nil {
		s.FileSize = fi.Size()
	}
	err := db.view(func(tx *bolt.Tx) error {
		nsb := tx.Bucket([]byte(bucketNS))
		if nsb == nil {
			return nil
		}
		return nsb.ForEachBucket(func(name []byte) error {
			s.Namespaces = append(s.Namespaces, NamespaceStats{Name: string(name), Keys: nsb.Bucket(name).Stats().KeyN})
			return nil
		})
	})
	if err != nil {
		return s, &FileError{Path: db.path, Op: "stats", Err: err}
	}
	return s, nil
}
