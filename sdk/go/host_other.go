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

// testState stands in for the host's state imports outside wasip1; nil answers
// every call UNSUPPORTED, as a host without keyed state does. testTaskInfo
// stands in for weir.task_info; nil answers "{}".
var (
	testState    stateHost
	testTaskInfo func(out []byte) int32
)

// stateHost is the host side of the state imports (ABI §4.2), as a test fakes it.
type stateHost interface {
	get(state, record int32, sub, out []byte) int32
	put(state, record int32, sub, val []byte) int32
	append(state, record int32, val []byte) int32
	delete(state, record int32, sub []byte) int32
	iter(state, record, cursor int32, out []byte) int32
}

func hostStateGet(state, record int32, sub, out []byte) int32 {
	if testState == nil {
		return stateUnsupported
	}
	return testState.get(state, record, sub, out)
}

func hostStatePut(state, record int32, sub, val []byte) int32 {
	if testState == nil {
		return stateUnsupported
	}
	return testState.put(state, record, sub, val)
}

func hostStateAppend(state, record int32, val []byte) int32 {
	if testState == nil {
		return stateUnsupported
	}
	return testState.append(state, record, val)
}

func hostStateDelete(state, record int32, sub []byte) int32 {
	if testState == nil {
		return stateUnsupported
	}
	return testState.delete(state, record, sub)
}

func hostStateIter(state, record, cursor int32, out []byte) int32 {
	if testState == nil {
		return stateUnsupported
	}
	return testState.iter(state, record, cursor, out)
}

func hostTaskInfo(out []byte) int32 {
	if testTaskInfo != nil {
		return testTaskInfo(out)
	}
	const none = "{}"
	if len(out) >= len(none) {
		copy(out, none)
	}
	return int32(len(none))
}

// testTimers stands in for the host's timer and time imports outside wasip1;
// nil answers the timer calls UNSUPPORTED (-2).
var testTimers timerHost

// timerHost is the host side of the timer imports (ABI §4.4), as a test fakes it.
type timerHost interface {
	register(domain, record int32, t int64) int32
	delete(domain, record int32, t int64) int32
	watermark() int64
	now() int64
}

func hostTimerRegister(domain, record int32, t int64) int32 {
	if testTimers == nil {
		return -2
	}
	return testTimers.register(domain, record, t)
}

func hostTimerDelete(domain, record int32, t int64) int32 {
	if testTimers == nil {
		return -2
	}
	return testTimers.delete(domain, record, t)
}

func hostCurrentWatermark() int64 {
	if testTimers == nil {
		return -1 << 63
	}
	return testTimers.watermark()
}

func hostCurrentTime() int64 {
	if testTimers == nil {
		return -1 << 63
	}
	return testTimers.now()
}
