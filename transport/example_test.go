package transport_test

import (
	"context"
	"fmt"
	"time"

	"github.com/openimbot/openimbot/content"
	"github.com/openimbot/openimbot/sandbox"
	"github.com/openimbot/openimbot/transport"
)

// A bot connects to a gateway (here the in-process sandbox), receives a
// push, and replies.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	gw, err := sandbox.Start(ctx, sandbox.Config{})
	if err != nil {
		panic(err)
	}
	defer gw.Close()
	_ = gw.RegisterUser("bot", "Bot")
	_ = gw.RegisterUser("alice", "Alice")
	token, err := gw.UserToken("bot", 7)
	if err != nil {
		panic(err)
	}

	c, err := transport.New(transport.Config{WSAddr: gw.WSURL(), UserID: "bot", Token: token})
	if err != nil {
		panic(err)
	}
	defer c.Close()
	go c.Run(ctx)

	for e := range c.Events() {
		switch e.Kind {
		case transport.EventConnected:
			fmt.Println("connected")
			_, _ = gw.SendText("alice", "bot", "hello bot")
		case transport.EventPush:
			for _, m := range e.Messages {
				if m.SendID == "bot" {
					fmt.Println("echo of my reply, seq", m.Seq)
					return
				}
				fmt.Printf("%s in %s (seq %d): %s\n", m.SendID, m.ConversationID, m.Seq, m.Text())
				reply := &content.Message{RecvID: m.SendID, Elem: &content.Text{Content: "hi " + m.SendID}}
				if _, err := c.SendMsg(ctx, reply); err != nil {
					fmt.Println("send:", err)
				}
			}
		}
	}
	// Output:
	// connected
	// alice in si_alice_bot (seq 1): hello bot
	// echo of my reply, seq 2
}
