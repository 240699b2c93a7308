package content

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Conversation ID prefixes (docs/protocol.md section 7.1).
const (
	prefixSingle       = "si_"
	prefixGroup        = "sg_"
	prefixWriteGroup   = "g_"
	prefixNotification = "sn_"
	prefixStream       = "n_"
)

// SingleConversationID returns the ID of the single chat between users a
// and b: "si_" and the two IDs sorted byte-wise, joined with "_". It is the
// same whichever of a and b is the sender; a == b is the self chat.
func SingleConversationID(a, b string) string { return prefixSingle + sortedPair(a, b) }

// GroupConversationID returns the ID of a group chat: "sg_" + groupID.
func GroupConversationID(groupID string) string { return prefixGroup + groupID }

// NotificationConversationID returns the ID of a notification chat (session
// type 4, OA notifications) between a and b: "sn_" and the sorted IDs.
func NotificationConversationID(a, b string) string { return prefixNotification + sortedPair(a, b) }

// NotificationStreamID returns the notification stream ("n_" form) of a
// conversation: the prefix before the first "_" is replaced by "n", so
// "si_a_b" and "sn_a_b" give "n_a_b", "sg_g1" gives "n_g1", and an "n_" ID is
// returned unchanged. An ID without "_" is taken as the part after the
// prefix: "x" gives "n_x".
func NotificationStreamID(conversationID string) string {
	_, rest, ok := strings.Cut(conversationID, "_")
	if !ok {
		rest = conversationID
	}
	return prefixStream + rest
}

func sortedPair(a, b string) string {
	if b < a {
		a, b = b, a
	}
	return a + "_" + b
}

// ConversationIDOf returns the conversation ID the server files m under,
// computed from its session type, IDs and options: si_/sg_/g_/sn_ for chat
// messages, and the n_ form when the option "isNotNotification" is
// explicitly false (server notifications). It returns "" for a session type
// it does not know. It ignores m.ConversationID.
func ConversationIDOf(m *Message) string {
	var id string
	switch m.SessionType {
	case SingleChat:
		id = SingleConversationID(m.SendID, m.RecvID)
	case ReadGroupChat:
		id = GroupConversationID(m.GroupID)
	case WriteGroupChat:
		id = prefixWriteGroup + m.GroupID
	case NotificationChat:
		id = NotificationConversationID(m.SendID, m.RecvID)
	default:
		return ""
	}
	if v, ok := m.Options["isNotNotification"]; ok && !v {
		return NotificationStreamID(id)
	}
	return id
}

// ConversationKind is the kind of a conversation ID.
type ConversationKind int

// Conversation kinds, one per ID prefix.
const (
	KindUnknown            ConversationKind = iota
	KindSingle                              // si_<a>_<b>
	KindGroup                               // sg_<group>
	KindWriteGroup                          // g_<group> (legacy)
	KindNotificationChat                    // sn_<a>_<b>
	KindNotificationStream                  // n_<a>_<b> or n_<group>
)

// String returns "single", "group", "write-group", "notification-chat",
// "notification-stream" or "unknown".
func (k ConversationKind) String() string {
	switch k {
	case KindSingle:
		return "single"
	case KindGroup:
		return "group"
	case KindWriteGroup:
		return "write-group"
	case KindNotificationChat:
		return "notification-chat"
	case KindNotificationStream:
		return "notification-stream"
	case KindUnknown:
		return "unknown"
	}
	return "ConversationKind(" + strconv.Itoa(int(k)) + ")"
}

// SessionType returns the session type of messages in a conversation of
// kind k, or 0 for a notification stream or an unknown kind.
func (k ConversationKind) SessionType() SessionType {
	switch k {
	case KindSingle:
		return SingleChat
	case KindGroup:
		return ReadGroupChat
	case KindWriteGroup:
		return WriteGroupChat
	case KindNotificationChat:
		return NotificationChat
	}
	return 0
}

// ConversationRef is a parsed conversation ID.
//
// OpenIM does not escape "_" in IDs, so the split is ambiguous when user IDs
// contain "_": ParseConversationID splits pairs at the first "_". For an n_
// ID, one part means a group stream (GroupID) and two or more a user pair
// (UserA, UserB), which misreads a group ID containing "_".
type ConversationRef struct {
	Kind    ConversationKind
	UserA   string // single, notification chat, n_ pair: the smaller ID
	UserB   string // the larger ID
	GroupID string // group, write group, n_ of a group
}

// Peer returns the user of a pair conversation that is not self, or "" if
// self is in neither place. For a self chat it returns self.
func (r ConversationRef) Peer(self string) string {
	switch self {
	case r.UserA:
		return r.UserB
	case r.UserB:
		return r.UserA
	}
	return ""
}

// ErrBadConversationID is returned (wrapped, with the ID) by
// ParseConversationID for an ID with an unknown prefix or missing parts.
var ErrBadConversationID = errors.New("content: bad conversation ID")

// ParseConversationID splits a conversation ID into its kind and IDs. See
// ConversationRef for how ambiguous IDs are read. Errors wrap
// ErrBadConversationID.
func ParseConversationID(id string) (ConversationRef, error) {
	prefix, rest, ok := strings.Cut(id, "_")
	if !ok || rest == "" {
		return ConversationRef{}, fmt.Errorf("%w %q: no prefix or no ID", ErrBadConversationID, id)
	}
	pair := func(k ConversationKind) (ConversationRef, error) {
		a, b, ok := strings.Cut(rest, "_")
		if !ok || a == "" || b == "" {
			return ConversationRef{}, fmt.Errorf("%w %q: want two user IDs", ErrBadConversationID, id)
		}
		return ConversationRef{Kind: k, UserA: a, UserB: b}, nil
	}
	switch prefix + "_" {
	case prefixSingle:
		return pair(KindSingle)
	case prefixNotification:
		return pair(KindNotificationChat)
	case prefixGroup:
		return ConversationRef{Kind: KindGroup, GroupID: rest}, nil
	case prefixWriteGroup:
		return ConversationRef{Kind: KindWriteGroup, GroupID: rest}, nil
	case prefixStream:
		if a, b, ok := strings.Cut(rest, "_"); ok && a != "" && b != "" {
			return ConversationRef{Kind: KindNotificationStream, UserA: a, UserB: b}, nil
		}
		return ConversationRef{Kind: KindNotificationStream, GroupID: rest}, nil
	}
	return ConversationRef{}, fmt.Errorf("%w %q: unknown prefix %q", ErrBadConversationID, id, prefix+"_")
}
