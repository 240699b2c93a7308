package transport

import (
	"math/rand/v2"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/openimbot/openimbot/internal/pb/sdkws"
)

// decodeSendResp agrees with proto.Unmarshal of a UserSendMsgResp: on the
// messages the generated code writes, with unknown fields and known fields
// of another wire type (skipped), and on malformed or non-UTF-8 input
// (both fail).
func TestDecodeSendRespMatchesProto(t *testing.T) {
	var cases [][]byte
	for _, r := range []*sdkws.UserSendMsgResp{
		{},
		{ServerMsgID: "s1", ClientMsgID: "c1", SendTime: 1700000000000},
		{ServerMsgID: "ü✓", SendTime: -1},
		{ClientMsgID: string(make([]byte, 300))},
	} {
		b, err := proto.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, b)
	}
	odd := protowire.AppendTag(nil, 9, protowire.BytesType)
	odd = protowire.AppendString(odd, "unknown")
	odd = protowire.AppendTag(odd, 1, protowire.VarintType) // serverMsgID as a varint: unknown
	odd = protowire.AppendVarint(odd, 5)
	odd = protowire.AppendTag(odd, 3, protowire.BytesType) // sendTime as bytes: unknown
	odd = protowire.AppendString(odd, "x")
	odd = protowire.AppendTag(odd, 2, protowire.BytesType)
	odd = protowire.AppendString(odd, "c")
	cases = append(cases, odd,
		[]byte{0x0a, 0x02, 0xff, 0xfe}, // invalid UTF-8
		[]byte{0x0a, 0x05, 'a'},        // truncated
		[]byte{0x18},                   // truncated varint
	)
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		b := make([]byte, r.IntN(40))
		for i := range b {
			b[i] = byte(r.UintN(256))
		}
		if r.IntN(2) == 0 && len(b) > 0 {
			b[0] = 0x0a
		}
		cases = append(cases, b)
	}
	for _, b := range cases {
		var want sdkws.UserSendMsgResp
		werr := proto.Unmarshal(b, &want)
		got, err := decodeSendResp(b)
		if (err == nil) != (werr == nil) {
			t.Fatalf("%x: decodeSendResp error %v, proto.Unmarshal error %v", b, err, werr)
		}
		if err != nil {
			continue
		}
		if got.ServerMsgID != want.GetServerMsgID() || got.ClientMsgID != want.GetClientMsgID() || got.SendTime != want.GetSendTime() {
			t.Fatalf("%x: got %+v, want %v", b, got, &want)
		}
	}
}
