package sandbox

import (
	"encoding/json"
	"hash/fnv"
	"slices"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/openimbot/openimbot/content"
	"github.com/openimbot/openimbot/internal/pb/sdkws"
)

// This file holds the HTTP forms of the gateway's seq requests
// (/msg/newest_seq, /msg/pull_msg_by_seq), the group lists the official SDK
// reads at login, the group-created notification, and the per-conversation
// sendTime order.

// messageRoutes are the HTTP routes served here; apiRoutes includes them.
func messageRoutes() map[string]apiRoute {
	return map[string]apiRoute{
		"/msg/newest_seq":                    {h: apiNewestSeq},
		"/msg/pull_msg_by_seq":               {h: apiPullMsgBySeq},
		"/group/get_incremental_join_groups": {h: apiIncrementalJoinGroups},
		"/group/get_full_join_group_ids":     {h: apiFullJoinGroupIDs},
	}
}

// apiNewestSeq is /msg/newest_seq: the JSON form of 1001. The body is a
// GetMaxSeqReq ({"userID"}); userID must be the caller unless the caller is
// the admin. The answer is a GetMaxSeqResp in plain JSON ({"maxSeqs":
// {conversationID: seq}}), as the server renders its protobuf structs.
func apiNewestSeq(s *Server, who apiCaller, body []byte) (any, *CodeError) {
	var in sdkws.GetMaxSeqReq
	if cerr := decodeJSON(body, &in); cerr != nil {
		return nil, cerr
	}
	if in.UserID == "" {
		return nil, codeErr(CodeArgs, "userID is empty")
	}
	return s.gatewayCall(who, &in, (*conn).getNewestSeq)
}

// apiPullMsgBySeq is /msg/pull_msg_by_seq: the JSON form of 1002. The body
// is a PullMessageBySeqsReq ({"userID", "seqRanges": [{"conversationID",
// "begin", "end", "num"}], "order"}); the answer a PullMessageBySeqsResp
// ({"msgs": {conversationID: {"Msgs": [MsgData], "isEnd"}},
// "notificationMsgs": {...}}) with MsgData content as base64, as the server
// renders protobuf bytes in JSON.
func apiPullMsgBySeq(s *Server, who apiCaller, body []byte) (any, *CodeError) {
	var in sdkws.PullMessageBySeqsReq
	if cerr := decodeJSON(body, &in); cerr != nil {
		return nil, cerr
	}
	return s.gatewayCall(who, &in, (*conn).pullByRange)
}

// gatewayCall runs a gateway request handler for an HTTP caller: the same
// code answers both forms.
func (s *Server) gatewayCall(who apiCaller, in proto.Message, h func(*conn, []byte) (proto.Message, *CodeError)) (any, *CodeError) {
	data, err := proto.Marshal(in)
	if err != nil {
		return nil, codeErr(CodeArgs, err.Error())
	}
	c := &conn{s: s, userID: who.userID, platformID: who.platformID}
	s.mu.Lock()
	defer s.mu.Unlock()
	out, cerr := h(c, data)
	if cerr != nil {
		return nil, cerr
	}
	return out, nil
}

// joinedGroupsLocked returns the groups userID is a member of, by ID.
// s.mu is held.
func (s *Server) joinedGroupsLocked(userID string) []*groupRec {
	var out []*groupRec
	for id := range s.st.userGroups[userID] {
		if g := s.st.groups[id]; g != nil {
			out = append(out, g)
		}
	}
	slices.SortFunc(out, func(a, b *groupRec) int {
		switch {
		case a.GroupID < b.GroupID:
			return -1
		case a.GroupID > b.GroupID:
			return 1
		}
		return 0
	})
	return out
}

// joinVersionID names the sandbox's join-group version stream.
const joinVersionID = "sandbox-joined-groups"

// joinVersion is the version of a user's group list: a hash of the group
// IDs, so it changes whenever the list does.
func joinVersion(groups []*groupRec) uint32 {
	h := fnv.New32a()
	for _, g := range groups {
		h.Write([]byte(g.GroupID))
		h.Write([]byte{0})
	}
	return h.Sum32()
}

