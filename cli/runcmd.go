package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/openimbot/openimbot/bot"
	"github.com/openimbot/openimbot/cluster"
	"github.com/openimbot/openimbot/config"
	"github.com/openimbot/openimbot/content"
	"github.com/openimbot/openimbot/router"
	"github.com/openimbot/openimbot/sandbox"
	"github.com/openimbot/openimbot/schedule"
	"github.com/openimbot/openimbot/storage"
)

// Console timing: after the end of input, wait until the bot has handled
// every line, then until no reply has arrived for consoleQuiet, at most
// consoleMaxWait in all.
const (
	consoleQuiet   = 500 * time.Millisecond
	consoleMaxWait = 5 * time.Second
)

func (c *cli) runCmd(args []string) int {
	fs := c.flags("run", "-config FILE [-role all|ingress|worker] [-nats URL] [-log-level LEVEL] [-log-format text|json]")
	path := fs.String("config", "", "the configuration file (required)")
	role := fs.String("role", "", "all (default), ingress or worker: scale-out over NATS JetStream (clusterrole.go)")
	natsURL := fs.String("nats", "", "with -role: the NATS URL, instead of cluster.nats_url")
	var lf logFlags
	lf.add(fs)
	if code, ok := parse(fs, args); !ok {
		return code
	}
	if err := checkRole(*role); err != nil {
		c.errorf("%v", err)
		return exitUsage
	}
	cfg, ok := c.loadConfig("run", fs, *path)
	if !ok {
		return exitUsage
	}
	logger, err := lf.logger(c.stderr, cfg.Log)
	if err != nil {
		c.errorf("%v", err)
		return exitUsage
	}
	// Build once before any I/O so that rule errors exit 2 at once.
	if _, err := c.buildRouter(cfg, nil, logger); err != nil {
		c.errorf("%v", err)
		return exitUsage
	}
	if _, err := schedule.FromConfig(cfg.Schedules); err != nil { // schedules.go
		c.errorf("%v", err)
		return exitUsage
	}
	r := &runner{cli: c, path: *path, cfg: cfg, log: logger, role: *role, natsURL: *natsURL}
	run := r.run
	if *role == roleWorker {
		run = r.runWorker
	}
	if err := run(); err != nil {
		c.errorf("%v", err)
		return exitRuntime
	}
	return exitOK
}

// runner is one `openimbot run`.
type runner struct {
	*cli
	path string
	cfg  *config.Config
	log  *slog.Logger

	db    *storage.DB
	live  *router.Live
	admin *admin // admin.go

	role    string           // -role (clusterrole.go)
	natsURL string           // -nats
	ingress *cluster.Ingress // -role ingress
}

