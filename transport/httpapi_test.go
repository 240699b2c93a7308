package transport

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/openimbot/openimbot/content"
	"github.com/openimbot/openimbot/internal/pb/sdkws"
)

// fakeAPI serves the HTTP API envelope; handler returns (data, errCode).
func fakeAPI(t *testing.T, handler func(path string, hdr http.Header, body map[string]any) (any, int)) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s %s with Content-Type %q", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
		}
		env := map[string]any{"errCode": 0, "errMsg": "", "errDlt": ""}
		if r.Header.Get("operationID") == "" {
			env["errCode"], env["errMsg"], env["errDlt"] = 1001, "ArgsError", "header must have operationID"
		} else {
			var body map[string]any
			raw, _ := io.ReadAll(r.Body)
			if err := json.Unmarshal(raw, &body); err != nil {
				t.Errorf("body %s: %v", raw, err)
			}
			data, code := handler(r.URL.Path, r.Header, body)
			if code != 0 {
				env["errCode"], env["errMsg"], env["errDlt"] = code, "SomeError", "detail"
			} else if data != nil {
				env["data"] = data
			}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(env)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestAPICalls(t *testing.T) {
	srv := fakeAPI(t, func(path string, hdr http.Header, body map[string]any) (any, int) {
		switch path {
		case "/auth/get_admin_token":
			if hdr.Get("token") != "" || body["secret"] != "s3cret" || body["userID"] != "imAdmin" {
				return nil, 1002
			}
			return map[string]any{"token": "ADMIN", "expireTimeSeconds": 100}, 0
		case "/auth/get_user_token":
			if hdr.Get("token") != "ADMIN" || body["userID"] != "bot" || body["platformID"] != float64(7) {
				return nil, 1002
			}
			return map[string]any{"token": "USER", "expireTimeSeconds": 100}, 0
		case "/user/user_register":
			users := body["users"].([]any)
			if hdr.Get("token") != "ADMIN" || users[0].(map[string]any)["userID"] != "bot" || users[0].(map[string]any)["nickname"] != "Bot" {
				return nil, 1001
			}
			if users[0].(map[string]any)["userID"] == "dup" {
				return nil, 1102
			}
			return nil, 0
		case "/user/get_users_info":
			return map[string]any{"usersInfo": []map[string]any{{"userID": "bot", "nickname": "Bot", "faceURL": "f", "createTime": 5}}}, 0
		case "/msg/send_msg":
			if hdr.Get("token") != "ADMIN" || body["sendID"] != "bot" || body["content"].(map[string]any)["content"] != "hi" ||
				body["contentType"] != float64(101) || body["sessionType"] != float64(1) {
				return nil, 1002
			}
			return map[string]any{"serverMsgID": "s1", "clientMsgID": "c1", "sendTime": 9}, 0
		}
		return nil, 404
	})
	api, err := NewAPI(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t, 5*time.Second)
	admin, err := api.GetAdminToken(ctx, "s3cret", "")
	if err != nil || admin != "ADMIN" {
		t.Fatalf("GetAdminToken = %q, %v", admin, err)
	}
	user, err := api.GetUserToken(ctx, admin, "bot", 7)
	if err != nil || user != "USER" {
		t.Fatalf("GetUserToken = %q, %v", user, err)
	}
	if err := api.UserRegister(ctx, admin, UserInfo{UserID: "bot", Nickname: "Bot"}); err != nil {
		t.Fatal(err)
	}
	users, err := api.GetUsersInfo(ctx, user, "bot")
	if err != nil || len(users) != 1 || users[0].Nickname != "Bot" || users[0].CreateTime != 5 {
		t.Fatalf("GetUsersInfo = %+v, %v", users, err)
	}
	res, err := api.SendMsg(ctx, admin, AdminSend{SendID: "bot", RecvID: "alice", Content: json.RawMessage(`{"content":"hi"}`), ContentType: 101, SessionType: 1})
	if err != nil || res != (SendResult{ServerMsgID: "s1", ClientMsgID: "c1", SendTime: 9}) {
		t.Fatalf("SendMsg = %+v, %v", res, err)
	}
	_, err = api.SendMsg(ctx, user, AdminSend{SendID: "bot", RecvID: "alice", Content: json.RawMessage(`{"content":"hi"}`), ContentType: 101, SessionType: 1})
	var ae *APIError
	if !errors.As(err, &ae) || ae.Code != 1002 || ae.Msg != "SomeError" || ae.Detail != "detail" {
		t.Fatalf("SendMsg with a user token = %v", err)
	}
	// The operationID header is always sent: a server requiring it answers.
	api2, _ := NewAPI(srv.URL, WithAPIOperationID(func() string { return "" }))
	_, err = api2.GetAdminToken(ctx, "s3cret", "")
	if !errors.As(err, &ae) || ae.Code != 1001 {
		t.Fatalf("without operationID = %v", err)
	}
	if _, err := NewAPI("ftp://x"); err == nil {
		t.Error("NewAPI accepted ftp://")
	}
	// Non-200 responses are errors.
	bad := httptest.NewServer(http.NotFoundHandler())
	defer bad.Close()
	api3, _ := NewAPI(bad.URL)
	if _, err := api3.GetUsersInfo(ctx, "tok", "x"); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("404 = %v", err)
	}
}

