package sandbox

import (
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/openimbot/openimbot/content"
	"github.com/openimbot/openimbot/internal/pb/sdkws"
)

// The group management endpoints of the HTTP API, with the permission
// rules and error codes of OpenIM v3.8.3's group service, and the group
// notifications it sends (docs/protocol-api.md lists them).

// Codes of group and message errors beyond those in config.go.
const (
	codeDuplicateKey     = 1003
	codeDismissedAlready = 1204
	codeMutedInGroup     = 1402
	codeMsgAlreadyRevoke = 1404
)

// OpenIM's group status values.
const (
	groupStatusOK        = 0
	groupStatusDismissed = 2
)

// groupRoutes returns the routes of this file; they replace any of the
// same path in apiRoutes.
func groupRoutes() map[string]apiRoute {
	return map[string]apiRoute{
		"/group/get_groups_info":          {h: apiGroupsInfo},
		"/group/get_joined_group_list":    {h: apiJoinedGroupList},
		"/group/get_group_member_list":    {h: apiGroupMemberList},
		"/group/get_group_members_info":   {h: apiGroupMembersInfo},
		"/group/invite_user_to_group":     {h: apiInviteToGroup},
		"/group/kick_group":               {h: apiKickGroup},
		"/group/mute_group_member":        {h: apiMuteMember(true)},
		"/group/cancel_mute_group_member": {h: apiMuteMember(false)},
		"/group/set_group_member_info":    {h: apiSetGroupMemberInfo},
		"/group/transfer_group":           {h: apiTransferGroup},
		"/group/dismiss_group":            {h: apiDismissGroup},
		"/msg/revoke_msg":                 {h: apiRevokeMsg},

		"/group/get_incremental_group_members":       {h: apiIncrementalMembers},
		"/group/get_incremental_group_members_batch": {h: apiIncrementalMembersBatch},
	}
}

// roleLocked returns userID's role in g, or 0 when not a member.
func (g *groupRec) role(userID string) content.RoleLevel {
	switch {
	case !slices.Contains(g.Members, userID):
		return 0
	case userID == g.Owner:
		return content.RoleOwner
	case slices.Contains(g.Admins, userID):
		return content.RoleAdmin
	}
	return content.RoleMember
}

// clone returns a deep copy of g, to change and persist.
func (g *groupRec) clone() *groupRec {
	c := *g
	c.Members = slices.Clone(g.Members)
	c.Admins = slices.Clone(g.Admins)
	c.Muted = maps.Clone(g.Muted)
	c.Nicknames = maps.Clone(g.Nicknames)
	c.Joined = maps.Clone(g.Joined)
	return &c
}

// orderedMembers returns the members as OpenIM lists them: by role (owner,
// admins, members), then by join time.
func (g *groupRec) orderedMembers() []string {
	out := slices.Clone(g.Members)
	slices.SortStableFunc(out, func(a, b string) int {
		if ra, rb := g.role(a), g.role(b); ra != rb {
			return int(rb) - int(ra)
		}
		return 0
	})
	return out
}

// memberLocked is userID as a member of g (sdkws.GroupMemberFullInfo).
// s.mu is held.
func (s *Server) memberLocked(g *groupRec, userID string) content.GroupMember {
	m := content.GroupMember{GroupID: g.GroupID, UserID: userID, RoleLevel: g.role(userID),
		JoinTime: g.CreateTime, JoinSource: 2, MuteEndTime: g.Muted[userID]}
	if t, ok := g.Joined[userID]; ok {
		m.JoinTime, m.JoinSource = t, 3
	}
	if u := s.st.users[userID]; u != nil {
		m.Nickname, m.FaceURL, m.AppMangerLevel = u.Nickname, u.FaceURL, u.AppMangerLevel
	}
	if n := g.Nicknames[userID]; n != "" {
		m.Nickname = n
	}
	return m
}

// opUserLocked is the operator of a change as the tips carry it: its
// member info, or for the admin its user ID and nickname.
func (s *Server) opUserLocked(g *groupRec, userID string) content.GroupMember {
	if g.role(userID) != 0 {
		return s.memberLocked(g, userID)
	}
	m := content.GroupMember{GroupID: g.GroupID, UserID: userID, Nickname: userID}
	if userID == s.cfg.AdminUserID {
		m.AppMangerLevel = appAdmin
	}
	return m
}

// groupInfoLocked is g as sdkws.GroupInfo.
func groupInfoOf(g *groupRec) content.GroupInfo {
	return content.GroupInfo{GroupID: g.GroupID, GroupName: g.Name, OwnerUserID: g.Owner, CreatorUserID: g.Owner,
		CreateTime: g.CreateTime, MemberCount: uint32(len(g.Members)), GroupType: 2, Status: g.Status}
}

