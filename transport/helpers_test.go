package transport

import (
	"net/http"
	"reflect"
	"testing"

	"github.com/openimbot/openimbot/content"
	"github.com/openimbot/openimbot/internal/pb/sdkws"
)

func httpNotFound() http.Handler { return http.NotFoundHandler() }

func textMsg(from, to string, seq int64, text string) *sdkws.MsgData {
	return &sdkws.MsgData{
		SendID: from, RecvID: to, ClientMsgID: "c" + from, ServerMsgID: "s" + from,
		SenderPlatformID: 7, SessionType: 1, MsgFrom: 100, ContentType: 101,
		Content: []byte(`{"content":"` + text + `"}`), Seq: seq, SendTime: 1700000000001, CreateTime: 1700000000000, Status: 2,
	}
}

func pushOf(conv string, msgs ...*sdkws.MsgData) *sdkws.PushMessages {
	return &sdkws.PushMessages{Msgs: map[string]*sdkws.PullMsgs{conv: {Msgs: msgs}}}
}

// fullMsgData has every MsgData field set.
func fullMsgData() *sdkws.MsgData {
	return &sdkws.MsgData{
		SendID: "alice", RecvID: "", GroupID: "g1", ClientMsgID: "0123456789abcdef0123456789abcdef", ServerMsgID: "srv",
		SenderPlatformID: 5, SenderNickname: "Alice", SenderFaceURL: "http://x/a.png", SessionType: 3, MsgFrom: 100,
		ContentType: 101, Content: []byte(`{"content":"hello world"}`), Seq: 42, SendTime: 1700000000001,
		CreateTime: 1700000000000, Status: 2, IsRead: true,
		Options:         map[string]bool{"history": true, "offlinePush": false, "unreadCount": true},
		OfflinePushInfo: &sdkws.OfflinePushInfo{Title: "t", Desc: "d", Ex: "e", IOSPushSound: "s", IOSBadgeCount: true, SignalInfo: "si"},
		AtUserIDList:    []string{"bot", "AtAllTag", ""},
		AttachedInfo:    `{"a":1}`, Ex: "ex",
	}
}

// checkMessage compares every field of m with md.
func checkMessage(t *testing.T, m *content.Message, md *sdkws.MsgData) {
	t.Helper()
	got := *m
	got.ConversationID = ""
	got.Elem = nil
	want := content.Message{
		SendID: md.GetSendID(), RecvID: md.GetRecvID(), GroupID: md.GetGroupID(), ClientMsgID: md.GetClientMsgID(),
		ServerMsgID: md.GetServerMsgID(), SenderPlatformID: md.GetSenderPlatformID(), SenderNickname: md.GetSenderNickname(),
		SenderFaceURL: md.GetSenderFaceURL(), SessionType: content.SessionType(md.GetSessionType()),
		MsgFrom: content.MsgFrom(md.GetMsgFrom()), ContentType: content.ContentType(md.GetContentType()),
		Content: md.GetContent(), Seq: md.GetSeq(), SendTime: md.GetSendTime(), CreateTime: md.GetCreateTime(),
		Status: content.Status(md.GetStatus()), IsRead: md.GetIsRead(), Options: md.GetOptions(),
		AtUserIDList: md.GetAtUserIDList(), AttachedInfo: md.GetAttachedInfo(), Ex: md.GetEx(),
	}
	if p := md.GetOfflinePushInfo(); p != nil {
		want.OfflinePushInfo = &content.OfflinePushInfo{Title: p.GetTitle(), Desc: p.GetDesc(), Ex: p.GetEx(),
			IOSPushSound: p.GetIOSPushSound(), IOSBadgeCount: p.GetIOSBadgeCount(), SignalInfo: p.GetSignalInfo()}
	}
	if len(want.Content) == 0 {
		want.Content = nil
		if len(got.Content) == 0 {
			got.Content = nil
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("message\n got %+v\nwant %+v", got, want)
	}
	if m.Elem == nil {
		t.Errorf("Elem is nil")
	}
}
