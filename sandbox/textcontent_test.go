package sandbox

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/openimbot/openimbot/content"
)

// textContent writes what encoding/json writes for {"content": text},
// for texts with and without characters it escapes.
func TestTextContentMatchesJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	pieces := []string{"a", "kw3x", " ", "ü", "日本", "\"", "\\", "<", ">", "&", "\n", "\x00", "\x7f", "\u2028", "\u2029", "\xff", "\xe2\x82", "😀"}
	texts := []string{"", "hello", "a message with kw3x inside"}
	for pos := range 24 { // a character to escape at every place of the 8-byte words
		for _, p := range pieces {
			texts = append(texts, strings.Repeat("a", pos)+p+strings.Repeat("b", 24-pos))
		}
	}
	for range 5000 {
		var b []byte
		for range r.IntN(8) {
			b = append(b, pieces[r.IntN(len(pieces))]...)
		}
		texts = append(texts, string(b))
	}
	for _, text := range texts {
		want, err := json.Marshal(struct {
			Content string `json:"content"`
		}{text})
		if err != nil {
			t.Fatal(err)
		}
		got, elem := textContent(text)
		if !bytes.Equal(got, want) {
			t.Fatalf("%q: got %s, want %s", text, got, want)
		}
		// The element given with the content is the one it decodes to.
		if dec, err := content.Decode(content.TypeText, got); elem != nil && (err != nil || !reflect.DeepEqual(elem, dec)) {
			t.Fatalf("%q: element %#v, decoded %#v (%v)", text, elem, dec, err)
		}
	}
}

func BenchmarkTextContent(b *testing.B) {
	text := "a message of about the length of a chat line, with kw3x inside"
	b.ReportAllocs()
	for range b.N {
		textContent(text)
	}
}
