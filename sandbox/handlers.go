package sandbox

import (
	"sort"
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/openimbot/openimbot/content"
	"github.com/openimbot/openimbot/internal/pb/msg"
	"github.com/openimbot/openimbot/internal/pb/push"
	"github.com/openimbot/openimbot/internal/pb/sdkws"
	"github.com/openimbot/openimbot/internal/wire"
)

// handle serves one request envelope (WIRE.md 3). It returns a non-empty
// reason when the connection must close.
func (c *conn) handle(req *wire.Req) string {
	s := c.s
	resp := &wire.Resp{ReqIdentifier: req.ReqIdentifier, MsgIncr: req.MsgIncr, OperationID: req.OperationID}
	var (
		out        proto.Message
		cerr       *CodeError
		closeAfter string
	)
	s.mu.Lock()
	defer s.mu.Unlock()
	switch req.ReqIdentifier {
	case wire.GetNewestSeq:
		out, cerr = c.getNewestSeq(req.Data)
	case wire.PullMsgByRange:
		out, cerr = c.pullByRange(req.Data)
	case wire.SendMsg:
		out, cerr = c.sendMsg(req.Data, req.OperationID)
	case wire.SendSignalMsg:
		cerr = codeErr(CodeArgs, "msgData is nil")
	case wire.PullMsgBySeqList:
		out, cerr = c.pullBySeqs(req.Data)
	case wire.GetConvMaxReadSeq:
		out, cerr = c.convMaxReadSeq(req.Data)
	case wire.PullConvLastMessage:
		out, cerr = c.lastMessages(req.Data)
	case wire.LogoutMsg:
		var in push.DelUserPushTokenReq
		if err := proto.Unmarshal(req.Data, &in); err != nil {
			cerr = codeErr(CodeServerInternal, err.Error())
		} else {
			closeAfter = "logout"
		}
	case wire.SetBackgroundStatus:
		var in sdkws.SetAppBackgroundStatusReq
		if err := proto.Unmarshal(req.Data, &in); err != nil {
			cerr = codeErr(CodeServerInternal, err.Error())
		} else {
			c.background = in.IsBackground
		}
	case wire.SubUserOnlineStatus:
		out, cerr = c.subOnlineStatus(req.Data)
	default:
		s.log.Info("sandbox: request", "conn", c.id, "user", c.userID, "req", req.ReqIdentifier,
			"operationID", req.OperationID, "result", "unknown ReqIdentifier, closing")
		return "unknown ReqIdentifier " + strconv.Itoa(int(req.ReqIdentifier))
	}
	s.stats.requests[req.ReqIdentifier]++
	if cerr != nil {
		resp.ErrCode, resp.ErrMsg = cerr.Code, cerr.Msg
	} else if out != nil {
		b, err := proto.Marshal(out)
		if err != nil {
			resp.ErrCode, resp.ErrMsg = CodeServerInternal, codeName(CodeServerInternal)
		} else {
			resp.Data = b
		}
	}
	s.log.Info("sandbox: request", "conn", c.id, "user", c.userID, "req", req.ReqIdentifier,
		"operationID", req.OperationID, "msgIncr", req.MsgIncr, "errCode", resp.ErrCode)
	c.send(outFrame{resp: resp, closeAfter: closeAfter})
	return ""
}

func decodeReq(data []byte, m proto.Message) *CodeError {
	if err := proto.Unmarshal(data, m); err != nil {
		return codeErr(CodeServerInternal, err.Error())
	}
	return nil
}

// getNewestSeq is 1001.
func (c *conn) getNewestSeq(data []byte) (proto.Message, *CodeError) {
	var in sdkws.GetMaxSeqReq
	if cerr := decodeReq(data, &in); cerr != nil {
		return nil, cerr
	}
	if in.UserID != c.userID {
		return nil, codeErr(CodeNoPermission, "userID is not the caller")
	}
	out := &sdkws.GetMaxSeqResp{MaxSeqs: map[string]int64{}}
	for _, id := range c.s.st.userConvIDs(c.userID) {
		if cv := c.s.st.convs[id]; cv != nil && cv.maxSeq() > 0 {
			out.MaxSeqs[id] = cv.maxSeq()
		}
	}
	return out, nil
}

