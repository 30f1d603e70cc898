//go:build !race

package keyby

const raceEnabled = false
