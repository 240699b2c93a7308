package plugins

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/openimbot/openimbot/config"
	"github.com/openimbot/openimbot/router"
	"github.com/openimbot/openimbot/storage"
)

// Plugin is a bot feature. Setup registers its routes and middleware on
// h.Router; it runs once per router built (again on every configuration
// reload, with a new router), before the router handles any message, and
// must do no network I/O.
type Plugin interface {
	// Name is the plugin's key in the plugins section of the configuration
	// and the name of its storage namespace.
	Name() string
	// Setup configures the plugin from h.Config and registers it on
	// h.Router. Configuration errors should carry their position: errors
	// from h.Config.Decode and h.Config.Errorf do.
	Setup(h Host) error
}

// Host is what a plugin's Setup gets.
type Host struct {
	// Router is the router to register routes and middleware on.
	Router *router.Router
	// Store is the plugin's storage namespace (named after the plugin); nil
	// when the program runs without a database, as `openimbot check` does.
	Store *storage.Namespace
	// Config is the plugin's section of the configuration; the zero Node
	// when the section is absent or empty. Decode it with Config.Decode.
	Config config.Node
	// Logger is the plugin's logger; never nil.
	Logger *slog.Logger
	// Pos is where the configuration enables the plugin (its name), for
	// routes and errors that concern the plugin as a whole.
	Pos config.Pos
}

// Location returns h.Pos as a router.Location, for router.At.
func (h Host) Location() router.Location {
	return router.Location{File: h.Pos.File, Line: h.Pos.Line, Column: h.Pos.Col}
}

// ErrUnknown is matched by the error Setup returns for a configured plugin
// that is not available.
var ErrUnknown = errors.New("plugins: unknown plugin")

// Setup sets up, in order, the plugins that enabled names, choosing each by
// name among available. db may be nil (then Host.Store is nil); logger nil
// discards. It stops at the first error, which names the plugin and its
// position in the configuration file.
func Setup(r *router.Router, db *storage.DB, enabled config.Plugins, available []Plugin, logger *slog.Logger) error {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	byName := make(map[string]Plugin, len(available))
	var names []string
	for _, p := range available {
		byName[p.Name()] = p
		names = append(names, p.Name())
	}
	slices.Sort(names)
	for _, pc := range enabled {
		p, ok := byName[pc.Name]
		if !ok {
			return fmt.Errorf("%w: %s: %q (available: %s)", ErrUnknown, pc.Pos, pc.Name, strings.Join(names, ", "))
		}
		h := Host{Router: r, Config: pc.Config, Logger: logger.With("plugin", pc.Name), Pos: pc.Pos}
		if db != nil {
			h.Store = db.Namespace(pc.Name)
		}
		if err := p.Setup(h); err != nil {
			var ce config.Errors
			if errors.As(err, &ce) {
				return err // already says where
			}
			return fmt.Errorf("plugins: %s: %s: %w", pc.Pos, pc.Name, err)
		}
	}
	return nil
}
