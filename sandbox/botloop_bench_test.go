package sandbox

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"google.golang.org/protobuf/proto"

	"github.com/openimbot/openimbot/content"
	"github.com/openimbot/openimbot/internal/pb/sdkws"
	"github.com/openimbot/openimbot/internal/wire"
)

// BenchmarkBotLoop is the sandbox's share of the bot benchmarks: messages
// injected with SendText from 100 users to one connected client ("bot",
// gob, plain or gzip) that answers each push with a 1003 text reply; the
// sandbox pushes the reply back to it (senderSync) and hands it to a
// SubscribeFrom("bot") subscriber. At most 64 messages are in flight. One
// op is one message: an injection, three frames to the client, one 1003
// request. The client does little more than read and write frames, so
// the figures are mostly the sandbox's.
func BenchmarkBotLoop(b *testing.B) {
	for _, gz := range []bool{false, true} {
		name := "plain"
		if gz {
			name = "gzip"
		}
		b.Run(name, func(b *testing.B) { benchBotLoop(b, gz) })
	}
}

func benchBotLoop(b *testing.B, gz bool) {
	s, err := Start(context.Background(), Config{SendQueue: 4096})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	const users = 100
	ids := make([]string, users)
	for i := range ids {
		ids[i] = fmt.Sprintf("user%03d", i)
		if err := s.RegisterUser(ids[i], ids[i]); err != nil {
			b.Fatal(err)
		}
	}
	s.RegisterUser("bot", "Bot")
	tok, err := s.UserToken("bot", 7)
	if err != nil {
		b.Fatal(err)
	}
	q := url.Values{"sendID": {"bot"}, "token": {tok}, "platformID": {"7"}, "operationID": {"op"}, "isBackground": {"false"}}
	if gz {
		q.Set("compression", "gzip")
	}
	ws, _, err := websocket.Dial(context.Background(), s.WSURL()+"?"+q.Encode(), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer ws.CloseNow()
	ws.SetReadLimit(1 << 20)

	opts := wire.Options{Encoding: wire.Gob, Gzip: gz}
	enc := wire.NewEncoder(opts)
	replies := make([][]byte, users)
	for i, u := range ids {
		md := &sdkws.MsgData{SendID: "bot", RecvID: u, ClientMsgID: newID(), SenderPlatformID: 7, SenderNickname: "Bot",
			SessionType: 1, MsgFrom: 100, ContentType: 101, Content: []byte(`{"content":"a reply to ` + u + `"}`), CreateTime: 1700000000000, Status: 1}
		data, _ := proto.Marshal(md)
		f, err := enc.EncodeReq(&wire.Req{ReqIdentifier: wire.SendMsg, SendID: "bot", OperationID: "op", MsgIncr: "1", Data: data})
		if err != nil {
			b.Fatal(err)
		}
		replies[i] = bytes.Clone(f)
	}
	sub, unsub := s.SubscribeFrom(4096, "bot")
	defer unsub()

	echo := []byte("\x0a\x03bot") // MsgData field 1, sendID "bot"
	read := make(chan error, 1)
	go func() { // the client: reply to every user's push
		dec := wire.NewDecoder(wire.Options{Encoding: wire.Gob, Gzip: gz, MaxFrame: 1 << 20})
		var r wire.Resp
		for k, left := 0, 3*b.N; left > 0; left-- {
			_, f, err := ws.Read(context.Background())
			if err == nil {
				err = dec.DecodeResp(f, &r)
			}
			if err == nil && r.ErrCode != 0 {
				err = fmt.Errorf("request %d: error %d %s", r.ReqIdentifier, r.ErrCode, r.ErrMsg)
			}
			if err != nil {
				read <- err
				return
			}
			if r.ReqIdentifier == wire.PushMsg && !bytes.Contains(r.Data, echo) {
				if err := ws.Write(context.Background(), websocket.MessageBinary, replies[k%users]); err != nil {
					read <- err
					return
				}
				k++
			}
		}
		read <- nil
	}()
	window := make(chan struct{}, 64)
	got := make(chan struct{})
	go func() {
		for range b.N {
			<-sub
			<-window
		}
		close(got)
	}()
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := range b.N {
		window <- struct{}{}
		if _, err := s.SendText(ids[i%users], "bot", "a message with kw3x inside"); err != nil {
			b.Fatal(err)
		}
	}
	<-got
	if err := <-read; err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
	if n := s.MaxSeq(content.SingleConversationID("bot", ids[0])); n != 2*int64((b.N+users-1)/users) {
		b.Fatalf("conversation of %s has max seq %d", ids[0], n)
	}
}

// BenchmarkInject measures what the sandbox does for a message apart from
// the network: SendText from 100 users to one, stored, converted for one
// Subscribe subscriber (drained by another goroutine) and returned; the
// receiver is not connected, so nothing is pushed.
func BenchmarkInject(b *testing.B) {
	s, err := Start(context.Background(), Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ids := make([]string, 100)
	for i := range ids {
		ids[i] = fmt.Sprintf("user%03d", i)
		s.RegisterUser(ids[i], ids[i])
	}
	s.RegisterUser("bot", "Bot")
	sub, unsub := s.Subscribe(4096)
	defer unsub()
	drained := make(chan struct{})
	go func() {
		for range b.N {
			<-sub
		}
		close(drained)
	}()
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := range b.N {
		if _, err := s.SendText(ids[i%len(ids)], "bot", "a message with kw3x inside"); err != nil {
			b.Fatal(err)
		}
	}
	<-drained
	b.StopTimer()
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
}

// cpuTime returns the process's user and system CPU time: with other
// work on the machine, a steadier figure than the elapsed time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
