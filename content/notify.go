package content

import (
	"encoding/json"
	"fmt"
)

// RoleLevel is a group member's role (OpenIM's roleLevel).
type RoleLevel int32

// The role levels of OpenIM group members.
const (
	RoleMember RoleLevel = 20  // an ordinary member
	RoleAdmin  RoleLevel = 60  // a group administrator
	RoleOwner  RoleLevel = 100 // the group owner
)

// String returns "owner", "admin", "member" or "role(<n>)".
func (r RoleLevel) String() string {
	switch r {
	case RoleOwner:
		return "owner"
	case RoleAdmin:
		return "admin"
	case RoleMember:
		return "member"
	}
	return fmt.Sprintf("role(%d)", int32(r))
}

// AtLeastAdmin reports whether r is an administrator or the owner.
func (r RoleLevel) AtLeastAdmin() bool { return r == RoleAdmin || r == RoleOwner }

// GroupInfo is a group as OpenIM describes it (sdkws.GroupInfo, JSON keys
// as the server writes them).
type GroupInfo struct {
	GroupID                string `json:"groupID"`
	GroupName              string `json:"groupName"`
	Notification           string `json:"notification"`
	Introduction           string `json:"introduction"`
	FaceURL                string `json:"faceURL"`
	OwnerUserID            string `json:"ownerUserID"`
	CreateTime             int64  `json:"createTime"`
	MemberCount            uint32 `json:"memberCount"`
	Ex                     string `json:"ex"`
	Status                 int32  `json:"status"` // 0 ok, 1 banned, 2 dismissed, 3 muted
	CreatorUserID          string `json:"creatorUserID"`
	GroupType              int32  `json:"groupType"`
	NeedVerification       int32  `json:"needVerification"`
	LookMemberInfo         int32  `json:"lookMemberInfo"`
	ApplyMemberFriend      int32  `json:"applyMemberFriend"`
	NotificationUpdateTime int64  `json:"notificationUpdateTime"`
	NotificationUserID     string `json:"notificationUserID"`
}

// GroupMember is a member of a group (sdkws.GroupMemberFullInfo). Nickname
// is the member's nickname in the group, which the server fills with the
// user's nickname when none is set.
type GroupMember struct {
	GroupID        string    `json:"groupID"`
	UserID         string    `json:"userID"`
	RoleLevel      RoleLevel `json:"roleLevel"`
	JoinTime       int64     `json:"joinTime"`
	Nickname       string    `json:"nickname"`
	FaceURL        string    `json:"faceURL"`
	AppMangerLevel int32     `json:"appMangerLevel"` // sic, OpenIM's name
	JoinSource     int32     `json:"joinSource"`
	OperatorUserID string    `json:"operatorUserID"`
	Ex             string    `json:"ex"`
	MuteEndTime    int64     `json:"muteEndTime"` // ms since the epoch
	InviterUserID  string    `json:"inviterUserID"`
}

// GroupNotice names a kind of group notification a bot reacts to. One kind
// may cover several content types (MemberJoined is 1509 and 1510).
type GroupNotice int

// The group notifications with typed structs.
const (
	GroupCreated      GroupNotice = iota + 1 // 1501: *GroupCreatedTips
	GroupInfoChanged                         // 1502, 1519, 1520: *GroupInfoChangedTips
	MemberQuit                               // 1504: *MemberQuitTips
	OwnerTransferred                         // 1507: *OwnerTransferredTips
	MemberKicked                             // 1508: *MemberKickedTips
	MemberInvited                            // 1509: *MemberInvitedTips
	MemberJoined                             // 1509 and 1510: *MemberInvitedTips or *MemberEnterTips
	GroupDismissed                           // 1511: *GroupDismissedTips
	MemberMuted                              // 1512: *MemberMutedTips
	MemberUnmuted                            // 1513: *MemberUnmutedTips
	MemberInfoChanged                        // 1516: *MemberInfoChangedTips
	RoleChanged                              // 1517, 1518: *MemberInfoChangedTips
)

var noticeNames = [...]string{"", "GroupCreated", "GroupInfoChanged", "MemberQuit", "OwnerTransferred",
	"MemberKicked", "MemberInvited", "MemberJoined", "GroupDismissed", "MemberMuted", "MemberUnmuted",
	"MemberInfoChanged", "RoleChanged"}

