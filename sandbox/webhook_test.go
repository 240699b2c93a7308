package sandbox_test

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/openimbot/openimbot/content"
	"github.com/openimbot/openimbot/sandbox"
)

func TestHTTPNewestSeqAndPull(t *testing.T) {
	s := newSandbox(t, sandbox.Config{})
	for i := range 3 {
		if _, err := s.SendText("alice", "bob", "m"+string(rune('0'+i))); err != nil {
			t.Fatal(err)
		}
	}
	tok := token(t, s, "bob", 7)
	env := apiCall(t, s, "/msg/newest_seq", tok, map[string]any{"userID": "bob"})
	if errCode(env) != 0 {
		t.Fatal(env)
	}
	conv := sandbox.ConversationID("alice", "bob")
	maxSeqs := env["data"].(map[string]any)["maxSeqs"].(map[string]any)
	if maxSeqs[conv] != float64(3) {
		t.Fatalf("maxSeqs %v", maxSeqs)
	}
	// Another user's seqs are refused.
	if env := apiCall(t, s, "/msg/newest_seq", tok, map[string]any{"userID": "alice"}); errCode(env) != 1002 {
		t.Fatal(env)
	}
	env = apiCall(t, s, "/msg/pull_msg_by_seq", tok, map[string]any{"userID": "bob",
		"seqRanges": []any{map[string]any{"conversationID": conv, "begin": 2, "end": 3, "num": 2}}})
	if errCode(env) != 0 {
		t.Fatal(env)
	}
	pm := env["data"].(map[string]any)["msgs"].(map[string]any)[conv].(map[string]any)
	msgs := pm["Msgs"].([]any)
	if len(msgs) != 2 || pm["isEnd"] != true {
		t.Fatalf("pull %v", pm)
	}
	m := msgs[0].(map[string]any)
	raw, _ := base64.StdEncoding.DecodeString(m["content"].(string))
	if m["seq"] != float64(2) || m["sendID"] != "alice" || string(raw) != `{"content":"m1"}` {
		t.Fatalf("message %v (content %s)", m, raw)
	}
}

func TestHTTPJoinedGroupsAndGroupCreatedNotification(t *testing.T) {
	s := newSandbox(t, sandbox.Config{})
	tokA := token(t, s, "alice", 7)
	env := apiCall(t, s, "/group/create_group", tokA, map[string]any{"memberUserIDs": []string{"bob"}, "groupInfo": map[string]any{"groupID": "g1", "groupName": "G"}})
	if errCode(env) != 0 {
		t.Fatal(env)
	}
	tokB := token(t, s, "bob", 7)
	env = apiCall(t, s, "/group/get_full_join_group_ids", tokB, map[string]any{"userID": "bob"})
	if ids := env["data"].(map[string]any)["groupIDs"].([]any); len(ids) != 1 || ids[0] != "g1" {
		t.Fatal(env)
	}
	env = apiCall(t, s, "/group/get_incremental_join_groups", tokB, map[string]any{"userID": "bob", "versionID": "", "version": 0})
	d := env["data"].(map[string]any)
	if ins := d["insert"].([]any); d["full"] != true || len(ins) != 1 || ins[0].(map[string]any)["groupID"] != "g1" {
		t.Fatal(env)
	}
	if env := apiCall(t, s, "/group/get_full_join_group_ids", token(t, s, "carol", 7), map[string]any{"userID": "carol"}); len(env["data"].(map[string]any)["groupIDs"].([]any)) != 0 {
		t.Fatal(env)
	}
	msgs := s.Messages(sandbox.GroupConversationID("g1"))
	if len(msgs) != 1 || msgs[0].ContentType != content.TypeGroupCreated || msgs[0].SendID != "alice" || msgs[0].Seq != 1 {
		t.Fatalf("%+v", msgs)
	}
	var tips struct {
		Group      struct{ GroupID string }
		MemberList []struct{ UserID string }
	}
	el, err := content.Decode(msgs[0].ContentType, msgs[0].Content)
	n, ok := el.(*content.Notification)
	if err != nil || !ok || n.DecodeDetail(&tips) != nil || tips.Group.GroupID != "g1" || len(tips.MemberList) != 2 {
		t.Fatalf("%T %v %+v", el, err, tips)
	}
}

func TestSendTimeStrictlyIncreases(t *testing.T) {
	s := newSandbox(t, sandbox.Config{})
	var last int64
	for i := range 200 {
		m, err := s.SendText("alice", "bob", "x")
		if err != nil {
			t.Fatal(err)
		}
		if m.SendTime <= last {
			t.Fatalf("message %d: sendTime %d after %d", i, m.SendTime, last)
		}
		last = m.SendTime
	}
}

// hookSink records callbacks.
type hookSink struct {
	mu     sync.Mutex
	bodies []map[string]any
	paths  []string
	got    chan struct{}
}

func newHookSink(t *testing.T) (*hookSink, *httptest.Server) {
	h := &hookSink{got: make(chan struct{}, 100000)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var m map[string]any
		json.Unmarshal(b, &m)
		h.mu.Lock()
		h.bodies = append(h.bodies, m)
		h.paths = append(h.paths, r.URL.Path)
		h.mu.Unlock()
		w.Write([]byte(`{"actionCode":0,"errCode":0,"errMsg":"","errDlt":"","nextCode":0}`))
		h.got <- struct{}{}
	}))
	t.Cleanup(srv.Close)
	return h, srv
}