// saveGroupLocked persists g (a clone of the stored group).
func (s *Server) saveGroupLocked(g *groupRec) *CodeError {
	return asCodeErr(s.st.persist(&record{K: "group", Group: g}))
}

// groupNotifyLocked sends a group notification of type ct from op to g's
// members, as OpenIM's notification sender does: sessionType 3, msgFrom
// 200, content {"detail": <tips JSON>}, in the group's n_ stream, plus a
// copy in the group chat for the types in sendsChatCopy. The n_ copy is
// stored (as a server whose notification.yml sets reliabilityLevel 2; the
// default 1 pushes it to online members only). Each
// notification moves the group's member version on by one and carries it
// (groupMemberVersion, groupMemberVersionID), so an official SDK applies
// it to its local member table when it is one ahead of what it has, and
// syncs by version (get_incremental_group_members_batch) otherwise.
func (s *Server) groupNotifyLocked(g *groupRec, op string, ct content.ContentType, tips any, operationID string) {
	ng := s.st.groups[g.GroupID].clone()
	ng.MemberVersion++
	if cerr := s.saveGroupLocked(ng); cerr != nil {
		s.log.Warn("sandbox: group notification", "type", ct, "err", cerr)
		return
	}
	raw, err := json.Marshal(tips)
	var obj map[string]any
	if err == nil {
		err = json.Unmarshal(raw, &obj)
	}
	if err != nil {
		return
	}
	obj["groupMemberVersion"], obj["groupMemberVersionID"] = ng.MemberVersion, memberVersionID(ng)
	if ct == content.TypeGroupMemberSetToAdmin || ct == content.TypeGroupMemberSetToOrdinary || ct == content.TypeGroupOwnerTransferred {
		obj["groupSortVersion"] = ng.MemberVersion // the member order changed
	}
	detail, _ := json.Marshal(obj)
	body, _ := json.Marshal(map[string]string{"detail": string(detail)})
	sendMsg := sendsChatCopy[ct]
	md := &sdkws.MsgData{
		SendID: op, RecvID: g.GroupID, GroupID: g.GroupID, SessionType: int32(content.GroupChat),
		ContentType: int32(ct), Content: body, MsgFrom: int32(content.FromSystem),
		CreateTime: time.Now().UnixMilli(), ClientMsgID: newID(),
		Options: map[string]bool{"isNotNotification": false, "isSendMsg": sendMsg, "history": true, "persistent": true,
			"offlinePush": false, "unreadCount": false, "conversationUpdate": false, "senderSync": true,
			"notPrivate": false, "senderConversationUpdate": false, "reactionFromCache": false},
	}
	var chat *sdkws.MsgData
	if sendMsg {
		chat = proto.Clone(md).(*sdkws.MsgData)
		chat.Options = map[string]bool{"offlinePush": false, "unreadCount": true}
	}
	if _, err := s.acceptLocked(md, operationID); err != nil {
		s.log.Warn("sandbox: group notification", "type", ct, "err", err)
	}
	if chat != nil {
		if _, err := s.acceptLocked(chat, operationID); err != nil {
			s.log.Warn("sandbox: group notification message", "type", ct, "err", err)
		}
	}
}

// sendsChatCopy lists the group notifications whose isSendMsg is true in
// OpenIM's default notification.yml: the server stores a copy of each as a
// message of the group chat (sg_), which clients show in the chat, besides
// the notification in the n_ stream.
var sendsChatCopy = map[content.ContentType]bool{
	content.TypeGroupCreated: true, content.TypeMemberQuit: true, content.TypeGroupOwnerTransferred: true,
	content.TypeMemberKicked: true, content.TypeMemberInvited: true, content.TypeMemberEnter: true,
	content.TypeGroupDismissed: true, content.TypeGroupMuted: true, content.TypeGroupCancelMuted: true,
	content.TypeGroupMemberMuted: true, content.TypeGroupMemberCancelMuted: true,
	content.TypeGroupInfoSetAnnouncement: true, content.TypeGroupInfoSetName: true,
}

// takeGroupLocked is OpenIM's TakeGroup: an unknown group is 1004.
func (s *Server) takeGroupLocked(groupID string) (*groupRec, *CodeError) {
	g := s.st.groups[groupID]
	if g == nil {
		return nil, codeErr(CodeRecordNotFound, "group "+groupID+" not found")
	}
	return g, nil
}

