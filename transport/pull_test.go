package transport

import (
	"strings"
	"testing"

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