func (r *runner) run() error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	o := r.cfg.OpenIM

	var sb *sandbox.Server
	wsURL, apiURL := config.URL(o.WSAddr, "ws"), config.URL(o.APIAddr, "http")
	adminSecret := o.AdminSecret
	if o.Embedded() {
		// A database that cannot be opened fails before the sandbox starts.
		if err := checkStorage(r.cfg.Storage.Path); err != nil { // storagecheck.go
			return err
		}
		var err error
		// The sandbox logs every request at info: only show them at debug.
		sbLog := r.log.With("component", "sandbox")
		if !r.log.Enabled(ctx, slog.LevelDebug) {
			sbLog = slog.New(levelFloor{sbLog.Handler(), slog.LevelWarn})
		}
		// With a database file, the sandbox keeps its history next to it, so
		// that the bot's watermarks and the sandbox's seqs stay in step
		// across runs.
		sbCfg := sandbox.Config{Logger: sbLog}
		if r.cfg.Storage.Path != "" {
			sbCfg.StorePath = r.cfg.Storage.Path + ".sandbox"
		}
		sb, err = sandbox.Start(ctx, sbCfg)
		if err != nil {
			return fmt.Errorf("start the embedded sandbox: %w", err)
		}
		defer sb.Close()
		for _, u := range [][2]string{{o.UserID, o.Nickname}, {r.cfg.Console.User, r.cfg.Console.User}} {
			if err := sb.RegisterUser(u[0], u[1]); err != nil && !errors.Is(err, sandbox.ErrUserExists) {
				return fmt.Errorf("sandbox: register %s: %w", u[0], err)
			}
		}
		wsURL, apiURL, adminSecret = sb.WSURL(), sb.APIURL(), sandbox.DefaultSecret
		r.log.Info("embedded sandbox started", "gateway", wsURL, "api", apiURL)
	}

	dbPath := r.cfg.Storage.Path
	if dbPath == "" { // embedded sandbox: a fresh database matching the fresh sandbox
		dir, err := os.MkdirTemp("", "openimbot-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		dbPath = filepath.Join(dir, "bot.db")
	}
	r.admin = r.newAdmin()
	db, err := storage.Open(dbPath, r.admin.storageOptions(bot.StorageOptions(r.log.With("component", "storage"))))
	if err != nil {
		return err
	}
	defer db.Close()
	r.db = db

	rt, err := r.cli.buildRouter(r.cfg, db, r.log)
	if err != nil {
		return err
	}
	r.live = router.NewLive(rt)
	logFindings(r.log, rt) // admin.go

	ready := make(chan struct{})
	var readyOnce sync.Once
	opts := []bot.Option{
		bot.WithUser(o.UserID),
		bot.WithDB(db),
		bot.WithHandler(r.live),
		bot.WithPlatform(int32(o.PlatformID)),
		bot.WithCompression(o.Compression == "gzip"),
		bot.WithMaxReconnects(o.MaxReconnects),
		bot.WithBacklog(backlog(r.cfg.Sync.Backlog)),
		bot.WithSeqReset(seqReset(r.cfg.Sync.SeqReset)),
		bot.WithRateLimit(r.cfg.Send.Rate, r.cfg.Send.Burst),
		bot.WithLoopGuard(r.cfg.Send.LoopGuard),
		bot.WithLogger(r.log),
		bot.WithOnSynced(func() { readyOnce.Do(func() { close(ready) }) }),
	}
	if o.Nickname != "" {
		opts = append(opts, bot.WithNickname(o.Nickname))
	}
	switch {
	case sb != nil:
		opts = append(opts, bot.WithAdminSecret(apiURL, adminSecret, sb.AdminUserID()))
	case o.Token != "":
		opts = append(opts, bot.WithToken(o.Token))
	default:
		opts = append(opts, bot.WithAdminSecret(apiURL, adminSecret, o.AdminUserID))
	}
	opts = append(opts, receiveOptions(r.cfg, sb, wsURL)...) // receive.go
	opts = append(opts, r.admin.botOptions()...)
	if r.role == roleIngress {
		in, closeIngress, err := r.startIngress(ctx, dbPath) // clusterrole.go
		if err != nil {
			return err
		}
		defer closeIngress()
		r.ingress = in
		opts = append(opts, bot.WithHandler(in.Handler()))
	}
	b, err := bot.New(opts...)
	if err != nil {
		return err
	}
	if err := r.admin.start(b, sb); err != nil {
		return err
	}
	defer r.admin.stop()
	sched, err := newSchedules(r.cfg, b, db, r.log) // schedules.go
	if err != nil {
		return err
	}
	defer sched.stop()
	runErr := make(chan error, 1)
	go func() { runErr <- r.runBot(ctx, b, db) }()

	// The console's input and end of input.
	var cons *console
	if sb != nil {
		cons = newConsole(sb, o.UserID, r.cfg.Console.User, db, r.stdout)
		cons.echo = !r.stdinIsTerminal()
		defer cons.stop()
	}
	var lines <-chan string
	eof := make(chan struct{})
	started := false

	stop := func() error {
		sched.stop()
		sctx, scancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer scancel()
		if err := b.Shutdown(sctx); err != nil {
			r.log.Warn("shutdown", "err", err)
		}
		return <-runErr
	}
	for {
		select {
		case <-ready:
			ready = nil
			sched.start()
			r.log.Info("bot ready", "user", o.UserID)
			if r.onReady != nil {
				r.onReady()
			}
			if cons != nil && !started {
				started = true
				lines = readLines(r.stdin, eof)
				if r.stdinIsTerminal() {
					fmt.Fprintf(r.stderr, "Chatting with %s as %s. Type a message and press Enter; Ctrl-D quits.\n", o.UserID, r.cfg.Console.User)
				}
			}
		case line := <-lines:
			if err := cons.send(line); err != nil {
				r.log.Error("console: send", "err", err)
			}
		case <-eof:
			eof = nil
			lines = nil
			cons.drain(consoleQuiet, consoleMaxWait)
			return stop()
		case sig := <-r.signals:
			if sig == syscall.SIGHUP {
				err := r.reload()
				r.admin.reloaded(err)
				if err != nil {
					r.log.Error("reload failed; keeping the current rules", "file", r.path, "err", err)
				} else {
					r.log.Info("reloaded", "file", r.path)
				}
				if r.onReload != nil {
					r.onReload(err)
				}
				continue
			}
			r.log.Info("shutting down", "signal", sig.String())
			return stop()
		case err := <-runErr:
			if err == nil {
				return nil
			}
			return err
		}
	}
}

// reload loads the file again and swaps in a router built from it. Only
// plugins and rules change; other sections need a restart.
func (r *runner) reload() error {
	cfg, err := config.Load(r.path)
	if err != nil {
		return err
	}
	if cfg.OpenIM != r.cfg.OpenIM || cfg.Storage != r.cfg.Storage || cfg.Console != r.cfg.Console || cfg.Sync != r.cfg.Sync || cfg.Send != r.cfg.Send {
		r.log.Warn("reload: changes outside plugins and rules apply after a restart")
	}
	rt, err := r.cli.buildRouter(cfg, r.db, r.log)
	if err != nil {
		return err
	}
	if _, err := r.live.Swap(rt); err != nil {
		return err
	}
	return nil
}

