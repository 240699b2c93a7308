package sandbox_test

import (
	"bytes"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/openimbot/openimbot/internal/pb/msg"
	"github.com/openimbot/openimbot/sandbox"
)

// A 1003 request's MsgData is taken as protobuf takes it: unknown fields
// (at the top, in offlinePushInfo, in an options entry) and known fields
// of an unexpected wire type are accepted and pushed on unchanged;
// invalid UTF-8 and malformed input are answered with error 500 and
// neither stored nor pushed, and the connection stays usable.
func TestSendMsgWireInput(t *testing.T) {
	s := newSandbox(t, sandbox.Config{})
	alice := login(t, s, "alice", rawOpts{})
	bob := login(t, s, "bob", rawOpts{gzip: true})
	conv := sandbox.ConversationID("alice", "bob")

	base, _ := proto.Marshal(textMsg("alice", "bob", "hello"))
	unknown := protowire.AppendTag(nil, 13, protowire.StartGroupType)
	unknown = protowire.AppendTag(unknown, 1, protowire.Fixed32Type)
	unknown = protowire.AppendFixed32(unknown, 7)
	unknown = protowire.AppendTag(unknown, 13, protowire.EndGroupType)
	unknown = protowire.AppendTag(unknown, 7, protowire.VarintType) // senderNickname as a varint
	unknown = protowire.AppendVarint(unknown, 5)
	var entry []byte
	entry = protowire.AppendTag(entry, 3, protowire.BytesType)
	entry = protowire.AppendString(entry, "ignored")
	entry = protowire.AppendTag(entry, 1, protowire.BytesType)
	entry = protowire.AppendString(entry, "senderSync")
	var push []byte
	push = protowire.AppendTag(push, 1, protowire.BytesType)
	push = protowire.AppendString(push, "title")
	push = protowire.AppendTag(push, 9, protowire.VarintType)
	push = protowire.AppendVarint(push, 1)
	good := append(append([]byte(nil), base...), unknown...)
	good = protowire.AppendTag(good, 19, protowire.BytesType)
	good = protowire.AppendBytes(good, entry) // senderSync: false
	good = protowire.AppendTag(good, 20, protowire.BytesType)
	good = protowire.AppendBytes(good, push)

	send := func(data []byte) GeneralWsResp {
		t.Helper()
		alice.n++
		incr := "i" + string(rune('0'+alice.n))
		alice.sendEnv(GeneralWsReq{ReqIdentifier: 1003, SendID: "alice", OperationID: "op", MsgIncr: incr, Data: data})
		r, pushes := alice.reply(incr)
		if len(pushes) != 0 {
			t.Fatalf("the sender got %d pushes", len(pushes))
		}
		return r
	}
	for _, bad := range [][]byte{
		protowire.AppendString(protowire.AppendTag(append([]byte(nil), base...), 7, protowire.BytesType), "\xffbad"),
		base[:len(base)-1],
		append(append([]byte(nil), base...), 0x0c), // an end-group tag
	} {
		r := send(bad)
		if r.ErrCode != 500 || r.ErrMsg != "ServerInternalError" || len(r.Data) != 0 {
			t.Fatalf("malformed %x: reply %+v, want error 500", bad, r)
		}
	}
	if n := s.MaxSeq(conv); n != 0 {
		t.Fatalf("max seq %d after malformed messages", n)
	}

	r := send(good)
	var ack msg.SendMsgResp
	if r.ErrCode != 0 || proto.Unmarshal(r.Data, &ack) != nil || ack.ClientMsgID != "c-hello" || len(ack.ServerMsgID) != 32 || ack.SendTime == 0 {
		t.Fatalf("reply %+v (%v)", r, &ack)
	}
	md := decodePush(t, bob.next()).Msgs[conv].GetMsgs()[0]
	if got := md.ProtoReflect().GetUnknown(); !bytes.Equal(got, unknown) {
		t.Fatalf("pushed unknown fields %x, want %x", got, unknown)
	}
	if got := md.OfflinePushInfo.ProtoReflect().GetUnknown(); md.OfflinePushInfo.Title != "title" || !bytes.Equal(got, []byte{0x48, 1}) {
		t.Fatalf("pushed offlinePushInfo %v, unknown %x", md.OfflinePushInfo, got)
	}
	if v, ok := md.Options["senderSync"]; !ok || v || len(md.Options) != 1 || md.SenderNickname != "" || md.Seq != 1 {
		t.Fatalf("pushed %v", md)
	}
	if ms := s.Messages(conv); len(ms) != 1 || ms[0].ClientMsgID != "c-hello" || ms[0].ServerMsgID != ack.ServerMsgID {
		t.Fatalf("stored %+v", ms)
	}
}
