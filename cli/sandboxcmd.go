package cli

import (
	"context"
	"fmt"
	"net"
	"syscall"

	"github.com/openimbot/openimbot/config"
	"github.com/openimbot/openimbot/sandbox"
)

func (c *cli) sandboxCmd(args []string) int {
	fs := c.flags("sandbox", "[-ws ADDR] [-api ADDR] [-secret SECRET] [-admin USER] [-db FILE] [-history N] [-webhook URL]")
	var cfg sandbox.Config
	fs.StringVar(&cfg.WSAddr, "ws", "127.0.0.1:10001", "TCP address of the websocket gateway")
	fs.StringVar(&cfg.APIAddr, "api", "127.0.0.1:10002", "TCP address of the HTTP API")
	fs.StringVar(&cfg.Secret, "secret", sandbox.DefaultSecret, "the admin secret (OpenIM's share.secret)")
	fs.StringVar(&cfg.AdminUserID, "admin", sandbox.DefaultAdminUserID, "the administrator user ID")
	fs.StringVar(&cfg.StorePath, "db", "", "file keeping users, groups and messages across restarts (default: memory only)")
	fs.IntVar(&cfg.MaxHistory, "history", sandbox.DefaultMaxHistory, "messages each conversation keeps, the newest; older ones are evicted as on a server that clears them (-1: all)")
	fs.StringVar(&cfg.Webhook.URL, "webhook", "", "post OpenIM's afterSendSingleMsg/afterSendGroupMsg callbacks under this base URL, e.g. http://127.0.0.1:10006/callbackExample (default: none)")
	var lf logFlags
	lf.addNoFile(fs)
	if code, ok := parse(fs, args); !ok {
		return code
	}
	logger, err := lf.logger(c.stderr, config.Log{Level: "info", Format: "text"})
	if err != nil {
		c.errorf("%v", err)
		return exitUsage
	}
	cfg.Logger = logger
	if cfg.Secret == sandbox.DefaultSecret {
		for _, a := range []string{cfg.WSAddr, cfg.APIAddr} {
			if !isLoopback(a) {
				logger.Warn("the sandbox listens beyond this machine with the default secret: anyone who can reach it can get tokens and act as any user; choose one with -secret", "addr", a)
				break
			}
		}
	}
	s, err := sandbox.Start(context.Background(), cfg)
	if err != nil {
		c.errorf("sandbox: %v", err)
		return exitRuntime
	}
	defer s.Close()
	fmt.Fprintf(c.stdout, "OpenIM sandbox: gateway %s, API %s, admin %s\n", s.WSURL(), s.APIURL(), s.AdminUserID())
	fmt.Fprintf(c.stdout, "Talk to a bot connected to it: openimbot chat -to BOT_USER_ID -ws %s -api %s%s\n", s.WSURL(), s.APIURL(), secretFlag(cfg.Secret))
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

// secretFlag is the -secret flag chat needs for secret ("" for the default).
func secretFlag(secret string) string {
	if secret == sandbox.DefaultSecret {
		return ""
	}
	return " -secret ..."
}

// isLoopback reports whether a listen address only accepts connections from
// this machine ("127.0.0.1:10001", "localhost:0", "[::1]:80"; not ":10001").
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
