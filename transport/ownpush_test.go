package transport

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/openimbot/openimbot/content"
	"github.com/openimbot/openimbot/internal/pb/sdkws"
)

// With an own user ID, the pushed messages sent by that user come without
// Content and Elem, every other field as decodePush gives it; the
// messages of others are complete.
func TestDecodePushOwnSkipsOwnContent(t *testing.T) {
	pm := &sdkws.PushMessages{Msgs: map[string]*sdkws.PullMsgs{
		"si_alice_bot": {Msgs: []*sdkws.MsgData{textMsg("alice", "bot", 41, "hi"), textMsg("bot", "alice", 42, "ok")}},
	}}
	data, err := proto.Marshal(pm)
	if err != nil {
		t.Fatal(err)
	}
	full, err := decodePush(data)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodePushOwn(data, "bot")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || len(full) != 2 {
		t.Fatalf("%d and %d messages, want 2", len(got), len(full))
	}
	if e, ok := got[0].Elem.(*content.Text); !ok || e.Content != "hi" || string(got[0].Content) != string(full[0].Content) {
		t.Errorf("alice's message: Elem %#v, Content %q", got[0].Elem, got[0].Content)
	}
	own := got[1]
	if own.Content != nil || own.Elem != nil {
		t.Errorf("own message: Content %q, Elem %#v, want neither", own.Content, own.Elem)
	}
	want := full[1]
	want.Content, want.Elem = nil, nil
	if own.Seq != 42 || own.SendID != "bot" || own.ConversationID != "si_alice_bot" || own.ClientMsgID != want.ClientMsgID ||
		own.ServerMsgID != want.ServerMsgID || own.RecvID != want.RecvID || own.ContentType != want.ContentType ||
		own.SendTime != want.SendTime || own.Status != want.Status {
		t.Errorf("own message %+v, want %+v", own, want)
	}
}
