package bot

import (
	"fmt"
	"log/slog"
	"testing"
	"time"
)

// BenchmarkLoopGuardAdmit is the guard's cost on a handler's send: a
// person's message (the common case) and a bot's, over 1,000 conversations,
// from parallel goroutines as the dispatcher's shards call it.
func BenchmarkLoopGuardAdmit(b *testing.B) {
	for _, marked := range []bool{false, true} {
		name := "person"
		if marked {
			name = "bot"
		}
		b.Run(name, func(b *testing.B) {
			g := newLoopGuard(1<<30, slog.New(slog.DiscardHandler))
			msgs := make([]*struct{ conv string }, 1000)
			for i := range msgs {
				msgs[i] = &struct{ conv string }{fmt.Sprintf("si_u%d_bot", i)}
			}
			now := time.Now()
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					conv := msgs[i%len(msgs)].conv
					if err := g.admit(guardMsg(conv, "u", 1, marked), "bot", conv, now); err != nil {
						b.Fatal(err)
					}
					i++
				}
			})
		})
	}
}
