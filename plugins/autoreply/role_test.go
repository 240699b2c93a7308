package autoreply_test

import (
	"context"
	"strings"
	"testing"

	"github.com/openimbot/openimbot/bot"
	"github.com/openimbot/openimbot/bot/bottest"
	"github.com/openimbot/openimbot/config"
	"github.com/openimbot/openimbot/content"
	"github.com/openimbot/openimbot/plugins/autoreply"
	"github.com/openimbot/openimbot/sandbox"
	"github.com/openimbot/openimbot/transport"
)

const roleRules = `
permissions:
  superusers: [root]
rules:
  - name: ban
    command: /ban {who}
    role: admin
    deny: Only admins may ban.
    reply: "banned {{.who}}"
  - name: shutdown
    full: shutdown
    role: superuser
    reply: shutting down
  - name: owner-only
    full: owner?
    role: owner
    reply: you own it
  - name: fallback
    full: owner?
    priority: -1
    reply: not the owner
`

func TestRoleRules(t *testing.T) {
	cfg, err := config.Parse("rules.yaml", []byte(roleRules), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Permissions.Superusers; len(got) != 1 || got[0] != "root" {
		t.Fatalf("superusers = %v", got)
	}
	r, err := build(t, roleRules, autoreply.WithSuperusers(cfg.Permissions.Superusers...))
	if err != nil {
		t.Fatal(err)
	}
	h := bottest.Start(t, r, bottest.WithBotOptions(bot.WithRateLimit(0, 0)), bottest.WithSetup(func(s *sandbox.Server) error {
		for _, u := range []string{"owner", "adam", "bob", "root"} {
			if err := s.RegisterUser(u, u); err != nil {
				return err
			}
		}
		if err := s.CreateGroup("g1", "owner", bottest.DefaultBotID, "adam", "bob", "root"); err != nil {
			return err
		}
		api, err := transport.NewAPI(s.APIURL())
		if err != nil {
			return err
		}
		tok, err := s.UserToken("owner", 5)
		if err != nil {
			return err
		}
		return api.SetGroupMemberRole(context.Background(), tok, "g1", "adam", content.RoleAdmin)
	}))
	s := h.Sandbox()
	for _, tt := range []struct{ user, text, want string }{
		{"bob", "/ban eve", "Only admins may ban."},
		{"adam", "/ban eve", "banned eve"},
		{"owner", "/ban eve", "banned eve"},
		{"root", "/ban eve", "banned eve"},
		{"owner", "owner?", "you own it"},
		{"adam", "owner?", "not the owner"}, // no deny: lower rules run
		{"owner", "shutdown", ""},           // not a superuser: no reply
		{"root", "shutdown", "shutting down"},
	} {
		if _, err := s.SendGroupText(tt.user, "g1", tt.text); err != nil {
			t.Fatal(err)
		}
		if tt.want == "" {
			continue
		}
		if got := h.NextReplyText(); got != tt.want {
			t.Errorf("%s %q: reply %q, want %q", tt.user, tt.text, got, tt.want)
		}
	}
}

func TestRoleRuleErrors(t *testing.T) {
	for _, tt := range []struct{ src, want string }{
		{"rules:\n  - full: x\n    role: boss\n    reply: y\n", "rules.yaml:3:11"},
		{"rules:\n  - full: x\n    deny: no\n    reply: y\n", "deny needs a role"},
	} {
		_, err := config.Parse("rules.yaml", []byte(tt.src), func(string) (string, bool) { return "", false })
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: err = %v, want %q", tt.src, err, tt.want)
		}
	}
}