// apiIncrementalJoinGroups is /group/get_incremental_join_groups: always a
// full answer listing the caller's groups, versioned by joinVersion.
func apiIncrementalJoinGroups(s *Server, who apiCaller, body []byte) (any, *CodeError) {
	var in struct {
		UserID string `json:"userID"`
	}
	if cerr := decodeJSON(body, &in); cerr != nil {
		return nil, cerr
	}
	if in.UserID == "" {
		in.UserID = who.userID
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	groups := s.joinedGroupsLocked(in.UserID)
	insert := []any{}
	for _, g := range groups {
		insert = append(insert, groupInfo(g))
	}
	return map[string]any{"version": joinVersion(groups), "versionID": joinVersionID, "full": true,
		"delete": []string{}, "insert": insert, "update": []any{}, "sortVersion": 0}, nil
}

// apiFullJoinGroupIDs is /group/get_full_join_group_ids: the IDs of the
// caller's groups.
func apiFullJoinGroupIDs(s *Server, who apiCaller, body []byte) (any, *CodeError) {
	var in struct {
		UserID string `json:"userID"`
	}
	if cerr := decodeJSON(body, &in); cerr != nil {
		return nil, cerr
	}
	if in.UserID == "" {
		in.UserID = who.userID
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	groups := s.joinedGroupsLocked(in.UserID)
	ids := []string{}
	for _, g := range groups {
		ids = append(ids, g.GroupID)
	}
	return map[string]any{"version": joinVersion(groups), "versionID": joinVersionID, "equal": false, "groupIDs": ids}, nil
}

// groupCreatedLocked stores and pushes the group-created notification
// (1501) in the group's conversation, as OpenIM does after
// /group/create_group: sent by opUserID, msgFrom 200, its content
// {"detail": "<GroupCreatedTips JSON>"}. s.mu is held.
func (s *Server) groupCreatedLocked(g *groupRec, opUserID, operationID string) error {
	if opUserID == "" {
		opUserID = g.Owner
	}
	members := make([]any, 0, len(g.Members))
	for _, m := range g.Members {
		members = append(members, s.memberInfoLocked(g, m))
	}
	now := time.Now().UnixMilli()
	tips := map[string]any{
		"group":          groupInfo(g),
		"opUser":         s.memberInfoLocked(g, opUserID),
		"memberList":     members,
		"operationTime":  now,
		"groupOwnerUser": s.memberInfoLocked(g, g.Owner),
	}
	detail, err := json.Marshal(tips)
	if err != nil {
		return err
	}
	raw, err := json.Marshal(map[string]string{"detail": string(detail)})
	if err != nil {
		return err
	}
	md := &sdkws.MsgData{
		SendID: opUserID, GroupID: g.GroupID, ClientMsgID: newID(),
		SenderPlatformID: 0, SessionType: int32(content.GroupChat), MsgFrom: int32(content.FromSystem),
		ContentType: int32(content.TypeGroupCreated), Content: raw, CreateTime: now,
		Status: int32(content.StatusSending), Options: map[string]bool{"unreadCount": false, "offlinePush": false},
	}
	if u := s.st.users[opUserID]; u != nil {
		md.SenderNickname, md.SenderFaceURL = u.Nickname, u.FaceURL
	}
	_, err = s.acceptLocked(md, operationID)
	return err
}

// sendTimeLocked returns the sendTime of a new message in conversation
// convID: t (now when 0), raised above the conversation's last sendTime if
// needed, so sendTime strictly increases within a conversation (clients
// order by it). s.mu is held.
func (s *Server) sendTimeLocked(convID string, t int64) int64 {
	if t == 0 {
		t = time.Now().UnixMilli()
	}
	if s.lastSend == nil {
		s.lastSend = map[string]*int64{}
	}
	last := s.lastSend[convID]
	if last == nil {
		last = new(int64)
		if c := s.st.convs[convID]; c != nil {
			for i := len(c.msgs) - 1; i >= 0; i-- {
				if m := c.msgs[i]; m != nil {
					*last = m.SendTime
					break
				}
			}
		}
		s.lastSend[convID] = last
	}
	if t <= *last {
		t = *last + 1
	}
	*last = t
	return t
}
