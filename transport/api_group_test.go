package transport

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/openimbot/openimbot/content"
	"github.com/openimbot/openimbot/sandbox"
)

// apiFixture is a sandbox with users owner, admin, alice, bob, carol and
// group g1 (owner owner, admin admin, members alice and bob), and a token
// per user.
type apiFixture struct {
	s      *sandbox.Server
	api    *API
	tok    map[string]string
	master string // admin token
}

func newAPIFixture(t *testing.T) *apiFixture {
	t.Helper()
	s := startSandbox(t, "owner", "admin", "alice", "bob", "carol")
	api, err := NewAPI(s.APIURL())
	if err != nil {
		t.Fatal(err)
	}
	f := &apiFixture{s: s, api: api, tok: map[string]string{}}
	for _, u := range []string{"owner", "admin", "alice", "bob", "carol"} {
		tok, err := s.UserToken(u, 7)
		if err != nil {
			t.Fatal(err)
		}
		f.tok[u] = tok
	}
	if f.master, err = s.AdminToken(); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateGroup("g1", "owner", "admin", "alice", "bob"); err != nil {
		t.Fatal(err)
	}
	if err := api.SetGroupMemberRole(context.Background(), f.tok["owner"], "g1", "admin", content.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	return f
}

// wantCode fails unless err is an *APIError with code.
func wantCode(t *testing.T, what string, err error, code int) {
	t.Helper()
	var ae *APIError
	if !errors.As(err, &ae) || ae.Code != code {
		t.Errorf("%s: err = %v, want server error %d", what, err, code)
	}
}

// notices returns the content types of the group's notification stream.
func (f *apiFixture) notices(groupID string) []content.ContentType {
	var out []content.ContentType
	for _, m := range f.s.Messages("n_" + groupID) {
		out = append(out, m.ContentType)
	}
	return out
}

// lastEvent decodes the newest notification of the group.
func (f *apiFixture) lastEvent(t *testing.T, groupID string) content.GroupEvent {
	t.Helper()
	ms := f.s.Messages("n_" + groupID)
	if len(ms) == 0 {
		t.Fatal("no notification")
	}
	m := ms[len(ms)-1]
	ev := m.GroupEvent()
	if ev == nil {
		t.Fatalf("notification %d %+v has no group event", m.ContentType, m.Elem)
	}
	return ev
}

func TestAPIGroupInfoAndMembers(t *testing.T) {
	f := newAPIFixture(t)
	ctx := context.Background()
	gs, err := f.api.GetGroupsInfo(ctx, f.tok["carol"], "g1", "nope")
	if err != nil || len(gs) != 1 || gs[0].GroupID != "g1" || gs[0].OwnerUserID != "owner" || gs[0].MemberCount != 4 {
		t.Fatalf("GetGroupsInfo = %+v, %v", gs, err)
	}
	_, err = f.api.GetGroupsInfo(ctx, f.tok["carol"])
	wantCode(t, "GetGroupsInfo()", err, 1001)

	joined, total, err := f.api.GetJoinedGroupList(ctx, f.tok["alice"], "alice", Page{})
	if err != nil || total != 1 || len(joined) != 1 || joined[0].GroupID != "g1" {
		t.Fatalf("GetJoinedGroupList = %+v %d %v", joined, total, err)
	}
	_, _, err = f.api.GetJoinedGroupList(ctx, f.tok["alice"], "bob", Page{})
	wantCode(t, "GetJoinedGroupList(other user)", err, 1002)

	ms, total, err := f.api.GetGroupMemberList(ctx, f.tok["alice"], "g1", Page{Number: 1, Size: 3})
	if err != nil || total != 4 || len(ms) != 3 {
		t.Fatalf("GetGroupMemberList = %+v %d %v", ms, total, err)
	}
	if ms[0].UserID != "owner" || ms[0].RoleLevel != content.RoleOwner || ms[1].UserID != "admin" || ms[1].RoleLevel != content.RoleAdmin || ms[2].RoleLevel != content.RoleMember {
		t.Errorf("member order and roles = %+v", ms)
	}
	if ms[2].Nickname != "Nick "+ms[2].UserID {
		t.Errorf("member nickname = %q", ms[2].Nickname)
	}
	ms, _, err = f.api.GetGroupMemberList(ctx, f.tok["alice"], "g1", Page{Number: 2, Size: 3})
	if err != nil || len(ms) != 1 {
		t.Fatalf("page 2 = %+v %v", ms, err)
	}
	_, _, err = f.api.GetGroupMemberList(ctx, f.tok["carol"], "g1", Page{})
	wantCode(t, "GetGroupMemberList(non-member)", err, 1002)
	_, _, err = f.api.GetGroupMemberList(ctx, f.tok["carol"], "nope", Page{})
	wantCode(t, "GetGroupMemberList(unknown group)", err, 1002)
	if ms, total, err := f.api.GetGroupMemberList(ctx, f.master, "nope", Page{}); err != nil || total != 0 || len(ms) != 0 {
		t.Errorf("admin, unknown group = %v %d %v", ms, total, err)
	}

	info, err := f.api.GetGroupMembersInfo(ctx, f.tok["bob"], "g1", "admin", "carol")
	if err != nil || len(info) != 1 || info[0].UserID != "admin" || info[0].RoleLevel != content.RoleAdmin {
		t.Fatalf("GetGroupMembersInfo = %+v %v", info, err)
	}
	_, err = f.api.GetGroupMembersInfo(ctx, f.tok["carol"], "g1", "admin")
	wantCode(t, "GetGroupMembersInfo(non-member)", err, 1002)
	_, err = f.api.GetGroupMembersInfo(ctx, f.tok["bob"], "g1")
	wantCode(t, "GetGroupMembersInfo(no users)", err, 1001)
}

func TestAPIKick(t *testing.T) {
	f := newAPIFixture(t)
	ctx := context.Background()
	wantCode(t, "member kicks", f.api.KickGroupMember(ctx, f.tok["alice"], "g1", "", "bob"), 1002)
	wantCode(t, "non-member kicks", f.api.KickGroupMember(ctx, f.tok["carol"], "g1", "", "bob"), 1002)
	wantCode(t, "admin kicks owner", f.api.KickGroupMember(ctx, f.tok["admin"], "g1", "", "owner"), 1001)
	wantCode(t, "kick self", f.api.KickGroupMember(ctx, f.tok["admin"], "g1", "", "admin"), 1001)
	wantCode(t, "kick non-member", f.api.KickGroupMember(ctx, f.tok["admin"], "g1", "", "carol"), 1101)
	wantCode(t, "unknown group", f.api.KickGroupMember(ctx, f.tok["admin"], "nope", "", "bob"), 1004)
	if err := f.api.SetGroupMemberRole(ctx, f.tok["owner"], "g1", "alice", content.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "admin kicks admin", f.api.KickGroupMember(ctx, f.tok["admin"], "g1", "", "alice"), 1002)
	if err := f.api.KickGroupMember(ctx, f.tok["admin"], "g1", "spam", "bob"); err != nil {
		t.Fatal(err)
	}
	ev, ok := f.lastEvent(t, "g1").(*content.MemberKickedTips)
	if !ok || len(ev.KickedUserList) != 1 || ev.KickedUserList[0].UserID != "bob" || ev.OpUser.UserID != "admin" || ev.Group.MemberCount != 3 {
		t.Fatalf("kick notification = %#v", f.lastEvent(t, "g1"))
	}
	if got := f.s.GroupMembers("g1"); len(got) != 3 {
		t.Errorf("members after kick = %v", got)
	}
	// A kicked member is no longer one.
	_, _, err := f.api.GetGroupMemberList(ctx, f.tok["bob"], "g1", Page{})
	wantCode(t, "kicked member lists", err, 1002)
	if err := f.api.KickGroupMember(ctx, f.tok["owner"], "g1", "", "alice"); err != nil {
		t.Errorf("owner kicks admin: %v", err)
	}
}

func TestAPIInvite(t *testing.T) {
	f := newAPIFixture(t)
	ctx := context.Background()
	wantCode(t, "unknown user", f.api.InviteUserToGroup(ctx, f.tok["alice"], "g1", "", "nobody"), 1004)
	wantCode(t, "unknown group", f.api.InviteUserToGroup(ctx, f.tok["alice"], "nope", "", "carol"), 1004)
	wantCode(t, "non-member invites", f.api.InviteUserToGroup(ctx, f.tok["carol"], "g1", "", "carol"), 1004)
	wantCode(t, "empty", f.api.InviteUserToGroup(ctx, f.tok["alice"], "g1", ""), 1001)
	wantCode(t, "already a member", f.api.InviteUserToGroup(ctx, f.tok["alice"], "g1", "", "bob"), 1003)
	if err := f.api.InviteUserToGroup(ctx, f.tok["alice"], "g1", "welcome", "carol"); err != nil {
		t.Fatal(err)
	}
	ev, ok := f.lastEvent(t, "g1").(*content.MemberInvitedTips)
	if !ok || len(ev.InvitedUserList) != 1 || ev.InvitedUserList[0].UserID != "carol" || ev.InvitedUserList[0].Nickname != "Nick carol" || ev.OpUser.UserID != "alice" {
		t.Fatalf("invite notification = %#v", f.lastEvent(t, "g1"))
	}
	if ev.Notice() != content.MemberInvited || !contains(content.MemberJoined.ContentTypes(), content.TypeMemberInvited) {
		t.Errorf("notice kinds")
	}
}

func contains[T comparable](s []T, v T) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func TestAPIMute(t *testing.T) {
	f := newAPIFixture(t)
	ctx := context.Background()
	wantCode(t, "member mutes", f.api.MuteGroupMember(ctx, f.tok["alice"], "g1", "bob", time.Minute), 1002)
	wantCode(t, "admin mutes owner", f.api.MuteGroupMember(ctx, f.tok["admin"], "g1", "owner", time.Minute), 1002)
	wantCode(t, "non-member mutes", f.api.MuteGroupMember(ctx, f.tok["carol"], "g1", "bob", time.Minute), 1004)
	wantCode(t, "mute non-member", f.api.MuteGroupMember(ctx, f.tok["admin"], "g1", "carol", time.Minute), 1004)
	wantCode(t, "unknown group", f.api.MuteGroupMember(ctx, f.tok["admin"], "nope", "bob", time.Minute), 1004)
	if err := f.api.MuteGroupMember(ctx, f.tok["admin"], "g1", "bob", time.Millisecond); err == nil {
		t.Error("a mute under one second was sent")
	}
	if err := f.api.MuteGroupMember(ctx, f.tok["admin"], "g1", "bob", 10*time.Minute); err != nil {
		t.Fatal(err)
	}
	ev, ok := f.lastEvent(t, "g1").(*content.MemberMutedTips)
	if !ok || ev.MutedUser.UserID != "bob" || ev.MutedSeconds != 600 || ev.MutedUser.MuteEndTime < time.Now().Add(9*time.Minute).UnixMilli() {
		t.Fatalf("mute notification = %#v", f.lastEvent(t, "g1"))
	}
	// A muted member cannot send to the group through the gateway.
	r := start(t, sandboxConfig(t, f.s, "bob"))
	r.waitEvent(t, EventConnected)
	send := func() error {
		_, err := r.c.SendMsg(ctxT(t, 5*time.Second), &content.Message{GroupID: "g1", SessionType: content.GroupChat, Elem: &content.Text{Content: "hi"}})
		return err
	}
	wantCode(t, "muted member sends", send(), 1402)
	wantCode(t, "member unmutes", f.api.CancelMuteGroupMember(ctx, f.tok["alice"], "g1", "bob"), 1002)
	if err := f.api.CancelMuteGroupMember(ctx, f.tok["admin"], "g1", "bob"); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.lastEvent(t, "g1").(*content.MemberUnmutedTips); !ok {
		t.Fatalf("unmute notification = %#v", f.lastEvent(t, "g1"))
	}
	if err := send(); err != nil {
		t.Errorf("unmuted member: %v", err)
	}
	// The owner may mute an admin, an admin may not.
	wantCode(t, "admin mutes admin", f.api.MuteGroupMember(ctx, f.tok["admin"], "g1", "admin", time.Minute), 1002)
	if err := f.api.MuteGroupMember(ctx, f.tok["owner"], "g1", "admin", time.Minute); err != nil {
		t.Error(err)
	}
}

func TestAPISetMemberInfo(t *testing.T) {
	f := newAPIFixture(t)
	ctx := context.Background()
	if ev, ok := f.lastEvent(t, "g1").(*content.MemberInfoChangedTips); !ok || ev.Notice() != content.RoleChanged || ev.ChangedUser.RoleLevel != content.RoleAdmin {
		t.Fatalf("set-to-admin notification = %#v", f.lastEvent(t, "g1"))
	}
	wantCode(t, "member promotes", f.api.SetGroupMemberRole(ctx, f.tok["alice"], "g1", "bob", content.RoleAdmin), 1002)
	wantCode(t, "member promotes self", f.api.SetGroupMemberRole(ctx, f.tok["alice"], "g1", "alice", content.RoleAdmin), 1002)
	wantCode(t, "to owner", f.api.SetGroupMemberRole(ctx, f.tok["owner"], "g1", "bob", content.RoleOwner), 1002)
	wantCode(t, "bad role", f.api.SetGroupMemberRole(ctx, f.tok["owner"], "g1", "bob", 7), 1001)
	wantCode(t, "admin changes owner", f.api.SetGroupMemberNickname(ctx, f.tok["admin"], "g1", "owner", "x"), 1002)
	wantCode(t, "target not a member", f.api.SetGroupMemberRole(ctx, f.tok["owner"], "g1", "carol", content.RoleAdmin), 1001)
	wantCode(t, "caller not a member", f.api.SetGroupMemberNickname(ctx, f.tok["carol"], "g1", "bob", "x"), 1002)
	wantCode(t, "unknown group", f.api.SetGroupMemberNickname(ctx, f.tok["carol"], "nope", "bob", "x"), 1001)
	if err := f.api.SetGroupMemberNickname(ctx, f.tok["alice"], "g1", "alice", "Ally"); err != nil {
		t.Fatal(err)
	}
	ev, ok := f.lastEvent(t, "g1").(*content.MemberInfoChangedTips)
	if !ok || ev.Notice() != content.MemberInfoChanged || ev.ChangedUser.Nickname != "Ally" {
		t.Fatalf("info-set notification = %#v", f.lastEvent(t, "g1"))
	}
	if err := f.api.SetGroupMemberRole(ctx, f.tok["owner"], "g1", "admin", content.RoleMember); err != nil {
		t.Fatal(err)
	}
	if f.notices("g1")[len(f.notices("g1"))-1] != content.TypeGroupMemberSetToOrdinary {
		t.Errorf("notices = %v", f.notices("g1"))
	}
	if err := f.api.SetGroupMemberInfo(ctx, f.tok["owner"]); err == nil {
		t.Error("empty update was sent")
	}
}

func TestAPITransferAndDismiss(t *testing.T) {
	f := newAPIFixture(t)
	ctx := context.Background()
	wantCode(t, "admin transfers", f.api.TransferGroupOwner(ctx, f.tok["admin"], "g1", "owner", "admin"), 1002)
	wantCode(t, "to non-member", f.api.TransferGroupOwner(ctx, f.tok["owner"], "g1", "owner", "carol"), 1001)
	wantCode(t, "unknown group", f.api.TransferGroupOwner(ctx, f.tok["owner"], "nope", "owner", "alice"), 1004)
	if err := f.api.TransferGroupOwner(ctx, f.tok["owner"], "g1", "owner", "alice"); err != nil {
		t.Fatal(err)
	}
	ev, ok := f.lastEvent(t, "g1").(*content.OwnerTransferredTips)
	if !ok || ev.NewGroupOwner.UserID != "alice" || ev.NewGroupOwner.RoleLevel != content.RoleOwner || ev.OldGroupOwner != "owner" {
		t.Fatalf("transfer notification = %#v", f.lastEvent(t, "g1"))
	}
	wantCode(t, "old owner dismisses", f.api.DismissGroup(ctx, f.tok["owner"], "g1"), 1002)
	wantCode(t, "unknown group", f.api.DismissGroup(ctx, f.tok["alice"], "nope"), 1004)
	if err := f.api.DismissGroup(ctx, f.tok["alice"], "g1"); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.lastEvent(t, "g1").(*content.GroupDismissedTips); !ok {
		t.Fatalf("dismiss notification = %#v", f.lastEvent(t, "g1"))
	}
	wantCode(t, "dismiss twice", f.api.DismissGroup(ctx, f.tok["alice"], "g1"), 1204)
	r := start(t, sandboxConfig(t, f.s, "bob"))
	r.waitEvent(t, EventConnected)
	_, err := r.c.SendMsg(ctxT(t, 5*time.Second), &content.Message{GroupID: "g1", SessionType: content.GroupChat, Elem: &content.Text{Content: "hi"}})
	wantCode(t, "send to a dismissed group", err, 1204)
	wantCode(t, "invite to dismissed", f.api.InviteUserToGroup(ctx, f.tok["alice"], "g1", "", "carol"), 1204)
}

func TestAPIMessagesAndConversations(t *testing.T) {
	f := newAPIFixture(t)
	ctx := context.Background()
	for _, who := range []string{"alice", "bob", "bob"} {
		if _, err := f.s.SendGroupText(who, "g1", "hello from "+who); err != nil {
			t.Fatal(err)
		}
	}
	seqs, err := f.api.GetConversationsHasReadAndMaxSeq(ctx, f.tok["alice"], "alice", "sg_g1")
	if err != nil || seqs["sg_g1"].MaxSeq != 3 {
		t.Fatalf("seqs = %+v %v", seqs, err)
	}
	_, err = f.api.GetConversationsHasReadAndMaxSeq(ctx, "bad token", "alice", "sg_g1")
	wantCode(t, "seqs with a bad token", err, 1503)
	if err := f.api.MarkConversationAsRead(ctx, f.tok["alice"], "alice", "sg_g1", 2); err != nil {
		t.Fatal(err)
	}
	seqs, _ = f.api.GetConversationsHasReadAndMaxSeq(ctx, f.tok["alice"], "alice", "sg_g1")
	if seqs["sg_g1"].HasReadSeq != 2 {
		t.Errorf("has-read seq = %+v", seqs)
	}
	wantCode(t, "mark for another user", f.api.MarkConversationAsRead(ctx, f.tok["alice"], "bob", "sg_g1", 2), 1002)

	convs, total, err := f.api.GetOwnerConversation(ctx, f.tok["alice"], "alice", Page{})
	if err != nil || total < 1 || !containsConv(convs, "sg_g1") {
		t.Fatalf("conversations = %+v %d %v", convs, total, err)
	}
	_, _, err = f.api.GetOwnerConversation(ctx, f.tok["alice"], "bob", Page{})
	wantCode(t, "conversations of another user", err, 1002)

	// Revoke: a member may not revoke another's message; an admin may
	// revoke a member's; a revoke twice is 1404.
	wantCode(t, "member revokes other", f.api.RevokeMsg(ctx, f.tok["alice"], "alice", "sg_g1", 2), 1002)
	wantCode(t, "revoke as other", f.api.RevokeMsg(ctx, f.tok["alice"], "bob", "sg_g1", 2), 1002)
	wantCode(t, "unknown seq", f.api.RevokeMsg(ctx, f.tok["alice"], "alice", "sg_g1", 99), 1004)
	if err := f.api.RevokeMsg(ctx, f.tok["alice"], "alice", "sg_g1", 1); err != nil {
		t.Fatal(err)
	}
	if err := f.api.RevokeMsg(ctx, f.tok["admin"], "admin", "sg_g1", 2); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "revoke twice", f.api.RevokeMsg(ctx, f.tok["admin"], "admin", "sg_g1", 2), 1404)
	ms := f.s.Messages("sg_g1")
	if ms[0].ContentType != content.TypeMsgRevokeNotification || ms[2].ContentType != content.TypeText {
		t.Errorf("after revoke: %v %v", ms[0].ContentType, ms[2].ContentType)
	}
	if got := f.notices("g1"); got[len(got)-1] != content.TypeMsgRevokeNotification {
		t.Errorf("no revoke notification: %v", got)
	}
}