// pullByRange is 1002 (WIRE.md 7.4).
func (c *conn) pullByRange(data []byte) (proto.Message, *CodeError) {
	var in sdkws.PullMessageBySeqsReq
	if cerr := decodeReq(data, &in); cerr != nil {
		return nil, cerr
	}
	st := c.s.st
	out := &sdkws.PullMessageBySeqsResp{Msgs: map[string]*sdkws.PullMsgs{}, NotificationMsgs: map[string]*sdkws.PullMsgs{}}
	for _, r := range in.SeqRanges {
		cv := st.convs[r.ConversationID]
		if cv == nil || !st.canSee(c.userID, r.ConversationID) || cv.maxSeq() == 0 {
			continue
		}
		notif := strings.HasPrefix(r.ConversationID, "n_")
		begin, end := max(r.Begin, 1), min(r.End, cv.maxSeq())
		if end < begin {
			continue
		}
		if !notif && end-begin+1 > r.Num {
			begin = end - r.Num + 1
		}
		if end < begin {
			continue
		}
		pm := &sdkws.PullMsgs{}
		for seq := begin; seq <= end; seq++ {
			pm.Msgs = append(pm.Msgs, msgOrPlaceholder(cv, seq))
		}
		if in.Order == sdkws.PullOrder_PullOrderDesc {
			pm.IsEnd = r.Begin <= 1
		} else {
			pm.IsEnd = cv.maxSeq() <= r.End
		}
		if notif {
			out.NotificationMsgs[r.ConversationID] = pm
		} else {
			out.Msgs[r.ConversationID] = pm
		}
	}
	return out, nil
}

func msgOrPlaceholder(cv *conv, seq int64) *sdkws.MsgData {
	if m := cv.get(seq); m != nil {
		return m
	}
	return &sdkws.MsgData{Seq: seq, Status: int32(content.StatusDeleted)}
}

// pullBySeqs is 1005.
func (c *conn) pullBySeqs(data []byte) (proto.Message, *CodeError) {
	var in msg.GetSeqMessageReq
	if cerr := decodeReq(data, &in); cerr != nil {
		return nil, cerr
	}
	st := c.s.st
	out := &msg.GetSeqMessageResp{Msgs: map[string]*sdkws.PullMsgs{}, NotificationMsgs: map[string]*sdkws.PullMsgs{}}
	for _, cs := range in.Conversations {
		cv := st.convs[cs.ConversationID]
		if cv == nil || !st.canSee(c.userID, cs.ConversationID) {
			continue
		}
		seqs := append([]int64(nil), cs.Seqs...)
		sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
		pm := &sdkws.PullMsgs{}
		maxSeq := cv.maxSeq()
		for _, seq := range seqs {
			switch {
			case seq > maxSeq:
				if in.Order != sdkws.PullOrder_PullOrderDesc {
					pm.IsEnd, pm.EndSeq = true, maxSeq
				}
			case seq < 1:
				if in.Order == sdkws.PullOrder_PullOrderDesc {
					pm.IsEnd, pm.EndSeq = true, 1
				}
			default:
				pm.Msgs = append(pm.Msgs, msgOrPlaceholder(cv, seq))
			}
		}
		if len(pm.Msgs) == 0 && !pm.IsEnd {
			continue
		}
		if strings.HasPrefix(cs.ConversationID, "n_") {
			out.NotificationMsgs[cs.ConversationID] = pm
		} else {
			out.Msgs[cs.ConversationID] = pm
		}
	}
	return out, nil
}

// convMaxReadSeq is 1006.
func (c *conn) convMaxReadSeq(data []byte) (proto.Message, *CodeError) {
	var in msg.GetConversationsHasReadAndMaxSeqReq
	if cerr := decodeReq(data, &in); cerr != nil {
		return nil, cerr
	}
	if in.UserID == "" {
		return nil, codeErr(CodeArgs, "userID is empty")
	}
	if in.UserID != c.userID {
		return nil, codeErr(CodeNoPermission, "userID is not the caller")
	}
	st := c.s.st
	ids := in.ConversationIDs
	if len(ids) == 0 {
		ids = st.userConvIDs(c.userID)
	}
	out := &msg.GetConversationsHasReadAndMaxSeqResp{Seqs: map[string]*msg.Seqs{}}
	for _, id := range ids {
		cv := st.convs[id]
		if cv == nil || !st.canSee(c.userID, id) {
			continue
		}
		sq := &msg.Seqs{MaxSeq: cv.maxSeq()}
		if m := cv.get(cv.maxSeq()); m != nil {
			sq.MaxSeqTime = m.SendTime
		}
		out.Seqs[id] = sq
	}
	return out, nil
}

// lastMessages is 1007.
func (c *conn) lastMessages(data []byte) (proto.Message, *CodeError) {
	var in msg.GetLastMessageReq
	if cerr := decodeReq(data, &in); cerr != nil {
		return nil, cerr
	}
	st := c.s.st
	out := &msg.GetLastMessageResp{Msgs: map[string]*sdkws.MsgData{}}
	for _, id := range in.ConversationIDs {
		cv := st.convs[id]
		if cv == nil || !st.canSee(c.userID, id) {
			continue
		}
		for seq := cv.maxSeq(); seq >= 1; seq-- {
			if m := cv.get(seq); m != nil {
				out.Msgs[id] = m
				break
			}
		}
	}
	return out, nil
}

