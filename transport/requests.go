package transport

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/openimbot/openimbot/content"
	"github.com/openimbot/openimbot/internal/pb/msg"
	"github.com/openimbot/openimbot/internal/pb/push"
	"github.com/openimbot/openimbot/internal/pb/sdkws"
	"github.com/openimbot/openimbot/internal/wire"
)

// MaxPullPerRequest is the most messages one 1002 or 1005 request asks for
// (the reference SDK's batch bound).
const MaxPullPerRequest = 100

// maxParallelPulls bounds the HTTP pull requests in flight for one call.
const maxParallelPulls = 4

// request sends one request and returns the reply payload. The call waits
// for a connection while disconnected (also when the connection it found
// died before the request was written), and is bounded by ctx and, when
// ctx has no deadline, by Config.RequestTimeout.
func (c *Client) request(ctx context.Context, op string, ident int32, payload []byte) ([]byte, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.cfg.RequestTimeout)
		defer cancel()
	}
	var data []byte
	for {
		cn, err := c.waitConn(ctx)
		if err != nil {
			return nil, fmt.Errorf("transport: %s: %w", op, err)
		}
		data, err = cn.roundTrip(ctx, ident, payload)
		if err == nil {
			return data, nil
		}
		var ns *notSentError
		if errors.As(err, &ns) {
			continue // cn died before the request was sent: wait for the next one
		}
		var ae *APIError
		if errors.As(err, &ae) {
			return nil, err // already "transport: server error ..."
		}
		return nil, fmt.Errorf("transport: %s: %w", op, err)
	}
}

func (c *Client) call(ctx context.Context, op string, ident int32, req proto.Message) ([]byte, error) {
	payload, err := proto.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("transport: %s: marshal: %w", op, err)
	}
	return c.request(ctx, op, ident, payload)
}

// GetNewestSeq sends 1001 and returns the max seq of every conversation the
// user has (conversations whose max seq is 0 are absent).
func (c *Client) GetNewestSeq(ctx context.Context) (map[string]int64, error) {
	data, err := c.call(ctx, "GetNewestSeq", wire.GetNewestSeq, &sdkws.GetMaxSeqReq{UserID: c.cfg.UserID})
	if err != nil {
		return nil, err
	}
	var resp sdkws.GetMaxSeqResp
	if err := proto.Unmarshal(data, &resp); err != nil {
		return nil, fmt.Errorf("transport: GetNewestSeq: decode GetMaxSeqResp: %w", err)
	}
	out := resp.GetMaxSeqs()
	if out == nil {
		out = map[string]int64{}
	}
	return out, nil
}

// pullSeqsPerRequest is the fewest seqs a websocket pull request asks for
// (when nothing is known of the messages, or they are large): the answer
// of that many messages of the largest size the gateway accepts from a
// sender (wire.MaxServerInbound per frame) fits in the
// wire.MaxClientInbound bytes a client reads in one frame. Requests grow
// up to MaxPullPerRequest seqs as answers show smaller messages (see
// seqsPerRequest). A pull answer over the read limit costs the connection
// (the frame cannot be skipped); the seqs of such a request are then
// probed one by one, so only a message alone over the limit (sent through
// the REST API, or compressed by its sender) is left out.
const pullSeqsPerRequest = wire.MaxClientInbound / wire.MaxServerInbound

// pullBudget is the answer size a pull request is sized for: three
// quarters of the read limit, for messages up to the largest seen lately.
const pullBudget = wire.MaxClientInbound * 3 / 4

// maxWSParallelPulls bounds the websocket pull requests in flight for one
// call: as many messages as 4 requests of 100.
const maxWSParallelPulls = 4 * MaxPullPerRequest / pullSeqsPerRequest

// maxProbes bounds the tries of a one-seq probe whose connection died of a
// frame over the read limit while other requests were pending too (so the
// frame may have been another's); after that the message counts as too
// large.
const maxProbes = 3

// convSeq is one seq of a conversation.
type convSeq struct {
	conv string
	seq  int64
}

// pullReq is one marshalled pull request and the seqs it asks for.
type pullReq struct {
	payload []byte
	seqs    []convSeq
}

