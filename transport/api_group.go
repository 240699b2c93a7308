package transport

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/openimbot/openimbot/content"
)

// The group calls of the HTTP API. Each takes the token to call with: a
// user token acts as that user (the server applies its rules for the
// user's role in the group), an admin token as the app administrator, who
// may do everything. Endpoints, bodies and error codes follow OpenIM
// v3.8.3; docs/protocol-api.md lists them.

// GroupInfo is a group (sdkws.GroupInfo).
type GroupInfo = content.GroupInfo

// GroupMember is a group member with its role (sdkws.GroupMemberFullInfo).
type GroupMember = content.GroupMember

// Page selects one page of a paged list: Number counts from 1, Size is the
// number of entries per page. The zero Page asks for page 1 of 100.
type Page struct {
	Number int32
	Size   int32
}

func (p Page) body() map[string]int32 {
	if p.Number <= 0 {
		p.Number = 1
	}
	if p.Size <= 0 {
		p.Size = 100
	}
	return map[string]int32{"pageNumber": p.Number, "showNumber": p.Size}
}

// GetGroupsInfo calls /group/get_groups_info. Unknown group IDs are absent
// from the result; an empty list fails with 1001.
func (a *API) GetGroupsInfo(ctx context.Context, token string, groupIDs ...string) ([]GroupInfo, error) {
	var out struct {
		GroupInfos []GroupInfo `json:"groupInfos"`
	}
	if err := a.post(ctx, "/group/get_groups_info", token, map[string]any{"groupIDs": nonNil(groupIDs)}, &out); err != nil {
		return nil, err
	}
	return out.GroupInfos, nil
}

// GetJoinedGroupList calls /group/get_joined_group_list: the groups
// userID is a member of, one page, and their total. A user token may ask
// only for its own user (1002 otherwise).
func (a *API) GetJoinedGroupList(ctx context.Context, token, userID string, page Page) ([]GroupInfo, int, error) {
	var out struct {
		Total  int         `json:"total"`
		Groups []GroupInfo `json:"groups"`
	}
	body := map[string]any{"fromUserID": userID, "pagination": page.body()}
	if err := a.post(ctx, "/group/get_joined_group_list", token, body, &out); err != nil {
		return nil, 0, err
	}
	return out.Groups, out.Total, nil
}

// GetGroupMemberList calls /group/get_group_member_list: one page of the
// members of a group, owner first, then admins, then the others, and the
// member count. The caller must be a member (1002 otherwise); an unknown
// group has no members for an admin token.
func (a *API) GetGroupMemberList(ctx context.Context, token, groupID string, page Page) ([]GroupMember, int, error) {
	var out struct {
		Total   int           `json:"total"`
		Members []GroupMember `json:"members"`
	}
	body := map[string]any{"groupID": groupID, "pagination": page.body()}
	if err := a.post(ctx, "/group/get_group_member_list", token, body, &out); err != nil {
		return nil, 0, err
	}
	return out.Members, out.Total, nil
}

// GetGroupMembersInfo calls /group/get_group_members_info: the given users
// as members of a group; users who are not members are absent. The caller
// must be a member (1002 otherwise).
func (a *API) GetGroupMembersInfo(ctx context.Context, token, groupID string, userIDs ...string) ([]GroupMember, error) {
	var out struct {
		Members []GroupMember `json:"members"`
	}
	body := map[string]any{"groupID": groupID, "userIDs": nonNil(userIDs)}
	if err := a.post(ctx, "/group/get_group_members_info", token, body, &out); err != nil {
		return nil, err
	}
	return out.Members, nil
}

// InviteUserToGroup calls /group/invite_user_to_group: the users join the
// group at once and a 1509 notification goes to the group. The caller
// must be a member; unknown users fail with 1004.
func (a *API) InviteUserToGroup(ctx context.Context, token, groupID, reason string, userIDs ...string) error {
	body := map[string]any{"groupID": groupID, "reason": reason, "invitedUserIDs": nonNil(userIDs)}
	return a.post(ctx, "/group/invite_user_to_group", token, body, nil)
}

// KickGroupMember calls /group/kick_group: the users leave the group and a
// 1508 notification goes to the group (the kicked users included). The
// owner may kick anyone but itself, an admin only ordinary members,
// others nobody (1002); the owner cannot be kicked (1001).
func (a *API) KickGroupMember(ctx context.Context, token, groupID, reason string, userIDs ...string) error {
	body := map[string]any{"groupID": groupID, "reason": reason, "kickedUserIDs": nonNil(userIDs)}
	return a.post(ctx, "/group/kick_group", token, body, nil)
}

