package bot_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openimbot/openimbot/bot"
	"github.com/openimbot/openimbot/content"
	"github.com/openimbot/openimbot/transport"
)

// recordingSender is a MsgSender that records the trigger of each send.
type recordingSender struct {
	mu       sync.Mutex
	triggers []string
}

func (s *recordingSender) SendMsg(ctx context.Context, m *content.Message) (transport.SendResult, error) {
	t := bot.TriggerOf(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	if t == nil {
		s.triggers = append(s.triggers, "<nil>")
	} else {
		s.triggers = append(s.triggers, fmt.Sprintf("%s/%d->%s", t.ConversationID, t.Seq, m.RecvID))
	}
	return transport.SendResult{ServerMsgID: "s"}, nil
}

// A relay worker runs handlers on dispatched messages, in order per
// conversation, calls done after each handler (also after a panic), and its
// sends carry the message they answer.
func TestRelayDispatch(t *testing.T) {
	snd := &recordingSender{}
	var mu sync.Mutex
	handled := map[string][]int64{}
	b, err := bot.New(
		bot.WithUser("bot"), bot.WithAdminSecret("http://127.0.0.1:1", "secret"), bot.WithGateway("ws://127.0.0.1:1"),
		bot.WithStorage(filepath.Join(t.TempDir(), "w.db")),
		bot.WithHandler(bot.HandlerFunc(func(c *bot.Context) error {
			m := c.Message()
			mu.Lock()
			handled[m.ConversationID] = append(handled[m.ConversationID], m.Seq)
			mu.Unlock()
			if m.Seq == 3 {
				panic("boom")
			}
			return c.Reply("ok")
		})),
		bot.WithRelay("cluster", snd))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Dispatch(context.Background(), &content.Message{ConversationID: "si_a_bot", Seq: 1}, nil); !errors.Is(err, bot.ErrNotConnected) {
		t.Fatalf("Dispatch before Run: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	runErr := make(chan error, 1)
	go func() { runErr <- b.Run(ctx) }()
	deadline := time.Now().Add(5 * time.Second)
	for b.Dispatch(ctx, &content.Message{ConversationID: "warmup", Seq: 0, SendID: "x"}, nil) != nil {
		if time.Now().After(deadline) {
			t.Fatal("the relay bot did not start")
		}
		time.Sleep(5 * time.Millisecond)
	}
	var done sync.WaitGroup
	var dones sync.Map
	for seq := int64(1); seq <= 5; seq++ {
		for _, u := range []string{"u1", "u2"} {
			conv := content.SingleConversationID("bot", u)
			m := &content.Message{ConversationID: conv, SendID: u, RecvID: "bot", SessionType: content.SingleChat, Seq: seq, Elem: content.NewText("hi")}
			done.Add(1)
			key := fmt.Sprintf("%s/%d", conv, seq)
			if err := b.Dispatch(ctx, m, func() {
				if _, dup := dones.LoadOrStore(key, true); dup {
					t.Errorf("done called twice for %s", key)
				}
				done.Done()
			}); err != nil {
				t.Fatal(err)
			}
		}
	}
	done.Wait()
	mu.Lock()
	for _, u := range []string{"u1", "u2"} {
		conv := content.SingleConversationID("bot", u)
		if got := fmt.Sprint(handled[conv]); got != "[1 2 3 4 5]" {
			t.Errorf("%s handled %s", conv, got)
		}
	}
	mu.Unlock()
	snd.mu.Lock()
	// The warm-up's reply may or may not be out yet (its conversation is
	// not waited for): count the replies to the ten messages.
	replies := 0
	for _, tr := range snd.triggers {
		switch {
		case tr == "<nil>":
			t.Errorf("a reply without its trigger: %v", snd.triggers)
		case strings.HasPrefix(tr, "warmup/"):
		default:
			replies++
		}
	}
	if replies != 8 { // 10 messages, two panics
		t.Errorf("replies: %d %v", replies, snd.triggers)
	}
	snd.mu.Unlock()
	cancel()
	if err := <-runErr; err != nil {
		t.Fatal(err)
	}
}
