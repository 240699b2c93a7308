package sandbox

import (
	"bytes"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/openimbot/openimbot/internal/pb/sdkws"
)

// randWire returns the encoding of a random MsgData, often altered the
// ways a peer could: a second encoding appended (fields repeated, merged),
// known fields with the wrong wire type, unknown fields of every wire type
// (groups too) at every level, hand-built options entries (keys or values
// missing, repeated, out of order, with unknown fields), non-minimal tags,
// invalid UTF-8, truncation and flipped bytes.
func randWire(r *rand.Rand) []byte {
	b, err := proto.Marshal(randMsgData(r))
	if err != nil {
		panic(err)
	}
	for range r.IntN(4) {
		switch r.IntN(9) {
		case 0:
			more, _ := proto.Marshal(randMsgData(r))
			b = append(b, more...)
		case 1: // a known field number with another wire type
			b = appendRandField(r, b, protowire.Number(1+r.IntN(23)), true)
		case 2:
			b = appendRandField(r, b, protowire.Number(24+r.IntN(2000)), true)
		case 3:
			b = protowire.AppendTag(b, 19, protowire.BytesType)
			b = protowire.AppendBytes(b, randEntry(r))
		case 4:
			var p []byte
			for range r.IntN(5) {
				p = appendRandField(r, p, protowire.Number(1+r.IntN(8)), true)
			}
			b = protowire.AppendTag(b, 20, protowire.BytesType)
			b = protowire.AppendBytes(b, p)
		case 5: // a non-minimal tag
			num := 1 + r.IntN(25)
			b = append(b, byte(num<<3|int(protowire.VarintType))|0x80, 0x80, 0)
			b = protowire.AppendVarint(b, r.Uint64N(300))
		case 6: // invalid UTF-8 in a string somewhere
			nums := []protowire.Number{1, 2, 3, 4, 5, 7, 8, 21, 22, 23}
			b = protowire.AppendTag(b, nums[r.IntN(len(nums))], protowire.BytesType)
			b = protowire.AppendBytes(b, []byte{'a', 0xff, 'b'})
		case 7:
			if len(b) > 0 {
				b = b[:r.IntN(len(b))]
			}
		case 8:
			if len(b) > 0 {
				b[r.IntN(len(b))] ^= byte(1 << r.IntN(8))
			}
		}
	}
	return b
}

