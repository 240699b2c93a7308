package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/openimbot/openimbot/bot"
	"github.com/openimbot/openimbot/config"
	webconsole "github.com/openimbot/openimbot/console"
	"github.com/openimbot/openimbot/content"
	"github.com/openimbot/openimbot/router"
	"github.com/openimbot/openimbot/sandbox"
	"github.com/openimbot/openimbot/storage"
	"github.com/openimbot/openimbot/transport"
)

// admin is the run command's admin side: the metrics, always collected,
// and the admin HTTP listener with the web console when admin.listen says
// so. A nil *admin does nothing.
type admin struct {
	r       *runner
	metrics *webconsole.Metrics
	srv     *webconsole.Server
}

func (r *runner) newAdmin() *admin {
	return &admin{r: r, metrics: webconsole.NewMetrics()}
}

// storageOptions adds the commit-latency hook to opts.
func (a *admin) storageOptions(opts storage.Options) storage.Options {
	opts.OnCommit = a.metrics.StorageCommitted
	return opts
}

// botOptions are the options that connect the bot to the metrics.
func (a *admin) botOptions() []bot.Option { return a.metrics.BotOptions() }

// start attaches the bot and starts the listener if admin.listen is on,
// logging the console's URL (and printing it on an interactive terminal). An explicit address that is taken is an
// error; the implicit default of the embedded sandbox falls back to a free
// port, with a warning.
func (a *admin) start(b *bot.Bot, sb *sandbox.Server) error {
	a.metrics.Attach(b)
	cfg := a.r.cfg
	addr, implicit := cfg.Admin.Addr(cfg.OpenIM.Embedded())
	if addr == "" {
		if cfg.Admin.Chat {
			a.r.log.Warn("admin.chat is set but admin.listen is off: no console")
		}
		return nil
	}
	opts := webconsole.Options{
		Addr:    addr,
		Metrics: a.metrics,
		BotID:   cfg.OpenIM.UserID,
		Router:  func() *router.Router { return a.r.live.Router() },
		Sandbox: sb,
		Users:   []string{cfg.Console.User, "bob"},
		Logger:  a.r.log.With("component", "console"),
	}
	if sb == nil && cfg.Admin.Chat {
		sendAs, err := adminSender(cfg)
		if err != nil {
			return err
		}
		opts.SendAs = sendAs
		a.r.log.Warn("admin.chat: the web console's chat panel sends as other users through the admin API", "url", "http://"+addr+"/")
	}
	srv, err := webconsole.New(opts)
	if err != nil {
		return err
	}
	err = srv.Start()
	if err != nil && implicit && errors.Is(err, webconsole.ErrAddrInUse) {
		a.r.log.Warn("admin listener: the default address is taken; using a free port (set admin.listen to choose one)", "addr", addr)
		opts.Addr = "127.0.0.1:0"
		if srv, err = webconsole.New(opts); err == nil {
			err = srv.Start()
		}
	}
	if err != nil {
		return err
	}
	a.srv = srv
	a.r.log.Info("web console and metrics", "url", srv.URL(), "metrics", srv.URL()+"metrics")
	if a.r.stdinIsTerminal() { // the log line above says it too, at info level
		fmt.Fprintf(a.r.stderr, "Web console: %s\n", srv.URL())
	}
	return nil
}

// stop closes the listener.
func (a *admin) stop() {
	if a != nil && a.srv != nil {
		_ = a.srv.Close()
	}
}

// reloaded counts a configuration reload.
func (a *admin) reloaded(err error) {
	if a != nil {
		a.metrics.ConfigReloaded(err)
	}
}

// logFindings logs the routing table's findings (what `check` prints) as
// warnings.
func logFindings(log *slog.Logger, rt *router.Router) {
	for _, f := range rt.Analyze() {
		log.Warn("routing: "+f.Kind.String(), "route", router.RouteName(f.Route), "at", f.Route.Source.String(), "finding", f.Msg)
	}
}

// adminSender returns the console's way to send as other users against a
// real server: /msg/send_msg with an admin token fetched with
// openim.admin_secret (fetched again once when the server rejects it).
func adminSender(cfg *config.Config) (func(context.Context, *content.Message) error, error) {
	o := cfg.OpenIM
	if o.AdminSecret == "" || o.APIAddr == "" {
		return nil, errors.New("admin.chat: sending as other users needs openim.admin_secret and openim.api_addr")
	}
	api, err := transport.NewAPI(config.URL(o.APIAddr, "http"))
	if err != nil {
		return nil, fmt.Errorf("admin.chat: %w", err)
	}
	var (
		mu  sync.Mutex
		tok string
	)
	token := func(ctx context.Context, fresh bool) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		if tok == "" || fresh {
			t, err := api.GetAdminToken(ctx, o.AdminSecret, o.AdminUserID)
			if err != nil {
				return "", err
			}
			tok = t
		}
		return tok, nil
	}
	return func(ctx context.Context, m *content.Message) error {
		send := transport.AdminSend{
			SendID: m.SendID, RecvID: m.RecvID, GroupID: m.GroupID, SenderNickname: m.SenderNickname,
			SenderPlatformID: int32(o.PlatformID), Content: m.Content, ContentType: m.ContentType, SessionType: m.SessionType,
		}
		var err error
		for attempt := range 2 {
			var t string
			if t, err = token(ctx, attempt > 0); err != nil {
				return fmt.Errorf("admin token: %w", err)
			}
			if _, err = api.SendMsg(ctx, t, send); err == nil {
				return nil
			}
			var ae *transport.APIError
			if !errors.As(err, &ae) || ae.Code < 1501 || ae.Code > 1507 { // not a token error
				return err
			}
		}
		return err
	}, nil
}
