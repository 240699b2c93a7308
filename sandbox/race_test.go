//go:build race

package sandbox_test

// raceEnabled reports a -race build, where memory figures are not the
// product's (the race detector multiplies them).
const raceEnabled = true
