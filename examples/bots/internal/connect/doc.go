// Package connect is the connection boilerplate shared by the example bots:
// flags and environment variables for a real OpenIM server, or, when no
// server is given, an embedded sandbox with a console on stdin and stdout.
package connect
