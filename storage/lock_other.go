//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package storage

import (
	"os"
	"time"
)

// lockFile does nothing on this platform: bbolt's own lock (taken in Open
// after validation) is the only one.
func lockFile(f *os.File, readOnly bool, timeout time.Duration) error { return nil }
