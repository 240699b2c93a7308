// Command moderator is a group moderation bot: it welcomes new members by
// name, and lets group admins (and the group owner) remove or mute
// members:
//
//	/kick @user           remove a member from the group
//	/mute @user 10m       mute a member for a while (Go durations: 30s, 10m, 2h)
//
// Anyone else who tries gets a denial message. The bot acts as its own
// user, so it must be an admin of the group for the server to accept
// its kicks and mutes.
//
//	go run ./examples/bots/moderator            # embedded sandbox
//
// Connect to a real server with -ws/-api/-user/-token/-secret or the
// OPENIM_* environment variables (see -h).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/openimbot/openimbot/bot"
	"github.com/openimbot/openimbot/content"
	"github.com/openimbot/openimbot/examples/bots/internal/connect"
	"github.com/openimbot/openimbot/router"
	"github.com/openimbot/openimbot/transport"
)

// denial is the answer to a moderation command from a non-admin.
const denial = "Sorry, only group admins may do that."

// newRouter is the whole bot: its routes. superusers may moderate every
// group.
func newRouter(superusers ...string) (*router.Router, error) {
	r := router.New()
	r.OnFunc(router.Notification(content.MemberJoined), welcome)
	adminOnly := router.WithMiddleware(router.Require(router.GroupAdmin(superusers...), denial))
	r.OnFunc(router.And(router.GroupChat(), router.Command("kick {user}")), kick, adminOnly)
	r.OnFunc(router.And(router.GroupChat(), router.Command("mute {user} {duration}")), mute, adminOnly)
	return r, r.Build()
}

// welcome greets the members a join notification names.
func welcome(c *bot.Context) error {
	ev := c.Message().GroupEvent()
	if ev == nil {
		return nil
	}
	var names []string
	for _, m := range ev.Members() {
		if m.UserID == c.SelfID() {
			continue
		}
		name := m.Nickname
		if name == "" {
			name = m.UserID
		}
		names = append(names, name)
	}
	if len(names) == 0 {
		return nil
	}
	return c.Reply(fmt.Sprintf("Welcome to %s, %s!", groupName(ev.GroupInfo()), strings.Join(names, ", ")))
}

func groupName(g content.GroupInfo) string {
	if g.GroupName != "" {
		return g.GroupName
	}
	return g.GroupID
}

// target is the user a command names: the first @-mention other than the
// bot, else the user parameter without its "@".
func target(c *bot.Context) string {
	for _, id := range c.Message().AtUserIDList {
		if id != c.SelfID() && id != content.AtAllTag {
			return id
		}
	}
	return strings.TrimPrefix(c.Param("user"), "@")
}

func kick(c *bot.Context) error {
	user := target(c)
	if err := c.API().Kick(c, c.Message().GroupID, "kicked by "+c.Sender(), user); err != nil {
		return c.Reply("Could not remove " + user + ": " + reason(err))
	}
	return c.Reply(user + " was removed from the group.")
}

func mute(c *bot.Context) error {
	user := target(c)
	d, err := time.ParseDuration(c.Param("duration"))
	if err != nil || d < time.Second {
		return c.Reply("Usage: /mute @user 10m (a duration of at least 1s)")
	}
	if err := c.API().Mute(c, c.Message().GroupID, user, d); err != nil {
		return c.Reply("Could not mute " + user + ": " + reason(err))
	}
	return c.Reply(fmt.Sprintf("%s is muted for %s.", user, d))
}

// reason explains a failed moderation call to the group.
func reason(err error) string {
	var ae *transport.APIError
	if errors.As(err, &ae) {
		switch ae.Code {
		case 1001:
			return "not possible (the group owner cannot be removed)."
		case 1002:
			return "I am not allowed to (make me a group admin; admins and the owner are protected)."
		case 1004, 1101:
			return "no such member."
		}
	}
	return "the server refused."
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fs := flag.NewFlagSet("moderator", flag.ExitOnError)
	conn := connect.Flags(fs)
	super := fs.String("superusers", os.Getenv("OPENIM_SUPERUSERS"), "comma-separated user IDs allowed to moderate every group")
	fs.Parse(os.Args[1:])
	var ids []string
	for _, id := range strings.Split(*super, ",") {
		if id = strings.TrimSpace(id); id != "" {
			ids = append(ids, id)
		}
	}
	r, err := newRouter(ids...)
	if err == nil {
		err = conn.Run(ctx, r, os.Stdin, os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "moderator:", err)
		os.Exit(1)
	}
}
