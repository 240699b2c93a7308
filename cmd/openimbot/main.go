// Command openimbot runs OpenIM bots defined by a YAML file, the embedded
// OpenIM sandbox, and tools to check configurations and inspect databases.
//
//	openimbot run -config FILE        run the bot (embedded sandbox + console when no server is configured)
//	openimbot check -config FILE      validate the configuration and print the routing table
//	openimbot sandbox [flags]         run the OpenIM-compatible sandbox alone
//	openimbot db stats|dump -db FILE  inspect a bot database
//
// Exit codes: 0 success, 1 runtime error, 2 usage or configuration error.
// The commands live in package cli, so that a program of a few lines can
// build its own openimbot with extra plugins: see cli.Main.
package main

import (
	"os"

	"github.com/openimbot/openimbot/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:]))
}