func (c *cli) stdinIsTerminal() bool {
	f, ok := c.stdin.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// seqReset maps sync.seq_reset to the bot's policy.
func seqReset(p string) bot.SeqResetPolicy {
	switch p {
	case "replay":
		return bot.SeqResetReplay
	case "keep":
		return bot.SeqResetKeep
	}
	return bot.SeqResetResync
}

func backlog(b config.Backlog) bot.Backlog {
	switch b.Mode {
	case config.BacklogAll:
		return bot.BacklogAll
	case config.BacklogLast:
		return bot.BacklogLast(b.N)
	}
	return bot.BacklogSkip
}

// readLines reads non-empty lines from in; eof is closed at the end of
// input. The goroutine ends at the end of input (a blocked read of a
// terminal outlives a shutdown by signal, as in any CLI).
func readLines(in io.Reader, eof chan<- struct{}) <-chan string {
	ch := make(chan string)
	go func() {
		defer close(eof)
		sc := bufio.NewScanner(in)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			if line := strings.TrimSpace(sc.Text()); line != "" {
				ch <- line
			}
		}
	}()
	return ch
}

// console sends lines to the bot as the console user and prints the bot's
// replies to that user.
type console struct {
	sb          *sandbox.Server
	bot, user   string
	db          *storage.DB
	out         io.Writer
	unsubscribe func()
	done        chan struct{}
	echo        bool // input not from a terminal: print each line sent ("user> line") and its replies before the next

	mu      sync.Mutex
	conv    string
	lastSeq int64
	replies int
	lastAt  time.Time
	changed chan struct{} // closed and replaced on every printed reply
}

func newConsole(sb *sandbox.Server, botID, user string, db *storage.DB, out io.Writer) *console {
	ch, unsub := sb.Subscribe(256)
	c := &console{sb: sb, bot: botID, user: user, db: db, out: out, unsubscribe: unsub,
		done: make(chan struct{}), changed: make(chan struct{})}
	go c.print(ch)
	return c
}

func (c *console) print(ch <-chan content.Message) {
	defer close(c.done)
	for m := range ch {
		if m.SendID != c.bot || m.RecvID != c.user || m.SessionType != content.SingleChat {
			continue
		}
		c.mu.Lock()
		writeChatLine(c.out, c.bot, &m) // chatfmt.go
		c.replies++
		c.lastAt = time.Now()
		close(c.changed)
		c.changed = make(chan struct{})
		c.mu.Unlock()
	}
}

func (c *console) send(line string) error {
	c.mu.Lock()
	if c.echo {
		fmt.Fprintf(c.out, "%s> %s\n", c.user, line)
	}
	c.mu.Unlock()
	m, err := c.sb.SendText(c.user, c.bot, line)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.conv, c.lastSeq = m.ConversationID, m.Seq
	c.mu.Unlock()
	if c.echo {
		// A transcript: the replies to a line come before the next line.
		c.waitHandled(m.ConversationID, m.Seq, time.Now().Add(consoleMaxWait))
	}
	return nil
}

// waitHandled waits until the bot has handled seq of conv, or deadline.
func (c *console) waitHandled(conv string, seq int64, deadline time.Time) {
	for time.Now().Before(deadline) {
		if wm, _ := c.db.Watermark(conv); wm >= seq {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// drain waits until the bot has handled the last line sent and no reply has
// been printed for quiet, at most maxWait in all.
func (c *console) drain(quiet, maxWait time.Duration) {
	deadline := time.Now().Add(maxWait)
	c.mu.Lock()
	conv, seq := c.conv, c.lastSeq
	c.mu.Unlock()
	if conv != "" {
		c.waitHandled(conv, seq, deadline)
	}
	for {
		c.mu.Lock()
		changed := c.changed
		c.mu.Unlock()
		left := time.Until(deadline)
		if left <= 0 {
			return
		}
		select {
		case <-changed:
		case <-time.After(min(quiet, left)):
			return
		}
	}
}

func (c *console) stop() {
	c.unsubscribe()
	<-c.done
}

// levelFloor is a slog.Handler that drops records below min.
type levelFloor struct {
	slog.Handler
	min slog.Level
}

func (h levelFloor) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h levelFloor) WithAttrs(as []slog.Attr) slog.Handler {
	return levelFloor{h.Handler.WithAttrs(as), h.min}
}

func (h levelFloor) WithGroup(name string) slog.Handler {
	return levelFloor{h.Handler.WithGroup(name), h.min}
}