// MuteGroupMember calls /group/mute_group_member: userID may not send to
// the group for d (whole seconds, at least one) and a 1512 notification
// goes to the group. The owner may mute admins and members, an admin only
// members; nobody may mute the owner (1002).
func (a *API) MuteGroupMember(ctx context.Context, token, groupID, userID string, d time.Duration) error {
	secs := int64(d / time.Second)
	if secs < 1 || secs > 1<<32-1 {
		return fmt.Errorf("transport: API /group/mute_group_member: duration %v is not between 1s and 2^32-1 s", d)
	}
	body := map[string]any{"groupID": groupID, "userID": userID, "mutedSeconds": secs}
	return a.post(ctx, "/group/mute_group_member", token, body, nil)
}

// CancelMuteGroupMember calls /group/cancel_mute_group_member with the
// rules of MuteGroupMember; a 1513 notification goes to the group.
func (a *API) CancelMuteGroupMember(ctx context.Context, token, groupID, userID string) error {
	body := map[string]any{"groupID": groupID, "userID": userID}
	return a.post(ctx, "/group/cancel_mute_group_member", token, body, nil)
}

// MemberUpdate is one member change of SetGroupMemberInfo; nil fields are
// left as they are.
type MemberUpdate struct {
	GroupID   string
	UserID    string
	Nickname  *string
	FaceURL   *string
	Ex        *string
	RoleLevel *content.RoleLevel // RoleAdmin or RoleMember; never RoleOwner (use TransferGroupOwner)
}

// SetGroupMemberInfo calls /group/set_group_member_info. A role change
// sends 1517 (to admin) or 1518 (to member), a nickname, face or ex change
// 1516. The owner may change admins and members, an admin only members
// and itself, a member only itself and never its role upwards (1002).
func (a *API) SetGroupMemberInfo(ctx context.Context, token string, updates ...MemberUpdate) error {
	if len(updates) == 0 {
		return errors.New("transport: API /group/set_group_member_info: no update")
	}
	members := make([]map[string]any, 0, len(updates))
	for _, u := range updates {
		m := map[string]any{"groupID": u.GroupID, "userID": u.UserID}
		if u.Nickname != nil {
			m["nickname"] = *u.Nickname
		}
		if u.FaceURL != nil {
			m["faceURL"] = *u.FaceURL
		}
		if u.Ex != nil {
			m["ex"] = *u.Ex
		}
		if u.RoleLevel != nil {
			m["roleLevel"] = int32(*u.RoleLevel)
		}
		members = append(members, m)
	}
	return a.post(ctx, "/group/set_group_member_info", token, map[string]any{"members": members}, nil)
}

// SetGroupMemberRole makes userID an admin (content.RoleAdmin) or an
// ordinary member (content.RoleMember) of groupID.
func (a *API) SetGroupMemberRole(ctx context.Context, token, groupID, userID string, role content.RoleLevel) error {
	return a.SetGroupMemberInfo(ctx, token, MemberUpdate{GroupID: groupID, UserID: userID, RoleLevel: &role})
}

// SetGroupMemberNickname sets userID's nickname in groupID.
func (a *API) SetGroupMemberNickname(ctx context.Context, token, groupID, userID, nickname string) error {
	return a.SetGroupMemberInfo(ctx, token, MemberUpdate{GroupID: groupID, UserID: userID, Nickname: &nickname})
}

// TransferGroupOwner calls /group/transfer_group: newOwner becomes the
// owner, oldOwner an ordinary member, and 1507 goes to the group. Only the
// owner (or an admin token) may; both users must be members (1001).
func (a *API) TransferGroupOwner(ctx context.Context, token, groupID, oldOwner, newOwner string) error {
	body := map[string]any{"groupID": groupID, "oldOwnerUserID": oldOwner, "newOwnerUserID": newOwner}
	return a.post(ctx, "/group/transfer_group", token, body, nil)
}

// DismissGroup calls /group/dismiss_group: the group is dismissed (its
// members stay, nobody can send to it) and 1511 goes to the group. Only
// the owner (or an admin token) may (1002); dismissing twice fails with
// 1204.
func (a *API) DismissGroup(ctx context.Context, token, groupID string) error {
	return a.post(ctx, "/group/dismiss_group", token, map[string]any{"groupID": groupID, "deleteMember": false}, nil)
}

// nonNil makes a nil slice encode as [] rather than null.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
