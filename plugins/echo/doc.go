// Package echo is the plugin that repeats text back: "/echo hello" replies
// "hello".
//
// Its configuration section takes command (the command name, default
// "echo") and description (shown by the help plugin, default "repeat the
// text"). The plugin is safe for concurrent use.
package echo
