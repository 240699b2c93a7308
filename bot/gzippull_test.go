package bot_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openimbot/openimbot/bot"
	"github.com/openimbot/openimbot/content"
	"github.com/openimbot/openimbot/sandbox"
	"github.com/openimbot/openimbot/transport"
)

// With gzip, a message that inflates past the 1 MiB a client inflates one
// frame to (however small its compressed frame) is over the read limit as
// well: it is skipped and reported like one over the limit without gzip,
// and every other message is handled in order, without a reconnect loop.
func TestCatchupGzipAnswerInflatesOverLimit(t *testing.T) {
	const n = 30
	s, err := sandbox.Start(context.Background(), sandbox.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, u := range []string{"bot", "alice"} {
		if err := s.RegisterUser(u, u); err != nil {
			t.Fatal(err)
		}
	}
	conv := content.SingleConversationID("bot", "alice")
	const hugeAt = 11
	for i := 1; i <= n+1; i++ {
		text := fmt.Sprintf("%03d %s", i, strings.Repeat("x", 1000))
		if i == hugeAt {
			// About 2 KB gzipped, 1.1 MB inflated.
			text = "huge " + strings.Repeat("y", 1100<<10)
		}
		if _, err := s.SendText("alice", "bot", text); err != nil {
			t.Fatal(err)
		}
	}
	var handled []int64
	var mu sync.Mutex
	all := make(chan struct{})
	var connects atomic.Int32
	tooLarge := make(chan *bot.MessageTooLargeError, 4)
	b, err := bot.New(
		bot.WithGateway(s.WSURL()), bot.WithUser("bot"), bot.WithAdminSecret(s.APIURL(), sandbox.DefaultSecret),
		bot.WithStorage(filepath.Join(t.TempDir(), "bot.db")), bot.WithBacklog(bot.BacklogAll),
		bot.WithCompression(true),
		bot.WithTransportConfig(func(c *transport.Config) {
			c.Backoff = func(int) time.Duration { return 50 * time.Millisecond }
			c.MaxReconnects = -1
		}),
		bot.WithOnConnected(func() { connects.Add(1) }),
		bot.WithOnError(func(err error) {
			var e *bot.MessageTooLargeError
			if errors.As(err, &e) {
				tooLarge <- e
			}
		}),
		bot.WithHandler(bot.HandlerFunc(func(c *bot.Context) error {
			mu.Lock()
			defer mu.Unlock()
			handled = append(handled, c.Message().Seq)
			if len(handled) == n {
				close(all)
			}
			return nil
		})))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- b.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-runErr; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	select {
	case <-all:
	case <-time.After(20 * time.Second):
		mu.Lock()
		k := len(handled)
		mu.Unlock()
		t.Fatalf("handled %d of %d messages in 20s with %d connections", k, n, connects.Load())
	}
	mu.Lock()
	got := append([]int64(nil), handled...)
	mu.Unlock()
	want := int64(1)
	for _, seq := range got {
		if want == hugeAt {
			want++
		}
		if seq != want {
			t.Fatalf("handled seqs %v, want 1…%d without %d", got, n+1, hugeAt)
		}
		want++
	}
	select {
	case e := <-tooLarge:
		if e.ConversationID != conv || e.Seq != hugeAt {
			t.Errorf("MessageTooLargeError %+v, want conversation %s seq %d", e, conv, hugeAt)
		}
	case <-time.After(5 * time.Second):
		t.Error("the message over the inflate limit was not reported")
	}
	if c := connects.Load(); c > 3 {
		t.Errorf("%d connections for one catch-up", c)
	}
}
