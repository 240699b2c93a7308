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

// claims are OpenIM's token claims (WIRE.md 5.2).
type claims struct {
	UserID     string `json:"UserID"`
	PlatformID int32  `json:"PlatformID"`
	Exp        int64  `json:"exp"`
	Iat        int64  `json:"iat"`
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

// parseToken checks a JWT's form, signature and expiry, in that order, and
// returns its claims or a 150x error (WIRE.md 1.3 step 3, without the state
// check).
func parseToken(secret, tok string, now time.Time) (claims, *CodeError) {
	var c claims
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return c, codeErr(CodeTokenMalformed, "")
	}
	hb, err1 := base64.RawURLEncoding.DecodeString(parts[0])
	cb, err2 := base64.RawURLEncoding.DecodeString(parts[1])
	sig, err3 := base64.RawURLEncoding.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil {
		return c, codeErr(CodeTokenMalformed, "")
	}
	var hdr struct {
		Alg string `json:"alg"`
	}
	if json.Unmarshal(hb, &hdr) != nil || json.Unmarshal(cb, &c) != nil {
		return claims{}, codeErr(CodeTokenMalformed, "")
	}
	if hdr.Alg != "HS256" {
		return claims{}, codeErr(CodeTokenUnknown, "")
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(parts[0] + "." + parts[1]))
	if !hmac.Equal(sig, mac.Sum(nil)) {
		return claims{}, codeErr(CodeTokenUnknown, "")
	}
	if c.Exp != 0 && now.Unix() >= c.Exp {
		return claims{}, codeErr(CodeTokenExpired, "")
	}
	// OpenIM sets iat 5 s in the past; a token issued clearly in the future
	// is not valid yet.
	if c.Iat > now.Unix()+60 {
		return claims{}, codeErr(CodeTokenNotValidYet, "")
	}
	return c, nil
}

// tokenKey is how the store identifies a token without keeping it.
func tokenKey(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(h[:16])
}
