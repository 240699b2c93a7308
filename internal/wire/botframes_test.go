package wire

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/openimbot/openimbot/internal/pb/msg"
	"github.com/openimbot/openimbot/internal/pb/sdkws"
)

// botFrame is one uncompressed frame of a bot's message round, in one
// encoding.
type botFrame struct {
	name string
	body []byte
}

// botFrames returns the uncompressed frames of one message round of a bot
// answering a text in a single chat, as the sandbox and the transport
// client write them (the round of BenchmarkBotCost): the 2001 push of the
// user's text, the bot's 1003 request carrying its reply, the 1003 answer
// and the 2001 push echoing the reply to the bot.
func botFrames(tb testing.TB, enc Encoding) []botFrame {
	tb.Helper()
	marshal := func(m proto.Message) []byte {
		b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
		if err != nil {
			tb.Fatal(err)
		}
		return b
	}
	in := &sdkws.MsgData{
		SendID: "user042", RecvID: "bot", ClientMsgID: "5f0c2b7e9a1d4c3e8b6a2f1e0d9c8b7a",
		ServerMsgID: "a1b2c3d4e5f60718293a4b5c6d7e8f90", SenderPlatformID: 7, SessionType: 1, MsgFrom: 100,
		ContentType: 101, Content: []byte(`{"content":"a message with kw7x inside"}`),
		Seq: 1234, SendTime: 1764412345678, CreateTime: 1764412345677, Status: 2,
	}
	reply := &sdkws.MsgData{
		SendID: "bot", RecvID: "user042", ClientMsgID: "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b",
		SenderPlatformID: 7, SessionType: 1, MsgFrom: 100, ContentType: 101,
		Content: []byte(`{"content":"k"}`), CreateTime: 1764412345679, Status: 1,
	}
	echo := proto.Clone(reply).(*sdkws.MsgData)
	echo.ServerMsgID, echo.Seq, echo.SendTime, echo.Status = "0f1e2d3c4b5a69788796a5b4c3d2e1f0", 1235, 1764412345680, 2
	push := func(md *sdkws.MsgData) []byte {
		return marshal(&sdkws.PushMessages{Msgs: map[string]*sdkws.PullMsgs{"si_bot_user042": {Msgs: []*sdkws.MsgData{md}}}})
	}
	answer := marshal(&msg.SendMsgResp{ServerMsgID: echo.ServerMsgID, ClientMsgID: reply.ClientMsgID, SendTime: echo.SendTime})

	e := NewEncoder(Options{Encoding: enc})
	frame := func(b []byte, err error) []byte {
		if err != nil {
			tb.Fatal(err)
		}
		return bytes.Clone(b)
	}
	const opID = "1764412345679000042"
	send := func(md *sdkws.MsgData) []byte {
		return frame(e.EncodeReq(&Req{ReqIdentifier: SendMsg, SendID: "bot", OperationID: opID, MsgIncr: "bot_1764412345000_42", Data: marshal(md)}))
	}
	out := []botFrame{
		{"push", frame(e.EncodeResp(&Resp{ReqIdentifier: PushMsg, Data: push(in)}))},
		{"send", send(reply)},
		{"answer", frame(e.EncodeResp(&Resp{ReqIdentifier: SendMsg, MsgIncr: "bot_1764412345000_42", OperationID: opID, Data: answer}))},
		{"echo", frame(e.EncodeResp(&Resp{ReqIdentifier: PushMsg, OperationID: opID, Data: push(echo)}))},
	}
	// Longer replies: the same 1003 request with chat text of n bytes.
	for _, n := range []int{100, 250, 500, 1000, 2000, 4000} {
		long := proto.Clone(reply).(*sdkws.MsgData)
		long.Content = []byte(`{"content":"` + chatText(n) + `"}`)
		out = append(out, botFrame{fmt.Sprintf("send%d", n), send(long)})
	}
	return out
}

