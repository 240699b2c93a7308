package content

import (
	"encoding/json"
	"fmt"
)

// Element is the decoded content of a message. The set of implementations is
// closed: one struct per content kind in this package.
type Element interface {
	// ContentType is the content type the element is sent as.
	ContentType() ContentType
	isElement()
}

// Text is a plain text message (101).
type Text struct {
	Content string `json:"content"`
}

// Unknown keeps the raw content of a message whose content type is not known
// or whose content did not decode.
type Unknown struct {
	Type ContentType
	Raw  []byte
}

func (*Text) ContentType() ContentType      { return TypeText }
func (u *Unknown) ContentType() ContentType { return u.Type }
func (*Text) isElement()                    {}
func (*Unknown) isElement()                 {}

// DecodeError reports content JSON that did not decode.
type DecodeError struct {
	Type ContentType
	Err  error
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("content: decode %d: %v", e.Type, e.Err)
}

func (e *DecodeError) Unwrap() error { return e.Err }

// Decode decodes content JSON of the given type. It never returns a nil
// Element: on error it returns an *Unknown holding the raw bytes together
// with a *DecodeError.
func Decode(t ContentType, raw []byte) (Element, error) {
	switch t {
	case TypeText:
		var e Text
		if err := json.Unmarshal(raw, &e); err != nil {
			return &Unknown{Type: t, Raw: raw}, &DecodeError{Type: t, Err: err}
		}
		return &e, nil
	}
	return &Unknown{Type: t, Raw: raw}, nil
}

// Text returns the plain text that routers match on: the text of text,
// at-text, quote, markdown and advanced-text messages; "" for other kinds.
func (m *Message) Text() string {
	switch e := m.Elem.(type) {
	case *Text:
		return e.Content
	}
	return ""
}
