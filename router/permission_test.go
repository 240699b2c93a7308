package router_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/openimbot/openimbot/bot"
	"github.com/openimbot/openimbot/bot/bottest"
	"github.com/openimbot/openimbot/content"
	"github.com/openimbot/openimbot/router"
	"github.com/openimbot/openimbot/sandbox"
	"github.com/openimbot/openimbot/transport"
)

// roleBot runs a bot in group g1 (owner alice, admin adam, members bob and
// the bot) with routes "/owner", "/admin", "/super" (silent denial) and
// "/deny" (a denial reply).
func roleBot(t testing.TB, extra ...string) *bottest.Harness {
	t.Helper()
	r := router.New()
	ok := func(c *bot.Context) error { return c.Reply("ok " + c.Sender()) }
	r.OnFunc(router.And(router.Command("owner"), router.GroupOwner("root")), ok)
	r.OnFunc(router.And(router.Command("admin"), router.GroupAdmin("root")), ok)
	r.OnFunc(router.And(router.Command("super"), router.Superuser("root")), ok)
	r.OnFunc(router.Command("deny"), ok, router.WithMiddleware(router.Require(router.GroupAdmin(), "admins only")))
	r.OnFunc(router.Command("quiet"), ok, router.WithMiddleware(router.Require(router.GroupAdmin(), "")))
	r.NotFound(bot.HandlerFunc(func(c *bot.Context) error {
		if strings.HasPrefix(c.Text(), "/") {
			return c.Reply("no route")
		}
		return nil
	}))
	if err := r.Build(); err != nil {
		t.Fatal(err)
	}
	members := append([]string{"alice", bottest.DefaultBotID, "adam", "bob", "root"}, extra...)
	return bottest.Start(t, r, bottest.WithBotOptions(bot.WithRateLimit(0, 0), bot.WithLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))), bottest.WithSetup(func(s *sandbox.Server) error {
		for _, u := range members[2:] {
			if err := s.RegisterUser(u, u); err != nil {
				return err
			}
		}
		if err := s.RegisterUser("alice", "alice"); err != nil {
			return err
		}
		if err := s.CreateGroup("g1", members...); err != nil {
			return err
		}
		return setRole(s, "adam", content.RoleAdmin)
	}))
}

func setRole(s *sandbox.Server, user string, role content.RoleLevel) error {
	api, err := transport.NewAPI(s.APIURL())
	if err != nil {
		return err
	}
	tok, err := s.UserToken("alice", 5)
	if err != nil {
		return err
	}
	return api.SetGroupMemberRole(context.Background(), tok, "g1", user, role)
}

