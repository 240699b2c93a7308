package sandbox_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/openimbot/openimbot/sandbox"
)

// paddedBody returns a valid JSON body of exactly n bytes asking for the
// info of user u.
func paddedBody(n int, u string) json.RawMessage {
	head := `{"userIDs":["` + u + `"],"pad":"`
	return json.RawMessage(head + strings.Repeat("x", n-len(head)-2) + `"}`)
}

// A body over the API's 1 MiB limit is refused as such, with the limit,
// as an ArgsError (1001) in an HTTP 200 envelope like every API error;
// before, it was cut at 1 MiB and reported as "unexpected end of JSON
// input". A body of exactly 1 MiB is read whole.
func TestAPIBodyOverLimit(t *testing.T) {
	s := newSandbox(t, sandbox.Config{}) // alice, bob, carol
	admin, err := s.AdminToken()
	if err != nil {
		t.Fatal(err)
	}
	env := apiCall(t, s, "/user/get_users_info", admin, paddedBody(1<<20, "alice"))
	if errCode(env) != 0 {
		t.Fatalf("a body of exactly 1 MiB: %v", env)
	}
	for _, n := range []int{1<<20 + 1, 1100 << 10} {
		env = apiCall(t, s, "/user/get_users_info", admin, paddedBody(n, "alice"))
		dlt, _ := env["errDlt"].(string)
		if errCode(env) != sandbox.CodeArgs || env["errMsg"] != "ArgsError" ||
			!strings.Contains(dlt, "request body is over the limit of 1048576 bytes") {
			t.Fatalf("a body of %d bytes: %v", n, env)
		}
	}
	// The connection still serves requests.
	if env := apiCall(t, s, "/user/get_users_info", admin, paddedBody(100, "alice")); errCode(env) != 0 {
		t.Fatalf("after an oversize body: %v", env)
	}
}
