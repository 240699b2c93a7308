package storage

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/openimbot/openimbot/internal/testchild"
)

func wantFileError(t *testing.T, err error, path string, target error) {
	t.Helper()
	if err == nil {
		t.Fatalf("Open(%s) succeeded, want %v", path, target)
	}
	if target != nil && !errors.Is(err, target) {
		t.Fatalf("Open(%s) = %v, want errors.Is %v", path, err, target)
	}
	var fe *FileError
	if !errors.As(err, &fe) || fe.Path != path {
		t.Fatalf("Open error %v is not a *FileError for %s", err, path)
	}
	if !strings.Contains(err.Error(), path) {
		t.Fatalf("error %q does not name the file", err)
	}
}

// writeRealDB creates a database with enough data to span many pages.
func writeRealDB(t *testing.T, path string) {
	t.Helper()
	db := mustOpen(t, path, Options{NoSync: true})
	for i := range 300 {
		db.Advance(fmt.Sprintf("conversation-%04d", i), int64(i))
		db.SeenOrMark(fmt.Sprintf("client-msg-%06d", i))
	}
	ns := db.Namespace("plugin")
	for i := range 100 {
		if err := ns.Put(fmt.Sprintf("key-%03d", i), bytes.Repeat([]byte{byte(i)}, 300)); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestOpenCorrupt(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	randomBytes := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	cases := []struct {
		name  string
		setup func(t *testing.T, path string)
		want  error
	}{
		{"random bytes", func(t *testing.T, path string) {
			os.WriteFile(path, randomBytes(64<<10), 0o600)
		}, ErrCorrupt},
		{"short text file", func(t *testing.T, path string) {
			os.WriteFile(path, []byte("hello, I am not a database\n"), 0o600)
		}, ErrCorrupt},
		{"truncated real db", func(t *testing.T, path string) {
			writeRealDB(t, path)
			fi, _ := os.Stat(path)
			if err := os.Truncate(path, fi.Size()/3); err != nil {
				t.Fatal(err)
			}
		}, ErrCorrupt},
		{"real db cut inside the meta pages", func(t *testing.T, path string) {
			writeRealDB(t, path)
			os.Truncate(path, 5000)
		}, ErrCorrupt},
		{"both meta pages damaged", func(t *testing.T, path string) {
			writeRealDB(t, path)
			f, _ := os.OpenFile(path, os.O_RDWR, 0)
			f.WriteAt(randomBytes(64), 16+8)
			f.WriteAt(randomBytes(64), 4096+16+8)
			f.Close()
		}, ErrCorrupt},
		{"data pages overwritten with garbage", func(t *testing.T, path string) {
			writeRealDB(t, path)
			fi, _ := os.Stat(path)
			f, _ := os.OpenFile(path, os.O_RDWR, 0)
			f.WriteAt(randomBytes(int(fi.Size())-2*4096), 2*4096)
			f.Close()
		}, ErrCorrupt},
		{"bbolt db of another program", func(t *testing.T, path string) {
			bdb, err := bolt.Open(path, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			bdb.Update(func(tx *bolt.Tx) error {
				b, _ := tx.CreateBucket([]byte("users"))
				return b.Put([]byte("alice"), []byte("admin"))
			})
			bdb.Close()
		}, ErrCorrupt},
		{"our marker with a newer version", func(t *testing.T, path string) {
			writeRealDB(t, path)
			bdb, _ := bolt.Open(path, 0o600, nil)
			bdb.Update(func(tx *bolt.Tx) error {
				return tx.Bucket([]byte(bucketMeta)).Put([]byte(keyVersion), []byte{0, 0, 0, 9})
			})
			bdb.Close()
		}, ErrUnsupportedVersion},
		{"directory", func(t *testing.T, path string) {
			os.Mkdir(path, 0o700)
		}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := dbPath(t)
			c.setup(t, path)
			before, _ := os.ReadFile(path)
			db, err := Open(path, Options{})
			if err == nil {
				db.Close()
			}
			wantFileError(t, err, path, c.want)
			// The failed Open left the file as it was and released it.
			if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
				t.Fatal("failed Open modified the file")
			}
			if c.name != "directory" {
				_, err = Open(path, Options{LockTimeout: 50 * time.Millisecond})
				if errors.Is(err, ErrLocked) {
					t.Fatal("failed Open kept the file lock")
				}
			}
		})
	}
}

func TestOpenEmptyAndMissing(t *testing.T) {
	// A zero-length file (e.g. created and never written) is initialised.
	path := dbPath(t)
	os.WriteFile(path, nil, 0o600)
	db := mustOpen(t, path, Options{})
	if err := db.Advance("c", 1).Wait(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	db.Close()
	// A bbolt file with no buckets at all is adopted too.
	path2 := dbPath(t)
	bdb, _ := bolt.Open(path2, 0o600, nil)
	bdb.Close()
	mustOpen(t, path2, Options{}).Close()

	missing := filepath.Join(t.TempDir(), "no", "such", "dir", "bot.db")
	if _, err := Open(missing, Options{}); err == nil || !strings.Contains(err.Error(), missing) {
		t.Fatalf("Open in a missing directory = %v, want an error naming the file", err)
	}
	if _, err := Open("", Options{}); err == nil {
		t.Fatal("Open of an empty path succeeded")
	}
}

func TestOpenLockedSameProcess(t *testing.T) {
	path := dbPath(t)
	db := mustOpen(t, path, Options{})
	const timeout = 200 * time.Millisecond
	start := time.Now()
	_, err := Open(path, Options{LockTimeout: timeout})
	elapsed := time.Since(start)
	wantFileError(t, err, path, ErrLocked)
	if !strings.Contains(err.Error(), "locked by another process") {
		t.Fatalf("error %q does not say locked by another process", err)
	}
	if elapsed > timeout+time.Second {
		t.Fatalf("locked Open took %v with LockTimeout %v", elapsed, timeout)
	}
	// A read-only handle needs a shared lock, which the writer excludes.
	_, err = Open(path, Options{ReadOnly: true, LockTimeout: timeout})
	wantFileError(t, err, path, ErrLocked)
	db.Close()
	mustOpen(t, path, Options{LockTimeout: timeout}).Close()
}

const lockChildEnv = "OPENIMBOT_STORAGE_LOCK_CHILD"

// TestLockChildProcess is the child half of TestOpenLockedOtherProcess: it
// only runs when the parent sets lockChildEnv to the database path, and
// prints the outcome of its Open on stdout.
func TestLockChildProcess(t *testing.T) {
	path := os.Getenv(lockChildEnv)
	if path == "" {
		t.Skip("child process of TestOpenLockedOtherProcess")
	}
	timeout, _ := time.ParseDuration(os.Getenv(lockChildEnv + "_TIMEOUT"))
	start := time.Now()
	db, err := Open(path, Options{LockTimeout: timeout})
	elapsed := time.Since(start)
	if err == nil {
		db.Close()
		fmt.Printf("RESULT ok elapsed=%d\n", elapsed)
		return
	}
	fmt.Printf("RESULT locked=%v elapsed=%d err=%s\n", errors.Is(err, ErrLocked), elapsed, err)
}

func TestOpenLockedOtherProcess(t *testing.T) {
	if os.Getenv(lockChildEnv) != "" {
		t.Skip("in the child")
	}
	path := dbPath(t)
	db := mustOpen(t, path, Options{})
	db.Advance("c", 1)
	const timeout = 300 * time.Millisecond
	runChild := func() (string, time.Duration) {
		t.Helper()
		cmd := exec.Command(os.Args[0], "-test.run=^TestLockChildProcess$", "-test.v", "-test.count=1")
		cmd.Env = append(os.Environ(), lockChildEnv+"="+path, lockChildEnv+"_TIMEOUT="+timeout.String())
		start := time.Now()
		out, err := cmd.CombinedOutput()
		wall := time.Since(start)
		if err != nil {
			t.Fatalf("child: %v\n%s", err, out)
		}
		for _, line := range strings.Split(string(out), "\n") {
			if strings.HasPrefix(line, "RESULT ") {
				return line, wall
			}
		}
		t.Fatalf("child printed no result:\n%s", out)
		return "", 0
	}
	line, wall := runChild()
	t.Logf("child while locked (wall %v): %s", wall, line)
	var elapsed time.Duration
	var locked bool
	if _, err := fmt.Sscanf(line, "RESULT locked=%t elapsed=%d", &locked, &elapsed); err != nil {
		t.Fatalf("child did not fail: %q (%v)", line, err)
	}
	if !locked || !strings.Contains(line, "locked by another process") || !strings.Contains(line, path) {
		t.Fatalf("child error %q: want ErrLocked saying locked by another process and naming %s", line, path)
	}
	if elapsed < timeout-100*time.Millisecond || elapsed > timeout+500*time.Millisecond {
		t.Fatalf("child gave up after %v, want about the %v timeout", elapsed, timeout)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if line, _ := runChild(); !strings.HasPrefix(line, "RESULT ok") {
		t.Fatalf("child after the parent closed: %s", line)
	}
}

func TestReadOnly(t *testing.T) {
	path := dbPath(t)
	if _, err := Open(path, Options{ReadOnly: true}); err == nil {
		t.Fatal("read-only Open of a missing file succeeded")
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("read-only Open created the file")
	}
	// An empty file is not a database, and read-only cannot make it one.
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(path, Options{ReadOnly: true})
	wantFileError(t, err, path, ErrCorrupt)
	if !strings.Contains(err.Error(), "the file is empty") {
		t.Fatalf("read-only Open of an empty file: %v", err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	writeRealDB(t, path)
	r1 := mustOpen(t, path, Options{ReadOnly: true})
	r2 := mustOpen(t, path, Options{ReadOnly: true}) // shared lock: readers coexist
	if seq, ok := r1.Watermark("conversation-0299"); !ok || seq != 299 {
		t.Fatalf("read-only watermark = %d, %v", seq, ok)
	}
	if !r2.Seen("client-msg-000007") || r2.SeenOrMark("new-id") || r2.Seen("new-id") {
		t.Fatal("read-only dedup")
	}
	if err := r1.Advance("c", 1).Wait(ctxT(t)); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("read-only Advance = %v", err)
	}
	if err := r1.Namespace("plugin").Put("k", nil); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("read-only Put = %v", err)
	}
	if v, ok, err := r1.Namespace("plugin").Get("key-001"); err != nil || !ok || len(v) != 300 {
		t.Fatalf("read-only Get = %d bytes, %v, %v", len(v), ok, err)
	}
	st, err := r1.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if !st.ReadOnly || st.Conversations != 300 || st.DedupEntries != 300 || st.FileSize == 0 ||
		fmt.Sprint(st.Namespaces) != "[{plugin 100}]" {
		t.Fatalf("Stats = %+v", st)
	}
	if err := r1.Flush(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	_, err = Open(path, Options{LockTimeout: 100 * time.Millisecond})
	wantFileError(t, err, path, ErrLocked)
}

func TestDump(t *testing.T) {
	clk := newFakeClock()
	db := mustOpenClock(t, dbPath(t), Options{}, clk)
	db.Advance("sg_1", 42)
	db.SeenOrMark("cm-1")
	db.Namespace("p").Put("text", []byte("héllo"))
	db.Namespace("p").Put("bin", []byte{0xff, 0x00})
	if err := db.Flush(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	if err := db.Dump(&sb); err != nil {
		t.Fatal(err)
	}
	want := `{"kind":"schema","version":1}
{"kind":"watermark","conversationID":"sg_1","seq":42}
{"kind":"dedup","clientMsgID":"cm-1","time":"2026-01-02T03:04:05Z"}
{"kind":"namespace","namespace":"p","key":"bin","valueBase64":"/wA="}
{"kind":"namespace","namespace":"p","key":"text","value":"héllo"}
`
	if sb.String() != want {
		t.Fatalf("Dump =\n%s\nwant\n%s", sb.String(), want)
	}
}

// TestWriteErrorSurfacesAndRetries makes a real bbolt commit fail (the file
// would outgrow Options.MaxSize) and checks that the error reaches the Ack,
// Flush, the namespace writer and the log, and that the watermark and dedup
// writes of the failed commit are retried and not lost.
func TestWriteErrorSurfacesAndRetries(t *testing.T) {
	path := dbPath(t)
	gate, atGate := make(chan struct{}), make(chan struct{})
	var gated sync.Once
	var logs testchild.Buffer
	opts := Options{MaxSize: 1 << 20, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	db, err := open(path, opts, hooks{beforeCommit: func() {
		gated.Do(func() { close(atGate); <-gate })
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	first := db.Advance("a", 1) // the writer takes this batch and waits at the gate
	<-atGate

	putErr := make(chan error, 1)
	go func() { putErr <- db.Namespace("big").Put("blob", make([]byte, 4<<20)) }()
	ack := db.Advance("c", 5)
	db.SeenOrMark("m")
	deadline := time.Now().Add(5 * time.Second)
	for {
		st, _ := db.Stats()
		if st.PendingWrites == 4 { // a (in flight) + blob, c, m
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("pending writes = %d, want 4", st.PendingWrites)
		}
		time.Sleep(time.Millisecond)
	}
	flushErr := make(chan error, 1)
	go func() { flushErr <- db.Flush(ctxT(t)) }() // waits on the batch that will fail
	for {
		db.mu.Lock()
		sealed := db.queue[len(db.queue)-1].sealed
		db.mu.Unlock()
		if sealed {
			break
		}
		time.Sleep(time.Millisecond)
	}
	close(gate)

	if err := first.Wait(ctxT(t)); err != nil {
		t.Fatalf("first commit: %v", err)
	}
	if err := <-putErr; !errors.Is(err, ErrWrite) || !strings.Contains(err.Error(), "maximum size") {
		t.Fatalf("Put that outgrows MaxSize = %v, want ErrWrite", err)
	}
	if err := ack.Wait(ctxT(t)); !errors.Is(err, ErrWrite) {
		t.Fatalf("Ack of the failed commit = %v, want ErrWrite", err)
	}
	if err := <-flushErr; !errors.Is(err, ErrWrite) {
		t.Fatalf("Flush over the failed commit = %v, want ErrWrite", err)
	}
	if !strings.Contains(logs.String(), "commit failed") {
		t.Fatalf("failure not logged: %s", logs.String())
	}
	// The retry (without the oversized value) succeeds.
	if err := db.Flush(ctxT(t)); err != nil {
		t.Fatalf("Flush after retry: %v", err)
	}
	if err := db.Advance("c", 5).Wait(ctxT(t)); err != nil {
		t.Fatalf("Ack of the retried watermark: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db2 := mustOpen(t, path, Options{})
	if seq, _ := db2.Watermark("c"); seq != 5 || !db2.Seen("m") {
		t.Fatalf("after reopen: c=%d, m seen=%v; the failed commit's writes were lost", seq, db2.Seen("m"))
	}
	if _, ok, _ := db2.Namespace("big").Get("blob"); ok {
		t.Fatal("the failed Put was stored")
	}
}
