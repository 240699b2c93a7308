// Package cli is the openimbot command line as a library: run, check,
// sandbox and db, with their flags, configuration keys, reload on SIGHUP and
// console. cmd/openimbot is one line on top of Main; a program that wants
// the same commands with plugins of its own passes them to Main:
//
//	func main() { os.Exit(cli.Main(os.Args[1:], weather.New())) }
//
// The configuration enables an extra plugin by its name in the plugins
// section, exactly like a built-in one; its section is decoded by the
// plugin's Setup (see package plugins).
package cli
