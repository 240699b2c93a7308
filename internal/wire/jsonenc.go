package wire

import (
	"encoding/base64"
	"strconv"
	"unicode/utf8"
)

// The JSON envelopes of docs/protocol.md section 2.4, written by hand: all six keys
// in the server's order, "data" base64 or null when empty, strings escaped
// exactly as encoding/json escapes them (HTML-safe).

func appendReqJSON(b []byte, r *Req) []byte {
	b = append(b, `{"reqIdentifier":`...)
	b = strconv.AppendInt(b, int64(r.ReqIdentifier), 10)
	b = append(b, `,"token":`...)
	b = appendJSONString(b, r.Token)
	b = append(b, `,"sendID":`...)
	b = appendJSONString(b, r.SendID)
	b = append(b, `,"operationID":`...)
	b = appendJSONString(b, r.OperationID)
	b = append(b, `,"msgIncr":`...)
	b = appendJSONString(b, r.MsgIncr)
	b = append(b, `,"data":`...)
	b = appendJSONData(b, r.Data)
	return append(b, '}')
}

func appendRespJSON(b []byte, r *Resp) []byte {
	b = append(b, `{"reqIdentifier":`...)
	b = strconv.AppendInt(b, int64(r.ReqIdentifier), 10)
	b = append(b, `,"msgIncr":`...)
	b = appendJSONString(b, r.MsgIncr)
	b = append(b, `,"operationID":`...)
	b = appendJSONString(b, r.OperationID)
	b = append(b, `,"errCode":`...)
	b = strconv.AppendInt(b, int64(r.ErrCode), 10)
	b = append(b, `,"errMsg":`...)
	b = appendJSONString(b, r.ErrMsg)
	b = append(b, `,"data":`...)
	b = appendJSONData(b, r.Data)
	return append(b, '}')
}

func appendJSONData(b []byte, data []byte) []byte {
	if len(data) == 0 {
		return append(b, "null"...)
	}
	b = append(b, '"')
	b = base64.StdEncoding.AppendEncode(b, data)
	return append(b, '"')
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as encoding/json.Marshal does.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
