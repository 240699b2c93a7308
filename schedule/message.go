package schedule

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"text/template"
	"time"

	"github.com/openimbot/openimbot/bot"
	"github.com/openimbot/openimbot/config"
	"github.com/openimbot/openimbot/content"
)

// Data is what the template of a Message gets.
type Data struct {
	Job     string    // the job's name
	Time    time.Time // the scheduled time, in the job's time zone: {{.Time.Format "Mon 2 Jan 15:04"}}
	Date    string    // Time as 2006-01-02
	Clock   string    // Time as 15:04
	Weekday string    // Time's weekday: Monday, ...
	Missed  bool      // the run makes up for one missed while the bot was down
}

// Message returns a Job.Func that sends a message to to: the Go
// text/template tmpl executed with Data, as text, or as markdown when
// markdown is true. A template that does not parse, or refers to a field
// Data does not have, is an error now rather than at run time. A template
// that gives only white space sends nothing.
func Message(to bot.Target, tmpl string, markdown bool) (func(context.Context, Run) error, error) {
	t, err := template.New("message").Option("missingkey=error").Parse(tmpl)
	if err != nil {
		return nil, fmt.Errorf("template: %s", strings.TrimPrefix(err.Error(), "template: "))
	}
	if err := t.Execute(discard{}, Data{}); err != nil {
		return nil, fmt.Errorf("template: %s (fields: .Job .Time .Date .Clock .Weekday .Missed)", strings.TrimPrefix(err.Error(), "template: "))
	}
	return func(ctx context.Context, r Run) error {
		var b strings.Builder
		d := Data{Job: r.Job, Time: r.Time, Date: r.Time.Format("2006-01-02"), Clock: r.Time.Format("15:04"),
			Weekday: r.Time.Weekday().String(), Missed: r.Missed}
		if err := t.Execute(&b, d); err != nil {
			return err
		}
		text := b.String()
		if strings.TrimSpace(text) == "" {
			return nil
		}
		var elem content.Element = content.NewText(text)
		if markdown {
			elem = content.NewMarkdown(text)
		}
		_, err := r.Sender.Send(ctx, to, elem)
		return err
	}, nil
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// FromConfig turns the schedules section of a configuration into jobs,
// checking every item: an invalid cron expression or template is an error
// at its file:line:col. The error is a config.Errors with every problem
// found.
func FromConfig(items []config.Schedule) ([]Job, error) {
	var errs config.Errors
	fail := func(s *config.Schedule, key, format string, args ...any) {
		var ce config.Errors
		if errors.As(config.Errorf(s.PosOf(key), "schedule %q: %s", s.Name, fmt.Sprintf(format, args...)), &ce) {
			errs = append(errs, ce...)
		}
	}
	var jobs []Job
	for i := range items {
		s := &items[i]
		j := Job{Name: s.Name, Every: s.Every, SkipMissed: s.Missed == "skip", Location: time.Local}
		if s.Timezone != "" {
			loc, err := time.LoadLocation(s.Timezone)
			if err != nil {
				fail(s, "timezone", "%v", err)
				continue
			}
			j.Location = loc
		}
		if s.Cron != "" {
			if _, err := parseCron(s.Cron); err != nil {
				fail(s, "cron", "%v", err)
				continue
			}
			j.Cron = s.Cron
		}
		kind, id, _ := s.Send.Target()
		to := bot.ToUser(id)
		if kind == "group" {
			to = bot.ToGroup(id)
		}
		key, src := "send.text", s.Send.Text
		if s.Send.Markdown != "" {
			key, src = "send.markdown", s.Send.Markdown
		}
		f, err := Message(to, src, s.Send.Markdown != "")
		if err != nil {
			fail(s, key, "%v", err)
			continue
		}
		j.Func = f
		if err := j.Check(); err != nil {
			fail(s, "", "%v", err)
			continue
		}
		jobs = append(jobs, j)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return jobs, nil
}
