package sandbox

import (
	"context"
	"log/slog"
	"slices"
	"sort"
	"strconv"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/openimbot/openimbot/content"
	"github.com/openimbot/openimbot/internal/pb/msg"
	"github.com/openimbot/openimbot/internal/pb/push"
	"github.com/openimbot/openimbot/internal/pb/sdkws"
	"github.com/openimbot/openimbot/internal/wire"
)

// handle serves one request envelope (docs/protocol.md §3). It returns a non-empty
// reason when the connection must close.
func (c *conn) handle(req *wire.Req) string {
	s := c.s
	resp := newResp(wire.Resp{ReqIdentifier: req.ReqIdentifier, MsgIncr: req.MsgIncr, OperationID: req.OperationID})
	var (
		out        proto.Message
		answer     []byte // out already encoded
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
		answer, cerr = c.sendMsg(req.Data, req.OperationID, resp.buf[:0])
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
			out = &push.DelUserPushTokenResp{}
		}
		// OpenIM closes after the 2003 reply, whatever its result.
		closeAfter = "logout"
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
	switch {
	case cerr != nil:
		resp.ErrCode, resp.ErrMsg = cerr.Code, cerr.Msg
	case answer != nil:
		resp.Data = answer
	case out != nil:
		b, err := proto.Marshal(out)
		if err != nil {
			resp.ErrCode, resp.ErrMsg = CodeServerInternal, codeName(CodeServerInternal)
		} else {
			resp.Data = b
		}
	}
	if s.log.Enabled(context.Background(), slog.LevelInfo) { // spares the arguments' allocations
		s.log.Info("sandbox: request", "conn", c.id, "user", c.userID, "req", req.ReqIdentifier,
			"operationID", req.OperationID, "msgIncr", req.MsgIncr, "errCode", resp.ErrCode)
	}
	c.send(outFrame{resp: resp, closeAfter: closeAfter})
	return ""
}

func decodeReq(data []byte, m proto.Message) *CodeError {
	if err := proto.Unmarshal(data, m); err != nil {
		return codeErr(CodeServerInternal, err.Error())
	}
	return nil
}

// getNewestSeq is 1001: the max seqs of the user's conversation records,
// their n_ twins and the user's own n_<uid>_<uid> stream, without zeros.
// The admin may ask for any user (OpenIM's CheckAccessV3).
func (c *conn) getNewestSeq(data []byte) (proto.Message, *CodeError) {
	var in sdkws.GetMaxSeqReq
	if cerr := decodeReq(data, &in); cerr != nil {
		return nil, cerr
	}
	if in.UserID != c.userID && c.userID != c.s.cfg.AdminUserID {
		return nil, codeErr(CodeNoPermission, "userID is not the caller")
	}
	st := c.s.st
	out := &sdkws.GetMaxSeqResp{MaxSeqs: map[string]int64{}}
	add := func(id string) {
		if n := st.maxSeq(id); n > 0 {
			out.MaxSeqs[id] = n
		}
	}
	for _, id := range st.records(in.UserID) {
		add(id)
		add(notificationTwin(id))
	}
	add("n_" + in.UserID + "_" + in.UserID)
	return out, nil
}

// pullByRange is 1002 (docs/protocol.md §7.4) as OpenIM patch.16 does it: the
// request's userID (not checked against the caller) decides which
// conversations are visible; a chat conversation needs a conversation
// record, an n_ stream does not. The lowest visible seq is the
// conversation's min seq: 0 while it kept every message (as in a
// conversation OpenIM never cleared, so a window from 0 that fits in num
// returns a placeholder for seq 0), else the oldest seq it still keeps
// (Config.MaxHistory): seqs below it are left out, not given placeholders.
func (c *conn) pullByRange(data []byte) (proto.Message, *CodeError) {
	var in sdkws.PullMessageBySeqsReq
	if cerr := decodeReq(data, &in); cerr != nil {
		return nil, cerr
	}
	st := c.s.st
	out := &sdkws.PullMessageBySeqsResp{Msgs: map[string]*sdkws.PullMsgs{}, NotificationMsgs: map[string]*sdkws.PullMsgs{}}
	for _, r := range in.SeqRanges {
		id := r.ConversationID
		cv := st.convs[id]
		maxSeq, minSeq := st.maxSeq(id), st.minSeq(id)
		notif := strings.HasPrefix(id, "n_")
		var begin, end int64
		if notif {
			// Every seq of [begin, end] is looked up; num is ignored and
			// seqs <= 0 are dropped.
			begin, end = max(r.Begin, minSeq, 1), min(r.End, maxSeq)
		} else {
			if !st.hasRecord(in.UserID, id) || r.End < 0 || r.Num <= 0 {
				continue
			}
			begin, end = max(r.Begin, minSeq), min(r.End, maxSeq)
			if end >= begin && end-begin+1 > r.Num {
				begin = end - r.Num + 1
			}
		}
		if end < begin {
			continue
		}
		pm := &sdkws.PullMsgs{}
		for seq := begin; seq <= end; seq++ {
			pm.Msgs = append(pm.Msgs, msgOrPlaceholder(cv, seq))
		}
		if in.Order == sdkws.PullOrder_PullOrderDesc {
			pm.IsEnd = r.Begin <= minSeq
		} else {
			pm.IsEnd = maxSeq <= r.End
		}
		if notif {
			out.NotificationMsgs[id] = pm
		} else {
			out.Msgs[id] = pm
		}
	}
	return out, nil
}

