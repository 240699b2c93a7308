package transport

import (
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/openimbot/openimbot/content"
)

// This file converts between protobuf payloads and content.Message without
// going through the generated types: a protowire walk costs a tenth of
// proto.Unmarshal and allocates once per string block instead of once per
// field. The generated types in internal/pb remain the reference; the tests
// check both agree.

// pullMaps decodes a PushMessages, PullMessageBySeqsResp or
// GetSeqMessageResp payload (all three are {1: map<string, PullMsgs>,
// 2: map<string, PullMsgs>}). visit is called once per map entry, chat
// entries first, in payload order.
func pullMaps(payload []byte, visit func(conv string, msgs []content.Message, isEnd bool)) error {
	return pullMapsOwn(payload, "", visit)
}

// pullMapsOwn is pullMaps that leaves Content and Elem out of the messages
// whose SendID is own (when own is not empty).
func pullMapsOwn(payload []byte, own string, visit func(conv string, msgs []content.Message, isEnd bool)) error {
	if len(payload) == 0 {
		return nil
	}
	// One copy of the whole payload as a string: every string field of the
	// result is a substring of it. data is the caller's buffer and is only
	// read during the call.
	data := payload
	str := string(data)
	b := data
	off := 0
	for len(b) > 0 {
		num, typ, n := consumeTag(b)
		if n < 0 {
			return fmt.Errorf("transport: decode payload at byte %d: %w", off, protowire.ParseError(n))
		}
		if (num == 1 || num == 2) && typ == protowire.BytesType {
			v, m := consumeBytes(b[n:])
			if m < 0 {
				return fmt.Errorf("transport: decode payload map entry at byte %d: %w", off, protowire.ParseError(m))
			}
			if err := pullEntry(data, str, off+n+(m-len(v)), v, own, visit); err != nil {
				return err
			}
			n += m
		} else {
			m := protowire.ConsumeFieldValue(num, typ, b[n:])
			if m < 0 {
				return fmt.Errorf("transport: decode payload field %d at byte %d: %w", num, off, protowire.ParseError(m))
			}
			n += m
		}
		b = b[n:]
		off += n
	}
	return nil
}

// pullEntry decodes one map entry {1: key, 2: PullMsgs} located at data[base:].
func pullEntry(data []byte, str string, base int, b []byte, own string, visit func(string, []content.Message, bool)) error {
	var conv string
	var pm []byte
	pmBase := 0
	off := 0
	for len(b) > 0 {
		num, typ, n := consumeTag(b)
		if n < 0 {
			return fmt.Errorf("transport: decode map entry at byte %d: %w", base+off, protowire.ParseError(n))
		}
		switch {
		case num == 1 && typ == protowire.BytesType:
			v, m := consumeBytes(b[n:])
			if m < 0 {
				return fmt.Errorf("transport: decode map key at byte %d: %w", base+off, protowire.ParseError(m))
			}
			s := base + off + n + m - len(v)
			conv = str[s : s+len(v)]
			n += m
		case num == 2 && typ == protowire.BytesType:
			v, m := consumeBytes(b[n:])
			if m < 0 {
				return fmt.Errorf("transport: decode PullMsgs at byte %d: %w", base+off, protowire.ParseError(m))
			}
			pm = v
			pmBase = base + off + n + m - len(v)
			n += m
		default:
			m := protowire.ConsumeFieldValue(num, typ, b[n:])
			if m < 0 {
				return fmt.Errorf("transport: decode map entry field %d at byte %d: %w", num, base+off, protowire.ParseError(m))
			}
			n += m
		}
		b = b[n:]
		off += n
	}
	// PullMsgs {1: repeated MsgData, 2: isEnd, 3: endSeq}
	var msgs []content.Message
	isEnd := false
	off = 0
	b = pm
	for len(b) > 0 {
		num, typ, n := consumeTag(b)
		if n < 0 {
			return fmt.Errorf("transport: decode PullMsgs of %q at byte %d: %w", conv, pmBase+off, protowire.ParseError(n))
		}
		switch {
		case num == 1 && typ == protowire.BytesType:
			v, m := consumeBytes(b[n:])
			if m < 0 {
				return fmt.Errorf("transport: decode MsgData of %q at byte %d: %w", conv, pmBase+off, protowire.ParseError(m))
			}
			if msgs == nil {
				msgs = make([]content.Message, 0, 1)
			}
			msgs = append(msgs, content.Message{ConversationID: conv})
			if err := decodeMsgData(data, str, pmBase+off+n+m-len(v), v, own, &msgs[len(msgs)-1]); err != nil {
				return fmt.Errorf("transport: decode MsgData of %q: %w", conv, err)
			}
			n += m
		case num == 2 && typ == protowire.VarintType:
			v, m := consumeVarint(b[n:])
			if m < 0 {
				return fmt.Errorf("transport: decode PullMsgs.isEnd of %q: %w", conv, protowire.ParseError(m))
			}
			isEnd = v != 0
			n += m
		default:
			m := protowire.ConsumeFieldValue(num, typ, b[n:])
			if m < 0 {
				return fmt.Errorf("transport: decode PullMsgs field %d of %q: %w", num, conv, protowire.ParseError(m))
			}
			n += m
		}
		b = b[n:]
		off += n
	}
	visit(conv, msgs, isEnd)
	return nil
}

