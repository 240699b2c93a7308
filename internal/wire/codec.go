package wire

import (
	"bytes"
	"compress/gzip"
	"encoding/gob"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"strings"
)

// gzipLevel is the compression level of outgoing gzip frames.
// BenchmarkGzipLevel (a ~600-byte push frame, stdlib compress/gzip with a
// reused Writer) measured BestSpeed at about half the cost of
// DefaultCompression for the same size within a few bytes, so outgoing
// frames use BestSpeed. Receivers accept any level (docs/protocol.md section 2.5).
const gzipLevel = gzip.BestSpeed

// Encoder encodes envelopes into frames. It is not safe for concurrent use;
// a connection has one, owned by its writer. It allocates nothing per frame
// in steady state: gob frames are the cached type definitions (computed once
// per Encoder) followed by a hand-encoded value, byte-identical to what a
// fresh gob.Encoder writes; one gzip.Writer is reused.
type Encoder struct {
	opts  Options
	val   []byte // value message payload / JSON text
	out   []byte // uncompressed frame
	zbuf  bytes.Buffer
	zw    *gzip.Writer
	fz    *fastGzip // GzipFixedHuffman
	zout  []byte    // fz's output
	req   gobSplice
	resp  gobSplice
	fresh bytes.Buffer
}

// NewEncoder returns an Encoder for opts.
func NewEncoder(opts Options) *Encoder {
	return &Encoder{opts: opts}
}

// EncodeReq returns the frame for r. The result is valid until the next call.
func (e *Encoder) EncodeReq(r *Req) ([]byte, error) {
	switch e.opts.Encoding {
	case JSON:
		e.out = appendReqJSON(e.out[:0], r)
	default:
		if !e.req.done {
			e.req.init(probeReq(), func(b []byte) []byte { return appendReqValue(b, probeReq()) })
		}
		if !e.req.ok {
			return e.fallback(r, "req")
		}
		e.val = appendReqValue(e.val[:0], r)
		e.out = e.req.splice(e.out[:0], e.val)
	}
	return e.finish(e.out, "req")
}

// EncodeResp returns the frame for r. The result is valid until the next call.
func (e *Encoder) EncodeResp(r *Resp) ([]byte, error) {
	switch e.opts.Encoding {
	case JSON:
		e.out = appendRespJSON(e.out[:0], r)
	default:
		if !e.resp.done {
			e.resp.init(probeResp(), func(b []byte) []byte { return appendRespValue(b, probeResp()) })
		}
		if !e.resp.ok {
			return e.fallback(r, "resp")
		}
		e.val = appendRespValue(e.val[:0], r)
		e.out = e.resp.splice(e.out[:0], e.val)
	}
	return e.finish(e.out, "resp")
}

// fallback encodes v with a fresh gob.Encoder (only if splicing could not
// be set up, which the tests show does not happen).
func (e *Encoder) fallback(v any, what string) ([]byte, error) {
	e.fresh.Reset()
	if err := gob.NewEncoder(&e.fresh).Encode(v); err != nil {
		return nil, fmt.Errorf("wire: encode %s: gob: %w", what, err)
	}
	return e.finish(e.fresh.Bytes(), what)
}

func (e *Encoder) finish(out []byte, what string) ([]byte, error) {
	if e.opts.Gzip && e.opts.GzipLevel == GzipFixedHuffman {
		if e.fz == nil {
			e.fz = new(fastGzip)
		}
		e.zout = e.fz.appendGzip(e.zout[:0], out)
		out = e.zout
	} else if e.opts.Gzip {
		e.zbuf.Reset()
		if e.zw == nil {
			level := e.opts.GzipLevel
			if level == 0 {
				level = gzipLevel
			}
			zw, err := gzip.NewWriterLevel(&e.zbuf, level)
			if err != nil {
				return nil, fmt.Errorf("wire: encode %s: gzip: %w", what, err)
			}
			e.zw = zw
		} else {
			e.zw.Reset(&e.zbuf)
		}
		if _, err := e.zw.Write(out); err != nil {
			return nil, fmt.Errorf("wire: encode %s: gzip: %w", what, err)
		}
		if err := e.zw.Close(); err != nil {
			return nil, fmt.Errorf("wire: encode %s: gzip: %w", what, err)
		}
		out = e.zbuf.Bytes()
	}
	if e.opts.MaxFrame > 0 && len(out) > e.opts.MaxFrame {
		return nil, &SizeError{Op: "encode " + what, Size: len(out), Limit: e.opts.MaxFrame}
	}
	return out, nil
}