// String returns the constant's name, e.g. "MemberJoined".
func (k GroupNotice) String() string {
	if k > 0 && int(k) < len(noticeNames) {
		return noticeNames[k]
	}
	return fmt.Sprintf("GroupNotice(%d)", int(k))
}

// ContentTypes returns the content types of notifications of kind k (nil
// for an unknown kind).
func (k GroupNotice) ContentTypes() []ContentType {
	switch k {
	case GroupCreated:
		return []ContentType{TypeGroupCreated}
	case GroupInfoChanged:
		return []ContentType{TypeGroupInfoSet, TypeGroupInfoSetAnnouncement, TypeGroupInfoSetName}
	case MemberQuit:
		return []ContentType{TypeMemberQuit}
	case OwnerTransferred:
		return []ContentType{TypeGroupOwnerTransferred}
	case MemberKicked:
		return []ContentType{TypeMemberKicked}
	case MemberInvited:
		return []ContentType{TypeMemberInvited}
	case MemberJoined:
		return []ContentType{TypeMemberInvited, TypeMemberEnter}
	case GroupDismissed:
		return []ContentType{TypeGroupDismissed}
	case MemberMuted:
		return []ContentType{TypeGroupMemberMuted}
	case MemberUnmuted:
		return []ContentType{TypeGroupMemberCancelMuted}
	case MemberInfoChanged:
		return []ContentType{TypeGroupMemberInfoSet}
	case RoleChanged:
		return []ContentType{TypeGroupMemberSetToAdmin, TypeGroupMemberSetToOrdinary}
	}
	return nil
}

// GroupEvent is the decoded detail of a group notification: one of the
// *...Tips types of this file.
type GroupEvent interface {
	// Notice returns the event's kind (MemberInvited for 1509, not
	// MemberJoined).
	Notice() GroupNotice
	// GroupInfo returns the group as it was after the change.
	GroupInfo() GroupInfo
	// Operator returns the member who made the change (zero when the
	// server sent none, e.g. an app administrator's change).
	Operator() GroupMember
	// Members returns the members the change is about: the joined,
	// kicked, muted or changed ones, the new owner, the creator's members.
	Members() []GroupMember
}

// GroupCreatedTips is the detail of 1501.
type GroupCreatedTips struct {
	Group          GroupInfo     `json:"group"`
	OpUser         GroupMember   `json:"opUser"`
	MemberList     []GroupMember `json:"memberList"`
	OperationTime  int64         `json:"operationTime"`
	GroupOwnerUser GroupMember   `json:"groupOwnerUser"`
}

// GroupInfoChangedTips is the detail of 1502, 1519 and 1520
// (GroupInfoSetTips and its name and announcement forms).
type GroupInfoChangedTips struct {
	Type     ContentType `json:"-"`
	OpUser   GroupMember `json:"opUser"`
	MuteTime int64       `json:"muteTime"`
	Group    GroupInfo   `json:"group"`
}

// MemberQuitTips is the detail of 1504.
type MemberQuitTips struct {
	Group         GroupInfo   `json:"group"`
	QuitUser      GroupMember `json:"quitUser"`
	OperationTime int64       `json:"operationTime"`
}

// OwnerTransferredTips is the detail of 1507.
type OwnerTransferredTips struct {
	Group             GroupInfo   `json:"group"`
	OpUser            GroupMember `json:"opUser"`
	NewGroupOwner     GroupMember `json:"newGroupOwner"`
	OldGroupOwner     string      `json:"oldGroupOwner"`
	OperationTime     int64       `json:"operationTime"`
	OldGroupOwnerInfo GroupMember `json:"oldGroupOwnerInfo"`
}

// MemberKickedTips is the detail of 1508.
type MemberKickedTips struct {
	Group          GroupInfo     `json:"group"`
	OpUser         GroupMember   `json:"opUser"`
	KickedUserList []GroupMember `json:"kickedUserList"`
	OperationTime  int64         `json:"operationTime"`
}

