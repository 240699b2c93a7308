// Package plugins defines the Plugin interface: a bot feature that adds
// routes or middleware to a router.Router, configured by its own section of
// the configuration file and given its own storage namespace.
//
// There is no global registry and no init() registration: a program lists
// the plugins it offers and passes them to Setup, which sets up the ones the
// configuration enables, in the configuration's order.
//
//	available := []plugins.Plugin{autoreply.New(cfg.Rules), echo.New(), help.New(), ratelimit.New()}
//	err := plugins.Setup(r, db, cfg.Plugins, available, logger)
//
// The built-in plugins live in the subpackages autoreply (YAML rules), echo,
// help and ratelimit.
package plugins
