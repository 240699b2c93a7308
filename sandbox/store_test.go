package sandbox

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/openimbot/openimbot/internal/pb/sdkws"
)

// storeState is what a store holds for the compaction test.
type storeState struct {
	first, max int64
	seqs       []int64
	texts      []string
	read       map[string]int64
	records    []string
}

func stateOf(s *store) storeState {
	c := s.convs["si_a_b"]
	st := storeState{first: c.first, max: c.maxSeq(), read: map[string]int64{}}
	for _, m := range c.msgs {
		if m == nil {
			st.seqs = append(st.seqs, -1)
			continue
		}
		st.seqs = append(st.seqs, m.Seq)
		st.texts = append(st.texts, string(m.Content))
	}
	for u, m := range s.hasRead {
		for id, seq := range m {
			st.read[u+" "+id] = seq
		}
	}
	st.records = s.records("a")
	return st
}

func lines(t *testing.T, path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Count(b, []byte("\n"))
}

// The store file is compacted as messages are evicted: it stays about as
// large as what is kept, not what was ever sent, and loading it gives the
// same state (kept messages and deletions, min and max seq, has-read seqs
// that evicted messages had set, conversation records).
func TestStoreCompaction(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store")
	s, err := openStore(path, 5)
	if err != nil {
		t.Fatal(err)
	}
	s.compactAfter = 20
	if err := s.persist(&record{K: "user", User: &userRec{UserID: "a"}}); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 500; i++ {
		from, to := "b", "a"
		if i == 7 {
			from, to = "a", "b" // a's only message: its has-read seq survives eviction
		}
		m := &sdkws.MsgData{SendID: from, RecvID: to, SessionType: 1, ContentType: 101, Content: []byte{byte('0' + i%10)}}
		if err := s.addMsg("si_a_b", m); err != nil {
			t.Fatal(err)
		}
		if i == 498 {
			if err := s.persist(&record{K: "del", Conv: "si_a_b", Seq: 497}); err != nil {
				t.Fatal(err)
			}
		}
		if n := lines(t, path); n > 60 {
			t.Fatalf("after %d messages the file has %d lines", i, n)
		}
	}
	want := stateOf(s)
	if want.first != 496 || want.max != 500 || !slices.Equal(want.seqs, []int64{496, -1, 498, 499, 500}) || want.read["a si_a_b"] != 7 {
		t.Fatalf("state %+v", want)
	}
	if err := s.close(); err != nil {
		t.Fatal(err)
	}
	s, err = openStore(path, 5)
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	got := stateOf(s)
	if got.first != want.first || got.max != want.max || !slices.Equal(got.seqs, want.seqs) || !slices.Equal(got.texts, want.texts) ||
		len(got.read) != len(want.read) || got.read["a si_a_b"] != 7 || got.read["b si_a_b"] != 500 || !slices.Equal(got.records, want.records) {
		t.Fatalf("reloaded %+v\nwant %+v", got, want)
	}
	if s.users["a"] == nil {
		t.Fatal("the user record was lost")
	}
	// Appending goes on after a reload.
	if err := s.addMsg("si_a_b", &sdkws.MsgData{SendID: "b", RecvID: "a", SessionType: 1, ContentType: 101, Content: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	if s.convs["si_a_b"].maxSeq() != 501 {
		t.Fatalf("max seq %d", s.convs["si_a_b"].maxSeq())
	}
}