func msgOrPlaceholder(cv *conv, seq int64) *sdkws.MsgData {
	if cv != nil {
		if m := cv.get(seq); m != nil {
			return m
		}
	}
	return &sdkws.MsgData{Seq: seq, Status: int32(content.StatusDeleted)}
}

// pullBySeqs is 1005 as OpenIM does it: every requested conversation gets
// an entry; seqs <= 0 are dropped, seqs above the max seq are dropped and
// (ascending order) set isEnd with endSeq = the max seq, seqs below the
// conversation's min seq (evicted, Config.MaxHistory) are dropped and
// (descending order) set isEnd with endSeq = the min seq; the rest come
// back in the requested order, placeholders for deleted ones.
func (c *conn) pullBySeqs(data []byte) (proto.Message, *CodeError) {
	var in msg.GetSeqMessageReq
	if cerr := decodeReq(data, &in); cerr != nil {
		return nil, cerr
	}
	st := c.s.st
	out := &msg.GetSeqMessageResp{Msgs: map[string]*sdkws.PullMsgs{}, NotificationMsgs: map[string]*sdkws.PullMsgs{}}
	for _, cs := range in.Conversations {
		id := cs.ConversationID
		cv := st.convs[id]
		maxSeq, minSeq := st.maxSeq(id), st.minSeq(id)
		target := out.Msgs
		if strings.HasPrefix(id, "n_") {
			target = out.NotificationMsgs
		}
		pm := target[id]
		if pm == nil {
			pm = &sdkws.PullMsgs{}
			target[id] = pm
		}
		var isEnd bool
		var endSeq int64
		for _, seq := range cs.Seqs {
			switch {
			case seq <= 0:
			case seq < minSeq:
				if in.Order == sdkws.PullOrder_PullOrderDesc {
					isEnd, endSeq = true, minSeq
				}
			case seq <= maxSeq:
				pm.Msgs = append(pm.Msgs, msgOrPlaceholder(cv, seq))
			case in.Order == sdkws.PullOrder_PullOrderAsc:
				isEnd, endSeq = true, maxSeq
			}
		}
		pm.IsEnd, pm.EndSeq = isEnd, endSeq
	}
	return out, nil
}

// convMaxReadSeq is 1006: for the given conversations, or else the user's
// conversation records, the max seq (0 if none), the user's has-read seq
// and the time of the newest message. As in OpenIM patch.16, userID must
// be set but is not checked against the caller.
func (c *conn) convMaxReadSeq(data []byte) (proto.Message, *CodeError) {
	var in msg.GetConversationsHasReadAndMaxSeqReq
	if cerr := decodeReq(data, &in); cerr != nil {
		return nil, cerr
	}
	return c.s.hasReadAndMaxSeqLocked(&in)
}

func (s *Server) hasReadAndMaxSeqLocked(in *msg.GetConversationsHasReadAndMaxSeqReq) (*msg.GetConversationsHasReadAndMaxSeqResp, *CodeError) {
	if in.UserID == "" {
		return nil, codeErr(CodeArgs, "userID is empty")
	}
	st := s.st
	ids := in.ConversationIDs
	if len(ids) == 0 {
		ids = st.records(in.UserID)
	}
	out := &msg.GetConversationsHasReadAndMaxSeqResp{Seqs: map[string]*msg.Seqs{}}
	for _, id := range ids {
		sq := &msg.Seqs{MaxSeq: st.maxSeq(id), HasReadSeq: st.hasRead[in.UserID][id]}
		if cv := st.convs[id]; cv != nil {
			for seq := cv.maxSeq(); seq >= cv.first; seq-- {
				if m := cv.get(seq); m != nil {
					sq.MaxSeqTime = m.SendTime
					break
				}
			}
		}
		out.Seqs[id] = sq
	}
	return out, nil
}

