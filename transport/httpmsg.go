package transport

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"

	"google.golang.org/protobuf/proto"

	"github.com/openimbot/openimbot/content"
	"github.com/openimbot/openimbot/internal/pb/sdkws"
)

// This file holds the HTTP forms of the seq requests (/msg/newest_seq and
// /msg/pull_msg_by_seq, docs/protocol.md §8) and the admin REST sender.

// NewestSeq calls /msg/newest_seq with a user token: the max seq of every
// conversation of userID (conversations whose max seq is 0 are absent).
func (a *API) NewestSeq(ctx context.Context, token, userID string) (map[string]int64, error) {
	var out struct {
		MaxSeqs map[string]int64 `json:"maxSeqs"`
	}
	if err := a.post(ctx, "/msg/newest_seq", token, map[string]string{"userID": userID}, &out); err != nil {
		return nil, err
	}
	if out.MaxSeqs == nil {
		out.MaxSeqs = map[string]int64{}
	}
	return out.MaxSeqs, nil
}

// PullRange pulls every message of each range with /msg/pull_msg_by_seq
// and a user token, as Client.PullRange does over the gateway: ranges are
// cut into requests of at most MaxPullPerRequest seqs, at most four
// requests are in flight, and the result maps each conversation to its
// messages in ascending seq order, deleted seqs as placeholders with
// Status content.StatusDeleted.
func (a *API) PullRange(ctx context.Context, token, userID string, ranges []SeqRange) (map[string]PullResult, error) {
	reqs, err := planPull(userID, ranges)
	if err != nil {
		return nil, err
	}
	out := map[string]PullResult{}
	if len(reqs) == 0 {
		return out, nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make([][]byte, len(reqs))
	errs := make([]error, len(reqs))
	sem := make(chan struct{}, maxParallelPulls)
	var wg sync.WaitGroup
	for i, r := range reqs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				errs[i] = fmt.Errorf("transport: API /msg/pull_msg_by_seq: %w", ctx.Err())
				return
			}
			defer func() { <-sem }()
			var resp sdkws.PullMessageBySeqsResp
			if err := a.post(ctx, "/msg/pull_msg_by_seq", token, r, &resp); err != nil {
				errs[i] = err
				cancel()
				return
			}
			// The JSON form carries the same message as the gateway's
			// protobuf one: re-encode it and use the one decoder.
			b, err := proto.Marshal(&resp)
			if err != nil {
				errs[i] = fmt.Errorf("transport: API /msg/pull_msg_by_seq: %w", err)
				cancel()
				return
			}
			results[i] = b
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		for _, e := range errs {
			if e != nil {
				return nil, e
			}
		}
	}
	for _, data := range results {
		err := pullMaps(data, func(conv string, msgs []content.Message, isEnd bool) {
			pr := out[conv]
			pr.Messages = append(pr.Messages, msgs...)
			pr.IsEnd = pr.IsEnd || isEnd
			out[conv] = pr
		})
		if err != nil {
			return nil, fmt.Errorf("transport: API /msg/pull_msg_by_seq: %w", err)
		}
	}
	for conv, pr := range out {
		slices.SortStableFunc(pr.Messages, func(a, b content.Message) int {
			switch {
			case a.Seq < b.Seq:
				return -1
			case a.Seq > b.Seq:
				return 1
			}
			return 0
		})
		pr.Messages = slices.CompactFunc(pr.Messages, func(a, b content.Message) bool { return a.Seq == b.Seq && a.Seq != 0 })
		for i := range pr.Messages {
			if pr.Messages[i].ConversationID == "" {
				pr.Messages[i].ConversationID = conv
			}
		}
		out[conv] = pr
	}
	return out, nil
}

// pullJSONReq is PullMessageBySeqsReq with the JSON keys of the HTTP API.
type pullJSONReq struct {
	UserID    string         `json:"userID"`
	SeqRanges []seqRangeJSON `json:"seqRanges"`
	Order     int32          `json:"order"`
}

type seqRangeJSON struct {
	ConversationID string `json:"conversationID"`
	Begin          int64  `json:"begin"`
	End            int64  `json:"end"`
	Num            int64  `json:"num"`
}

