package bot_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/openimbot/openimbot/bot"
	"github.com/openimbot/openimbot/bot/bottest"
	"github.com/openimbot/openimbot/content"
	"github.com/openimbot/openimbot/sandbox"
	"github.com/openimbot/openimbot/transport"
)

// apiHarness runs a bot that owns group g1 (members alice, bob, carol).
func apiHarness(t *testing.T, h bot.Handler) *bottest.Harness {
	t.Helper()
	if h == nil {
		h = bot.HandlerFunc(func(*bot.Context) error { return nil })
	}
	return bottest.Start(t, h, bottest.WithBotOptions(bot.WithRateLimit(0, 0)), bottest.WithSetup(func(s *sandbox.Server) error {
		for _, u := range []string{"alice", "bob", "carol", "dave"} {
			if err := s.RegisterUser(u, "Nick "+u); err != nil {
				return err
			}
		}
		return s.CreateGroup("g1", bottest.DefaultBotID, "alice", "bob", "carol")
	}))
}

func wantAPICode(t *testing.T, what string, err error, code int) {
	t.Helper()
	var ae *transport.APIError
	if !errors.As(err, &ae) || ae.Code != code {
		t.Errorf("%s: %v, want server error %d", what, err, code)
	}
}

func TestBotAPICalls(t *testing.T) {
	h := apiHarness(t, nil)
	api, ctx := h.Bot().API(), context.Background()
	if h.Bot().API() != api {
		t.Fatal("API is not the same value on each call")
	}
	self, err := h.Bot().SelfProfile(ctx)
	if err != nil || self.UserID != bottest.DefaultBotID {
		t.Fatalf("SelfProfile = %+v, %v", self, err)
	}
	if u, err := api.User(ctx, "alice"); err != nil || u.Nickname != "Nick alice" {
		t.Errorf("User = %+v, %v", u, err)
	}
	_, err = api.User(ctx, "nobody")
	wantAPICode(t, "unknown user", err, 1004)
	if us, err := api.Users(ctx, "alice", "bob", "nobody"); err != nil || len(us) != 2 {
		t.Errorf("Users = %+v, %v", us, err)
	}
	if g, err := api.Group(ctx, "g1"); err != nil || g.MemberCount != 4 || g.OwnerUserID != bottest.DefaultBotID {
		t.Errorf("Group = %+v, %v", g, err)
	}
	_, err = api.Group(ctx, "nope")
	wantAPICode(t, "unknown group", err, 1004)
	if gs, total, err := api.JoinedGroups(ctx, transport.Page{}); err != nil || total != 1 || gs[0].GroupID != "g1" {
		t.Errorf("JoinedGroups = %+v %d %v", gs, total, err)
	}
	if ms, total, err := api.Members(ctx, "g1", transport.Page{Size: 2}); err != nil || total != 4 || len(ms) != 2 || ms[0].RoleLevel != content.RoleOwner {
		t.Errorf("Members = %+v %d %v", ms, total, err)
	}
	_, _, err = api.Members(ctx, "other", transport.Page{})
	wantAPICode(t, "members of a group the bot is not in", err, 1002)
	if m, err := api.Member(ctx, "g1", "alice"); err != nil || m.Nickname != "Nick alice" || m.RoleLevel != content.RoleMember {
		t.Errorf("Member = %+v, %v", m, err)
	}
	if ms, err := api.MembersInfo(ctx, "g1", "alice", "dave"); err != nil || len(ms) != 1 || ms[0].UserID != "alice" {
		t.Errorf("MembersInfo = %+v, %v", ms, err)
	}
	if _, err := api.Member(ctx, "g1", "dave"); !errors.Is(err, bot.ErrNotMember) {
		t.Errorf("Member(non-member) = %v", err)
	}

	if err := api.SetRole(ctx, "g1", "alice", content.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	if r, err := api.Role(ctx, "g1", "alice"); err != nil || r != content.RoleAdmin {
		t.Errorf("Role after SetRole = %v, %v", r, err)
	}
	if err := api.SetNickname(ctx, "g1", "bob", "Bobby"); err != nil {
		t.Fatal(err)
	}
	if m, err := api.Member(ctx, "g1", "bob"); err != nil || m.Nickname != "Bobby" {
		t.Errorf("Member after SetNickname = %+v, %v", m, err)
	}
	if err := api.Mute(ctx, "g1", "bob", time.Minute); err != nil {
		t.Fatal(err)
	}
	if m, _ := api.Member(ctx, "g1", "bob"); m.MuteEndTime < time.Now().UnixMilli() {
		t.Errorf("bob not muted: %+v", m)
	}
	if err := api.Unmute(ctx, "g1", "bob"); err != nil {
		t.Fatal(err)
	}
	if err := api.Invite(ctx, "g1", "dave"); err != nil {
		t.Fatal(err)
	}
	if _, err := api.Member(ctx, "g1", "dave"); err != nil {
		t.Errorf("dave after Invite: %v", err)
	}
	if err := api.Kick(ctx, "g1", "bye", "dave"); err != nil {
		t.Fatal(err)
	}
	wantAPICode(t, "kick a non-member", api.Kick(ctx, "g1", "", "dave"), 1101)
	wantAPICode(t, "mute in an unknown group", api.Mute(ctx, "nope", "bob", time.Minute), 1004)

	// Messages and conversations.
	m := h.SayInGroup("g1", "bob", "hello")
	h.Say("carol", "hi bot")
	if seqs, err := api.Seqs(ctx, "sg_g1"); err != nil || seqs["sg_g1"].MaxSeq < m.Seq {
		t.Errorf("Seqs = %+v, %v", seqs, err)
	}
	if err := api.MarkRead(ctx, "sg_g1", m.Seq); err != nil {
		t.Fatal(err)
	}
	if seqs, _ := api.Seqs(ctx, "sg_g1"); seqs["sg_g1"].HasReadSeq != m.Seq {
		t.Errorf("has-read seq = %+v", seqs)
	}
	if cs, total, err := api.Conversations(ctx, transport.Page{}); err != nil || total < 2 || len(cs) != total {
		t.Errorf("Conversations = %+v %d %v", cs, total, err)
	}
	if err := api.Revoke(ctx, "sg_g1", m.Seq); err != nil {
		t.Errorf("the owner revokes a member's message: %v", err)
	}
	wantAPICode(t, "revoke twice", api.Revoke(ctx, "sg_g1", m.Seq), 1404)

	if err := api.Transfer(ctx, "g1", "alice"); err != nil {
		t.Fatal(err)
	}
	wantAPICode(t, "dismiss after transfer", api.Dismiss(ctx, "g1"), 1002)
	if c, tok, err := api.Client(); err != nil || c == nil || tok == "" {
		t.Errorf("Client = %v, %v", c, err)
	}
	if api.Calls() == 0 {
		t.Error("Calls = 0")
	}
}

func TestBotAPIWithoutBot(t *testing.T) {
	c := bot.NewContext(context.Background(), &content.Message{}, "bot")
	if _, err := c.API().Member(context.Background(), "g", "u"); err != bot.ErrNoAPI {
		t.Errorf("Member: %v", err)
	}
	if err := c.API().Kick(context.Background(), "g", "", "u"); err != bot.ErrNoAPI {
		t.Errorf("Kick: %v", err)
	}
	b, err := bot.New(bot.WithGateway("ws://127.0.0.1:1"), bot.WithUser("b"), bot.WithToken("t"),
		bot.WithStorage(t.TempDir()+"/b.db"), bot.WithHandler(bot.HandlerFunc(func(*bot.Context) error { return nil })))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.API().Role(context.Background(), "g", "u"); err != bot.ErrNoAPI {
		t.Errorf("Role without an API address: %v", err)
	}
	if _, err := b.SelfProfile(context.Background()); err != bot.ErrNoAPI {
		t.Errorf("SelfProfile without an API address: %v", err)
	}
}

// A burst of messages in one group costs one lookup, whoever sends them;
// a group notification of the group drops the cache, so a role change is
// seen at once.
func TestBotAPIRoleCache(t *testing.T) {
	roles := make(chan content.RoleLevel, 100)
	h := apiHarness(t, bot.HandlerFunc(func(c *bot.Context) error {
		if c.Message().ContentType != content.TypeText || !c.IsGroup() {
			return nil
		}
		r, err := c.API().Role(c, c.Message().GroupID, c.Sender())
		if err != nil {
			return err
		}
		roles <- r
		return nil
	}))
	api := h.Bot().API()
	before := api.Calls()
	for i := range 30 {
		h.SayInGroup("g1", []string{"alice", "bob", "carol"}[i%3], "hi")
	}
	for range 30 {
		if r := <-roles; r != content.RoleMember {
			t.Fatalf("role %v", r)
		}
	}
	if n := api.Calls() - before; n != 1 {
		t.Errorf("30 messages from 3 senders cost %d calls, want 1", n)
	}
	// Promote alice with another token: only the notification tells the
	// bot.
	s := h.Sandbox()
	tapi, _ := transport.NewAPI(s.APIURL())
	admin, _ := s.AdminToken()
	if err := tapi.SetGroupMemberRole(context.Background(), admin, "g1", "alice", content.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		h.SayInGroup("g1", "alice", "hi")
		if <-roles == content.RoleAdmin {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the role change never reached the cache")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// SyncNow pulls what the bot has not been pushed.
func TestBotSyncNow(t *testing.T) {
	got := make(chan string, 10)
	h := apiHarness(t, bot.HandlerFunc(func(c *bot.Context) error {
		if c.Message().ContentType == content.TypeText {
			got <- c.Text()
		}
		return nil
	}))
	s := h.Sandbox()
	s.WithholdPushes(true)
	h.Say("alice", "while withheld")
	select {
	case m := <-got:
		t.Fatalf("%q arrived without a push", m)
	case <-time.After(100 * time.Millisecond):
	}
	if err := h.Bot().SyncNow(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-got:
		if m != "while withheld" {
			t.Fatalf("got %q", m)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("SyncNow did not deliver the message")
	}
	s.WithholdPushes(false)

	b, err := bot.New(bot.WithGateway("ws://127.0.0.1:1"), bot.WithUser("b"), bot.WithToken("t"),
		bot.WithStorage(t.TempDir()+"/b.db"), bot.WithHandler(bot.HandlerFunc(func(*bot.Context) error { return nil })))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.SyncNow(context.Background()); !errors.Is(err, bot.ErrNotConnected) {
		t.Errorf("SyncNow before Run: %v", err)
	}
}
