package cluster

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/openimbot/openimbot/bot"
	"github.com/openimbot/openimbot/content"
	"github.com/openimbot/openimbot/transport"
)

// encodeMsg is the JSON of m without its decoded element (the raw content
// travels; the receiver decodes it again).
func encodeMsg(m *content.Message) ([]byte, error) {
	c := *m
	c.Elem = nil
	return json.Marshal(&c)
}

func decodeMsg(data []byte) (*content.Message, error) {
	var m content.Message
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("cluster: undecodable message: %w", err)
	}
	if m.ConversationID == "" {
		return nil, errors.New("cluster: message without a conversation ID")
	}
	_ = m.DecodeContent() // an undecodable content becomes *content.Unknown, as in one process
	return &m, nil
}

// msgID is the JetStream message ID of m: a re-publish of the same message
// (after an ingress crash or takeover) is dropped by the stream.
func msgID(m *content.Message) string {
	if m.Seq > 0 {
		return m.ConversationID + "#" + strconv.FormatInt(m.Seq, 10)
	}
	return "c#" + m.ClientMsgID
}

// sendRequest is what a worker asks the ingress to send.
type sendRequest struct {
	Msg     *content.Message `json:"msg"`
	Trigger *content.Message `json:"trigger,omitempty"` // the message the send answers (loop guard)
}

// sendReply is the ingress's answer.
type sendReply struct {
	Result transport.SendResult `json:"result"`
	Err    string               `json:"err,omitempty"`
	Kind   string               `json:"kind,omitempty"` // "rate", "loop", "target", "conn"
	Limit  int                  `json:"limit,omitempty"`
}

func replyOf(res transport.SendResult, err error) sendReply {
	r := sendReply{Result: res}
	if err == nil {
		return r
	}
	r.Err = err.Error()
	var rl *bot.RateLimitError
	var lg *bot.LoopGuardError
	switch {
	case errors.As(err, &rl):
		r.Kind = "rate"
	case errors.As(err, &lg):
		r.Kind, r.Limit = "loop", lg.Limit
	case errors.Is(err, bot.ErrInvalidTarget):
		r.Kind = "target"
	case errors.Is(err, bot.ErrNotConnected):
		r.Kind = "conn"
	}
	return r
}

// remoteError is a send error reported by the ingress.
type remoteError struct {
	msg  string
	kind error
}

func (e *remoteError) Error() string { return "cluster: ingress: " + e.msg }
func (e *remoteError) Unwrap() error { return e.kind }

// errorOf turns a reply back into an error that matches what the bot's own
// send would have returned.
func (r sendReply) errorOf(conv string) error {
	if r.Err == "" {
		return nil
	}
	switch r.Kind {
	case "rate":
		return &bot.RateLimitError{ConversationID: conv}
	case "loop":
		return &bot.LoopGuardError{ConversationID: conv, Limit: r.Limit}
	case "target":
		return &remoteError{r.Err, bot.ErrInvalidTarget}
	case "conn":
		return &remoteError{r.Err, bot.ErrNotConnected}
	}
	return &remoteError{msg: r.Err}
}