// planPull cuts ranges into requests of at most MaxPullPerRequest seqs
// (num = the chunk length, so the server returns the whole window).
func planPull(userID string, ranges []SeqRange) ([]*pullJSONReq, error) {
	var reqs []*pullJSONReq
	var cur *pullJSONReq
	var n int64
	for i, r := range ranges {
		if r.ConversationID == "" {
			return nil, fmt.Errorf("transport: PullRange: range %d: empty conversation ID", i)
		}
		if r.Begin < 0 || r.End < r.Begin {
			return nil, fmt.Errorf("transport: PullRange: range %d (%s): invalid bounds [%d, %d]", i, r.ConversationID, r.Begin, r.End)
		}
		for b := max(r.Begin, 1); b <= r.End; {
			room := int64(MaxPullPerRequest) - n
			if cur == nil || room == 0 {
				cur = &pullJSONReq{UserID: userID}
				reqs = append(reqs, cur)
				n, room = 0, MaxPullPerRequest
			}
			e := min(r.End, b+room-1)
			cur.SeqRanges = append(cur.SeqRanges, seqRangeJSON{ConversationID: r.ConversationID, Begin: b, End: e, Num: e - b + 1})
			n += e - b + 1
			b = e + 1
		}
	}
	return reqs, nil
}

// RESTSender sends as a bot through /msg/send_msg with an admin token
// (docs/protocol.md §8), for the receive modes that hold no gateway
// connection. It fetches the admin token with the secret on first use and
// again after the server rejects it. Safe for concurrent use.
type RESTSender struct {
	api         *API
	secret      string
	adminUserID string
	userID      string
	platformID  int32
	nickname    string

	mu    sync.Mutex
	token string
}

// NewRESTSender returns a sender for userID (platformID 0 means 7) that
// authenticates with the admin secret as adminUserID ("" means imAdmin).
// nickname is sent as senderNickname. It does no I/O.
func NewRESTSender(api *API, secret, adminUserID, userID string, platformID int32, nickname string) (*RESTSender, error) {
	switch {
	case api == nil:
		return nil, errors.New("transport: NewRESTSender: nil API")
	case secret == "":
		return nil, errors.New("transport: NewRESTSender: /msg/send_msg needs the admin secret")
	case userID == "":
		return nil, errors.New("transport: NewRESTSender: empty user ID")
	}
	if platformID == 0 {
		platformID = 7
	}
	return &RESTSender{api: api, secret: secret, adminUserID: adminUserID, userID: userID, platformID: platformID, nickname: nickname}, nil
}

func (s *RESTSender) adminToken(ctx context.Context, stale string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.token != "" && s.token != stale {
		return s.token, nil
	}
	tok, err := s.api.GetAdminToken(ctx, s.secret, s.adminUserID)
	if err != nil {
		return "", err
	}
	s.token = tok
	return tok, nil
}

// SendMsg sends m (Content or Elem, RecvID or GroupID set) as the bot and
// returns the server's answer. m's server fields are filled in as
// Client.SendMsg does; the server makes its own clientMsgID, which the
// result and m carry.
func (s *RESTSender) SendMsg(ctx context.Context, m *content.Message) (SendResult, error) {
	if m == nil {
		return SendResult{}, errors.New("transport: SendMsg: nil message")
	}
	if m.RecvID == "" && m.GroupID == "" {
		return SendResult{}, errors.New("transport: SendMsg: message has neither RecvID nor GroupID")
	}
	if m.ContentType == 0 && m.Elem != nil {
		m.ContentType = m.Elem.ContentType()
	}
	if m.SessionType == 0 {
		m.SessionType = content.SingleChat
		if m.GroupID != "" {
			m.SessionType = content.GroupChat
		}
	}
	if len(m.Content) == 0 {
		if m.Elem == nil {
			return SendResult{}, errors.New("transport: SendMsg: message has neither Content nor Elem")
		}
		raw, err := content.Encode(m.Elem)
		if err != nil {
			return SendResult{}, fmt.Errorf("transport: SendMsg: encode %T content: %w", m.Elem, err)
		}
		m.Content = raw
	}
	nick := m.SenderNickname
	if nick == "" {
		nick = s.nickname
	}
	body := AdminSend{
		SendID: s.userID, RecvID: m.RecvID, GroupID: m.GroupID, SenderNickname: nick, SenderFaceURL: m.SenderFaceURL,
		SenderPlatformID: s.platformID, Content: json.RawMessage(m.Content), ContentType: m.ContentType,
		SessionType: m.SessionType, OfflinePushInfo: m.OfflinePushInfo, Ex: m.Ex,
	}
	tok, err := s.adminToken(ctx, "")
	if err != nil {
		return SendResult{}, err
	}
	res, err := s.api.SendMsg(ctx, tok, body)
	if IsFatalToken(err) {
		if tok, err = s.adminToken(ctx, tok); err != nil {
			return SendResult{}, err
		}
		res, err = s.api.SendMsg(ctx, tok, body)
	}
	if err != nil {
		return SendResult{}, err
	}
	m.SendID, m.ClientMsgID, m.ServerMsgID, m.SendTime = s.userID, res.ClientMsgID, res.ServerMsgID, res.SendTime
	m.Status = content.StatusSent
	return res, nil
}
