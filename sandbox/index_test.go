package sandbox

import (
	"maps"
	"math/rand/v2"
	"testing"

	"github.com/openimbot/openimbot/internal/pb/sdkws"
)

// The conversation records and has-read seqs the store keeps are those of
// every message indexed in full: the records of a conversation's last
// message are not made again, whichever way a single chat message goes,
// and conversations whose IDs collide ("a_b"+"c", "a"+"b_c") keep both
// pairs' records.
func TestIndexRecords(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	users := []string{"a", "b", "c", "a_b", "b_c", "bot"}
	s := newStore(0)
	wantConvs := map[string]map[string]convRec{}
	wantRead := map[string]map[string]int64{}
	seqs := map[string]int64{}
	for range 3000 {
		m := &sdkws.MsgData{SendID: users[r.IntN(len(users))], RecvID: users[r.IntN(len(users))],
			SessionType: []int32{1, 1, 1, 4, 2}[r.IntN(5)], ContentType: 101, Content: []byte("x")}
		if m.SessionType == 2 {
			m.GroupID = "g"
		}
		opts := map[string]bool(nil)
		if r.IntN(8) == 0 {
			opts = map[string]bool{"isNotNotification": false}
		}
		id := conversationID(m.SessionType, m.SendID, m.RecvID, m.GroupID, opts)
		if err := s.addMsg(id, m); err != nil {
			t.Fatal(err)
		}
		seqs[id]++
		if m.Seq != seqs[id] {
			t.Fatalf("seq %d, want %d", m.Seq, seqs[id])
		}
		if id[:2] == "n_" {
			continue
		}
		add := func(user string, rec convRec) {
			if wantConvs[user] == nil {
				wantConvs[user] = map[string]convRec{}
			}
			if _, ok := wantConvs[user][id]; !ok {
				wantConvs[user][id] = rec
			}
		}
		if wantRead[m.SendID] == nil {
			wantRead[m.SendID] = map[string]int64{}
		}
		wantRead[m.SendID][id] = m.Seq
		switch m.SessionType {
		case 1:
			add(m.SendID, convRec{1, m.RecvID})
			add(m.RecvID, convRec{1, m.SendID})
		case 4:
			add(m.RecvID, convRec{4, m.SendID})
		}
	}
	if !maps.EqualFunc(s.userConvs, wantConvs, maps.Equal) {
		t.Fatalf("records %v\nwant %v", s.userConvs, wantConvs)
	}
	if !maps.EqualFunc(s.hasRead, wantRead, maps.Equal) {
		t.Fatalf("has-read %v\nwant %v", s.hasRead, wantRead)
	}
}
