package cli

import (
	"context"
	"fmt"
	"syscall"

	"github.com/openimbot/openimbot/config"
	"github.com/openimbot/openimbot/sandbox"
)

func (c *cli) sandboxCmd(args []string) int {
	fs := c.flags("sandbox", "[-ws ADDR] [-api ADDR] [-secret SECRET] [-admin USER] [-db FILE] [-webhook URL]")
	var cfg sandbox.Config
	fs.StringVar(&cfg.WSAddr, "ws", "127.0.0.1:10001", "TCP address of the websocket gateway")
	fs.StringVar(&cfg.APIAddr, "api", "127.0.0.1:10002", "TCP address of the HTTP API")
	fs.StringVar(&cfg.Secret, "secret", sandbox.DefaultSecret, "the admin secret (OpenIM's share.secret)")
	fs.StringVar(&cfg.AdminUserID, "admin", sandbox.DefaultAdminUserID, "the administrator user ID")
	fs.StringVar(&cfg.StorePath, "db", "", "file keeping users, groups and messages across restarts (default: memory only)")
	fs.StringVar(&cfg.Webhook.URL, "webhook", "", "post OpenIM's afterSendSingleMsg/afterSendGroupMsg callbacks under this base URL, e.g. http://127.0.0.1:10006/callbackExample (default: none)")
	var lf logFlags
	lf.add(fs)
	if code, ok := parse(fs, args); !ok {
		return code
	}
	logger, err := lf.logger(c.stderr, config.Log{Level: "info", Format: "text"})
	if err != nil {
		c.errorf("%v", err)
		return exitUsage
	}
	cfg.Logger = logger
	s, err := sandbox.Start(context.Background(), cfg)
	if err != nil {
		c.errorf("sandbox: %v", err)
		return exitRuntime
	}
	defer s.Close()
	fmt.Fprintf(c.stdout, "OpenIM sandbox: gateway %s, API %s, admin %s\n", s.WSURL(), s.APIURL(), s.AdminUserID())
	for sig := range c.signals {
		if sig == syscall.SIGHUP {
			continue
		}
		logger.Info("shutting down", "signal", sig.String())
		break
	}
	if err := s.Close(); err != nil {
		c.errorf("sandbox: %v", err)
		return exitRuntime
	}
	return exitOK
}
