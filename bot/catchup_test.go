package bot_test

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openimbot/openimbot/bot"
	"github.com/openimbot/openimbot/content"
	"github.com/openimbot/openimbot/sandbox"
	"github.com/openimbot/openimbot/transport"
)

// offlineBacklog registers the bot user "bot" and users u000…, and sends
// perUser texts from each user to the bot (nobody connected). It returns
// the number of messages per conversation.
func offlineBacklog(t testing.TB, s *sandbox.Server, users, perUser int) map[string]int64 {
	t.Helper()
	if err := s.RegisterUser("bot", "Bot"); err != nil {
		t.Fatal(err)
	}
	want := make(map[string]int64)
	for u := range users {
		id := fmt.Sprintf("u%03d", u)
		if err := s.RegisterUser(id, id); err != nil {
			t.Fatal(err)
		}
		want[content.SingleConversationID("bot", id)] = int64(perUser)
	}
	for i := range perUser {
		for u := range users {
			if _, err := s.SendText(fmt.Sprintf("u%03d", u), "bot", fmt.Sprint("m", i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	return want
}

// A replying bot that comes back to a backlog many times larger than its
// queues (2 shards of 4 items, a transport event queue of 16 messages),
// with the connection dropped in the middle of the catch-up, handles every
// message exactly once, in order, in bounded time. Before the fix it
// stalled: the transport waited for its full event queue to drain before
// redialling, the event loop that drains it was blocked enqueueing onto a
// full shard, and the shard workers were blocked in Reply waiting for a
// connection.
func TestCatchupReplyingSmallQueuesWithDrop(t *testing.T) {
	const users, perUser = 20, 40
	s, err := sandbox.Start(context.Background(), sandbox.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	want := offlineBacklog(t, s, users, perUser)
	total := users * perUser
	rec := newRecorder(total)
	var replied, replyErrs atomic.Int64
	var dropOnce sync.Once
	b, err := bot.New(
		bot.WithGateway(s.WSURL()), bot.WithUser("bot"), bot.WithAdminSecret(s.APIURL(), sandbox.DefaultSecret),
		bot.WithStorage(filepath.Join(t.TempDir(), "bot.db")), bot.WithBacklog(bot.BacklogAll),
		bot.WithWorkers(2), bot.WithQueueSize(4), bot.WithRateLimit(0, 0),
		bot.WithTransportConfig(func(c *transport.Config) {
			c.EventQueueCap = 16
			c.Backoff = func(int) time.Duration { return 20 * time.Millisecond }
			c.MaxReconnects = -1
		}),
		bot.WithHandler(bot.HandlerFunc(func(c *bot.Context) error {
			rec.record(c.Message())
			if rec.handled() == int64(total/4) {
				dropOnce.Do(func() { go s.DropAll() })
			}
			if err := c.Reply("ok"); err != nil {
				replyErrs.Add(1)
				return err
			}
			replied.Add(1)
			return nil
		})))
	if err != nil {
		t.Fatal(err)
	}
	defer runInBackground(t, b)()
	rec.wait(t, 20*time.Second)
	rec.checkExactlyOnce(t, want)
	// Still live afterwards: a new message is handled.
	if _, err := s.SendText("u000", "bot", "after"); err != nil {
		t.Fatal(err)
	}
	rec.waitN(t, total+1, 10*time.Second)
	t.Logf("%d messages handled, %d replies sent, %d replies failed (the drop), bot %+v",
		total, replied.Load(), replyErrs.Load(), b.Stats())
}

// The memory a catch-up holds does not grow with the backlog: with the
// sandbox in a child process, the live heap measured (after a GC) when 90%
// of the backlog was handled is about the same for 2,000 and for 12,000
// missed messages. Before the fix every pull result stayed referenced
// until the whole catch-up was delivered (~0.65 KB per message, about
// 6.5 MB more for the larger backlog).
func TestCatchupMemoryBoundedByQueues(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two sandbox processes")
	}
	live := func(msgs int) uint64 {
		ws, api, stop := startCatchupSandbox(t, 100, msgs)
		defer stop()
		var handled atomic.Int64
		measured := make(chan uint64, 1)
		all := make(chan struct{})
		b, err := bot.New(
			bot.WithGateway(ws), bot.WithUser("bot"), bot.WithAdminSecret(api, sandbox.DefaultSecret),
			bot.WithStorage(filepath.Join(t.TempDir(), "bot.db")), bot.WithBacklog(bot.BacklogAll),
			bot.WithHandler(bot.HandlerFunc(func(c *bot.Context) error {
				switch handled.Add(1) {
				case int64(msgs * 9 / 10):
					runtime.GC()
					s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
					metrics.Read(s)
					measured <- s[0].Value.Uint64()
				case int64(msgs):
					close(all)
				}
				return nil
			})))
		if err != nil {
			t.Fatal(err)
		}
		defer runInBackground(t, b)()
		select {
		case <-all:
		case <-time.After(60 * time.Second):
			t.Fatalf("handled %d of %d messages in 60s", handled.Load(), msgs)
		}
		return <-measured
	}
	small, large := live(2000), live(12000)
	t.Logf("live heap at 90%% of the catch-up: %.1f MB for 2,000 messages, %.1f MB for 12,000",
		float64(small)/(1<<20), float64(large)/(1<<20))
	if large > small+2<<20 {
		t.Errorf("the live heap grew by %.1f MB for 10,000 more missed messages: catch-up memory grows with the backlog",
			float64(large-small)/(1<<20))
	}
}
