package transport

import (
	"context"
	"errors"
)

// RevokeMsg calls /msg/revoke_msg: userID revokes the message with seq in
// conversationID. The sender may revoke its own message; in a group the
// owner any message and an admin those of ordinary members (1002
// otherwise). The stored message becomes a 2101 revoke notification and
// that notification goes to the conversation. An unknown seq fails with
// 1004, a second revoke with 1404. A user token may act only as its own
// user.
func (a *API) RevokeMsg(ctx context.Context, token, userID, conversationID string, seq int64) error {
	body := map[string]any{"conversationID": conversationID, "seq": seq, "userID": userID}
	return a.post(ctx, "/msg/revoke_msg", token, body, nil)
}

// MarkConversationAsRead calls /msg/mark_conversation_as_read: userID's
// has-read seq of conversationID rises to hasReadSeq (capped at the
// conversation's newest seq). A user token may act only as its own user
// (1002).
func (a *API) MarkConversationAsRead(ctx context.Context, token, userID, conversationID string, hasReadSeq int64) error {
	if conversationID == "" {
		return errors.New("transport: API /msg/mark_conversation_as_read: empty conversation ID")
	}
	body := map[string]any{"conversationID": conversationID, "userID": userID, "hasReadSeq": hasReadSeq, "seqs": []int64{}}
	return a.post(ctx, "/msg/mark_conversation_as_read", token, body, nil)
}

// ConversationSeqs are the newest seq of a conversation and a user's
// has-read seq in it.
type ConversationSeqs struct {
	MaxSeq     int64 `json:"maxSeq"`
	HasReadSeq int64 `json:"hasReadSeq"`
	MaxSeqTime int64 `json:"maxSeqTime"` // send time of the newest message, ms
}

// GetConversationsHasReadAndMaxSeq calls
// /msg/get_conversations_has_read_and_max_seq: for each conversation of
// userID (all of them when conversationIDs is empty) its newest seq and
// userID's has-read seq. A user token may ask only for its own user.
func (a *API) GetConversationsHasReadAndMaxSeq(ctx context.Context, token, userID string, conversationIDs ...string) (map[string]ConversationSeqs, error) {
	var out struct {
		Seqs map[string]ConversationSeqs `json:"seqs"`
	}
	body := map[string]any{"userID": userID, "conversationIDs": nonNil(conversationIDs)}
	if err := a.post(ctx, "/msg/get_conversations_has_read_and_max_seq", token, body, &out); err != nil {
		return nil, err
	}
	if out.Seqs == nil {
		out.Seqs = map[string]ConversationSeqs{}
	}
	return out.Seqs, nil
}

// Conversation is a user's record of a conversation
// (conversation.Conversation; the fields a bot uses).
type Conversation struct {
	OwnerUserID      string `json:"ownerUserID"`
	ConversationID   string `json:"conversationID"`
	ConversationType int32  `json:"conversationType"` // a content.SessionType value
	UserID           string `json:"userID"`           // the peer of a single chat
	GroupID          string `json:"groupID"`
	RecvMsgOpt       int32  `json:"recvMsgOpt"`
	IsPinned         bool   `json:"isPinned"`
	Ex               string `json:"ex"`
}

// GetOwnerConversation calls /conversation/get_owner_conversation: one
// page of userID's conversations and their total. A user token may ask
// only for its own user (1002).
func (a *API) GetOwnerConversation(ctx context.Context, token, userID string, page Page) ([]Conversation, int, error) {
	var out struct {
		Total         int            `json:"total"`
		Conversations []Conversation `json:"conversations"`
	}
	body := map[string]any{"userID": userID, "pagination": page.body()}
	if err := a.post(ctx, "/conversation/get_owner_conversation", token, body, &out); err != nil {
		return nil, 0, err
	}
	return out.Conversations, out.Total, nil
}
