package bot

// SyncStatsOf exposes the sync engine's counters to the tests.
func SyncStatsOf(b *Bot) string {
	if b.sync == nil {
		return "not running"
	}
	st := b.sync.snapshot()
	return fmtStats(st)
}
