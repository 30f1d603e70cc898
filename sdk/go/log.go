package weir

import "strconv"

// Level is the severity of a log line.
type Level int32

// Log levels, as numbered by the ABI's weir.log import.
const (
	LevelDebug Level = 0
	LevelInfo  Level = 1
	LevelWarn  Level = 2
	LevelError Level = 3
)

// Log writes one line to the worker's log through the host. It costs a host call:
// log sparingly on the per-record path.
func Log(level Level, msg string) { hostLog(int32(level), msg) }

func (l Level) String() string {
	switch l {
	case LevelDebug:
		return "debug"
	case LevelInfo:
		return "info"
	case LevelWarn:
		return "warn"
	case LevelError:
		return "error"
	}
	return "level(" + strconv.Itoa(int(l)) + ")"
}
