// Package bottest is a test kit for bot authors: one call starts an
// in-process OpenIM sandbox and a bot running a handler against it over a
// real loopback websocket, with storage in a temporary directory. Tests then
// talk to the bot as users (Say, SayInGroup) and wait for its replies
// (WaitReply) without sleeping.
//
// A Harness is safe for concurrent use.
//
// Typical use:
//
//	h := bottest.Start(t, myHandler)
//	h.Say("alice", "/help")
//	if got := h.NextReplyText(); got != "..." {
//		t.Fatal(got)
//	}
//
// Clock is a fake bot.Clock for dialog timeouts and schedules: tests move
// it with Advance after WaitTimers has seen the code under test arm its
// timer, so nothing sleeps.
//
// Sandbox gives the sandbox for fault injection (DropEvery, WithholdPushes,
// Kick ...), Bot the running bot, Sent everything the bot sent.
package bottest