// groupSendCheckLocked applies OpenIM's group send rules beyond membership
// to a user's message: nobody but the dismissal notification goes to a
// dismissed group (1204), a muted member who is not the owner cannot send
// (1402).
func (s *Server) groupSendCheckLocked(md *sdkws.MsgData) *CodeError {
	g := s.st.groups[md.GroupID]
	if g == nil || md.SendID == s.cfg.AdminUserID || (md.ContentType >= 1000 && md.ContentType <= 5000) {
		return nil
	}
	if g.Status == groupStatusDismissed {
		return codeErr(codeDismissedAlready, "group "+g.GroupID+" is dismissed")
	}
	if g.role(md.SendID) != content.RoleOwner && g.Muted[md.SendID] >= time.Now().UnixMilli() {
		return codeErr(codeMutedInGroup, md.SendID+" is muted in group "+g.GroupID)
	}
	return nil
}

func (s *Server) isAdmin(who apiCaller) bool { return who.userID == s.cfg.AdminUserID }

type pagination struct {
	PageNumber int `json:"pageNumber"`
	ShowNumber int `json:"showNumber"`
}

func page[T any](all []T, p pagination) []T {
	if p.ShowNumber <= 0 {
		return all
	}
	from := max(p.PageNumber-1, 0) * p.ShowNumber
	return all[min(from, len(all)):min(from+p.ShowNumber, len(all))]
}

