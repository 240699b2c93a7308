package wire

import (
	"errors"
	"fmt"
	"log/slog"
)

// Request identifiers (docs/protocol.md section 3).
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

// Frame size limits (docs/protocol.md section 2.1).
const (
	// MaxServerInbound is the largest frame the gateway accepts: the most a
	// client may send, measured after compression. A client's Encoder uses
	// it as MaxFrame.
	MaxServerInbound = 51200
	// MaxClientInbound is the largest frame a client accepts (the Go SDK's
	// limit), measured after compression. A client's Decoder uses it as
	// MaxFrame.
	MaxClientInbound = 1 << 20
	// DefaultMaxInflated bounds a gunzipped frame when Options.MaxInflated
	// is 0, so that a small frame cannot expand without limit: the largest
	// frame any peer accepts (MaxClientInbound). A gzip frame under the
	// gateway's 51200-byte limit may thus carry a compressible envelope
	// larger than 51200 bytes, up to 1 MiB.
	DefaultMaxInflated = MaxClientInbound
	// DefaultInflateBudget is the size of the process-wide InflateBudget
	// that Decoders share when Options.InflateBudget is nil: eight frames
	// of DefaultMaxInflated inflating at once.
	DefaultInflateBudget = 8 * DefaultMaxInflated
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

// Options configures an Encoder or a Decoder. The zero value is gob, no
// gzip, no frame limit, DefaultMaxInflated, the process-wide inflate
// budget.
type Options struct {
	Encoding Encoding
	Gzip     bool // every binary frame is one gzip member
	// MaxFrame is the largest frame, after compression, that the Encoder
	// produces or the Decoder accepts. 0 means no limit. Clients use
	// MaxServerInbound for sending and MaxClientInbound for receiving (see
	// ClientOptions).
	MaxFrame int
	// MaxInflated is the largest envelope a gzip frame may inflate to on
	// decode. 0 means DefaultMaxInflated; negative means no limit.
	MaxInflated int
	// InflateBudget bounds the memory of large inflates across every
	// Decoder sharing it (see InflateBudget). nil means one budget of
	// DefaultInflateBudget bytes shared by the whole process.
	InflateBudget *InflateBudget
	// GzipLevel selects how the Encoder compresses gzip frames: 0 means
	// the default, compress/gzip's BestSpeed; GzipFixedHuffman selects the
	// built-in encoder; any other value is a compress/gzip level
	// (HuffmanOnly, DefaultCompression, 1–9). Every choice produces a
	// complete gzip member per frame, which any gzip reader accepts.
	GzipLevel int
	// GzipMinSize, if positive, is the smallest frame (before
	// compression) that the Encoder compresses: a smaller one is written
	// as a gzip member of one stored deflate block (BTYPE=00), which costs
	// a crc32 and a copy, and which every gzip reader accepts. 0 compresses
	// every frame. Compression saves little on small frames: a gob
	// envelope repeats its ~130-byte type definition in every frame and
	// chat messages are short, so on the frames of a bot answering a text
	// (230–330 bytes) the fixed-Huffman encoder saves nothing (frames come
	// out 2–9 bytes larger) for 1–2 µs each, and below about 500 bytes it
	// saves under 15 % (BenchmarkBotFrames; see the package documentation
	// for the figures).
	GzipMinSize int
	// Logger receives debug records about the gob fast path (a new type
	// descriptor seen, a fall back to encoding/gob). nil discards. Nothing
	// logged contains frame contents.
	Logger *slog.Logger
}

// GzipFixedHuffman is the Options.GzipLevel of the built-in encoder: one
// deflate block of fixed Huffman codes with greedy LZ77 matching. It builds
// no Huffman tables, so it costs a fraction of compress/gzip's BestSpeed on
// small frames (a few microseconds for a 600-byte push) and its frames are
// cheaper to inflate; frames come out a little larger.
const GzipFixedHuffman = -10

// ClientOptions returns the Options of a client connection: send limits
// frames to MaxServerInbound, recv accepts frames up to MaxClientInbound.
func ClientOptions(enc Encoding, gzip bool) (send, recv Options) {
	send = Options{Encoding: enc, Gzip: gzip, MaxFrame: MaxServerInbound}
	recv = Options{Encoding: enc, Gzip: gzip, MaxFrame: MaxClientInbound}
	return send, recv
}

// ServerOptions returns the Options of a gateway connection: send limits
// frames to MaxClientInbound, recv accepts frames up to MaxServerInbound.
func ServerOptions(enc Encoding, gzip bool) (send, recv Options) {
	send = Options{Encoding: enc, Gzip: gzip, MaxFrame: MaxClientInbound}
	recv = Options{Encoding: enc, Gzip: gzip, MaxFrame: MaxServerInbound}
	return send, recv
}

// Errors. Every decode error wraps ErrBadFrame or ErrFrameTooLarge; size
// errors are also a *SizeError.
var (
	ErrFrameTooLarge = errors.New("wire: frame too large")
	ErrBadFrame      = errors.New("wire: malformed frame")
)

// SizeError reports a frame over a size limit. errors.Is(err,
// ErrFrameTooLarge) is true for it.
type SizeError struct {
	Op       string // "encode" or "decode"
	Size     int    // the frame's size; with Inflated, at least this many bytes
	Limit    int
	Inflated bool // the limit is Options.MaxInflated on the gunzipped envelope
}

func (e *SizeError) Error() string {
	if e.Inflated {
		return fmt.Sprintf("wire: %s: frame too large: inflates to more than %d bytes", e.Op, e.Limit)
	}
	return fmt.Sprintf("wire: %s: frame too large: %d bytes, limit %d", e.Op, e.Size, e.Limit)
}

// Is reports whether target is ErrFrameTooLarge.
func (e *SizeError) Is(target error) bool { return target == ErrFrameTooLarge }