// MemberInvitedTips is the detail of 1509.
type MemberInvitedTips struct {
	Group           GroupInfo     `json:"group"`
	OpUser          GroupMember   `json:"opUser"`
	InvitedUserList []GroupMember `json:"invitedUserList"`
	OperationTime   int64         `json:"operationTime"`
	InviterUser     GroupMember   `json:"inviterUser"`
}

// MemberEnterTips is the detail of 1510 (a member joined by itself or was
// let in).
type MemberEnterTips struct {
	Group         GroupInfo   `json:"group"`
	EntrantUser   GroupMember `json:"entrantUser"`
	OperationTime int64       `json:"operationTime"`
}

// GroupDismissedTips is the detail of 1511.
type GroupDismissedTips struct {
	Group         GroupInfo   `json:"group"`
	OpUser        GroupMember `json:"opUser"`
	OperationTime int64       `json:"operationTime"`
}

// MemberMutedTips is the detail of 1512.
type MemberMutedTips struct {
	Group         GroupInfo   `json:"group"`
	OpUser        GroupMember `json:"opUser"`
	OperationTime int64       `json:"operationTime"`
	MutedUser     GroupMember `json:"mutedUser"`
	MutedSeconds  uint32      `json:"mutedSeconds"`
}

// MemberUnmutedTips is the detail of 1513.
type MemberUnmutedTips struct {
	Group         GroupInfo   `json:"group"`
	OpUser        GroupMember `json:"opUser"`
	OperationTime int64       `json:"operationTime"`
	MutedUser     GroupMember `json:"mutedUser"`
}

// MemberInfoChangedTips is the detail of 1516, 1517 (set to admin) and
// 1518 (set to ordinary member); Type tells which.
type MemberInfoChangedTips struct {
	Type          ContentType `json:"-"`
	Group         GroupInfo   `json:"group"`
	OpUser        GroupMember `json:"opUser"`
	OperationTime int64       `json:"operationTime"`
	ChangedUser   GroupMember `json:"changedUser"`
}

func (*GroupCreatedTips) Notice() GroupNotice     { return GroupCreated }
func (*GroupInfoChangedTips) Notice() GroupNotice { return GroupInfoChanged }
func (*MemberQuitTips) Notice() GroupNotice       { return MemberQuit }
func (*OwnerTransferredTips) Notice() GroupNotice { return OwnerTransferred }
func (*MemberKickedTips) Notice() GroupNotice     { return MemberKicked }
func (*MemberInvitedTips) Notice() GroupNotice    { return MemberInvited }
func (*MemberEnterTips) Notice() GroupNotice      { return MemberJoined }
func (*GroupDismissedTips) Notice() GroupNotice   { return GroupDismissed }
func (*MemberMutedTips) Notice() GroupNotice      { return MemberMuted }
func (*MemberUnmutedTips) Notice() GroupNotice    { return MemberUnmuted }

// Notice returns RoleChanged for 1517 and 1518, MemberInfoChanged for 1516.
func (t *MemberInfoChangedTips) Notice() GroupNotice {
	if t.Type == TypeGroupMemberSetToAdmin || t.Type == TypeGroupMemberSetToOrdinary {
		return RoleChanged
	}
	return MemberInfoChanged
}

func (t *GroupCreatedTips) GroupInfo() GroupInfo     { return t.Group }
func (t *GroupInfoChangedTips) GroupInfo() GroupInfo { return t.Group }
func (t *MemberQuitTips) GroupInfo() GroupInfo       { return t.Group }
func (t *OwnerTransferredTips) GroupInfo() GroupInfo { return t.Group }
func (t *MemberKickedTips) GroupInfo() GroupInfo     { return t.Group }
func (t *MemberInvitedTips) GroupInfo() GroupInfo    { return t.Group }
func (t *MemberEnterTips) GroupInfo() GroupInfo      { return t.Group }
func (t *GroupDismissedTips) GroupInfo() GroupInfo   { return t.Group }
func (t *MemberMutedTips) GroupInfo() GroupInfo      { return t.Group }
func (t *MemberUnmutedTips) GroupInfo() GroupInfo    { return t.Group }
func (t *MemberInfoChangedTips) GroupInfo() GroupInfo {
	return t.Group
}

