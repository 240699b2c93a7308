package content

import "strconv"

// ContentType is MsgData.contentType: what kind of element a message carries
// (docs/protocol.md section 7.2).
type ContentType int32

// Content types. User content is 101–199; notifications are 1000–5000.
const (
	TypeText                         ContentType = 101
	TypePicture                      ContentType = 102
	TypeSound                        ContentType = 103
	TypeVideo                        ContentType = 104
	TypeFile                         ContentType = 105
	TypeAtText                       ContentType = 106
	TypeMerge                        ContentType = 107
	TypeCard                         ContentType = 108
	TypeLocation                     ContentType = 109
	TypeCustom                       ContentType = 110
	TypeRevoke                       ContentType = 111
	TypeTyping                       ContentType = 113
	TypeQuote                        ContentType = 114
	TypeFace                         ContentType = 115
	TypeAdvancedText                 ContentType = 117
	TypeMarkdown                     ContentType = 118
	TypeCustomNotTriggerConversation ContentType = 119
	TypeCustomOnlineOnly             ContentType = 120
	TypeReactionModifier             ContentType = 121
	TypeReactionDeleter              ContentType = 122
	TypeCommon                       ContentType = 200
	TypeGroupMsg                     ContentType = 201
	TypeSignalMsg                    ContentType = 202
	TypeCustomNotification           ContentType = 203

	TypeFriendApplicationApproved ContentType = 1201
	TypeFriendApplicationRejected ContentType = 1202
	TypeFriendApplication         ContentType = 1203
	TypeFriendAdded               ContentType = 1204
	TypeFriendDeleted             ContentType = 1205
	TypeFriendRemarkSet           ContentType = 1206
	TypeBlackAdded                ContentType = 1207
	TypeBlackDeleted              ContentType = 1208
	TypeFriendInfoUpdated         ContentType = 1209
	TypeFriendsInfoUpdate         ContentType = 1210
	TypeConversationChange        ContentType = 1300
	TypeUserInfoUpdated           ContentType = 1303
	TypeUserStatusChange          ContentType = 1304
	TypeUserCommandAdd            ContentType = 1305
	TypeUserCommandDelete         ContentType = 1306
	TypeUserCommandUpdate         ContentType = 1307
	TypeUserSubscribeOnlineStatus ContentType = 1308
	TypeOANotification            ContentType = 1400
	TypeGroupCreated              ContentType = 1501
	TypeGroupInfoSet              ContentType = 1502
	TypeJoinGroupApplication      ContentType = 1503
	TypeMemberQuit                ContentType = 1504
	TypeGroupApplicationAccepted  ContentType = 1505
	TypeGroupApplicationRejected  ContentType = 1506
	TypeGroupOwnerTransferred     ContentType = 1507
	TypeMemberKicked              ContentType = 1508
	TypeMemberInvited             ContentType = 1509
	TypeMemberEnter               ContentType = 1510
	TypeGroupDismissed            ContentType = 1511
	TypeGroupMemberMuted          ContentType = 1512
	TypeGroupMemberCancelMuted    ContentType = 1513
	TypeGroupMuted                ContentType = 1514
	TypeGroupCancelMuted          ContentType = 1515
	TypeGroupMemberInfoSet        ContentType = 1516
	TypeGroupMemberSetToAdmin     ContentType = 1517
	TypeGroupMemberSetToOrdinary  ContentType = 1518
	TypeGroupInfoSetAnnouncement  ContentType = 1519
	TypeGroupInfoSetName          ContentType = 1520
	TypeSuperGroupUpdate          ContentType = 1651
	TypeMsgDeleteNotification     ContentType = 1652
	TypeConversationPrivateChat   ContentType = 1701
	TypeConversationUnreadClear   ContentType = 1702
	TypeClearConversation         ContentType = 1703
	TypeBusinessNotification      ContentType = 2001
	TypeMsgRevokeNotification     ContentType = 2101
	TypeDeleteMsgsNotification    ContentType = 2102
	TypeHasReadReceipt            ContentType = 2200
)

// SessionType is MsgData.sessionType (docs/protocol.md section 7.2).
type SessionType int32

// Session types.
const (
	SingleChat       SessionType = 1
	WriteGroupChat   SessionType = 2 // legacy; rejected by servers on send
	ReadGroupChat    SessionType = 3 // the group chat of OpenIM v3
	NotificationChat SessionType = 4
)

// GroupChat is the session type of an ordinary group chat.
const GroupChat = ReadGroupChat

// String returns the OpenIM name of the session type.
func (s SessionType) String() string {
	switch s {
	case SingleChat:
		return "SingleChat"
	case WriteGroupChat:
		return "WriteGroupChat"
	case ReadGroupChat:
		return "ReadGroupChat"
	case NotificationChat:
		return "NotificationChat"
	}
	return "SessionType(" + strconv.Itoa(int(s)) + ")"
}

// IsGroup reports whether s is a group chat.
func (s SessionType) IsGroup() bool { return s == ReadGroupChat || s == WriteGroupChat }

// MsgFrom is MsgData.msgFrom.
type MsgFrom int32

// Message origins.
const (
	FromUser   MsgFrom = 100
	FromSystem MsgFrom = 200
)

// String returns "User", "System" or MsgFrom(n).
func (f MsgFrom) String() string {
	switch f {
	case FromUser:
		return "User"
	case FromSystem:
		return "System"
	}
	return "MsgFrom(" + strconv.Itoa(int(f)) + ")"
}

// Status is MsgData.status.
type Status int32

// Message statuses.
const (
	StatusSending  Status = 1
	StatusSent     Status = 2
	StatusFailed   Status = 3
	StatusDeleted  Status = 4 // a placeholder for a seq whose message is gone
	StatusFiltered Status = 5
)

// String returns the status name.
func (s Status) String() string {
	switch s {
	case StatusSending:
		return "Sending"
	case StatusSent:
		return "Sent"
	case StatusFailed:
		return "Failed"
	case StatusDeleted:
		return "Deleted"
	case StatusFiltered:
		return "Filtered"
	}
	return "Status(" + strconv.Itoa(int(s)) + ")"
}
