package sandbox

import (
	"bytes"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/openimbot/openimbot/internal/pb/msg"
	"github.com/openimbot/openimbot/internal/pb/sdkws"
)

// appendMsgData writes what deterministic proto.Marshal writes, for
// MsgData with every field set or zero, negative numbers, several
// options, an offline push info, empty mentions and unknown fields.
func TestAppendMsgDataMatchesProto(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	cases := []*sdkws.MsgData{{}, {SendID: "alice", RecvID: "bot", ContentType: 101, Content: []byte(`{"content":"hi"}`), Seq: 1}}
	for range 2000 {
		cases = append(cases, randMsgData(r))
	}
	for i, md := range cases {
		want, err := proto.MarshalOptions{Deterministic: true}.Marshal(md)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendMsgData(nil, md); !bytes.Equal(got, want) {
			t.Fatalf("case %d (%v):\n got %x\nwant %x", i, md, got, want)
		}
	}
}

func randStr(r *rand.Rand) string {
	if r.IntN(3) == 0 {
		return ""
	}
	return strings.Repeat(string(rune('a'+r.IntN(26))), r.IntN(200)) + "ü"
}

// randMsgData returns a MsgData with every field set or zero, negative
// numbers, several options, an offline push info, empty mentions and
// unknown fields.
func randMsgData(r *rand.Rand) *sdkws.MsgData {
	str := func() string { return randStr(r) }
	num := func() int64 {
		switch r.IntN(4) {
		case 0:
			return 0
		case 1:
			return -int64(r.IntN(1000)) - 1
		case 2:
			return math.MinInt64 + int64(r.IntN(3))
		}
		return r.Int64()
	}
	md := &sdkws.MsgData{
		SendID: str(), RecvID: str(), GroupID: str(), ClientMsgID: str(), ServerMsgID: str(),
		SenderPlatformID: int32(num()), SenderNickname: str(), SenderFaceURL: str(),
		SessionType: int32(num()), MsgFrom: int32(num()), ContentType: int32(num()),
		Seq: num(), SendTime: num(), CreateTime: num(), Status: int32(num()), IsRead: r.IntN(2) == 0,
		AttachedInfo: str(), Ex: str(),
	}
	if s := str(); s != "" {
		md.Content = []byte(s)
	}
	if n := r.IntN(4); n > 0 {
		md.Options = map[string]bool{}
		for range n {
			md.Options[str()] = r.IntN(2) == 0
		}
	}
	if r.IntN(2) == 0 {
		md.OfflinePushInfo = &sdkws.OfflinePushInfo{Title: str(), Desc: str(), Ex: str(), IOSPushSound: str(),
			IOSBadgeCount: r.IntN(2) == 0, SignalInfo: strings.Repeat(str(), 3)}
		if r.IntN(4) == 0 {
			unk := protowire.AppendTag(nil, 9, protowire.Fixed32Type)
			md.OfflinePushInfo.ProtoReflect().SetUnknown(protowire.AppendFixed32(unk, r.Uint32()))
		}
	}
	for range r.IntN(3) {
		md.AtUserIDList = append(md.AtUserIDList, str())
	}
	if r.IntN(4) == 0 {
		unk := protowire.AppendTag(nil, 99, protowire.BytesType)
		md.ProtoReflect().SetUnknown(protowire.AppendString(unk, str()))
	}
	return md
}

func BenchmarkMarshalPush(b *testing.B) {
	md := &sdkws.MsgData{SendID: "user042", RecvID: "bot", ClientMsgID: newID(), ServerMsgID: newID(), SenderPlatformID: 7,
		SessionType: 1, MsgFrom: 100, ContentType: 101, Content: []byte(`{"content":"a message with kw3x inside"}`),
		Seq: 1234, SendTime: 1700000000000, CreateTime: 1700000000000, Status: 2, Options: map[string]bool{}}
	b.ReportAllocs()
	for range b.N {
		if _, err := marshalPush("si_bot_user042", md); err != nil {
			b.Fatal(err)
		}
	}
}

// appendSendMsgResp writes what deterministic proto.Marshal writes.
func TestAppendSendMsgRespMatchesProto(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for i := range 2000 {
		m := &msg.SendMsgResp{ServerMsgID: randStr(r), ClientMsgID: randStr(r)}
		switch i % 4 {
		case 1:
			m.SendTime = -int64(r.IntN(1000)) - 1
		case 2:
			m.SendTime = r.Int64()
		case 3:
			m.SendTime = 1700000000000 + int64(i)
		}
		want, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendSendMsgResp(nil, m.ServerMsgID, m.ClientMsgID, m.SendTime); !bytes.Equal(got, want) || got == nil {
			t.Fatalf("%v:\n got %x\nwant %x", m, got, want)
		}
	}
}