// chatText returns n bytes of English-like text: words of a small
// vocabulary drawn with Zipf-like frequencies, as in chat messages.
func chatText(n int) string {
	words := strings.Fields(`the a to and of I you it is in that for on this we with be are
		have not at was can will do just so but what if my your me our they about all from
		there get like one time when how up out know think good now would should could make
		see need want also please thanks message bot reply order ticket status update today
		tomorrow meeting group channel server error build release version deploy check done
		question answer help user account login password email phone price payment invoice
		delivery address weekend morning evening happy sorry great sure maybe yes no okay`)
	rng := rand.New(rand.NewPCG(7, uint64(n)))
	var b strings.Builder
	for b.Len() < n {
		// Zipf-like: small indices much more often.
		i := int(float64(len(words)) * math.Pow(rng.Float64(), 2.5))
		w := words[i]
		if b.Len() == 0 || rng.IntN(12) == 0 {
			if b.Len() > 0 {
				b.WriteString(". ")
			}
			w = strings.ToUpper(w[:1]) + w[1:]
		} else {
			b.WriteByte(' ')
		}
		b.WriteString(w)
	}
	return b.String()[:n]
}

// BenchmarkBotFrames measures what compression saves on the frames of a
// bot's message round (botFrames), in both encodings, with each encoder:
// ns/op is the cost of compressing the frame once, raw-bytes and gz-bytes
// its size before and after (a gzip member adds 18 bytes of header and
// trailer to the deflate data).
func BenchmarkBotFrames(b *testing.B) {
	for _, enc := range []Encoding{Gob, JSON} {
		for _, f := range botFrames(b, enc) {
			for _, lv := range []struct {
				name string
				opts Options
			}{
				{"fixedhuffman", Options{Gzip: true, GzipLevel: GzipFixedHuffman}},
				{"bestspeed", Options{Gzip: true, GzipLevel: gzip.BestSpeed}},
				{"default", Options{Gzip: true, GzipLevel: gzip.DefaultCompression}},
				{"stored", Options{Gzip: true, GzipMinSize: 1 << 30}},
			} {
				b.Run(fmt.Sprintf("%s/%s/%s", enc, f.name, lv.name), func(b *testing.B) {
					e := NewEncoder(lv.opts)
					var out []byte
					var err error
					b.ReportAllocs()
					for b.Loop() {
						if out, err = e.finish(f.body, "frame"); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(float64(len(f.body)), "raw-bytes")
					b.ReportMetric(float64(len(out)), "gz-bytes")
				})
			}
		}
	}
}

// BenchmarkInflateBotFrames is the built-in inflater alone on the frames
// a bot receives in a message round (botFrames: the push, the 1003
// answer, the echo of its reply), compressed as the sandbox compresses
// them (fixed Huffman) and as compress/gzip's default level does (the
// OpenIM gateway's writer: dynamic Huffman blocks on most such frames).
func BenchmarkInflateBotFrames(b *testing.B) {
	for _, enc := range []Encoding{Gob, JSON} {
		for _, f := range botFrames(b, enc)[:4] {
			if f.name == "send" {
				continue
			}
			for _, lv := range []struct {
				name  string
				level int
			}{{"fixedhuffman", GzipFixedHuffman}, {"default", gzip.DefaultCompression}} {
				b.Run(fmt.Sprintf("%s/%s/%s", enc, f.name, lv.name), func(b *testing.B) {
					z, err := NewEncoder(Options{Gzip: true, GzipLevel: lv.level}).finish(f.body, "frame")
					if err != nil {
						b.Fatal(err)
					}
					frame := bytes.Clone(z)
					var inf inflater
					out, ok := inf.gunzip(nil, frame, math.MaxInt)
					if !ok || !bytes.Equal(out, f.body) {
						b.Fatal("not accepted")
					}
					b.SetBytes(int64(len(f.body)))
					b.ReportAllocs()
					cpu := startCPU()
					for b.Loop() {
						if out, ok = inf.gunzip(out[:0], frame, math.MaxInt); !ok {
							b.Fatal("not accepted")
						}
					}
					cpu.report(b)
				})
			}
		}
	}
}
