// Package help is the plugin that lists the bot's commands: "/help" replies
// with one line per command route of the router, its usage and its
// description (the route's name).
//
// Its configuration section takes command (default "help"), header (the
// first line, default "Commands:") and footer (default none). The list is
// built from the router's routes when the command runs, so it includes the
// commands of every plugin and rule whatever their order. The plugin is safe
// for concurrent use.
package help
