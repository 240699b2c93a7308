package transport

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/openimbot/openimbot/internal/wire"
)

// The frame reader reads what the websocket library's server writes:
// messages sent at once behind the handshake (read ahead by the HTTP
// client), fragmented messages with the server's pings between their
// fragments (answered with pongs, which the server's Ping waits for),
// every length class of the header, text and binary, and a close frame,
// which ends reading with the server's code and reason.
func TestFrameReaderReadsTheLibrarysServer(t *testing.T) {
	sizes := []int{0, 1, 125, 126, 4000, 65535, 65536, 300000}
	payload := func(i, n int) []byte {
		b := make([]byte, n)
		for j := range b {
			b[j] = byte('a' + (i+j)%26) // valid UTF-8 for the text messages too
		}
		return b
	}
	srvErr := make(chan error, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, nil)
		if err != nil {
			srvErr <- err
			return
		}
		defer ws.CloseNow()
		ctx := ws.CloseRead(r.Context()) // reads the pongs
		// Right behind the handshake, before the client asks for anything.
		if err := ws.Write(ctx, websocket.MessageText, []byte("first")); err != nil {
			srvErr <- err
			return
		}
		for i, n := range sizes {
			typ := websocket.MessageBinary
			if i%2 == 1 {
				typ = websocket.MessageText
			}
			wr, err := ws.Writer(ctx, typ)
			if err != nil {
				srvErr <- err
				return
			}
			p := payload(i, n)
			for part := range 3 { // three fragments (and a final empty one)
				if _, err := wr.Write(p[part*n/3 : (part+1)*n/3]); err != nil {
					srvErr <- err
					return
				}
				pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				err := ws.Ping(pctx) // between two fragments
				cancel()
				if err != nil {
					srvErr <- err
					return
				}
			}
			if err := wr.Close(); err != nil {
				srvErr <- err
				return
			}
		}
		srvErr <- ws.Close(4001, "bye")
	}))
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, bc := dialBatch(t, ctx, srv.URL)
	rest, ok := bc.handshakeRest()
	if !ok {
		t.Fatal("handshakeRest: the end of the handshake response was not found")
	}
	fr := newFrameReader(io.MultiReader(bytes.NewReader(rest), bc), 1<<20)
	pings := 0
	fr.onPing = func(p []byte) error { pings++; return bc.writeMessage(wire.OpPong, p) }
	fr.onClose = func(code []byte) { // as conn does
		if bc.writeMessage(wire.OpClose, code) == nil {
			bc.flush()
		}
	}

	op, msg, err := fr.next()
	if err != nil || op != wire.OpText || string(msg) != "first" {
		t.Fatalf("first message: %d %q %v", op, msg, err)
	}
	for i, n := range sizes {
		op, msg, err := fr.next()
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		want := byte(wire.OpBinary)
		if i%2 == 1 {
			want = wire.OpText
		}
		if op != want || !bytes.Equal(msg, payload(i, n)) {
			t.Fatalf("message %d: opcode %d, %d bytes; want opcode %d, %d bytes as sent", i, op, len(msg), want, n)
		}
	}
	_, _, err = fr.next()
	var ce websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != 4001 || ce.Reason != "bye" {
		t.Fatalf("after the close frame: %v, want a CloseError 4001 bye", err)
	}
	if pings != 3*len(sizes) {
		t.Fatalf("%d pings answered, want %d", pings, 3*len(sizes))
	}
	// The client answered the close: the server's Close handshake ends
	// without error.
	select {
	case err := <-srvErr:
		if err != nil {
			t.Fatalf("server: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the server's Close did not return")
	}
}

