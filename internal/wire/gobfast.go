package wire

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"math"
	"math/bits"
	"strings"
)

// This file holds the gob fast paths (docs/performance.md stage 1).
//
// Decode: a gob frame is a sequence of messages, each [uint count][int type
// id][payload]. The first messages carry type definitions (negative ids),
// the last one the value. The type definitions of one peer are the same on
// every frame, so the Decoder caches them (the "prefix") together with a
// plan derived from them, and parses the value message by hand. A prefix
// seen for the first time is decoded with encoding/gob, and the hand parser
// is checked against encoding/gob on that frame and on a synthetic frame
// that sets every field; if they disagree, or the prefix is anything but
// one flat struct of basic fields, that prefix always goes through a fresh
// gob.Decoder. A frame the hand parser rejects also goes to gob, so the
// fast path only ever returns what encoding/gob would.
//
// Encode: a fresh gob.Encoder writes the type definitions and then the
// value. The definitions depend only on the Go type (and the process-wide
// gob type ids), so the Encoder computes them once and hand-encodes the
// value message; the result is byte-identical to a fresh encoder's.

// gob's predefined type ids (encoding/gob type.go).
const (
	gobBool    = 1
	gobInt     = 2
	gobUint    = 3
	gobFloat   = 4
	gobBytes   = 5
	gobString  = 6
	gobComplex = 7
)

// readUint reads a gob unsigned integer at b[p:].
func readUint(b []byte, p int) (x uint64, next int, ok bool) {
	if p >= len(b) {
		return 0, p, false
	}
	c := b[p]
	p++
	if c <= 0x7f {
		return uint64(c), p, true
	}
	n := -int(int8(c))
	if n > 8 || len(b)-p < n {
		return 0, p, false
	}
	for _, c := range b[p : p+n] {
		x = x<<8 | uint64(c)
	}
	return x, p + n, true
}

// readInt reads a gob signed integer at b[p:].
func readInt(b []byte, p int) (int64, int, bool) {
	x, p, ok := readUint(b, p)
	if x&1 != 0 {
		return ^int64(x >> 1), p, ok
	}
	return int64(x >> 1), p, ok
}

// readLen reads a gob length followed by that many bytes and returns the
// bytes' bounds.
func readLen(b []byte, p int) (start, end int, ok bool) {
	n, p, ok := readUint(b, p)
	if !ok || n > uint64(len(b)-p) {
		return 0, 0, false
	}
	return p, p + int(n), true
}

func appendUint(b []byte, x uint64) []byte {
	if x <= 0x7f {
		return append(b, byte(x))
	}
	n := 8 - bits.LeadingZeros64(x)/8
	b = append(b, byte(-n))
	for i := n - 1; i >= 0; i-- {
		b = append(b, byte(x>>(8*uint(i))))
	}
	return b
}

func appendInt(b []byte, i int64) []byte {
	var x uint64
	if i < 0 {
		x = uint64(^i<<1) | 1
	} else {
		x = uint64(i << 1)
	}
	return appendUint(b, x)
}

func appendGobString(b []byte, s string) []byte {
	return append(appendUint(b, uint64(len(s))), s...)
}

// splitGob finds the value message of a gob stream: valueAt is where its
// count starts (everything before is type definitions), [msgStart, msgEnd)
// is its payload after the type id.
func splitGob(b []byte) (valueAt, msgStart, msgEnd int, id int64, ok bool) {
	p := 0
	for {
		at := p
		start, end, ok := readLen(b, p)
		if !ok || start == end {
			return 0, 0, 0, 0, false
		}
		id, q, ok := readInt(b[:end], start)
		if !ok {
			return 0, 0, 0, 0, false
		}
		if id >= 0 {
			return at, q, end, id, true
		}
		p = end
	}
}

// Target structs. A slot is a field of Req or Resp, by declaration order.
type slotKind uint8

const (
	slotInt32 slotKind = iota
	slotInt
	slotString
	slotBytes
)

