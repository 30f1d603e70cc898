// Package window is the time-window operator: tumbling, sliding and session
// windows over event time or processing time, with allowed lateness, a side
// output for late records, and an aggregate applied to each window (Flink's
// WindowOperator with an AggregateFunction).
//
// The operator is a deterministic state machine driven by three inputs: Process
// (a batch of records), Advance (a clock reaching a time: the watermark in event
// time, the wall clock in processing time) and Flush (before a checkpoint's
// snapshot). It reads no clock itself: processing time comes from Config.Now.
//
// State. Every key's windows live in one value of the subtask's state backend:
// the list of its open windows, each with its accumulator. Sliding windows are
// kept as panes (slices of gcd(size, slide)), so a record touches one pane and
// state and work grow with the slide, not with size/slide; a window's result
// merges its panes when it fires. Tumbling windows are panes of one window.
// Session windows are merged as records arrive (windows that overlap or touch
// become one, so records exactly gap apart share a session). A write-back cache
// in front of the backend holds the keys in use; Flush writes what changed, and
// the worker calls it before every snapshot, so a checkpoint holds exactly the
// windows of the records before its barrier.
//
// Firing. Windows fire from timers (package timer): a window [start, end) fires
// when its clock reaches end-1, and its result is a record keyed like its input,
// with timestamp end-1. A sliding window's pane registers the first window it
// belongs to; each firing registers the key's next window while panes remain,
// so a key holds one pending firing at a time. With allowed lateness L, a window's
// state is kept until the clock reaches end-1+L; a record for a window already
// fired but within L updates it and re-emits its result at once. A record whose
// every window is past its lateness is late: it goes to the late side output when
// one is configured, and is counted either way.
package window