// A 103 Early Hints response before the 101 (the HTTP client skips it) and
// a frame right behind the 101, in one write: the stream of frames starts
// right after the 101, and its first frame is read.
func TestHandshakeRestAfterInformationalResponse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		req, err := http.ReadRequest(bufio.NewReader(c))
		if err != nil {
			return
		}
		sum := sha1.Sum([]byte(req.Header.Get("Sec-WebSocket-Key") + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
		fmt.Fprintf(c, "HTTP/1.1 103 Early Hints\r\nLink: </x>; rel=preload\r\n\r\n"+
			"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n"+
			"\x81\x05hello", base64.StdEncoding.EncodeToString(sum[:]))
		time.Sleep(2 * time.Second)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, bc := dialBatch(t, ctx, "http://"+ln.Addr().String())
	rest, ok := bc.handshakeRest()
	if !ok {
		t.Fatal("handshakeRest: the 101 response was not found")
	}
	fr := newFrameReader(io.MultiReader(bytes.NewReader(rest), bc), 1<<20)
	if op, msg, err := fr.next(); err != nil || op != wire.OpText || string(msg) != "hello" {
		t.Fatalf("first frame: %d %q %v", op, msg, err)
	}
}

// Streams the frame reader refuses, each with an error that says what was
// wrong; a message over the limit is websocket.ErrMessageTooBig (the
// transport reports ErrInboundTooLarge for it).
func TestFrameReaderRefuses(t *testing.T) {
	frame := func(b0 byte, payload string) []byte {
		return append([]byte{b0, byte(len(payload))}, payload...)
	}
	cat := func(bs ...[]byte) []byte { return bytes.Join(bs, nil) }
	for _, tc := range []struct {
		name string
		in   []byte
		want string
	}{
		{"reserved bits", frame(0x80|0x40|wire.OpBinary, "x"), "reserved bits"},
		{"masked", []byte{0x80 | wire.OpBinary, 0x81, 1, 2, 3, 4, 'x'}, "masked frame"},
		{"unknown data opcode", frame(0x80|3, "x"), "unknown opcode 3"},
		{"unknown control opcode", frame(0x80|11, "x"), "unknown opcode 11"},
		{"control too long", append([]byte{0x80 | wire.OpPing, 126, 0, 200}, make([]byte, 200)...), "control frame longer"},
		{"fragmented control", frame(wire.OpPing, "x"), "fragmented"},
		{"continuation first", frame(0x80|wire.OpContinuation, "x"), "continuation frame without"},
		{"new message mid-way", cat(frame(wire.OpBinary, "a"), frame(0x80|wire.OpBinary, "b")), "new message before"},
		{"length MSB", []byte{0x80 | wire.OpBinary, 127, 0x80, 0, 0, 0, 0, 0, 0, 1}, "most significant bit"},
		{"invalid UTF-8 text", frame(0x80|wire.OpText, "\xff\xfe"), "not valid UTF-8"},
		{"over the limit", frame(0x80|wire.OpBinary, strings.Repeat("x", 11)), "message too big"},
		{"over the limit in fragments", cat(frame(wire.OpBinary, "123456"), frame(0x80|wire.OpContinuation, "123456")), "message too big"},
		{"one-byte close", frame(0x80|wire.OpClose, "x"), "one-byte payload"},
		{"cut in the header", []byte{0x80 | wire.OpBinary, 126, 1}, io.ErrUnexpectedEOF.Error()},
		{"cut in the payload", []byte{0x80 | wire.OpBinary, 5, 'a'}, io.ErrUnexpectedEOF.Error()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fr := newFrameReader(bytes.NewReader(tc.in), 10)
			_, _, err := fr.next()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
			if strings.HasPrefix(tc.name, "over the limit") && !errors.Is(err, websocket.ErrMessageTooBig) {
				t.Fatalf("error %v is not websocket.ErrMessageTooBig", err)
			}
			if !strings.HasPrefix(tc.name, "over") && !strings.HasPrefix(tc.name, "cut") && !errors.Is(err, ErrProtocol) {
				t.Fatalf("error %v is not ErrProtocol", err)
			}
		})
	}
	// A clean end between frames is io.EOF; a message exactly at the
	// limit is read.
	fr := newFrameReader(bytes.NewReader(frame(0x80|wire.OpBinary, "0123456789")), 10)
	if _, msg, err := fr.next(); err != nil || string(msg) != "0123456789" {
		t.Fatalf("message at the limit: %q %v", msg, err)
	}
	if _, _, err := fr.next(); err != io.EOF {
		t.Fatalf("after the last frame: %v, want io.EOF", err)
	}
}
