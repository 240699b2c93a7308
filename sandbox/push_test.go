package sandbox

import (
	"bytes"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/openimbot/openimbot/internal/pb/sdkws"
)

// marshalPush gives the bytes proto.Marshal gives for the PushMessages it
// stands for, for chat and notification conversations.
func TestMarshalPushMatchesProto(t *testing.T) {
	md := &sdkws.MsgData{SendID: "alice", RecvID: "bot", ClientMsgID: "c1", ServerMsgID: "s1", SessionType: 1,
		ContentType: 101, Content: bytes.Repeat([]byte("x"), 300), Seq: 7, SendTime: 1700000000000,
		Options: map[string]bool{"history": true}, AtUserIDList: []string{"bot"}}
	for _, conv := range []string{"si_alice_bot", "n_si_alice_bot", "sg_" + string(bytes.Repeat([]byte("g"), 200))} {
		got, err := marshalPush(conv, md)
		if err != nil {
			t.Fatal(err)
		}
		pm := &sdkws.PushMessages{}
		entry := map[string]*sdkws.PullMsgs{conv: {Msgs: []*sdkws.MsgData{md}}}
		if conv[:2] == "n_" {
			pm.NotificationMsgs = entry
		} else {
			pm.Msgs = entry
		}
		want, err := proto.Marshal(pm)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%s: marshalPush differs from proto.Marshal", conv)
		}
	}
}
