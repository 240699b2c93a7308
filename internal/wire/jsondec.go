package wire

import (
	"encoding/base64"
	"strconv"
	"unicode/utf8"
)

// A fast path for JSON envelopes in the form the server writes them: one
// object, no whitespace, only the target's keys, each at most once; ints as
// plain integers; strings without escapes or control characters, valid
// UTF-8; data null or standard padded base64. Anything else, and any value
// encoding/json would reject, makes it report false, and the frame goes to
// encoding/json. FuzzDecode checks it against encoding/json.

// parseJSONEnvelope parses b into v: ints, and byte ranges of the string
// contents (for data, the base64 text; empty for null).
func parseJSONEnvelope(b []byte, t *target, v *vals) bool {
	*v = vals{}
	var seen uint8
	if len(b) < 2 || b[0] != '{' || b[len(b)-1] != '}' {
		return false
	}
	p := 1
	if b[p] == '}' {
		return p+1 == len(b)
	}
	for {
		// "key":
		ks, ke, ok := jsonPlainString(b, p)
		if !ok || ke+1 >= len(b) || b[ke+1] != ':' {
			return false
		}
		key := b[ks:ke]
		slot := -1
		for s, n := range t.jsonNames {
			if string(key) == n {
				slot = s
				break
			}
		}
		if slot < 0 || seen&(1<<slot) != 0 {
			return false
		}
		seen |= 1 << slot
		p = ke + 2
		switch t.kinds[slot] {
		case slotInt32, slotInt:
			q := p
			if q < len(b) && b[q] == '-' {
				q++
			}
			ds := q
			for q < len(b) && b[q] >= '0' && b[q] <= '9' {
				q++
			}
			if q == ds || (b[ds] == '0' && q-ds > 1) {
				return false
			}
			bitSize := 64
			if t.kinds[slot] == slotInt32 {
				bitSize = 32
			} else if strconv.IntSize == 32 {
				bitSize = 32
			}
			n, err := strconv.ParseInt(string(b[p:q]), 10, bitSize)
			if err != nil {
				return false
			}
			v.ints[slot] = n
			p = q
		case slotString, slotBytes:
			if t.kinds[slot] == slotBytes && len(b)-p >= 4 && string(b[p:p+4]) == "null" {
				p += 4
				break
			}
			s, e, ok := jsonPlainString(b, p)
			if !ok {
				return false
			}
			v.rng[slot] = [2]int{s, e}
			p = e + 1
		}
		if p >= len(b) {
			return false
		}
		switch b[p] {
		case ',':
			p++
		case '}':
			return p+1 == len(b)
		default:
			return false
		}
	}
}

// jsonPlainString reads a JSON string at b[p] that has no escapes and no
// control characters and is valid UTF-8; [s, e) are its contents and b[e]
// is the closing quote.
func jsonPlainString(b []byte, p int) (s, e int, ok bool) {
	if p >= len(b) || b[p] != '"' {
		return 0, 0, false
	}
	s = p + 1
	ascii := true
	for e = s; e < len(b); e++ {
		c := b[e]
		switch {
		case c == '"':
			if !ascii && !utf8.Valid(b[s:e]) {
				return 0, 0, false
			}
			return s, e, true
		case c == '\\' || c < 0x20:
			return 0, 0, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return 0, 0, false
}

// jsonData decodes the base64 text of data at r into the Decoder's buffer,
// as encoding/json does, or reports false. Empty (or null) gives nil.
func (d *Decoder) jsonData(b []byte, r [2]int) ([]byte, bool) {
	if r[0] == r[1] {
		return nil, true
	}
	n := base64.StdEncoding.DecodedLen(r[1] - r[0])
	buf := d.jbuf
	if cap(buf) < n {
		// A large buffer serves this frame only: an idle connection
		// keeps at most keepInflate bytes.
		buf = make([]byte, n)
		if n <= keepInflate {
			d.jbuf = buf
		}
	}
	m, err := base64.StdEncoding.Decode(buf[:n], b[r[0]:r[1]])
	if err != nil {
		return nil, false
	}
	if m == 0 {
		return nil, true
	}
	return buf[:m:m], true
}

func (d *Decoder) jsonResp(body []byte, r *Resp) error {
	if parseJSONEnvelope(body, &respTarget, &d.v) {
		if data, ok := d.jsonData(body, d.v.rng[5]); ok {
			d.v.rng[5] = [2]int{}
			d.v.fillResp(body, r, &d.sb)
			r.Data = data
			return nil
		}
	}
	return decodeJSON(body, r, "resp")
}

func (d *Decoder) jsonReq(body []byte, r *Req) error {
	if parseJSONEnvelope(body, &reqTarget, &d.v) {
		if data, ok := d.jsonData(body, d.v.rng[5]); ok {
			d.v.rng[5] = [2]int{}
			d.v.fillReq(body, r, &d.sb)
			r.Data = data
			return nil
		}
	}
	return decodeJSON(body, r, "req")
}