// decodeMsgData decodes the MsgData b, which starts at data[base:] (and
// str[base:]), into m. Strings are substrings of str; Content is a copy.
// A message whose SendID is own (when own is not empty) gets no Content
// and no Elem.
func decodeMsgData(data []byte, str string, base int, b []byte, own string, m *content.Message) error {
	// The content, copied into m.Content at the end unless the message is own.
	contentAt, contentEnd, hasContent := 0, 0, false
	off := 0
	for len(b) > 0 {
		num, typ, n := consumeTag(b)
		if n < 0 {
			return fmt.Errorf("tag at byte %d: %w", base+off, protowire.ParseError(n))
		}
		rest := b[n:]
		switch typ {
		case protowire.BytesType:
			v, k := consumeBytes(rest)
			if k < 0 {
				return fmt.Errorf("field %d at byte %d: %w", num, base+off, protowire.ParseError(k))
			}
			s := base + off + n + k - len(v)
			sv := str[s : s+len(v)]
			switch num {
			case 1:
				m.SendID = sv
			case 2:
				m.RecvID = sv
			case 3:
				m.GroupID = sv
			case 4:
				m.ClientMsgID = sv
			case 5:
				m.ServerMsgID = sv
			case 7:
				m.SenderNickname = sv
			case 8:
				m.SenderFaceURL = sv
			case 12:
				contentAt, contentEnd, hasContent = s, s+len(v), true
			case 19:
				key, val, err := decodeOption(str, s, v)
				if err != nil {
					return fmt.Errorf("options at byte %d: %w", s, err)
				}
				if m.Options == nil {
					m.Options = make(map[string]bool, 4)
				}
				m.Options[key] = val
			case 20:
				info, err := decodeOfflinePush(str, s, v)
				if err != nil {
					return fmt.Errorf("offlinePushInfo at byte %d: %w", s, err)
				}
				m.OfflinePushInfo = info
			case 21:
				m.AtUserIDList = append(m.AtUserIDList, sv)
			case 22:
				m.AttachedInfo = sv
			case 23:
				m.Ex = sv
			}
			// Other fields, and known fields with an unexpected wire
			// type, are skipped as proto.Unmarshal treats them: unknown.
			n += k
		case protowire.VarintType:
			v, k := consumeVarint(rest)
			if k < 0 {
				return fmt.Errorf("field %d at byte %d: %w", num, base+off, protowire.ParseError(k))
			}
			switch num {
			case 6:
				m.SenderPlatformID = int32(v)
			case 9:
				m.SessionType = content.SessionType(int32(v))
			case 10:
				m.MsgFrom = content.MsgFrom(int32(v))
			case 11:
				m.ContentType = content.ContentType(int32(v))
			case 14:
				m.Seq = int64(v)
			case 15:
				m.SendTime = int64(v)
			case 16:
				m.CreateTime = int64(v)
			case 17:
				m.Status = content.Status(int32(v))
			case 18:
				m.IsRead = v != 0
			}
			n += k
		default:
			k := protowire.ConsumeFieldValue(num, typ, rest)
			if k < 0 {
				return fmt.Errorf("field %d at byte %d: %w", num, base+off, protowire.ParseError(k))
			}
			n += k
		}
		b = b[n:]
		off += n
	}
	if own != "" && m.SendID == own {
		return nil
	}
	if hasContent {
		m.Content = []byte(str[contentAt:contentEnd])
	}
	elem, err := content.Decode(m.ContentType, m.Content)
	if elem == nil {
		elem = &content.Unknown{Type: m.ContentType, Raw: m.Content}
	}
	_ = err // content that does not decode stays an *Unknown; the message is kept
	m.Elem = elem
	return nil
}

func decodeOption(str string, base int, b []byte) (string, bool, error) {
	var key string
	var val bool
	off := 0
	for len(b) > 0 {
		num, typ, n := consumeTag(b)
		if n < 0 {
			return "", false, protowire.ParseError(n)
		}
		switch {
		case num == 1 && typ == protowire.BytesType:
			v, k := consumeBytes(b[n:])
			if k < 0 {
				return "", false, protowire.ParseError(k)
			}
			s := base + off + n + k - len(v)
			key = str[s : s+len(v)]
			n += k
		case num == 2 && typ == protowire.VarintType:
			v, k := consumeVarint(b[n:])
			if k < 0 {
				return "", false, protowire.ParseError(k)
			}
			val = v != 0
			n += k
		default:
			k := protowire.ConsumeFieldValue(num, typ, b[n:])
			if k < 0 {
				return "", false, protowire.ParseError(k)
			}
			n += k
		}
		b = b[n:]
		off += n
	}
	return key, val, nil
}

