package bot_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/openimbot/openimbot/bot"
	"github.com/openimbot/openimbot/sandbox"
)

// A bot that reaches OpenIM over the HTTP API only (poll mode): it needs
// the admin secret, because replies go through the admin-only
// /msg/send_msg. Here it runs against a sandbox.
func ExampleWithPoll() {
	s, err := sandbox.Start(context.Background(), sandbox.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	s.RegisterUser("alice", "Alice")
	dir, _ := os.MkdirTemp("", "poll-example")
	defer os.RemoveAll(dir)

	handled := make(chan string, 1)
	b, err := bot.New(
		bot.WithUser("bot"),
		bot.WithAdminSecret(s.APIURL(), sandbox.DefaultSecret),
		bot.WithPoll(50*time.Millisecond, time.Second),
		bot.WithStorage(filepath.Join(dir, "bot.db")),
		bot.WithHandler(bot.HandlerFunc(func(c *bot.Context) error {
			handled <- c.Source() + ": " + c.Text()
			return c.Reply("pong")
		})),
	)
	if err != nil {
		log.Fatal(err)
	}
	go b.Run(context.Background())
	defer b.Close()
	for b.Stats().Syncs == 0 { // the first sync: history is skipped
		time.Sleep(10 * time.Millisecond)
	}
	replies, stop := s.SubscribeFrom(1, "bot")
	defer stop()
	s.SendText("alice", "bot", "ping")
	fmt.Println(<-handled)
	reply := <-replies
	fmt.Println(reply.Text())
	// Output:
	// poll: ping
	// pong
}
