package cli

import (
	"time"

	"github.com/openimbot/openimbot/storage"
)

// checkStorage opens and closes the database at path (nothing when path is
// empty), so that a database that cannot be opened (a missing directory, a
// file locked by another bot, a file that is not a database) is reported
// before anything else starts.
func checkStorage(path string) error {
	if path == "" {
		return nil
	}
	db, err := storage.Open(path, storage.Options{LockTimeout: time.Second})
	if err != nil {
		return err
	}
	return db.Close()
}