// Decoder decodes frames into envelopes. It is not safe for concurrent use;
// a connection has one, owned by its reader.
//
// Gob frames are decoded without a gob.Decoder on the hot path: the
// Decoder caches the type-definition prefix of the peer's frames and parses
// the value by hand; a new prefix is checked against encoding/gob first, and
// anything the hand parser does not handle goes through a fresh
// gob.Decoder, so results are always those of encoding/gob. Gzip frames are
// inflated by a built-in whole-frame inflater whose tables and output buffer
// are reused; a frame it does not accept goes through compress/gzip (one
// gzip.Reader and one buffer, reused), so results and errors are always
// those of compress/gzip.
type Decoder struct {
	opts Options
	log  *slog.Logger
	inf  *inflater // nil until the first gzip frame
	zout []byte    // inf's output
	zr   *gzip.Reader
	rd   bytes.Reader
	lr   io.LimitedReader
	buf  bytes.Buffer
	req  descCache
	resp descCache
	v    vals
	sb   strings.Builder
	jbuf []byte // decoded JSON data
}

// NewDecoder returns a Decoder for opts.
func NewDecoder(opts Options) *Decoder {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Decoder{opts: opts, log: log}
}

// DecodeResp decodes a frame into r, which is zeroed first. r.Data may alias
// the frame or an internal buffer and is valid until the next call (and
// while frame is unchanged). On error r is zero and the error wraps
// ErrBadFrame or ErrFrameTooLarge.
func (d *Decoder) DecodeResp(frame []byte, r *Resp) error {
	*r = Resp{}
	body, err := d.body(frame, "resp")
	if err == nil {
		switch d.opts.Encoding {
		case JSON:
			err = d.jsonResp(body, r)
		default:
			err = d.gobResp(body, r)
		}
	}
	if err != nil {
		*r = Resp{}
	}
	return err
}

// DecodeReq decodes a frame into r, which is zeroed first. r.Data may alias
// the frame or an internal buffer and is valid until the next call (and
// while frame is unchanged). On error r is zero and the error wraps
// ErrBadFrame or ErrFrameTooLarge.
func (d *Decoder) DecodeReq(frame []byte, r *Req) error {
	*r = Req{}
	body, err := d.body(frame, "req")
	if err == nil {
		switch d.opts.Encoding {
		case JSON:
			err = d.jsonReq(body, r)
		default:
			err = d.gobReq(body, r)
		}
	}
	if err != nil {
		*r = Req{}
	}
	return err
}

// body checks the frame size and gunzips it if so configured.
func (d *Decoder) body(frame []byte, what string) ([]byte, error) {
	if d.opts.MaxFrame > 0 && len(frame) > d.opts.MaxFrame {
		return nil, &SizeError{Op: "decode " + what, Size: len(frame), Limit: d.opts.MaxFrame}
	}
	if !d.opts.Gzip {
		return frame, nil
	}
	limit := d.opts.MaxInflated
	if limit == 0 {
		limit = DefaultMaxInflated
	}
	if d.inf == nil {
		d.inf = new(inflater)
	}
	fast := limit
	if fast < 0 {
		fast = math.MaxInt
	}
	out, ok := d.inf.gunzip(d.zout[:0], frame, fast)
	d.zout = out
	if ok {
		return out, nil
	}
	return d.gunzipStd(frame, what, limit)
}

// gunzipStd inflates frame with compress/gzip (multistream) into d.buf,
// bounded by limit (negative: none).
func (d *Decoder) gunzipStd(frame []byte, what string, limit int) ([]byte, error) {
	d.rd.Reset(frame)
	var err error
	if d.zr == nil {
		d.zr, err = gzip.NewReader(&d.rd)
	} else {
		err = d.zr.Reset(&d.rd)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: decode %s: gunzip: %w", ErrBadFrame, what, err)
	}
	d.buf.Reset()
	var src io.Reader = d.zr
	if limit > 0 {
		d.lr = io.LimitedReader{R: d.zr, N: int64(limit) + 1}
		src = &d.lr
	}
	n, err := d.buf.ReadFrom(src)
	if err != nil {
		return nil, fmt.Errorf("%w: decode %s: gunzip: %w", ErrBadFrame, what, err)
	}
	if limit > 0 && n > int64(limit) {
		return nil, &SizeError{Op: "decode " + what, Size: int(n), Limit: limit, Inflated: true}
	}
	return d.buf.Bytes(), nil
}

func decodeJSON(body []byte, v any, what string) error {
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("%w: decode %s: json envelope: %w", ErrBadFrame, what, err)
	}
	return nil
}

