package bot_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openimbot/openimbot/bot"
	"github.com/openimbot/openimbot/bot/bottest"
	"github.com/openimbot/openimbot/content"
	"github.com/openimbot/openimbot/sandbox"
	"github.com/openimbot/openimbot/transport"
)

// fastReconnect makes the bot redial at once after a drop.
func fastReconnect() bot.Option {
	return bot.WithTransportConfig(func(c *transport.Config) {
		c.Backoff = func(int) time.Duration { return 5 * time.Millisecond }
		c.MaxReconnects = -1
	})
}

type offlineRecorder struct {
	*recorder
	mu      sync.Mutex
	offline map[string][]bool
}

func (r *offlineRecorder) handler() bot.Handler {
	return bot.HandlerFunc(func(c *bot.Context) error {
		r.mu.Lock()
		m := c.Message()
		r.offline[m.ConversationID] = append(r.offline[m.ConversationID], c.Offline())
		r.mu.Unlock()
		r.record(m)
		return nil
	})
}

func newOfflineRecorder(want int) *offlineRecorder {
	return &offlineRecorder{recorder: newRecorder(want), offline: make(map[string][]bool)}
}

// (a) Every message handled exactly once, in seq order per conversation,
// while the gateway drops the connection every 500 frames.
func TestSyncExactlyOnceUnderDrops(t *testing.T) {
	convs, perConv := 100, 100
	rec := newRecorder(convs * perConv)
	connects := 0
	var cmu sync.Mutex
	h := bottest.Start(t, bot.HandlerFunc(func(c *bot.Context) error {
		rec.record(c.Message())
		return nil
	}), bottest.WithBotOptions(fastReconnect(), bot.WithOnConnected(func() {
		cmu.Lock()
		connects++
		cmu.Unlock()
	})))
	s := h.Sandbox()
	s.DropEvery(500)
	want := make(map[string]int64)
	users := make([]string, convs)
	for i := range users {
		users[i] = fmt.Sprintf("u%03d", i)
		if err := s.RegisterUser(users[i], users[i]); err != nil {
			t.Fatal(err)
		}
		want[content.SingleConversationID(h.BotID(), users[i])] = int64(perConv)
	}
	start := time.Now()
	var wg sync.WaitGroup
	var sent atomic.Int64
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perConv {
				for u := w; u < convs; u += 4 {
					// Keep the bot at most 500 messages behind, so most
					// messages arrive as pushes rather than bulk pulls.
					for deadline := time.Now().Add(30 * time.Second); sent.Load()-rec.handled() > 500 && time.Now().Before(deadline); {
						time.Sleep(200 * time.Microsecond)
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
	rec.wait(t, 50*time.Second)
	el := time.Since(start)
	s.DropEvery(0)
	// A barrier: one more message, handled after everything before it, so
	// a late duplicate would have shown up.
	last := h.Say(users[0], "barrier")
	want[last.ConversationID]++
	rec.waitN(t, convs*perConv+1, 20*time.Second)
	rec.checkExactlyOnce(t, want)
	cmu.Lock()
	defer cmu.Unlock()
	if connects < 3 {
		t.Errorf("the bot connected %d times: the drops did not happen", connects)
	}
	st := s.Stats()
	t.Logf("%d messages over %d conversations in %v with %d connections (DropEvery 500); sandbox pushes %d, frames out %d; bot %+v",
		convs*perConv, convs, el.Round(time.Millisecond), connects, st.Pushes, st.FramesOut, h.Bot().Stats())
}

// (c) Messages sent while the bot is down: all handled once with BacklogAll,
// none with BacklogSkip, the newest N with BacklogLast(N); and after a
// restart every message sent while down is handled, whatever the policy.
func TestSyncBacklogPolicies(t *testing.T) {
	const users, per = 5, 10
	setup := func(s *sandbox.Server) error {
		if err := s.CreateGroup("grp", "bot", "u0", "u1"); err != nil && err.Error() == "" {
			return err
		}
		for u := range users {
			user := fmt.Sprint("u", u)
			for i := range per {
				if _, err := s.SendText(user, "bot", fmt.Sprint("old", i)); err != nil {
					return err
				}
			}
		}
		for i := range per {
			if _, err := s.SendGroupText("u1", "grp", fmt.Sprint("g", i)); err != nil {
				return err
			}
		}
		return nil
	}
	users5 := []string{"u0", "u1", "u2", "u3", "u4"}
	for _, tc := range []struct {
		name    string
		policy  bot.Backlog
		perConv int
	}{
		{"all", bot.BacklogAll, per},
		{"skip", bot.BacklogSkip, 0},
		{"last3", bot.BacklogLast(3), 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := (users + 1) * tc.perConv
			rec := newOfflineRecorder(want + 1) // + the live message
			h := bottest.Start(t, rec.handler(), bottest.WithUsers(users5...), bottest.WithSetup(setup),
				bottest.WithBacklog(tc.policy))
			live := h.Say("u0", "live")
			rec.wait(t, 20*time.Second)
			rec.mu.Lock()
			defer rec.mu.Unlock()
			rec.recorder.mu.Lock()
			defer rec.recorder.mu.Unlock()
			for conv, seqs := range rec.seqs {
				n := len(seqs)
				if conv == live.ConversationID {
					n-- // the live message
					if seqs[len(seqs)-1] != live.Seq || rec.offline[conv][len(seqs)-1] {
						t.Errorf("live message: seqs %v offline %v", seqs, rec.offline[conv])
					}
				}
				if n != tc.perConv {
					t.Errorf("%s: %d backlog messages handled, want %d (seqs %v)", conv, n, tc.perConv, seqs)
				}
				for i := range n {
					if seqs[i] != int64(per-tc.perConv+i+1) || !rec.offline[conv][i] {
						t.Errorf("%s: backlog message %d: seq %d offline %v", conv, i, seqs[i], rec.offline[conv][i])
					}
				}
			}
		})
	}
}

// After a restart, messages sent while the bot was down are handled once,
// even with BacklogSkip: the policy applies to the first start only.
func TestSyncRestartHandlesWhatCameWhileDown(t *testing.T) {
	rec := newRecorder(1 + 10 + 1)
	h := bottest.Start(t, bot.HandlerFunc(func(c *bot.Context) error {
		rec.record(c.Message())
		return nil
	}))
	h.Say("alice", "before")
	if err := h.Stop(); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		h.Say("alice", fmt.Sprint("down", i))
		h.Say("carol", fmt.Sprint("new conversation ", i)) // a conversation the bot never saw
	}
	h.RestartBot(bot.HandlerFunc(func(c *bot.Context) error {
		rec.record(c.Message())
		return nil
	}))
	h.Say("alice", "after")
	rec.wait(t, 20*time.Second)
	rec.checkExactlyOnce(t, map[string]int64{
		content.SingleConversationID("bot", "alice"): 7,
		content.SingleConversationID("bot", "carol"): 5,
	})
}

// (d) Withheld pushes leave seq gaps that are filled, in order, before the
// later messages of the conversation are dispatched.
func TestSyncGapFilledBeforeLaterMessages(t *testing.T) {
	rec := newOfflineRecorder(2 + 5 + 1 + 1)
	h := bottest.Start(t, rec.handler())
	s := h.Sandbox()
	h.Say("alice", "one")
	h.Say("bob", "b1")
	s.WithholdPushes(true)
	for i := range 5 {
		h.Say("alice", fmt.Sprint("withheld", i))
	}
	s.WithholdPushes(false)
	last := h.Say("alice", "after the gap")
	h.Say("bob", "b2")
	rec.wait(t, 20*time.Second)
	rec.checkExactlyOnce(t, map[string]int64{
		last.ConversationID:                        7,
		content.SingleConversationID("bot", "bob"): 2,
	})
	rec.mu.Lock()
	defer rec.mu.Unlock()
	off := rec.offline[last.ConversationID]
	want := []bool{false, true, true, true, true, true, false}
	if fmt.Sprint(off) != fmt.Sprint(want) {
		t.Errorf("offline flags %v, want %v (the gap pulled, the rest pushed)", off, want)
	}
}

// Placeholders of deleted messages advance the watermark without being
// dispatched.
func TestSyncDeletedPlaceholdersAreSkipped(t *testing.T) {
	rec := newRecorder(3)
	conv := content.SingleConversationID("bot", "alice")
	h := bottest.Start(t, bot.HandlerFunc(func(c *bot.Context) error {
		rec.record(c.Message())
		return nil
	}), bottest.WithUsers("alice"), bottest.WithBacklog(bot.BacklogAll), bottest.WithSetup(func(s *sandbox.Server) error {
		for i := range 4 {
			if _, err := s.SendText("alice", "bot", fmt.Sprint("m", i+1)); err != nil {
				return err
			}
		}
		return s.DeleteMessage(conv, 2)
	}))
	h.Say("alice", "m5")
	rec.wait(t, 10*time.Second)
	rec.mu.Lock()
	got := fmt.Sprint(rec.seqs[conv])
	rec.mu.Unlock()
	if got != "[1 3 4]" && got != "[1 3 4 5]" {
		t.Fatalf("handled seqs %s, want [1 3 4 ...] (2 deleted)", got)
	}
	rec.waitN(t, 4, 10*time.Second)
	deadline := time.Now().Add(5 * time.Second)
	for {
		if wm, _ := h.Bot().DB().Watermark(conv); wm == 5 {
			break
		}
		if time.Now().After(deadline) {
			wm, _ := h.Bot().DB().Watermark(conv)
			t.Fatalf("watermark %d, want 5", wm)
		}
		time.Sleep(time.Millisecond)
	}
}

// Online-only messages (seq 0) are dispatched once per clientMsgID and do
// not touch the watermark.
func TestSyncOnlineOnlyDedup(t *testing.T) {
	rec := newOfflineRecorder(2)
	h := bottest.Start(t, rec.handler(), bottest.WithUsers("alice"))
	online := content.Message{
		SendID: "alice", RecvID: "bot", SessionType: content.SingleChat, ContentType: content.TypeText,
		Content: []byte(`{"content":"typing"}`), ClientMsgID: "online-1", Options: map[string]bool{"history": false},
	}
	for range 2 {
		m, err := h.Sandbox().Inject(online)
		if err != nil {
			t.Fatal(err)
		}
		if m.Seq != 0 {
			t.Fatalf("online-only message got seq %d", m.Seq)
		}
	}
	last := h.Say("alice", "stored")
	rec.wait(t, 10*time.Second)
	rec.waitN(t, 2, time.Second)
	rec.recorder.mu.Lock()
	defer rec.recorder.mu.Unlock()
	if got := fmt.Sprint(rec.seqs[last.ConversationID]); got != fmt.Sprintf("[0 %d]", last.Seq) {
		t.Fatalf("handled seqs %s, want [0 %d] (the online message once)", got, last.Seq)
	}
}
