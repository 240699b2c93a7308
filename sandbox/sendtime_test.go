package sandbox

import (
	"fmt"
	"testing"

	"github.com/openimbot/openimbot/internal/pb/sdkws"
)

// sendTimeLocked gives each conversation strictly increasing sendTimes,
// starting above the newest stored message's.
func TestSendTimeIncreases(t *testing.T) {
	s := &Server{st: newStore(0)}
	s.st.conv("z").add(&sdkws.MsgData{SendTime: 500}, 0)
	s.st.conv("z").add(nil, 0) // a deleted message after it
	for i, c := range []struct {
		conv string
		t    int64
		want int64
	}{{"x", 100, 100}, {"x", 100, 101}, {"x", 50, 102}, {"x", 200, 200}, {"y", 7, 7}, {"z", 100, 501}, {"z", 0, 0}} {
		got := s.sendTimeLocked(c.conv, c.t)
		if c.t == 0 {
			if got < 1_700_000_000_000 {
				t.Fatalf("%d: sendTime %d for 0, want now", i, got)
			}
			continue
		}
		if got != c.want {
			t.Fatalf("%d: sendTime %d in %s for %d, want %d", i, got, c.conv, c.t, c.want)
		}
	}
}

func BenchmarkSendTime(b *testing.B) {
	s := &Server{st: newStore(0)}
	ids := make([]string, 100)
	for i := range ids {
		ids[i] = fmt.Sprintf("si_bot_user%03d", i)
	}
	b.ReportAllocs()
	for i := range b.N {
		s.sendTimeLocked(ids[i%len(ids)], 1700000000000)
	}
}
