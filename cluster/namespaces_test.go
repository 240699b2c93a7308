package cluster_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/openimbot/openimbot/cluster"
	"github.com/openimbot/openimbot/storage"
)

// Two workers' databases backed by the bucket see each other's plugin
// data through the unchanged Namespace API; other namespaces stay apart.
func TestSharedNamespaces(t *testing.T) {
	e := startNATS(t)
	var dbs []*storage.DB
	for i := range 2 {
		nc, js, err := cluster.Connect(context.Background(), e.URL(), "ns")
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		be, err := cluster.Namespaces(context.Background(), cluster.Config{BotID: botID}, js)
		if err != nil {
			t.Fatal(err)
		}
		db, err := storage.Open(filepath.Join(t.TempDir(), fmt.Sprint(i, ".db")), storage.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		db.SetNamespaceBackend(be)
		dbs = append(dbs, db)
	}
	a, b := dbs[0].Namespace("cooldown"), dbs[1].Namespace("cooldown")
	for _, k := range []string{"user z", "user a", "ключ/with.dots"} {
		if err := a.Put(k, []byte("v:"+k)); err != nil {
			t.Fatal(err)
		}
	}
	if v, ok, err := b.Get("user a"); err != nil || !ok || string(v) != "v:user a" {
		t.Fatalf("worker 2 reads %q %v %v", v, ok, err)
	}
	var keys []string
	if err := b.ForEach(func(k string, v []byte) error {
		if string(v) != "v:"+k {
			t.Errorf("%s = %q", k, v)
		}
		keys = append(keys, k)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(keys) != "[user a user z ключ/with.dots]" {
		t.Errorf("ForEach order %q", keys)
	}
	if err := b.Delete("user a"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := a.Get("user a"); ok {
		t.Error("a delete by worker 2 not seen by worker 1")
	}
	if _, ok, _ := dbs[0].Namespace("other").Get("user z"); ok {
		t.Error("namespaces are not apart")
	}
	var pv struct{ N int }
	if err := a.PutJSON("json", struct{ N int }{7}); err != nil {
		t.Fatal(err)
	}
	if ok, err := b.GetJSON("json", &pv); err != nil || !ok || pv.N != 7 {
		t.Errorf("GetJSON %v %v %+v", ok, err, pv)
	}
}
