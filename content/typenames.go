package content

import (
	"strconv"
	"strings"
)

// Bounds of the notification range (docs/protocol.md section 7.2): every content type
// from NotificationBegin to NotificationEnd inclusive is a notification whose
// content is {"detail":"<tips JSON>"}.
const (
	NotificationBegin ContentType = 1000
	NotificationEnd   ContentType = 5000
)

// IsNotification reports whether t is in the notification range 1000–5000.
func (t ContentType) IsNotification() bool {
	return t >= NotificationBegin && t <= NotificationEnd
}

// String returns the name OpenIM gives the content type in its constant
// package (for example "Text", "Voice", "Merger",
// "GroupCreatedNotification"), or "ContentType(n)" for a value it does not
// know.
func (t ContentType) String() string {
	if s := t.name(); s != "" {
		return s
	}
	return "ContentType(" + strconv.Itoa(int(t)) + ")"
}

func (t ContentType) name() string {
	switch t {
	case TypeText:
		return "Text"
	case TypePicture:
		return "Picture"
	case TypeSound:
		return "Voice"
	case TypeVideo:
		return "Video"
	case TypeFile:
		return "File"
	case TypeAtText:
		return "AtText"
	case TypeMerge:
		return "Merger"
	case TypeCard:
		return "Card"
	case TypeLocation:
		return "Location"
	case TypeCustom:
		return "Custom"
	case TypeRevoke:
		return "Revoke"
	case TypeTyping:
		return "Typing"
	case TypeQuote:
		return "Quote"
	case TypeFace:
		return "Face"
	case TypeAdvancedText:
		return "AdvancedText"
	case TypeMarkdown:
		return "MarkdownText"
	case TypeCustomNotTriggerConversation:
		return "CustomNotTriggerConversation"
	case TypeCustomOnlineOnly:
		return "CustomOnlineOnly"
	case TypeReactionModifier:
		return "ReactionMessageModifier"
	case TypeReactionDeleter:
		return "ReactionMessageDeleter"
	case TypeCommon:
		return "Common"
	case TypeGroupMsg:
		return "GroupMsg"
	case TypeSignalMsg:
		return "SignalMsg"
	case TypeCustomNotification:
		return "CustomNotification"
	case TypeFriendApplicationApproved:
		return "FriendApplicationApprovedNotification"
	case TypeFriendApplicationRejected:
		return "FriendApplicationRejectedNotification"
	case TypeFriendApplication:
		return "FriendApplicationNotification"
	case TypeFriendAdded:
		return "FriendAddedNotification"
	case TypeFriendDeleted:
		return "FriendDeletedNotification"
	case TypeFriendRemarkSet:
		return "FriendRemarkSetNotification"
	case TypeBlackAdded:
		return "BlackAddedNotification"
	case TypeBlackDeleted:
		return "BlackDeletedNotification"
	case TypeFriendInfoUpdated:
		return "FriendInfoUpdatedNotification"
	case TypeFriendsInfoUpdate:
		return "FriendsInfoUpdateNotification"
	case TypeConversationChange:
		return "ConversationChangeNotification"
	case TypeUserInfoUpdated:
		return "UserInfoUpdatedNotification"
	case TypeUserStatusChange:
		return "UserStatusChangeNotification"
	case TypeUserCommandAdd:
		return "UserCommandAddNotification"
	case TypeUserCommandDelete:
		return "UserCommandDeleteNotification"
	case TypeUserCommandUpdate:
		return "UserCommandUpdateNotification"
	case TypeUserSubscribeOnlineStatus:
		return "UserSubscribeOnlineStatusNotification"
	case TypeOANotification:
		return "OANotification"
	case TypeGroupCreated:
		return "GroupCreatedNotification"
	case TypeGroupInfoSet:
		return "GroupInfoSetNotification"
	case TypeJoinGroupApplication:
		return "JoinGroupApplicationNotification"
	case TypeMemberQuit:
		return "MemberQuitNotification"
	case TypeGroupApplicationAccepted:
		return "GroupApplicationAcceptedNotification"
	case TypeGroupApplicationRejected:
		return "GroupApplicationRejectedNotification"
	case TypeGroupOwnerTransferred:
		return "GroupOwnerTransferredNotification"
	case TypeMemberKicked:
		return "MemberKickedNotification"
	case TypeMemberInvited:
		return "MemberInvitedNotification"
	case TypeMemberEnter:
		return "MemberEnterNotification"
	case TypeGroupDismissed:
		return "GroupDismissedNotification"
	case TypeGroupMemberMuted:
		return "GroupMemberMutedNotification"
	case TypeGroupMemberCancelMuted:
		return "GroupMemberCancelMutedNotification"
	case TypeGroupMuted:
		return "GroupMutedNotification"
	case TypeGroupCancelMuted:
		return "GroupCancelMutedNotification"
	case TypeGroupMemberInfoSet:
		return "GroupMemberInfoSetNotification"
	case TypeGroupMemberSetToAdmin:
		return "GroupMemberSetToAdminNotification"
	case TypeGroupMemberSetToOrdinary:
		return "GroupMemberSetToOrdinaryUserNotification"
	case TypeGroupInfoSetAnnouncement:
		return "GroupInfoSetAnnouncementNotification"
	case TypeGroupInfoSetName:
		return "GroupInfoSetNameNotification"
	case TypeSuperGroupUpdate:
		return "SuperGroupUpdateNotification"
	case TypeMsgDeleteNotification:
		return "MsgDeleteNotification"
	case TypeConversationPrivateChat:
		return "ConversationPrivateChatNotification"
	case TypeConversationUnreadClear:
		return "ConversationUnreadNotification"
	case TypeClearConversation:
		return "ClearConversationNotification"
	case TypeBusinessNotification:
		return "BusinessNotification"
	case TypeMsgRevokeNotification:
		return "MsgRevokeNotification"
	case TypeDeleteMsgsNotification:
		return "DeleteMsgsNotification"
	case TypeHasReadReceipt:
		return "HasReadReceipt"
	}
	return ""
}

