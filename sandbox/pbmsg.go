package sandbox

import (
	"slices"
	"sync"

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
		b = protowire.AppendTag(b, 12, protowire.BytesType)
		b = protowire.AppendBytes(b, md.Content)
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
		b = protowire.AppendTag(b, 21, protowire.BytesType)
		b = protowire.AppendString(b, id)
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
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}

// appendVarint appends field num with v unless v is zero (proto3). A
// negative int32 or int64 is passed sign-extended, as protobuf encodes it.
func appendVarint(b []byte, num protowire.Number, v uint64) []byte {
	if v == 0 {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}

// msgDataBufs recycles the buffers marshalPush encodes a MsgData into.
var msgDataBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}