// appendRandField appends field num with a random wire type and value;
// groups hold nested fields.
func appendRandField(r *rand.Rand, b []byte, num protowire.Number, group bool) []byte {
	switch t := r.IntN(5); {
	case t == 0:
		b = protowire.AppendTag(b, num, protowire.VarintType)
		return protowire.AppendVarint(b, r.Uint64()>>r.IntN(64))
	case t == 1:
		b = protowire.AppendTag(b, num, protowire.Fixed32Type)
		return protowire.AppendFixed32(b, r.Uint32())
	case t == 2:
		b = protowire.AppendTag(b, num, protowire.Fixed64Type)
		return protowire.AppendFixed64(b, r.Uint64())
	case t == 3 && group:
		b = protowire.AppendTag(b, num, protowire.StartGroupType)
		for range r.IntN(3) {
			b = appendRandField(r, b, protowire.Number(1+r.IntN(30)), r.IntN(3) == 0)
		}
		return protowire.AppendTag(b, num, protowire.EndGroupType)
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	s := randStr(r)
	if r.IntN(10) == 0 {
		s += "\xc3"
	}
	return protowire.AppendString(b, s)
}

// randEntry builds an options map entry by hand.
func randEntry(r *rand.Rand) []byte {
	var e []byte
	for range r.IntN(5) {
		switch r.IntN(4) {
		case 0:
			e = protowire.AppendTag(e, 1, protowire.BytesType)
			e = protowire.AppendString(e, randStr(r))
		case 1:
			e = protowire.AppendTag(e, 2, protowire.VarintType)
			e = protowire.AppendVarint(e, r.Uint64N(3))
		case 2:
			e = appendRandField(r, e, protowire.Number(1+r.IntN(4)), true)
		case 3:
			e = protowire.AppendTag(e, 1, protowire.BytesType)
			e = protowire.AppendBytes(e, []byte{0xe2, 0x82})
		}
	}
	return e
}

// sameMsgData reports how got differs from want, field by field, nil and
// empty told apart, unknown fields byte for byte.
func sameMsgData(got, want *sdkws.MsgData) string {
	switch {
	case !proto.Equal(got, want):
		return "not proto.Equal"
	case (got.Content == nil) != (want.Content == nil):
		return "content nil-ness"
	case (got.Options == nil) != (want.Options == nil) || !maps.Equal(got.Options, want.Options):
		return "options"
	case (got.AtUserIDList == nil) != (want.AtUserIDList == nil) || !slices.Equal(got.AtUserIDList, want.AtUserIDList):
		return "atUserIDList"
	case (got.OfflinePushInfo == nil) != (want.OfflinePushInfo == nil):
		return "offlinePushInfo nil-ness"
	case !bytes.Equal(got.ProtoReflect().GetUnknown(), want.ProtoReflect().GetUnknown()):
		return "unknown fields"
	case got.OfflinePushInfo != nil &&
		!bytes.Equal(got.OfflinePushInfo.ProtoReflect().GetUnknown(), want.OfflinePushInfo.ProtoReflect().GetUnknown()):
		return "offlinePushInfo unknown fields"
	}
	return ""
}

// checkDecode decodes data both ways and fails t on any difference in
// the result or in whether the input is accepted.
func checkDecode(t *testing.T, data []byte) {
	t.Helper()
	var want, got sdkws.MsgData
	werr := proto.Unmarshal(data, &want)
	gerr := decodeMsgData(data, &got)
	if (werr == nil) != (gerr == nil) {
		t.Fatalf("input %x: proto.Unmarshal error %v, decodeMsgData error %v", data, werr, gerr)
	}
	if werr != nil {
		return
	}
	if d := sameMsgData(&got, &want); d != "" {
		t.Fatalf("input %x: %s differs:\n got %v\nwant %v", data, d, &got, &want)
	}
}

// decodeMsgData accepts what proto.Unmarshal accepts and decodes it to
// the same MsgData, on 20,000 random and altered encodings.
func TestDecodeMsgDataMatchesProto(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	fixed := [][]byte{
		nil, {}, {0}, {0x08}, {0x0c}, {0x0b, 0x0c}, {0x0b}, {0x64}, // tag 0, truncated, end group, lone start group
		{0xfa, 0xff, 0xff, 0xff, 0x0f, 0}, // field number above the maximum
		{0x62, 0x00},                      // empty content
		{0x9a, 0x01, 0x00},                // an empty options entry
		{0xa2, 0x01, 0x00},                // an empty offlinePushInfo
		{0xaa, 0x01, 0x00},                // an empty mention
		{0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02}, // varint overflow
	}
	for _, b := range fixed {
		checkDecode(t, b)
	}
	ok := 0
	for range 20000 {
		b := randWire(r)
		checkDecode(t, b)
		if proto.Unmarshal(b, &sdkws.MsgData{}) == nil {
			ok++
		}
	}
	if ok < 5000 || ok > 19000 {
		t.Fatalf("%d of 20000 inputs accepted: the mix of valid and invalid input is off", ok)
	}
}

func FuzzDecodeMsgData(f *testing.F) {
	r := rand.New(rand.NewPCG(7, 8))
	for range 200 {
		f.Add(randWire(r))
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkDecode(t, data) })
}

func BenchmarkDecodeMsgData(b *testing.B) {
	md := &sdkws.MsgData{SendID: "bot", RecvID: "user042", ClientMsgID: newID(), SenderPlatformID: 7,
		SessionType: 1, MsgFrom: 100, ContentType: 101, Content: []byte(`{"content":"a reply to kw3x"}`),
		CreateTime: 1700000000000, Status: 1, SenderNickname: "Bot"}
	data, _ := proto.Marshal(md)
	var m sdkws.MsgData
	b.Run("proto", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if err := proto.Unmarshal(data, &m); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("hand", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			m.Reset()
			if err := decodeMsgData(data, &m); err != nil {
				b.Fatal(err)
			}
		}
	})
}
