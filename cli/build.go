package cli

import (
	"log/slog"

	"github.com/openimbot/openimbot/config"
	"github.com/openimbot/openimbot/plugins"
	"github.com/openimbot/openimbot/plugins/autoreply"
	"github.com/openimbot/openimbot/plugins/dialog"
	"github.com/openimbot/openimbot/plugins/echo"
	"github.com/openimbot/openimbot/plugins/help"
	"github.com/openimbot/openimbot/plugins/ratelimit"
	"github.com/openimbot/openimbot/router"
	"github.com/openimbot/openimbot/storage"
)

// available lists the plugins this program offers: the built-in ones, then
// the extra ones given to Main. There is no registry: a program adds a
// plugin by passing it to Main.
func available(cfg *config.Config, extra []plugins.Plugin) []plugins.Plugin {
	ps := []plugins.Plugin{
		autoreply.New(cfg.Rules, autoreply.WithSuperusers(cfg.Permissions.Superusers...)),
		dialog.New(),
		echo.New(),
		help.New(),
		ratelimit.New(),
	}
	return append(ps, extra...)
}

// enabled returns the plugins the configuration turns on: its plugins
// section, plus autoreply when there are rules.
func enabled(cfg *config.Config) config.Plugins {
	ps := cfg.Plugins
	if _, ok := ps.Lookup(autoreply.Name); !ok && len(cfg.Rules) > 0 {
		ps = append(config.Plugins{{Name: autoreply.Name, Pos: cfg.PosOf("rules")}}, ps...)
	}
	return ps
}

// buildRouter builds the routing table the configuration defines. db may be
// nil (check). The router is fully built: any registration error is
// returned here, not on the first message.
func (c *cli) buildRouter(cfg *config.Config, db *storage.DB, logger *slog.Logger) (*router.Router, error) {
	r := router.New(router.WithLogger(logger))
	if err := plugins.Setup(r, db, enabled(cfg), available(cfg, c.extra), logger); err != nil {
		return nil, err
	}
	if err := r.Build(); err != nil {
		return nil, err
	}
	return r, nil
}