const numSlots = 6

type target struct {
	name      string
	names     [numSlots]string
	jsonNames [numSlots]string
	kinds     [numSlots]slotKind
}

// The target tables are read-only.
var (
	reqTarget = target{
		name:      "Req",
		names:     [numSlots]string{"ReqIdentifier", "Token", "SendID", "OperationID", "MsgIncr", "Data"},
		jsonNames: [numSlots]string{"reqIdentifier", "token", "sendID", "operationID", "msgIncr", "data"},
		kinds:     [numSlots]slotKind{slotInt32, slotString, slotString, slotString, slotString, slotBytes},
	}
	respTarget = target{
		name:      "Resp",
		names:     [numSlots]string{"ReqIdentifier", "MsgIncr", "OperationID", "ErrCode", "ErrMsg", "Data"},
		jsonNames: [numSlots]string{"reqIdentifier", "msgIncr", "operationID", "errCode", "errMsg", "data"},
		kinds:     [numSlots]slotKind{slotInt32, slotString, slotString, slotInt, slotString, slotBytes},
	}
)

// Field operations of a plan.
const (
	opSkipUint  = iota // bool, int, uint, float not in the target
	opSkipTwo          // complex not in the target
	opSkipBytes        // string, []byte not in the target
	opInt32
	opInt
	opString
	opBytes
)

type fieldOp struct {
	op   uint8
	slot uint8
}

// plan maps the wire fields of one struct definition to target slots.
type plan struct {
	ops []fieldOp
}

type wireField struct {
	name string
	id   int64
}

// parseStructDef parses a prefix made of exactly one type definition of a
// struct whose fields all have predefined types. It is strict: any other
// shape is reported as not ok (and handled by encoding/gob).
func parseStructDef(prefix []byte) (id int64, fields []wireField, ok bool) {
	start, end, ok := readLen(prefix, 0)
	if !ok || end != len(prefix) {
		return 0, nil, false
	}
	m := prefix[:end]
	negID, p, ok := readInt(m, start)
	if !ok || negID >= 0 {
		return 0, nil, false
	}
	id = -negID
	// wireType: only StructT (field 2, delta 3).
	if d, q, ok := readUint(m, p); !ok || d != 3 {
		return 0, nil, false
	} else {
		p = q
	}
	var name string
	commonID := int64(-1)
	fnum := -1
	for {
		d, q, ok := readUint(m, p)
		if !ok {
			return 0, nil, false
		}
		p = q
		if d == 0 {
			break
		}
		if d > 2 {
			return 0, nil, false
		}
		fnum += int(d)
		switch fnum {
		case 0: // CommonType{Name string; Id typeId}
			name, commonID, p, ok = readNameID(m, p)
			if !ok {
				return 0, nil, false
			}
		case 1: // Field []fieldType{Name string; Id typeId}
			n, q, ok := readUint(m, p)
			if !ok || n == 0 || n > 64 {
				return 0, nil, false
			}
			p = q
			fields = make([]wireField, 0, n)
			for range n {
				var f wireField
				f.name, f.id, p, ok = readNameID(m, p)
				if !ok || f.name == "" {
					return 0, nil, false
				}
				fields = append(fields, f)
			}
		default:
			return 0, nil, false
		}
	}
	// wireType terminator, then the end of the message.
	if p >= len(m) || m[p] != 0 || p+1 != len(m) {
		return 0, nil, false
	}
	if name == "" || commonID != id || len(fields) == 0 {
		return 0, nil, false
	}
	return id, fields, true
}

// readNameID reads, from p up to and including its terminator, a struct
// value of the shape {Name string; Id typeId} (gob's CommonType and
// fieldType). An absent field is left zero.
func readNameID(m []byte, p int) (name string, id int64, next int, ok bool) {
	f := -1
	for {
		d, q, ok := readUint(m, p)
		if !ok {
			return "", 0, 0, false
		}
		p = q
		if d == 0 {
			return name, id, p, true
		}
		if d > 2 {
			return "", 0, 0, false
		}
		f += int(d)
		switch f {
		case 0:
			s, e, ok := readLen(m, p)
			if !ok {
				return "", 0, 0, false
			}
			name, p = string(m[s:e]), e
		case 1:
			id, p, ok = readInt(m, p)
			if !ok {
				return "", 0, 0, false
			}
		default:
			return "", 0, 0, false
		}
	}
}

