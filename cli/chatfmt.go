package cli

import (
	"cmp"
	"fmt"
	"io"
	"strings"

	"github.com/openimbot/openimbot/content"
)

// writeChatLine prints a message of a chat transcript, as the console and
// `openimbot chat` show them: "who> text", with a line "who> | sender:
// quoted text" first when the message quotes another, the kind in brackets
// for content without text ("[picture]"), and continuation lines indented
// under the text. It is what tells the bot's replies from the lines typed.
func writeChatLine(w io.Writer, who string, m *content.Message) {
	if m.Elem == nil {
		_ = m.DecodeContent()
	}
	prefix := who + "> "
	pad := strings.Repeat(" ", len(prefix))
	var b strings.Builder
	line := func(s string) {
		for i, l := range strings.Split(s, "\n") {
			if i == 0 {
				b.WriteString(prefix)
			} else {
				b.WriteString(pad)
			}
			b.WriteString(l)
			b.WriteByte('\n')
		}
	}
	var quoted *content.QuotedMessage
	switch e := m.Elem.(type) {
	case *content.Quote:
		quoted = e.QuoteMessage
	case *content.AtText:
		quoted = e.QuoteMessage
	}
	if quoted != nil {
		qm := quoted.Message()
		from := cmp.Or(qm.SenderNickname, qm.SendID, "?")
		line("| " + from + ": " + oneLine(messageText(qm), 60))
	}
	line(messageText(m))
	fmt.Fprint(w, b.String())
}

// messageText is a message's text, or its kind in brackets.
func messageText(m *content.Message) string {
	if m.Elem == nil {
		_ = m.DecodeContent()
	}
	if t := m.Text(); t != "" {
		return t
	}
	return "[" + m.ContentType.String() + "]"
}

// oneLine shortens s to one line of at most n characters.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
