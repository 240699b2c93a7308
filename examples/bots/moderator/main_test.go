package main

import (
	"context"
	"testing"
	"time"

	"github.com/openimbot/openimbot/bot/bottest"
	"github.com/openimbot/openimbot/content"
	"github.com/openimbot/openimbot/sandbox"
	"github.com/openimbot/openimbot/transport"
)

func TestModerator(t *testing.T) {
	r, err := newRouter()
	if err != nil {
		t.Fatal(err)
	}
	var api *transport.API
	tok := map[string]string{}
	h := bottest.Start(t, r, bottest.WithSetup(func(s *sandbox.Server) error {
		for _, u := range []string{"alice", "bob", "carol", "dave"} {
			if err := s.RegisterUser(u, "Nick "+u); err != nil {
				return err
			}
			t, err := s.UserToken(u, 7)
			if err != nil {
				return err
			}
			tok[u] = t
		}
		if err := s.CreateGroup("g1", "alice", bottest.DefaultBotID, "bob", "carol"); err != nil {
			return err
		}
		if api, err = transport.NewAPI(s.APIURL()); err != nil {
			return err
		}
		// The bot must be a group admin to kick and mute.
		return api.SetGroupMemberRole(context.Background(), tok["alice"], "g1", bottest.DefaultBotID, content.RoleAdmin)
	}))
	s, ctx := h.Sandbox(), context.Background()
	say := func(user, text string) {
		t.Helper()
		if _, err := s.SendGroupText(user, "g1", text); err != nil {
			t.Fatal(err)
		}
	}
	expect := func(want string) {
		t.Helper()
		m := h.WaitReply(0)
		for m.ContentType >= 1000 { // the notifications of the bot's own kicks and mutes
			m = h.WaitReply(0)
		}
		if got := m.Text(); got != want {
			t.Fatalf("reply %q, want %q", got, want)
		}
	}

	// An ordinary member is denied, and nothing happens.
	say("bob", "/kick carol")
	expect(denial)
	if len(s.GroupMembers("g1")) != 4 {
		t.Fatal("a denied kick removed someone")
	}
	// The owner may.
	say("alice", "/kick carol")
	expect("carol was removed from the group.")
	if ms := s.GroupMembers("g1"); len(ms) != 3 {
		t.Fatalf("members after kick: %v", ms)
	}

	// New members are welcomed by name; the join notification comes after
	// bob's promotion in the group's notification stream, so once the
	// welcome is out, the bot has seen bob become an admin.
	if err := api.SetGroupMemberRole(ctx, tok["alice"], "g1", "bob", content.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	if err := api.InviteUserToGroup(ctx, tok["alice"], "g1", "", "dave"); err != nil {
		t.Fatal(err)
	}
	expect("Welcome to g1, Nick dave!")

	// bob is an admin now: his cached role was dropped by the notification.
	say("bob", "/mute dave 10m")
	expect("dave is muted for 10m0s.")
	ms, err := api.GetGroupMembersInfo(ctx, tok["alice"], "g1", "dave")
	if err != nil || len(ms) != 1 || ms[0].MuteEndTime < time.Now().Add(9*time.Minute).UnixMilli() {
		t.Fatalf("dave after mute: %+v %v", ms, err)
	}
	say("bob", "/mute dave soon")
	expect("Usage: /mute @user 10m (a duration of at least 1s)")

	// An @-mention names the target; an admin cannot remove the owner.
	at, err := content.NewMessage(content.NewAtText("/kick @dave", "dave"))
	if err != nil {
		t.Fatal(err)
	}
	at.SendID, at.GroupID, at.SessionType = "bob", "g1", content.GroupChat
	if _, err := s.Inject(*at); err != nil {
		t.Fatal(err)
	}
	expect("dave was removed from the group.")
	say("bob", "/kick alice")
	expect("Could not remove alice: not possible (the group owner cannot be removed).")
	// The server's rules apply to the bot: an admin cannot mute another.
	say("alice", "/mute bob 1m")
	expect("Could not mute bob: I am not allowed to (make me a group admin; admins and the owner are protected).")

	// In a single chat the commands are not routed at all.
	h.Say("bob", "/kick alice")
	say("alice", "/kick nobody")
	expect("Could not remove nobody: no such member.")
}
