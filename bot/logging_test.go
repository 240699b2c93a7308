package bot_test

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/openimbot/openimbot/bot"
	"github.com/openimbot/openimbot/bot/bottest"
	"github.com/openimbot/openimbot/content"
	"github.com/openimbot/openimbot/internal/testchild"
)

// countLines counts the lines of s that contain substr.
func countLines(s, substr string) int {
	n := 0
	for _, line := range strings.Split(s, "\n") {
		if strings.Contains(line, substr) {
			n++
		}
	}
	return n
}

// TestLogLinesOnceAndUndecodableContent: at info, a connection is logged
// once (not by the transport and again by the bot), and a message whose
// content does not decode is logged as a warning before handlers get it as
// *content.Unknown.
func TestLogLinesOnceAndUndecodableContent(t *testing.T) {
	var logs testchild.Buffer
	got := make(chan content.Message, 1)
	h := bottest.Start(t, bot.HandlerFunc(func(c *bot.Context) error {
		got <- *c.Message()
		return nil
	}), bottest.WithBotOptions(bot.WithLogger(slog.New(slog.NewTextHandler(&logs, nil)))))
	if n := countLines(logs.String(), "connected"); n != 1 {
		t.Errorf("%d log lines about the connection, want 1:\n%s", n, logs.String())
	}
	m := content.Message{SendID: "alice", RecvID: h.BotID(), SessionType: content.SingleChat,
		ContentType: content.TypeText, Content: []byte(`{"content":5}`)}
	if _, err := h.Sandbox().Inject(m); err != nil {
		t.Fatal(err)
	}
	r := <-got
	if u, ok := r.Elem.(*content.Unknown); !ok || u.Err == nil {
		t.Fatalf("handler got %T", r.Elem)
	}
	if countLines(logs.String(), "level=WARN msg=\"bot: message content does not decode") != 1 {
		t.Fatalf("no warning:\n%s", logs.String())
	}
}
