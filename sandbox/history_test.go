package sandbox_test

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/openimbot/openimbot/bot"
	"github.com/openimbot/openimbot/internal/pb/msg"
	"github.com/openimbot/openimbot/internal/pb/sdkws"
	"github.com/openimbot/openimbot/sandbox"
)

func seqRange(from, to int64) []int64 {
	var out []int64
	for s := from; s <= to; s++ {
		out = append(out, s)
	}
	return out
}

// Config.MaxHistory: a conversation keeps its newest messages; its min seq
// rises, its max seq does not move, and pulls answer as OpenIM does for
// cleared messages: 1002 clamps the window to [minSeq, maxSeq] (nothing,
// not placeholders, for evicted seqs; a window entirely below the min seq
// leaves the conversation out; descending isEnd = begin <= minSeq), 1005
// drops evicted seqs (descending: isEnd with endSeq = minSeq).
func TestHistoryEviction(t *testing.T) {
	s := newSandbox(t, sandbox.Config{MaxHistory: 10})
	const conv = "si_alice_bob"
	for i := 1; i <= 10; i++ {
		s.SendText("alice", "bob", "m"+strconv.Itoa(i))
	}
	if s.MinSeq(conv) != 0 || s.MaxSeq(conv) != 10 || len(s.Messages(conv)) != 10 {
		t.Fatalf("10 messages, cap 10: min %d max %d, %d kept", s.MinSeq(conv), s.MaxSeq(conv), len(s.Messages(conv)))
	}
	for i := 11; i <= 35; i++ {
		s.SendText("alice", "bob", "m"+strconv.Itoa(i))
	}
	kept := s.Messages(conv)
	if s.MinSeq(conv) != 26 || s.MaxSeq(conv) != 35 || len(kept) != 10 || kept[0].Seq != 26 || kept[0].Text() != "m26" || kept[9].Seq != 35 {
		t.Fatalf("35 messages, cap 10: min %d max %d, kept %d from seq %d", s.MinSeq(conv), s.MaxSeq(conv), len(kept), kept[0].Seq)
	}
	if err := s.DeleteMessage(conv, 5); err == nil {
		t.Fatal("deleting an evicted message succeeded")
	}
	b := login(t, s, "bob", rawOpts{})
	var newest sdkws.GetMaxSeqResp
	b.call(1001, &sdkws.GetMaxSeqReq{UserID: "bob"}, &newest)
	if newest.MaxSeqs[conv] != 35 {
		t.Fatalf("1001: %v", newest.MaxSeqs)
	}
	asc, desc := sdkws.PullOrder_PullOrderAsc, sdkws.PullOrder_PullOrderDesc
	cases := []struct {
		order            sdkws.PullOrder
		begin, end, num  int64
		want             []int64
		absent, wantDone bool
	}{
		{asc, 1, 35, 100, seqRange(26, 35), false, true},
		{asc, 0, 35, 100, seqRange(26, 35), false, true},
		{asc, 20, 30, 100, seqRange(26, 30), false, false},
		{asc, 1, 25, 100, nil, true, false}, // all evicted: absent
		{asc, 1, 35, 3, seqRange(33, 35), false, true},
		{desc, 1, 30, 100, seqRange(26, 30), false, true},
		{desc, 27, 30, 100, seqRange(27, 30), false, false},
	}
	for _, tc := range cases {
		pr := pull(t, b, tc.order, &sdkws.SeqRange{ConversationID: conv, Begin: tc.begin, End: tc.end, Num: tc.num})
		pm, ok := pr.Msgs[conv]
		if tc.absent {
			if ok {
				t.Errorf("%v [%d,%d]: %v, want the conversation absent", tc.order, tc.begin, tc.end, seqsOf(pm))
			}
			continue
		}
		if got := seqsOf(pm); !slices.Equal(got, tc.want) || pm.GetIsEnd() != tc.wantDone {
			t.Errorf("%v [%d,%d] num %d: %v isEnd %v, want %v isEnd %v", tc.order, tc.begin, tc.end, tc.num, got, pm.GetIsEnd(), tc.want, tc.wantDone)
		}
	}
	for _, tc := range []struct {
		order  sdkws.PullOrder
		seqs   []int64
		want   []int64
		isEnd  bool
		endSeq int64
	}{
		{asc, []int64{3, 25, 26, 35, 36}, []int64{26, 35}, true, 35},
		{asc, []int64{3, 30}, []int64{30}, false, 0},
		{desc, []int64{30, 3}, []int64{30}, true, 26},
	} {
		var sr msg.GetSeqMessageResp
		b.call(1005, &msg.GetSeqMessageReq{UserID: "bob", Order: tc.order, Conversations: []*msg.ConversationSeqs{{ConversationID: conv, Seqs: tc.seqs}}}, &sr)
		pm := sr.Msgs[conv]
		if got := seqsOf(pm); !slices.Equal(got, tc.want) || pm.GetIsEnd() != tc.isEnd || pm.GetEndSeq() != tc.endSeq {
			t.Errorf("1005 %v %v: %v isEnd %v endSeq %d, want %v %v %d", tc.order, tc.seqs, got, pm.GetIsEnd(), pm.GetEndSeq(), tc.want, tc.isEnd, tc.endSeq)
		}
	}
	// New messages go on from the max seq.
	m, err := s.SendText("alice", "bob", "m36")
	if err != nil || m.Seq != 36 || s.MinSeq(conv) != 27 {
		t.Fatalf("next message: seq %d, min %d, %v", m.Seq, s.MinSeq(conv), err)
	}
}

