package weir

// CoProcess registers a co_process function (ABI §4.7): a step with two inputs,
// Flink's KeyedCoProcessFunction, or with a broadcast second input its
// KeyedBroadcastProcessFunction. The SDK calls process1 for each record of the
// first input (call kind process) and process2 for each record of the second
// (call kind process2), batch by batch in the order the host delivers them.
//
// Both handlers get a [Context], as a [Process] function does: outputs on the
// main and side outputs ([Collector.EmitTo], [Collector.EmitToSide]), each
// naming its parent record; the state given with [State]; and, with [OnTimer],
// timers. When both inputs are keyed, the state and timers act for the key of
// the current record in either handler: the two inputs share one keyed state.
// When the second input is broadcast, its records have no key: in process2 the
// host refuses keyed state and timers (a [StateError] wrapping
// [ErrStateInvalid], [ErrTimers]), and a [BroadcastState] is what process2
// writes and process1 and the OnTimer callback read.
func CoProcess(name string, process1, process2 ProcessFunc, opts ...Option) {
	if process1 == nil || process2 == nil {
		panic("weir: " + name + ": a co_process function needs both handlers")
	}
	register(&function{name: name, kind: kindCoProcess, processFn: process1, process2Fn: process2}, opts)
}
