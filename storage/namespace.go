package storage

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

const (
	maxKeyLen      = bolt.MaxKeySize // 32 KiB
	maxNameLen     = 255
	forEachChunk   = 256
	maxValueLength = 1 << 30
)

// Namespace is a plugin's private key-value space, isolated from other
// namespaces and from the runtime's watermarks and dedup window. Keys are
// non-empty strings of at most 32 KiB; values are arbitrary bytes.
//
// Reads (Get, ForEach, GetJSON) run in their own read transaction and never
// wait for the writer. Writes (Put, Delete, PutJSON) go through the DB's
// group-commit writer and return once their commit is durable, so concurrent
// writers share an fsync. Safe for concurrent use.
type Namespace struct {
	db   *DB
	name string
	err  error // invalid name: every method returns it
}

// Namespace returns the namespace with the given name, created on its first
// write. The name must be 1–255 bytes; otherwise every method of the returned
// Namespace fails with ErrInvalidName. It does no I/O.
func (db *DB) Namespace(name string) *Namespace {
	ns := &Namespace{db: db, name: name}
	if name == "" || len(name) > maxNameLen {
		ns.err = fmt.Errorf("%w: %q (want 1-%d bytes)", ErrInvalidName, name, maxNameLen)
	}
	return ns
}

// Name returns the namespace name.
func (n *Namespace) Name() string { return n.name }

func (n *Namespace) checkKey(key string) error {
	if n.err != nil {
		return n.err
	}
	if key == "" || len(key) > maxKeyLen {
		return fmt.Errorf("%w: namespace %q key of %d bytes (want 1-%d)", ErrInvalidKey, n.name, len(key), maxKeyLen)
	}
	return nil
}

// view runs fn in a read transaction, mapping a closed bbolt DB to ErrClosed
// and a bbolt panic to ErrCorrupt.
func (db *DB) view(fn func(tx *bolt.Tx) error) error {
	err := protect(func() error { return db.bolt.View(fn) })
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return ErrClosed
	}
	return err
}

// Get returns a copy of the value stored under key, and whether it exists.
func (n *Namespace) Get(key string) ([]byte, bool, error) {
	if err := n.checkKey(key); err != nil {
		return nil, false, err
	}
	if be := n.db.nsBackend(); be != nil {
		return be.Get(n.name, key)
	}
	var val []byte
	var found bool
	err := n.db.view(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketNS)).Bucket([]byte(n.name))
		if b == nil {
			return nil
		}
		if v := b.Get([]byte(key)); v != nil {
			val, found = bytes.Clone(v), true
		}
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("storage: namespace %q get %q: %w", n.name, key, err)
	}
	return val, found, nil
}

// Put stores value under key (a nil value stores an empty one) and returns
// once the write is durable. The value is copied before it is queued, so the
// caller may reuse it.
func (n *Namespace) Put(key string, value []byte) error {
	if err := n.checkKey(key); err != nil {
		return err
	}
	if len(value) > maxValueLength {
		return fmt.Errorf("%w: namespace %q key %q: value of %d bytes (max %d)", ErrInvalidKey, n.name, key, len(value), maxValueLength)
	}
	v := bytes.Clone(value)
	if v == nil {
		v = []byte{}
	}
	if be := n.db.nsBackend(); be != nil {
		return be.Put(n.name, key, v)
	}
	if err := n.db.write(op{kind: opNSPut, ns: n.name, key: []byte(key), val: v}); err != nil {
		return fmt.Errorf("storage: namespace %q put %q: %w", n.name, key, err)
	}
	return nil
}

// Delete removes key; deleting a missing key is not an error. It returns once
// the write is durable.
func (n *Namespace) Delete(key string) error {
	if err := n.checkKey(key); err != nil {
		return err
	}
	if be := n.db.nsBackend(); be != nil {
		return be.Delete(n.name, key)
	}
	if err := n.db.write(op{kind: opNSDel, ns: n.name, key: []byte(key)}); err != nil {
		return fmt.Errorf("storage: namespace %q delete %q: %w", n.name, key, err)
	}
	return nil
}

// write queues a namespace write and waits for its commit.
func (db *DB) write(o op) error {
	if db.opts.ReadOnly {
		return ErrReadOnly
	}
	db.mu.Lock()
	db.waitRoomLocked()
	if db.closing {
		db.mu.Unlock()
		return ErrClosed
	}
	b := db.enqueueLocked(o)
	// The caller blocks until the commit: do not pace it (writes queued
	// meanwhile still share the commit).
	b.waited = true
	db.hurryLocked()
	db.mu.Unlock()
	<-b.done
	return b.err
}

// ForEach calls fn for every key in byte order with a copy of its value; an
// error from fn stops the iteration and is returned. The iteration reads the
// namespace in chunks, each in its own read transaction, so fn may call Put or
// Delete on this or any namespace; it is not a snapshot (a key written during
// the iteration may or may not be seen).
func (n *Namespace) ForEach(fn func(key string, value []byte) error) error {
	if n.err != nil {
		return n.err
	}
	if be := n.db.nsBackend(); be != nil {
		return be.ForEach(n.name, fn)
	}
	type kv struct {
		k string
		v []byte
	}
	var after []byte // last key handed to fn
	for {
		var chunk []kv
		err := n.db.view(func(tx *bolt.Tx) error {
			b := tx.Bucket([]byte(bucketNS)).Bucket([]byte(n.name))
			if b == nil {
				return nil
			}
			c := b.Cursor()
			var k, v []byte
			if after == nil {
				k, v = c.First()
			} else if k, v = c.Seek(after); k != nil && bytes.Equal(k, after) {
				k, v = c.Next()
			}
			for ; k != nil && len(chunk) < forEachChunk; k, v = c.Next() {
				chunk = append(chunk, kv{string(k), bytes.Clone(v)})
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("storage: namespace %q for each: %w", n.name, err)
		}
		for _, e := range chunk {
			if err := fn(e.k, e.v); err != nil {
				return err
			}
		}
		if len(chunk) < forEachChunk {
			return nil
		}
		after = []byte(chunk[len(chunk)-1].k)
	}
}

// GetJSON decodes the JSON value under key into v and reports whether the key
// exists. A value that is not valid JSON for v is an error naming the key.
func (n *Namespace) GetJSON(key string, v any) (bool, error) {
	data, ok, err := n.Get(key)
	if err != nil || !ok {
		return false, err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return true, fmt.Errorf("storage: namespace %q key %q: decode JSON: %w", n.name, key, err)
	}
	return true, nil
}

// PutJSON stores v encoded as JSON under key; see Put.
func (n *Namespace) PutJSON(key string, v any) error {
	if err := n.checkKey(key); err != nil {
		return err
	}
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("storage: namespace %q key %q: encode JSON: %w", n.name, key, err)
	}
	return n.Put(key, data)
}
