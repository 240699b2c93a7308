// Package sandbox is an in-process OpenIM-compatible message gateway and HTTP
// API subset (OpenIM v3.8, patch.16 profile, as specified in WIRE.md), for
// developing and testing bots without a real OpenIM deployment.
//
// Start listens on two loopback addresses (Config.WSAddr for the websocket
// gateway, Config.APIAddr for the HTTP API) and serves in the background until
// Close. The gateway implements the handshake checks and errors of WIRE.md
// section 1, gob and JSON envelopes with optional gzip (section 2), the request
// codes 1001, 1002, 1003, 1005, 1006, 1007, 2003, 2004 and 2005 (section 3),
// heartbeats (section 4), kicks under multi-login policy 1 (section 5) and the
// seq, push and pull semantics of section 7. The HTTP API answers the calls a
// bot or an official OpenIM SDK makes (section 8).
//
// Messages live in memory and, when Config.StorePath is set, in an
// append-only file that is replayed by the next Start, so history survives a
// restart of the process.
//
// Besides the protocol, a Server has a Go API for tests: users, groups and
// tokens; injecting messages as any user (SendText, SendGroupText, Inject);
// reading what was stored (Messages, MaxSeq) or observed (Subscribe); and
// fault injection (DropAll, DropEvery, DelayFrames, RefuseHandshakes, Kick,
// WithholdPushes, Restart).
//
// All methods of Server are safe for concurrent use. Nothing in the exported
// API uses protobuf or storage types: messages are content.Message values.
package sandbox
