package storage

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
)

func TestNamespaceIsolation(t *testing.T) {
	path := dbPath(t)
	db := mustOpen(t, path, Options{})
	a, b := db.Namespace("autoreply"), db.Namespace("ratelimit")
	if err := a.Put("k", []byte("from a")); err != nil {
		t.Fatal(err)
	}
	if err := b.Put("k", []byte("from b")); err != nil {
		t.Fatal(err)
	}
	// Runtime data with clashing names does not show up in namespaces.
	db.Advance("k", 3)
	db.SeenOrMark("k")
	for _, c := range []struct {
		ns   *Namespace
		want string
	}{{a, "from a"}, {b, "from b"}} {
		v, ok, err := c.ns.Get("k")
		if err != nil || !ok || string(v) != c.want {
			t.Fatalf("%s.Get(k) = %q, %v, %v; want %q", c.ns.Name(), v, ok, err, c.want)
		}
	}
	if _, ok, _ := db.Namespace("other").Get("k"); ok {
		t.Fatal("a fresh namespace sees another's key")
	}
	// Namespaces named like runtime buckets are still separate.
	w := db.Namespace("watermarks")
	if _, ok, _ := w.Get("k"); ok {
		t.Fatal(`namespace "watermarks" sees runtime data`)
	}
	if err := w.Put("k", []byte("plugin")); err != nil {
		t.Fatal(err)
	}
	if seq, _ := db.Watermark("k"); seq != 3 {
		t.Fatalf("plugin write changed a watermark: %d", seq)
	}
	if err := a.Delete("k"); err != nil {
		t.Fatal(err)
	}
	if err := a.Delete("missing"); err != nil {
		t.Fatalf("Delete of a missing key: %v", err)
	}
	if _, ok, _ := a.Get("k"); ok {
		t.Fatal("deleted key still present")
	}
	if v, _, _ := b.Get("k"); string(v) != "from b" {
		t.Fatal("Delete in one namespace touched another")
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db2 := mustOpen(t, path, Options{})
	if v, ok, _ := db2.Namespace("ratelimit").Get("k"); !ok || string(v) != "from b" {
		t.Fatalf("after reopen: %q %v", v, ok)
	}
	st, err := db2.Stats()
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(st.Namespaces)
	if want := "[{autoreply 0} {ratelimit 1} {watermarks 1}]"; got != want {
		t.Fatalf("Stats.Namespaces = %s, want %s", got, want)
	}
}

func TestNamespaceValuesAreCopies(t *testing.T) {
	db := mustOpen(t, dbPath(t), Options{})
	ns := db.Namespace("p")
	buf := []byte("one")
	if err := ns.Put("k", buf); err != nil {
		t.Fatal(err)
	}
	copy(buf, "XXX") // caller reuses its buffer
	v, _, _ := ns.Get("k")
	if string(v) != "one" {
		t.Fatalf("stored value aliased the caller's buffer: %q", v)
	}
	v[0] = 'Z' // caller mutates the returned value
	if v2, _, _ := ns.Get("k"); string(v2) != "one" {
		t.Fatalf("Get returned memory shared with the store: %q", v2)
	}
	if err := ns.Put("empty", nil); err != nil {
		t.Fatal(err)
	}
	if v, ok, _ := ns.Get("empty"); !ok || len(v) != 0 {
		t.Fatalf("nil value: %q, %v", v, ok)
	}
}

func TestNamespaceJSON(t *testing.T) {
	db := mustOpen(t, dbPath(t), Options{})
	ns := db.Namespace("json")
	type rec struct {
		Name  string   `json:"name"`
		Count int      `json:"count"`
		Tags  []string `json:"tags"`
	}
	in := rec{"alice", 3, []string{"a", "b"}}
	if err := ns.PutJSON("u/alice", in); err != nil {
		t.Fatal(err)
	}
	var out rec
	ok, err := ns.GetJSON("u/alice", &out)
	if err != nil || !ok || fmt.Sprint(out) != fmt.Sprint(in) {
		t.Fatalf("GetJSON = %+v, %v, %v", out, ok, err)
	}
	if ok, err := ns.GetJSON("u/bob", &out); ok || err != nil {
		t.Fatalf("missing key: %v, %v", ok, err)
	}
	if err := ns.Put("bad", []byte("{not json")); err != nil {
		t.Fatal(err)
	}
	if _, err := ns.GetJSON("bad", &out); err == nil || !strings.Contains(err.Error(), `"bad"`) {
		t.Fatalf("bad JSON error = %v, want one naming the key", err)
	}
	if err := ns.PutJSON("ch", make(chan int)); err == nil {
		t.Fatal("PutJSON of a channel succeeded")
	}
}

func TestNamespaceForEach(t *testing.T) {
	db := mustOpen(t, dbPath(t), Options{NoSync: true})
	ns := db.Namespace("many")
	const n = 700 // spans several read chunks
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := w; i < n; i += 4 {
				if err := ns.Put(fmt.Sprintf("k%04d", i), []byte(fmt.Sprint(i))); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	db.Namespace("other").Put("zzz", []byte("x"))
	var keys []string
	err := ns.ForEach(func(k string, v []byte) error {
		if want := strings.TrimLeft(k[1:], "0"); string(v) != want && !(k == "k0000" && string(v) == "0") {
			return fmt.Errorf("%s = %q", k, v)
		}
		keys = append(keys, k)
		// fn may write to the namespace it iterates.
		return ns.Delete(k)
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != n || keys[0] != "k0000" || keys[n-1] != fmt.Sprintf("k%04d", n-1) {
		t.Fatalf("ForEach visited %d keys (%v ... %v)", len(keys), keys[0], keys[len(keys)-1])
	}
	for i := 1; i < len(keys); i++ {
		if keys[i-1] >= keys[i] {
			t.Fatalf("not in order: %s then %s", keys[i-1], keys[i])
		}
	}
	count := 0
	ns.ForEach(func(string, []byte) error { count++; return nil })
	if count != 0 {
		t.Fatalf("%d keys left after deleting all during ForEach", count)
	}
	stop := errors.New("stop")
	if err := db.Namespace("other").ForEach(func(string, []byte) error { return stop }); err != stop {
		t.Fatalf("ForEach error = %v, want fn's error", err)
	}
}

func TestNamespaceInvalid(t *testing.T) {
	db := mustOpen(t, dbPath(t), Options{})
	for _, name := range []string{"", strings.Repeat("n", 256)} {
		ns := db.Namespace(name)
		if _, _, err := ns.Get("k"); !errors.Is(err, ErrInvalidName) {
			t.Errorf("Get on namespace %.10q: %v", name, err)
		}
		if err := ns.Put("k", nil); !errors.Is(err, ErrInvalidName) {
			t.Errorf("Put on namespace %.10q: %v", name, err)
		}
		if err := ns.ForEach(func(string, []byte) error { return nil }); !errors.Is(err, ErrInvalidName) {
			t.Errorf("ForEach on namespace %.10q: %v", name, err)
		}
	}
	ns := db.Namespace("ok")
	for _, key := range []string{"", strings.Repeat("k", maxKeyLen+1)} {
		if err := ns.Put(key, []byte("v")); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("Put key of %d bytes: %v", len(key), err)
		}
		if _, _, err := ns.Get(key); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("Get key of %d bytes: %v", len(key), err)
		}
	}
	db.Close()
	if err := ns.Put("k", nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Put after Close: %v", err)
	}
	if _, _, err := ns.Get("k"); !errors.Is(err, ErrClosed) {
		t.Errorf("Get after Close: %v", err)
	}
}
