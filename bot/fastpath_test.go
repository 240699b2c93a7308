package bot_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openimbot/openimbot/bot"
	"github.com/openimbot/openimbot/bot/bottest"
	"github.com/openimbot/openimbot/content"
)

// While the bot keeps up, every push (the message, and the echo of the
// bot's reply) is handled on the connection's read loop: Stats.Inline
// counts them all.
func TestPushFastPath(t *testing.T) {
	h := bottest.Start(t, bot.HandlerFunc(func(c *bot.Context) error {
		return c.Reply("re " + c.Text())
	}), bottest.WithBotOptions(bot.WithRateLimit(0, 0)))
	// A first exchange, so the event loop is surely waiting after the
	// first sync.
	h.Say("alice", "warm-up")
	h.WaitReply(10 * time.Second)
	before := h.Bot().Stats()
	const n = 50
	for i := range n {
		h.Say(fmt.Sprint("user", i%5), fmt.Sprint("m", i))
		if got, want := h.WaitReplyText(10*time.Second), fmt.Sprint("re m", i); got != want {
			t.Fatalf("reply %q, want %q", got, want)
		}
	}
	// The echo of the last reply may still be on its way.
	deadline := time.Now().Add(10 * time.Second)
	for h.Bot().Stats().Pushed-before.Pushed < 2*n && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	st := h.Bot().Stats()
	pushed, inline := st.Pushed-before.Pushed, st.Inline-before.Inline
	if pushed != 2*n {
		t.Fatalf("%d messages pushed, want %d (the messages and the echoes of the replies)", pushed, 2*n)
	}
	if inline != pushed+st.Duplicates-before.Duplicates {
		t.Fatalf("%d of %d pushed messages handled on the read loop, want all; stats %+v", inline, pushed, st)
	}
}

// The fast path and its fallbacks interleaved: full shards (4 shards of
// 16 and a conversation whose handler is slow now and then), gaps (pushes
// withheld by the server), syncs in progress (Bot.SyncNow in a loop). Every message is handled exactly once
// and in seq order per conversation, and the bot's replies, one per
// message, are at the sandbox in that order. (TestSyncExactlyOnceUnderDrops
// adds reconnects.)
func TestPushFastPathInterleaved(t *testing.T) {
	const convs, perConv = 12, 60
	total := convs * perConv
	rec := newRecorder(total)
	h := bottest.Start(t, bot.HandlerFunc(func(c *bot.Context) error {
		m := c.Message()
		if m.SendID == "u00" && m.Seq%20 == 0 {
			time.Sleep(3 * time.Millisecond) // its shard's queue fills behind it
		}
		rec.record(m)
		return c.Reply(fmt.Sprintf("re %d", m.Seq))
	}), bottest.WithBotOptions(bot.WithWorkers(4), bot.WithQueueSize(16), bot.WithRateLimit(0, 0)))
	s := h.Sandbox()
	users := make([]string, convs)
	want := make(map[string]int64)
	for i := range users {
		users[i] = fmt.Sprintf("u%02d", i)
		if err := s.RegisterUser(users[i], users[i]); err != nil {
			t.Fatal(err)
		}
		want[content.SingleConversationID(h.BotID(), users[i])] = perConv
	}
	before := h.Bot().Stats()

	ctx, cancel := context.WithCancel(context.Background())
	var faults sync.WaitGroup
	var syncs atomic.Int64
	faults.Add(2)
	go func() { // syncs in progress
		defer faults.Done()
		for ctx.Err() == nil {
			if h.Bot().SyncNow(ctx) == nil {
				syncs.Add(1)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	go func() { // gaps
		defer faults.Done()
		for ctx.Err() == nil {
			s.WithholdPushes(true)
			time.Sleep(time.Millisecond)
			s.WithholdPushes(false)
			time.Sleep(10 * time.Millisecond)
		}
	}()

	var wg sync.WaitGroup
	var sent atomic.Int64
	for w := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perConv {
				for u := w; u < convs; u += 3 {
					for deadline := time.Now().Add(30 * time.Second); sent.Load()-rec.handled() > 24 && time.Now().Before(deadline); {
						time.Sleep(100 * time.Microsecond)
					}
					sent.Add(1)
					if _, err := s.SendText(users[u], h.BotID(), fmt.Sprint("m", i)); err != nil {
						t.Error(err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	rec.wait(t, 60*time.Second)
	cancel()
	faults.Wait()
	s.WithholdPushes(false)
	// A barrier: one more message per conversation, handled after
	// everything before it, so a late duplicate would have shown up.
	for _, u := range users {
		m := h.Say(u, "barrier")
		want[m.ConversationID]++
	}
	rec.waitN(t, total+convs, 20*time.Second)

	// Per conversation, the handled seqs and the seqs the replies answer
	// are both the user's messages at the sandbox, each once, in order
	// (the replies take seqs of the conversation too).
	for conv := range want {
		var userSeqs []int64
		for _, m := range s.Messages(conv) {
			if m.SendID != h.BotID() {
				userSeqs = append(userSeqs, m.Seq)
			}
		}
		if int64(len(userSeqs)) != want[conv] {
			t.Fatalf("%s: %d messages at the sandbox, want %d", conv, len(userSeqs), want[conv])
		}
		rec.mu.Lock()
		handled := append([]int64(nil), rec.seqs[conv]...)
		rec.mu.Unlock()
		if !slices.Equal(handled, userSeqs) {
			t.Errorf("%s: handled seqs %v, want %v", conv, handled, userSeqs)
		}
		var replies []int64
		for deadline := time.Now().Add(10 * time.Second); ; {
			replies = replies[:0]
			for _, m := range s.Messages(conv) {
				if m.SendID != h.BotID() {
					continue
				}
				seq, err := strconv.ParseInt(strings.TrimPrefix(m.Text(), "re "), 10, 64)
				if err != nil {
					t.Fatalf("%s: reply %q", conv, m.Text())
				}
				replies = append(replies, seq)
			}
			if len(replies) >= len(userSeqs) || time.Now().After(deadline) {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		if !slices.Equal(replies, userSeqs) {
			t.Errorf("%s: the replies answer seqs %v, want %v", conv, replies, userSeqs)
		}
	}

	st := h.Bot().Stats()
	handled := st.Pushed - before.Pushed + st.Duplicates - before.Duplicates
	inline := st.Inline - before.Inline
	t.Logf("stats %+v; %d SyncNow calls", st, syncs.Load())
	if inline == 0 || inline >= handled {
		t.Errorf("%d of %d pushed messages handled on the read loop: want the fast path and the fallback both used", inline, handled)
	}
	if st.Gaps+st.Pulled == before.Gaps+before.Pulled {
		t.Errorf("no gap filled and nothing pulled: the withheld pushes did not happen")
	}
}
