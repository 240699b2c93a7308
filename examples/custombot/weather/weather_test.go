package weather_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/openimbot/openimbot/bot/bottest"
	"github.com/openimbot/openimbot/config"
	"github.com/openimbot/openimbot/plugins"
	"github.com/openimbot/openimbot/router"
	"github.com/openimbot/openimbot/storage"

	"example.com/custombot/weather"
)

const conf = `plugins:
  weather:
    unknown: "No forecast for {city}."
    forecasts:
      - city: Oslo
        sky: snow
        celsius: -3
`

// build sets the plugin up from a configuration file's content, as
// openimbot's CLI does.
func build(t *testing.T, yaml string, db *storage.DB) (*router.Router, error) {
	t.Helper()
	cfg, err := config.Parse("bot.yaml", []byte(yaml), nil)
	if err != nil {
		return nil, err
	}
	r := router.New()
	if err := plugins.Setup(r, db, cfg.Plugins, []plugins.Plugin{weather.New()}, nil); err != nil {
		return nil, err
	}
	return r, r.Build()
}

func TestForecastAndRememberedCity(t *testing.T) {
	db, err := storage.Open(filepath.Join(t.TempDir(), "plugin.db"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	r, err := build(t, conf, db)
	if err != nil {
		t.Fatal(err)
	}
	h := bottest.Start(t, r)
	for _, tt := range []struct{ user, say, want string }{
		{"alice", "/weather oslo", "Oslo: snow, -3°C"},
		{"alice", "/weather", "Oslo: snow, -3°C"}, // remembered
		{"bob", "/weather", "Which city? /weather Oslo"},
		{"bob", "/weather Paris", "No forecast for Paris."},
		{"bob", "/weather", "Which city? /weather Oslo"}, // an unknown city is not remembered
	} {
		h.Say(tt.user, tt.say)
		if got := h.NextReplyText(); got != tt.want {
			t.Fatalf("%s says %q: got %q, want %q", tt.user, tt.say, got, tt.want)
		}
	}
	var city string
	if ok, err := db.Namespace(weather.Name).GetJSON("alice", &city); err != nil || !ok || city != "Oslo" {
		t.Fatalf("stored city %q %v %v", city, ok, err)
	}
}

// TestConfigErrorsHavePositions: every mistake in the plugin's section is
// reported at its file:line:col.
func TestConfigErrorsHavePositions(t *testing.T) {
	for _, tt := range []struct{ yaml, want string }{
		{"plugins:\n  weather:\n    comand: w\n", `bot.yaml:3:5: unknown key "comand"`},
		{"plugins:\n  weather:\n    forecasts:\n      - city: Oslo\n        celsius: cold\n", "bot.yaml:5:18: "},
		{"plugins:\n  weather:\n    forecasts:\n      - city: Oslo\n", "bot.yaml:4:9: weather: a forecast needs a city and a sky"},
		{"plugins:\n  weather:\n    forecasts:\n      - {city: Oslo, sky: sun}\n      - {city: oslo, sky: rain}\n", "bot.yaml:5:9: weather: oslo has two forecasts"},
		{"plugins:\n  weather:\n    command: two words\n", "bot.yaml:3:5: weather: command must be one word"},
	} {
		_, err := build(t, tt.yaml, nil)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: got %v, want %q", tt.yaml, err, tt.want)
		}
	}
}