// lastMessages is 1007: the newest stored message of each conversation
// that has one.
func (c *conn) lastMessages(data []byte) (proto.Message, *CodeError) {
	var in msg.GetLastMessageReq
	if cerr := decodeReq(data, &in); cerr != nil {
		return nil, cerr
	}
	st := c.s.st
	out := &msg.GetLastMessageResp{Msgs: map[string]*sdkws.MsgData{}}
	for _, id := range in.ConversationIDs {
		cv := st.convs[id]
		if cv == nil {
			continue
		}
		for seq := cv.maxSeq(); seq >= cv.first; seq-- {
			if m := cv.get(seq); m != nil {
				out.Msgs[id] = m
				break
			}
		}
	}
	return out, nil
}

// sendMsg is 1003 (docs/protocol.md §7.7). It returns the encoded
// SendMsgResp, appended to answer.
func (c *conn) sendMsg(data []byte, operationID string, answer []byte) ([]byte, *CodeError) {
	var md sdkws.MsgData
	if err := decodeMsgData(data, &md); err != nil {
		return nil, codeErr(CodeServerInternal, err.Error())
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
		// Admin senders and notification content types skip the member
		// check, as in OpenIM.
		notification := md.ContentType >= 1000 && md.ContentType <= 5000
		if _, ok := s.st.userGroups[md.SendID][md.GroupID]; !ok && md.SendID != s.cfg.AdminUserID && !notification {
			return nil, codeErr(CodeNotInGroupYet, md.SendID+" is not in group "+md.GroupID)
		}
		if cerr := s.groupSendCheckLocked(&md); cerr != nil {
			return nil, cerr
		}
	}
	if _, err := s.acceptLocked(&md, operationID); err != nil {
		return nil, codeErr(CodeServerInternal, err.Error())
	}
	return appendSendMsgResp(answer, md.ServerMsgID, md.ClientMsgID, md.SendTime), nil
}

// pushLocked sends one 2001 frame with md to every recipient connection
// (docs/protocol.md §7.5).
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
	var data []byte
	for _, u := range users {
		for _, c := range s.byUser[u] {
			if c.kicked || (c.platformID == 1 && c.background) {
				continue
			}
			if data == nil {
				var err error
				if data, err = marshalPush(convID, md); err != nil {
					s.log.Error("sandbox: encode push", "err", err)
					return
				}
			}
			c.send(outFrame{resp: newResp(wire.Resp{ReqIdentifier: wire.PushMsg, OperationID: operationID, Data: data})})
			s.stats.pushes++
		}
	}
}

// marshalPush returns the PushMessages of one message: {msgs (or
// notificationMsgs for an n_ conversation): {convID: {Msgs: [md]}}},
// byte-identical to proto.Marshal of that message (deterministic: options
// in key order), without building it.
func marshalPush(convID string, md *sdkws.MsgData) ([]byte, error) {
	buf := msgDataBufs.Get().(*[]byte)
	defer msgDataBufs.Put(buf)
	enc := appendMsgData((*buf)[:0], md)
	if cap(enc) <= 64<<10 {
		*buf = enc[:0]
	}
	mdSize := len(enc)
	pullSize := protowire.SizeTag(1) + protowire.SizeBytes(mdSize)
	entrySize := protowire.SizeTag(1) + protowire.SizeBytes(len(convID)) + protowire.SizeTag(2) + protowire.SizeBytes(pullSize)
	var field protowire.Number = 1 // msgs
	if strings.HasPrefix(convID, "n_") {
		field = 2 // notificationMsgs
	}
	b := make([]byte, 0, protowire.SizeTag(field)+protowire.SizeBytes(entrySize))
	b = append(b, byte(field)<<3|byte(protowire.BytesType))
	b = appendUvarint(b, uint64(entrySize))
	b = append(b, 1<<3|byte(protowire.BytesType)) // key
	b = appendUvarint(b, uint64(len(convID)))
	b = append(b, convID...)
	b = append(b, 2<<3|byte(protowire.BytesType)) // value: PullMsgs
	b = appendUvarint(b, uint64(pullSize))
	b = append(b, 1<<3|byte(protowire.BytesType)) // PullMsgs.Msgs
	b = appendUvarint(b, uint64(mdSize))
	return append(b, enc...), nil
}

// subOnlineStatus is 2005 (docs/protocol.md §7.9).
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
	for _, c := range s.byUser[userID] {
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
	if slices.Equal(before, now) {
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
		c.send(outFrame{resp: newResp(wire.Resp{ReqIdentifier: wire.SubUserOnlineStatus, Data: data})})
	}
}