// KnownContentTypes returns every content type this package has a name for,
// in ascending order. The slice is freshly allocated on each call.
func KnownContentTypes() []ContentType {
	return []ContentType{
		TypeText, TypePicture, TypeSound, TypeVideo, TypeFile, TypeAtText,
		TypeMerge, TypeCard, TypeLocation, TypeCustom, TypeRevoke, TypeTyping,
		TypeQuote, TypeFace, TypeAdvancedText, TypeMarkdown,
		TypeCustomNotTriggerConversation, TypeCustomOnlineOnly,
		TypeReactionModifier, TypeReactionDeleter,
		TypeCommon, TypeGroupMsg, TypeSignalMsg, TypeCustomNotification,
		TypeFriendApplicationApproved, TypeFriendApplicationRejected,
		TypeFriendApplication, TypeFriendAdded, TypeFriendDeleted,
		TypeFriendRemarkSet, TypeBlackAdded, TypeBlackDeleted,
		TypeFriendInfoUpdated, TypeFriendsInfoUpdate,
		TypeConversationChange,
		TypeUserInfoUpdated, TypeUserStatusChange, TypeUserCommandAdd,
		TypeUserCommandDelete, TypeUserCommandUpdate, TypeUserSubscribeOnlineStatus,
		TypeOANotification,
		TypeGroupCreated, TypeGroupInfoSet, TypeJoinGroupApplication,
		TypeMemberQuit, TypeGroupApplicationAccepted, TypeGroupApplicationRejected,
		TypeGroupOwnerTransferred, TypeMemberKicked, TypeMemberInvited,
		TypeMemberEnter, TypeGroupDismissed, TypeGroupMemberMuted,
		TypeGroupMemberCancelMuted, TypeGroupMuted, TypeGroupCancelMuted,
		TypeGroupMemberInfoSet, TypeGroupMemberSetToAdmin,
		TypeGroupMemberSetToOrdinary, TypeGroupInfoSetAnnouncement,
		TypeGroupInfoSetName,
		TypeSuperGroupUpdate, TypeMsgDeleteNotification,
		TypeConversationPrivateChat, TypeConversationUnreadClear,
		TypeClearConversation,
		TypeBusinessNotification, TypeMsgRevokeNotification,
		TypeDeleteMsgsNotification, TypeHasReadReceipt,
	}
}

// ParseContentType returns the content type named s. It accepts, ignoring
// case, the OpenIM name returned by String ("Voice", "MarkdownText",
// "GroupCreatedNotification"), that name without a trailing
// "Notification", the short names of this package's element kinds ("sound",
// "merge", "markdown"), and decimal numbers ("101"). ok is false for
// anything else.
func ParseContentType(s string) (t ContentType, ok bool) {
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseInt(s, 10, 32); err == nil {
		return ContentType(n), true
	}
	switch strings.ToLower(s) {
	case "sound":
		return TypeSound, true
	case "merge":
		return TypeMerge, true
	case "markdown":
		return TypeMarkdown, true
	}
	known := KnownContentTypes()
	for _, k := range known {
		if strings.EqualFold(k.name(), s) {
			return k, true
		}
	}
	for _, k := range known {
		if short, cut := strings.CutSuffix(k.name(), "Notification"); cut && short != "" && strings.EqualFold(short, s) {
			return k, true
		}
	}
	return 0, false
}
