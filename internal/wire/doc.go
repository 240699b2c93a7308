// Package wire is the OpenIM gateway envelope codec: the gob (sdkType=go) or
// JSON (sdkType=js) Req/Resp envelopes, optionally gzip-compressed, with
// frame size limits (docs/protocol.md section 2).
//
// # Concurrency
//
// An Encoder or a Decoder is not safe for concurrent use: it is owned by one
// goroutine; each connection has one of each per direction it handles. The
// slice an Encoder returns, and Data of a decoded envelope, are valid until
// the next call on the same Encoder or Decoder (Data may alias the frame).
//
// # Gob
//
// On the wire every gob frame is an independent gob stream: the type
// definition of the struct, then one value (docs/protocol.md section 2.3). Creating a
// gob.Decoder per frame costs about 12 µs and 175 allocations, three quarters
// of it re-reading the same type definition, so the Decoder instead caches
// the type-definition bytes of the frames it sees and parses the value by
// hand (tens of nanoseconds, one allocation for the strings). A definition
// seen for the first time is decoded by encoding/gob and the hand parser is
// checked against it, on that frame and on a synthetic frame setting every
// field; a definition the hand parser does not handle or disagrees on (never
// observed), and any frame it rejects, go through a fresh gob.Decoder. So
// the result is always what encoding/gob gives: fields matched by name, in
// any order, any struct name, int or int32.
//
// The Encoder writes the type definition computed once per Encoder and a
// hand-encoded value: byte for byte what a fresh gob.Encoder writes in this
// process.
//
// # JSON
//
// JSON envelopes are written by hand in the server's key order, with all six
// keys, "data" as base64 or null when empty, and strings escaped as
// encoding/json escapes them. They are decoded by a hand parser when they
// have the server's plain form (no whitespace, no escapes, known keys), else
// by encoding/json, with the same result.
//
// # Gzip
//
// With Options.Gzip every frame is one gzip member. Frames are written by
// compress/gzip (one gzip.Writer reused per Encoder) or the built-in
// encoder below. They are read by a built-in inflater for whole in-memory
// frames (RFC 1951/1952: no window, no io.Reader, Huffman tables rebuilt in
// place, no allocation in steady state), about three times faster than
// compress/gzip on a ~600-byte push (BenchmarkInflate,
// BenchmarkGunzipLevel). It accepts a strict subset of what compress/gzip
// accepts, with the same bytes; any frame it does not accept (corrupt,
// truncated, or merely unusual) is read again by compress/gzip (readers
// from a shared pool), so results and errors are exactly compress/gzip's,
// as FuzzInflate checks.
// Outgoing frames use gzip.BestSpeed by default: on a ~600-byte frame it
// costs about half of DefaultCompression for about 10 % more bytes
// (BenchmarkGzipLevel). Options.GzipLevel picks another level, or
// GzipFixedHuffman: a built-in encoder (one fixed-Huffman deflate block,
// greedy LZ77) that needs about 5 µs instead of about 40 for such a frame,
// for about 5 % more bytes, and whose frames inflate faster
// (BenchmarkGunzipLevel). Both the sandbox and the transport client use it.
//
// Compression saves little on the small frames of chat: a gob envelope
// repeats its type definition (about 130 bytes) in every frame, and a
// gzip member adds 18 bytes of header and trailer. The frames of a bot
// answering a text (BenchmarkBotFrames), in bytes, uncompressed, then
// as gzip members written by the fixed-Huffman encoder, BestSpeed,
// DefaultCompression and as a stored block:
//
//	                               raw  fixed  best  default  stored
//	gob 2001 push of a text        286    294   292      288     309
//	gob 1003 request (reply "k")   237    239   247      243     260
//	gob 1003 answer                224    232   227      222     247
//	gob 2001 echo of the reply     282    291   287      284     305
//	json 2001 push                 326    329   292      288     349
//	json 1003 request              239    241   225      225     262
//	json 1003 answer               225    234   219      216     248
//	json 2001 echo                 309    315   282      280     332
//	gob 1003, 100 bytes of text    337    323   317      306     360
//	gob 1003, 250 bytes of text    490    441   416      394     513
//	gob 1003, 500 bytes of text    740    611   543      512     763
//	gob 1003, 1000 bytes of text  1240    949   845      749    1263
//	gob 1003, 4000 bytes of text  4240   2478  1958     1799    4263
//
// The fixed-Huffman encoder spends 1.5–2 µs on each of the small frames
// (3 µs at 740 bytes, 5 µs at 1240), BestSpeed 10–25 µs, a stored block
// about 0.1 µs (a crc32 and a copy). Options.GzipMinSize writes the
// frames under a size as stored members; the transport client sets it to
// 512 bytes: below that, compression saves under 15 % of the frame, and
// nothing at all on the frames of short replies. The sandbox, like the
// OpenIM gateway, compresses every frame.
//
// # Inflate memory
//
// Inflated envelopes are bounded by Options.MaxInflated (default
// DefaultMaxInflated, 1 MiB: the largest frame a peer accepts). Output
// buffers grow with the output, never sized in advance from what a frame
// claims, so a bomb costs at most about twice the limit before it is
// refused (TestInflateBombAllocs). Across Decoders an InflateBudget
// (Options.InflateBudget; by default one of DefaultInflateBudget bytes per
// process) bounds how many large frames inflate at once, so many
// connections sending bombs together cannot add up. A Decoder keeps an
// output buffer of at most 16 KiB between frames; nothing larger stays
// with an idle connection.
//
// # Websocket frames
//
// AppendFrameHeader and the Op constants encode the websocket frame header
// (RFC 6455 section 5.2) for the transport, which masks its frames, and
// the sandbox, which does not: both frame their data messages themselves.
//
// # Limits and errors
//
// Options.MaxFrame bounds a frame after compression; ClientOptions and
// ServerOptions set the limits of docs/protocol.md §2.1 (51200 bytes into the gateway, 1 MiB
// into a client). Decode errors wrap ErrBadFrame or ErrFrameTooLarge; size
// errors are *SizeError. Nothing panics on bad input.
package wire
