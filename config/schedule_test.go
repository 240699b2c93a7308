package config

import (
	"strings"
	"testing"
	"time"
)

func TestSchedules(t *testing.T) {
	cfg, err := Parse("s.yaml", []byte(`schedules:
  - name: standup
    cron: "0 9 * * 1-5"
    timezone: UTC
    missed: skip
    send:
      to: group:team
      text: "Stand-up"
  - name: tick
    every: 30m
    send: {to: "user:alice", markdown: "**tick**"}
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Schedules) != 2 {
		t.Fatalf("%+v", cfg.Schedules)
	}
	s := cfg.Schedules[0]
	if s.Name != "standup" || s.Cron != "0 9 * * 1-5" || s.Missed != "skip" || s.Send.To != "group:team" {
		t.Errorf("%+v", s)
	}
	if p := s.PosOf("cron"); p.String() != "s.yaml:3:11" {
		t.Errorf("cron at %v", p)
	}
	if p := s.PosOf("send.text"); p.String() != "s.yaml:8:13" {
		t.Errorf("send.text at %v", p)
	}
	if kind, id, ok := s.Send.Target(); kind != "group" || id != "team" || !ok {
		t.Errorf("target %q %q %v", kind, id, ok)
	}
	if cfg.Schedules[1].Every != 30*time.Minute {
		t.Errorf("every %v", cfg.Schedules[1].Every)
	}
}

func TestScheduleErrors(t *testing.T) {
	_, err := Parse("s.yaml", []byte(`schedules:
  - name: a
    send: {to: "user:alice", text: x}
  - name: a
    cron: "@daily"
    every: 1h
    send: {to: "room:1", text: x, markdown: y}
  - cron: "@daily"
    timezone: Mars/Olympus
    missed: later
    send: {to: "group:g"}
  - name: fast
    every: 10ms
    send: {to: "user:", text: x}
`), nil)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		`s.yaml:2:5: schedule "a": needs cron or every`,
		`s.yaml:4:11: schedule "a": the name is used twice`,
		`s.yaml:6:12: schedule "a": set cron or every, not both`,
		`s.yaml:7:16: schedule "a": send.to: want user:ID or group:ID, got "room:1"`,
		`s.yaml:7:45: schedule "a": set send.text or send.markdown, not both`,
		`s.yaml:8:5: schedule 3: needs a name`,
		`s.yaml:9:15: schedule 3: unknown time zone "Mars/Olympus"`,
		`s.yaml:10:13: schedule 3: missed: want run or skip, got "later"`,
		`s.yaml:11:11: schedule 3: send needs text or markdown`,
		`s.yaml:13:12: schedule "fast": every must be at least 1s, got 10ms`,
		`s.yaml:14:16: schedule "fast": send.to: want user:ID or group:ID, got "user:"`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q", want)
		}
	}
	if t.Failed() {
		t.Log(err)
	}
}
