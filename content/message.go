package content

// OfflinePushInfo is MsgData.offlinePushInfo.
type OfflinePushInfo struct {
	Title         string
	Desc          string
	Ex            string
	IOSPushSound  string
	IOSBadgeCount bool
	SignalInfo    string
}

// AtAllTag in an at-user list mentions everyone in the group.
const AtAllTag = "AtAllTag"

// Message is one OpenIM message (MsgData, docs/protocol.md section 6) with its decoded
// element. A Message is a plain value: it is safe to read from many
// goroutines as long as nobody writes it.
type Message struct {
	ConversationID   string // from the push or pull map key, or built by ConversationIDOf
	SendID           string
	RecvID           string // single and notification chats
	GroupID          string // group chats
	ClientMsgID      string
	ServerMsgID      string
	SenderPlatformID int32
	SenderNickname   string
	SenderFaceURL    string
	SessionType      SessionType
	MsgFrom          MsgFrom
	ContentType      ContentType
	Content          []byte // the raw content JSON as received
	Seq              int64  // 0 for messages that are not stored (online only)
	SendTime         int64  // ms since the epoch, set by the server
	CreateTime       int64  // ms since the epoch, set by the sending client
	Status           Status
	IsRead           bool
	Options          map[string]bool // absent keys count as true
	OfflinePushInfo  *OfflinePushInfo
	AtUserIDList     []string
	AttachedInfo     string
	Ex               string

	// Elem is the decoded content. It is never nil for a message built by
	// this module: content that does not decode becomes an *Unknown.
	Elem Element
}

// Text returns the plain text that routers match on: the content of text and
// Markdown messages, the text of at-text, advanced-text and quote messages
// (for a quote, the reply, not the quoted message); "" for every other kind
// and when Elem is nil.
func (m *Message) Text() string {
	switch e := m.Elem.(type) {
	case *Text:
		return e.Content
	case *AtText:
		return e.Text
	case *Quote:
		return e.Text
	case *Markdown:
		return e.Content
	case *AdvancedText:
		return e.Text
	}
	return ""
}

// Mentions reports whether m mentions userID: its AtUserIDList (or, when
// that is empty, the at-text element's atUserList) contains userID or
// AtAllTag. An empty userID is never mentioned.
func (m *Message) Mentions(userID string) bool {
	if userID == "" {
		return false
	}
	ids := m.AtUserIDList
	if len(ids) == 0 {
		if a, ok := m.Elem.(*AtText); ok {
			ids = a.AtUserList
		}
	}
	for _, id := range ids {
		if id == userID || id == AtAllTag {
			return true
		}
	}
	return false
}

// MentionsAll reports whether m mentions everyone (AtAllTag).
func (m *Message) MentionsAll() bool {
	ids := m.AtUserIDList
	if len(ids) == 0 {
		if a, ok := m.Elem.(*AtText); ok {
			ids = a.AtUserList
		}
	}
	for _, id := range ids {
		if id == AtAllTag {
			return true
		}
	}
	return false
}

// Quoted returns the message m quotes (a Quote, or an AtText that is also a
// reply), converted to a Message, or nil.
func (m *Message) Quoted() *Message {
	switch e := m.Elem.(type) {
	case *Quote:
		return e.QuoteMessage.Message()
	case *AtText:
		return e.QuoteMessage.Message()
	}
	return nil
}
