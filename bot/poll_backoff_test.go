package bot_test

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/openimbot/openimbot/bot"
	"github.com/openimbot/openimbot/sandbox"
)

// pollCounter is a reverse proxy in front of the sandbox's HTTP API that
// records when each /msg/newest_seq poll arrives.
type pollCounter struct {
	mu    sync.Mutex
	polls []time.Time
}

func (p *pollCounter) between(from, to time.Time) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, at := range p.polls {
		if !at.Before(from) && at.Before(to) {
			n++
		}
	}
	return n
}

// In poll mode an idle bot backs off after 10 idle polls, doubling its
// interval up to max_interval; a poll that finds a message brings the
// interval back to its start.
func TestPollModeIdleBackoff(t *testing.T) {
	s := startModeSandbox(t, sandbox.Config{})
	modeUsers(t, s, 1)
	target, _ := url.Parse(s.APIURL())
	pc := &pollCounter{}
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/msg/newest_seq" {
			pc.mu.Lock()
			pc.polls = append(pc.polls, time.Now())
			pc.mu.Unlock()
		}
		proxy.ServeHTTP(w, r)
	}))
	defer srv.Close()
	const interval, maxInterval = 10 * time.Millisecond, 160 * time.Millisecond
	handled := make(chan time.Time, 1)
	b, err := bot.New(bot.WithUser("bot"), bot.WithAdminSecret(srv.URL, sandbox.DefaultSecret),
		bot.WithStorage(filepath.Join(t.TempDir(), "bot.db")), bot.WithPoll(interval, maxInterval),
		bot.WithHandler(bot.HandlerFunc(func(c *bot.Context) error {
			handled <- time.Now()
			return nil
		})))
	if err != nil {
		t.Fatal(err)
	}
	defer runInBackground(t, b)()
	waitFirstSync(t, b)
	// Idle: 10 polls 10ms apart, then 20, 40, 80, 160, 160 ... ms.
	time.Sleep(1500 * time.Millisecond)
	now := time.Now()
	if n := pc.between(now.Add(-640*time.Millisecond), now); n > 6 {
		t.Fatalf("%d polls in the last 640ms of an idle second and a half, want about 4 (backed off to %v)", n, maxInterval)
	}
	if n := pc.between(now.Add(-1500*time.Millisecond), now); n < 10 {
		t.Fatalf("only %d polls in 1.5s", n)
	}
	// A message: found within one backed-off interval, then the bot polls
	// at the start interval again.
	if _, err := s.SendText("u0", "bot", "hi"); err != nil {
		t.Fatal(err)
	}
	var at time.Time
	select {
	case at = <-handled:
	case <-time.After(5 * time.Second):
		t.Fatal("the message was not handled")
	}
	time.Sleep(200 * time.Millisecond)
	if n := pc.between(at, at.Add(200*time.Millisecond)); n < 5 {
		t.Fatalf("%d polls in the 200ms after a message, want the start interval (%v) again", n, interval)
	}
}
