// Command hello is the bot of the README, runnable as it is:
//
//	go run ./examples/bots/hello                    # an embedded sandbox on 127.0.0.1:10001 and :10002
//	go run ./cmd/openimbot chat -to bot1            # in another terminal: talk to it
//
// With OPENIM_WS_ADDR, OPENIM_API_ADDR and OPENIM_ADMIN_SECRET set it
// connects to that OpenIM server instead. It logs to stderr and stops
// cleanly on Ctrl-C and on SIGTERM.
package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/openimbot/openimbot/bot"
	"github.com/openimbot/openimbot/router"
	"github.com/openimbot/openimbot/sandbox"
)

func main() {
	// Stop cleanly on Ctrl-C and on SIGTERM (what service managers send).
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil)) // the library logs nothing unless given a logger

	r := router.New()
	r.OnFunc(router.Command("ping"), func(c *bot.Context) error { return c.Reply("pong") })
	r.OnFunc(router.KeywordFold("hello"), func(c *bot.Context) error { return c.Reply("Hello, " + c.Sender() + "!") })

	ws, api, secret := os.Getenv("OPENIM_WS_ADDR"), os.Getenv("OPENIM_API_ADDR"), os.Getenv("OPENIM_ADMIN_SECRET")
	if ws == "" { // no server given: run an OpenIM-compatible sandbox in the process
		sb, err := sandbox.Start(ctx, sandbox.Config{WSAddr: "127.0.0.1:10001", APIAddr: "127.0.0.1:10002"})
		if err != nil {
			log.Error("sandbox", "err", err)
			os.Exit(1)
		}
		defer sb.Close()
		ws, api, secret = sb.WSURL(), sb.APIURL(), sandbox.DefaultSecret
		log.Info("embedded sandbox; talk to the bot with: go run ./cmd/openimbot chat -to bot1")
	}
	b, err := bot.New(bot.WithHandler(r), bot.WithUser("bot1"), bot.WithStorage("bot1.db"),
		bot.WithGateway(ws), bot.WithAdminSecret(api, secret), bot.WithLogger(log),
		bot.WithOnSynced(func() { log.Info("ready: connected and in sync") }))
	if err == nil {
		err = b.Run(ctx) // returns nil once ctx ends and the bot has shut down
	}
	if err != nil {
		log.Error("bot stopped", "err", err)
		os.Exit(1)
	}
}
