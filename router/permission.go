package router

import (
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/openimbot/openimbot/bot"
	"github.com/openimbot/openimbot/content"
)

// Role is a permission level checked by HasRole and its shorthands.
type Role uint8

// The permission levels. Superusers (a configured list of user IDs) pass
// every level; RoleSuperuser lets only them pass.
const (
	RoleSuperuser Role = iota + 1 // a superuser
	RoleOwner                     // the group's owner
	RoleAdmin                     // a group admin or the owner
)

// String returns "superuser", "owner" or "admin".
func (r Role) String() string {
	switch r {
	case RoleSuperuser:
		return "superuser"
	case RoleOwner:
		return "owner"
	case RoleAdmin:
		return "admin"
	}
	return fmt.Sprintf("Role(%d)", uint8(r))
}

// ParseRole parses "owner", "admin" or "superuser".
func ParseRole(s string) (Role, error) {
	for _, r := range []Role{RoleSuperuser, RoleOwner, RoleAdmin} {
		if s == r.String() {
			return r, nil
		}
	}
	return 0, &PatternError{Kind: "role", Pattern: s, Msg: "not one of owner, admin, superuser"}
}

type roleMatcher struct {
	role       Role
	superusers []string
}

// HasRole matches messages whose sender has role: a superuser (one of
// superusers) always, the group's owner for RoleOwner, an admin or the
// owner for RoleAdmin. Group roles are read in the message's group through
// the bot's API (bot.API.Role, cached; a group notification of the group
// refreshes it), so they hold in group chats only; a failed lookup does
// not match and is logged. A Context without a bot (bot.NewContext) has
// no roles.
func HasRole(role Role, superusers ...string) Matcher {
	if role < RoleSuperuser || role > RoleAdmin {
		return &errMatcher{&PatternError{Kind: "role", Pattern: role.String(), Msg: "unknown role"}}
	}
	return &roleMatcher{role: role, superusers: slices.Clone(superusers)}
}

// GroupOwner matches messages from the group's owner or a superuser.
func GroupOwner(superusers ...string) Matcher { return HasRole(RoleOwner, superusers...) }

// GroupAdmin matches messages from a group admin, the owner or a
// superuser.
func GroupAdmin(superusers ...string) Matcher { return HasRole(RoleAdmin, superusers...) }

// Superuser matches messages from the given user IDs, in any chat.
func Superuser(userIDs ...string) Matcher { return HasRole(RoleSuperuser, userIDs...) }

func (m *roleMatcher) String() string {
	name := map[Role]string{RoleSuperuser: "Superuser", RoleOwner: "GroupOwner", RoleAdmin: "GroupAdmin"}[m.role]
	return name + "(" + quoteList(m.superusers) + ")"
}

func (m *roleMatcher) match(in *input) bool {
	sender := in.msg.SendID
	if slices.Contains(m.superusers, sender) {
		return true
	}
	if m.role == RoleSuperuser {
		return in.trace && in.fail("sender %q is not a superuser", sender)
	}
	if !in.msg.SessionType.IsGroup() || in.msg.GroupID == "" {
		return in.trace && in.fail("%s: not a group message", m)
	}
	if in.c == nil {
		return in.trace && in.fail("%s: no context", m)
	}
	r, err := in.c.API().Role(in.c.Context(), in.msg.GroupID, sender)
	if err != nil {
		in.c.Logger().Warn("router: role lookup failed", "group", in.msg.GroupID, "user", sender, "err", err)
		return in.trace && in.fail("%s: role lookup: %v", m, err)
	}
	if r == content.RoleOwner || (m.role == RoleAdmin && r == content.RoleAdmin) {
		return true
	}
	return in.trace && in.fail("sender %q is %s in group %q, not %s", sender, r, in.msg.GroupID, m.role)
}

func (m *roleMatcher) guards(*config) []guard { return nil }

// specificity: below the text matchers, so routes with a command and a
// role are indexed by the command.
func (m *roleMatcher) specificity() int { return 5 }
func (m *roleMatcher) err() error       { return nil }

// requireCfg is the config Require evaluates its matcher with.
var requireCfg = sync.OnceValue(func() *config {
	return &config{prefixes: []string{"/"}, loc: time.Local, logger: slog.New(slog.DiscardHandler)}
})

// Require returns middleware that runs the handler only for messages m
// matches (usually HasRole or a shorthand). Any other message gets denial
// as a reply, or nothing when denial is empty, and the route counts as
// run (lower routes do not run). An invalid m makes every message fail
// with its error.
//
//	r.On(router.Command("kick"), kick, router.WithMiddleware(
//		router.Require(router.GroupAdmin(), "Only group admins may do that.")))
func Require(m Matcher, denial string) bot.Middleware {
	return func(next bot.Handler) bot.Handler {
		return bot.HandlerFunc(func(c *bot.Context) error {
			if m == nil {
				return fmt.Errorf("router: Require: nil matcher")
			}
			if err := m.err(); err != nil {
				return err
			}
			msg := c.Message()
			if msg == nil {
				msg = &emptyMessage
			}
			in := &input{c: c, msg: msg, text: msg.Text(), selfID: c.SelfID(), cfg: requireCfg()}
			if m.match(in) {
				return next.Handle(c)
			}
			if denial == "" {
				return nil
			}
			return c.Reply(denial)
		})
	}
}

// Notification matches the group notifications of the given kinds
// (content.MemberJoined, content.MemberKicked, ...), once each: of a
// notification the server also copies into the group chat, only the copy
// is matched. The handler reads the typed event with
// c.Message().GroupEvent().
//
//	r.On(router.Notification(content.MemberJoined), welcome)
func Notification(kinds ...content.GroupNotice) Matcher {
	var types []content.ContentType
	for _, k := range kinds {
		ts := k.ContentTypes()
		if ts == nil {
			return &errMatcher{&PatternError{Kind: "notification", Pattern: k.String(), Msg: "unknown group notification kind"}}
		}
		types = append(types, ts...)
	}
	if len(types) == 0 {
		return &errMatcher{&PatternError{Kind: "notification", Msg: "no kind given"}}
	}
	m := ContentTypes(types...).(*attrMatcher)
	m.name = "Notification"
	return noticeMatcher{m}
}

// noticeMatcher is a content-type matcher that routes one copy of each
// group notification. OpenIM sends most group notifications (those with
// isSendMsg in its notification.yml: joins, kicks, mutes...) twice: in the
// group's notification stream, marked isSendMsg, and as a stored message of
// the group chat. The chat copy is the one routed; a notification without
// a chat copy is routed from the notification stream.
type noticeMatcher struct{ *attrMatcher }

func (m noticeMatcher) match(in *input) bool {
	if !m.attrMatcher.match(in) {
		return false
	}
	if v, ok := in.msg.Options["isNotNotification"]; ok && !v && in.msg.Options["isSendMsg"] {
		return in.trace && in.fail("notification %d has a copy in the group chat, which is routed instead", in.msg.ContentType)
	}
	return true
}