func apiGroupsInfo(s *Server, _ apiCaller, body []byte) (any, *CodeError) {
	var in struct {
		GroupIDs []string `json:"groupIDs"`
	}
	if cerr := decodeJSON(body, &in); cerr != nil {
		return nil, cerr
	}
	if len(in.GroupIDs) == 0 {
		return nil, codeErr(CodeArgs, "groupID is empty")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []content.GroupInfo{}
	for _, id := range in.GroupIDs {
		if g := s.st.groups[id]; g != nil {
			out = append(out, groupInfoOf(g))
		}
	}
	return map[string]any{"groupInfos": out}, nil
}

func apiJoinedGroupList(s *Server, who apiCaller, body []byte) (any, *CodeError) {
	var in struct {
		FromUserID string     `json:"fromUserID"`
		Pagination pagination `json:"pagination"`
	}
	if cerr := decodeJSON(body, &in); cerr != nil {
		return nil, cerr
	}
	if in.FromUserID == "" {
		in.FromUserID = who.userID
	}
	if in.FromUserID != who.userID && !s.isAdmin(who) {
		return nil, codeErr(CodeNoPermission, "fromUserID is not the caller")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []string
	for id := range s.st.userGroups[in.FromUserID] {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	out := []content.GroupInfo{}
	for _, id := range page(ids, in.Pagination) {
		out = append(out, groupInfoOf(s.st.groups[id]))
	}
	return map[string]any{"total": len(ids), "groups": out}, nil
}

// memberOrAdminLocked is OpenIM's checkAdminOrInGroup: 1002 for a caller
// who is neither the admin nor a member.
func (s *Server) memberOrAdminLocked(who apiCaller, groupID string) *CodeError {
	if s.isAdmin(who) {
		return nil
	}
	if g := s.st.groups[groupID]; g == nil || g.role(who.userID) == 0 {
		return codeErr(CodeNoPermission, "op user not in group")
	}
	return nil
}

func apiGroupMemberList(s *Server, who apiCaller, body []byte) (any, *CodeError) {
	var in struct {
		GroupID    string     `json:"groupID"`
		Pagination pagination `json:"pagination"`
	}
	if cerr := decodeJSON(body, &in); cerr != nil {
		return nil, cerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if cerr := s.memberOrAdminLocked(who, in.GroupID); cerr != nil {
		return nil, cerr
	}
	out := []content.GroupMember{}
	g := s.st.groups[in.GroupID]
	if g == nil {
		return map[string]any{"total": 0, "members": out}, nil
	}
	for _, u := range page(g.orderedMembers(), in.Pagination) {
		out = append(out, s.memberLocked(g, u))
	}
	return map[string]any{"total": len(g.Members), "members": out}, nil
}

func apiGroupMembersInfo(s *Server, who apiCaller, body []byte) (any, *CodeError) {
	var in struct {
		GroupID string   `json:"groupID"`
		UserIDs []string `json:"userIDs"`
	}
	if cerr := decodeJSON(body, &in); cerr != nil {
		return nil, cerr
	}
	if len(in.UserIDs) == 0 {
		return nil, codeErr(CodeArgs, "userIDs empty")
	}
	if in.GroupID == "" {
		return nil, codeErr(CodeArgs, "groupID empty")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if cerr := s.memberOrAdminLocked(who, in.GroupID); cerr != nil {
		return nil, cerr
	}
	out := []content.GroupMember{}
	if g := s.st.groups[in.GroupID]; g != nil {
		for _, u := range in.UserIDs {
			if g.role(u) != 0 {
				out = append(out, s.memberLocked(g, u))
			}
		}
	}
	return map[string]any{"members": out}, nil
}

func hasDuplicate(ids []string) bool {
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		if seen[id] {
			return true
		}
		seen[id] = true
	}
	return false
}

func apiInviteToGroup(s *Server, who apiCaller, body []byte) (any, *CodeError) {
	var in struct {
		GroupID        string   `json:"groupID"`
		InvitedUserIDs []string `json:"invitedUserIDs"`
	}
	if cerr := decodeJSON(body, &in); cerr != nil {
		return nil, cerr
	}
	if len(in.InvitedUserIDs) == 0 {
		return nil, codeErr(CodeArgs, "user empty")
	}
	if hasDuplicate(in.InvitedUserIDs) {
		return nil, codeErr(CodeArgs, "userID duplicate")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g, cerr := s.takeGroupLocked(in.GroupID)
	if cerr != nil {
		return nil, cerr
	}
	if g.Status == groupStatusDismissed {
		return nil, codeErr(codeDismissedAlready, "group dismissed checking group status found it dismissed")
	}
	for _, u := range in.InvitedUserIDs {
		if s.st.users[u] == nil {
			return nil, codeErr(CodeRecordNotFound, "user not found")
		}
	}
	if !s.isAdmin(who) && g.role(who.userID) == 0 {
		return nil, codeErr(CodeRecordNotFound, "op user "+who.userID+" is not a member")
	}
	for _, u := range in.InvitedUserIDs {
		if g.role(u) != 0 {
			// OpenIM's insert fails on the unique (group, user) index.
			return nil, codeErr(codeDuplicateKey, u+" is already a member")
		}
	}
	ng := g.clone()
	now := time.Now().UnixMilli()
	if ng.Joined == nil {
		ng.Joined = map[string]int64{}
	}
	for _, u := range in.InvitedUserIDs {
		ng.Members = append(ng.Members, u)
		ng.Joined[u] = now
	}
	if cerr := s.saveGroupLocked(ng); cerr != nil {
		return nil, cerr
	}
	g = s.st.groups[in.GroupID]
	tips := content.MemberInvitedTips{Group: groupInfoOf(g), OpUser: s.opUserLocked(g, who.userID), OperationTime: now}
	tips.InviterUser = tips.OpUser
	for _, u := range in.InvitedUserIDs {
		tips.InvitedUserList = append(tips.InvitedUserList, s.memberLocked(g, u))
	}
	s.groupNotifyLocked(g, who.userID, content.TypeMemberInvited, tips, who.operationID)
	return nil, nil
}

func apiKickGroup(s *Server, who apiCaller, body []byte) (any, *CodeError) {
	var in struct {
		GroupID       string   `json:"groupID"`
		KickedUserIDs []string `json:"kickedUserIDs"`
	}
	if cerr := decodeJSON(body, &in); cerr != nil {
		return nil, cerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g, cerr := s.takeGroupLocked(in.GroupID)
	if cerr != nil {
		return nil, cerr
	}
	switch {
	case len(in.KickedUserIDs) == 0:
		return nil, codeErr(CodeArgs, "KickedUserIDs empty")
	case hasDuplicate(in.KickedUserIDs):
		return nil, codeErr(CodeArgs, "KickedUserIDs duplicate")
	case slices.Contains(in.KickedUserIDs, who.userID):
		return nil, codeErr(CodeArgs, "opUserID in KickedUserIDs")
	case slices.Contains(in.KickedUserIDs, g.Owner):
		return nil, codeErr(CodeArgs, "ownerUID can not Kick")
	}
	op := g.role(who.userID)
	for _, u := range in.KickedUserIDs {
		target := g.role(u)
		if target == 0 {
			return nil, codeErr(CodeUserIDNotFound, u)
		}
		if s.isAdmin(who) {
			continue
		}
		switch op {
		case 0:
			return nil, codeErr(CodeNoPermission, "opUserID no in group")
		case content.RoleOwner:
		case content.RoleAdmin:
			if target.AtLeastAdmin() {
				return nil, codeErr(CodeNoPermission, "group admins cannot remove the group owner and other admins")
			}
		default:
			return nil, codeErr(CodeNoPermission, "opUserID no permission")
		}
	}
	tips := content.MemberKickedTips{OpUser: s.opUserLocked(g, who.userID), OperationTime: time.Now().UnixMilli()}
	for _, u := range in.KickedUserIDs {
		tips.KickedUserList = append(tips.KickedUserList, s.memberLocked(g, u))
	}
	kicked := func(u string) bool { return slices.Contains(in.KickedUserIDs, u) }
	tips.Group = groupInfoOf(g)
	tips.Group.MemberCount -= uint32(len(in.KickedUserIDs))
	// The kicked members get the notification too, as OpenIM's push adds
	// them: it goes out while they are still members.
	s.groupNotifyLocked(g, who.userID, content.TypeMemberKicked, tips, who.operationID)
	ng := s.st.groups[g.GroupID].clone() // with the notification's member version
	ng.Members = slices.DeleteFunc(ng.Members, kicked)
	ng.Admins = slices.DeleteFunc(ng.Admins, kicked)
	for _, u := range in.KickedUserIDs {
		delete(ng.Muted, u)
		delete(ng.Nicknames, u)
		delete(ng.Joined, u)
	}
	if cerr := s.saveGroupLocked(ng); cerr != nil {
		return nil, cerr
	}
	return nil, nil
}

// apiMuteMember serves mute_group_member (mute true) and
// cancel_mute_group_member.
func apiMuteMember(mute bool) apiHandler {
	return func(s *Server, who apiCaller, body []byte) (any, *CodeError) {
		var in struct {
			GroupID      string `json:"groupID"`
			UserID       string `json:"userID"`
			MutedSeconds int64  `json:"mutedSeconds"`
		}
		if cerr := decodeJSON(body, &in); cerr != nil {
			return nil, cerr
		}
		if in.MutedSeconds < 0 || in.MutedSeconds > 1<<32-1 {
			return nil, codeErr(CodeArgs, "mutedSeconds "+strconv.FormatInt(in.MutedSeconds, 10)+" is not a uint32")
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		g := s.st.groups[in.GroupID]
		if g == nil || g.role(in.UserID) == 0 {
			return nil, codeErr(CodeRecordNotFound, "group member "+in.GroupID+"/"+in.UserID+" not found")
		}
		if !s.isAdmin(who) {
			op := g.role(who.userID)
			if op == 0 {
				return nil, codeErr(CodeRecordNotFound, "group member "+in.GroupID+"/"+who.userID+" not found")
			}
			switch g.role(in.UserID) {
			case content.RoleOwner:
				return nil, codeErr(CodeNoPermission, "set group owner mute")
			case content.RoleAdmin:
				if op != content.RoleOwner {
					return nil, codeErr(CodeNoPermission, "set group admin mute")
				}
			default:
				if !op.AtLeastAdmin() {
					return nil, codeErr(CodeNoPermission, "set group ordinary users mute")
				}
			}
		}
		ng := g.clone()
		if ng.Muted == nil {
			ng.Muted = map[string]int64{}
		}
		now := time.Now()
		if mute {
			ng.Muted[in.UserID] = now.Add(time.Duration(in.MutedSeconds) * time.Second).UnixMilli()
		} else {
			delete(ng.Muted, in.UserID)
		}
		if cerr := s.saveGroupLocked(ng); cerr != nil {
			return nil, cerr
		}
		g = s.st.groups[in.GroupID]
		if mute {
			s.groupNotifyLocked(g, who.userID, content.TypeGroupMemberMuted, content.MemberMutedTips{
				Group: groupInfoOf(g), OpUser: s.opUserLocked(g, who.userID), OperationTime: now.UnixMilli(),
				MutedUser: s.memberLocked(g, in.UserID), MutedSeconds: uint32(in.MutedSeconds)}, who.operationID)
		} else {
			s.groupNotifyLocked(g, who.userID, content.TypeGroupMemberCancelMuted, content.MemberUnmutedTips{
				Group: groupInfoOf(g), OpUser: s.opUserLocked(g, who.userID), OperationTime: now.UnixMilli(),
				MutedUser: s.memberLocked(g, in.UserID)}, who.operationID)
		}
		return nil, nil
	}
}

// memberSet is one entry of set_group_member_info; absent fields are nil.
type memberSet struct {
	GroupID   string  `json:"groupID"`
	UserID    string  `json:"userID"`
	Nickname  *string `json:"nickname"`
	FaceURL   *string `json:"faceURL"`
	RoleLevel *int32  `json:"roleLevel"`
	Ex        *string `json:"ex"`
}

func apiSetGroupMemberInfo(s *Server, who apiCaller, body []byte) (any, *CodeError) {
	var in struct {
		Members []memberSet `json:"members"`
	}
	if cerr := decodeJSON(body, &in); cerr != nil {
		return nil, cerr
	}
	if len(in.Members) == 0 {
		return nil, codeErr(CodeArgs, "members empty")
	}
	for _, m := range in.Members {
		if m.RoleLevel != nil {
			switch content.RoleLevel(*m.RoleLevel) {
			case content.RoleOwner:
				return nil, codeErr(CodeNoPermission, "cannot set ungroup owner")
			case content.RoleAdmin, content.RoleMember:
			default:
				return nil, codeErr(CodeArgs, "invalid role level")
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	byGroup := map[string][]memberSet{}
	var order []string
	for _, m := range in.Members {
		if _, ok := byGroup[m.GroupID]; !ok {
			order = append(order, m.GroupID)
		}
		byGroup[m.GroupID] = append(byGroup[m.GroupID], m)
	}
	for _, gid := range order {
		ms := byGroup[gid]
		g := s.st.groups[gid]
		if g == nil {
			g = &groupRec{GroupID: gid}
		}
		// OpenIM looks up the targets and the operator together and
		// counts the ones that are not members.
		seen := map[string]bool{}
		missing := 0
		for _, m := range ms {
			if seen[m.UserID] {
				return nil, codeErr(CodeArgs, "repeat group "+gid+" user "+m.UserID)
			}
			seen[m.UserID] = true
			if g.role(m.UserID) == 0 {
				missing++
			}
		}
		opIn := g.role(who.userID) != 0
		if !seen[who.userID] && !opIn {
			missing++
		}
		switch {
		case missing == 0:
		case missing == 1 && opIn:
			return nil, codeErr(CodeArgs, "user not in group")
		case missing == 1 && !s.isAdmin(who):
			return nil, codeErr(CodeNoPermission, "user not in group")
		case missing > 1:
			return nil, codeErr(CodeArgs, "user not in group")
		}
		if s.isAdmin(who) {
			continue
		}
		op := g.role(who.userID)
		for _, m := range ms {
			target := g.role(m.UserID)
			switch op {
			case content.RoleAdmin:
				if target == content.RoleOwner {
					return nil, codeErr(CodeNoPermission, "admin can not change group owner")
				}
				if target == content.RoleAdmin && m.UserID != who.userID {
					return nil, codeErr(CodeNoPermission, "admin can not change other group admin")
				}
			case content.RoleMember:
				if m.UserID != who.userID {
					return nil, codeErr(CodeNoPermission, "ordinary users can not change other role level")
				}
			}
			if m.UserID == who.userID && m.RoleLevel != nil {
				if content.RoleLevel(*m.RoleLevel) > op {
					return nil, codeErr(CodeNoPermission, "can not improve role level by self")
				}
				if op == content.RoleOwner {
					return nil, codeErr(CodeArgs, "group owner can not change own role level")
				}
			}
		}
	}
	type sent struct {
		g  string
		u  string
		ct content.ContentType
	}
	var notes []sent
	for _, gid := range order {
		ng := s.st.groups[gid].clone()
		for _, m := range byGroup[gid] {
			if m.Nickname != nil {
				if ng.Nicknames == nil {
					ng.Nicknames = map[string]string{}
				}
				ng.Nicknames[m.UserID] = *m.Nickname
			}
			if m.RoleLevel != nil {
				ng.Admins = slices.DeleteFunc(ng.Admins, func(u string) bool { return u == m.UserID })
				ct := content.TypeGroupMemberSetToOrdinary
				if content.RoleLevel(*m.RoleLevel) == content.RoleAdmin {
					ng.Admins = append(ng.Admins, m.UserID)
					ct = content.TypeGroupMemberSetToAdmin
				}
				notes = append(notes, sent{gid, m.UserID, ct})
			}
			if m.Nickname != nil || m.FaceURL != nil || m.Ex != nil {
				notes = append(notes, sent{gid, m.UserID, content.TypeGroupMemberInfoSet})
			}
		}
		if cerr := s.saveGroupLocked(ng); cerr != nil {
			return nil, cerr
		}
	}
	for _, n := range notes {
		g := s.st.groups[n.g]
		s.groupNotifyLocked(g, who.userID, n.ct, content.MemberInfoChangedTips{Group: groupInfoOf(g),
			OpUser: s.opUserLocked(g, who.userID), OperationTime: time.Now().UnixMilli(),
			ChangedUser: s.memberLocked(g, n.u)}, who.operationID)
	}
	return nil, nil
}

func apiTransferGroup(s *Server, who apiCaller, body []byte) (any, *CodeError) {
	var in struct {
		GroupID        string `json:"groupID"`
		OldOwnerUserID string `json:"oldOwnerUserID"`
		NewOwnerUserID string `json:"newOwnerUserID"`
	}
	if cerr := decodeJSON(body, &in); cerr != nil {
		return nil, cerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g, cerr := s.takeGroupLocked(in.GroupID)
	if cerr != nil {
		return nil, cerr
	}
	if g.Status == groupStatusDismissed {
		return nil, codeErr(codeDismissedAlready, "")
	}
	if in.OldOwnerUserID == in.NewOwnerUserID {
		return nil, codeErr(CodeArgs, "OldOwnerUserID == NewOwnerUserID")
	}
	for _, u := range []string{in.OldOwnerUserID, in.NewOwnerUserID} {
		if g.role(u) == 0 {
			return nil, codeErr(CodeArgs, "user not in group "+u)
		}
	}
	if !s.isAdmin(who) && !(who.userID == in.OldOwnerUserID && g.role(who.userID) == content.RoleOwner) {
		return nil, codeErr(CodeNoPermission, "no permission transfer group owner")
	}
	ng := g.clone()
	ng.Owner = in.NewOwnerUserID
	ng.Admins = slices.DeleteFunc(ng.Admins, func(u string) bool { return u == in.NewOwnerUserID })
	delete(ng.Muted, in.NewOwnerUserID)
	if cerr := s.saveGroupLocked(ng); cerr != nil {
		return nil, cerr
	}
	g = s.st.groups[in.GroupID]
	s.groupNotifyLocked(g, who.userID, content.TypeGroupOwnerTransferred, content.OwnerTransferredTips{
		Group: groupInfoOf(g), OpUser: s.opUserLocked(g, who.userID), NewGroupOwner: s.memberLocked(g, in.NewOwnerUserID),
		OldGroupOwner: in.OldOwnerUserID, OldGroupOwnerInfo: s.memberLocked(g, in.OldOwnerUserID),
		OperationTime: time.Now().UnixMilli()}, who.operationID)
	return nil, nil
}

func apiDismissGroup(s *Server, who apiCaller, body []byte) (any, *CodeError) {
	var in struct {
		GroupID string `json:"groupID"`
	}
	if cerr := decodeJSON(body, &in); cerr != nil {
		return nil, cerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g, cerr := s.takeGroupLocked(in.GroupID)
	if cerr != nil {
		return nil, cerr
	}
	if !s.isAdmin(who) && g.Owner != who.userID {
		return nil, codeErr(CodeNoPermission, "not group owner")
	}
	if g.Status == groupStatusDismissed {
		return nil, codeErr(codeDismissedAlready, "group status is dismissed")
	}
	ng := g.clone()
	ng.Status = groupStatusDismissed
	if cerr := s.saveGroupLocked(ng); cerr != nil {
		return nil, cerr
	}
	g = s.st.groups[in.GroupID]
	tips := content.GroupDismissedTips{Group: groupInfoOf(g), OperationTime: time.Now().UnixMilli()}
	if who.userID == g.Owner {
		tips.OpUser = s.memberLocked(g, who.userID)
	}
	s.groupNotifyLocked(g, who.userID, content.TypeGroupDismissed, tips, who.operationID)
	return nil, nil
}

// revokeTips is sdkws.RevokeMsgTips in JSON (sesstionType is OpenIM's
// spelling).
type revokeTips struct {
	RevokerUserID  string `json:"revokerUserID"`
	ClientMsgID    string `json:"clientMsgID"`
	RevokeTime     int64  `json:"revokeTime"`
	Seq            int64  `json:"seq"`
	SessionType    int32  `json:"sesstionType"`
	ConversationID string `json:"conversationID"`
	IsAdminRevoke  bool   `json:"isAdminRevoke"`
}

func apiRevokeMsg(s *Server, who apiCaller, body []byte) (any, *CodeError) {
	var in struct {
		ConversationID string `json:"conversationID"`
		Seq            int64  `json:"seq"`
		UserID         string `json:"userID"`
	}
	if cerr := decodeJSON(body, &in); cerr != nil {
		return nil, cerr
	}
	switch {
	case in.UserID == "":
		return nil, codeErr(CodeArgs, "user_id is empty")
	case in.ConversationID == "":
		return nil, codeErr(CodeArgs, "conversation_id is empty")
	case in.Seq < 0:
		return nil, codeErr(CodeArgs, "seq is invalid")
	case in.UserID != who.userID && !s.isAdmin(who):
		return nil, codeErr(CodeNoPermission, "userID is not the caller")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st.users[in.UserID] == nil && in.UserID != s.cfg.AdminUserID {
		return nil, codeErr(CodeRecordNotFound, "user "+in.UserID+" not found")
	}
	var m *sdkws.MsgData
	if c := s.st.convs[in.ConversationID]; c != nil {
		m = c.get(in.Seq)
	}
	if m == nil {
		return nil, codeErr(CodeRecordNotFound, "msg not found")
	}
	if m.ContentType == int32(content.TypeMsgRevokeNotification) {
		return nil, codeErr(codeMsgAlreadyRevoke, "msg already revoke")
	}
	if !s.isAdmin(who) {
		switch content.SessionType(m.SessionType) {
		case content.SingleChat:
			if m.SendID != in.UserID {
				return nil, codeErr(CodeNoPermission, "not the sender")
			}
		case content.GroupChat:
			g := s.st.groups[m.GroupID]
			if in.UserID != m.SendID {
				var op, sender content.RoleLevel
				if g != nil {
					op, sender = g.role(in.UserID), g.role(m.SendID)
				}
				switch op {
				case content.RoleOwner:
				case content.RoleAdmin:
					if sender != 0 && sender != content.RoleMember {
						return nil, codeErr(CodeNoPermission, "no permission")
					}
				default:
					return nil, codeErr(CodeNoPermission, "no permission")
				}
			}
		default:
			return nil, codeErr(CodeServerInternal, "msg sessionType not supported")
		}
	}
	tips := revokeTips{RevokerUserID: who.userID, ClientMsgID: m.ClientMsgID, RevokeTime: time.Now().UnixMilli(),
		Seq: in.Seq, SessionType: m.SessionType, ConversationID: in.ConversationID, IsAdminRevoke: s.isAdmin(who)}
	detail, _ := json.Marshal(tips)
	elem, _ := json.Marshal(map[string]string{"detail": string(detail)})
	if err := s.st.persist(&record{K: "revoke", Conv: in.ConversationID, Seq: in.Seq, Msg: elem}); err != nil {
		return nil, asCodeErr(err)
	}
	recv := m.RecvID
	if m.SessionType == int32(content.GroupChat) {
		recv = m.GroupID
	}
	md := &sdkws.MsgData{SendID: in.UserID, RecvID: recv, SessionType: m.SessionType,
		ContentType: int32(content.TypeMsgRevokeNotification), Content: elem, MsgFrom: int32(content.FromSystem),
		CreateTime: time.Now().UnixMilli(), ClientMsgID: newID(), Options: map[string]bool{"isNotNotification": false}}
	if m.SessionType == int32(content.GroupChat) {
		md.GroupID = m.GroupID
	}
	if _, err := s.acceptLocked(md, who.operationID); err != nil {
		return nil, asCodeErr(err)
	}
	return nil, nil
}

// memberVersionID names the member version line of a group: it changes
// when a group of the same ID is made anew.
func memberVersionID(g *groupRec) string {
	return "sandbox-" + g.GroupID + "-" + strconv.FormatInt(g.CreateTime, 10)
}

type versionReq struct {
	GroupID   string `json:"groupID"`
	VersionID string `json:"versionID"`
	Version   uint64 `json:"version"`
}

// incrementalLocked answers one version check: nothing to do when the
// caller has the current version, else full (the caller reloads the
// member list), as OpenIM answers a version it no longer has the log for.
func (s *Server) incrementalLocked(who apiCaller, r versionReq) (map[string]any, *CodeError) {
	g := s.st.groups[r.GroupID]
	if g == nil {
		return nil, codeErr(CodeRecordNotFound, "group "+r.GroupID+" not found")
	}
	if !s.isAdmin(who) && g.role(who.userID) == 0 {
		return nil, codeErr(CodeNoPermission, "op user not in group")
	}
	vid := memberVersionID(g)
	return map[string]any{"version": g.MemberVersion, "versionID": vid,
		"full":   r.VersionID != vid || r.Version != g.MemberVersion,
		"delete": []string{}, "insert": []any{}, "update": []any{}, "group": groupInfoOf(g), "sortVersion": 0}, nil
}

func apiIncrementalMembers(s *Server, who apiCaller, body []byte) (any, *CodeError) {
	var in versionReq
	if cerr := decodeJSON(body, &in); cerr != nil {
		return nil, cerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.incrementalLocked(who, in)
}

func apiIncrementalMembersBatch(s *Server, who apiCaller, body []byte) (any, *CodeError) {
	var in struct {
		UserID  string       `json:"userID"`
		ReqList []versionReq `json:"reqList"`
	}
	if cerr := decodeJSON(body, &in); cerr != nil {
		return nil, cerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]any{}
	for _, r := range in.ReqList {
		resp, cerr := s.incrementalLocked(who, r)
		if cerr != nil {
			return nil, cerr
		}
		out[r.GroupID] = resp
	}
	return map[string]any{"respList": out}, nil
}
