package config

import (
	"reflect"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Schedule is one item of the top-level schedules list: a message the bot
// sends on a cron schedule or at a fixed interval. This type carries the
// file's values and positions; the schedule package parses the cron
// expression and the template (and reports their errors at PosOf("cron")
// and PosOf("send.text")).
//
//	schedules:
//	  - name: standup
//	    cron: "0 9 * * 1-5"
//	    timezone: Europe/Paris
//	    send:
//	      to: group:team
//	      text: "Stand-up in 5 minutes ({{.Time.Format \"Mon 2 Jan\"}})."
type Schedule struct {
	// Pos is the position of the item (its mapping).
	Pos Pos `yaml:"-"`

	// Name identifies the job; its last run time is stored under it, so
	// renaming a job makes it a new job. Required and unique.
	Name string `yaml:"name"`
	// Cron is a cron expression: five fields (minute hour day-of-month
	// month day-of-week) or a descriptor such as @daily. Set Cron or
	// Every.
	Cron string `yaml:"cron"`
	// Every is a fixed interval such as 30m (at least 1s).
	Every time.Duration `yaml:"every"`
	// Timezone is the IANA time zone the cron expression and the template's
	// times are in, such as Europe/Paris; default the machine's local zone.
	Timezone string `yaml:"timezone"`
	// Missed says what happens to a run that fell while the bot was down:
	// "run" (default) runs it once when the bot is back, however many were
	// missed; "skip" drops it.
	Missed string `yaml:"missed"`
	// Send is the message to send.
	Send ScheduleSend `yaml:"send"`

	keys map[string]Pos
}

// ScheduleSend is the message of a Schedule. Text and Markdown are Go
// text/template sources (exactly one is required); see the schedule package
// for their data.
type ScheduleSend struct {
	// To is "user:ID" or "group:ID".
	To       string `yaml:"to"`
	Text     string `yaml:"text"`
	Markdown string `yaml:"markdown"`
}

// PosOf returns the position of the value of key in this item (for example
// "cron" or "send.text"), or the item's own position when it does not set
// key.
func (s *Schedule) PosOf(key string) Pos {
	if p, ok := s.keys[key]; ok {
		return p
	}
	return s.Pos
}

// Target splits To into its kind ("user" or "group") and ID.
func (s ScheduleSend) Target() (kind, id string, ok bool) {
	kind, id, ok = strings.Cut(s.To, ":")
	if !ok || (kind != "user" && kind != "group") || strings.TrimSpace(id) == "" || strings.TrimSpace(id) != id {
		return "", "", false
	}
	return kind, id, true
}

func (s *Schedule) decodeNode(d *decoder, n *yaml.Node) {
	type plain Schedule // the same fields without decodeNode
	s.Pos = d.pos(n)
	if isNull(n) {
		d.errorf(n, ErrType, "expected a schedule (a mapping), got null")
		return
	}
	s.keys = d.decodeOwnKeys(n, reflect.ValueOf((*plain)(s)).Elem())
}

// validateSchedules checks the items of the schedules list that decoded fine.
func (c *Config) validateSchedules(d *decoder) {
	names := make(map[string]bool)
	for i := range c.Schedules {
		s := &c.Schedules[i]
		bad := func(key, format string, args ...any) {
			p := s.PosOf(key)
			d.errorf(&yaml.Node{Line: p.Line, Column: p.Col}, ErrValue, format, args...)
		}
		label := "schedule " + strconv.Quote(s.Name)
		switch {
		case s.Name == "":
			label = "schedule " + strconv.Itoa(i+1)
			bad("", "%s: needs a name (its last run is stored under it)", label)
		case names[s.Name]:
			bad("name", "%s: the name is used twice", label)
		}
		names[s.Name] = true
		switch {
		case s.Cron == "" && s.Every == 0:
			bad("", "%s: needs cron or every", label)
		case s.Cron != "" && s.Every != 0:
			bad("every", "%s: set cron or every, not both", label)
		case s.Cron == "" && s.Every < time.Second:
			bad("every", "%s: every must be at least 1s, got %v", label, s.Every)
		}
		if s.Timezone != "" {
			if _, err := time.LoadLocation(s.Timezone); err != nil {
				bad("timezone", "%s: unknown time zone %s (use an IANA name such as Europe/Paris, or UTC)", label, strconv.Quote(short(s.Timezone)))
			}
		}
		switch s.Missed {
		case "", "run", "skip":
		default:
			bad("missed", "%s: missed: want run or skip, got %s", label, strconv.Quote(short(s.Missed)))
		}
		if s.Send.To == "" {
			bad("send", "%s: send.to is required (user:ID or group:ID)", label)
		} else if _, _, ok := s.Send.Target(); !ok {
			bad("send.to", "%s: send.to: want user:ID or group:ID, got %s", label, strconv.Quote(short(s.Send.To)))
		}
		switch {
		case s.Send.Text == "" && s.Send.Markdown == "":
			bad("send", "%s: send needs text or markdown", label)
		case s.Send.Text != "" && s.Send.Markdown != "":
			bad("send.markdown", "%s: set send.text or send.markdown, not both", label)
		}
	}
}
