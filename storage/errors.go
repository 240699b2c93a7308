package storage

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Errors returned by this package wrap them; match them with
// errors.Is.
var (
	// ErrLocked means another process (or another handle in this process)
	// holds the database file.
	ErrLocked = errors.New("storage: database is locked by another process")
	// ErrCorrupt means the file is not a bbolt database, is damaged, or is a
	// bbolt database without this package's schema marker.
	ErrCorrupt = errors.New("storage: database file is corrupt or not an openimbot database")
	// ErrUnsupportedVersion means the file was written by a newer schema
	// version than this package understands.
	ErrUnsupportedVersion = errors.New("storage: unsupported schema version")
	// ErrClosed is returned by operations on a closed DB.
	ErrClosed = errors.New("storage: database closed")
	// ErrReadOnly is returned by writes on a DB opened with Options.ReadOnly.
	ErrReadOnly = errors.New("storage: database opened read-only")
	// ErrInvalidName is returned by every method of a Namespace whose name is
	// empty or too long.
	ErrInvalidName = errors.New("storage: invalid namespace name")
	// ErrInvalidKey is returned for an empty or too long key.
	ErrInvalidKey = errors.New("storage: invalid key")
	// ErrWrite is wrapped by every error of a failed commit (bbolt write,
	// fsync, or a full disk / Options.MaxSize).
	ErrWrite = errors.New("storage: write failed")
)

// FileError is the error type of Open: it names the file and wraps the cause
// (ErrLocked, ErrCorrupt, ErrUnsupportedVersion or an OS error).
type FileError struct {
	Path string // the database file
	Op   string // "open", "lock", "validate", "load"
	Err  error  // the cause
}

func (e *FileError) Error() string {
	return fmt.Sprintf("storage: %s %s: %s", e.Op, e.Path, strings.TrimPrefix(e.Err.Error(), "storage: "))
}

func (e *FileError) Unwrap() error { return e.Err }
