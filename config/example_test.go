package config_test

import (
	"fmt"
	"time"

	"github.com/openimbot/openimbot/config"
)

func ExampleParse() {
	src := []byte(`
openim:
  user_id: bot1
  platform_id: ${PLATFORM:-3}
plugins:
  ratelimit: {rate: 3, per: 10s}
rules:
  - keyword: hello
    reply: "Hello, {{.Sender}}!"
`)
	cfg, err := config.Parse("bot.yaml", src, func(string) (string, bool) { return "", false })
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(cfg.OpenIM.UserID, cfg.OpenIM.PlatformID, cfg.OpenIM.Embedded(), cfg.Console.User)
	fmt.Println(cfg.Rules[0].Name, "at", cfg.Rules[0].Pos, "reply at", cfg.Rules[0].PosOf("reply"))

	// A plugin decodes its own section, with the same strictness.
	p, _ := cfg.Plugins.Lookup("ratelimit")
	var rl struct {
		Rate int           `yaml:"rate"`
		Per  time.Duration `yaml:"per"`
	}
	if err := p.Config.Decode(&rl); err != nil {
		fmt.Println(err)
	}
	fmt.Println(rl.Rate, rl.Per)

	_, err = config.Parse("bad.yaml", []byte("openim:\n  usr_id: bot1\n"), nil)
	fmt.Println(err)
	// Output:
	// bot1 3 true alice
	// rule 1 at bot.yaml:8:5 reply at bot.yaml:9:12
	// 3 10s
	// config: bad.yaml:2:3: unknown key "usr_id" (known keys: admin_secret, admin_user_id, api_addr, compression, fallback, fallback_after, fallback_retry, max_reconnects, nickname, platform_id, poll, receive, token, user_id, ws_addr)
}
