package wire

import (
	"errors"
	"fmt"
)

// Request identifiers (WIRE.md section 3).
const (
	GetNewestSeq        int32 = 1001
	PullMsgByRange      int32 = 1002
	SendMsg             int32 = 1003
	SendSignalMsg       int32 = 1004
	PullMsgBySeqList    int32 = 1005
	GetConvMaxReadSeq   int32 = 1006
	PullConvLastMessage int32 = 1007
	PushMsg             int32 = 2001
	KickOnlineMsg       int32 = 2002
	LogoutMsg           int32 = 2003
	SetBackgroundStatus int32 = 2004
	SubUserOnlineStatus int32 = 2005
)

// Frame size limits (WIRE.md section 2.1).
const (
	// MaxServerInbound is the largest frame the gateway accepts: the most a
	// client may send, measured after compression.
	MaxServerInbound = 51200
	// MaxClientInbound is the largest frame a client accepts.
	MaxClientInbound = 1 << 20
	// maxInflated bounds a gunzipped frame so a small frame cannot expand
	// without limit.
	maxInflated = 16 << 20
)

// Req is the client-to-server envelope (the SDK's GeneralWsReq).
type Req struct {
	ReqIdentifier int32  `json:"reqIdentifier"`
	Token         string `json:"token"`
	SendID        string `json:"sendID"`
	OperationID   string `json:"operationID"`
	MsgIncr       string `json:"msgIncr"`
	Data          []byte `json:"data"`
}

// Resp is the server-to-client envelope (the SDK's GeneralWsResp).
type Resp struct {
	ReqIdentifier int32  `json:"reqIdentifier"`
	MsgIncr       string `json:"msgIncr"`
	OperationID   string `json:"operationID"`
	ErrCode       int    `json:"errCode"`
	ErrMsg        string `json:"errMsg"`
	Data          []byte `json:"data"`
}

// Encoding selects the envelope encoding.
type Encoding int

const (
	// Gob is the default encoding (sdkType absent or "go"): one
	// self-contained gob stream per frame.
	Gob Encoding = iota
	// JSON is the sdkType=js encoding.
	JSON
)

// String returns "gob" or "json".
func (e Encoding) String() string {
	switch e {
	case Gob:
		return "gob"
	case JSON:
		return "json"
	}
	return fmt.Sprintf("Encoding(%d)", int(e))
}

// Options configures an Encoder or a Decoder.
type Options struct {
	Encoding Encoding
	Gzip     bool // every binary frame is one gzip member
	// MaxFrame is the largest frame, after compression, that the Encoder
	// produces or the Decoder accepts. 0 means no limit.
	MaxFrame int
}

// Errors.
var (
	ErrFrameTooLarge = errors.New("wire: frame too large")
	ErrBadFrame      = errors.New("wire: malformed frame")
)
