// Package storage is the bot's durable state: one bbolt file per bot account
// holding the per-conversation seq watermarks, the dedup window for messages
// that carry no seq, and key-value namespaces for plugins.
//
// bbolt stays inside this package; no bbolt type appears in the exported API.
//
// # Concurrency
//
// A *DB is safe for concurrent use by many goroutines. Reads of watermarks and
// of the dedup window are served from memory (loaded at Open) and never touch
// the disk. Every write goes through one writer goroutine that uses group
// commit: writes that arrive while a commit (and its fsync) is in flight are
// batched into the next transaction, up to Options.MaxBatch writes per
// transaction, and the next commit starts no sooner than Options.CommitDelay
// (default 1ms) after the last one ended, unless Flush, Close, a namespace
// write, a full batch or backpressure asks for it; a write after an idle
// spell is committed at once. Durability therefore costs one fsync per
// batch, not one per message.
//
// Advance and SeenOrMark update memory at once and return without waiting for
// the disk; the Ack returned by Advance completes when the commit holding the
// write is durable. If the disk cannot keep up and more than
// Options.MaxPending writes are queued, they block until the writer catches
// up (backpressure). Namespace writes (Put, Delete, PutJSON) go through the
// same writer and block until their commit is durable. Flush waits until
// everything queued before it is durable; Close flushes and releases the file.
//
// A failed commit is never swallowed: its error (matching ErrWrite) goes to
// the Acks and to Flush and is logged; its watermark and dedup writes are
// retried with the next commit (after a backoff), namespace writes are not
// (their caller got the error).
//
// # Files
//
// Open takes an exclusive lock on the file (a shared one with
// Options.ReadOnly): a second process, or a second handle in the same process,
// fails after Options.LockTimeout with an error matching ErrLocked. A file that
// is not a bbolt database, is damaged, or is a bbolt database of some other
// program fails with an error matching ErrCorrupt; both name the file. Before
// bbolt maps the file, Open checks the meta pages and walks every page of the
// tree under the lock, because bbolt panics on damaged pages, sometimes on a
// goroutine where the panic cannot be recovered; Open never panics.
//
// Options.ReadOnly opens a file for inspection (openimbot db stats/dump)
// under a shared lock; it still gets ErrLocked while a bot has the file open
// read-write.
//
// # Layout
//
// Top-level buckets: "openimbot.meta" (schema marker and version),
// "watermarks" (conversationID → big-endian int64 seq), "dedup"
// (big-endian unix nanoseconds + clientMsgID → empty, so inserts append and
// pruning deletes from the front) and "ns" (one nested bucket per plugin
// namespace). Watermarks and the dedup window are held in memory and loaded
// at Open.
package storage