// sendMsg is 1003 (WIRE.md 7.7).
func (c *conn) sendMsg(data []byte, operationID string) (proto.Message, *CodeError) {
	var md sdkws.MsgData
	if cerr := decodeReq(data, &md); cerr != nil {
		return nil, cerr
	}
	if cerr := validateMsg(&md); cerr != nil {
		return nil, cerr
	}
	s := c.s
	if md.SessionType == int32(content.GroupChat) {
		g := s.st.groups[md.GroupID]
		if g == nil {
			return nil, codeErr(CodeGroupIDNotFound, "group "+md.GroupID+" does not exist")
		}
		if _, ok := s.st.userGroups[md.SendID][md.GroupID]; !ok && md.SendID != s.cfg.AdminUserID {
			return nil, codeErr(CodeNotInGroupYet, md.SendID+" is not in group "+md.GroupID)
		}
	}
	if _, err := s.acceptLocked(&md, operationID); err != nil {
		return nil, codeErr(CodeServerInternal, err.Error())
	}
	return &msg.SendMsgResp{ServerMsgID: md.ServerMsgID, ClientMsgID: md.ClientMsgID, SendTime: md.SendTime}, nil
}

// pushLocked sends one 2001 frame with md to every recipient connection
// (WIRE.md 7.5).
func (s *Server) pushLocked(convID string, md *sdkws.MsgData, operationID string) {
	var users []string
	senderSync := option(md.Options, "senderSync")
	if md.SessionType == int32(content.GroupChat) || md.SessionType == int32(content.WriteGroupChat) {
		// Every member, the sender included: OpenIM ignores senderSync
		// for groups.
		if g := s.st.groups[md.GroupID]; g != nil {
			users = append(users, g.Members...)
		}
	} else {
		users = append(users, md.RecvID)
		if senderSync && md.SendID != md.RecvID {
			users = append(users, md.SendID)
		}
	}
	pm := &sdkws.PushMessages{}
	entry := map[string]*sdkws.PullMsgs{convID: {Msgs: []*sdkws.MsgData{md}}}
	if strings.HasPrefix(convID, "n_") {
		pm.NotificationMsgs = entry
	} else {
		pm.Msgs = entry
	}
	var data []byte
	for _, u := range users {
		for c := range s.byUser[u] {
			if c.kicked || (c.platformID == 1 && c.background) {
				continue
			}
			if data == nil {
				var err error
				if data, err = proto.Marshal(pm); err != nil {
					s.log.Error("sandbox: encode push", "err", err)
					return
				}
			}
			c.send(outFrame{resp: &wire.Resp{ReqIdentifier: wire.PushMsg, OperationID: operationID, Data: data}})
			s.stats.pushes++
		}
	}
}

// subOnlineStatus is 2005 (WIRE.md 7.9).
func (c *conn) subOnlineStatus(data []byte) (proto.Message, *CodeError) {
	var in sdkws.SubUserOnlineStatus
	if cerr := decodeReq(data, &in); cerr != nil {
		return nil, cerr
	}
	if c.statusSubs == nil {
		c.statusSubs = map[string]struct{}{}
	}
	for _, u := range in.UnsubscribeUserID {
		delete(c.statusSubs, u)
	}
	out := &sdkws.SubUserOnlineStatusTips{}
	for _, u := range in.SubscribeUserID {
		c.statusSubs[u] = struct{}{}
		out.Subscribers = append(out.Subscribers, &sdkws.SubUserOnlineStatusElem{UserID: u, OnlinePlatformIDs: c.s.platformsLocked(u)})
	}
	return out, nil
}

// platformsLocked returns the sorted, distinct platforms userID is online on.
func (s *Server) platformsLocked(userID string) []int32 {
	seen := map[int32]bool{}
	var out []int32
	for c := range s.byUser[userID] {
		if !seen[c.platformID] {
			seen[c.platformID] = true
			out = append(out, c.platformID)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// statusChangedLocked sends an unsolicited 2005 frame to every subscriber
// of userID if its platform set differs from before.
func (s *Server) statusChangedLocked(userID string, before []int32) {
	now := s.platformsLocked(userID)
	if slicesEqual(before, now) {
		return
	}
	var data []byte
	for c := range s.conns {
		if _, ok := c.statusSubs[userID]; !ok {
			continue
		}
		if data == nil {
			data, _ = proto.Marshal(&sdkws.SubUserOnlineStatusTips{Subscribers: []*sdkws.SubUserOnlineStatusElem{{UserID: userID, OnlinePlatformIDs: now}}})
		}
		c.send(outFrame{resp: &wire.Resp{ReqIdentifier: wire.SubUserOnlineStatus, Data: data}})
	}
}

func slicesEqual(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
