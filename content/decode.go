package content

import (
	"encoding/binary"
	"encoding/json"
	"unicode/utf8"
)

// Decode decodes the content JSON of a message of content type t into its
// element. Keys are matched case-insensitively and unknown keys are ignored.
//
// It never returns a nil Element and never panics. Content types this
// package has no struct for (111 Revoke, 121/122 reactions, 200–203, and
// anything outside 1000–5000) come back as *Unknown with a nil error;
// notification types 1000–5000 as *Notification. Content that is not valid
// JSON for its type comes back as *Unknown holding a copy of the raw bytes,
// together with a *DecodeError, so the message can still be delivered.
//
// Plain text {"content":"..."} without escapes takes a fast path that does
// not use encoding/json.
func Decode(t ContentType, raw []byte) (Element, error) {
	var (
		e   Element
		err error
	)
	switch t {
	case TypeText:
		if s, ok := fastText(raw); ok {
			return &Text{Content: s}, nil
		}
		v := new(Text)
		e, err = v, json.Unmarshal(raw, v)
	case TypePicture:
		v := new(Picture)
		e, err = v, json.Unmarshal(raw, v)
	case TypeSound:
		v := new(Sound)
		e, err = v, json.Unmarshal(raw, v)
	case TypeVideo:
		v := new(Video)
		e, err = v, json.Unmarshal(raw, v)
	case TypeFile:
		v := new(File)
		e, err = v, json.Unmarshal(raw, v)
	case TypeAtText:
		v := new(AtText)
		e, err = v, json.Unmarshal(raw, v)
	case TypeMerge:
		v := new(Merge)
		e, err = v, json.Unmarshal(raw, v)
	case TypeCard:
		v := new(Card)
		e, err = v, json.Unmarshal(raw, v)
	case TypeLocation:
		v := new(Location)
		e, err = v, json.Unmarshal(raw, v)
	case TypeCustom, TypeCustomNotTriggerConversation, TypeCustomOnlineOnly:
		v := &Custom{Type: t}
		e, err = v, json.Unmarshal(raw, v)
	case TypeTyping:
		v := new(Typing)
		e, err = v, json.Unmarshal(raw, v)
	case TypeQuote:
		v := new(Quote)
		e, err = v, json.Unmarshal(raw, v)
	case TypeFace:
		v := new(Face)
		e, err = v, json.Unmarshal(raw, v)
	case TypeAdvancedText:
		v := new(AdvancedText)
		e, err = v, json.Unmarshal(raw, v)
	case TypeMarkdown:
		v := new(Markdown)
		e, err = v, json.Unmarshal(raw, v)
	default:
		if !t.IsNotification() {
			return &Unknown{Type: t, Raw: clone(raw)}, nil
		}
		v := &Notification{Type: t}
		e, err = v, json.Unmarshal(raw, v)
	}
	if err != nil {
		derr := &DecodeError{Type: t, Err: err}
		return &Unknown{Type: t, Raw: clone(raw), Err: derr}, derr
	}
	return e, nil
}

// fastText extracts s from exactly {"content":"s"} when s has no escapes,
// no control characters and is valid UTF-8, which is what encoding/json
// would return for it. ok is false for anything else.
func fastText(raw []byte) (s string, ok bool) {
	const prefix = `{"content":"`
	const suffix = `"}`
	if len(raw) < len(prefix)+len(suffix) || string(raw[:len(prefix)]) != prefix ||
		string(raw[len(raw)-len(suffix):]) != suffix {
		return "", false
	}
	body := raw[len(prefix) : len(raw)-len(suffix)]
	// Skip 8 plain ASCII bytes at a time; the byte loop below checks the rest.
	i := 0
	for ; i+8 <= len(body); i += 8 {
		if special8(binary.LittleEndian.Uint64(body[i:])) {
			break
		}
	}
	ascii := true
	for _, c := range body[i:] {
		if c < 0x20 || c == '"' || c == '\\' {
			return "", false
		}
		if c >= utf8.RuneSelf {
			ascii = false
		}
	}
	if !ascii && !utf8.Valid(body) {
		return "", false
	}
	return string(body), true
}

// special8 reports whether any of the 8 bytes in x is a control character,
// '"', '\\' or not ASCII. Borrows between bytes can only start at a byte
// that is itself special, so the answer is exact.
func special8(x uint64) bool {
	const lo = 0x0101010101010101
	const hi = 0x8080808080808080
	quote := x ^ (lo * '"')
	bslash := x ^ (lo * '\\')
	return ((x-lo*0x20)|(quote-lo)|(bslash-lo)|x)&hi != 0
}

// clone copies b; empty input gives nil.
func clone(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return append(make([]byte, 0, len(b)), b...)
}

// DecodeContent decodes m.Content as m.ContentType and stores the result in
// m.Elem (never nil afterwards). The error, if any, is Decode's.
func (m *Message) DecodeContent() error {
	e, err := Decode(m.ContentType, m.Content)
	m.Elem = e
	return err
}
