package sandbox_test

// Tests added by an independent review against OpenIM v3.8.3-patch.16's
// behaviour (WIRE.md), each driving the sandbox with the raw client.

import (
	"encoding/base64"
	"net/url"
	"testing"

	"github.com/openimbot/openimbot/sandbox"
)

// The parameters are checked in the server's order: platformID as an
// integer first, then isMsgResp, then isBackground (500), and only then the
// empty-string and validity checks.
func TestReviewHandshakeCheckOrder(t *testing.T) {
	s := newSandbox(t, sandbox.Config{})
	tok := token(t, s, "alice", 7)
	cases := []struct {
		name   string
		q      url.Values
		code   int
		detail string
	}{
		{"platformID before operationID", url.Values{"platformID": {"\x00"}, "operationID": {"\x00"}, "token": {"\x00"}}, 1602, "platformID is not int"},
		{"isMsgResp before token", url.Values{"isMsgResp": {"maybe"}, "token": {"\x00"}}, 1602, "isMsgResp is not bool"},
		{"isBackground before sendID", url.Values{"isBackground": {"\x00"}, "sendID": {"\x00"}}, 500, "invalid syntax"},
		{"isBackground before unknown platform", url.Values{"isBackground": {"\x00"}, "platformID": {"99"}}, 500, "invalid syntax"},
		{"unknown platform before sdkType", url.Values{"platformID": {"0"}, "sdkType": {"rust"}}, 1602, "platformID is invalid"},
		{"huge platform is an int", url.Values{"platformID": {"4294967303"}}, 1602, "platformID is invalid"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, body := handshakeError(t, s, handshakeURL(s, "alice", tok, rawOpts{query: tc.q}))
			if status != 200 || errCode(body) != tc.code || body["errDlt"] != tc.detail {
				t.Fatalf("status %d body %v, want %d %q", status, body, tc.code, tc.detail)
			}
		})
	}
	// The v form reports OpenIM's own details.
	_, body := handshakeError(t, s, s.WSURL()+"?v=%25%25")
	if errCode(body) != 1602 || body["errDlt"] != "data is not base64" {
		t.Fatalf("bad base64: %v", body)
	}
	_, body = handshakeError(t, s, s.WSURL()+"?v="+base64.RawURLEncoding.EncodeToString([]byte("[1]")))
	if d, _ := body["errDlt"].(string); errCode(body) != 1602 || len(d) < 16 || d[:16] != "data is not json" {
		t.Fatalf("bad json: %v", body)
	}
}
