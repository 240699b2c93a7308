package main

import (
	"bytes"
	"context"
	"flag"
	"strings"
	"testing"

	"github.com/openimbot/openimbot/bot"
	"github.com/openimbot/openimbot/bot/bottest"
	"github.com/openimbot/openimbot/examples/bots/internal/connect"
)

func TestEcho(t *testing.T) {
	h := bottest.Start(t, bot.HandlerFunc(echo))
	h.Say("alice", "hello there")
	if got := h.NextReplyText(); got != "hello there" {
		t.Fatalf("reply %q", got)
	}
	h.SayInGroup("g1", "bob", "in a group")
	if m := h.NextReply(); m.Text() != "in a group" || m.GroupID != "g1" {
		t.Fatalf("group reply %q to %q", m.Text(), m.GroupID)
	}
}

// TestConsole runs the program's default mode: embedded sandbox, lines in,
// replies out.
func TestConsole(t *testing.T) {
	fs := flag.NewFlagSet("echo", flag.ContinueOnError)
	conn := connect.Flags(fs)
	if err := fs.Parse([]string{"-ws", ""}); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := conn.Run(context.Background(), bot.HandlerFunc(echo), strings.NewReader("one\ntwo\n"), &out); err != nil {
		t.Fatal(err)
	}
	if out.String() != "one\ntwo\n" {
		t.Fatalf("console output %q", out.String())
	}
}