func (h *hookSink) wait(t *testing.T, n int) {
	t.Helper()
	for range n {
		select {
		case <-h.got:
		case <-time.After(5 * time.Second):
			t.Fatalf("timed out waiting for callbacks")
		}
	}
}

func TestWebhookCallbacks(t *testing.T) {
	h, srv := newHookSink(t)
	s := newSandbox(t, sandbox.Config{Webhook: sandbox.WebhookConfig{URL: srv.URL + "/callbackExample"}})
	if err := s.CreateGroup("g1", "alice", "bob"); err != nil {
		t.Fatal(err)
	}
	m1, _ := s.SendText("alice", "bob", "hi")
	m2, _ := s.SendGroupText("bob", "g1", "hey")
	s.Inject(content.Message{SendID: "alice", RecvID: "bob", ContentType: content.TypeTyping, Content: []byte(`{"msgTips":"typing"}`)})
	h.wait(t, 2)
	time.Sleep(50 * time.Millisecond) // the typing message must not follow
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.bodies) != 2 {
		t.Fatalf("%d callbacks", len(h.bodies))
	}
	byID := map[string]int{}
	for i, b := range h.bodies {
		byID[b["clientMsgID"].(string)] = i
	}
	single := h.bodies[byID[m1.ClientMsgID]]
	if h.paths[byID[m1.ClientMsgID]] != "/callbackExample/callbackAfterSendSingleMsgCommand" ||
		single["callbackCommand"] != "callbackAfterSendSingleMsgCommand" || single["recvID"] != "bob" ||
		single["content"] != `{"content":"hi"}` || single["seq"] != float64(0) || single["sendTime"] != float64(m1.SendTime) {
		t.Fatalf("single callback %v", single)
	}
	for _, k := range []string{"sendID", "callbackCommand", "serverMsgID", "clientMsgID", "operationID", "senderPlatformID",
		"senderNickname", "sessionType", "msgFrom", "contentType", "status", "sendTime", "createTime", "content", "seq",
		"atUserList", "faceURL", "ex"} {
		if _, ok := single[k]; !ok {
			t.Errorf("key %s missing", k)
		}
	}
	if _, ok := single["groupID"]; ok {
		t.Error("groupID in a single-chat callback")
	}
	group := h.bodies[byID[m2.ClientMsgID]]
	if group["callbackCommand"] != "callbackAfterSendGroupMsgCommand" || group["groupID"] != "g1" || group["sessionType"] != float64(3) {
		t.Fatalf("group callback %v", group)
	}
	if st := s.WebhookStats(); st.Posted != 2 || st.Queued != 2 {
		t.Fatalf("%+v", st)
	}
}

func TestWebhookFaults(t *testing.T) {
	h, srv := newHookSink(t)
	s := newSandbox(t, sandbox.Config{Webhook: sandbox.WebhookConfig{URL: srv.URL, Queue: 1000}})
	s.SetWebhookFaults(sandbox.WebhookFaults{DropEvery: 5, DuplicateEvery: 7, Reorder: 4})
	var want []string
	for range 70 {
		m, err := s.SendText("alice", "bob", "x")
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, m.ClientMsgID)
	}
	// 70 callbacks: 14 dropped; of the 56 others, the 7th, 14th... (not
	// multiples of 5) are doubled: 7, 14, 21, 28, 42, 49, 56, 63 → 8.
	h.wait(t, 56+8)
	st := s.WebhookStats()
	if st.Dropped != 14 || st.Queued != 64 {
		t.Fatalf("%+v", st)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	count := map[string]int{}
	var order []string
	for _, b := range h.bodies {
		id := b["clientMsgID"].(string)
		count[id]++
		order = append(order, id)
	}
	for i, id := range want {
		n := i + 1
		exp := 1
		switch {
		case n%5 == 0:
			exp = 0
		case n%7 == 0:
			exp = 2
		}
		if count[id] != exp {
			t.Errorf("callback %d posted %d times, want %d", n, count[id], exp)
		}
	}
	sorted := slices.Clone(order)
	slices.SortFunc(sorted, func(a, b string) int { return slices.Index(want, a) - slices.Index(want, b) })
	if slices.Equal(order, sorted) {
		t.Error("Reorder did not reorder any callback")
	}
}

func TestWebhookTimeoutAndStop(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-block
	}))
	defer srv.Close()
	defer close(block)
	s := newSandbox(t, sandbox.Config{Webhook: sandbox.WebhookConfig{URL: srv.URL, Timeout: 100 * time.Millisecond}})
	start := time.Now()
	if _, err := s.SendText("alice", "bob", "x"); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 50*time.Millisecond {
		t.Fatalf("send waited for the callback: %v", d)
	}
	deadline := time.Now().Add(3 * time.Second)
	for s.WebhookStats().Failed != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("%+v", s.WebhookStats())
		}
		time.Sleep(10 * time.Millisecond)
	}
	s.SetWebhook(sandbox.WebhookConfig{})
	s.SendText("alice", "bob", "y")
	if st := s.WebhookStats(); st != (sandbox.WebhookStats{}) {
		t.Fatalf("%+v", st)
	}
}
