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

// Message is one OpenIM message (MsgData, WIRE.md section 6) with its decoded
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
