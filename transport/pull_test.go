package transport

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/openimbot/openimbot/content"
)

// Pull requests start at 20 seqs (the answer of 20 messages of the
// gateway's largest size fits in the 1 MiB read limit), grow to 100 as
// answers show small messages, and shrink at once when a larger message
// shows up, so that the answer stays under the read limit.
func TestPullRequestSizeFollowsMessageSizes(t *testing.T) {
	c, err := New(Config{WSAddr: "ws://127.0.0.1:1", UserID: "bot", Token: "t"})
	if err != nil {
		t.Fatal(err)
	}
	text := func(n int) []content.Message {
		return []content.Message{{Seq: 1, Content: []byte(`{"content":"` + strings.Repeat("x", n) + `"}`)}}
	}
	if n := c.seqsPerRequest(); n != 20 {
		t.Fatalf("a new client asks for %d seqs per request, want 20", n)
	}
	for range 10 {
		c.observePullSizes(text(100))
	}
	if n := c.seqsPerRequest(); n != MaxPullPerRequest {
		t.Errorf("after small messages: %d seqs per request, want %d", n, MaxPullPerRequest)
	}
	c.observePullSizes(text(12 << 10))
	n := c.seqsPerRequest()
	if n <= pullSeqsPerRequest || n >= MaxPullPerRequest || int64(n)*(12<<10+600) > 1<<20 {
		t.Errorf("after a 12 KB message: %d seqs per request; the answer must fit in 1 MiB", n)
	}
	c.observePullSizes(text(50 << 10))
	if n := c.seqsPerRequest(); n != pullSeqsPerRequest {
		t.Errorf("after a 50 KB message: %d seqs per request, want %d", n, pullSeqsPerRequest)
	}
}

// Against the sandbox: 20 messages of 60 KB (each over the gateway's own
// limit, as the REST API allows) make the first answer 1.2 MB, over the
// read limit: the connection is lost once, the seqs are probed one by one
// and every message comes back; a message of 1.1 MB alone is reported in
// TooLarge and left out, and the pull does not fail.
func TestPullRangeAnswerOverReadLimit(t *testing.T) {
	s := startSandbox(t, "bot", "alice")
	conv := convSingle("alice", "bot")
	for i := 1; i <= 21; i++ {
		text := fmt.Sprintf("%02d %s", i, strings.Repeat("x", 60<<10))
		if i == 21 {
			text = strings.Repeat("y", 1100<<10)
		}
		if _, err := s.SendText("alice", "bot", text); err != nil {
			t.Fatal(err)
		}
	}
	cfg := sandboxConfig(t, s, "bot")
	cfg.MaxReconnects = -1
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	t.Cleanup(func() { cancel(); c.Close(); <-done })
	pctx, pcancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer pcancel()
	res, err := c.PullRange(pctx, []SeqRange{{ConversationID: conv, Begin: 1, End: 21}})
	if err != nil {
		t.Fatal(err)
	}
	pr := res[conv]
	if len(pr.Messages) != 20 {
		t.Fatalf("%d messages, want 20", len(pr.Messages))
	}
	for i, m := range pr.Messages {
		if m.Seq != int64(i+1) {
			t.Fatalf("message %d has seq %d", i, m.Seq)
		}
	}
	if len(pr.TooLarge) != 1 || pr.TooLarge[0] != 21 {
		t.Errorf("TooLarge = %v, want [21]", pr.TooLarge)
	}
}