// With a store file, eviction survives a restart: the reloaded store has
// the same min and max seqs and the same messages.
func TestHistoryEvictionStoreFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sandbox.db")
	cfg := sandbox.Config{StorePath: path, MaxHistory: 5}
	s, err := sandbox.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	s.RegisterUser("alice", "Alice")
	s.RegisterUser("bob", "Bob")
	for i := 1; i <= 12; i++ {
		if _, err := s.SendText("alice", "bob", "m"+strconv.Itoa(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeleteMessage("si_alice_bob", 10); err != nil {
		t.Fatal(err)
	}
	before := s.Messages("si_alice_bob")
	s.Close()
	s, err = sandbox.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	after := s.Messages("si_alice_bob")
	if s.MinSeq("si_alice_bob") != 8 || s.MaxSeq("si_alice_bob") != 12 || len(after) != len(before) || len(after) != 4 {
		t.Fatalf("after a restart: min %d max %d, %d messages (before %d)", s.MinSeq("si_alice_bob"), s.MaxSeq("si_alice_bob"), len(after), len(before))
	}
	for i := range after {
		if after[i].Seq != before[i].Seq || after[i].Text() != before[i].Text() {
			t.Fatalf("message %d: %d %q, before %d %q", i, after[i].Seq, after[i].Text(), before[i].Seq, before[i].Text())
		}
	}
	if m, err := s.SendText("alice", "bob", "m13"); err != nil || m.Seq != 13 {
		t.Fatalf("next message: %d, %v", m.Seq, err)
	}
}

// heapMB returns the live heap after a full collection, in MB.
func heapMB() float64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return float64(ms.HeapAlloc) / (1 << 20)
}

// The sandbox's memory stays bounded however many messages it is sent: a
// conversation of 60,000 messages keeps its newest MaxHistory, and the
// heap does not grow between 20,000 and 60,000 messages. (Before, every
// message stayed: about 1 KB each.)
func TestHistoryMemoryBounded(t *testing.T) {
	if raceEnabled {
		t.Skip("heap figures under the race detector are not the sandbox's")
	}
	s := newSandbox(t, sandbox.Config{MaxHistory: 2000})
	text := fmt.Sprintf("%0200d", 0)
	send := func(n int) {
		for i := range n {
			if _, err := s.SendText("alice", "bob", text); err != nil {
				t.Fatal(err)
			}
			if _, err := s.SendText("bob", "alice", text[:i%100]+"x"); err != nil {
				t.Fatal(err)
			}
		}
	}
	send(10000)
	at20k := heapMB()
	send(20000)
	at60k := heapMB()
	t.Logf("live heap %.1f MB after 20k messages, %.1f MB after 60k", at20k, at60k)
	if len(s.Messages("si_alice_bob")) != 2000 || s.MaxSeq("si_alice_bob") != 60000 {
		t.Fatalf("%d messages kept, max seq %d", len(s.Messages("si_alice_bob")), s.MaxSeq("si_alice_bob"))
	}
	if at60k > at20k+3 {
		t.Fatalf("the heap grew from %.1f to %.1f MB between 20k and 60k messages", at20k, at60k)
	}
}

// A bot that was offline while a conversation outgrew the sandbox's
// history handles the messages still kept (the evicted ones are gone, as
// on a server that cleared them), in order and once, and goes on
// answering new ones.
func TestHistoryEvictionBot(t *testing.T) {
	s := newSandbox(t, sandbox.Config{MaxHistory: 50})
	if err := s.RegisterUser("bot", "Bot"); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(t.TempDir(), "bot.db")
	var mu sync.Mutex
	var handled []string
	got := make(chan struct{}, 1000)
	run := func() (stop func()) {
		b, err := bot.New(
			bot.WithGateway(s.WSURL()), bot.WithUser("bot"), bot.WithAdminSecret(s.APIURL(), sandbox.DefaultSecret),
			bot.WithStorage(db), bot.WithRateLimit(0, 0),
			bot.WithHandler(bot.HandlerFunc(func(c *bot.Context) error {
				mu.Lock()
				handled = append(handled, c.Text())
				mu.Unlock()
				got <- struct{}{}
				return c.Reply("re " + c.Text())
			})))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- b.Run(ctx) }()
		return func() {
			cancel()
			if err := <-done; err != nil && err != context.Canceled {
				t.Errorf("bot.Run: %v", err)
			}
		}
	}
	wait := func(n int) {
		t.Helper()
		for range n {
			select {
			case <-got:
			case <-time.After(20 * time.Second):
				mu.Lock()
				defer mu.Unlock()
				t.Fatalf("handled %d messages: %v", len(handled), handled)
			}
		}
	}
	stop := run()
	// The first message waits for the bot to be online (a new bot skips
	// history).
	deadline := time.Now().Add(10 * time.Second)
	for {
		s.SendText("alice", "bot", "hello")
		select {
		case <-got:
		case <-time.After(200 * time.Millisecond):
			if time.Now().After(deadline) {
				t.Fatal("the bot never answered")
			}
			continue
		}
		break
	}
	mu.Lock()
	handled = handled[:0]
	mu.Unlock()
	stop()
	// Offline: 200 messages, of which the conversation keeps the last 50
	// (with the earlier ones and the replies evicted).
	for i := 1; i <= 200; i++ {
		s.SendText("alice", "bot", "offline "+strconv.Itoa(i))
	}
	const conv = "si_alice_bot"
	if min := s.MinSeq(conv); min != s.MaxSeq(conv)-49 {
		t.Fatalf("min seq %d, max seq %d", min, s.MaxSeq(conv))
	}
	stop = run()
	defer stop()
	wait(50)
	s.SendText("alice", "bot", "after")
	wait(1)
	mu.Lock()
	var want []string
	for i := 151; i <= 200; i++ {
		want = append(want, "offline "+strconv.Itoa(i))
	}
	want = append(want, "after")
	if !slices.Equal(handled, want) {
		t.Fatalf("handled %d messages %v\nwant %v", len(handled), handled, want)
	}
	mu.Unlock()
	// Its reply to the new message reaches the sandbox.
	deadline = time.Now().Add(10 * time.Second)
	for {
		ms := s.Messages(conv)
		if ms[len(ms)-1].Text() == "re after" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no reply to the new message; last %q", ms[len(ms)-1].Text())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
