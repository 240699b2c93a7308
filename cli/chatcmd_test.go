package cli

import (
	"strings"
	"testing"

	"github.com/openimbot/openimbot/bot"
	"github.com/openimbot/openimbot/bot/bottest"
)

// TestChat: `openimbot chat` talks to a running bot through the sandbox's
// gateway and API as a real client would: it registers the user, logs in
// with a token from the admin secret, sends each line and prints the bot's
// replies (with what they quote) before the next line.
func TestChat(t *testing.T) {
	h := bottest.Start(t, bot.HandlerFunc(func(c *bot.Context) error {
		switch c.Text() {
		case "ping":
			return c.Reply("pong")
		case "quote me":
			return c.ReplyQuote("quoted")
		}
		return c.Reply("you said: " + c.Text())
	}))
	sb := h.Sandbox()
	code, out, stderr := runCLI(t, "ping\nquote me\nbye\n", "chat", "-ws", sb.WSURL(), "-api", sb.APIURL(), "-to", h.BotID(), "-as", "carol")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	want := "carol> ping\n" +
		"bot> pong\n" +
		"carol> quote me\n" +
		"bot> | carol: quote me\n" +
		"bot> quoted\n" +
		"carol> bye\n" +
		"bot> you said: bye\n"
	if out != want {
		t.Fatalf("transcript\n%s\nwant\n%s", out, want)
	}
	if !strings.Contains(stderr, "registered the user carol") {
		t.Errorf("stderr %q", stderr)
	}
	// In a group the user must be a member; the bot's replies go to the group.
	if err := sb.CreateGroup("g1", h.BotID(), "carol"); err != nil {
		t.Fatal(err)
	}
	code, out, stderr = runCLI(t, "ping\n", "chat", "-ws", sb.WSURL(), "-api", sb.APIURL(), "-to", h.BotID(), "-as", "carol", "-group", "g1")
	if code != exitOK || out != "carol> ping\nbot> pong\n" {
		t.Fatalf("group: exit %d, out %q, stderr %q", code, out, stderr)
	}
}

// TestChatErrors: a wrong secret or an unknown bot is a clear error.
func TestChatErrors(t *testing.T) {
	h := bottest.Start(t, bot.HandlerFunc(func(*bot.Context) error { return nil }))
	sb := h.Sandbox()
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"-secret", "wrong"}, exitRuntime, "chat: admin token: "},
		{[]string{"-to", "nobody"}, exitRuntime, `the server has no user "nobody" (is the bot running? -to names it)`},
		{[]string{"-as", "bot"}, exitUsage, "-to and -as must be two different users"},
	} {
		args := append([]string{"chat", "-ws", sb.WSURL(), "-api", sb.APIURL()}, tt.args...)
		code, _, stderr := runCLI(t, "", args...)
		if code != tt.code || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tt.args, code, stderr, tt.code, tt.want)
		}
	}
}

// TestVersion: `openimbot version` names the program and the Go version.
func TestVersion(t *testing.T) {
	code, out, _ := runCLI(t, "", "version")
	if code != exitOK || !strings.HasPrefix(out, "openimbot ") || !strings.Contains(out, "go1.") {
		t.Fatalf("exit %d, %q", code, out)
	}
}
