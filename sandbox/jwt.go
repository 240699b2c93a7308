package sandbox

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"
)

// claims are OpenIM's token claims (docs/protocol.md §5.2).
type claims struct {
	UserID     string `json:"UserID"`
	PlatformID int32  `json:"PlatformID"`
	Exp        int64  `json:"exp"`
	Iat        int64  `json:"iat"`
	Nbf        int64  `json:"nbf,omitempty"` // never issued; honoured when present
}

var jwtHeader = base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))

// signToken returns an HS256 JWT for c.
func signToken(secret string, c claims) string {
	body, _ := json.Marshal(c) // claims always marshal
	msg := jwtHeader + "." + base64.RawURLEncoding.EncodeToString(body)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(msg))
	return msg + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// parseToken checks a JWT as OpenIM does with golang-jwt v4 (docs/protocol.md §1.3
// step 3, without the state check) and returns its claims or a 150x error:
// a token that does not parse is malformed (1503); otherwise an expired
// token is 1501 even with a bad signature, a future nbf 1504, a bad
// signature 1505 with message "signature is invalid", an iat in the future
// 1505 "Token used before issued".
func parseToken(secret, tok string, now time.Time) (claims, *CodeError) {
	var c claims
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return c, codeErr(CodeTokenMalformed, "")
	}
	hb, err1 := decodeSegment(parts[0])
	cb, err2 := decodeSegment(parts[1])
	if err1 != nil || err2 != nil {
		return c, codeErr(CodeTokenMalformed, "")
	}
	var hdr struct {
		Alg string `json:"alg"`
	}
	if json.Unmarshal(hb, &hdr) != nil || json.Unmarshal(cb, &c) != nil {
		return claims{}, codeErr(CodeTokenMalformed, "")
	}
	if hdr.Alg != "HS256" {
		e := codeErr(CodeTokenUnknown, "")
		e.Msg = "signing method (alg) is unavailable."
		return claims{}, e
	}
	sig, err := decodeSegment(parts[2])
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(parts[0] + "." + parts[1]))
	sigOK := err == nil && hmac.Equal(sig, mac.Sum(nil))
	switch {
	case c.Exp != 0 && now.Unix() >= c.Exp:
		return claims{}, codeErr(CodeTokenExpired, "")
	case c.Nbf != 0 && now.Unix() < c.Nbf:
		return claims{}, codeErr(CodeTokenNotValidYet, "")
	case !sigOK:
		e := codeErr(CodeTokenUnknown, "")
		e.Msg = "signature is invalid"
		return claims{}, e
	case c.Iat != 0 && now.Unix() < c.Iat:
		e := codeErr(CodeTokenUnknown, "")
		e.Msg = "Token used before issued"
		return claims{}, e
	}
	return c, nil
}

// decodeSegment decodes a JWT segment, with or without base64 padding.
func decodeSegment(seg string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(seg, "="))
}

// tokenKey is how the store identifies a token without keeping it.
func tokenKey(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(h[:16])
}
