package sandbox_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openimbot/openimbot/sandbox"
)

// The writer loop frames data messages itself (corkConn.writeMessage)
// while the websocket library writes the pongs: a client reading pushes of
// every length class of the frame header (7-bit, 16-bit and 64-bit, and
// over the 4 KiB write buffer) while it pings all the time gets every push
// whole and in order, and every ping answered.
func TestFramesOfEveryLengthBesidePings(t *testing.T) {
	s := newSandbox(t, sandbox.Config{})
	c := login(t, s, "bob", rawOpts{})
	sizes := []int{1, 60, 110, 130, 4000, 5000, 65000, 66000, 200000}
	const rounds = 5
	const letters = "xyzqw" // none is in the content JSON's keys

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var pongs atomic.Int64
	pingErr := make(chan error, 1)
	go func() {
		for {
			pctx, pcancel := context.WithTimeout(ctx, 5*time.Second)
			err := c.ws.Ping(pctx)
			pcancel()
			if err != nil {
				if ctx.Err() != nil {
					err = nil
				}
				pingErr <- err
				return
			}
			pongs.Add(1)
		}
	}()
	go func() {
		for r := range rounds {
			for _, n := range sizes {
				text := strings.Repeat(letters[r:r+1], n)
				if _, err := s.SendText("alice", "bob", text); err != nil {
					t.Error(err)
					return
				}
			}
		}
	}()
	for r := range rounds {
		for _, n := range sizes {
			var got string
			for got == "" {
				pm := decodePush(t, c.next())
				for _, pull := range pm.Msgs {
					for _, m := range pull.Msgs {
						got = string(m.Content)
					}
				}
			}
			want := strings.Repeat(letters[r:r+1], n)
			if !strings.Contains(got, want) || strings.Count(got, letters[r:r+1]) != n {
				t.Fatalf("round %d: push of a %d-byte text: content of %d bytes, not the text", r, n, len(got))
			}
		}
	}
	cancel()
	// The pinger's last Ping ends with the context; a reader must run for
	// its pong or cancellation to be seen.
	go func() {
		for {
			if _, _, err := c.ws.Read(context.Background()); err != nil {
				return
			}
		}
	}()
	select {
	case err := <-pingErr:
		if err != nil && !errors.Is(err, context.Canceled) {
			t.Fatalf("ping: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the pinger did not stop")
	}
	if pongs.Load() == 0 {
		t.Fatal("no ping was answered while the pushes were read")
	}
	t.Logf("%d pushes read whole beside %d pongs", rounds*len(sizes), pongs.Load())
}
