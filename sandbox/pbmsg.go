package sandbox

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/openimbot/openimbot/internal/pb/sdkws"
)

// appendMsgData appends the protobuf encoding of md to b: what
// proto.MarshalOptions{Deterministic: true} writes (fields in number
// order, zero values left out, options sorted by key, unknown fields
// last), without the generated code's reflection, which costs several
// times more for the message of every push.
func appendMsgData(b []byte, md *sdkws.MsgData) []byte {
	b = appendString(b, 1, md.SendID)
	b = appendString(b, 2, md.RecvID)
	b = appendString(b, 3, md.GroupID)
	b = appendString(b, 4, md.ClientMsgID)
	b = appendString(b, 5, md.ServerMsgID)
	b = appendVarint(b, 6, uint64(md.SenderPlatformID))
	b = appendString(b, 7, md.SenderNickname)
	b = appendString(b, 8, md.SenderFaceURL)
	b = appendVarint(b, 9, uint64(md.SessionType))
	b = appendVarint(b, 10, uint64(md.MsgFrom))
	b = appendVarint(b, 11, uint64(md.ContentType))
	if len(md.Content) > 0 {
		b = append(b, 12<<3|byte(protowire.BytesType))
		b = appendUvarint(b, uint64(len(md.Content)))
		b = append(b, md.Content...)
	}
	b = appendVarint(b, 14, uint64(md.Seq))
	b = appendVarint(b, 15, uint64(md.SendTime))
	b = appendVarint(b, 16, uint64(md.CreateTime))
	b = appendVarint(b, 17, uint64(md.Status))
	if md.IsRead {
		b = appendVarint(b, 18, 1)
	}
	if len(md.Options) > 0 {
		var keys []string
		if len(md.Options) == 1 {
			for k := range md.Options {
				keys = []string{k}
			}
		} else {
			keys = make([]string, 0, len(md.Options))
			for k := range md.Options {
				keys = append(keys, k)
			}
			slices.Sort(keys)
		}
		for _, k := range keys {
			// A map entry {1: key, 2: value} writes both, zero or not.
			v := uint64(0)
			if md.Options[k] {
				v = 1
			}
			n := 1 + protowire.SizeBytes(len(k)) + 1 + protowire.SizeVarint(v)
			b = protowire.AppendTag(b, 19, protowire.BytesType)
			b = protowire.AppendVarint(b, uint64(n))
			b = protowire.AppendTag(b, 1, protowire.BytesType)
			b = protowire.AppendString(b, k)
			b = protowire.AppendTag(b, 2, protowire.VarintType)
			b = protowire.AppendVarint(b, v)
		}
	}
	if p := md.OfflinePushInfo; p != nil {
		var sub [256]byte
		s := appendOfflinePush(sub[:0], p)
		b = protowire.AppendTag(b, 20, protowire.BytesType)
		b = protowire.AppendBytes(b, s)
	}
	for _, id := range md.AtUserIDList {
		b = appendUvarint(b, 21<<3|uint64(protowire.BytesType))
		b = appendUvarint(b, uint64(len(id)))
		b = append(b, id...)
	}
	b = appendString(b, 22, md.AttachedInfo)
	b = appendString(b, 23, md.Ex)
	return append(b, md.ProtoReflect().GetUnknown()...)
}

func appendOfflinePush(b []byte, p *sdkws.OfflinePushInfo) []byte {
	b = appendString(b, 1, p.Title)
	b = appendString(b, 2, p.Desc)
	b = appendString(b, 3, p.Ex)
	b = appendString(b, 4, p.IOSPushSound)
	if p.IOSBadgeCount {
		b = appendVarint(b, 5, 1)
	}
	b = appendString(b, 6, p.SignalInfo)
	return append(b, p.ProtoReflect().GetUnknown()...)
}

