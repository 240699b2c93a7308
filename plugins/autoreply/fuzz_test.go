package autoreply_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/openimbot/openimbot/bot"
	"github.com/openimbot/openimbot/config"
	"github.com/openimbot/openimbot/content"
	"github.com/openimbot/openimbot/plugins"
	"github.com/openimbot/openimbot/plugins/autoreply"
	"github.com/openimbot/openimbot/router"
)

// FuzzRules loads arbitrary rule files and routes a message through what
// loaded: neither may panic. Seeds: testdata/*.yaml.
func FuzzRules(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, "hello 12")
	}
	f.Add([]byte(matchRules), "/weather Paris")
	f.Fuzz(func(t *testing.T, data []byte, text string) {
		cfg, err := config.Parse("fuzz.yaml", data, func(string) (string, bool) { return "", false })
		if err != nil {
			return
		}
		pc, _ := cfg.Plugins.Lookup(autoreply.Name)
		pc.Name = autoreply.Name
		r := router.New()
		if err := plugins.Setup(r, nil, config.Plugins{pc}, []plugins.Plugin{autoreply.New(cfg.Rules)}, nil); err != nil {
			return
		}
		m := &content.Message{SendID: "alice", RecvID: "bot", ConversationID: "si_alice_bot",
			SessionType: content.SingleChat, ContentType: content.TypeText, Elem: content.NewText(text)}
		_, _ = r.TraceRun(bot.NewContext(context.Background(), m, "bot"))
	})
}
