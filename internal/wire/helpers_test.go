package wire

import (
	"bytes"
	"encoding/gob"
	"encoding/hex"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/openimbot/openimbot/internal/pb/sdkws"
)

// pushPayload is a realistic 2001 payload: PushMessages with one group text
// MsgData with most fields set (the fixture of docs/performance.md).
func pushPayload(tb testing.TB) []byte {
	tb.Helper()
	md := &sdkws.MsgData{
		SendID:           "6960562805",
		RecvID:           "",
		GroupID:          "3411007805",
		ClientMsgID:      "8bd8b4cbc2c4a9e2c0e9d5cd4e0a2d3f",
		ServerMsgID:      "53a3cd5d7a6b4a1c9fda1d1e2c4b5a6f",
		SenderPlatformID: 7,
		SenderNickname:   "Example Sender",
		SenderFaceURL:    "https://example.com/avatars/6960562805.png",
		SessionType:      3,
		MsgFrom:          100,
		ContentType:      101,
		Content:          []byte(`{"content":"hello world"}`),
		Seq:              1234567,
		SendTime:         1764412345678,
		CreateTime:       1764412345600,
		Status:           2,
		Options:          map[string]bool{"history": true, "persistent": true, "offlinePush": true, "unreadCount": true},
		OfflinePushInfo:  &sdkws.OfflinePushInfo{Title: "New message", Desc: "You have a new message", IOSPushSound: "default", IOSBadgeCount: true},
		AtUserIDList:     []string{"1234567890", "2345678901"},
		AttachedInfo:     `{"groupHasReadInfo":{"hasReadCount":0,"groupMemberCount":12},"isPrivateChat":false,"burnDuration":0}`,
		Ex:               `{"k":"v"}`,
	}
	pm := &sdkws.PushMessages{Msgs: map[string]*sdkws.PullMsgs{"sg_3411007805": {Msgs: []*sdkws.MsgData{md}}}}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(pm)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func pushResp(tb testing.TB) *Resp {
	return &Resp{ReqIdentifier: PushMsg, OperationID: "1764412345678-6960562805-push-1a2b3c", Data: pushPayload(tb)}
}

func sendReq(tb testing.TB) *Req {
	return &Req{
		ReqIdentifier: SendMsg,
		Token:         "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJVc2VySUQiOiI2OTYwNTYyODA1IiwiUGxhdGZvcm1JRCI6N30.sig",
		SendID:        "6960562805",
		OperationID:   "1764412345678",
		MsgIncr:       "6960562805_1764412345678",
		Data:          pushPayload(tb),
	}
}

func freshGob(tb testing.TB, v any) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(v); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func mustHex(tb testing.TB, s string) []byte {
	tb.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// The examples of docs/protocol.md section 2.3 (fresh process, uncompressed).
const (
	goldenReqHex  = "5c7f0301010352657101ff80000106010d5265714964656e7469666965720104000105546f6b656e010c00010653656e644944010c00010b4f7065726174696f6e4944010c0001074d7367496e6372010c00010444617461010a0000001cff8001fe07d20202753101036f7031010475315f3101040a02753100"
	goldenKickHex = "60ff81030101045265737001ff82000106010d5265714964656e74696669657201040001074d7367496e6372010c00010b4f7065726174696f6e4944010c000107457272436f646501040001064572724d7367010c00010444617461010a00000007ff8201fe0fa400"
)

// allOptions lists every encoding × gzip combination.
func allOptions() []Options {
	var out []Options
	for _, enc := range []Encoding{Gob, JSON} {
		for _, gz := range []bool{false, true} {
			out = append(out, Options{Encoding: enc, Gzip: gz})
		}
	}
	return out
}

func optName(o Options) string {
	if o.Gzip {
		return o.Encoding.String() + "/gzip"
	}
	return o.Encoding.String() + "/plain"
}
