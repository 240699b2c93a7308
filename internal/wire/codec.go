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
	"sync"
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
// fresh gob.Encoder writes; one compressor is reused. Release lets go of
// large buffers and of the compressor when the connection goes idle.
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
	if e.opts.Gzip && len(out) < e.opts.GzipMinSize {
		e.zout = appendStoredGzip(e.zout[:0], out)
		out = e.zout
	} else if e.opts.Gzip && e.opts.GzipLevel == GzipFixedHuffman {
		if e.fz == nil {
			e.fz = fastGzipPool.Get().(*fastGzip)
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
			if p := gzipWriterPool(level); p != nil {
				if zw, ok := p.Get().(*gzip.Writer); ok {
					e.zw = zw
				}
			}
			if e.zw == nil {
				zw, err := gzip.NewWriterLevel(&e.zbuf, level)
				if err != nil {
					return nil, fmt.Errorf("wire: encode %s: gzip: %w", what, err)
				}
				e.zw = zw
			}
		}
		e.zw.Reset(&e.zbuf)
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

// keepEncode is the largest buffer an Encoder keeps through Release.
const keepEncode = 16 << 10

// Release drops what the Encoder holds beyond small buffers: buffers over
// 16 KiB, and its compressor (about 32 KB for GzipFixedHuffman, several
// hundred KB for compress/gzip levels), which goes to a pool shared by the
// process. Call it when the connection goes idle, so that idle connections
// hold little; the frame last returned becomes invalid. The next frame
// takes what it needs again.
func (e *Encoder) Release() {
	if cap(e.val) > keepEncode {
		e.val = nil
	}
	if cap(e.out) > keepEncode {
		e.out = nil
	}
	if cap(e.zout) > keepEncode {
		e.zout = nil
	}
	if e.zbuf.Cap() > keepEncode {
		e.zbuf = bytes.Buffer{}
	}
	if e.fresh.Cap() > keepEncode {
		e.fresh = bytes.Buffer{}
	}
	if e.fz != nil {
		fastGzipPool.Put(e.fz)
		e.fz = nil
	}
	if e.zw != nil {
		level := e.opts.GzipLevel
		if level == 0 {
			level = gzipLevel
		}
		if p := gzipWriterPool(level); p != nil {
			e.zw.Reset(io.Discard) // let go of e.zbuf
			p.Put(e.zw)
		}
		e.zw = nil
	}
}

// Compressors shared through Release: the built-in encoder's table and one
// pool of gzip.Writers per compress/gzip level.
var (
	fastGzipPool = sync.Pool{New: func() any { return new(fastGzip) }}
	gzipWriters  [gzip.BestCompression - gzip.HuffmanOnly + 1]sync.Pool
)

// gzipWriterPool returns the pool of gzip.Writers of level, or nil for an
// invalid level.
func gzipWriterPool(level int) *sync.Pool {
	if level < gzip.HuffmanOnly || level > gzip.BestCompression {
		return nil
	}
	return &gzipWriters[level-gzip.HuffmanOnly]
}

// Decoder decodes frames into envelopes. It is not safe for concurrent use;
// a connection has one, owned by its reader.
//
// Gob frames are decoded without a gob.Decoder on the hot path: the
// Decoder caches the type-definition prefix of the peer's frames and parses
// the value by hand; a new prefix is checked against encoding/gob first, and
// anything the hand parser does not handle goes through a fresh
// gob.Decoder, so results are always those of encoding/gob. Gzip frames are
// inflated by a built-in whole-frame inflater; a frame it does not accept
// goes through compress/gzip, so results and errors are always those of
// compress/gzip.
//
// Inflate memory is bounded per frame by Options.MaxInflated (the output
// grows as it is produced, up to the limit, never sized in advance from
// what the frame claims) and across Decoders by Options.InflateBudget. A
// Decoder keeps an output buffer of at most 16 KiB between frames; larger
// ones, the inflater's tables and compress/gzip's reader go back to the
// garbage collector or to shared pools after each frame, so an idle
// connection holds no inflate buffer beyond that.
type Decoder struct {
	opts   Options
	log    *slog.Logger
	budget *InflateBudget
	zout   []byte // output buffer kept for the next frame, cap <= keepInflate
	rd     bytes.Reader
	req    descCache
	resp   descCache
	v      vals
	sb     strings.Builder
	jbuf   []byte // decoded JSON data
}

// NewDecoder returns a Decoder for opts.
func NewDecoder(opts Options) *Decoder {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	budget := opts.InflateBudget
	if budget == nil {
		budget = defaultBudget
	}
	return &Decoder{opts: opts, log: log, budget: budget}
}

// Pools of what inflating needs only while a frame is inflated: the
// inflater's tables (about 9 KB) and compress/gzip's reader (about 45 KB
// with its window).
var (
	inflaterPool = sync.Pool{New: func() any { return new(inflater) }}
	gzipPool     = sync.Pool{New: func() any { return new(gzip.Reader) }}
)

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

// RespView is a Resp whose string fields are bytes that alias the frame or
// the Decoder's buffers, for a reader that only looks at them (or copies
// the few it keeps): DecodeRespView allocates nothing for them.
type RespView struct {
	ReqIdentifier int32
	MsgIncr       []byte
	OperationID   []byte
	ErrCode       int
	ErrMsg        []byte
	Data          []byte
}

// DecodeRespView decodes a frame into v as DecodeResp does, without
// converting the string fields to strings. v is zeroed first; its slices
// are valid until the next call (and while frame is unchanged). On error v
// is zero and the error wraps ErrBadFrame or ErrFrameTooLarge.
func (d *Decoder) DecodeRespView(frame []byte, v *RespView) error {
	*v = RespView{}
	body, err := d.body(frame, "resp")
	if err != nil {
		return err
	}
	if d.opts.Encoding != JSON {
		// The gob fast path of gobResp, for a known type prefix whose
		// plan applies.
		if at, ms, me, id, ok := splitGob(body); ok {
			if e := d.resp.lookup(body[:at]); e != nil && e.plan != nil && e.id == id && e.plan.parse(body[:me], ms, &d.v) {
				d.v.fillRespView(body, v)
				return nil
			}
		}
	}
	var r Resp
	if d.opts.Encoding == JSON {
		err = d.jsonResp(body, &r)
	} else {
		err = d.gobResp(body, &r)
	}
	if err != nil {
		return err
	}
	*v = RespView{ReqIdentifier: r.ReqIdentifier, ErrCode: r.ErrCode, Data: r.Data}
	if r.MsgIncr != "" {
		v.MsgIncr = []byte(r.MsgIncr)
	}
	if r.OperationID != "" {
		v.OperationID = []byte(r.OperationID)
	}
	if r.ErrMsg != "" {
		v.ErrMsg = []byte(r.ErrMsg)
	}
	return nil
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
	f := inflaterPool.Get().(*inflater)
	f.budget, f.over = d.budget, false
	defer func() {
		f.release()
		f.budget = nil
		inflaterPool.Put(f)
	}()
	fast := limit
	if fast < 0 {
		fast = math.MaxInt
	}
	out, ok := f.gunzip(d.zout[:0], frame, fast)
	d.keep(out)
	switch {
	case ok:
		return out, nil
	case f.over:
		// The bytes up to the limit were valid: compress/gzip would
		// have read one more and stopped with this error.
		return nil, &SizeError{Op: "decode " + what, Size: limit + 1, Limit: limit, Inflated: true}
	}
	return d.gunzipStd(f, frame, what, limit)
}

// keep keeps out as the next frame's output buffer if it is small (the
// buffer it replaced is free again: out's bytes were copied from it).
func (d *Decoder) keep(out []byte) {
	if cap(out) <= keepInflate {
		d.zout = out[:0]
	}
}

// gunzipStd inflates frame with compress/gzip (multistream), bounded by
// limit (negative: none), growing its output as the inflater does, under
// f's budget.
func (d *Decoder) gunzipStd(f *inflater, frame []byte, what string, limit int) ([]byte, error) {
	d.rd.Reset(frame)
	zr := gzipPool.Get().(*gzip.Reader)
	defer gzipPool.Put(zr)
	if err := zr.Reset(&d.rd); err != nil {
		return nil, fmt.Errorf("%w: decode %s: gunzip: %w", ErrBadFrame, what, err)
	}
	most := limit
	if limit < 0 {
		most = math.MaxInt
	}
	out := d.zout[:0]
	defer func() { d.keep(out) }()
	for {
		if len(out) == min(cap(out), most) {
			if len(out) == most {
				// Full: one byte more is over the limit.
				var one [1]byte
				n, err := io.ReadFull(zr, one[:])
				switch {
				case n == 1:
					return nil, &SizeError{Op: "decode " + what, Size: most + 1, Limit: limit, Inflated: true}
				case err == io.EOF:
					return out, nil
				}
				return nil, fmt.Errorf("%w: decode %s: gunzip: %w", ErrBadFrame, what, err)
			}
			next, _ := f.grow(out[:cap(out)], len(out), 1, most)
			out = next[:len(out)]
		}
		n, err := zr.Read(out[len(out):min(cap(out), most)])
		out = out[:len(out)+n]
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%w: decode %s: gunzip: %w", ErrBadFrame, what, err)
		}
	}
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
