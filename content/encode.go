package content

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"path"
	"strings"
)

// ErrInvalidElement is returned (wrapped) by Encode and NewMessage for an
// element that cannot be sent as it is: nil, an Unknown with no bytes, a
// Quote with nothing quoted, an AtText mentioning nobody.
var ErrInvalidElement = errors.New("content: invalid element")

// Encode returns the content JSON for sending e, with the keys official
// OpenIM clients use. A *Unknown encodes as its raw bytes; a *Notification
// as {"detail":...}. HTML characters are not escaped.
//
// Errors wrap ErrInvalidElement for elements that cannot be sent (see its
// doc); the error names the element kind.
func Encode(e Element) ([]byte, error) {
	switch v := e.(type) {
	case nil:
		return nil, fmt.Errorf("%w: nil element", ErrInvalidElement)
	case *Text:
		if v == nil {
			return nil, fmt.Errorf("%w: nil *Text", ErrInvalidElement)
		}
		return appendText(make([]byte, 0, len(v.Content)+16), v.Content), nil
	case *Unknown:
		if v == nil || len(v.Raw) == 0 {
			return nil, fmt.Errorf("%w: unknown element of type %d has no content", ErrInvalidElement, int32(e.ContentType()))
		}
		return clone(v.Raw), nil
	case *Quote:
		if v != nil && v.QuoteMessage == nil {
			return nil, fmt.Errorf("%w: quote without quoteMessage", ErrInvalidElement)
		}
	case *AtText:
		if v != nil && len(v.AtUserList) == 0 {
			return nil, fmt.Errorf("%w: at-text without atUserList", ErrInvalidElement)
		}
	}
	if isNilPointer(e) {
		return nil, fmt.Errorf("%w: nil %T", ErrInvalidElement, e)
	}
	return marshal(e)
}

// isNilPointer reports whether e holds a typed nil pointer.
func isNilPointer(e Element) bool {
	switch v := e.(type) {
	case *Picture:
		return v == nil
	case *Sound:
		return v == nil
	case *Video:
		return v == nil
	case *File:
		return v == nil
	case *AtText:
		return v == nil
	case *Merge:
		return v == nil
	case *Card:
		return v == nil
	case *Location:
		return v == nil
	case *Custom:
		return v == nil
	case *Typing:
		return v == nil
	case *Quote:
		return v == nil
	case *Face:
		return v == nil
	case *AdvancedText:
		return v == nil
	case *Markdown:
		return v == nil
	case *Notification:
		return v == nil
	}
	return false
}

// marshal is json.Marshal without HTML escaping.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("content: encode %T: %w", v, err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte{'\n'}), nil
}

// appendText appends {"content":s} to b.
func appendText(b []byte, s string) []byte {
	b = append(b, `{"content":`...)
	b = appendString(b, s)
	return append(b, '}')
}

// appendString appends s as a JSON string, escaping what JSON requires and
// replacing invalid UTF-8 as encoding/json does.
func appendString(b []byte, s string) []byte {
	simple := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
			simple = false
			break
		}
	}
	if simple {
		b = append(b, '"')
		b = append(b, s...)
		return append(b, '"')
	}
	out, _ := marshal(s) // a string always encodes
	return append(b, out...)
}

// NewText returns a text element.
func NewText(s string) *Text { return &Text{Content: s} }

// NewMarkdown returns a Markdown element (118). Clients older than the
// Markdown content type show it as unsupported; use Text for them.
func NewMarkdown(s string) *Markdown { return &Markdown{Content: s} }

// NewTyping returns a typing signal with the given tips text.
func NewTyping(tips string) *Typing { return &Typing{MsgTips: tips} }

// NewAtText returns a mention of userIDs (AtAllTag mentions everyone). text
// should contain "@<userID>" for each one, which official clients replace by
// the user's nickname; the nickname defaults to the user ID until set with
// SetNickname. Use NewMessage, or UserIDs, to fill Message.AtUserIDList.
func NewAtText(text string, userIDs ...string) *AtText {
	a := &AtText{Text: text}
	for _, id := range userIDs {
		a.AtUserList = append(a.AtUserList, id)
		a.AtUsersInfo = append(a.AtUsersInfo, AtInfo{AtUserID: id, GroupNickname: id})
	}
	return a
}

// SetNickname sets the nickname shown for the mentioned userID and returns
// a for chaining. It does nothing when userID is not mentioned.
func (a *AtText) SetNickname(userID, nickname string) *AtText {
	for i := range a.AtUsersInfo {
		if a.AtUsersInfo[i].AtUserID == userID {
			a.AtUsersInfo[i].GroupNickname = nickname
		}
	}
	return a
}

