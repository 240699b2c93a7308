package schedule_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/openimbot/openimbot/bot"
	"github.com/openimbot/openimbot/config"
	"github.com/openimbot/openimbot/content"
	"github.com/openimbot/openimbot/schedule"
	"github.com/openimbot/openimbot/transport"
)

// nopSender accepts every message.
type nopSender struct{}

func (nopSender) Send(context.Context, bot.Target, content.Element) (transport.SendResult, error) {
	return transport.SendResult{}, nil
}

func (nopSender) SendText(context.Context, bot.Target, string) (transport.SendResult, error) {
	return transport.SendResult{}, nil
}

// FuzzFromConfig loads arbitrary schedules sections and runs the message
// of every job that loads: neither may panic. Seeds: testdata/*.yaml.
func FuzzFromConfig(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("schedules: [{name: a, cron: '@every 1h', send: {to: 'user:u', text: '{{.Job}}'}}]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := config.Parse("fuzz.yaml", data, func(string) (string, bool) { return "", false })
		if err != nil {
			return
		}
		jobs, err := schedule.FromConfig(cfg.Schedules)
		if err != nil {
			return
		}
		for _, j := range jobs {
			if err := j.Check(); err != nil {
				t.Fatalf("FromConfig gave a job that Check rejects: %v", err)
			}
			_ = j.Func(context.Background(), schedule.Run{Job: j.Name, Time: time.Unix(0, 0).In(j.Location), Sender: nopSender{}})
		}
	})
}