// PullRange pulls every message of each range with 1002, ascending. Ranges
// are cut into requests sized so that the answer fits in the 1 MiB read
// limit: 20 seqs in all while nothing is known of the messages (the answer
// of 20 messages of the largest size the gateway accepts fits), up to 100
// once answers show the messages are smaller (the estimate follows the
// largest message of recent answers), each range with num = its length
// (so the server returns the whole window, docs/protocol.md §7.4), and the
// requests are pipelined. A message that alone is over the read limit
// costs the connection once (the frame cannot be read); its seq is then
// probed alone and reported in PullResult.TooLarge instead of failing the
// pull. The result maps each conversation that returned messages to its
// messages in ascending seq order, without duplicates; IsEnd is true when
// the server reported the end of the conversation. Deleted seqs come back
// as placeholders with Status content.StatusDeleted. Begin 0 is allowed
// (the reference client's "from the start") and pulls from seq 1; a range
// [0, 0] pulls nothing.
func (c *Client) PullRange(ctx context.Context, ranges []SeqRange) (map[string]PullResult, error) {
	per := int64(c.seqsPerRequest())
	var reqs []pullReq
	var cur *sdkws.PullMessageBySeqsReq
	var seqs []convSeq
	n := int64(0)
	flush := func() error {
		if cur == nil {
			return nil
		}
		p, err := proto.Marshal(cur)
		if err != nil {
			return fmt.Errorf("transport: PullRange: marshal: %w", err)
		}
		reqs = append(reqs, pullReq{payload: p, seqs: seqs})
		cur, seqs, n = nil, nil, 0
		return nil
	}
	for i, r := range ranges {
		if r.ConversationID == "" {
			return nil, fmt.Errorf("transport: PullRange: range %d: empty conversation ID", i)
		}
		if r.Begin < 0 || r.End < r.Begin {
			return nil, fmt.Errorf("transport: PullRange: range %d (%s): invalid bounds [%d, %d]", i, r.ConversationID, r.Begin, r.End)
		}
		// Stored seqs start at 1: asking for seq 0 would cost a slot of
		// the request and could come back as a deleted-message
		// placeholder.
		for b := max(r.Begin, 1); b <= r.End; {
			if cur == nil {
				cur = &sdkws.PullMessageBySeqsReq{UserID: c.cfg.UserID, Order: sdkws.PullOrder_PullOrderAsc}
			}
			e := min(r.End, b+(per-n)-1)
			cur.SeqRanges = append(cur.SeqRanges, &sdkws.SeqRange{ConversationID: r.ConversationID, Begin: b, End: e, Num: e - b + 1})
			for s := b; s <= e; s++ {
				seqs = append(seqs, convSeq{r.ConversationID, s})
			}
			n += e - b + 1
			b = e + 1
			if n == per {
				if err := flush(); err != nil {
					return nil, err
				}
			}
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	one := func(cs convSeq) proto.Message {
		return &sdkws.PullMessageBySeqsReq{UserID: c.cfg.UserID, Order: sdkws.PullOrder_PullOrderAsc,
			SeqRanges: []*sdkws.SeqRange{{ConversationID: cs.conv, Begin: cs.seq, End: cs.seq, Num: 1}}}
	}
	return c.pullAll(ctx, "PullRange", wire.PullMsgByRange, reqs, one)
}

// PullSeqs pulls the given seqs of each conversation with 1005, in
// requests sized as PullRange's, pipelined. The result is as for
// PullRange; seqs outside the visible window are absent.
func (c *Client) PullSeqs(ctx context.Context, seqs map[string][]int64) (map[string]PullResult, error) {
	convs := make([]string, 0, len(seqs))
	for conv := range seqs {
		if conv == "" {
			return nil, errors.New("transport: PullSeqs: empty conversation ID")
		}
		convs = append(convs, conv)
	}
	slices.Sort(convs)
	per := c.seqsPerRequest()
	var reqs []pullReq
	var cur *msg.GetSeqMessageReq
	var asked []convSeq
	flush := func() error {
		if cur == nil {
			return nil
		}
		p, err := proto.Marshal(cur)
		if err != nil {
			return fmt.Errorf("transport: PullSeqs: marshal: %w", err)
		}
		reqs = append(reqs, pullReq{payload: p, seqs: asked})
		cur, asked = nil, nil
		return nil
	}
	for _, conv := range convs {
		list := seqs[conv]
		for len(list) > 0 {
			if cur == nil {
				cur = &msg.GetSeqMessageReq{UserID: c.cfg.UserID, Order: sdkws.PullOrder_PullOrderAsc}
			}
			k := min(len(list), per-len(asked))
			cur.Conversations = append(cur.Conversations, &msg.ConversationSeqs{ConversationID: conv, Seqs: slices.Clone(list[:k])})
			for _, s := range list[:k] {
				asked = append(asked, convSeq{conv, s})
			}
			list = list[k:]
			if len(asked) == per {
				if err := flush(); err != nil {
					return nil, err
				}
			}
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	one := func(cs convSeq) proto.Message {
		return &msg.GetSeqMessageReq{UserID: c.cfg.UserID, Order: sdkws.PullOrder_PullOrderAsc,
			Conversations: []*msg.ConversationSeqs{{ConversationID: cs.conv, Seqs: []int64{cs.seq}}}}
	}
	return c.pullAll(ctx, "PullSeqs", wire.PullMsgBySeqList, reqs, one)
}

// pullAll sends the pull requests, at most maxWSParallelPulls at a time,
// and merges their replies. The seqs of a request whose connection died of
// an answer over the read limit are then probed one by one (see probe);
// one whose message alone is over the limit ends up in TooLarge.
func (c *Client) pullAll(ctx context.Context, op string, ident int32, reqs []pullReq, one func(convSeq) proto.Message) (map[string]PullResult, error) {
	out := map[string]PullResult{}
	if len(reqs) == 0 {
		return out, nil
	}
	outer := ctx
	if _, ok := ctx.Deadline(); !ok {
		// One RequestTimeout per request in the worst case.
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.cfg.RequestTimeout*time.Duration((len(reqs)+maxWSParallelPulls-1)/maxWSParallelPulls))
		defer cancel()
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		data []byte
		err  error
	}
	results := make([]chan result, len(reqs))
	sem := make(chan struct{}, maxWSParallelPulls)
	for i, r := range reqs {
		results[i] = make(chan result, 1)
		go func() {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				results[i] <- result{err: fmt.Errorf("transport: %s: %w", op, ctx.Err())}
				return
			}
			defer func() { <-sem }()
			d, err := c.request(ctx, op, ident, r.payload)
			results[i] <- result{d, err}
		}()
	}
	merge := func(data []byte) error {
		return pullMaps(data, func(conv string, msgs []content.Message, isEnd bool) {
			c.observePullSizes(msgs)
			pr := out[conv]
			pr.Messages = append(pr.Messages, msgs...)
			pr.IsEnd = pr.IsEnd || isEnd
			out[conv] = pr
		})
	}
	var firstErr error
	var probes []convSeq
	for i := range reqs {
		r := <-results[i]
		if firstErr != nil {
			continue
		}
		if r.err != nil {
			if errors.Is(r.err, ErrInboundTooLarge) {
				probes = append(probes, reqs[i].seqs...)
				continue
			}
			firstErr = r.err
			cancel()
			continue
		}
		if err := merge(r.data); err != nil {
			firstErr = fmt.Errorf("transport: %s: %w", op, err)
			cancel()
		}
	}
	if firstErr != nil {
		return nil, firstErr
	}
	if len(probes) > 0 {
		c.log.Warn("a pull answer was over the read limit; probing its seqs one by one",
			"op", op, "seqs", len(probes), "limit", wire.MaxClientInbound)
	}
	for _, cs := range probes {
		payload, err := proto.Marshal(one(cs))
		if err != nil {
			return nil, fmt.Errorf("transport: %s: marshal: %w", op, err)
		}
		data, tooLarge, err := c.probe(outer, op, ident, payload)
		switch {
		case err != nil:
			return nil, err
		case tooLarge:
			c.log.Error("message over the read limit: skipped", "conversation", cs.conv, "seq", cs.seq, "limit", wire.MaxClientInbound)
			pr := out[cs.conv]
			pr.TooLarge = append(pr.TooLarge, cs.seq)
			out[cs.conv] = pr
		default:
			if err := merge(data); err != nil {
				return nil, fmt.Errorf("transport: %s: %w", op, err)
			}
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
		pr.Messages = slices.CompactFunc(pr.Messages, func(a, b content.Message) bool {
			return a.Seq == b.Seq && a.Seq != 0
		})
		out[conv] = pr
	}
	return out, nil
}

// seqsPerRequest returns how many seqs a websocket pull request asks for:
// as many messages of the estimated largest size as fit in pullBudget,
// between pullSeqsPerRequest and MaxPullPerRequest.
func (c *Client) seqsPerRequest() int {
	return int(min(max(pullBudget/max(c.pullEst.Load(), 1), pullSeqsPerRequest), MaxPullPerRequest))
}

// pullMsgOverhead is what a pulled message takes in an answer besides its
// variable-length fields: IDs, numbers, tags (generously).
const pullMsgOverhead = 512

// observePullSizes updates the estimate of the largest pulled message from
// msgs: it rises at once to a larger message and halves its distance to
// the largest of msgs otherwise.
func (c *Client) observePullSizes(msgs []content.Message) {
	var big int64
	for i := range msgs {
		m := &msgs[i]
		n := int64(len(m.Content) + len(m.Ex) + len(m.AttachedInfo) + len(m.SenderNickname) + len(m.SenderFaceURL) +
			len(m.ClientMsgID) + len(m.ServerMsgID) + len(m.SendID) + len(m.RecvID) + len(m.GroupID) + pullMsgOverhead)
		for _, id := range m.AtUserIDList {
			n += int64(len(id)) + 2
		}
		big = max(big, n)
	}
	if big == 0 {
		return
	}
	for {
		old := c.pullEst.Load()
		est := big
		if big < old {
			est = old - (old-big)/2
		}
		if est == old || c.pullEst.CompareAndSwap(old, est) {
			return
		}
	}
}

// probe sends a one-seq pull, one probe at a time for the client. When its
// connection dies of a frame over the read limit while it was the only
// request pending, the message is over the limit (tooLarge); when other
// requests were pending too, the frame may have been theirs and the probe
// is tried again, up to maxProbes times.
func (c *Client) probe(ctx context.Context, op string, ident int32, payload []byte) (data []byte, tooLarge bool, err error) {
	c.probeMu.Lock()
	defer c.probeMu.Unlock()
	for attempt := 1; ; attempt++ {
		data, err := c.request(ctx, op, ident, payload)
		switch {
		case err == nil:
			return data, false, nil
		case !errors.Is(err, ErrInboundTooLarge):
			return nil, false, err
		case isSoleLoss(err) || attempt == maxProbes:
			return nil, true, nil
		}
	}
}

// decodePush converts a 2001 PushMessages payload into messages, chat
// messages first, each with its ConversationID from the map key.
func decodePush(payload []byte) ([]content.Message, error) {
	return decodePushOwn(payload, "")
}

// decodePushOwn is decodePush that leaves Content and Elem out of the
// messages whose SendID is own (when own is not empty).
func decodePushOwn(payload []byte, own string) ([]content.Message, error) {
	var out []content.Message
	err := pullMapsOwn(payload, own, func(_ string, msgs []content.Message, _ bool) {
		if out == nil {
			out = msgs
			return
		}
		out = append(out, msgs...)
	})
	return out, err
}

// NewClientMsgID returns a fresh clientMsgID: 32 lowercase hex digits,
// like the reference SDK's md5 of unix nanos, sender and a random number.
// The first half is random and the second a bijective mix of a
// per-process counter and a random key, so no two IDs of one process are
// equal, at a tenth of the cost of an md5 sum. sendID is not needed; it is
// kept for compatibility.
func NewClientMsgID(sendID string) string {
	var raw [16]byte
	binary.BigEndian.PutUint64(raw[:8], rand.Uint64())
	binary.BigEndian.PutUint64(raw[8:], mix64(msgIDSeq.Add(1)^msgIDKey))
	var out [32]byte
	hex.Encode(out[:], raw[:])
	return string(out[:])
}

var (
	msgIDSeq atomic.Uint64
	msgIDKey = rand.Uint64()
)

// mix64 is splitmix64's finalizer, a bijection of the uint64s.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// prepareSend fills the fields of m that a 1003 send must carry (docs/protocol.md
// §7.7) and returns the MsgData payload appended to buf.
func (c *Client) prepareSend(m *content.Message, buf []byte) ([]byte, error) {
	if m.RecvID == "" && m.GroupID == "" {
		return nil, errors.New("transport: SendMsg: message has neither RecvID nor GroupID")
	}
	if m.ContentType == 0 && m.Elem != nil {
		m.ContentType = m.Elem.ContentType()
	}
	if m.SessionType == 0 {
		if m.GroupID != "" {
			m.SessionType = content.GroupChat
		} else {
			m.SessionType = content.SingleChat
		}
	}
	if len(m.Content) == 0 {
		if m.Elem == nil {
			return nil, errors.New("transport: SendMsg: message has neither Content nor Elem")
		}
		raw, err := content.Encode(m.Elem)
		if err != nil {
			return nil, fmt.Errorf("transport: SendMsg: encode %T content: %w", m.Elem, err)
		}
		m.Content = raw
	}
	if m.ContentType == content.TypeAtText && len(m.AtUserIDList) == 0 {
		// The server takes mentions from MsgData.atUserIDList, not from
		// the content JSON (docs/protocol.md §7.3).
		m.AtUserIDList = atUserIDs(m)
	}
	m.SendID = c.cfg.UserID
	m.SenderPlatformID = c.cfg.PlatformID
	m.MsgFrom = content.FromUser
	if m.CreateTime == 0 {
		m.CreateTime = time.Now().UnixMilli()
	}
	if m.ClientMsgID == "" {
		m.ClientMsgID = NewClientMsgID(c.cfg.UserID)
	}
	m.Status = content.StatusSending
	m.SendTime = 0
	m.Seq = 0
	m.ServerMsgID = ""
	m.IsRead = false
	if cap(buf) == 0 {
		// One allocation: the numeric fields, tags and options take well
		// under 256 bytes besides the variable-length ones.
		n := 256 + len(m.Content) + len(m.SendID) + len(m.RecvID) + len(m.GroupID) + len(m.ClientMsgID) +
			len(m.SenderNickname) + len(m.SenderFaceURL) + len(m.Ex) + len(m.AttachedInfo)
		for _, id := range m.AtUserIDList {
			n += len(id) + 2
		}
		buf = make([]byte, 0, n)
	}
	return appendMsgData(buf, m), nil
}

// atUserIDs returns the mentioned user IDs of a 106 message: from its
// *content.AtText element, else from its content JSON.
func atUserIDs(m *content.Message) []string {
	if a, ok := m.Elem.(*content.AtText); ok && a != nil {
		return a.UserIDs()
	}
	if e, err := content.Decode(content.TypeAtText, m.Content); err == nil {
		if a, ok := e.(*content.AtText); ok && a != nil {
			return a.UserIDs()
		}
	}
	return nil
}

// SendMsg sends m with 1003. It fills m before sending: SendID (the
// client's user), SenderPlatformID, MsgFrom 100, CreateTime (now, when
// zero), ClientMsgID (when empty), Status 1, SendTime 0, Seq 0, ServerMsgID
// and IsRead cleared (the server sets them), SessionType (1, or
// 3 with a GroupID, when zero), ContentType from Elem (when zero), Content
// from Elem (when empty, with content.Encode), AtUserIDList from the
// mentions of a 106 message (when empty), and SenderNickname/SenderFaceURL
// from the profile cache (when empty and Config.API is set; the lookup
// waits at most 2 s, and after a failed one messages go out without a
// nickname for 30 s before the next try). On success it
// sets m.ServerMsgID, m.SendTime and m.Status (2) from the reply. The seq is
// not known until the server's echo push. Frames over 51200 bytes (after
// compression, so with CompressGzip a larger but compressible message
// fits) are refused with ErrFrameTooLarge and nothing is sent.
func (c *Client) SendMsg(ctx context.Context, m *content.Message) (SendResult, error) {
	if m == nil {
		return SendResult{}, errors.New("transport: SendMsg: nil message")
	}
	if c.cfg.API != nil && m.SenderNickname == "" && m.SenderFaceURL == "" {
		if p, ok := c.profileForSend(ctx); ok {
			m.SenderNickname = p.Nickname
			m.SenderFaceURL = p.FaceURL
		}
	}
	payload, err := c.prepareSend(m, nil)
	if err != nil {
		return SendResult{}, err
	}
	// Without gzip a payload over the limit cannot fit in a frame; with
	// gzip only the compressed frame counts (checked by the encoder).
	if c.cfg.Compression != CompressGzip && len(payload) > wire.MaxServerInbound {
		return SendResult{}, fmt.Errorf("transport: SendMsg: %w: MsgData is %d bytes, limit %d", ErrFrameTooLarge, len(payload), wire.MaxServerInbound)
	}
	data, err := c.request(ctx, "SendMsg", wire.SendMsg, payload)
	if err != nil {
		return SendResult{}, err
	}
	res, err := decodeSendResp(data)
	if err != nil {
		return SendResult{}, fmt.Errorf("transport: SendMsg: decode SendMsgResp: %w", err)
	}
	if res.ClientMsgID == "" {
		res.ClientMsgID = m.ClientMsgID
	}
	m.ServerMsgID = res.ServerMsgID
	m.SendTime = res.SendTime
	m.Status = content.StatusSent
	return res, nil
}

// decodeSendResp decodes a UserSendMsgResp payload {1: serverMsgID,
// 2: clientMsgID, 3: sendTime} as proto.Unmarshal does (unknown fields and
// known fields of another wire type are skipped, strings must be valid
// UTF-8), with one allocation for both strings instead of three.
func decodeSendResp(data []byte) (SendResult, error) {
	var res SendResult
	var str string
	b := data
	for len(b) > 0 {
		num, typ, n := consumeTag(b)
		if n < 0 {
			return SendResult{}, protowire.ParseError(n)
		}
		switch {
		case (num == 1 || num == 2) && typ == protowire.BytesType:
			v, m := consumeBytes(b[n:])
			if m < 0 {
				return SendResult{}, protowire.ParseError(m)
			}
			if str == "" {
				str = string(data)
			}
			at := len(data) - len(b) + n + m - len(v)
			sv := str[at : at+len(v)]
			if !utf8.ValidString(sv) {
				return SendResult{}, fmt.Errorf("field %d: string field contains invalid UTF-8", num)
			}
			if num == 1 {
				res.ServerMsgID = sv
			} else {
				res.ClientMsgID = sv
			}
			n += m
		case num == 3 && typ == protowire.VarintType:
			v, m := consumeVarint(b[n:])
			if m < 0 {
				return SendResult{}, protowire.ParseError(m)
			}
			res.SendTime = int64(v)
			n += m
		default:
			m := protowire.ConsumeFieldValue(num, typ, b[n:])
			if m < 0 {
				return SendResult{}, protowire.ParseError(m)
			}
			n += m
		}
		b = b[n:]
	}
	return res, nil
}

// SetBackground sends 2004 with the app-background flag.
func (c *Client) SetBackground(ctx context.Context, background bool) error {
	_, err := c.call(ctx, "SetBackground", wire.SetBackgroundStatus,
		&sdkws.SetAppBackgroundStatusReq{UserID: c.cfg.UserID, IsBackground: background})
	return err
}

// Logout sends 2003 (DelUserPushTokenReq), waits for the reply and stops
// the client: the connection is closed, Run returns nil, and later calls
// fail with ErrClosed. The token stays valid.
func (c *Client) Logout(ctx context.Context) error {
	c.mu.Lock()
	c.loggedOut = true
	c.mu.Unlock()
	_, err := c.call(ctx, "Logout", wire.LogoutMsg,
		&push.DelUserPushTokenReq{UserID: c.cfg.UserID, PlatformID: c.cfg.PlatformID})
	c.stop(ErrClosed)
	c.mu.Lock()
	cn := c.cur
	c.mu.Unlock()
	if cn != nil {
		cn.die(ErrClosed)
	}
	if err != nil && errors.Is(err, ErrConnectionLost) {
		// The server closes the connection right after its reply; losing
		// the race against that close is not a failure.
		return nil
	}
	if err != nil && errors.Is(err, ErrClosed) {
		c.mu.Lock()
		byClose := c.stopErr == ErrClosed
		c.mu.Unlock()
		if byClose {
			// The connection died before the 2003 went out and the
			// supervisor stopped for the logout (or Close ran): the
			// client is stopped, which is what Logout is for.
			return nil
		}
	}
	return err
}