// UserIDs returns a copy of the mentioned user IDs, for
// Message.AtUserIDList.
func (a *AtText) UserIDs() []string {
	return append([]string(nil), a.AtUserList...)
}

// NewQuote returns a reply with text that quotes of (see NewQuotedMessage).
// Encode rejects it when of is nil.
func NewQuote(text string, of *Message) *Quote {
	return &Quote{Text: text, QuoteMessage: NewQuotedMessage(of)}
}

// NewCustom returns a custom element of content type 110. Set Type to
// TypeCustomNotTriggerConversation or TypeCustomOnlineOnly for those
// variants.
func NewCustom(data, description, extension string) *Custom {
	return &Custom{Type: TypeCustom, Data: data, Description: description, Extension: extension}
}

// NewCard returns a contact card for the user.
func NewCard(userID, nickname, faceURL string) *Card {
	return &Card{UserID: userID, Nickname: nickname, FaceURL: faceURL}
}

// NewLocation returns a location; latitude and longitude are in degrees.
func NewLocation(description string, latitude, longitude float64) *Location {
	return &Location{Description: description, Latitude: latitude, Longitude: longitude}
}

// NewFace returns a face (sticker) element: index into the client's
// built-in set, or data describing a custom face.
func NewFace(index int, data string) *Face { return &Face{Index: index, Data: data} }

// PictureByURL returns a picture already hosted at rawURL, with the given
// pixel size (0 if unknown). Source, big and snapshot all point at rawURL;
// the UUID is derived from the URL and the type from its extension.
func PictureByURL(rawURL string, width, height int) *Picture {
	info := PictureInfo{
		UUID:   uuidOf(rawURL),
		Type:   extOf(rawURL),
		Width:  int32(width),
		Height: int32(height),
		URL:    rawURL,
	}
	return &Picture{SourcePicture: info, BigPicture: info, SnapshotPicture: info}
}

// SoundByURL returns a voice message hosted at rawURL lasting durationSec
// seconds.
func SoundByURL(rawURL string, durationSec int64) *Sound {
	return &Sound{UUID: uuidOf(rawURL), SourceURL: rawURL, Duration: durationSec, SoundType: extOf(rawURL)}
}

// VideoByURL returns a video hosted at videoURL lasting durationSec seconds,
// with its poster image at snapshotURL (may be empty, but official clients
// then show a blank poster).
func VideoByURL(videoURL, snapshotURL string, durationSec int64) *Video {
	v := &Video{
		VideoUUID: uuidOf(videoURL),
		VideoURL:  videoURL,
		VideoType: extOf(videoURL),
		Duration:  durationSec,
	}
	if snapshotURL != "" {
		v.SnapshotUUID = uuidOf(snapshotURL)
		v.SnapshotURL = snapshotURL
		v.SnapshotType = extOf(snapshotURL)
	}
	return v
}

// FileByURL returns a file hosted at rawURL. An empty name defaults to the
// last element of the URL path.
func FileByURL(rawURL, name string, size int64) *File {
	if name == "" {
		name = baseOf(rawURL)
	}
	return &File{UUID: uuidOf(rawURL), SourceURL: rawURL, FileName: name, FileSize: size, FileType: extOf(rawURL)}
}

// uuidOf derives a stable 32-hex-digit ID from a URL.
func uuidOf(rawURL string) string {
	sum := sha256.Sum256([]byte(rawURL))
	return hex.EncodeToString(sum[:16])
}

func baseOf(rawURL string) string {
	p := rawURL
	if u, err := url.Parse(rawURL); err == nil {
		p = u.Path
	}
	b := path.Base(p)
	if b == "." || b == "/" {
		return ""
	}
	return b
}

// extOf returns the lower-case extension of the URL path without the dot.
func extOf(rawURL string) string {
	return strings.ToLower(strings.TrimPrefix(path.Ext(baseOf(rawURL)), "."))
}

// NewMessage returns an outgoing message carrying e: ContentType, Content
// (Encode's bytes), Elem, MsgFrom FromUser and, for an *AtText, the
// AtUserIDList. The caller (usually the bot or transport) fills the IDs,
// session type, times and client message ID. Errors are Encode's.
func NewMessage(e Element) (*Message, error) {
	b, err := Encode(e)
	if err != nil {
		return nil, err
	}
	m := &Message{ContentType: e.ContentType(), Content: b, Elem: e, MsgFrom: FromUser}
	if a, ok := e.(*AtText); ok {
		m.AtUserIDList = a.UserIDs()
	}
	return m, nil
}
