package wire

import (
	"bytes"
	"compress/gzip"
	"encoding/gob"
	"encoding/json"
	"fmt"
	"io"
)

// Encoder encodes envelopes into frames. It is not safe for concurrent use;
// a connection has one, owned by its writer.
type Encoder struct {
	opts Options
	buf  bytes.Buffer
	zbuf bytes.Buffer
	zw   *gzip.Writer
}

// NewEncoder returns an Encoder for opts.
func NewEncoder(opts Options) *Encoder {
	return &Encoder{opts: opts}
}

// EncodeReq returns the frame for r. The result is valid until the next call.
func (e *Encoder) EncodeReq(r *Req) ([]byte, error) { return e.encode(r) }

// EncodeResp returns the frame for r. The result is valid until the next call.
func (e *Encoder) EncodeResp(r *Resp) ([]byte, error) { return e.encode(r) }

func (e *Encoder) encode(v any) ([]byte, error) {
	e.buf.Reset()
	switch e.opts.Encoding {
	case JSON:
		if err := json.NewEncoder(&e.buf).Encode(v); err != nil {
			return nil, fmt.Errorf("wire: encode json envelope: %w", err)
		}
		e.buf.Truncate(e.buf.Len() - 1) // the newline json.Encoder adds
	default:
		// A fresh gob encoder per frame: each frame must carry its own type
		// definition (WIRE.md 2.3).
		if err := gob.NewEncoder(&e.buf).Encode(v); err != nil {
			return nil, fmt.Errorf("wire: encode gob envelope: %w", err)
		}
	}
	out := e.buf.Bytes()
	if e.opts.Gzip {
		e.zbuf.Reset()
		if e.zw == nil {
			e.zw = gzip.NewWriter(&e.zbuf)
		} else {
			e.zw.Reset(&e.zbuf)
		}
		if _, err := e.zw.Write(out); err != nil {
			return nil, fmt.Errorf("wire: gzip: %w", err)
		}
		if err := e.zw.Close(); err != nil {
			return nil, fmt.Errorf("wire: gzip: %w", err)
		}
		out = e.zbuf.Bytes()
	}
	if e.opts.MaxFrame > 0 && len(out) > e.opts.MaxFrame {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrFrameTooLarge, len(out), e.opts.MaxFrame)
	}
	return out, nil
}

// Decoder decodes frames into envelopes. It is not safe for concurrent use;
// a connection has one, owned by its reader.
type Decoder struct {
	opts Options
	zr   *gzip.Reader
	rd   bytes.Reader
	buf  bytes.Buffer
}

// NewDecoder returns a Decoder for opts.
func NewDecoder(opts Options) *Decoder {
	return &Decoder{opts: opts}
}

// DecodeResp decodes a frame into r, which is zeroed first. r.Data may alias
// the frame or an internal buffer and is valid until the next call.
func (d *Decoder) DecodeResp(frame []byte, r *Resp) error {
	*r = Resp{}
	return d.decode(frame, r)
}

// DecodeReq decodes a frame into r, which is zeroed first. r.Data is valid
// until the next call.
func (d *Decoder) DecodeReq(frame []byte, r *Req) error {
	*r = Req{}
	return d.decode(frame, r)
}

func (d *Decoder) decode(frame []byte, v any) error {
	if d.opts.MaxFrame > 0 && len(frame) > d.opts.MaxFrame {
		return fmt.Errorf("%w: %d bytes, limit %d", ErrFrameTooLarge, len(frame), d.opts.MaxFrame)
	}
	body := frame
	if d.opts.Gzip {
		d.rd.Reset(frame)
		var err error
		if d.zr == nil {
			d.zr, err = gzip.NewReader(&d.rd)
		} else {
			err = d.zr.Reset(&d.rd)
		}
		if err != nil {
			return fmt.Errorf("%w: gunzip: %v", ErrBadFrame, err)
		}
		d.buf.Reset()
		n, err := d.buf.ReadFrom(io.LimitReader(d.zr, maxInflated+1))
		if err != nil {
			return fmt.Errorf("%w: gunzip: %v", ErrBadFrame, err)
		}
		if n > maxInflated {
			return fmt.Errorf("%w: inflates to more than %d bytes", ErrFrameTooLarge, maxInflated)
		}
		body = d.buf.Bytes()
	}
	switch d.opts.Encoding {
	case JSON:
		if err := json.Unmarshal(body, v); err != nil {
			return fmt.Errorf("%w: json envelope: %v", ErrBadFrame, err)
		}
	default:
		if err := gob.NewDecoder(bytes.NewReader(body)).Decode(v); err != nil {
			return fmt.Errorf("%w: gob envelope: %v", ErrBadFrame, err)
		}
	}
	return nil
}
