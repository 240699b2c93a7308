package autoreply_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/openimbot/openimbot/bot"
	"github.com/openimbot/openimbot/content"
)

// BenchmarkRoute1000Rules measures routing one message through 1000 YAML
// rules and rendering the matching rule's template (the send itself fails
// at once: the context has no bot).
func BenchmarkRoute1000Rules(b *testing.B) {
	var y strings.Builder
	y.WriteString("rules:\n")
	for i := range 1000 {
		switch i % 4 {
		case 0:
			fmt.Fprintf(&y, "  - {keyword: word%d, reply: 'k{{.Sender}}'}\n", i)
		case 1:
			fmt.Fprintf(&y, "  - {prefix: 'p%d ', reply: 'p{{.Text}}'}\n", i)
		case 2:
			fmt.Fprintf(&y, "  - {command: '/c%d {x}', reply: 'c{{.x}}'}\n", i)
		case 3:
			fmt.Fprintf(&y, "  - {regex: '^r%d (?P<n>\\d+)$', reply: 'r{{.n}}'}\n", i)
		}
	}
	r, err := build(b, y.String())
	if err != nil {
		b.Fatal(err)
	}
	texts := []string{"say word996 now", "p997 hello", "/c998 abc", "r999 42", "nothing matches this"}
	msgs := make([]*content.Message, len(texts))
	for i, s := range texts {
		msgs[i] = &content.Message{SendID: "alice", RecvID: "bot", ConversationID: "si_alice_bot",
			SessionType: content.SingleChat, ContentType: content.TypeText, Elem: content.NewText(s)}
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		_ = r.Handle(bot.NewContext(ctx, msgs[i%len(msgs)], "bot"))
	}
}
