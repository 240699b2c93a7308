// Command custombot is openimbot with one more plugin: every command, flag,
// configuration key, reload and the console of the standard CLI, plus the
// weather plugin of this module and its section of the configuration.
//
//	go run . run -config custombot.yaml      # embedded sandbox, type "/weather Oslo"
//	go run . check -config custombot.yaml
package main

import (
	"os"

	"github.com/openimbot/openimbot/cli"

	"example.com/custombot/weather"
)

func main() { os.Exit(cli.Main(os.Args[1:], weather.New())) }
