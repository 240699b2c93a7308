package transport

import (
	"math/rand/v2"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/openimbot/openimbot/content"
	"github.com/openimbot/openimbot/internal/pb/msg"
	"github.com/openimbot/openimbot/internal/pb/sdkws"
	"github.com/openimbot/openimbot/internal/wire"
)

func TestDecodePushMatchesProto(t *testing.T) {
	pm := &sdkws.PushMessages{
		Msgs: map[string]*sdkws.PullMsgs{
			"sg_g1":        {Msgs: []*sdkws.MsgData{fullMsgData(), textMsg("a", "", 43, "two")}, IsEnd: true},
			"si_alice_bot": {Msgs: []*sdkws.MsgData{{}}},
		},
		NotificationMsgs: map[string]*sdkws.PullMsgs{"n_g1": {Msgs: []*sdkws.MsgData{textMsg("s", "", 1, "n")}}},
	}
	data, err := proto.Marshal(pm)
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := decodePush(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 4 {
		t.Fatalf("%d messages", len(msgs))
	}
	byConv := map[string][]content.Message{}
	for _, m := range msgs {
		byConv[m.ConversationID] = append(byConv[m.ConversationID], m)
	}
	for conv, pl := range pm.Msgs {
		for i, md := range pl.Msgs {
			checkMessage(t, &byConv[conv][i], md)
		}
	}
	checkMessage(t, &byConv["n_g1"][0], pm.NotificationMsgs["n_g1"].Msgs[0])
	if e, ok := byConv["sg_g1"][0].Elem.(*content.Text); !ok || e.Content != "hello world" {
		t.Errorf("Elem = %#v", byConv["sg_g1"][0].Elem)
	}
	// Chat messages come before notifications.
	if msgs[3].ConversationID != "n_g1" {
		t.Errorf("last message from %q", msgs[3].ConversationID)
	}
}

func TestDecodeRandomMsgDataMatchesProto(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	str := func() string {
		if r.IntN(3) == 0 {
			return ""
		}
		return strings.Repeat(string(rune('a'+r.IntN(26))), r.IntN(40))
	}
	for i := 0; i < 500; i++ {
		md := &sdkws.MsgData{
			SendID: str(), RecvID: str(), GroupID: str(), ClientMsgID: str(), ServerMsgID: str(),
			SenderPlatformID: r.Int32N(12) - 1, SenderNickname: str(), SenderFaceURL: str(),
			SessionType: r.Int32N(5), MsgFrom: r.Int32N(300), ContentType: r.Int32N(3000) - 5, Content: []byte(str()),
			Seq: r.Int64() >> r.IntN(64), SendTime: r.Int64N(1 << 45), CreateTime: -r.Int64N(5), Status: r.Int32N(6),
			IsRead: r.IntN(2) == 0, AttachedInfo: str(), Ex: str(),
		}
		if r.IntN(2) == 0 {
			md.Options = map[string]bool{str(): r.IntN(2) == 0, str(): true}
		}
		if r.IntN(2) == 0 {
			md.OfflinePushInfo = &sdkws.OfflinePushInfo{Title: str(), IOSBadgeCount: r.IntN(2) == 0, SignalInfo: str()}
		}
		for j := r.IntN(3); j > 0; j-- {
			md.AtUserIDList = append(md.AtUserIDList, str())
		}
		data, err := proto.Marshal(&sdkws.PullMessageBySeqsResp{Msgs: map[string]*sdkws.PullMsgs{"c": {Msgs: []*sdkws.MsgData{md}}}})
		if err != nil {
			t.Fatal(err)
		}
		var got []content.Message
		if err := pullMaps(data, func(_ string, m []content.Message, _ bool) { got = m }); err != nil {
			t.Fatal(err)
		}
		checkMessage(t, &got[0], md)

		// And the encoder: appendMsgData decodes with the generated type to
		// the same MsgData.
		enc := appendMsgData(nil, &got[0])
		var back sdkws.MsgData
		if err := proto.Unmarshal(enc, &back); err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(&back, md) {
			t.Fatalf("appendMsgData round trip\n got %v\nwant %v", &back, md)
		}
	}
}

// appendMsgData matches the golden bytes of a MsgData in docs/protocol.md §6.
func TestAppendMsgDataGolden(t *testing.T) {
	m := &content.Message{SendID: "bot", RecvID: "alice", ClientMsgID: "c1", SenderPlatformID: 7, SessionType: 1,
		MsgFrom: 100, ContentType: 101, Content: []byte(`{"content":"hi"}`), CreateTime: 1700000000000}
	got := appendMsgData(nil, m)
	const want = "0a03626f741205616c69636522026331300748015064586562107b22636f6e74656e74223a226869227d800180d095ffbc31"
	if hexs(got) != want {
		t.Fatalf("got %s\nwant %s", hexs(got), want)
	}
}

func hexs(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

func TestDecodeMalformedPayloads(t *testing.T) {
	good, _ := proto.Marshal(pushOf("si_a_b", fullMsgData()))
	for i := 1; i < len(good); i++ {
		_, err := decodePush(good[:i]) // truncated: error, never panic
		if err == nil {
			// A prefix can be a valid message only if it ends on a field
			// boundary; the generated decoder must agree.
			var pm sdkws.PushMessages
			if perr := proto.Unmarshal(good[:i], &pm); perr != nil {
				t.Errorf("prefix %d accepted, proto.Unmarshal: %v", i, perr)
			}
		}
	}
	if _, err := decodePush([]byte{0x0a, 0x05, 0x0a}); err == nil || !strings.Contains(err.Error(), "byte") {
		t.Errorf("error %v should name the position", err)
	}
}

func FuzzDecodePush(f *testing.F) {
	seed, _ := proto.Marshal(pushOf("si_a_b", fullMsgData()))
	f.Add(seed)
	seed2, _ := proto.Marshal(&msg.GetSeqMessageResp{NotificationMsgs: map[string]*sdkws.PullMsgs{"n_a": {Msgs: []*sdkws.MsgData{textMsg("a", "b", 1, "x")}, IsEnd: true, EndSeq: 4}}})
	f.Add(seed2)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		msgs, err := decodePush(data)
		var pm sdkws.PushMessages
		perr := proto.Unmarshal(data, &pm)
		if perr == nil && err != nil {
			t.Fatalf("proto.Unmarshal accepts, decodePush: %v", err)
		}
		for _, m := range msgs {
			if m.Elem == nil {
				t.Fatal("nil Elem")
			}
		}
	})
}