func (t *GroupCreatedTips) Operator() GroupMember      { return t.OpUser }
func (t *GroupInfoChangedTips) Operator() GroupMember  { return t.OpUser }
func (t *MemberQuitTips) Operator() GroupMember        { return t.QuitUser }
func (t *OwnerTransferredTips) Operator() GroupMember  { return t.OpUser }
func (t *MemberKickedTips) Operator() GroupMember      { return t.OpUser }
func (t *MemberInvitedTips) Operator() GroupMember     { return t.OpUser }
func (t *MemberEnterTips) Operator() GroupMember       { return t.EntrantUser }
func (t *GroupDismissedTips) Operator() GroupMember    { return t.OpUser }
func (t *MemberMutedTips) Operator() GroupMember       { return t.OpUser }
func (t *MemberUnmutedTips) Operator() GroupMember     { return t.OpUser }
func (t *MemberInfoChangedTips) Operator() GroupMember { return t.OpUser }

func (t *GroupCreatedTips) Members() []GroupMember     { return t.MemberList }
func (t *GroupInfoChangedTips) Members() []GroupMember { return nil }
func (t *MemberQuitTips) Members() []GroupMember       { return []GroupMember{t.QuitUser} }
func (t *OwnerTransferredTips) Members() []GroupMember {
	return []GroupMember{t.NewGroupOwner, t.OldGroupOwnerInfo}
}
func (t *MemberKickedTips) Members() []GroupMember      { return t.KickedUserList }
func (t *MemberInvitedTips) Members() []GroupMember     { return t.InvitedUserList }
func (t *MemberEnterTips) Members() []GroupMember       { return []GroupMember{t.EntrantUser} }
func (t *GroupDismissedTips) Members() []GroupMember    { return nil }
func (t *MemberMutedTips) Members() []GroupMember       { return []GroupMember{t.MutedUser} }
func (t *MemberUnmutedTips) Members() []GroupMember     { return []GroupMember{t.MutedUser} }
func (t *MemberInfoChangedTips) Members() []GroupMember { return []GroupMember{t.ChangedUser} }

// IsGroupNotification reports whether t is a group notification type
// (1501–1520).
func IsGroupNotification(t ContentType) bool {
	return t >= TypeGroupCreated && t <= TypeGroupInfoSetName
}

// GroupEvent decodes the detail of a group notification into its typed
// struct. It returns nil and no error for notifications without a typed
// struct here (1503, 1505, 1506, 1514, 1515, other types) and a
// *DecodeError when the detail is not the JSON of its struct.
func (n *Notification) GroupEvent() (GroupEvent, error) {
	if n == nil {
		return nil, nil
	}
	var ev GroupEvent
	switch n.Type {
	case TypeGroupCreated:
		ev = new(GroupCreatedTips)
	case TypeGroupInfoSet, TypeGroupInfoSetAnnouncement, TypeGroupInfoSetName:
		ev = &GroupInfoChangedTips{Type: n.Type}
	case TypeMemberQuit:
		ev = new(MemberQuitTips)
	case TypeGroupOwnerTransferred:
		ev = new(OwnerTransferredTips)
	case TypeMemberKicked:
		ev = new(MemberKickedTips)
	case TypeMemberInvited:
		ev = new(MemberInvitedTips)
	case TypeMemberEnter:
		ev = new(MemberEnterTips)
	case TypeGroupDismissed:
		ev = new(GroupDismissedTips)
	case TypeGroupMemberMuted:
		ev = new(MemberMutedTips)
	case TypeGroupMemberCancelMuted:
		ev = new(MemberUnmutedTips)
	case TypeGroupMemberInfoSet, TypeGroupMemberSetToAdmin, TypeGroupMemberSetToOrdinary:
		ev = &MemberInfoChangedTips{Type: n.Type}
	default:
		return nil, nil
	}
	if err := json.Unmarshal([]byte(n.Detail), ev); err != nil {
		return nil, &DecodeError{Type: n.Type, Field: "detail", Err: err}
	}
	return ev, nil
}

// GroupEvent returns the typed group event of a notification message: nil
// when m is not a group notification with a typed struct or its detail
// does not decode.
func (m *Message) GroupEvent() GroupEvent {
	n, ok := m.Elem.(*Notification)
	if !ok {
		return nil
	}
	ev, err := n.GroupEvent()
	if err != nil {
		return nil
	}
	return ev
}
