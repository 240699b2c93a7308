package sandbox

import (
	"maps"

	"github.com/openimbot/openimbot/content"
	"github.com/openimbot/openimbot/internal/pb/sdkws"
)

// conversationID computes the conversation a message belongs to (docs/protocol.md
// 7.1), as content.ConversationIDOf does for a content.Message.
func conversationID(sessionType int32, sendID, recvID, groupID string, opts map[string]bool) string {
	var id string
	switch content.SessionType(sessionType) {
	case content.ReadGroupChat:
		id = content.GroupConversationID(groupID)
	case content.WriteGroupChat:
		id = "g_" + groupID
	case content.NotificationChat:
		id = content.NotificationConversationID(sendID, recvID)
	default:
		id = content.SingleConversationID(sendID, recvID)
	}
	if v, ok := opts["isNotNotification"]; ok && !v {
		id = content.NotificationStreamID(id)
	}
	return id
}

// option reports an options-map key, absent meaning true (docs/protocol.md §7.8).
func option(opts map[string]bool, key string) bool {
	v, ok := opts[key]
	return !ok || v
}

// toContent converts a stored or pushed MsgData to a content.Message.
func toContent(convID string, m *sdkws.MsgData) content.Message { return toContentElem(convID, m, nil) }

// toContentElem is toContent with elem, if not nil, as the element
// m.Content decodes to (known already, so not decoded again).
func toContentElem(convID string, m *sdkws.MsgData, elem content.Element) content.Message {
	out := content.Message{
		ConversationID:   convID,
		SendID:           m.SendID,
		RecvID:           m.RecvID,
		GroupID:          m.GroupID,
		ClientMsgID:      m.ClientMsgID,
		ServerMsgID:      m.ServerMsgID,
		SenderPlatformID: m.SenderPlatformID,
		SenderNickname:   m.SenderNickname,
		SenderFaceURL:    m.SenderFaceURL,
		SessionType:      content.SessionType(m.SessionType),
		MsgFrom:          content.MsgFrom(m.MsgFrom),
		ContentType:      content.ContentType(m.ContentType),
		Content:          append([]byte(nil), m.Content...),
		Seq:              m.Seq,
		SendTime:         m.SendTime,
		CreateTime:       m.CreateTime,
		Status:           content.Status(m.Status),
		IsRead:           m.IsRead,
		AtUserIDList:     append([]string(nil), m.AtUserIDList...),
		AttachedInfo:     m.AttachedInfo,
		Ex:               m.Ex,
	}
	if len(m.Options) > 0 {
		out.Options = maps.Clone(m.Options)
	}
	if p := m.OfflinePushInfo; p != nil {
		out.OfflinePushInfo = &content.OfflinePushInfo{
			Title: p.Title, Desc: p.Desc, Ex: p.Ex,
			IOSPushSound: p.IOSPushSound, IOSBadgeCount: p.IOSBadgeCount, SignalInfo: p.SignalInfo,
		}
	}
	switch {
	case m.Status == int32(content.StatusDeleted) && len(m.Content) == 0:
	case elem != nil:
		out.Elem = elem
	default:
		// Decode never returns a nil element; a decode error leaves an
		// element that keeps the raw bytes, which is all a sandbox needs.
		out.Elem, _ = content.Decode(out.ContentType, out.Content)
	}
	return out
}

// fromContent converts a content.Message to a MsgData (ConversationID, Elem
// are not carried).
func fromContent(m *content.Message) *sdkws.MsgData {
	out := &sdkws.MsgData{
		SendID:           m.SendID,
		RecvID:           m.RecvID,
		GroupID:          m.GroupID,
		ClientMsgID:      m.ClientMsgID,
		ServerMsgID:      m.ServerMsgID,
		SenderPlatformID: m.SenderPlatformID,
		SenderNickname:   m.SenderNickname,
		SenderFaceURL:    m.SenderFaceURL,
		SessionType:      int32(m.SessionType),
		MsgFrom:          int32(m.MsgFrom),
		ContentType:      int32(m.ContentType),
		Content:          append([]byte(nil), m.Content...),
		Seq:              m.Seq,
		SendTime:         m.SendTime,
		CreateTime:       m.CreateTime,
		Status:           int32(m.Status),
		IsRead:           m.IsRead,
		AtUserIDList:     append([]string(nil), m.AtUserIDList...),
		AttachedInfo:     m.AttachedInfo,
		Ex:               m.Ex,
	}
	if len(m.Options) > 0 {
		out.Options = maps.Clone(m.Options)
	}
	if p := m.OfflinePushInfo; p != nil {
		out.OfflinePushInfo = &sdkws.OfflinePushInfo{
			Title: p.Title, Desc: p.Desc, Ex: p.Ex,
			IOSPushSound: p.IOSPushSound, IOSBadgeCount: p.IOSBadgeCount, SignalInfo: p.SignalInfo,
		}
	}
	return out
}
