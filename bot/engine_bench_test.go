package bot

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/openimbot/openimbot/content"
	"github.com/openimbot/openimbot/storage"
)

// BenchmarkEngine measures the runtime's own cost per message, without the
// network: the sync engine's push path, the sharded pool, a no-op handler
// with a Context, and the durable watermark advance (storage with group
// commit and fsync). Messages come in pushes of one, over 100
// conversations, as from the gateway.
func BenchmarkEngine(b *testing.B) {
	db, err := storage.Open(filepath.Join(b.TempDir(), "e.db"), storage.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	bt, err := New(WithGateway("ws://unused"), WithUser("bot"), WithToken("t"), WithDB(db),
		WithHandler(HandlerFunc(func(c *Context) error {
			_ = c.Text()
			return nil
		})))
	if err != nil {
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	left := 0
	disp := newDispatcher(bt.cfg.workers, bt.cfg.queueSize, func(it *item) {
		bt.handle(it)
		mu.Lock()
		left--
		if left == 0 {
			wg.Done()
		}
		mu.Unlock()
	}, func(conv string, seq int64) { db.Advance(conv, seq) })
	st := &dbStore{db: db}
	if err := st.SetInitialized(); err != nil {
		b.Fatal(err)
	}
	sy := newSyncer(func() syncGateway { return nil }, st, disp.enqueue, "bot", false, BacklogSkip, bt.log, bt.reportErr)
	disp.start()
	defer func() { <-disp.stop() }()

	const convs = 100
	msgs := make([]content.Message, b.N)
	for i := range msgs {
		u := fmt.Sprintf("u%03d", i%convs)
		msgs[i] = content.Message{
			ConversationID: content.SingleConversationID("bot", u), SendID: u, RecvID: "bot",
			SessionType: content.SingleChat, ContentType: content.TypeText, Content: []byte(`{"content":"hi"}`),
			Elem: &content.Text{Content: "hi"}, Seq: int64(i/convs + 1),
		}
	}
	left = b.N
	wg.Add(1)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range msgs {
		if err := sy.onPush(ctx, msgs[i:i+1]); err != nil {
			b.Fatal(err)
		}
	}
	wg.Wait()
	b.StopTimer()
	if err := db.Flush(ctx); err != nil {
		b.Fatal(err)
	}
}
