package weir

import (
	"encoding/binary"
	"errors"
	"math"
)

// Triggers (ABI §4.9): a window step's `trigger: {module, function}` decides
// when a window fires, in place of the window's default trigger.

// TriggerEventKind is what a trigger is told about.
type TriggerEventKind uint8

const (
	// ElementsAdded: elements of one input batch went into the window;
	// TriggerEvent.Time is the largest of their timestamps.
	ElementsAdded TriggerEventKind = 0
	// EventTimeTimer: an event-time timer of the window fired at Time.
	EventTimeTimer TriggerEventKind = 1
	// ProcessingTimeTimer: a processing-time timer of the window fired at Time.
	ProcessingTimeTimer TriggerEventKind = 2
)

// TriggerAction is what a trigger decides (Flink's TriggerResult).
type TriggerAction uint8

const (
	// Continue does nothing.
	Continue TriggerAction = 0
	// Fire evaluates the window's function on its contents and keeps them.
	Fire TriggerAction = 1
	// Purge clears the window's contents without evaluating it.
	Purge TriggerAction = 2
	// FireAndPurge evaluates the window, then clears its contents.
	FireAndPurge TriggerAction = 3
)

// NoTimer is the time the ABI uses for "no timer" (math.MinInt64).
const NoTimer int64 = math.MinInt64

// TriggerEvent is one event a [TriggerFunc] gets. The SDK reuses it from event
// to event.
type TriggerEvent struct {
	Kind TriggerEventKind
	// Window is the window, its key a view of the input valid during the call.
	// A global window is (math.MinInt64, math.MaxInt64).
	Window Window
	// Time is, for ElementsAdded, the largest timestamp among the elements
	// added; for a timer, the timer's time.
	Time int64
	// Count is the number of elements now in the window.
	Count uint64
}

// TriggerResult is a trigger's answer to one event: an Action, and optionally
// timers to register for the window and key. Its zero value, which the SDK
// hands the function for each event, is Continue without timers.
type TriggerResult struct {
	Action TriggerAction
	// The timers asked for, valid when their flag is set.
	eventTimer, procTimer int64
	hasEvent, hasProc     bool
}

// RegisterEventTimer asks for an event-time timer at ms for the window and
// key; the trigger gets an EventTimeTimer event when it fires. NoTimer asks for
// none. Only the last call of an event counts.
func (r *TriggerResult) RegisterEventTimer(ms int64) {
	r.eventTimer, r.hasEvent = ms, ms != NoTimer
}

// RegisterProcessingTimer asks for a processing-time timer at ms, as
// RegisterEventTimer does.
func (r *TriggerResult) RegisterProcessingTimer(ms int64) {
	r.procTimer, r.hasProc = ms, ms != NoTimer
}

// EventTimer is the event-time timer asked for, NoTimer for none.
func (r *TriggerResult) EventTimer() int64 {
	if !r.hasEvent {
		return NoTimer
	}
	return r.eventTimer
}

// ProcessingTimer is the processing-time timer asked for, NoTimer for none.
func (r *TriggerResult) ProcessingTimer() int64 {
	if !r.hasProc {
		return NoTimer
	}
	return r.procTimer
}

// TriggerFunc answers one trigger event through res. State and timer imports
// are not available to it (the host refuses them in a trigger call); its timers
// go through res.
type TriggerFunc func(ev *TriggerEvent, res *TriggerResult) error

// Trigger registers a trigger function (ABI §4.9). The host calls it with many
// events at once, a batch of elements per window at a time, never one call per
// record; the SDK calls fn once per event and answers them all with one
// weir.emit. A trigger takes OnOpen and OnClose, no side outputs and no state.
//
// Each answer is encoded as the ABI's 9-byte payload (action, event-time timer)
// or, when a processing-time timer is asked for, the 17-byte one; "no timer" is
// NoTimer.
func Trigger(name string, fn TriggerFunc, opts ...Option) {
	if fn == nil {
		panic("weir: " + name + ": nil function")
	}
	register(&function{name: name, kind: kindTrigger, triggerFn: fn}, opts)
}

// The event and the result a TriggerFunc gets, reused (as values of a call they
// would escape to the heap in every call).
var (
	triggerEvent  TriggerEvent
	triggerResult TriggerResult
)

// triggerEventSize is the size of an event without its key's bytes: event,
// start, end, time, count and key length.
const triggerEventSize = 1 + 8 + 8 + 8 + 8 + 4

// triggers runs a trigger call (ABI §4.9): one output per event, in event
// order, PAYLOAD alone.
func triggers(f *function, in []byte) int32 {
	if f.kind != kindTrigger {
		return rcUnsupported
	}
	r := &aggReader{b: in}
	count := r.u32()
	if r.bad || uint64(count)*triggerEventSize > uint64(len(in)-r.off) {
		return rcMalformedInput
	}
	frame.reset()
	rc := triggerCalls(f, r, count)
	triggerEvent = TriggerEvent{} // drop the view into the input
	if rc != rcOK {
		return rc
	}
	if r.off != len(in) {
		return rcMalformedInput
	}
	if frame.count > 0 {
		hostEmit(frame.bytes())
	}
	return rcOK
}

// triggerCalls calls f for each of the count events of r into frame.
func triggerCalls(f *function, r *aggReader, count uint32) int32 {
	ev, res := &triggerEvent, &triggerResult
	var p [17]byte
	for i := uint32(0); i < count; i++ {
		if r.off >= len(r.b) {
			return rcMalformedInput
		}
		kind := r.b[r.off]
		r.off++
		if kind > byte(ProcessingTimeTimer) {
			return rcMalformedInput
		}
		ev.Kind = TriggerEventKind(kind)
		ev.Window.Start, ev.Window.End = r.i64(), r.i64()
		ev.Time = r.i64()
		ev.Count = uint64(r.i64())
		kl := r.u32()
		ev.Window.Key, ev.Window.Keyed = nil, kl != noAccumulator
		if ev.Window.Keyed {
			ev.Window.Key = r.bytes(kl)
		}
		if r.bad {
			return rcMalformedInput
		}
		*res = TriggerResult{}
		if err := f.triggerFn(ev, res); err != nil {
			return result(err)
		}
		if res.Action > FireAndPurge {
			return result(errTriggerAction)
		}
		p[0] = byte(res.Action)
		binary.LittleEndian.PutUint64(p[1:], uint64(res.EventTimer()))
		n := 9
		if res.hasProc {
			binary.LittleEndian.PutUint64(p[9:], uint64(res.procTimer))
			n = 17
		}
		frame.appendRecord(i, 0, flagPayload, nil, 0, p[:n], nil, 0)
	}
	return rcOK
}

// errTriggerAction fails a trigger call whose function answered an action the
// ABI does not have.
var errTriggerAction = errors.New("a trigger's action must be Continue, Fire, Purge or FireAndPurge (ABI §4.9)")
