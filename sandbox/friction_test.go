package sandbox_test

import (
	"context"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/openimbot/openimbot/internal/testchild"
	"github.com/openimbot/openimbot/sandbox"
)

// TestCreateGroupOwnedByAnotherUser: a normal user cannot create a group
// owned by someone else; the admin can; a user can for themself.
func TestCreateGroupOwnedByAnotherUser(t *testing.T) {
	s := newSandbox(t, sandbox.Config{})
	tokA := token(t, s, "alice", 7)
	body := func(id, owner string) map[string]any {
		return map[string]any{"ownerUserID": owner, "memberUserIDs": []string{"carol"}, "groupInfo": map[string]any{"groupID": id}}
	}
	if env := apiCall(t, s, "/group/create_group", tokA, body("g1", "bob")); env["errCode"] != float64(1002) {
		t.Fatalf("alice creates bob's group: %v", env)
	}
	if env := apiCall(t, s, "/group/create_group", tokA, body("g2", "alice")); env["errCode"] != float64(0) {
		t.Fatalf("alice creates her own group: %v", env)
	}
	admin := apiCall(t, s, "/auth/get_admin_token", "", map[string]any{"secret": sandbox.DefaultSecret, "userID": s.AdminUserID()})
	adminTok := admin["data"].(map[string]any)["token"].(string)
	if env := apiCall(t, s, "/group/create_group", adminTok, body("g3", "bob")); env["errCode"] != float64(0) {
		t.Fatalf("the admin creates bob's group: %v", env)
	}
}

// TestStoreTornLineIsLogged: the torn last line of a store file (a crash
// while appending) is dropped with a warning, not silently.
func TestStoreTornLineIsLogged(t *testing.T) {
	path := t.TempDir() + "/sb.db"
	s, err := sandbox.Start(context.Background(), sandbox.Config{StorePath: path})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RegisterUser("alice", "Alice"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"k":"user","user":{"userID":"bo`)
	f.Close()
	var buf testchild.Buffer
	s, err = sandbox.Start(context.Background(), sandbox.Config{StorePath: path, Logger: slog.New(slog.NewTextHandler(&buf, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if out := buf.String(); !strings.Contains(out, "level=WARN") || !strings.Contains(out, "torn last line") || !strings.Contains(out, "bytes=32") {
		t.Fatalf("log:\n%s", out)
	}
	if err := s.RegisterUser("alice", "Alice"); err == nil {
		t.Fatal("the complete records before the torn line were lost")
	}
}