// buildPlan returns the plan for prefix decoded into t, or nil when the
// prefix is not one the hand parser handles.
func buildPlan(prefix []byte, t *target) *plan {
	_, fields, ok := parseStructDef(prefix)
	if !ok {
		return nil
	}
	pl := &plan{ops: make([]fieldOp, len(fields))}
	for i, f := range fields {
		slot := -1
		for s, n := range t.names {
			if n == f.name {
				slot = s
				break
			}
		}
		if slot < 0 {
			switch f.id {
			case gobBool, gobInt, gobUint, gobFloat:
				pl.ops[i] = fieldOp{op: opSkipUint}
			case gobComplex:
				pl.ops[i] = fieldOp{op: opSkipTwo}
			case gobBytes, gobString:
				pl.ops[i] = fieldOp{op: opSkipBytes}
			default:
				return nil
			}
			continue
		}
		var op uint8
		switch t.kinds[slot] {
		case slotInt32:
			op = opInt32
			if f.id != gobInt {
				return nil
			}
		case slotInt:
			op = opInt
			if f.id != gobInt {
				return nil
			}
		case slotString:
			op = opString
			if f.id != gobString {
				return nil
			}
		case slotBytes:
			op = opBytes
			if f.id != gobBytes {
				return nil
			}
		}
		pl.ops[i] = fieldOp{op: op, slot: uint8(slot)}
	}
	return pl
}

// vals is the hand parser's result: integers and byte ranges of msg per slot.
type vals struct {
	ints [numSlots]int64
	rng  [numSlots][2]int
}

// parse parses the value message payload msg[p:] the way encoding/gob's
// decodeStruct does. It reports false wherever gob would fail (and in no
// case where gob succeeds, except those tests would have caught).
func (pl *plan) parse(msg []byte, p int, v *vals) bool {
	*v = vals{}
	field := -1
	last := len(pl.ops) - 1
	for p < len(msg) {
		d, q, ok := readUint(msg, p)
		if !ok {
			return false
		}
		p = q
		if d == 0 {
			break
		}
		if d > uint64(last-field) {
			return false
		}
		field += int(d)
		f := pl.ops[field]
		switch f.op {
		case opSkipUint:
			if _, p, ok = readUint(msg, p); !ok {
				return false
			}
		case opSkipTwo:
			if _, p, ok = readUint(msg, p); !ok {
				return false
			}
			if _, p, ok = readUint(msg, p); !ok {
				return false
			}
		case opSkipBytes:
			if _, p, ok = readLen(msg, p); !ok {
				return false
			}
		case opInt32, opInt:
			var x int64
			if x, p, ok = readInt(msg, p); !ok {
				return false
			}
			if f.op == opInt32 && (x < math.MinInt32 || x > math.MaxInt32) {
				return false
			}
			if f.op == opInt && (x < math.MinInt || x > math.MaxInt) {
				return false
			}
			v.ints[f.slot] = x
		case opString, opBytes:
			var s, e int
			if s, e, ok = readLen(msg, p); !ok {
				return false
			}
			v.rng[f.slot] = [2]int{s, e}
			p = e
		}
	}
	return true
}

