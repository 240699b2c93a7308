// Command echo is the smallest openimbot bot: it repeats every text message.
//
//	go run ./examples/bots/echo                 # embedded sandbox; type lines, see replies
//	OPENIM_WS_ADDR=ws://host:10001 OPENIM_API_ADDR=http://host:10002 \
//	OPENIM_USER_ID=bot1 OPENIM_ADMIN_SECRET=... go run ./examples/bots/echo
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/openimbot/openimbot/bot"
	"github.com/openimbot/openimbot/examples/bots/internal/connect"
)

// echo is the whole bot.
func echo(c *bot.Context) error {
	if c.Text() == "" {
		return nil // not a text message
	}
	return c.Reply(c.Text())
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fs := flag.NewFlagSet("echo", flag.ExitOnError)
	conn := connect.Flags(fs)
	fs.Parse(os.Args[1:])
	if err := conn.Run(ctx, bot.HandlerFunc(echo), os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "echo:", err)
		os.Exit(1)
	}
}
