package connect

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/openimbot/openimbot/bot"
	"github.com/openimbot/openimbot/content"
	"github.com/openimbot/openimbot/sandbox"
)

// Options says where the bot connects. Zero WSAddr means the embedded
// sandbox.
type Options struct {
	WSAddr      string // gateway, e.g. ws://127.0.0.1:10001
	APIAddr     string // HTTP API, e.g. http://127.0.0.1:10002 (with AdminSecret)
	UserID      string // the bot's user ID
	Token       string // the bot's token, or
	AdminSecret string // the server's secret, to fetch a token through APIAddr
	Storage     string // database file; default "<user>.db" (a temporary file with the sandbox)
}

// Flags registers -ws, -api, -user, -token, -secret and -db on fs. Their
// defaults come from OPENIM_WS_ADDR, OPENIM_API_ADDR, OPENIM_USER_ID
// (default "bot"), OPENIM_TOKEN and OPENIM_ADMIN_SECRET, so that secrets
// need not appear on the command line.
func Flags(fs *flag.FlagSet) *Options {
	o := &Options{}
	env := func(name, def string) string {
		if v := os.Getenv(name); v != "" {
			return v
		}
		return def
	}
	fs.StringVar(&o.WSAddr, "ws", env("OPENIM_WS_ADDR", ""), "OpenIM gateway address; empty: embedded sandbox with a console ($OPENIM_WS_ADDR)")
	fs.StringVar(&o.APIAddr, "api", env("OPENIM_API_ADDR", ""), "OpenIM HTTP API address ($OPENIM_API_ADDR)")
	fs.StringVar(&o.UserID, "user", env("OPENIM_USER_ID", "bot"), "the bot's user ID ($OPENIM_USER_ID)")
	fs.StringVar(&o.Token, "token", env("OPENIM_TOKEN", ""), "the bot's user token ($OPENIM_TOKEN)")
	fs.StringVar(&o.AdminSecret, "secret", env("OPENIM_ADMIN_SECRET", ""), "the server's admin secret, to fetch a token ($OPENIM_ADMIN_SECRET)")
	fs.StringVar(&o.Storage, "db", "", "the bot's database file (default <user>.db)")
	return o
}

// Run runs the bot with handler h until ctx ends. Against the embedded
// sandbox it reads lines from stdin, sends each to the bot as user "alice",
// prints the bot's replies to stdout, and returns at the end of input once
// the replies are out.
func (o *Options) Run(ctx context.Context, h bot.Handler, stdin io.Reader, stdout io.Writer) error {
	if o.WSAddr != "" {
		opts := []bot.Option{bot.WithGateway(o.WSAddr), bot.WithUser(o.UserID), bot.WithHandler(h)}
		if o.Token != "" {
			opts = append(opts, bot.WithToken(o.Token))
		} else {
			opts = append(opts, bot.WithAdminSecret(o.APIAddr, o.AdminSecret))
		}
		path := o.Storage
		if path == "" {
			path = o.UserID + ".db"
		}
		b, err := bot.New(append(opts, bot.WithStorage(path))...)
		if err != nil {
			return err
		}
		return b.Run(ctx)
	}
	return o.console(ctx, h, stdin, stdout)
}

const consoleUser = "alice"

func (o *Options) console(ctx context.Context, h bot.Handler, stdin io.Reader, stdout io.Writer) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sb, err := sandbox.Start(ctx, sandbox.Config{})
	if err != nil {
		return err
	}
	defer sb.Close()
	for _, u := range []string{o.UserID, consoleUser} {
		if err := sb.RegisterUser(u, u); err != nil && !errors.Is(err, sandbox.ErrUserExists) {
			return err
		}
	}
	path := o.Storage
	if path == "" {
		dir, err := os.MkdirTemp("", "openimbot-example-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		path = filepath.Join(dir, "bot.db")
	}
	ready := make(chan struct{})
	var once sync.Once
	b, err := bot.New(
		bot.WithGateway(sb.WSURL()),
		bot.WithUser(o.UserID),
		bot.WithAdminSecret(sb.APIURL(), sandbox.DefaultSecret),
		bot.WithStorage(path),
		bot.WithHandler(h),
		bot.WithOnSynced(func() { once.Do(func() { close(ready) }) }),
	)
	if err != nil {
		return err
	}
	runErr := make(chan error, 1)
	go func() { runErr <- b.Run(ctx) }()
	select {
	case <-ready:
	case err := <-runErr:
		return err
	}

	// Print every message the bot sends to the console user.
	replies, unsubscribe := sb.Subscribe(256)
	var last sync.Mutex
	lastAt := time.Now()
	printed := make(chan struct{})
	go func() {
		defer close(printed)
		for m := range replies {
			if m.SendID == o.UserID && m.RecvID == consoleUser && m.SessionType == content.SingleChat {
				fmt.Fprintln(stdout, m.Text())
				last.Lock()
				lastAt = time.Now()
				last.Unlock()
			}
		}
	}()
	defer func() { unsubscribe(); <-printed }()

	var conv string
	var seq int64
	sc := bufio.NewScanner(stdin)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" {
			m, err := sb.SendText(consoleUser, o.UserID, line)
			if err != nil {
				return err
			}
			conv, seq = m.ConversationID, m.Seq
		}
	}
	// End of input: wait until the bot has handled the last line and its
	// replies have stopped for a moment (at most 5s), then stop.
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		wm, _ := b.DB().Watermark(conv)
		last.Lock()
		quiet := time.Since(lastAt) > 300*time.Millisecond
		last.Unlock()
		if (conv == "" || wm >= seq) && quiet {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer scancel()
	if err := b.Shutdown(sctx); err != nil {
		return err
	}
	return <-runErr
}
