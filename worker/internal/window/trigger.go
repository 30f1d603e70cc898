package window

import (
	"context"
	"math"

	"github.com/weir-streams/weir/internal/record"
)

// TriggerKind is the kind of a window's trigger (Flink's Trigger classes).
type TriggerKind uint8

const (
	// EventTimeTrigger fires a window when the watermark reaches its end-1
	// (and at once for a record within the allowed lateness of a window
	// already past it).
	EventTimeTrigger TriggerKind = iota + 1
	// ProcessingTimeTrigger fires a window when the processing time reaches
	// its end-1.
	ProcessingTimeTrigger
	// CountTrigger fires a window after every N-th record added to it.
	CountTrigger
	// ContinuousEventTimeTrigger fires a window each time the watermark
	// passes a multiple of Interval, and at its end-1.
	ContinuousEventTimeTrigger
	// ContinuousProcessingTimeTrigger fires a window each time the processing
	// time passes a multiple of Interval.
	ContinuousProcessingTimeTrigger
	// NeverTrigger never fires (the default of global windows).
	NeverTrigger
	// CustomTrigger asks Functions.Trigger (sdk/ABI.md §4.9).
	CustomTrigger
)

// Trigger decides when a window fires (Config.Trigger).
type Trigger struct {
	Kind TriggerKind
	// N is the count of CountTrigger.
	N uint64
	// Interval (ms) is the period of the continuous triggers.
	Interval int64
	// Purging turns every fire of a built-in trigger into fire and purge:
	// the window's contents go after its function ran (Flink's
	// PurgingTrigger). A custom trigger chooses its action itself.
	Purging bool
}

// TriggerAction is what a trigger decides for a window.
type TriggerAction uint8

const (
	Continue TriggerAction = iota
	Fire
	Purge
	FireAndPurge
)

// TriggerEventKind is what a custom trigger is told about.
type TriggerEventKind uint8

const (
	// ElementsAdded: records of one input batch went into the window.
	ElementsAdded TriggerEventKind = iota
	// EventTimeTimer: an event-time timer the trigger registered fired.
	EventTimeTimer
	// ProcessingTimeTimer: a processing-time timer the trigger registered
	// fired.
	ProcessingTimeTimer
)

// TriggerEvent is one event for a custom trigger (sdk/ABI.md §4.9). Key aliases
// the operator's memory: valid during the call.
type TriggerEvent struct {
	Kind TriggerEventKind
	// Start and End are the window, end exclusive; a global (and count)
	// window is [math.MinInt64, math.MaxInt64).
	Start, End int64
	// Time is, for ElementsAdded, the largest timestamp of the records added
	// (math.MinInt64 when none had one); for timers, the timer's time.
	Time int64
	// Count is the number of elements now in the window.
	Count uint64
	Key   []byte
	Keyed bool
}

// TriggerResult is a custom trigger's answer to one event.
type TriggerResult struct {
	Action TriggerAction
	// EventTimer and ProcTimer are timers to register for the window, when
	// HasEventTimer and HasProcTimer say so.
	EventTimer, ProcTimer       int64
	HasEventTimer, HasProcTimer bool
}

// TriggerCaller runs trigger calls: the worker adapts an instance of a
// `trigger` function to it. It answers exactly one result per event, in event
// order. The operator calls it from its task's goroutine, once per input batch
// (with one ElementsAdded event per window the batch touched) and once per
// round of fired timers, never once per record; events aliases the operator's
// memory until the call returns.
type TriggerCaller interface {
	Trigger(ctx context.Context, events []TriggerEvent) ([]TriggerResult, error)
}

// elementsMaxTS returns the largest timestamp among encoded elements (a batch frame).
func elementsMaxTS(frame []byte) (int64, bool) {
	r := record.NewReader(frame)
	var v record.View
	ts, has := int64(math.MinInt64), false
	for r.Next(&v) {
		if v.HasTimestamp() && (!has || v.Timestamp > ts) {
			ts, has = v.Timestamp, true
		}
	}
	return ts, has
}
