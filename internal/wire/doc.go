// Package wire is the OpenIM gateway envelope codec: the gob (sdkType=go) or
// JSON (sdkType=js) Req/Resp envelopes, optionally gzip-compressed, with
// frame size limits (WIRE.md section 2).
//
// An Encoder or a Decoder is owned by one goroutine; each connection has one
// of each per direction it handles.
package wire
