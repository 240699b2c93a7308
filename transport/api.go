package transport

// This file is the contract between transport and its users (bot, tests).
// Signatures here are fixed; the implementation lives in the other files of
// the package.

import (
	"crypto/tls"
	"log/slog"
	"time"

	"github.com/openimbot/openimbot/content"
)

// Compression selects frame compression.
type Compression int

const (
	// CompressNone sends and receives plain frames.
	CompressNone Compression = iota
	// CompressGzip negotiates compression=gzip: every binary frame is gzipped.
	CompressGzip
)

// Encoding selects the envelope encoding.
type Encoding int

const (
	// EncodingGob is sdkType=go (the default): gob envelopes.
	EncodingGob Encoding = iota
	// EncodingJSON is sdkType=js: JSON envelopes.
	EncodingJSON
)

// Status is the connection state of a Client.
type Status int

const (
	StatusIdle         Status = iota // not started
	StatusConnecting                 // dialing or waiting to redial
	StatusConnected                  // handshake done, ready for requests
	StatusDisconnected               // lost; the supervisor will redial
	StatusClosed                     // stopped for good (Close, fatal error, kick, attempts exhausted)
)

// EventKind says what an Event reports.
type EventKind int

const (
	EventConnecting    EventKind = iota + 1 // a dial is about to start (Attempt counts from 1)
	EventConnected                          // handshake done; Conn is the new connection's generation
	EventConnectFailed                      // a dial failed; Err says why; the supervisor retries unless fatal
	EventDisconnected                       // an established connection ended; Err says why
	EventKicked                             // the server sent 2002; the client stops
	EventTokenInvalid                       // the handshake failed with 1501–1507; the client stops; Err is *APIError
	EventPush                               // Messages arrived in a 2001 push
	// EventPushesDropped: pushes were dropped because more than
	// Config.EventQueueCap messages were waiting for the consumer; Dropped
	// counts their messages and Err is ErrEventQueueFull. The connection
	// stays up. The consumer recovers the dropped messages that have a seq
	// by seq (GetNewestSeq, then PullRange from its watermarks); dropped
	// online-only messages (seq 0) are lost, as pushes missed while
	// disconnected are.
	EventPushesDropped
)

// Event is one item of the Client's ordered event stream.
type Event struct {
	Kind     EventKind
	Conn     uint64            // generation of the connection this event belongs to (from 1)
	Attempt  int               // EventConnecting, EventConnectFailed
	Err      error             // EventConnectFailed, EventDisconnected, EventTokenInvalid
	Messages []content.Message // EventPush: chat and notification messages, each with ConversationID set
	Dropped  int               // EventPushesDropped: messages dropped since the previous such event
}

// Config configures a Client. Zero values mean the documented defaults.
type Config struct {
	WSAddr      string        // gateway address, e.g. ws://127.0.0.1:10001 (required)
	UserID      string        // the bot's user ID (required)
	Token       string        // user token for UserID and PlatformID (required)
	PlatformID  int32         // default 7 (Linux)
	Compression Compression   // default CompressNone (see the package doc for why)
	Encoding    Encoding      // default EncodingGob
	Background  bool          // isBackground sent at the handshake (always sent)
	SDKVersion  string        // sent as sdkVersion when non-empty
	OperationID func() string // operation ID generator; default decimal unix nanos + random

	PingInterval   time.Duration // ws Ping period; default 24s; keep ≤ 25s: the gateway drops a connection silent for 30s
	ReadTimeout    time.Duration // no inbound traffic for this long → reconnect; default 30s
	RequestTimeout time.Duration // upper bound per request when ctx has no deadline; default 10s
	// Backoff returns the wait before reconnect attempt n (n from 1). Default:
	// 1, 2, 4, 8, 16 s cycling, plus up to 20% jitter.
	Backoff func(attempt int) time.Duration
	// MaxReconnects bounds consecutive failed dials; default 300; negative
	// means forever.
	MaxReconnects int
	// StableAfter is how long a connection must stay up before the
	// back-off starts again from attempt 1: a connection that ends sooner
	// counts as a failed attempt for Backoff (not for MaxReconnects), so a
	// gateway that accepts and drops at once is redialled ever more slowly
	// rather than about once a second. Default 20s; negative means every
	// established connection resets the back-off.
	StableAfter time.Duration

	Logger *slog.Logger // default discards

	// TLSConfig is used for a wss:// gateway: trusted roots (a private
	// CA or a self-signed certificate), client certificates, server name.
	// Default nil: the system's roots.
	TLSConfig *tls.Config

	// MsgResp sends isMsgResp=true: the gateway then reports the handshake
	// result in a first text frame instead of an HTTP body. Default false,
	// as the reference Go SDK.
	MsgResp bool
	// EventQueueCap bounds the messages queued between the read loop and
	// the Events channel; a push that would exceed it is dropped and
	// reported by an EventPushesDropped event (the connection stays up),
	// after which the consumer re-syncs by seq. Default 100000; negative
	// means unbounded.
	EventQueueCap int
	// API, when set, is used with Token to fetch the bot's own profile
	// (/user/get_users_info) to fill senderNickname and senderFaceURL on
	// SendMsg, as the reference SDK does. Default nil: not filled.
	API *API
	// ProfileTTL is how long the fetched profile is reused; default 600s.
	ProfileTTL time.Duration
	// SkipOwnContent leaves Content and Elem out of the pushed messages
	// whose SendID is UserID (the echoes of what this client sent), for a
	// consumer that only needs their seq: it saves a copy and a decode per
	// echo. Pulled messages are always complete. Default false.
	SkipOwnContent bool
}

// SeqRange asks for the messages of one conversation with seq in [Begin, End].
type SeqRange struct {
	ConversationID string
	Begin, End     int64
}

// PullResult holds the messages pulled for one conversation, ascending by seq.
// Placeholders for deleted seqs have Status content.StatusDeleted.
type PullResult struct {
	Messages []content.Message
	IsEnd    bool
	// TooLarge lists the seqs, ascending, whose message alone is over the
	// 1 MiB a client reads in one frame: they cannot be pulled over the
	// websocket and are left out of Messages (a websocket pull only).
	TooLarge []int64
}

// SendResult is the gateway's answer to a send.
type SendResult struct {
	ServerMsgID string
	ClientMsgID string
	SendTime    int64 // ms since the epoch
}

// Client is a reconnecting OpenIM gateway client. Methods are safe for
// concurrent use. Requests made while disconnected wait for the next
// connection until their ctx ends.
//
// The implementing type is declared in client.go with these methods:
//
//	func New(cfg Config) (*Client, error)                     // validates, no I/O
//	func (c *Client) Run(ctx context.Context) error           // supervises until ctx ends, Close, or a fatal error
//	func (c *Client) Events() <-chan Event                    // ordered; never stalls the read loop
//	func (c *Client) NextEvent(ctx context.Context) (Event, error) // the same stream, without the channel
//	func (c *Client) Status() Status
//	func (c *Client) UserID() string
//	func (c *Client) GetNewestSeq(ctx context.Context) (map[string]int64, error)
//	func (c *Client) PullRange(ctx context.Context, ranges []SeqRange) (map[string]PullResult, error)
//	func (c *Client) PullSeqs(ctx context.Context, seqs map[string][]int64) (map[string]PullResult, error)
//	func (c *Client) SendMsg(ctx context.Context, m *content.Message) (SendResult, error)
//	func (c *Client) SetBackground(ctx context.Context, background bool) error
//	func (c *Client) Logout(ctx context.Context) error
//	func (c *Client) Close() error
