package content

import (
	"encoding/json"
	"strconv"
)

// Element is the decoded content of a message. The set of implementations is
// closed: one struct per content kind in this package (Text, Picture, Sound,
// Video, File, AtText, Merge, Card, Location, Custom, Typing, Quote, Face,
// AdvancedText, Markdown, Notification, Unknown). Use a type switch to tell
// them apart.
//
// Elements are plain values with no internal synchronisation: safe to read
// from many goroutines, not to write while others read.
type Element interface {
	// ContentType is the content type the element is sent as.
	ContentType() ContentType
	isElement()
}

// Text is a plain text message (101): {"content":"hello"}.
type Text struct {
	Content string `json:"content"`
}

// PictureInfo describes one size of a picture: the sourcePicture,
// bigPicture and snapshotPicture objects of a picture element.
type PictureInfo struct {
	UUID   string `json:"uuid,omitempty"`
	Type   string `json:"type,omitempty"` // image format, e.g. "png"
	Size   int64  `json:"size"`           // bytes
	Width  int32  `json:"width"`
	Height int32  `json:"height"`
	URL    string `json:"url,omitempty"`
}

// Picture is an image message (102). Official clients show SnapshotPicture
// in the chat and open BigPicture or SourcePicture.
type Picture struct {
	SourcePath      string      `json:"sourcePath,omitempty"` // sender's local path; informational
	SourcePicture   PictureInfo `json:"sourcePicture,omitzero"`
	BigPicture      PictureInfo `json:"bigPicture,omitzero"`
	SnapshotPicture PictureInfo `json:"snapshotPicture,omitzero"`
}

// Sound is a voice message (103). Duration is in seconds, DataSize in bytes.
type Sound struct {
	UUID      string `json:"uuid,omitempty"`
	SoundPath string `json:"soundPath,omitempty"`
	SourceURL string `json:"sourceUrl,omitempty"`
	DataSize  int64  `json:"dataSize"`
	Duration  int64  `json:"duration"`
	SoundType string `json:"soundType,omitempty"`
}

// Video is a video message (104) with its snapshot (poster) image. Duration
// is in seconds, sizes in bytes.
type Video struct {
	VideoPath      string `json:"videoPath,omitempty"`
	VideoUUID      string `json:"videoUUID,omitempty"`
	VideoURL       string `json:"videoUrl,omitempty"`
	VideoType      string `json:"videoType,omitempty"`
	VideoSize      int64  `json:"videoSize"`
	Duration       int64  `json:"duration"`
	SnapshotPath   string `json:"snapshotPath,omitempty"`
	SnapshotUUID   string `json:"snapshotUUID,omitempty"`
	SnapshotSize   int64  `json:"snapshotSize"`
	SnapshotURL    string `json:"snapshotUrl,omitempty"`
	SnapshotWidth  int32  `json:"snapshotWidth"`
	SnapshotHeight int32  `json:"snapshotHeight"`
	SnapshotType   string `json:"snapshotType,omitempty"`
}

// File is a file message (105). FileSize is in bytes.
type File struct {
	FilePath  string `json:"filePath,omitempty"`
	UUID      string `json:"uuid,omitempty"`
	SourceURL string `json:"sourceUrl,omitempty"`
	FileName  string `json:"fileName,omitempty"`
	FileSize  int64  `json:"fileSize"`
	FileType  string `json:"fileType,omitempty"`
}

// MessageEntity marks a span of text (advanced text, quote, merge): a link,
// a mention and so on. Offset and Length count UTF-16 code units as the
// official clients do.
type MessageEntity struct {
	Type   string `json:"type,omitempty"`
	Offset int32  `json:"offset"`
	Length int32  `json:"length"`
	URL    string `json:"url,omitempty"`
	Ex     string `json:"ex,omitempty"`
}

// Merge is a forwarded bundle of messages (107), shown as a card with Title
// and AbstractList; MultiMessage holds the messages themselves.
type Merge struct {
	Title             string           `json:"title,omitempty"`
	AbstractList      []string         `json:"abstractList,omitempty"`
	MultiMessage      []*QuotedMessage `json:"multiMessage,omitempty"`
	MessageEntityList []MessageEntity  `json:"messageEntityList,omitempty"`
}

// Card is a contact card (108).
type Card struct {
	UserID   string `json:"userID"`
	Nickname string `json:"nickname"`
	FaceURL  string `json:"faceURL"`
	Ex       string `json:"ex"`
}

// Location is a map location (109) in degrees.
type Location struct {
	Description string  `json:"description,omitempty"`
	Longitude   float64 `json:"longitude"`
	Latitude    float64 `json:"latitude"`
}

// Custom is an application-defined message: 110 Custom, 119
// CustomNotTriggerConversation or 120 CustomOnlineOnly, as Type says (zero
// means 110). All three fields are strings; Data usually holds JSON text.
type Custom struct {
	Type        ContentType `json:"-"`
	Data        string      `json:"data,omitempty"`
	Description string      `json:"description,omitempty"`
	Extension   string      `json:"extension,omitempty"`
}

// Typing is the "is typing" signal (113). The server delivers it online
// only, with seq 0.
type Typing struct {
	MsgTips string `json:"msgTips,omitempty"`
}

