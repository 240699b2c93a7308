package sandbox

import (
	"bytes"
	"testing"
	"time"
)

func FuzzParseToken(f *testing.F) {
	now := time.Unix(1_700_000_000, 0)
	f.Add(signToken("k", claims{UserID: "u", PlatformID: 7, Exp: now.Unix() + 60, Iat: now.Unix()}))
	f.Add("a.b.c")
	f.Add("eyJhbGciOiJIUzI1NiJ9..")
	f.Add("")
	f.Fuzz(func(t *testing.T, tok string) {
		c, cerr := parseToken("k", tok, now)
		if cerr == nil {
			// Only tokens we could have signed pass.
			if signToken("k", c) == "" {
				t.Fatal("unreachable")
			}
			return
		}
		if cerr.Code < 1501 || cerr.Code > 1507 {
			t.Fatalf("code %d", cerr.Code)
		}
	})
}

func FuzzStoreLoad(f *testing.F) {
	f.Add([]byte("{\"k\":\"user\",\"user\":{\"userID\":\"a\"}}\n"))
	f.Add([]byte("{\"k\":\"msg\",\"conv\":\"si_a_b\",\"msg\":\"cAE=\"}\n{\"k\":\"del\",\"conv\":\"si_a_b\",\"seq\":1}\n"))
	f.Add([]byte("{\"k\":\"msg\",\"conv\":\"x\",\"msg\":\"cP////8P\"}\n"))
	f.Add([]byte("{\"k\":\"token\",\"token\":{\"key\":\"k\",\"userID\":\"a\"}}\ntorn"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s := newStore(3) // small, so that eviction is fuzzed too
		s.path = "fuzz"
		off, err := s.load(bytes.NewReader(data))
		if err != nil {
			return
		}
		if off > int64(len(data)) {
			t.Fatalf("offset %d beyond %d", off, len(data))
		}
		for id, c := range s.convs {
			if len(c.msgs) > 3 || c.first < 1 {
				t.Fatalf("%s: %d messages from seq %d", id, len(c.msgs), c.first)
			}
			for i, m := range c.msgs {
				if m != nil && m.Seq != c.first+int64(i) {
					t.Fatalf("%s: message at %d has seq %d", id, c.first+int64(i), m.Seq)
				}
			}
		}
	})
}
