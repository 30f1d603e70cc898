//go:build race

package timestamp

// raceEnabled: the race detector makes allocations of its own, so allocation counts
// mean nothing under it.
const raceEnabled = true