func TestAPITokenErrorsMatchSentinels(t *testing.T) {
	srv := fakeAPI(t, func(string, http.Header, map[string]any) (any, int) { return nil, 1501 })
	api, _ := NewAPI(srv.URL)
	_, err := api.GetUsersInfo(ctxT(t, 5*time.Second), "tok", "bot")
	if !errors.Is(err, ErrTokenExpired) || errors.Is(err, ErrTokenInvalid) {
		t.Fatalf("err = %v", err)
	}
}

// SendMsg fills senderNickname/senderFaceURL from the self profile, fetched
// once per ProfileTTL.
func TestSendMsgUsesProfileCache(t *testing.T) {
	var fetches atomic.Int32
	srv := fakeAPI(t, func(path string, hdr http.Header, body map[string]any) (any, int) {
		if path != "/user/get_users_info" || hdr.Get("token") != "SECRET-TOKEN-abc.def" {
			return nil, 1001
		}
		fetches.Add(1)
		return map[string]any{"usersInfo": []map[string]any{{"userID": "bot", "nickname": "Botty", "faceURL": "http://f"}}}, 0
	})
	api, _ := NewAPI(srv.URL)
	gw := newFakeGW(t)
	cfg := testConfig(gw)
	cfg.API = api
	cfg.ProfileTTL = time.Hour
	r := start(t, cfg)
	fc := gw.accept(t)
	r.waitEvent(t, EventConnected)
	gw.handle(func(fc *fakeConn, req *fakeReq) {
		var md sdkws.MsgData
		if err := proto.Unmarshal(req.Data, &md); err != nil || md.GetSenderNickname() != "Botty" || md.GetSenderFaceURL() != "http://f" {
			t.Errorf("MsgData %v %v", &md, err)
		}
		fc.reply(t, req, 0, &sdkws.UserSendMsgResp{ServerMsgID: "s"})
	})
	_ = fc
	for i := 0; i < 3; i++ {
		if _, err := r.c.SendMsg(ctxT(t, 5*time.Second), &content.Message{RecvID: "alice", Elem: &content.Text{Content: "x"}}); err != nil {
			t.Fatal(err)
		}
	}
	if n := fetches.Load(); n != 1 {
		t.Fatalf("profile fetched %d times, want 1", n)
	}
	p, err := r.c.SelfProfile(context.Background())
	if err != nil || p.Nickname != "Botty" {
		t.Fatalf("SelfProfile = %+v, %v", p, err)
	}
}