func TestRoleMatchers(t *testing.T) {
	h := roleBot(t)
	s := h.Sandbox()
	for _, tt := range []struct{ user, text, want string }{
		{"alice", "/owner", "ok alice"},
		{"adam", "/owner", "no route"},
		{"root", "/owner", "ok root"},
		{"adam", "/admin", "ok adam"},
		{"alice", "/admin", "ok alice"},
		{"bob", "/admin", "no route"},
		{"root", "/super", "ok root"},
		{"alice", "/super", "no route"},
		{"bob", "/deny", "admins only"},
		{"adam", "/deny", "ok adam"},
		{"bob", "/quiet", ""},
		{"adam", "/quiet", "ok adam"},
	} {
		if _, err := s.SendGroupText(tt.user, "g1", tt.text); err != nil {
			t.Fatal(err)
		}
		if tt.want == "" {
			continue // the next reply is the next case's
		}
		if got := h.NextReplyText(); got != tt.want {
			t.Errorf("%s %s: reply %q, want %q", tt.user, tt.text, got, tt.want)
		}
	}
	// Roles hold in groups only; superusers pass everywhere.
	h.Say("alice", "/owner")
	if got := h.NextReplyText(); got != "no route" {
		t.Errorf("owner in a single chat: %q", got)
	}
	h.Say("root", "/admin")
	if got := h.NextReplyText(); got != "ok root" {
		t.Errorf("superuser in a single chat: %q", got)
	}
	// A role change reaches the bot as a notification, which drops the
	// cached roles: bob is an admin at once.
	if err := setRole(s, "bob", content.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	waitRole(t, h, "bob", content.RoleAdmin)
	s.SendGroupText("bob", "g1", "/admin")
	if got := h.NextReplyText(); got != "ok bob" {
		t.Errorf("bob after promotion: %q", got)
	}
}

// waitRole waits until the bot's API reports role for user: the bot has
// handled the role-change notification.
func waitRole(t *testing.T, h *bottest.Harness, user string, role content.RoleLevel) {
	t.Helper()
	for range 500 {
		r, err := h.Bot().API().Role(context.Background(), "g1", user)
		if err == nil && r == role {
			return
		}
		// Ask the bot something to let it handle the notification first.
		h.Say("root", "/super")
		h.NextReplyText()
	}
	t.Fatalf("the bot never saw %s become %s", user, role)
}

func TestInvalidRole(t *testing.T) {
	if _, err := router.ParseRole("boss"); err == nil {
		t.Error("ParseRole(boss) succeeded")
	}
	r := router.New()
	if err := r.OnFunc(router.HasRole(9), func(*bot.Context) error { return nil }); err == nil {
		t.Error("HasRole(9) registered")
	}
	if err := r.OnFunc(router.Notification(), func(*bot.Context) error { return nil }); err == nil {
		t.Error("Notification() registered")
	}
	// Without a bot there are no roles.
	c := bot.NewContext(context.Background(), &content.Message{SendID: "a", GroupID: "g", SessionType: content.GroupChat}, "bot")
	if _, err := c.API().Role(context.Background(), "g", "a"); err != bot.ErrNoAPI {
		t.Errorf("Role without a bot: %v", err)
	}
}

// BenchmarkRoleRuleCache sends 1,000 messages from 10 senders in one group
// to a bot whose routes are restricted to group admins (a denial answers
// the others), and reports the HTTP API calls the bot made for them: one
// member-list lookup, whoever sends. It fails above 2. The messages go in
// batches of 100, each waiting for its replies, so the bot's connection
// never falls behind.
func BenchmarkRoleRuleCache(b *testing.B) {
	senders := make([]string, 10)
	for i := range senders {
		senders[i] = fmt.Sprintf("user%d", i)
	}
	h := roleBot(b, senders...)
	s := h.Sandbox()
	var calls int64
	b.ResetTimer()
	for range b.N {
		api := h.Bot().API()
		api.Forget("g1")
		before := api.Calls()
		for i := range 1000 {
			from, text := senders[i%len(senders)], "/deny"
			if i%100 == 99 {
				from = "adam" // an admin: "ok adam"
			}
			if _, err := s.SendGroupText(from, "g1", text); err != nil {
				b.Fatal(err)
			}
			if i%100 == 99 {
				h.WaitReplies(100, 0)
			}
		}
		calls = api.Calls() - before
		if calls > 2 {
			b.Fatalf("1,000 messages cost %d API calls, want at most 2", calls)
		}
	}
	b.ReportMetric(float64(calls), "api-calls/1000msgs")
}

// Of a notification with a copy in the group chat, only the copy is
// routed; one without a copy is routed from the notification stream.
func TestNotificationRoutesOneCopy(t *testing.T) {
	r := router.New()
	var got []string
	r.OnFunc(router.Notification(content.MemberJoined, content.RoleChanged), func(c *bot.Context) error {
		got = append(got, c.Message().ConversationID)
		return nil
	})
	if err := r.Build(); err != nil {
		t.Fatal(err)
	}
	for _, m := range []*content.Message{
		{ConversationID: "n_g1", ContentType: content.TypeMemberInvited, Options: map[string]bool{"isNotNotification": false, "isSendMsg": true}},
		{ConversationID: "sg_g1", ContentType: content.TypeMemberInvited, Options: map[string]bool{"unreadCount": true}},
		{ConversationID: "n_g1", ContentType: content.TypeGroupMemberSetToAdmin, Options: map[string]bool{"isNotNotification": false, "isSendMsg": false}},
		{ConversationID: "sg_g1", ContentType: content.TypeMemberKicked},
	} {
		if err := r.Handle(bot.NewContext(context.Background(), m, "bot")); err != nil {
			t.Fatal(err)
		}
	}
	if fmt.Sprint(got) != "[sg_g1 n_g1]" {
		t.Errorf("routed %v, want [sg_g1 n_g1]", got)
	}
}
