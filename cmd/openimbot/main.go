// Command openimbot runs OpenIM bots defined by a YAML file, the embedded
// OpenIM sandbox, and tools to check configurations and inspect databases.
//
//	openimbot run -config FILE        run the bot (embedded sandbox + console when no server is configured)
//	openimbot check -config FILE      validate the configuration and print the routing table
//	openimbot sandbox [flags]         run the OpenIM-compatible sandbox alone
//	openimbot db stats|dump -db FILE  inspect a bot database
//
// Exit codes: 0 success, 1 runtime error, 2 usage or configuration error.
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
