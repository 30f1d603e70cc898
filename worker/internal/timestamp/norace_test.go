//go:build !race

package timestamp

const raceEnabled = false
