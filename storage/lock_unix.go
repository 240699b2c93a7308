//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package storage

import (
	"errors"
	"os"
	"syscall"
	"time"
)

// lockFile takes the same flock bbolt takes (exclusive, or shared when
// readOnly) on f, retrying until timeout. bbolt later locks the same open
// file again, which succeeds at once, so the file stays locked from before
// validation until Close.
func lockFile(f *os.File, readOnly bool, timeout time.Duration) error {
	how := syscall.LOCK_EX | syscall.LOCK_NB
	if readOnly {
		how = syscall.LOCK_SH | syscall.LOCK_NB
	}
	deadline := time.Now().Add(timeout)
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if err == nil {
			return nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			return err
		}
		left := time.Until(deadline)
		if left <= 0 {
			return ErrLocked
		}
		time.Sleep(min(left, 20*time.Millisecond))
	}
}
