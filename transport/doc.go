// Package transport is the OpenIM gateway client of openimbot: a Client that
// dials the msg_gateway websocket (docs/protocol.md §1), keeps the connection alive
// and reconnects, correlates pipelined requests by MsgIncr, and turns 2001
// pushes into content.Message values; and API, a client of the HTTP API
// calls a bot needs (docs/protocol.md §8). Protobuf types never appear in its
// exported API.
//
// # Connections and the supervisor
//
// A connection object dies for good on its first error (read or write
// error, read timeout, protocol error, kick, event queue overflow). Run is
// the supervisor above it: it dials, reports EventConnecting,
// EventConnected, EventConnectFailed and EventDisconnected, and redials
// with Config.Backoff (default 1, 2, 4, 8, 16 s cycling plus up to 20%
// jitter) until Config.MaxReconnects consecutive dials failed (default 300;
// negative: forever). The back-off starts again from its first step only
// after a connection stayed up for Config.StableAfter (default 20s): a
// gateway that accepts and drops at once is redialled ever more slowly,
// not once a second. A handshake rejected with 1501–1507 is fatal
// (EventTokenInvalid; Run returns the *APIError), as is a 2002 kick
// (EventKicked; Run returns an error wrapping ErrKicked): redialing with
// the same token cannot succeed. Handshake failures are parsed from the
// gateway's HTTP 200 JSON body {errCode, errMsg, errDlt} (such a body is
// also read under any other status), or from its first text frame when
// Config.MsgResp is set; any other answer (a proxy's error page) is a
// retryable ErrHandshake naming the HTTP status.
//
// # Heartbeat
//
// The client sends a websocket Ping every Config.PingInterval (24 s) and
// drops the connection when nothing (frame, ping or pong) arrived for
// Config.ReadTimeout (30 s). Server Pings are answered with a Pong
// carrying their payload; text {"type":"ping","body":X} frames are
// answered with {"type":"pong","body":X}; any other text frame is a
// protocol error. The Ping payload is a decimal counter rather than the
// reference SDK's operation ID; the gateway only echoes it.
//
// # Frames
//
// github.com/coder/websocket makes the handshake. On a plain (ws://)
// connection the client then frames, masks and batches what it sends and
// reads the server's frames itself (fragments joined, control frames
// answered, messages over the read limit refused), which costs less per
// message than the library's Reader and Write; under TLS (wss://) the
// library reads and writes the frames.
//
// # Requests
//
// Requests are pipelined on the current connection and correlated only by
// MsgIncr ("<userID>_<n>"); pushes may arrive between a request and its
// reply. Each request is bounded by its ctx, and by Config.RequestTimeout
// when ctx has no deadline. A request made while disconnected waits for the
// next connection until its ctx ends; so does one that finds the connection
// already dead before anything was written. When a connection dies, every request
// pending on it fails at once with an error wrapping ErrConnectionLost
// (whether the server processed it is unknown). After Close, Logout or a
// fatal end, requests fail with ErrClosed. An error reply from the server
// is an *APIError.
//
// # Events and slow consumers
//
// The read loop never runs user code and never blocks on the consumer: it
// puts events into an internal queue, and one dispatcher goroutine feeds the
// Events channel in order (or the consumer takes them from the queue itself
// with NextEvent, which spares that goroutine's hand-off). The queue is bounded by Config.EventQueueCap
// messages (default 100000). A push that would exceed the cap is dropped,
// and one EventPushesDropped event (Err ErrEventQueueFull, Dropped the
// count) is queued in order after the waiting events. The connection stays
// up and the redial never waits for the consumer, so a consumer that is
// blocked (for example on handlers that wait to send) cannot stall the
// connection. Memory stays bounded and no stored message is silently
// lost: on EventPushesDropped the consumer re-syncs by pulling
// [synced+1, maxSeq] (GetNewestSeq then PullRange), as after every
// reconnect. Online-only messages (seq 0) that were dropped are not
// recoverable, as with any OpenIM client that misses a push.
//
// # Compression
//
// The default is CompressNone, chosen from BenchmarkDecodePush and
// BenchmarkEncodeSend, which run the client's real paths (frame → envelope
// → PushMessages → []content.Message, and content.Message → MsgData →
// frame) on a realistic group text push of 616 bytes (523 gzipped: only 15%
// smaller). In CPU time per message, gzip makes decoding a push about five
// times as costly and encoding a send more than ten times: inflating a
// small frame is dominated by Huffman table setup whatever its size, while
// the plain envelope costs a fraction of a microsecond (docs/performance.md,
// stage 1 and the end-to-end figures). Use CompressGzip only on slow or
// metered links.
// The gateway's 51200-byte frame limit counts compressed bytes, so with
// CompressGzip a larger but compressible message can still be sent.
//
// # Secrets
//
// The token travels in the handshake URL (HandshakeURL) and the API's token
// header only. It is removed from every error the package returns and is
// never logged.
//
// # Concurrency
//
// Client and API are safe for concurrent use. Close waits for every
// goroutine the Client started.
package transport
