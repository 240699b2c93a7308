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
// commit: it commits as soon as its queue drains, so writes that arrive while a
// commit (and its fsync) is in flight are batched into the next transaction, up
// to Options.MaxBatch writes per transaction. Durability therefore costs one
// fsync per batch, not one per message.
//
// Advance and SeenOrMark update memory at once and return without waiting for
// the disk; the Ack returned by Advance completes when the commit holding the
// write is durable. Namespace writes (Put, Delete, PutJSON) go through the
// same writer and block until their commit is durable. Flush waits until
// everything queued before it is durable; Close flushes and releases the file.
//
// # Files
//
// Open takes an exclusive lock on the file (a shared one with
// Options.ReadOnly): a second process, or a second handle in the same process,
// fails after Options.LockTimeout with an error matching ErrLocked. A file that
// is not a bbolt database, is damaged, or is a bbolt database of some other
// program fails with an error matching ErrCorrupt; both name the file.
package storage