// stringsOf converts the string slots of v to strings with one allocation.
func stringsOf(msg []byte, v *vals, t *target, sb *strings.Builder) (out [numSlots]string) {
	total := 0
	for s, k := range t.kinds {
		if k == slotString {
			total += v.rng[s][1] - v.rng[s][0]
		}
	}
	if total == 0 {
		return out
	}
	sb.Reset()
	sb.Grow(total)
	for s, k := range t.kinds {
		if k == slotString {
			sb.Write(msg[v.rng[s][0]:v.rng[s][1]])
		}
	}
	all := sb.String()
	off := 0
	for s, k := range t.kinds {
		if k == slotString {
			n := v.rng[s][1] - v.rng[s][0]
			out[s] = all[off : off+n]
			off += n
		}
	}
	return out
}

func bytesOf(msg []byte, r [2]int) []byte {
	if r[0] == r[1] {
		return nil
	}
	return msg[r[0]:r[1]:r[1]]
}

func (v *vals) fillResp(msg []byte, r *Resp, sb *strings.Builder) {
	s := stringsOf(msg, v, &respTarget, sb)
	*r = Resp{
		ReqIdentifier: int32(v.ints[0]),
		MsgIncr:       s[1],
		OperationID:   s[2],
		ErrCode:       int(v.ints[3]),
		ErrMsg:        s[4],
		Data:          bytesOf(msg, v.rng[5]),
	}
}

func (v *vals) fillRespView(msg []byte, r *RespView) {
	*r = RespView{
		ReqIdentifier: int32(v.ints[0]),
		MsgIncr:       bytesOf(msg, v.rng[1]),
		OperationID:   bytesOf(msg, v.rng[2]),
		ErrCode:       int(v.ints[3]),
		ErrMsg:        bytesOf(msg, v.rng[4]),
		Data:          bytesOf(msg, v.rng[5]),
	}
}

func (v *vals) fillReq(msg []byte, r *Req, sb *strings.Builder) {
	s := stringsOf(msg, v, &reqTarget, sb)
	*r = Req{
		ReqIdentifier: int32(v.ints[0]),
		Token:         s[1],
		SendID:        s[2],
		OperationID:   s[3],
		MsgIncr:       s[4],
		Data:          bytesOf(msg, v.rng[5]),
	}
}

// synthValue builds a value message payload (after the type id) that sets
// every field of pl's struct to a distinct non-zero value.
func (pl *plan) synthValue(b []byte) []byte {
	for i, f := range pl.ops {
		b = appendUint(b, 1) // delta
		switch f.op {
		case opSkipUint:
			b = appendUint(b, uint64(i+1))
		case opSkipTwo:
			b = appendUint(b, uint64(i+1))
			b = appendUint(b, uint64(i+2))
		case opSkipBytes:
			b = appendGobString(b, fmt.Sprintf("skip%d", i))
		case opInt32, opInt:
			b = appendInt(b, -int64(1000+i*7))
		case opString, opBytes:
			b = appendGobString(b, fmt.Sprintf("field%d-%s", i, strings.Repeat("x", i)))
		}
	}
	return append(b, 0)
}

// descEntry is one cached type-definition prefix.
type descEntry struct {
	prefix   []byte
	id       int64 // the value message's type id
	plan     *plan // nil: always use encoding/gob for this prefix
	mismatch bool  // the hand parser disagreed with encoding/gob (a bug)
}

// descCache holds the prefixes a Decoder has seen for one target type.
type descCache struct {
	entries [4]*descEntry
	next    int
	hit     int
}

func (c *descCache) lookup(prefix []byte) *descEntry {
	if e := c.entries[c.hit]; e != nil && bytes.Equal(e.prefix, prefix) {
		return e
	}
	for i, e := range c.entries {
		if e != nil && bytes.Equal(e.prefix, prefix) {
			c.hit = i
			return e
		}
	}
	return nil
}

func (c *descCache) add(e *descEntry) {
	c.entries[c.next] = e
	c.hit = c.next
	c.next = (c.next + 1) % len(c.entries)
}

// gobDecode decodes body with a fresh gob.Decoder.
func gobDecode(body []byte, v any) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: gob envelope: decoder panic: %v", ErrBadFrame, p)
		}
	}()
	if err := gob.NewDecoder(bytes.NewReader(body)).Decode(v); err != nil {
		return fmt.Errorf("%w: gob envelope: %w", ErrBadFrame, err)
	}
	return nil
}

