package content

import (
	"encoding/json"
	"testing"
)

// FuzzDecode checks that Decode never panics and never returns a nil
// Element, that what decodes without error re-encodes and decodes back to
// the same encoding, and that the text fast path agrees with encoding/json.
// Seeds live in testdata/fuzz/FuzzDecode.
func FuzzDecode(f *testing.F) {
	f.Add(int32(TypeText), []byte(`{"content":"hello"}`))
	f.Add(int32(TypeQuote), []byte(quotePayload))
	f.Fuzz(func(t *testing.T, typ int32, raw []byte) {
		ct := ContentType(typ)
		e, err := Decode(ct, raw)
		if e == nil {
			t.Fatal("nil Element")
		}
		if err != nil {
			if u, ok := e.(*Unknown); !ok || string(u.Raw) != string(raw) {
				t.Fatalf("error %v with element %#v", err, e)
			}
			return
		}
		if ct == TypeText {
			var want Text
			if jerr := json.Unmarshal(raw, &want); jerr != nil || want.Content != e.(*Text).Content {
				t.Fatalf("text %q: got %q, encoding/json %q %v", raw, e.(*Text).Content, want.Content, jerr)
			}
		}
		if _, ok := e.(*Unknown); ok {
			return
		}
		_ = (&Message{Elem: e}).Text()
		b1, err := Encode(e)
		if err != nil {
			// Encode refuses only incomplete quotes and mentions.
			switch v := e.(type) {
			case *Quote:
				if v.QuoteMessage == nil {
					return
				}
			case *AtText:
				if len(v.AtUserList) == 0 {
					return
				}
			}
			t.Fatalf("Encode(%#v): %v", e, err)
		}
		e2, err := Decode(ct, b1)
		if err != nil {
			t.Fatalf("re-decode %s: %v", b1, err)
		}
		b2, err := Encode(e2)
		if err != nil || string(b1) != string(b2) {
			t.Fatalf("unstable encoding:\n%s\n%s\n%v", b1, b2, err)
		}
		if q := e2; q != nil {
			switch v := q.(type) {
			case *Quote:
				_ = v.QuoteMessage.Message()
			case *AtText:
				_ = v.QuoteMessage.Message()
			case *Merge:
				for _, mm := range v.MultiMessage {
					_ = mm.Message()
				}
			}
		}
	})
}