// appendString appends field num with s unless s is empty (proto3).
func appendString(b []byte, num protowire.Number, s string) []byte {
	if s == "" {
		return b
	}
	b = appendUvarint(b, uint64(num)<<3|uint64(protowire.BytesType))
	b = appendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// appendVarint appends field num with v unless v is zero (proto3). A
// negative int32 or int64 is passed sign-extended, as protobuf encodes it.
func appendVarint(b []byte, num protowire.Number, v uint64) []byte {
	if v == 0 {
		return b
	}
	b = appendUvarint(b, uint64(num)<<3|uint64(protowire.VarintType))
	return appendUvarint(b, v)
}

// appendUvarint is protowire.AppendVarint, small enough to be inlined:
// the fields of a message are mostly short.
func appendUvarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

// appendSendMsgResp appends the encoding of a SendMsgResp without Modify:
// what proto.Marshal writes.
func appendSendMsgResp(b []byte, serverMsgID, clientMsgID string, sendTime int64) []byte {
	if b == nil {
		n := 0
		if serverMsgID != "" {
			n += 1 + protowire.SizeBytes(len(serverMsgID))
		}
		if clientMsgID != "" {
			n += 1 + protowire.SizeBytes(len(clientMsgID))
		}
		if sendTime != 0 {
			n += 1 + protowire.SizeVarint(uint64(sendTime))
		}
		b = make([]byte, 0, n)
	}
	b = appendString(b, 1, serverMsgID)
	b = appendString(b, 2, clientMsgID)
	return appendVarint(b, 3, uint64(sendTime))
}

// msgDataBufs recycles the buffers marshalPush encodes a MsgData into.
var msgDataBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// errMsgDataWire and errMsgDataUTF8 are decodeMsgData's errors, worded
// as proto.Unmarshal's.
var (
	errMsgDataWire = errors.New("proto: cannot parse invalid wire-format data")
	errMsgDataUTF8 = errors.New("proto: string field contains invalid UTF-8")
)

// The string fields decodeMsgData collects: MsgData's, then
// OfflinePushInfo's.
const (
	sSendID = iota
	sRecvID
	sGroupID
	sClientMsgID
	sServerMsgID
	sSenderNickname
	sSenderFaceURL
	sAttachedInfo
	sEx
	sPushTitle
	sPushDesc
	sPushEx
	sPushIOSPushSound
	sPushSignalInfo
	nStrings
)

// msgDataDecoder holds what decodeMsgData collects before it copies the
// strings of a message out in one allocation: where each is in data.
type msgDataDecoder struct {
	data []byte
	strs [nStrings]span // the last occurrence of each string field
	at   []span         // AtUserIDList entries
	opts []optSpan
	unk  []byte
	// optsSeen: field 19 appeared, with any wire type; as proto.Unmarshal
	// does, that makes Options a non-nil map.
	optsSeen bool
	push     *sdkws.OfflinePushInfo
	pUnk     []byte
}

// span is data[off:end].
type span struct{ off, end int }

// optSpan is an options entry: its key at data[off:end] and its value.
type optSpan struct {
	span
	v bool
}

// decodeMsgData decodes a MsgData as proto.Unmarshal does, with the same
// result and the same acceptance (UTF-8 checked in every string, unknown
// fields and fields of an unexpected wire type kept as unknown fields, a
// repeated singular field's last value winning, a repeated
// offlinePushInfo merged, malformed input refused), without the
// reflection of the generated code and with one allocation for all the
// strings of the message.
func decodeMsgData(data []byte, md *sdkws.MsgData) error {
	d := msgDataDecoder{data: data}
	if err := d.message(md); err != nil {
		return err
	}
	size := 0
	for _, s := range d.strs {
		size += s.end - s.off
	}
	for _, s := range d.at {
		size += s.end - s.off
	}
	for _, o := range d.opts {
		size += o.end - o.off
	}
	var arena string
	if size > 0 {
		var sb strings.Builder
		sb.Grow(size)
		for _, s := range d.strs {
			sb.Write(data[s.off:s.end])
		}
		for _, s := range d.at {
			sb.Write(data[s.off:s.end])
		}
		for _, o := range d.opts {
			sb.Write(data[o.off:o.end])
		}
		arena = sb.String()
	}
	pos := 0
	take := func(s span) string {
		n := s.end - s.off
		pos += n
		return arena[pos-n : pos]
	}
	md.SendID = take(d.strs[sSendID])
	md.RecvID = take(d.strs[sRecvID])
	md.GroupID = take(d.strs[sGroupID])
	md.ClientMsgID = take(d.strs[sClientMsgID])
	md.ServerMsgID = take(d.strs[sServerMsgID])
	md.SenderNickname = take(d.strs[sSenderNickname])
	md.SenderFaceURL = take(d.strs[sSenderFaceURL])
	md.AttachedInfo = take(d.strs[sAttachedInfo])
	md.Ex = take(d.strs[sEx])
	if p := d.push; p != nil {
		p.Title = take(d.strs[sPushTitle])
		p.Desc = take(d.strs[sPushDesc])
		p.Ex = take(d.strs[sPushEx])
		p.IOSPushSound = take(d.strs[sPushIOSPushSound])
		p.SignalInfo = take(d.strs[sPushSignalInfo])
		if d.pUnk != nil {
			p.ProtoReflect().SetUnknown(d.pUnk)
		}
		md.OfflinePushInfo = p
	}
	if len(d.at) > 0 {
		md.AtUserIDList = make([]string, len(d.at))
		for i, s := range d.at {
			md.AtUserIDList[i] = take(s)
		}
	}
	if d.optsSeen {
		md.Options = make(map[string]bool, len(d.opts))
		for _, o := range d.opts {
			md.Options[take(o.span)] = o.v
		}
	}
	if d.unk != nil {
		md.ProtoReflect().SetUnknown(d.unk)
	}
	return nil
}

// tag reads the tag at data[i:limit] as proto.Unmarshal does in a
// message: a field number outside 1..MaxValidNumber or an end-group tag
// is malformed.
func (d *msgDataDecoder) tag(i, limit int) (protowire.Number, protowire.Type, int, error) {
	tag, n := uint64(0), 1
	if c := d.data[i]; c < 0x80 { // fields 1 to 15
		tag = uint64(c)
	} else if tag, n = protowire.ConsumeVarint(d.data[i:limit]); n < 0 {
		return 0, 0, 0, errMsgDataWire
	}
	num, typ := tag>>3, protowire.Type(tag&7)
	if num < uint64(protowire.MinValidNumber) || num > uint64(protowire.MaxValidNumber) || typ == protowire.EndGroupType {
		return 0, 0, 0, errMsgDataWire
	}
	return protowire.Number(num), typ, i + n, nil
}

// str reads a length-delimited string at data[i:limit].
func (d *msgDataDecoder) str(i, limit int) (span, error) {
	var s span
	if i < limit && d.data[i] < 0x80 && i+1+int(d.data[i]) <= limit { // shorter than 128 bytes
		c := d.data[i]
		s = span{i + 1, i + 1 + int(c)}
	} else {
		v, n := protowire.ConsumeBytes(d.data[i:limit])
		if n < 0 {
			return span{}, errMsgDataWire
		}
		s = span{i + n - len(v), i + n}
	}
	if !utf8.Valid(d.data[s.off:s.end]) {
		return span{}, errMsgDataUTF8
	}
	return s, nil
}

// skip consumes the value of an unknown field (or of a known one with
// another wire type) at data[i:limit] and returns where it ends.
func (d *msgDataDecoder) skip(num protowire.Number, typ protowire.Type, i, limit int) (int, error) {
	n := protowire.ConsumeFieldValue(num, typ, d.data[i:limit])
	if n < 0 {
		return 0, errMsgDataWire
	}
	return i + n, nil
}

func (d *msgDataDecoder) message(md *sdkws.MsgData) error {
	data := d.data
	for i := 0; i < len(data); {
		num, typ, j, err := d.tag(i, len(data))
		if err != nil {
			return err
		}
		str := -1
		var vi *int32
		var v64 *int64
		known := true
		switch num {
		case 1:
			str = sSendID
		case 2:
			str = sRecvID
		case 3:
			str = sGroupID
		case 4:
			str = sClientMsgID
		case 5:
			str = sServerMsgID
		case 7:
			str = sSenderNickname
		case 8:
			str = sSenderFaceURL
		case 22:
			str = sAttachedInfo
		case 23:
			str = sEx
		case 6:
			vi = &md.SenderPlatformID
		case 9:
			vi = &md.SessionType
		case 10:
			vi = &md.MsgFrom
		case 11:
			vi = &md.ContentType
		case 17:
			vi = &md.Status
		case 14:
			v64 = &md.Seq
		case 15:
			v64 = &md.SendTime
		case 16:
			v64 = &md.CreateTime
		case 19:
			d.optsSeen = true
		case 12, 18, 20, 21:
		default:
			known = false
		}
		var next int
		switch {
		case !known:
		case str >= 0 || num == 21:
			if typ != protowire.BytesType {
				known = false
				break
			}
			s, err := d.str(j, len(data))
			if err != nil {
				return err
			}
			if str >= 0 {
				d.strs[str] = s
			} else {
				d.at = append(d.at, s)
			}
			next = s.end
		case vi != nil || v64 != nil || num == 18:
			if typ != protowire.VarintType {
				known = false
				break
			}
			v, n := protowire.ConsumeVarint(data[j:])
			if n < 0 {
				return errMsgDataWire
			}
			switch {
			case vi != nil:
				*vi = int32(v)
			case v64 != nil:
				*v64 = int64(v)
			default:
				md.IsRead = v != 0
			}
			next = j + n
		default: // 12, 19, 20: length-delimited
			if typ != protowire.BytesType {
				known = false
				break
			}
			v, n := protowire.ConsumeBytes(data[j:])
			if n < 0 {
				return errMsgDataWire
			}
			next = j + n
			off := next - len(v)
			switch num {
			case 12:
				// As proto3 bytes decode: a copy, nil when empty.
				md.Content = append([]byte(nil), v...)
			case 19:
				if err := d.option(off, next); err != nil {
					return err
				}
			case 20:
				if err := d.offlinePush(off, next); err != nil {
					return err
				}
			}
		}
		if !known {
			if next, err = d.skip(num, typ, j, len(data)); err != nil {
				return err
			}
			d.unk = protowire.AppendTag(d.unk, num, typ)
			d.unk = append(d.unk, data[j:next]...)
		}
		i = next
	}
	return nil
}

// option decodes one options map entry in data[off:end]: key 1, value 2,
// either missing meaning its zero value, repeated meaning the last one,
// other fields skipped. As proto.Unmarshal reads an entry, a field number
// 0 or above MaxValidNumber is malformed, and an end-group tag is refused
// by skip.
func (d *msgDataDecoder) option(off, end int) error {
	o := optSpan{span: span{off, off}}
	for i := off; i < end; {
		num, typ, n := protowire.ConsumeTag(d.data[i:end])
		if n < 0 || num > protowire.MaxValidNumber {
			return errMsgDataWire
		}
		j := i + n
		switch {
		case num == 1 && typ == protowire.BytesType:
			s, err := d.str(j, end)
			if err != nil {
				return err
			}
			o.span, i = s, s.end
		case num == 2 && typ == protowire.VarintType:
			v, n := protowire.ConsumeVarint(d.data[j:end])
			if n < 0 {
				return errMsgDataWire
			}
			o.v, i = v != 0, j+n
		default:
			var err error
			if i, err = d.skip(num, typ, j, end); err != nil {
				return err
			}
		}
	}
	d.opts = append(d.opts, o)
	return nil
}

// offlinePush decodes an OfflinePushInfo in data[off:end] into d.push,
// merged with any earlier one, as proto.Unmarshal merges a repeated
// message field.
func (d *msgDataDecoder) offlinePush(off, end int) error {
	if d.push == nil {
		d.push = &sdkws.OfflinePushInfo{}
	}
	for i := off; i < end; {
		num, typ, j, err := d.tag(i, end)
		if err != nil {
			return err
		}
		str := -1
		switch num {
		case 1:
			str = sPushTitle
		case 2:
			str = sPushDesc
		case 3:
			str = sPushEx
		case 4:
			str = sPushIOSPushSound
		case 6:
			str = sPushSignalInfo
		}
		switch {
		case str >= 0 && typ == protowire.BytesType:
			s, err := d.str(j, end)
			if err != nil {
				return err
			}
			d.strs[str], i = s, s.end
		case num == 5 && typ == protowire.VarintType:
			v, n := protowire.ConsumeVarint(d.data[j:end])
			if n < 0 {
				return errMsgDataWire
			}
			d.push.IOSBadgeCount, i = v != 0, j+n
		default:
			if i, err = d.skip(num, typ, j, end); err != nil {
				return err
			}
			d.pUnk = protowire.AppendTag(d.pUnk, num, typ)
			d.pUnk = append(d.pUnk, d.data[j:i]...)
		}
	}
	return nil
}