// The /msg/send_msg body has exactly the server's keys (docs/protocol.md §8), with
// content a JSON object, int64 as numbers and offlinePushInfo in proto JSON
// keys; a content that is not a JSON object is refused before sending.
func TestAPISendMsgBodyKeys(t *testing.T) {
	var got map[string]any
	srv := fakeAPI(t, func(path string, hdr http.Header, body map[string]any) (any, int) {
		got = body
		return map[string]any{"serverMsgID": "s1", "clientMsgID": "c1", "sendTime": 9, "modify": nil}, 0
	})
	api, err := NewAPI(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t, 5*time.Second)
	_, err = api.SendMsg(ctx, "ADMIN", AdminSend{SendID: "bot", GroupID: "g1", SenderPlatformID: 7,
		Content: json.RawMessage(`{"content":"hi"}`), ContentType: 101, SessionType: 3, SendTime: 1700000000123,
		OfflinePushInfo: &content.OfflinePushInfo{Title: "t", IOSPushSound: "s", IOSBadgeCount: true}})
	if err != nil {
		t.Fatal(err)
	}
	keys := slices.Sorted(maps.Keys(got))
	want := []string{"content", "contentType", "ex", "groupID", "isOnlineOnly", "notOfflinePush", "offlinePushInfo", "recvID",
		"sendID", "sendTime", "senderFaceURL", "senderNickname", "senderPlatformID", "sessionType"}
	if !slices.Equal(keys, want) {
		t.Fatalf("keys %q, want %q", keys, want)
	}
	if c, ok := got["content"].(map[string]any); !ok || c["content"] != "hi" {
		t.Errorf("content = %#v", got["content"])
	}
	if got["sendTime"] != float64(1700000000123) || got["senderPlatformID"] != float64(7) || got["sessionType"] != float64(3) {
		t.Errorf("numbers: %v", got)
	}
	op, _ := got["offlinePushInfo"].(map[string]any)
	if op["title"] != "t" || op["iOSPushSound"] != "s" || op["iOSBadgeCount"] != true || len(op) != 6 {
		t.Errorf("offlinePushInfo = %#v", got["offlinePushInfo"])
	}
	got = nil
	for _, c := range []string{``, `"hi"`, `["x"]`, `{"content":`} {
		_, err := api.SendMsg(ctx, "ADMIN", AdminSend{SendID: "bot", RecvID: "a", Content: json.RawMessage(c), ContentType: 101, SessionType: 1})
		if err == nil || !strings.Contains(err.Error(), "JSON object") {
			t.Errorf("content %q: err = %v", c, err)
		}
	}
	if got != nil {
		t.Errorf("a bad content was sent: %v", got)
	}
}

// An HTTP API that does not answer never costs a send its deadline: the
// profile lookup for senderNickname is bounded, a failure is remembered for
// a while, and the message goes out without a nickname.
func TestSendMsgWithUnresponsiveAPI(t *testing.T) {
	var calls atomic.Int32
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	api, _ := NewAPI(srv.URL)
	gw := newFakeGW(t)
	cfg := testConfig(gw)
	cfg.API = api
	r := start(t, cfg)
	gw.accept(t)
	r.waitEvent(t, EventConnected)
	gw.handle(func(fc *fakeConn, req *fakeReq) {
		var md sdkws.MsgData
		if err := proto.Unmarshal(req.Data, &md); err != nil || md.GetSenderNickname() != "" {
			t.Errorf("MsgData %v %v", &md, err)
		}
		fc.reply(t, req, 0, &sdkws.UserSendMsgResp{ServerMsgID: "s"})
	})
	// Concurrent sends share the one bounded lookup.
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			_, err := r.c.SendMsg(ctxT(t, 5*time.Second), &content.Message{RecvID: "alice", Elem: &content.Text{Content: "x"}})
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatalf("send: %v", err)
		}
	}
	if _, err := r.c.SendMsg(ctxT(t, 5*time.Second), &content.Message{RecvID: "alice", Elem: &content.Text{Content: "x"}}); err != nil {
		t.Fatalf("send after the failed lookup: %v", err)
	}
	if n := calls.Load(); n != 1 {
		t.Fatalf("%d profile lookups, want 1 (the failure is remembered)", n)
	}
}
