// Package weather is an openimbot plugin written outside the openimbot
// module: a /weather command with its own section of the configuration file
// and its own storage namespace. It uses only openimbot's public packages.
//
//	plugins:
//	  weather:
//	    command: weather          # the command's name; default weather
//	    unknown: "No forecast for {city}."
//	    forecasts:
//	      - city: Oslo
//	        sky: snow
//	        celsius: -3
//	      - city: Lisbon
//	        sky: sun
//	        celsius: 21
//
// "/weather Oslo" answers with Oslo's forecast and remembers Oslo as the
// sender's city (in the plugin's storage namespace, so it survives
// restarts); "/weather" alone answers for the remembered city.
package weather

import (
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/openimbot/openimbot/bot"
	"github.com/openimbot/openimbot/config"
	"github.com/openimbot/openimbot/plugins"
	"github.com/openimbot/openimbot/router"
	"github.com/openimbot/openimbot/storage"
)

// Name is the plugin's name: its key in the plugins section and the name of
// its storage namespace.
const Name = "weather"

// Plugin is the weather plugin. It keeps no state between Setup calls: a
// configuration reload builds everything again.
type Plugin struct{}

var _ plugins.Plugin = Plugin{}

// New returns the plugin.
func New() Plugin { return Plugin{} }

// Name returns "weather".
func (Plugin) Name() string { return Name }

// settings is the plugin's section of the configuration.
type settings struct {
	Command string `yaml:"command"`
	Unknown string `yaml:"unknown"`
	// Forecasts are decoded item by item, so that an error in one names
	// its own line and column.
	Forecasts []config.Node `yaml:"forecasts"`
}

// forecast is one item of forecasts.
type forecast struct {
	City    string `yaml:"city"`
	Sky     string `yaml:"sky"`
	Celsius int    `yaml:"celsius"`
}

// Setup reads the plugin's section and registers the command. Every
// configuration error carries its file:line:col.
func (Plugin) Setup(h plugins.Host) error {
	set := settings{Command: "weather", Unknown: "No forecast for {city}."}
	if err := h.Config.Decode(&set); err != nil {
		return err
	}
	if set.Command == "" || strings.ContainsFunc(set.Command, unicode.IsSpace) {
		return h.Config.Errorf("weather: command must be one word, got %q", set.Command)
	}
	byCity := make(map[string]forecast, len(set.Forecasts))
	var errs []error
	for _, n := range set.Forecasts {
		var f forecast
		if err := n.Decode(&f); err != nil {
			errs = append(errs, err)
			continue
		}
		key := strings.ToLower(f.City)
		switch {
		case f.City == "" || f.Sky == "":
			errs = append(errs, n.Errorf("weather: a forecast needs a city and a sky"))
		case byCity[key] != (forecast{}):
			errs = append(errs, n.Errorf("weather: %s has two forecasts", f.City))
		default:
			byCity[key] = f
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	w := &handler{forecasts: byCity, unknown: set.Unknown, store: h.Store}
	return h.Router.OnFunc(router.Command(set.Command+" {city?}"), w.handle,
		router.Name(Name), router.Description("the weather in a city (remembers yours)"), router.At(h.Location()))
}

// handler answers the command.
type handler struct {
	forecasts map[string]forecast
	unknown   string
	store     *storage.Namespace // nil when the program runs without a database (check)
}

func (w *handler) handle(c *bot.Context) error {
	city := c.Param("city")
	if city == "" && w.store != nil {
		if _, err := w.store.GetJSON(c.Sender(), &city); err != nil {
			return err
		}
	}
	if city == "" {
		return c.Reply("Which city? /weather Oslo")
	}
	f, ok := w.forecasts[strings.ToLower(city)]
	if !ok {
		return c.Reply(strings.ReplaceAll(w.unknown, "{city}", city))
	}
	if w.store != nil && c.Param("city") != "" {
		if err := w.store.PutJSON(c.Sender(), f.City); err != nil {
			return err
		}
	}
	return c.Reply(fmt.Sprintf("%s: %s, %d°C", f.City, f.Sky, f.Celsius))
}
