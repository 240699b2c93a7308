package transport

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/coder/websocket"

	"github.com/openimbot/openimbot/internal/wire"
)

// frameReader reads the messages a server sends on a plain (ws://)
// gateway connection, in place of the websocket library's Reader (which
// takes its channel-based lock three times per message: Reader, the data
// Read, and the Read that returns io.EOF). It reads the byte stream under
// the library (the bytes the HTTP client read ahead behind the handshake
// response, then the socket), never runs concurrently with itself, and
// hands control frames to its callbacks: a ping to be answered with a
// pong carrying its payload, a pong to whoever waits for it, a close to be
// answered before it returns a websocket.CloseError. Fragmented messages are joined, with
// control frames between their fragments; a message over limit bytes
// ends the connection with websocket.ErrMessageTooBig, as the library
// does.
type frameReader struct {
	br     *bufio.Reader
	limit  int
	msg    []byte // the message being read; reused
	onPing func(payload []byte) error
	onPong func(payload []byte)
	onCtl  func() // any control frame arrived (the connection is alive)
	// onClose answers a close frame; code is its status code's two bytes
	// (none when it had none).
	onClose func(code []byte)
}

// keepMessage is the largest message buffer kept between messages; one
// for a larger message is let go once read.
const keepMessage = 64 << 10

// frameReadBuffer is the frameReader's read buffer: several pushed frames
// of a burst come in with one read(2).
const frameReadBuffer = 32 << 10

func newFrameReader(r io.Reader, limit int) *frameReader {
	return &frameReader{br: bufio.NewReaderSize(r, frameReadBuffer), limit: limit}
}

// next returns the next text or binary message. The message is valid
// until the next call.
func (fr *frameReader) next() (opcode byte, msg []byte, err error) {
	if cap(fr.msg) > keepMessage {
		fr.msg = nil
	}
	fr.msg = fr.msg[:0]
	var op byte
	for {
		fin, fop, n, err := fr.header()
		if err != nil {
			return 0, nil, err
		}
		if fop >= wire.OpClose {
			if err := fr.control(fop, n); err != nil {
				return 0, nil, err
			}
			continue
		}
		switch {
		case fop == wire.OpContinuation && op == 0:
			return 0, nil, fr.protocol("continuation frame without a message to continue")
		case fop != wire.OpContinuation && op != 0:
			return 0, nil, fr.protocol("new message before the previous one was complete")
		case fop != wire.OpContinuation && fop != wire.OpText && fop != wire.OpBinary:
			return 0, nil, fr.protocol(fmt.Sprintf("frame with the unknown opcode %d", fop))
		}
		if op == 0 {
			op = fop
		}
		if n > uint64(fr.limit-len(fr.msg)) {
			return 0, nil, fmt.Errorf("%w: read limited at %d bytes", websocket.ErrMessageTooBig, fr.limit+1)
		}
		at := len(fr.msg)
		fr.msg = append(fr.msg, make([]byte, n)...)[:at+int(n)]
		if _, err := io.ReadFull(fr.br, fr.msg[at:]); err != nil {
			return 0, nil, unexpectedEOF(err)
		}
		if fin {
			if op == wire.OpText && !utf8.Valid(fr.msg) {
				return 0, nil, fr.protocol("text message that is not valid UTF-8")
			}
			return op, fr.msg, nil
		}
	}
}

// header reads a frame header: FIN, the opcode and the payload length.
func (fr *frameReader) header() (fin bool, opcode byte, n uint64, err error) {
	h, err := fr.br.Peek(2)
	if err != nil {
		if len(h) > 0 {
			err = unexpectedEOF(err)
		}
		return false, 0, 0, err // io.EOF between frames
	}
	fin, opcode = h[0]&0x80 != 0, h[0]&0x0f
	if h[0]&0x70 != 0 {
		return false, 0, 0, fr.protocol("frame with reserved bits set (no extension was negotiated)")
	}
	if h[1]&0x80 != 0 {
		return false, 0, 0, fr.protocol("masked frame from the server")
	}
	n = uint64(h[1] & 0x7f)
	size := 2
	switch n {
	case 126:
		size = 4
	case 127:
		size = 10
	}
	if size > 2 {
		if h, err = fr.br.Peek(size); err != nil {
			return false, 0, 0, unexpectedEOF(err)
		}
		if size == 4 {
			n = uint64(binary.BigEndian.Uint16(h[2:]))
		} else if n = binary.BigEndian.Uint64(h[2:]); n>>63 != 0 {
			return false, 0, 0, fr.protocol("frame length with its most significant bit set")
		}
	}
	fr.br.Discard(size)
	if opcode >= wire.OpClose && (n > 125 || !fin) {
		return false, 0, 0, fr.protocol("control frame longer than 125 bytes or fragmented")
	}
	return fin, opcode, n, nil
}

// control reads a control frame's payload of n bytes and acts on it.
func (fr *frameReader) control(opcode byte, n uint64) error {
	p, err := fr.br.Peek(int(n))
	if err != nil {
		return unexpectedEOF(err)
	}
	fr.br.Discard(int(n))
	if fr.onCtl != nil {
		fr.onCtl()
	}
	switch opcode {
	case wire.OpPing:
		if fr.onPing != nil {
			return fr.onPing(p)
		}
	case wire.OpPong:
		if fr.onPong != nil {
			fr.onPong(p)
		}
	case wire.OpClose:
		if len(p) == 1 {
			return fr.protocol("close frame with a one-byte payload")
		}
		ce := websocket.CloseError{Code: websocket.StatusNoStatusRcvd}
		if len(p) >= 2 {
			ce.Code = websocket.StatusCode(binary.BigEndian.Uint16(p))
			ce.Reason = string(p[2:])
		}
		if fr.onClose != nil {
			fr.onClose(p[:min(len(p), 2)])
		}
		return fmt.Errorf("received close frame: %w", ce)
	default:
		return fr.protocol(fmt.Sprintf("control frame with the unknown opcode %d", opcode))
	}
	return nil
}

func (fr *frameReader) protocol(what string) error {
	return fmt.Errorf("%w: websocket: %s", ErrProtocol, what)
}

// unexpectedEOF turns an EOF inside a frame into io.ErrUnexpectedEOF.
func unexpectedEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
