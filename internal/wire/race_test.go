//go:build race

package wire

// raceEnabled reports a -race build, where sync.Pool drops a quarter of
// what is put back (on purpose), so allocation figures are not the
// package's.
const raceEnabled = true