func containsConv(cs []Conversation, id string) bool {
	for _, c := range cs {
		if c.ConversationID == id {
			return true
		}
	}
	return false
}

func TestAPIExpiredTokenAndHTTPStatus(t *testing.T) {
	s, err := sandbox.Start(context.Background(), sandbox.Config{TokenTTL: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.RegisterUser("alice", "Alice"); err != nil {
		t.Fatal(err)
	}
	tok, err := s.UserToken("alice", 7)
	if err != nil {
		t.Fatal(err)
	}
	api, _ := NewAPI(s.APIURL())
	time.Sleep(2100 * time.Millisecond)
	ctx := context.Background()
	role := content.RoleAdmin
	calls := map[string]func() error{
		"GetUsersInfo":          func() error { _, err := api.GetUsersInfo(ctx, tok, "alice"); return err },
		"GetGroupsInfo":         func() error { _, err := api.GetGroupsInfo(ctx, tok, "g1"); return err },
		"GetJoinedGroupList":    func() error { _, _, err := api.GetJoinedGroupList(ctx, tok, "alice", Page{}); return err },
		"GetGroupMemberList":    func() error { _, _, err := api.GetGroupMemberList(ctx, tok, "g1", Page{}); return err },
		"GetGroupMembersInfo":   func() error { _, err := api.GetGroupMembersInfo(ctx, tok, "g1", "bob"); return err },
		"InviteUserToGroup":     func() error { return api.InviteUserToGroup(ctx, tok, "g1", "", "bob") },
		"KickGroupMember":       func() error { return api.KickGroupMember(ctx, tok, "g1", "", "bob") },
		"MuteGroupMember":       func() error { return api.MuteGroupMember(ctx, tok, "g1", "bob", time.Minute) },
		"CancelMuteGroupMember": func() error { return api.CancelMuteGroupMember(ctx, tok, "g1", "bob") },
		"SetGroupMemberInfo": func() error {
			return api.SetGroupMemberInfo(ctx, tok, MemberUpdate{GroupID: "g1", UserID: "bob", RoleLevel: &role})
		},
		"TransferGroupOwner":     func() error { return api.TransferGroupOwner(ctx, tok, "g1", "alice", "bob") },
		"DismissGroup":           func() error { return api.DismissGroup(ctx, tok, "g1") },
		"RevokeMsg":              func() error { return api.RevokeMsg(ctx, tok, "alice", "sg_g1", 1) },
		"MarkConversationAsRead": func() error { return api.MarkConversationAsRead(ctx, tok, "alice", "sg_g1", 1) },
		"GetConversationsHasReadAndMaxSeq": func() error {
			_, err := api.GetConversationsHasReadAndMaxSeq(ctx, tok, "alice")
			return err
		},
		"GetOwnerConversation": func() error { _, _, err := api.GetOwnerConversation(ctx, tok, "alice", Page{}); return err },
		// The calls of poll and webhook modes, and the admin calls (with
		// the expired token in the admin's place).
		"NewestSeq": func() error { _, err := api.NewestSeq(ctx, tok, "alice"); return err },
		"PullRange": func() error {
			_, err := api.PullRange(ctx, tok, "alice", []SeqRange{{ConversationID: "sg_g1", Begin: 1, End: 2}})
			return err
		},
		"SendMsg": func() error {
			_, err := api.SendMsg(ctx, tok, AdminSend{SendID: "alice", RecvID: "bob", Content: []byte(`{"content":"hi"}`), ContentType: 101, SessionType: 1})
			return err
		},
		"GetUserToken": func() error { _, err := api.GetUserToken(ctx, tok, "alice", 7); return err },
		"UserRegister": func() error { return api.UserRegister(ctx, tok, UserInfo{UserID: "dave"}) },
	}
	for name, call := range calls {
		err := call()
		if !errors.Is(err, ErrTokenExpired) {
			t.Errorf("%s with an expired token: %v, want ErrTokenExpired", name, err)
		}
		wantCode(t, name+" with an expired token", err, 1501)
	}

	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	api, _ = NewAPI(srv.URL)
	err = api.KickGroupMember(context.Background(), "t", "g1", "", "bob")
	wantCode(t, "HTTP 404", err, 404)
}