func decodeOfflinePush(str string, base int, b []byte) (*content.OfflinePushInfo, error) {
	info := &content.OfflinePushInfo{}
	off := 0
	for len(b) > 0 {
		num, typ, n := consumeTag(b)
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		switch {
		case typ == protowire.BytesType && num >= 1 && num <= 6 && num != 5:
			v, k := consumeBytes(b[n:])
			if k < 0 {
				return nil, protowire.ParseError(k)
			}
			s := base + off + n + k - len(v)
			sv := str[s : s+len(v)]
			switch num {
			case 1:
				info.Title = sv
			case 2:
				info.Desc = sv
			case 3:
				info.Ex = sv
			case 4:
				info.IOSPushSound = sv
			case 6:
				info.SignalInfo = sv
			}
			n += k
		case num == 5 && typ == protowire.VarintType:
			v, k := consumeVarint(b[n:])
			if k < 0 {
				return nil, protowire.ParseError(k)
			}
			info.IOSBadgeCount = v != 0
			n += k
		default:
			k := protowire.ConsumeFieldValue(num, typ, b[n:])
			if k < 0 {
				return nil, protowire.ParseError(k)
			}
			n += k
		}
		b = b[n:]
		off += n
	}
	return info, nil
}

// appendMsgData appends the protobuf encoding of m as an openim.sdkws.MsgData
// (the same bytes proto.Marshal produces for the generated type, except for
// the order of options map entries).
func appendMsgData(b []byte, m *content.Message) []byte {
	str := func(b []byte, num protowire.Number, s string) []byte {
		if s == "" {
			return b
		}
		b = protowire.AppendTag(b, num, protowire.BytesType)
		return protowire.AppendString(b, s)
	}
	varint := func(b []byte, num protowire.Number, v uint64) []byte {
		if v == 0 {
			return b
		}
		b = protowire.AppendTag(b, num, protowire.VarintType)
		return protowire.AppendVarint(b, v)
	}
	b = str(b, 1, m.SendID)
	b = str(b, 2, m.RecvID)
	b = str(b, 3, m.GroupID)
	b = str(b, 4, m.ClientMsgID)
	b = str(b, 5, m.ServerMsgID)
	b = varint(b, 6, uint64(int64(m.SenderPlatformID)))
	b = str(b, 7, m.SenderNickname)
	b = str(b, 8, m.SenderFaceURL)
	b = varint(b, 9, uint64(int64(m.SessionType)))
	b = varint(b, 10, uint64(int64(m.MsgFrom)))
	b = varint(b, 11, uint64(int64(m.ContentType)))
	if len(m.Content) > 0 {
		b = protowire.AppendTag(b, 12, protowire.BytesType)
		b = protowire.AppendBytes(b, m.Content)
	}
	b = varint(b, 14, uint64(m.Seq))
	b = varint(b, 15, uint64(m.SendTime))
	b = varint(b, 16, uint64(m.CreateTime))
	b = varint(b, 17, uint64(int64(m.Status)))
	if m.IsRead {
		b = varint(b, 18, 1)
	}
	for k, v := range m.Options {
		size := protowire.SizeTag(1) + protowire.SizeBytes(len(k))
		if v {
			size += protowire.SizeTag(2) + 1
		}
		b = protowire.AppendTag(b, 19, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(size))
		b = protowire.AppendTag(b, 1, protowire.BytesType)
		b = protowire.AppendString(b, k)
		if v {
			b = protowire.AppendTag(b, 2, protowire.VarintType)
			b = protowire.AppendVarint(b, 1)
		}
	}
	if p := m.OfflinePushInfo; p != nil {
		var inner []byte
		inner = str(inner, 1, p.Title)
		inner = str(inner, 2, p.Desc)
		inner = str(inner, 3, p.Ex)
		inner = str(inner, 4, p.IOSPushSound)
		if p.IOSBadgeCount {
			inner = varint(inner, 5, 1)
		}
		inner = str(inner, 6, p.SignalInfo)
		b = protowire.AppendTag(b, 20, protowire.BytesType)
		b = protowire.AppendBytes(b, inner)
	}
	for _, id := range m.AtUserIDList {
		b = protowire.AppendTag(b, 21, protowire.BytesType)
		b = protowire.AppendString(b, id)
	}
	b = str(b, 22, m.AttachedInfo)
	b = str(b, 23, m.Ex)
	return b
}

// consumeTag is protowire.ConsumeTag with a fast path for one-byte tags.
func consumeTag(b []byte) (protowire.Number, protowire.Type, int) {
	if len(b) > 0 && b[0] < 0x80 && b[0]>>3 != 0 {
		return protowire.Number(b[0] >> 3), protowire.Type(b[0] & 7), 1
	}
	return protowire.ConsumeTag(b)
}

// consumeBytes is protowire.ConsumeBytes with a fast path for one-byte
// lengths.
func consumeBytes(b []byte) ([]byte, int) {
	if len(b) > 0 && b[0] < 0x80 {
		if n := int(b[0]); n < len(b) {
			return b[1 : 1+n], 1 + n
		}
	}
	return protowire.ConsumeBytes(b)
}

// consumeVarint is protowire.ConsumeVarint with a fast path for one byte.
func consumeVarint(b []byte) (uint64, int) {
	if len(b) > 0 && b[0] < 0x80 {
		return uint64(b[0]), 1
	}
	return protowire.ConsumeVarint(b)
}
