package storage

// NamespaceBackend stores the plugin namespaces of a DB somewhere else
// than its file: a store shared by several processes (package cluster
// backs them with a JetStream key-value bucket so that every worker of a
// bot sees the same plugin data). Keys and values are already checked as
// Namespace documents; values are the caller's copies. ForEach must call fn
// in byte order of the keys. Implementations must be safe for concurrent
// use.
type NamespaceBackend interface {
	Get(ns, key string) ([]byte, bool, error)
	Put(ns, key string, value []byte) error
	Delete(ns, key string) error
	ForEach(ns string, fn func(key string, value []byte) error) error
}

type nsBackendBox struct{ b NamespaceBackend }

// SetNamespaceBackend makes every Namespace of db read and write through b
// (nil: back to the file). The watermarks and the dedup window stay in the
// file. Set it before the namespaces are used: data already in the file is
// not copied.
func (db *DB) SetNamespaceBackend(b NamespaceBackend) {
	if b == nil {
		db.nsb.Store(nil)
		return
	}
	db.nsb.Store(&nsBackendBox{b})
}

func (db *DB) nsBackend() NamespaceBackend {
	if p := db.nsb.Load(); p != nil {
		return p.b
	}
	return nil
}
