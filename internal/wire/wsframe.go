package wire

import "encoding/binary"

// Websocket opcodes (RFC 6455 section 5.2), for the transport and the
// sandbox, which frame their data messages themselves.
const (
	OpContinuation = 0
	OpText         = 1
	OpBinary       = 2
	OpClose        = 8
	OpPing         = 9
	OpPong         = 10
)

// AppendFrameHeader appends the header of a final websocket frame with the
// opcode and a payload of n bytes (RFC 6455 section 5.2): the shortest
// length encoding, and the mask bit when masked (a client's frame, which
// the caller follows with the 4-byte masking key and the masked payload).
func AppendFrameHeader(b []byte, opcode byte, n int, masked bool) []byte {
	var mask byte
	if masked {
		mask = 0x80
	}
	b = append(b, 0x80|opcode)
	switch {
	case n <= 125:
		return append(b, mask|byte(n))
	case n <= 0xffff:
		return append(b, mask|126, byte(n>>8), byte(n))
	default:
		return binary.BigEndian.AppendUint64(append(b, mask|127), uint64(n))
	}
}
