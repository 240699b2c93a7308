package help

import (
	"cmp"
	"strconv"
	"strings"
	"unicode"

	"github.com/openimbot/openimbot/bot"
	"github.com/openimbot/openimbot/plugins"
	"github.com/openimbot/openimbot/router"
)

// Name is the plugin's name.
const Name = "help"

// Plugin is the help plugin.
type Plugin struct{}

var _ plugins.Plugin = Plugin{}

// New returns the help plugin.
func New() Plugin { return Plugin{} }

// Name returns "help".
func (Plugin) Name() string { return Name }

type settings struct {
	Command     string `yaml:"command"`
	Description string `yaml:"description"`
	Header      string `yaml:"header"`
	Footer      string `yaml:"footer"`
}

// Setup registers the help command.
func (Plugin) Setup(h plugins.Host) error {
	set := settings{Command: "help", Description: "list the commands", Header: "Commands:"}
	if err := h.Config.Decode(&set); err != nil {
		return err
	}
	if set.Command == "" || strings.ContainsFunc(set.Command, unicode.IsSpace) {
		return h.Config.Errorf("help: command must be one word, got %q", set.Command)
	}
	r := h.Router
	return r.OnFunc(router.Command(set.Command), func(c *bot.Context) error {
		return c.Reply(Text(r.Routes(), set.Header, set.Footer))
	}, router.Name(Name), router.Description(set.Description), router.At(h.Location()))
}

// Text returns the help text for routes: header, then "/usage - description"
// (the route's Description, or else its Name) for every command route in precedence order (a command listed twice
// appears once), then footer.
func Text(routes []router.RouteInfo, header, footer string) string {
	var b strings.Builder
	if header != "" {
		b.WriteString(header)
	}
	seen := make(map[string]bool)
	for _, ri := range routes {
		usage, ok := CommandUsage(ri.Matcher)
		if !ok || seen[usage] {
			continue
		}
		seen[usage] = true
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		b.WriteString("/" + usage)
		if desc := cmp.Or(ri.Description, ri.Name); desc != "" {
			b.WriteString(" - " + desc)
		}
	}
	if footer != "" {
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(footer)
	}
	return b.String()
}

// CommandUsage extracts the command pattern from a route's matcher
// description (RouteInfo.Matcher), such as `And(Command("weather {city}"),
// SingleChat())`. ok is false when the route is not a command.
func CommandUsage(matcher string) (usage string, ok bool) {
	i := strings.Index(matcher, "Command(")
	if i < 0 {
		return "", false
	}
	q, err := strconv.QuotedPrefix(matcher[i+len("Command("):])
	if err != nil {
		return "", false
	}
	s, err := strconv.Unquote(q)
	if err != nil || s == "" {
		return "", false
	}
	return s, true
}
