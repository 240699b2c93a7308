package content

import (
	"encoding/json"
	"testing"
)

func BenchmarkDecode(b *testing.B) {
	for _, bc := range []struct {
		name string
		typ  ContentType
		raw  string
	}{
		{"text", TypeText, `{"content":"hello, how is the build going today?"}`},
		{"text-escaped", TypeText, `{"content":"line one\nline \"two\""}`},
		{"picture", TypePicture, picturePayload},
		{"at-text", TypeAtText, atTextPayload},
		{"quote", TypeQuote, quotePayload},
		{"notification", TypeGroupCreated, groupCreatedPayload},
	} {
		raw := []byte(bc.raw)
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(raw)))
			for b.Loop() {
				if _, err := Decode(bc.typ, raw); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkEncode(b *testing.B) {
	for _, bc := range []struct {
		name string
		e    Element
	}{
		{"text", NewText("hello, how is the build going today?")},
		{"at-text", NewAtText("@10002 hi", "10002")},
		{"quote", NewQuote("me!", receivedGroupText())},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Encode(bc.e); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkTextStdlib is the baseline the text fast path is measured
// against: the same payload through encoding/json (docs/performance.md
// stage 3). Compare the two from one run, as absolute
// figures move with machine load.
func BenchmarkTextStdlib(b *testing.B) {
	raw := []byte(`{"content":"hello, how is the build going today?"}`)
	b.ReportAllocs()
	for b.Loop() {
		var t Text
		if err := json.Unmarshal(raw, &t); err != nil {
			b.Fatal(err)
		}
	}
}