// benchMsgData is a realistic group text message like the fixture of
// docs/performance.md: 20 of 23 fields set, with options, offlinePushInfo,
// atUserIDList and attachedInfo; its plain push frame is 616 bytes.
func benchMsgData() *sdkws.MsgData {
	return &sdkws.MsgData{
		SendID: "user_8f14e45fceea167a", GroupID: "group_45c48cce2e2d7fbd", ClientMsgID: "6512bd43d9caa6e02c990b0a82652dca",
		ServerMsgID: "c20ad4d76fe97759aa27a0c99bff6710", SenderPlatformID: 2, SenderNickname: "Alice Example",
		SenderFaceURL: "https://cdn.example.com/a/8f14e45f.png", SessionType: 3, MsgFrom: 100, ContentType: 101,
		Content: []byte(`{"content":"hello world"}`), Seq: 123456, SendTime: 1700000000123, CreateTime: 1700000000100, Status: 2,
		Options:         map[string]bool{"history": true, "persistent": true, "offlinePush": true, "unreadCount": true, "senderSync": true},
		OfflinePushInfo: &sdkws.OfflinePushInfo{Title: "Alice Example", Desc: "hello world", Ex: "{}", IOSPushSound: "default", IOSBadgeCount: true},
		AtUserIDList:    []string{"bot_0001", "user_c9f0f895fb98ab91"},
		AttachedInfo:    `{"isPrivateChat":false,"burnDuration":0}`,
		Ex:              `{"src":"m"}`,
	}
}

func pushFrame(b *testing.B, gz bool) []byte {
	data, err := proto.Marshal(pushOf("sg_group_45c48cce2e2d7fbd", benchMsgData()))
	if err != nil {
		b.Fatal(err)
	}
	enc := wire.NewEncoder(wire.Options{Gzip: gz})
	frame, err := enc.EncodeResp(&wire.Resp{ReqIdentifier: wire.PushMsg, OperationID: "1700000000123456789", Data: data})
	if err != nil {
		b.Fatal(err)
	}
	return append([]byte(nil), frame...)
}

