// Command keyword is a bot that answers keywords, commands and patterns,
// written in Go with the router (the YAML equivalent is the autoreply
// plugin of `openimbot run`).
//
//	go run ./examples/bots/keyword              # embedded sandbox; type lines, see replies
//
// Connect to a real server with -ws/-api/-user/-token/-secret or the
// OPENIM_* environment variables (see -h).
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/openimbot/openimbot/bot"
	"github.com/openimbot/openimbot/examples/bots/internal/connect"
	"github.com/openimbot/openimbot/plugins/help"
	"github.com/openimbot/openimbot/router"
)

// newRouter is the whole bot: its routes.
func newRouter(roll func(n int) int) (*router.Router, error) {
	r := router.New()
	r.OnFunc(router.KeywordFold("hello", "good morning"), func(c *bot.Context) error {
		return c.Reply("Hello, " + c.Sender() + "!")
	})
	r.OnFunc(router.Command("roll {sides:int?}"), func(c *bot.Context) error {
		sides := router.Int(c, "sides")
		if sides < 2 {
			sides = 6
		}
		return c.Reply(fmt.Sprintf("You rolled %d (d%d).", roll(sides), sides))
	}, router.Description("roll a die (six sides unless told)"))
	r.OnFunc(router.Command("help"), func(c *bot.Context) error {
		return c.Reply(help.Text(r.Routes(), "Commands:", "I also answer hello, and \"what is X?\"."))
	}, router.Description("list the commands"))
	r.OnFunc(router.Regex(`(?i)^(?:what is|define) (?P<word>\w+)\??$`), func(c *bot.Context) error {
		return c.Reply(strings.ToUpper(c.Param("word")) + ": no idea, but it sounds important.")
	})
	r.OnFunc(router.And(router.GroupChat(), router.MentionsMe()), func(c *bot.Context) error {
		return c.ReplyMention("you called?")
	}, router.Priority(-1))
	return r, r.Build() // a bad pattern is an error here, not on the first message
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fs := flag.NewFlagSet("keyword", flag.ExitOnError)
	conn := connect.Flags(fs)
	fs.Parse(os.Args[1:])
	r, err := newRouter(func(n int) int { return 1 + rand.IntN(n) })
	if err == nil {
		err = conn.Run(ctx, r, os.Stdin, os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "keyword:", err)
		os.Exit(1)
	}
}
