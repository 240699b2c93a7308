package bot_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openimbot/openimbot/bot"
	"github.com/openimbot/openimbot/sandbox"
	"github.com/openimbot/openimbot/transport"
)

// freeAddr returns a loopback address nothing listens on (it was free a
// moment ago).
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// echoAdminBot builds a bot that logs in with the admin secret and answers
// every text with "re: " + text, redialling every 50ms.
func echoAdminBot(t *testing.T, wsURL, apiURL, secret string, failed *atomic.Int32) *bot.Bot {
	t.Helper()
	b, err := bot.New(bot.WithGateway(wsURL), bot.WithUser("bot"),
		bot.WithAdminSecret(apiURL, secret), bot.WithStorage(filepath.Join(t.TempDir(), "b.db")),
		bot.WithTransportConfig(func(c *transport.Config) {
			c.Backoff = func(int) time.Duration { return 50 * time.Millisecond }
		}),
		bot.WithOnConnectFailed(func(error) { failed.Add(1) }),
		bot.WithHandler(bot.HandlerFunc(func(c *bot.Context) error { return c.Reply("re: " + c.Text()) })))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// expectReply sends text from alice to the bot and waits for the answer.
func expectReply(t *testing.T, s *sandbox.Server, text string) {
	t.Helper()
	replies, unsub := s.SubscribeFrom(16, "bot")
	defer unsub()
	deadline := time.After(10 * time.Second)
	// The bot may still be syncing: say it again until it answers.
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	if _, err := s.SendText("alice", "bot", text); err != nil {
		t.Fatal(err)
	}
	for {
		select {
		case m := <-replies:
			if m.Text() == "re: "+text {
				return
			}
		case <-tick.C:
			if _, err := s.SendText("alice", "bot", text); err != nil {
				t.Fatal(err)
			}
		case <-deadline:
			t.Fatalf("no answer to %q", text)
		}
	}
}

// A bot with the admin secret started before its server waits for it (the
// token fetch retries as the websocket does), then connects and answers.
func TestAdminSecretBotWaitsForTheServer(t *testing.T) {
	wsAddr, apiAddr := freeAddr(t), freeAddr(t)
	var failed atomic.Int32
	b := echoAdminBot(t, "ws://"+wsAddr, "http://"+apiAddr, sandbox.DefaultSecret, &failed)
	runErr := make(chan error, 1)
	go func() { runErr <- b.Run(context.Background()) }()
	defer func() {
		_ = b.Close()
		if err := <-runErr; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	// The server comes up later, on the same ports.
	deadline := time.Now().Add(10 * time.Second)
	for failed.Load() < 3 {
		select {
		case err := <-runErr:
			runErr <- err
			t.Fatalf("Run returned before the server was up: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("no failed attempt reported")
		}
		time.Sleep(10 * time.Millisecond)
	}
	s, err := sandbox.Start(context.Background(), sandbox.Config{WSAddr: wsAddr, APIAddr: apiAddr})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.RegisterUser("alice", "Alice"); err != nil {
		t.Fatal(err)
	}
	expectReply(t, s, "hello")
}

// A 5xx from a proxy in front of the API is retried too.
func TestAdminSecretRetriesServerErrors(t *testing.T) {
	s, err := sandbox.Start(context.Background(), sandbox.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.RegisterUser("alice", "Alice"); err != nil {
		t.Fatal(err)
	}
	target, _ := url.Parse(s.APIURL())
	proxy := httputil.NewSingleHostReverseProxy(target)
	var calls atomic.Int32
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= 3 {
			http.Error(w, "upstream starting", http.StatusBadGateway)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	defer front.Close()
	var failed atomic.Int32
	b := echoAdminBot(t, s.WSURL(), front.URL, sandbox.DefaultSecret, &failed)
	runErr := make(chan error, 1)
	go func() { runErr <- b.Run(context.Background()) }()
	defer func() {
		_ = b.Close()
		if err := <-runErr; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	expectReply(t, s, "hello")
	if n := failed.Load(); n != 3 {
		t.Fatalf("%d failed attempts reported, want 3", n)
	}
}

// A rejected secret is fatal at once, with an error that says so.
func TestAdminSecretRejectedIsFatal(t *testing.T) {
	s, err := sandbox.Start(context.Background(), sandbox.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var failed atomic.Int32
	b, err := bot.New(bot.WithGateway(s.WSURL()), bot.WithUser("bot"),
		bot.WithAdminSecret(s.APIURL(), "wrong"), bot.WithStorage(filepath.Join(t.TempDir(), "b.db")),
		bot.WithTransportConfig(func(c *transport.Config) {
			c.Backoff = func(int) time.Duration { return time.Hour } // a retry would hang the test
		}),
		bot.WithOnConnectFailed(func(error) { failed.Add(1) }),
		bot.WithHandler(bot.HandlerFunc(func(*bot.Context) error { return nil })))
	if err != nil {
		t.Fatal(err)
	}
	runErr := make(chan error, 1)
	go func() { runErr <- b.Run(context.Background()) }()
	select {
	case err = <-runErr:
	case <-time.After(10 * time.Second):
		_ = b.Close()
		t.Fatal("Run did not fail on a rejected secret")
	}
	var ae *transport.APIError
	if !errors.Is(err, bot.ErrTokenRefresh) || !errors.As(err, &ae) || !strings.Contains(err.Error(), "check the admin secret") {
		t.Fatalf("Run: %v; want a token error naming the admin secret", err)
	}
	if strings.Contains(err.Error(), "wrong") {
		t.Fatalf("the secret appears in the error: %v", err)
	}
	if n := failed.Load(); n != 0 {
		t.Fatalf("%d retries of a rejected secret", n)
	}
}
