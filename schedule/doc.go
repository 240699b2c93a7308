// Package schedule runs jobs on cron schedules or at fixed intervals: send
// a message to a user or group, or run any Go function with a bot.Sender.
//
//	s := schedule.New(b, schedule.NamespaceLedger(db.Namespace(schedule.Namespace)))
//	send, _ := schedule.Message(bot.ToGroup("team"), "Stand-up in 5 minutes ({{.Weekday}}).", false)
//	err := s.Add(schedule.Job{Name: "standup", Cron: "55 8 * * 1-5", Location: paris, Func: send})
//	go s.Run(ctx) // after the bot has connected
//
// The configuration's top-level schedules list gives the same jobs in YAML
// (FromConfig); `openimbot run` starts them once the bot is connected.
//
// # Restarts and missed runs
//
// The scheduled time of every job's last run is kept in a Ledger (by
// default a storage namespace of the bot's database). When the scheduler
// starts, a job whose next time fell while it was down runs once at once
// (Run.Missed is true; Run.Time is the latest missed time), however many
// times were missed; with Job.SkipMissed those runs are dropped. A job seen
// for the first time has missed nothing. Interval jobs keep their grid
// across restarts: "every 1h" first started at 10:17 runs at 11:17, 12:17,
// ... even after a restart at 11:50.
//
// A run is recorded in the ledger before it starts (the claim), so a job
// runs at most once per scheduled time: a process that dies during a run
// does not repeat it.
//
// # Clusters
//
// The claim is a compare-and-set on the ledger. With a Ledger shared by
// several processes that makes Claim atomic across them, every process can
// run the same jobs and each scheduled time runs on exactly one of them
// (see Ledger).
//
// # Time
//
// Cron expressions are parsed by github.com/robfig/cron/v3 (five fields or
// a descriptor such as @daily) and evaluated in the job's time zone. The
// scheduler reads time from a bot.Clock (WithClock), so tests drive it
// with a fake clock instead of waiting.
package schedule
