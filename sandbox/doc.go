// Package sandbox is an in-process OpenIM-compatible message gateway and HTTP
// API subset (OpenIM v3.8, patch.16 profile, as described in docs/protocol.md), for
// developing and testing bots without a real OpenIM deployment.
//
// Start listens on two loopback addresses (Config.WSAddr for the websocket
// gateway, Config.APIAddr for the HTTP API) and serves in the background until
// Close. The gateway implements the handshake checks and errors of docs/protocol.md
// section 1, gob and JSON envelopes with optional gzip (section 2), the request
// codes 1001, 1002, 1003, 1005, 1006, 1007, 2003, 2004 and 2005 (section 3),
// heartbeats (section 4), kicks under multi-login policy 1 (section 5) and the
// seq, push and pull semantics of section 7. The HTTP API answers the calls a
// bot or an official OpenIM SDK makes (section 8).
//
// Messages live in memory and, when Config.StorePath is set, in an
// append-only file that is replayed by the next Start, so history survives a
// restart of the process. Each conversation keeps its newest
// Config.MaxHistory messages (default 10000): older ones are evicted as
// OpenIM clears expired messages, raising the conversation's min seq
// (MinSeq); pulls leave out seqs below it and the max seq stays; the store
// file is compacted as messages are evicted, so it stays about as large as
// what is kept. Gzip
// frames inflate to at most 1 MiB, within a memory budget shared by all
// connections, and API bodies over 1 MiB are refused with ArgsError.
//
// Besides the protocol, a Server has a Go API for tests: users, groups and
// tokens; injecting messages as any user (SendText, SendGroupText, Inject);
// reading what was stored (Messages, MaxSeq) or observed (Subscribe); and
// fault injection (DropAll, DropEvery, DelayFrames, RefuseHandshakes, Kick,
// WithholdPushes, Restart).
//
// Behaviour worth knowing in tests: a client is registered before its
// upgrade response is sent, so anything injected after the dial returns
// reaches it; pushes for one connection are queued in order (SendQueue
// frames, default 256, as OpenIM patch.16) and a connection whose queue
// overflows is closed; 1003 replies come after the sender's own echo push;
// tokens are HS256 JWTs signed with Config.Secret; issuing a new user
// token for the same user and platform marks the older ones kicked (1506 at
// their next handshake), and a login with the new token sends 2002 to the
// connections that still use an older one (policy 1).
//
// Where OpenIM v3.8.3-patch.16 behaves in a surprising way the sandbox does
// too, so that clients tested here work there: conversation records (which
// 1001, 1002 and 1006 go by) exist for both users of a single chat once a
// chat message was stored in it, for the receiver of a notification chat,
// and for every member of a group, but never for an n_ stream; 1002 uses
// the request's userID, not the caller's; the lowest visible seq is 0 until
// messages are evicted, so a range pull from 0 that fits in num returns a
// {seq:0, status:4} placeholder and a descending pull reports isEnd only for
// begin <= 0 (begin <= the min seq once messages were evicted); a
// typing message without options is stored like any other; only status 1
// becomes 2; JSON envelopes carry "data":"" for an empty protobuf payload.
//
// Logging: one line per connection (connected, disconnected with the
// reason, handshake refused), per gateway request and per HTTP call, on
// Config.Logger. Tokens and the secret are never logged.
//
// All methods of Server are safe for concurrent use. Nothing in the exported
// API uses protobuf or storage types: messages are content.Message values.
package sandbox
