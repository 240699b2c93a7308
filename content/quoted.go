package content

// QuotedMessage is a message in the official SDK's client JSON form
// (MsgStruct, docs/protocol.md section 7.3): the quoteMessage of Quote and AtText and
// the multiMessage entries of Merge. Exactly one of the element fields is
// normally set, matching ContentType; Elem returns it.
//
// The server reads Seq and ContentType of a quoteMessage to rewrite quotes of
// revoked messages, so keep them when building one by hand. NewQuotedMessage
// builds one from a received Message.
type QuotedMessage struct {
	ClientMsgID      string      `json:"clientMsgID,omitempty"`
	ServerMsgID      string      `json:"serverMsgID,omitempty"`
	CreateTime       int64       `json:"createTime"`
	SendTime         int64       `json:"sendTime"`
	SessionType      SessionType `json:"sessionType"`
	SendID           string      `json:"sendID,omitempty"`
	RecvID           string      `json:"recvID,omitempty"`
	MsgFrom          MsgFrom     `json:"msgFrom"`
	ContentType      ContentType `json:"contentType"`
	SenderPlatformID int32       `json:"senderPlatformID"`
	SenderNickname   string      `json:"senderNickname,omitempty"`
	SenderFaceURL    string      `json:"senderFaceUrl,omitempty"`
	GroupID          string      `json:"groupID,omitempty"`
	Content          string      `json:"content,omitempty"` // raw content JSON; some clients fill it
	Seq              int64       `json:"seq"`
	IsRead           bool        `json:"isRead"`
	Status           Status      `json:"status"`
	AttachedInfo     string      `json:"attachedInfo,omitempty"`
	Ex               string      `json:"ex,omitempty"`

	TextElem         *Text         `json:"textElem,omitempty"`
	CardElem         *Card         `json:"cardElem,omitempty"`
	PictureElem      *Picture      `json:"pictureElem,omitempty"`
	SoundElem        *Sound        `json:"soundElem,omitempty"`
	VideoElem        *Video        `json:"videoElem,omitempty"`
	FileElem         *File         `json:"fileElem,omitempty"`
	MergeElem        *Merge        `json:"mergeElem,omitempty"`
	AtTextElem       *AtText       `json:"atTextElem,omitempty"`
	FaceElem         *Face         `json:"faceElem,omitempty"`
	LocationElem     *Location     `json:"locationElem,omitempty"`
	CustomElem       *Custom       `json:"customElem,omitempty"`
	QuoteElem        *Quote        `json:"quoteElem,omitempty"`
	NotificationElem *Notification `json:"notificationElem,omitempty"`
	AdvancedTextElem *AdvancedText `json:"advancedTextElem,omitempty"`
	TypingElem       *Typing       `json:"typingElem,omitempty"`
	MarkdownTextElem *Markdown     `json:"markdownTextElem,omitempty"`
}

// NewQuotedMessage returns m in the SDK's client JSON form, ready to be the
// quoteMessage of a Quote or AtText. The element comes from m.Elem (or is
// decoded from m.Content when Elem is nil). To keep replies small, a quoted
// Quote or AtText loses its own quoteMessage, as official clients show only
// one level. It returns nil for a nil m.
func NewQuotedMessage(m *Message) *QuotedMessage {
	if m == nil {
		return nil
	}
	q := &QuotedMessage{
		ClientMsgID:      m.ClientMsgID,
		ServerMsgID:      m.ServerMsgID,
		CreateTime:       m.CreateTime,
		SendTime:         m.SendTime,
		SessionType:      m.SessionType,
		SendID:           m.SendID,
		RecvID:           m.RecvID,
		MsgFrom:          m.MsgFrom,
		ContentType:      m.ContentType,
		SenderPlatformID: m.SenderPlatformID,
		SenderNickname:   m.SenderNickname,
		SenderFaceURL:    m.SenderFaceURL,
		GroupID:          m.GroupID,
		Seq:              m.Seq,
		IsRead:           m.IsRead,
		Status:           m.Status,
		AttachedInfo:     m.AttachedInfo,
		Ex:               m.Ex,
	}
	e := m.Elem
	if e == nil {
		e, _ = Decode(m.ContentType, m.Content)
	}
	if q.ContentType == 0 {
		q.ContentType = e.ContentType()
	}
	q.setElem(e)
	return q
}

func (q *QuotedMessage) setElem(e Element) {
	switch v := e.(type) {
	case *Text:
		q.TextElem = v
	case *Card:
		q.CardElem = v
	case *Picture:
		q.PictureElem = v
	case *Sound:
		q.SoundElem = v
	case *Video:
		q.VideoElem = v
	case *File:
		q.FileElem = v
	case *Merge:
		q.MergeElem = v
	case *AtText:
		c := *v
		c.QuoteMessage = nil
		q.AtTextElem = &c
	case *Face:
		q.FaceElem = v
	case *Location:
		q.LocationElem = v
	case *Custom:
		q.CustomElem = v
	case *Quote:
		c := *v
		c.QuoteMessage = nil
		q.QuoteElem = &c
	case *Notification:
		q.NotificationElem = v
	case *AdvancedText:
		q.AdvancedTextElem = v
	case *Typing:
		q.TypingElem = v
	case *Markdown:
		q.MarkdownTextElem = v
	case *Unknown:
		q.Content = string(v.Raw)
	}
}