// gobSplice is the cached type-definition prefix of one Go type as a fresh
// gob.Encoder writes it in this process.
type gobSplice struct {
	done   bool
	prefix []byte
	id     int64
	ok     bool // false: encode with a fresh gob.Encoder every time
}

// init computes the prefix from a fresh encoding of probe and checks that
// splicing reproduces that encoding.
func (s *gobSplice) init(probe any, encodeValue func(b []byte) []byte) {
	s.done = true
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(probe); err != nil {
		return
	}
	fresh := buf.Bytes()
	at, _, _, id, ok := splitGob(fresh)
	if !ok || at == 0 {
		return
	}
	s.prefix = bytes.Clone(fresh[:at])
	s.id = id
	if !bytes.Equal(s.splice(nil, encodeValue(nil)), fresh) {
		s.prefix = nil
		return
	}
	s.ok = true
}

// splice appends the prefix and the value message whose payload (after the
// type id) is value.
func (s *gobSplice) splice(b, value []byte) []byte {
	var idb [10]byte
	id := appendInt(idb[:0], s.id)
	b = append(b, s.prefix...)
	b = appendUint(b, uint64(len(id)+len(value)))
	b = append(b, id...)
	return append(b, value...)
}

// appendField appends a field header: the delta from the last field.
func appendDelta(b []byte, last *int, field int) []byte {
	b = appendUint(b, uint64(field-*last))
	*last = field
	return b
}

// appendReqValue appends the gob value of r as encoding/gob encodes it.
func appendReqValue(b []byte, r *Req) []byte {
	last := -1
	if r.ReqIdentifier != 0 {
		b = appendInt(appendDelta(b, &last, 0), int64(r.ReqIdentifier))
	}
	if r.Token != "" {
		b = appendGobString(appendDelta(b, &last, 1), r.Token)
	}
	if r.SendID != "" {
		b = appendGobString(appendDelta(b, &last, 2), r.SendID)
	}
	if r.OperationID != "" {
		b = appendGobString(appendDelta(b, &last, 3), r.OperationID)
	}
	if r.MsgIncr != "" {
		b = appendGobString(appendDelta(b, &last, 4), r.MsgIncr)
	}
	if len(r.Data) != 0 {
		b = appendDelta(b, &last, 5)
		b = append(appendUint(b, uint64(len(r.Data))), r.Data...)
	}
	return append(b, 0)
}

// appendRespValue appends the gob value of r as encoding/gob encodes it.
func appendRespValue(b []byte, r *Resp) []byte {
	last := -1
	if r.ReqIdentifier != 0 {
		b = appendInt(appendDelta(b, &last, 0), int64(r.ReqIdentifier))
	}
	if r.MsgIncr != "" {
		b = appendGobString(appendDelta(b, &last, 1), r.MsgIncr)
	}
	if r.OperationID != "" {
		b = appendGobString(appendDelta(b, &last, 2), r.OperationID)
	}
	if r.ErrCode != 0 {
		b = appendInt(appendDelta(b, &last, 3), int64(r.ErrCode))
	}
	if r.ErrMsg != "" {
		b = appendGobString(appendDelta(b, &last, 4), r.ErrMsg)
	}
	if len(r.Data) != 0 {
		b = appendDelta(b, &last, 5)
		b = append(appendUint(b, uint64(len(r.Data))), r.Data...)
	}
	return append(b, 0)
}

// Probe values for gobSplice.init: every field set.
func probeReq() *Req {
	return &Req{ReqIdentifier: -300, Token: "t", SendID: "s", OperationID: "o", MsgIncr: "m", Data: []byte{1, 2}}
}

func probeResp() *Resp {
	return &Resp{ReqIdentifier: 300, MsgIncr: "m", OperationID: "o", ErrCode: -70000, ErrMsg: "e", Data: []byte{3}}
}
