package bot_test

import (
	"context"
	"log"
	"os"
	"os/signal"

	"github.com/openimbot/openimbot/bot"
)

// A complete echo bot: it logs in with the admin secret (registering its
// user if needed), keeps its watermarks in echo.db, and answers every
// message in its conversation until interrupted.
func Example() {
	b, err := bot.New(
		bot.WithGateway("ws://127.0.0.1:10001"),
		bot.WithUser("echo"),
		bot.WithAdminSecret("http://127.0.0.1:10002", os.Getenv("OPENIM_SECRET")),
		bot.WithStorage("echo.db"),
		bot.WithHandler(bot.HandlerFunc(func(c *bot.Context) error {
			return c.Reply(c.Text())
		})),
	)
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := b.Run(ctx); err != nil {
		log.Fatal(err)
	}
}
