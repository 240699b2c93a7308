package sandbox_test

import (
	"context"
	"fmt"

	"github.com/openimbot/openimbot/sandbox"
)

// A test starts a sandbox on free loopback ports, registers users, issues a
// token for the bot, and injects messages as any user.
func Example() {
	s, err := sandbox.Start(context.Background(), sandbox.Config{})
	if err != nil {
		panic(err)
	}
	defer s.Close()

	s.RegisterUser("bot", "Bot")
	s.RegisterUser("alice", "Alice")
	token, _ := s.UserToken("bot", 7) // dial s.WSURL() with this token
	_ = token

	msgs, cancel := s.Subscribe(8)
	defer cancel()
	m, _ := s.SendText("alice", "bot", "hello")
	fmt.Println(m.ConversationID, m.Seq, m.Text())
	seen := <-msgs
	fmt.Println(seen.ServerMsgID == m.ServerMsgID)
	fmt.Println(s.MaxSeq(sandbox.ConversationID("bot", "alice")))
	// Output:
	// si_alice_bot 1 hello
	// true
	// 1
}

// Faults for reconnect tests: drop every connection, refuse the next two
// handshakes, and store messages without pushing them so that clients see a
// seq gap to fill.
func ExampleServer_faults() {
	s, _ := sandbox.Start(context.Background(), sandbox.Config{})
	defer s.Close()
	s.DropAll()
	s.RefuseHandshakes(2, 1601)
	s.WithholdPushes(true)
	s.SendText("alice", "bot", "stored, not pushed")
	s.WithholdPushes(false)
	fmt.Println(s.MaxSeq("si_alice_bot"))
	// Output: 1
}
