//go:build !wasip1

package weir

import "os"

// Stand-ins for the host imports outside wasip1, so that the package, and the
// user functions built on it, can be tested natively. Tests of this package
// capture what would reach the host through these hooks.
var (
	testEmit  func(frame []byte)
	testError func(msg string)
	testLog   func(level int32, msg string)
)

func hostEmit(b []byte) {
	if testEmit != nil {
		testEmit(b)
	}
}

func hostError(msg string) {
	if testError != nil {
		testError(msg)
	}
}

func hostLog(level int32, msg string) {
	if testLog != nil {
		testLog(level, msg)
		return
	}
	os.Stderr.WriteString("weir: " + Level(level).String() + ": " + msg + "\n")
}