// Quote is a reply that quotes an earlier message (114). Text is the reply.
type Quote struct {
	Text              string          `json:"text,omitempty"`
	QuoteMessage      *QuotedMessage  `json:"quoteMessage,omitempty"`
	MessageEntityList []MessageEntity `json:"messageEntityList,omitempty"`
}

// AtInfo names one mentioned user: the nickname official clients show in
// place of "@userID" in the text.
type AtInfo struct {
	AtUserID      string `json:"atUserID,omitempty"`
	GroupNickname string `json:"groupNickname,omitempty"`
}

// AtText is a group message that mentions users (106). AtUserList holds the
// mentioned user IDs (AtAllTag for everyone); the same IDs must go in
// Message.AtUserIDList, which is what the server reads (NewMessage does it).
// QuoteMessage is set when the mention is also a reply.
type AtText struct {
	Text         string         `json:"text,omitempty"`
	AtUserList   []string       `json:"atUserList,omitempty"`
	AtUsersInfo  []AtInfo       `json:"atUsersInfo,omitempty"`
	QuoteMessage *QuotedMessage `json:"quoteMessage,omitempty"`
	IsAtSelf     bool           `json:"isAtSelf"`
}

// Face is a sticker or emoji message (115): Index into the client's built-in
// set, or Data describing a custom one (often JSON with a URL).
type Face struct {
	Index int    `json:"index"`
	Data  string `json:"data,omitempty"`
}

// AdvancedText is text with entities (117): links, mentions, styles.
type AdvancedText struct {
	Text              string          `json:"text,omitempty"`
	MessageEntityList []MessageEntity `json:"messageEntityList,omitempty"`
}

// Markdown is a Markdown text message (118).
type Markdown struct {
	Content string `json:"content"`
}

// Notification is a system notification (content types 1000–5000): Detail
// is the JSON text of the tips object, kept undecoded; DecodeDetail decodes
// it into a caller's value on demand.
type Notification struct {
	Type   ContentType `json:"-"`
	Detail string      `json:"detail,omitempty"`
}

// DecodeDetail decodes the Detail JSON into v (a pointer), tolerating
// unknown keys and key case. The error is a *DecodeError.
func (n *Notification) DecodeDetail(v any) error {
	if err := json.Unmarshal([]byte(n.Detail), v); err != nil {
		return &DecodeError{Type: n.Type, Field: "detail", Err: err}
	}
	return nil
}

// Unknown keeps the raw content of a message whose content type is not known
// or whose content did not decode. Raw is a private copy of the content.
type Unknown struct {
	Type ContentType
	Raw  []byte
	// Err is why Raw did not decode (a *DecodeError) when Type is a kind
	// this package knows; nil for a content type it does not know.
	Err error
}

func (*Text) ContentType() ContentType         { return TypeText }
func (*Picture) ContentType() ContentType      { return TypePicture }
func (*Sound) ContentType() ContentType        { return TypeSound }
func (*Video) ContentType() ContentType        { return TypeVideo }
func (*File) ContentType() ContentType         { return TypeFile }
func (*AtText) ContentType() ContentType       { return TypeAtText }
func (*Merge) ContentType() ContentType        { return TypeMerge }
func (*Card) ContentType() ContentType         { return TypeCard }
func (*Location) ContentType() ContentType     { return TypeLocation }
func (*Typing) ContentType() ContentType       { return TypeTyping }
func (*Quote) ContentType() ContentType        { return TypeQuote }
func (*Face) ContentType() ContentType         { return TypeFace }
func (*AdvancedText) ContentType() ContentType { return TypeAdvancedText }
func (*Markdown) ContentType() ContentType     { return TypeMarkdown }

// ContentType returns Type (0 for a nil *Notification).
func (n *Notification) ContentType() ContentType {
	if n == nil {
		return 0
	}
	return n.Type
}

// ContentType returns Type (0 for a nil *Unknown).
func (u *Unknown) ContentType() ContentType {
	if u == nil {
		return 0
	}
	return u.Type
}

// ContentType returns Type, or TypeCustom when Type is zero or c is nil.
func (c *Custom) ContentType() ContentType {
	if c == nil || c.Type == 0 {
		return TypeCustom
	}
	return c.Type
}

func (*Text) isElement()         {}
func (*Picture) isElement()      {}
func (*Sound) isElement()        {}
func (*Video) isElement()        {}
func (*File) isElement()         {}
func (*AtText) isElement()       {}
func (*Merge) isElement()        {}
func (*Card) isElement()         {}
func (*Location) isElement()     {}
func (*Custom) isElement()       {}
func (*Typing) isElement()       {}
func (*Quote) isElement()        {}
func (*Face) isElement()         {}
func (*AdvancedText) isElement() {}
func (*Markdown) isElement()     {}
func (*Notification) isElement() {}
func (*Unknown) isElement()      {}

// DecodeError reports content JSON that did not decode. Field names the part
// that failed ("" for the content itself, "detail" for a notification's
// detail).
type DecodeError struct {
	Type  ContentType
	Field string
	Err   error
}

func (e *DecodeError) Error() string {
	what := strconv.Itoa(int(e.Type))
	if name := e.Type.name(); name != "" {
		what = name + " (" + what + ")"
	}
	if e.Field != "" {
		what += " " + e.Field
	}
	return "content: decode " + what + ": " + e.Err.Error()
}

func (e *DecodeError) Unwrap() error { return e.Err }
