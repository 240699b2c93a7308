package bot_test

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openimbot/openimbot/bot"
	"github.com/openimbot/openimbot/content"
	"github.com/openimbot/openimbot/internal/testchild"
	"github.com/openimbot/openimbot/sandbox"
	"github.com/openimbot/openimbot/transport"
)

// resetRig is a sandbox that can be replaced by a fresh one (no store) on
// the same addresses, and a bot with a persistent database.
type resetRig struct {
	t       *testing.T
	s       *sandbox.Server
	ws, api string
	db      string
	rec     *textRecorder
	logs    testchild.Buffer
	resets  chan *bot.SeqResetError
	synced  atomic.Int32
	b       *bot.Bot
	cancel  context.CancelFunc
	runErr  chan error
	conv    string
	policy  []bot.Option
}

// textRecorder records the texts the bot handled, in order.
type textRecorder struct {
	mu    sync.Mutex
	texts []string
	seqs  []int64
}

func (r *textRecorder) add(m *content.Message, text string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.texts = append(r.texts, text)
	r.seqs = append(r.seqs, m.Seq)
}

func (r *textRecorder) snapshot() ([]string, []int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.texts...), append([]int64(nil), r.seqs...)
}

// waitText waits until text was handled.
func (r *textRecorder) waitText(t *testing.T, text string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		texts, _ := r.snapshot()
		for _, x := range texts {
			if x == text {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%q was not handled within 10s; handled %q", text, texts)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func newResetRig(t *testing.T, policy ...bot.Option) *resetRig {
	r := &resetRig{t: t, db: filepath.Join(t.TempDir(), "bot.db"), rec: &textRecorder{},
		resets: make(chan *bot.SeqResetError, 16), policy: policy}
	r.freshSandbox()
	r.conv = content.SingleConversationID("bot", "alice")
	return r
}

// freshSandbox closes the current sandbox, if any, and starts one without
// a store on the same addresses, with the users "bot" and "alice".
func (r *resetRig) freshSandbox() {
	t := r.t
	t.Helper()
	cfg := sandbox.Config{}
	if r.s != nil {
		if err := r.s.Close(); err != nil {
			t.Fatal(err)
		}
		cfg.WSAddr = strings.TrimPrefix(r.ws, "ws://")
		cfg.APIAddr = strings.TrimPrefix(r.api, "http://")
	}
	s := sandboxWithUsers(t, cfg, "bot", "alice")
	r.s, r.ws, r.api = s, s.WSURL(), s.APIURL()
}

// wantHandled checks the texts the bot handled, in order, joined by spaces.
func (r *resetRig) wantHandled(want string) {
	r.t.Helper()
	texts, _ := r.rec.snapshot()
	if got := strings.Join(texts, " "); got != want {
		r.t.Errorf("handled %q, want %q", got, want)
	}
}

// say sends texts from alice to the bot, one message each, in order.
func (r *resetRig) say(texts ...string) {
	r.t.Helper()
	for _, text := range texts {
		if _, err := r.s.SendText("alice", "bot", text); err != nil {
			r.t.Fatal(err)
		}
	}
}

// startBot runs a bot on the rig's database and waits for its first sync.
func (r *resetRig) startBot() {
	t := r.t
	t.Helper()
	synced := make(chan struct{}, 16)
	opts := []bot.Option{
		bot.WithGateway(r.ws), bot.WithUser("bot"), bot.WithAdminSecret(r.api, sandbox.DefaultSecret),
		bot.WithStorage(r.db), bot.WithBacklog(bot.BacklogAll),
		bot.WithLogger(slog.New(slog.NewTextHandler(&r.logs, nil))),
		bot.WithTransportConfig(func(c *transport.Config) {
			c.Backoff = func(int) time.Duration { return 20 * time.Millisecond }
			c.MaxReconnects = -1
		}),
		bot.WithOnSynced(func() {
			r.synced.Add(1)
			synced <- struct{}{}
		}),
		bot.WithOnError(func(err error) {
			var se *bot.SeqResetError
			if errors.As(err, &se) {
				r.resets <- se
			}
		}),
		bot.WithHandler(bot.HandlerFunc(func(c *bot.Context) error {
			r.rec.add(c.Message(), c.Text())
			return nil
		})),
	}
	b, err := bot.New(append(opts, r.policy...)...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.b, r.cancel, r.runErr = b, cancel, make(chan error, 1)
	go func() { r.runErr <- b.Run(ctx) }()
	t.Cleanup(r.stopBot)
	select {
	case <-synced:
	case err := <-r.runErr:
		t.Fatalf("Run: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("the bot did not sync within 10s")
	}
}

func (r *resetRig) stopBot() {
	if r.cancel == nil {
		return
	}
	r.cancel()
	if err := <-r.runErr; err != nil {
		r.t.Errorf("Run: %v", err)
	}
	r.cancel = nil
}

func (r *resetRig) wantReset(server, watermark int64) {
	t := r.t
	t.Helper()
	select {
	case se := <-r.resets:
		if se.ConversationID != r.conv || se.ServerSeq != server || se.Watermark != watermark {
			t.Errorf("SeqResetError %+v, want conversation %s, server seq %d, watermark %d", se, r.conv, server, watermark)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("no SeqResetError reported; log:\n%s", r.logs.String())
	}
	logs := r.logs.String()
	if !strings.Contains(logs, "level=ERROR") || !strings.Contains(logs, r.conv) {
		t.Errorf("no ERROR line naming the conversation in the log:\n%s", logs)
	}
}

// After the sandbox is replaced by an empty one (a reset: its seqs start
// again at 1) while the bot with a persistent database is down, the bot
// detects the newest seq below its watermark, reports it, and with the
// default policy takes the server's seqs as its watermark: the next new
// message is handled (it was dropped silently before).
func TestSeqResetWhileDownResync(t *testing.T) {
	r := newResetRig(t)
	r.startBot()
	r.say("a1", "a2", "a3", "a4", "a5")
	r.rec.waitText(t, "a5")
	r.stopBot()

	r.freshSandbox()
	r.say("b1", "b2")
	r.startBot()
	r.wantReset(2, 5)
	r.say("b3")
	r.rec.waitText(t, "b3")
	texts, seqs := r.rec.snapshot()
	if got := strings.Join(texts, " "); got != "a1 a2 a3 a4 a5 b3" {
		t.Errorf("handled %q (seqs %v), want a1…a5 then b3: the default policy skips what the reset server held", got, seqs)
	}
}

// With SeqResetReplay the bot handles everything the reset server holds.
func TestSeqResetWhileDownReplay(t *testing.T) {
	r := newResetRig(t, bot.WithSeqReset(bot.SeqResetReplay))
	r.startBot()
	r.say("a1", "a2", "a3")
	r.rec.waitText(t, "a3")
	r.stopBot()

	r.freshSandbox()
	r.say("b1", "b2")
	r.startBot()
	r.wantReset(2, 3)
	r.say("b3")
	r.rec.waitText(t, "b3")
	r.wantHandled("a1 a2 a3 b1 b2 b3")
}

// A reset while the bot runs: the sandbox is replaced by an empty one, the
// bot reconnects to a server that has no messages at all in the
// conversation, and the new messages (seq 1, 2) are handled.
func TestSeqResetWhileRunning(t *testing.T) {
	r := newResetRig(t)
	r.startBot()
	r.say("a1", "a2", "a3")
	r.rec.waitText(t, "a3")
	n := r.synced.Load()
	r.freshSandbox()
	for deadline := time.Now().Add(10 * time.Second); r.synced.Load() == n; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the bot did not reconnect to the new sandbox; log:\n%s", r.logs.String())
		}
	}
	r.wantReset(0, 3)
	r.say("b1", "b2")
	r.rec.waitText(t, "b2")
	r.wantHandled("a1 a2 a3 b1 b2")
	// The durable watermark follows the new server: after a restart of
	// the bot nothing is reported or handled again.
	r.stopBot()
	r.startBot()
	r.say("b3")
	r.rec.waitText(t, "b3")
	r.wantHandled("a1 a2 a3 b1 b2 b3") // after a restart
	select {
	case se := <-r.resets:
		t.Errorf("a second reset reported after the restart: %+v", se)
	default:
	}
}

// With SeqResetKeep the watermark stays: the reset is reported once, and
// only the messages past the old watermark are handled.
func TestSeqResetWhileDownKeep(t *testing.T) {
	r := newResetRig(t, bot.WithSeqReset(bot.SeqResetKeep))
	r.startBot()
	r.say("a1", "a2", "a3")
	r.rec.waitText(t, "a3")
	r.stopBot()

	r.freshSandbox()
	r.say("b1")
	r.startBot()
	r.wantReset(1, 3)
	r.say("b2", "b3", "b4", "b5")
	r.rec.waitText(t, "b5")
	r.wantHandled("a1 a2 a3 b4 b5")
	select {
	case se := <-r.resets:
		t.Errorf("reported twice: %+v", se)
	default:
	}
}
