package echo

import (
	"strings"
	"unicode"

	"github.com/openimbot/openimbot/bot"
	"github.com/openimbot/openimbot/plugins"
	"github.com/openimbot/openimbot/router"
)

// Name is the plugin's name.
const Name = "echo"

// Plugin is the echo plugin.
type Plugin struct{}

var _ plugins.Plugin = Plugin{}

// New returns the echo plugin.
func New() Plugin { return Plugin{} }

// Name returns "echo".
func (Plugin) Name() string { return Name }

type settings struct {
	Command     string `yaml:"command"`
	Description string `yaml:"description"`
}

// Setup registers the echo command.
func (Plugin) Setup(h plugins.Host) error {
	set := settings{Command: "echo", Description: "repeat the text"}
	if err := h.Config.Decode(&set); err != nil {
		return err
	}
	if set.Command == "" || strings.ContainsFunc(set.Command, unicode.IsSpace) {
		return h.Config.Errorf("echo: command must be one word, got %q", set.Command)
	}
	usage := "usage: /" + set.Command + " TEXT"
	return h.Router.OnFunc(router.Command(set.Command), func(c *bot.Context) error {
		text := strings.TrimSpace(c.Text())
		// Drop the command word; keep the rest as typed.
		if i := strings.IndexFunc(text, unicode.IsSpace); i >= 0 {
			text = strings.TrimSpace(text[i:])
		} else {
			text = ""
		}
		if text == "" {
			text = usage
		}
		return c.Reply(text)
	}, router.Name(Name), router.Description(set.Description), router.At(h.Location()))
}