// Elem returns the element of the quoted message: the element object that
// matches ContentType, else the first one present, else Content decoded as
// ContentType. It never returns nil; a message with none of them gives an
// *Unknown.
func (q *QuotedMessage) Elem() Element {
	if q == nil {
		return &Unknown{}
	}
	var byType Element
	switch q.ContentType {
	case TypeText:
		byType = elemOrNil(q.TextElem)
	case TypeCard:
		byType = elemOrNil(q.CardElem)
	case TypePicture:
		byType = elemOrNil(q.PictureElem)
	case TypeSound:
		byType = elemOrNil(q.SoundElem)
	case TypeVideo:
		byType = elemOrNil(q.VideoElem)
	case TypeFile:
		byType = elemOrNil(q.FileElem)
	case TypeMerge:
		byType = elemOrNil(q.MergeElem)
	case TypeAtText:
		byType = elemOrNil(q.AtTextElem)
	case TypeFace:
		byType = elemOrNil(q.FaceElem)
	case TypeLocation:
		byType = elemOrNil(q.LocationElem)
	case TypeCustom, TypeCustomNotTriggerConversation, TypeCustomOnlineOnly:
		if q.CustomElem != nil {
			c := *q.CustomElem
			c.Type = q.ContentType
			byType = &c
		}
	case TypeQuote:
		byType = elemOrNil(q.QuoteElem)
	case TypeAdvancedText:
		byType = elemOrNil(q.AdvancedTextElem)
	case TypeTyping:
		byType = elemOrNil(q.TypingElem)
	case TypeMarkdown:
		byType = elemOrNil(q.MarkdownTextElem)
	default:
		if q.ContentType.IsNotification() && q.NotificationElem != nil {
			c := *q.NotificationElem
			c.Type = q.ContentType
			byType = &c
		}
	}
	if byType != nil {
		return byType
	}
	if q.Content != "" {
		e, _ := Decode(q.ContentType, []byte(q.Content))
		return e
	}
	for _, e := range []Element{
		elemOrNil(q.TextElem), elemOrNil(q.PictureElem), elemOrNil(q.SoundElem),
		elemOrNil(q.VideoElem), elemOrNil(q.FileElem), elemOrNil(q.AtTextElem),
		elemOrNil(q.MergeElem), elemOrNil(q.CardElem), elemOrNil(q.LocationElem),
		elemOrNil(q.CustomElem), elemOrNil(q.TypingElem), elemOrNil(q.QuoteElem),
		elemOrNil(q.FaceElem), elemOrNil(q.AdvancedTextElem), elemOrNil(q.MarkdownTextElem),
		elemOrNil(q.NotificationElem),
	} {
		if e != nil {
			return e
		}
	}
	return &Unknown{Type: q.ContentType}
}

// elemOrNil turns a typed nil pointer into a nil Element.
func elemOrNil[T any, P interface {
	*T
	Element
}](p P) Element {
	if p == nil {
		return nil
	}
	return p
}

// Message converts q back to a Message: the same IDs, times and enums, Elem
// from q.Elem and Content encoded from it (or q.Content when set).
// ConversationID is computed with ConversationIDOf.
func (q *QuotedMessage) Message() *Message {
	if q == nil {
		return nil
	}
	m := &Message{
		SendID:           q.SendID,
		RecvID:           q.RecvID,
		GroupID:          q.GroupID,
		ClientMsgID:      q.ClientMsgID,
		ServerMsgID:      q.ServerMsgID,
		SenderPlatformID: q.SenderPlatformID,
		SenderNickname:   q.SenderNickname,
		SenderFaceURL:    q.SenderFaceURL,
		SessionType:      q.SessionType,
		MsgFrom:          q.MsgFrom,
		ContentType:      q.ContentType,
		Seq:              q.Seq,
		SendTime:         q.SendTime,
		CreateTime:       q.CreateTime,
		Status:           q.Status,
		IsRead:           q.IsRead,
		AttachedInfo:     q.AttachedInfo,
		Ex:               q.Ex,
	}
	m.Elem = q.Elem()
	if q.Content != "" {
		m.Content = []byte(q.Content)
	} else if b, err := Encode(m.Elem); err == nil {
		m.Content = b
	}
	if m.ContentType == 0 {
		m.ContentType = m.Elem.ContentType()
	}
	m.ConversationID = ConversationIDOf(m)
	return m
}
