package sandbox_test

import (
	"testing"

	"github.com/openimbot/openimbot/content"
	"github.com/openimbot/openimbot/sandbox"
)

// The group notifications carry a member version that moves by one per
// change, and the version check an official SDK makes
// (get_incremental_group_members_batch) answers "up to date" for the
// current version and "full" for any other, so the SDK either applies a
// notification to its member table or reloads the list.
func TestGroupMemberVersions(t *testing.T) {
	s := newSandbox(t, sandbox.Config{})
	for _, u := range []string{"bob", "carol"} {
		token(t, s, u, 7)
	}
	tokA := token(t, s, "alice", 7)
	if err := s.CreateGroup("g1", "alice", "bob", "carol"); err != nil {
		t.Fatal(err)
	}
	check := func(versionID string, version float64) map[string]any {
		t.Helper()
		env := apiCall(t, s, "/group/get_incremental_group_members_batch", tokA, map[string]any{
			"userID": "alice", "reqList": []any{map[string]any{"groupID": "g1", "versionID": versionID, "version": version}}})
		if errCode(env) != 0 {
			t.Fatal(env)
		}
		return env["data"].(map[string]any)["respList"].(map[string]any)["g1"].(map[string]any)
	}
	first := check("", 0)
	if first["full"] != true {
		t.Fatalf("a client without a version must reload: %v", first)
	}
	vid, v := first["versionID"].(string), first["version"].(float64)
	for i, call := range []struct {
		path string
		body map[string]any
	}{
		{"/group/mute_group_member", map[string]any{"groupID": "g1", "userID": "bob", "mutedSeconds": 60}},
		{"/group/kick_group", map[string]any{"groupID": "g1", "kickedUserIDs": []string{"carol"}}},
	} {
		if env := apiCall(t, s, call.path, tokA, call.body); errCode(env) != 0 {
			t.Fatal(call.path, env)
		}
		ms := s.Messages("n_g1")
		n, ok := ms[len(ms)-1].Elem.(*content.Notification)
		var detail map[string]any
		if !ok || n.DecodeDetail(&detail) != nil {
			t.Fatalf("%s: last notification %+v", call.path, ms[len(ms)-1])
		}
		if detail["groupMemberVersion"] != v+float64(i+1) || detail["groupMemberVersionID"] != vid {
			t.Errorf("%s: version %v %v, want %v %v", call.path, detail["groupMemberVersion"], detail["groupMemberVersionID"], v+float64(i+1), vid)
		}
	}
	if r := check(vid, v+2); r["full"] != false || r["version"] != v+2 {
		t.Errorf("current version: %v", r)
	}
	if r := check(vid, v+1); r["full"] != true {
		t.Errorf("an old version: %v", r)
	}
	if env := apiCall(t, s, "/group/get_incremental_group_members", token(t, s, "carol", 7), map[string]any{"groupID": "g1"}); errCode(env) != 1002 {
		t.Errorf("a kicked member's version check: %v", env)
	}
}

// create_group makes adminUserIDs admins, and the member endpoints report
// the roles.
func TestCreateGroupAdmins(t *testing.T) {
	s := newSandbox(t, sandbox.Config{})
	tokA := token(t, s, "alice", 7)
	env := apiCall(t, s, "/group/create_group", tokA, map[string]any{"adminUserIDs": []string{"bob"}, "memberUserIDs": []string{"carol"},
		"groupInfo": map[string]any{"groupID": "team"}})
	if errCode(env) != 0 {
		t.Fatal(env)
	}
	env = apiCall(t, s, "/group/get_group_member_list", tokA, map[string]any{"groupID": "team", "pagination": map[string]any{"pageNumber": 1, "showNumber": 10}})
	var roles []float64
	for _, m := range env["data"].(map[string]any)["members"].([]any) {
		roles = append(roles, m.(map[string]any)["roleLevel"].(float64))
	}
	if len(roles) != 3 || roles[0] != 100 || roles[1] != 60 || roles[2] != 20 {
		t.Errorf("roles %v, want [100 60 20]", roles)
	}
}
