package pb_test

import (
	"encoding/hex"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/openimbot/openimbot/internal/pb/sdkws"
)

// The golden bytes of docs/protocol.md section 6: the generated code must produce
// exactly these encodings, and decode them back to the same values.
func TestGoldenBytes(t *testing.T) {
	text := &sdkws.MsgData{
		SendID: "bot", RecvID: "alice", ClientMsgID: "c1", SenderPlatformID: 7,
		SessionType: 1, MsgFrom: 100, ContentType: 101,
		Content: []byte(`{"content":"hi"}`), CreateTime: 1700000000000,
	}
	pushed := proto.Clone(text).(*sdkws.MsgData)
	pushed.ServerMsgID = "s1"
	pushed.Seq = 1
	pushed.SendTime = 1700000000001

	tests := []struct {
		name string
		msg  proto.Message
		hex  string
	}{
		{"GetMaxSeqReq", &sdkws.GetMaxSeqReq{UserID: "bot"}, "0a03626f74"},
		{"GetMaxSeqResp", &sdkws.GetMaxSeqResp{MaxSeqs: map[string]int64{"si_alice_bot": 3}},
			"0a100a0c73695f616c6963655f626f741003"},
		{"PullMessageBySeqsReq", &sdkws.PullMessageBySeqsReq{UserID: "bot", SeqRanges: []*sdkws.SeqRange{
			{ConversationID: "si_alice_bot", Begin: 1, End: 3, Num: 3}}},
			"0a03626f7412140a0c73695f616c6963655f626f74100118032003"},
		{"MsgData", text,
			"0a03626f741205616c69636522026331300748015064586562107b22636f6e74656e74223a226869227d800180d095ffbc31"},
		{"PushMessages", &sdkws.PushMessages{Msgs: map[string]*sdkws.PullMsgs{
			"si_alice_bot": {Msgs: []*sdkws.MsgData{pushed}}}},
			"0a510a0c73695f616c6963655f626f7412410a3f0a03626f741205616c696365220263312a027331300748015064586562107b22636f6e74656e74223a226869227d70017881d095ffbc31800180d095ffbc31"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := proto.MarshalOptions{Deterministic: true}.Marshal(tt.msg)
			if err != nil {
				t.Fatal(err)
			}
			if h := hex.EncodeToString(got); h != tt.hex {
				t.Fatalf("marshal:\n got %s\nwant %s", h, tt.hex)
			}
			want, _ := hex.DecodeString(tt.hex)
			back := tt.msg.ProtoReflect().New().Interface()
			if err := proto.Unmarshal(want, back); err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(back, tt.msg) {
				t.Fatalf("unmarshal: got %v, want %v", back, tt.msg)
			}
		})
	}
}
