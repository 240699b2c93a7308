package storage_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/openimbot/openimbot/storage"
)

func Example() {
	dir, _ := os.MkdirTemp("", "storage-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "bot-10001.db")

	db, err := storage.Open(path, storage.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	// The sync engine: drop duplicates, advance after the handler returns.
	if seq, ok := db.Watermark("sg_group1"); !ok || seq < 7 {
		// ... handle message seq 7 ...
		ack := db.Advance("sg_group1", 7) // memory now, disk by group commit
		_ = ack                           // ack.Wait(ctx) would wait for the fsync
	}
	fmt.Println("first:", db.SeenOrMark("client-msg-1"), "again:", db.SeenOrMark("client-msg-1"))

	// A plugin's namespace.
	type counter struct{ N int }
	ns := db.Namespace("counter")
	_ = ns.PutJSON("alice", counter{N: 3})
	if err := db.Close(); err != nil {
		fmt.Println(err)
	}

	db, _ = storage.Open(path, storage.Options{})
	defer db.Close()
	seq, _ := db.Watermark("sg_group1")
	var c counter
	found, _ := db.Namespace("counter").GetJSON("alice", &c)
	fmt.Println("after restart:", seq, db.Seen("client-msg-1"), found, c.N)

	// A second handle on the same file fails fast.
	_, err = storage.Open(path, storage.Options{LockTimeout: 50 * time.Millisecond})
	fmt.Println("locked:", errors.Is(err, storage.ErrLocked))
	_ = db.Flush(context.Background())
	// Output:
	// first: false again: true
	// after restart: 7 true true 3
	// locked: true
}
