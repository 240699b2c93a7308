package bot_test

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openimbot/openimbot/bot"
	"github.com/openimbot/openimbot/transport"
)

// closedAddr returns a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// TestReconnectsForeverByDefault: a bot keeps dialing an unreachable
// gateway (past the transport's own default of 300 attempts) until told
// otherwise; WithMaxReconnects(n) gives up after n.
func TestReconnectsForeverByDefault(t *testing.T) {
	newBot := func(failures *atomic.Int64, opts ...bot.Option) *bot.Bot {
		t.Helper()
		opts = append([]bot.Option{
			bot.WithGateway("ws://" + closedAddr(t)), bot.WithUser("b1"), bot.WithToken("t"),
			bot.WithStorage(filepath.Join(t.TempDir(), "b.db")),
			bot.WithHandler(bot.HandlerFunc(func(*bot.Context) error { return nil })),
			bot.WithTransportConfig(func(c *transport.Config) { c.Backoff = func(int) time.Duration { return 0 } }),
			bot.WithOnConnectFailed(func(error) { failures.Add(1) }),
		}, opts...)
		b, err := bot.New(opts...)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}

	var failures atomic.Int64
	b := newBot(&failures)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	deadline := time.Now().Add(20 * time.Second)
	for failures.Load() <= transport.DefaultMaxReconnects+20 {
		select {
		case err := <-done:
			t.Fatalf("Run gave up after %d failed dials: %v", failures.Load(), err)
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d failed dials in 20s", failures.Load())
		}
	}
	cancel()
	if err := <-done; errors.Is(err, transport.ErrReconnectsExhausted) {
		t.Fatalf("Run after cancel: %v", err)
	}

	var few atomic.Int64
	b = newBot(&few, bot.WithMaxReconnects(3))
	err := b.Run(context.Background())
	if !errors.Is(err, transport.ErrReconnectsExhausted) || few.Load() != 3 {
		t.Fatalf("WithMaxReconnects(3): Run = %v after %d failed dials", err, few.Load())
	}
}