func (d *Decoder) gobResp(body []byte, r *Resp) error {
	at, ms, me, id, ok := splitGob(body)
	if !ok {
		return gobDecode(body, r)
	}
	if e := d.resp.lookup(body[:at]); e != nil {
		if e.plan != nil && e.id == id && e.plan.parse(body[:me], ms, &d.v) {
			d.v.fillResp(body, r, &d.sb)
			return nil
		}
		return gobDecode(body, r)
	}
	// A new prefix: encoding/gob decides, the hand parser is checked.
	if err := gobDecode(body, r); err != nil {
		return err
	}
	e := &descEntry{prefix: bytes.Clone(body[:at]), id: id, plan: buildPlan(body[:at], &respTarget)}
	if e.plan != nil {
		var got Resp
		ok := e.plan.parse(body[:me], ms, &d.v)
		if ok {
			d.v.fillResp(body, &got, &d.sb)
		}
		if !ok || !equalResp(&got, r) || !d.verifySynth(e, func(frame []byte) bool {
			var want, got Resp
			if gobDecode(frame, &want) != nil {
				return false
			}
			return d.decodeFast(frame, e, func(msg []byte) { d.v.fillResp(msg, &got, &d.sb) }) && equalResp(&got, &want)
		}) {
			e.plan, e.mismatch = nil, true
		}
	}
	d.learned(e, "resp")
	d.resp.add(e)
	return nil
}

func (d *Decoder) gobReq(body []byte, r *Req) error {
	at, ms, me, id, ok := splitGob(body)
	if !ok {
		return gobDecode(body, r)
	}
	if e := d.req.lookup(body[:at]); e != nil {
		if e.plan != nil && e.id == id && e.plan.parse(body[:me], ms, &d.v) {
			d.v.fillReq(body, r, &d.sb)
			return nil
		}
		return gobDecode(body, r)
	}
	if err := gobDecode(body, r); err != nil {
		return err
	}
	e := &descEntry{prefix: bytes.Clone(body[:at]), id: id, plan: buildPlan(body[:at], &reqTarget)}
	if e.plan != nil {
		var got Req
		ok := e.plan.parse(body[:me], ms, &d.v)
		if ok {
			d.v.fillReq(body, &got, &d.sb)
		}
		if !ok || !equalReq(&got, r) || !d.verifySynth(e, func(frame []byte) bool {
			var want, got Req
			if gobDecode(frame, &want) != nil {
				return false
			}
			return d.decodeFast(frame, e, func(msg []byte) { d.v.fillReq(msg, &got, &d.sb) }) && equalReq(&got, &want)
		}) {
			e.plan, e.mismatch = nil, true
		}
	}
	d.learned(e, "req")
	d.req.add(e)
	return nil
}

// verifySynth builds a frame of e's prefix and a value setting every field,
// and reports check(frame).
func (d *Decoder) verifySynth(e *descEntry, check func(frame []byte) bool) bool {
	s := gobSplice{prefix: e.prefix, id: e.id}
	return check(s.splice(nil, e.plan.synthValue(nil)))
}

// decodeFast runs the hand parser of e on frame and calls fill on success.
func (d *Decoder) decodeFast(frame []byte, e *descEntry, fill func(msg []byte)) bool {
	at, ms, me, id, ok := splitGob(frame)
	if !ok || id != e.id || !bytes.Equal(frame[:at], e.prefix) || !e.plan.parse(frame[:me], ms, &d.v) {
		return false
	}
	fill(frame)
	return true
}

func (d *Decoder) learned(e *descEntry, what string) {
	switch {
	case e.mismatch:
		d.log.Warn("wire: gob fast path disagrees with encoding/gob; using encoding/gob for this type descriptor",
			"envelope", what, "descriptor_bytes", len(e.prefix))
	case e.plan == nil:
		d.log.Debug("wire: gob type descriptor not handled by the fast path; using encoding/gob",
			"envelope", what, "descriptor_bytes", len(e.prefix))
	default:
		d.log.Debug("wire: new gob type descriptor verified", "envelope", what, "descriptor_bytes", len(e.prefix))
	}
}

func equalResp(a, b *Resp) bool {
	return a.ReqIdentifier == b.ReqIdentifier && a.MsgIncr == b.MsgIncr && a.OperationID == b.OperationID &&
		a.ErrCode == b.ErrCode && a.ErrMsg == b.ErrMsg && bytes.Equal(a.Data, b.Data)
}

func equalReq(a, b *Req) bool {
	return a.ReqIdentifier == b.ReqIdentifier && a.Token == b.Token && a.SendID == b.SendID &&
		a.OperationID == b.OperationID && a.MsgIncr == b.MsgIncr && bytes.Equal(a.Data, b.Data)
}
