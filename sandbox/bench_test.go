package sandbox_test

import (
	"context"
	"testing"
	"time"

	"github.com/coder/websocket"
	"google.golang.org/protobuf/proto"

	"github.com/openimbot/openimbot/internal/pb/sdkws"
	"github.com/openimbot/openimbot/sandbox"
)

// BenchmarkPushPath measures the sandbox's push path over loopback: one
// sender sends 1003 text messages (at most 64 in flight), one receiver reads
// the 2001 pushes. It reports pushes received per second as frames/s.
func BenchmarkPushPath(b *testing.B) {
	for _, gz := range []bool{false, true} {
		name := "plain"
		if gz {
			name = "gzip"
		}
		b.Run(name, func(b *testing.B) { benchPush(b, gz) })
	}
}

func benchPush(b *testing.B, gz bool) {
	s, err := sandbox.Start(context.Background(), sandbox.Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	s.RegisterUser("alice", "A")
	s.RegisterUser("bob", "B")
	dial := func(user string) *websocket.Conn {
		tok, err := s.UserToken(user, 7)
		if err != nil {
			b.Fatal(err)
		}
		ws, _, err := websocket.Dial(context.Background(), handshakeURL(s, user, tok, rawOpts{gzip: gz}), nil)
		if err != nil {
			b.Fatal(err)
		}
		ws.SetReadLimit(1 << 20)
		return ws
	}
	sender, receiver := dial("alice"), dial("bob")
	defer sender.CloseNow()
	defer receiver.CloseNow()

	m := textMsg("alice", "bob", "benchmark message")
	m.Options = map[string]bool{"senderSync": false} // the receiver's frames are what we count
	data, _ := proto.Marshal(m)
	frame := encodeReq(GeneralWsReq{ReqIdentifier: 1003, SendID: "alice", OperationID: "op", MsgIncr: "i", Data: data}, false, gz)

	// At most 64 requests whose push, and 64 whose reply, is not yet read:
	// the server closes a connection whose 256-frame queue overflows.
	window := make(chan struct{}, 64)
	replies := make(chan struct{}, 64)
	drained := make(chan error, 1)
	go func() { // the sender's replies
		for i := 0; i < b.N; i++ {
			if _, _, err := sender.Read(context.Background()); err != nil {
				drained <- err
				return
			}
			<-replies
		}
		drained <- nil
	}()
	received := make(chan error, 1)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	go func() {
		for i := 0; i < b.N; i++ {
			_, f, err := receiver.Read(context.Background())
			if err != nil {
				received <- err
				return
			}
			<-window
			if i == b.N-1 {
				r, err := decodeResp(f, false, gz)
				var pm sdkws.PushMessages
				if err == nil {
					err = proto.Unmarshal(r.Data, &pm)
				}
				if err == nil && pm.Msgs["si_alice_bob"].GetMsgs()[0].Seq != int64(b.N) {
					b.Errorf("last push seq %d, want %d", pm.Msgs["si_alice_bob"].GetMsgs()[0].Seq, b.N)
				}
			}
		}
		received <- nil
	}()
	for i := 0; i < b.N; i++ {
		window <- struct{}{}
		replies <- struct{}{}
		if err := sender.Write(context.Background(), websocket.MessageBinary, frame); err != nil {
			b.Fatal(err)
		}
	}
	if err := <-received; err != nil {
		b.Fatal(err)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	if err := <-drained; err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "frames/s")
}