// BenchmarkDecodePush measures the client's read path after the websocket:
// frame → envelope (internal/wire) → PushMessages → []content.Message with
// Elem decoded, exactly as conn.readLoop and handleResp do it.
func BenchmarkDecodePush(b *testing.B) {
	for _, gz := range []bool{false, true} {
		b.Run(map[bool]string{false: "plain", true: "gzip"}[gz], func(b *testing.B) {
			frame := pushFrame(b, gz)
			dec := wire.NewDecoder(wire.Options{Gzip: gz, MaxFrame: wire.MaxClientInbound})
			var resp wire.Resp
			b.ReportAllocs()
			cpu := startCPU(b)
			for b.Loop() {
				if err := dec.DecodeResp(frame, &resp); err != nil {
					b.Fatal(err)
				}
				msgs, err := decodePush(resp.Data)
				if err != nil || len(msgs) != 1 || msgs[0].Seq != 123456 {
					b.Fatal(err)
				}
			}
			cpu.report()
			b.ReportMetric(float64(len(frame)), "frame-bytes")
		})
	}
}

// BenchmarkEncodeSend measures the send path before the websocket:
// content.Message → MsgData (prepareSend) → request envelope → frame, as
// SendMsg and conn.roundTrip do it.
func BenchmarkEncodeSend(b *testing.B) {
	for _, gz := range []bool{false, true} {
		b.Run(map[bool]string{false: "plain", true: "gzip"}[gz], func(b *testing.B) {
			cfg := Config{WSAddr: "ws://127.0.0.1:1", UserID: "bot_0001", Token: "t"}
			if gz {
				cfg.Compression = CompressGzip
			}
			c, err := New(cfg)
			if err != nil {
				b.Fatal(err)
			}
			enc := wire.NewEncoder(c.wireOptions(wire.MaxServerInbound))
			var payload []byte
			var req wire.Req
			tmpl := content.Message{GroupID: "group_45c48cce2e2d7fbd", SessionType: content.GroupChat, ContentType: content.TypeText,
				Content: []byte(`{"content":"hello world, this is the bot replying"}`), SenderNickname: "Bot", AtUserIDList: []string{"user_8f14e45fceea167a"}}
			b.ReportAllocs()
			cpu := startCPU(b)
			defer cpu.report()
			for b.Loop() {
				m := tmpl
				payload, err = c.prepareSend(&m, payload[:0])
				if err != nil {
					b.Fatal(err)
				}
				req = wire.Req{ReqIdentifier: wire.SendMsg, SendID: "bot_0001", OperationID: "1700000000123456789", MsgIncr: c.nextMsgIncr(), Data: payload}
				if _, err := enc.EncodeReq(&req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDecodePushStages splits BenchmarkDecodePush into its stages and
// runs the generated-code decoder (proto.Unmarshal, docs/performance.md
// stage 2) as a yardstick, so ratios within one run hold on a busy machine.
func BenchmarkDecodePushStages(b *testing.B) {
	payload, err := proto.Marshal(pushOf("sg_group_45c48cce2e2d7fbd", benchMsgData()))
	if err != nil {
		b.Fatal(err)
	}
	for _, gz := range []bool{false, true} {
		name := map[bool]string{false: "envelope_plain", true: "envelope_gzip"}[gz]
		b.Run(name, func(b *testing.B) {
			frame := pushFrame(b, gz)
			dec := wire.NewDecoder(wire.Options{Gzip: gz, MaxFrame: wire.MaxClientInbound})
			var resp wire.Resp
			b.ReportAllocs()
			cpu := startCPU(b)
			defer cpu.report()
			for b.Loop() {
				if err := dec.DecodeResp(frame, &resp); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("payload_to_messages", func(b *testing.B) {
		b.ReportAllocs()
		cpu := startCPU(b)
		defer cpu.report()
		for b.Loop() {
			if _, err := decodePush(payload); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("yardstick_proto_unmarshal", func(b *testing.B) {
		b.ReportAllocs()
		cpu := startCPU(b)
		defer cpu.report()
		for b.Loop() {
			var pm sdkws.PushMessages
			if err := proto.Unmarshal(payload, &pm); err != nil {
				b.Fatal(err)
			}
		}
	})
}
