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

// runInBackground runs b until the returned stop is called; stop cancels
// Run and reports an error it returned.
func runInBackground(t *testing.T, b *bot.Bot) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- b.Run(ctx) }()
	return func() {
		cancel()
		if err := <-runErr; err != nil {
			t.Errorf("Run: %v", err)
		}
	}
}

// overLimitCatchup is a catch-up of n+1 texts from alice to the bot, the
// one at seq hugeAt over the client's read limit and each other one of
// pad bytes plus a number.
type overLimitCatchup struct {
	n, hugeAt, pad int
	limit          string       // the limit, for the failure messages
	opts           []bot.Option // added to the bot's options
}

// check runs the catch-up and asserts that the message over the limit is
// skipped and reported (OnError with a *bot.MessageTooLargeError), every
// other message is handled in order, and the bot connects at most 3 times.
func (o overLimitCatchup) check(t *testing.T) {
	t.Helper()
	s := sandboxWithUsers(t, sandbox.Config{}, "bot", "alice")
	conv := content.SingleConversationID("bot", "alice")
	pad := strings.Repeat("x", o.pad)
	for i := 1; i <= o.n+1; i++ {
		text := fmt.Sprintf("%03d %s", i, pad)
		if i == o.hugeAt {
			// 1.1 MB; about 2 KB gzipped.
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
	opts := []bot.Option{
		bot.WithGateway(s.WSURL()), bot.WithUser("bot"), bot.WithAdminSecret(s.APIURL(), sandbox.DefaultSecret),
		bot.WithStorage(filepath.Join(t.TempDir(), "bot.db")), bot.WithBacklog(bot.BacklogAll),
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
			if len(handled) == o.n {
				close(all)
			}
			return nil
		})),
	}
	b, err := bot.New(append(opts, o.opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	defer runInBackground(t, b)()
	select {
	case <-all:
	case <-time.After(20 * time.Second):
		mu.Lock()
		k := len(handled)
		mu.Unlock()
		t.Fatalf("handled %d of %d messages in 20s with %d connections", k, o.n, connects.Load())
	}
	mu.Lock()
	got := append([]int64(nil), handled...)
	mu.Unlock()
	want := int64(1)
	for _, seq := range got {
		if want == int64(o.hugeAt) {
			want++
		}
		if seq != want {
			t.Fatalf("handled seqs %v, want 1…%d without %d", got, o.n+1, o.hugeAt)
		}
		want++
	}
	select {
	case e := <-tooLarge:
		if e.ConversationID != conv || e.Seq != int64(o.hugeAt) {
			t.Errorf("MessageTooLargeError %+v, want conversation %s seq %d", e, conv, o.hugeAt)
		}
	case <-time.After(5 * time.Second):
		t.Errorf("the message over the %s was not reported", o.limit)
	}
	// The huge message costs one lost connection when it is probed on its
	// own; answers that merely add up to more than the limit cost none.
	if n := connects.Load(); n > 3 {
		t.Errorf("%d connections for one catch-up: the answers over the %s dropped the connection again and again", n, o.limit)
	}
	t.Logf("%d connections; %+v", connects.Load(), b.Stats())
}

// A catch-up of 100 texts of 12 KB each (1.2 MB in all, far over the 1 MiB
// a client reads in one frame, while each is far under the gateway's
// 51,200-byte limit) is pulled in requests whose answers fit, and one
// message over the read limit on its own is skipped and reported (an
// error log and OnError with a *bot.MessageTooLargeError); every other
// message is handled in order, without a reconnect loop. Before the fix
// the bot reconnected about once a second forever.
func TestCatchupPullAnswersOverReadLimit(t *testing.T) {
	overLimitCatchup{n: 100, hugeAt: 51, pad: 12 << 10, limit: "read limit"}.check(t)
}
