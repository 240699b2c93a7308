package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/openimbot/openimbot/internal/testchild"
	"github.com/openimbot/openimbot/sandbox"
	"github.com/openimbot/openimbot/transport"
)

// startSandboxCmd runs `openimbot sandbox` with args and returns its API URL
// and a stop function.
func startSandboxCmd(t *testing.T, args ...string) (string, func()) {
	t.Helper()
	sigs := make(chan os.Signal, 1)
	var out, errOut testchild.Buffer
	c := &cli{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut, signals: sigs}
	done := make(chan int, 1)
	go func() {
		done <- c.main(append([]string{"sandbox", "-ws", "127.0.0.1:0", "-api", "127.0.0.1:0"}, args...))
	}()
	re := regexp.MustCompile(`API (http://[0-9.:]+)`)
	deadline := time.Now().Add(10 * time.Second)
	for !re.MatchString(out.String()) {
		select {
		case code := <-done:
			t.Fatalf("sandbox exited %d: %s", code, errOut.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("sandbox did not start")
		}
		time.Sleep(5 * time.Millisecond)
	}
	return re.FindStringSubmatch(out.String())[1], func() {
		sigs <- syscall.SIGINT
		if code := <-done; code != exitOK {
			t.Errorf("sandbox exit %d: %s", code, errOut.String())
		}
	}
}

// sandboxForCarol is startSandboxCmd with the user "carol" registered; the
// sandbox is stopped at cleanup. It returns an API client, an admin token
// and the API URL.
func sandboxForCarol(t *testing.T, args ...string) (api *transport.API, admin, apiURL string) {
	t.Helper()
	apiURL, stop := startSandboxCmd(t, args...)
	t.Cleanup(stop)
	ctx := context.Background()
	api, _ = transport.NewAPI(apiURL)
	admin, err := api.GetAdminToken(ctx, sandbox.DefaultSecret, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := api.UserRegister(ctx, admin, transport.UserInfo{UserID: "carol", Nickname: "Carol"}); err != nil {
		t.Fatal(err)
	}
	return api, admin, apiURL
}

// sendPing sends "ping" from carol to bot.
func sendPing(t *testing.T, api *transport.API, admin, bot string) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"content": "ping"})
	if _, err := api.SendMsg(context.Background(), admin, transport.AdminSend{SendID: "carol", RecvID: bot, Content: body, ContentType: 101, SessionType: 1}); err != nil {
		t.Fatal(err)
	}
}

// waitAnswer polls carol's single chat with bot until it holds two
// messages, and checks that the second is bot's answer containing want;
// at deadline it fails with the bot's log.
func waitAnswer(t *testing.T, api *transport.API, admin, bot, want string, deadline time.Time, log *testchild.Buffer) {
	t.Helper()
	ctx := context.Background()
	carol, err := api.GetUserToken(ctx, admin, "carol", 7)
	if err != nil {
		t.Fatal(err)
	}
	conv := "si_" + min("carol", bot) + "_" + max("carol", bot)
	for {
		res, err := api.PullRange(ctx, carol, "carol", []transport.SeqRange{{ConversationID: conv, Begin: 1, End: 2}})
		if err != nil {
			t.Fatal(err)
		}
		if msgs := res[conv].Messages; len(msgs) == 2 {
			if msgs[1].SendID != bot || !strings.Contains(string(msgs[1].Content), want) {
				t.Fatalf("answer %+v", msgs[1])
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no answer; bot log:\n%s", log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRunHTTPModesAgainstSandboxCommand runs `openimbot run` in poll and in
// webhook mode against `openimbot sandbox` (with -webhook), both as the CLI
// runs them, and checks the bot answers a user's message.
func TestRunHTTPModesAgainstSandboxCommand(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hookAddr := ln.Addr().String()
	ln.Close()
	api, admin, apiURL := sandboxForCarol(t, "-webhook", "http://"+hookAddr+"/callbackExample")
	dir := t.TempDir()
	for _, mode := range []struct{ name, yaml string }{
		{"poll", "  receive: poll\n  poll: {interval: 50ms}\n"},
		// Reconcile is an hour: the answer comes from the callback.
		{"webhook", "  receive: webhook\nwebhook: {listen: \"" + hookAddr + "\", reconcile: 1h}\n"},
	} {
		t.Run(mode.name, func(t *testing.T) {
			user := "bot_" + mode.name
			p := writeFile(t, dir, mode.name+".yaml", fmt.Sprintf(`openim:
  api_addr: %s
  admin_secret: %s
  user_id: %s
%sstorage: {path: %s}
rules:
  - {full: ping, reply: pong from %s}
`, apiURL, sandbox.DefaultSecret, user, mode.yaml, filepath.Join(dir, mode.name+".db"), mode.name))
			r := startCLI(t, "run", "-config", p)
			sendPing(t, api, admin, user)
			waitAnswer(t, api, admin, user, "pong from "+mode.name, time.Now().Add(10*time.Second), &r.errOut)
			r.stop(t, syscall.SIGINT)
			if strings.Contains(r.errOut.String(), sandbox.DefaultSecret) {
				t.Fatalf("the secret was logged:\n%s", r.errOut.String())
			}
		})
	}
}
