package spec

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Defaults and bounds of a job spec. The bounds not exported here are stated on the
// fields they apply to.
const (
	DefaultParallelism      = 1
	DefaultMaxParallelism   = 128
	MaxParallelismLimit     = 32768 // the largest max_parallelism, as in Flink; a key group fits a state key's 2-byte prefix
	DefaultBufferTimeout    = 10 * time.Millisecond
	DefaultMemory           = 64 << 20 // bytes of linear memory per UDF instance
	DefaultCallTimeout      = time.Second
	DefaultSlotSharingGroup = "default"

	// Restart strategy defaults, Flink's.
	DefaultRestartAttempts     = 1               // fixed_delay
	DefaultRestartDelay        = time.Second     // fixed_delay and failure_rate
	DefaultBackoffInitial      = time.Second     // exponential_delay
	DefaultBackoffMax          = 5 * time.Minute // exponential_delay
	DefaultBackoffMultiplier   = 2.0             // exponential_delay
	DefaultBackoffResetAfter   = time.Hour       // exponential_delay
	DefaultMaxFailures         = 1               // failure_rate
	DefaultFailureRateInterval = time.Minute     // failure_rate

	// Checkpointing defaults, Flink's.
	DefaultCheckpointTimeout = 10 * time.Minute
	DefaultMaxConcurrent     = 1
	DefaultRetain            = 1
	minCheckpointInterval    = 10 * time.Millisecond

	minMemory      = 1 << 20
	maxMemory      = 4 << 30
	minCallTimeout = time.Millisecond
	maxCallTimeout = 10 * time.Minute
)

// Job is a parsed, defaulted and validated job spec (DESIGN §6). Parse returns one;
// the control plane stores it and returns it in the API, so it is plain data that
// round-trips through encoding/json (durations as Go duration strings, sizes as
// bytes).
type Job struct {
	// Name identifies the job to people: 1 to 128 of A-Z a-z 0-9 . _ -. Required.
	Name string `json:"name"`
	// Parallelism is the default parallelism of every step. Default 1; at most
	// MaxParallelism.
	Parallelism int `json:"parallelism"`
	// MaxParallelism is the number of key groups, fixed when the job is first
	// submitted. Default 128; 1 to 32768.
	MaxParallelism int `json:"max_parallelism"`
	// BufferTimeout is how long a network buffer may wait before it is flushed.
	// Default 10ms when the spec leaves it out; 0 flushes after every batch, so
	// Defaults does not touch it.
	BufferTimeout time.Duration `json:"buffer_timeout"`
	// Limits bound every UDF instance of the job unless a step overrides them.
	Limits Limits `json:"limits"`
	// Restart says what happens when a task fails. Default: no restart for a job
	// without checkpointing; with checkpointing, fixed_delay with 2147483647
	// attempts and a 1s delay (Flink's defaults for each case).
	Restart Restart `json:"restart"`
	// FromSavepoint is the id of the savepoint the job starts from (its state and
	// source positions), or a retained checkpoint of an ended job written
	// "<job id>/<checkpoint id>". "" starts empty.
	FromSavepoint string `json:"from_savepoint,omitempty"`
	// AllowNonRestoredState lets a job start from a savepoint holding state of
	// steps the job no longer has; that state is dropped. Default false: such a
	// savepoint is refused, naming the steps.
	AllowNonRestoredState bool `json:"allow_non_restored_state,omitempty"`
	// Checkpointing, when set, takes consistent snapshots of the job's state and
	// source positions that it restarts from after a failure. Nil: off.
	Checkpointing *Checkpointing `json:"checkpointing,omitempty"`
	// Steps is the pipeline in spec order; each step reads only steps before it.
	Steps []Step `json:"steps"`
}

// Limits bound one UDF instance (DESIGN §4, sandbox limits).
type Limits struct {
	// Memory caps the instance's linear memory, in bytes. Default 64 MiB;
	// 1 MiB to 4 GiB.
	Memory int64 `json:"memory"`
	// CallTimeout interrupts a call into the instance that runs longer. Default 1s;
	// 1ms to 10m.
	CallTimeout time.Duration `json:"call_timeout"`
}

// RestartStrategy names a restart strategy.
type RestartStrategy string

// Restart strategies, after Flink's.
const (
	RestartNone             RestartStrategy = "none"
	RestartFixedDelay       RestartStrategy = "fixed_delay"
	RestartExponentialDelay RestartStrategy = "exponential_delay"
	RestartFailureRate      RestartStrategy = "failure_rate"
)

// Restart is the job's restart strategy: what the job master does when a task of
// the job fails. Only the fields of the chosen strategy are set; the others are
// zero. control/restart implements the strategies.
type Restart struct {
	// Strategy is the restart strategy. Default RestartNone: a failed task fails
	// the job.
	Strategy RestartStrategy `json:"strategy"`

	// Attempts, for RestartFixedDelay, is how many restarts the job gets in its
	// life; the failure after the last one fails the job. Default 1; 1 to
	// 2147483647.
	Attempts int `json:"attempts,omitempty"`
	// Delay, for RestartFixedDelay and RestartFailureRate, is the wait before
	// each restart. Default 1s when the spec leaves it out; 0 restarts at once,
	// so Defaults does not touch it. At most 24h.
	Delay time.Duration `json:"delay,omitempty"`

	// Initial, for RestartExponentialDelay, is the wait before the first restart.
	// Default 1s; 1ms to 24h.
	Initial time.Duration `json:"initial,omitempty"`
	// Max, for RestartExponentialDelay, caps the wait. Default 5m, or Initial
	// when that is longer; at least Initial, at most 24h.
	Max time.Duration `json:"max,omitempty"`
	// Multiplier, for RestartExponentialDelay, grows the wait after each
	// restart. Default 2.0; 1 to 1000.
	Multiplier float64 `json:"multiplier,omitempty"`
	// ResetAfter, for RestartExponentialDelay, is how long the job must run
	// without a failure for the wait to go back to Initial. Default 1h; 1ms to
	// 720h.
	ResetAfter time.Duration `json:"reset_after,omitempty"`

	// MaxFailures, for RestartFailureRate, is how many failures the job may have
	// within Interval: the one beyond fails the job. Default 1; 1 to 2147483647.
	MaxFailures int `json:"max_failures,omitempty"`
	// Interval, for RestartFailureRate, is the sliding window failures are
	// counted in. Default 1m; 1ms to 720h.
	Interval time.Duration `json:"interval,omitempty"`
}

// CheckpointMode says whether a task with several input channels aligns barriers.
type CheckpointMode string

// Checkpoint modes.
const (
	// ExactlyOnce aligns barriers: a snapshot reflects every record before the
	// barrier and none after it, so state is updated exactly once.
	ExactlyOnce CheckpointMode = "exactly_once"
	// AtLeastOnce forwards barriers without aligning: records after a barrier may
	// reach state before the snapshot, and are replayed after a restore.
	AtLeastOnce CheckpointMode = "at_least_once"
)

// Checkpointing configures periodic checkpoints (DESIGN §5), after Flink's
// CheckpointConfig.
type Checkpointing struct {
	// Interval is the time between the triggers of two checkpoints. Required;
	// 10ms to 24h.
	Interval time.Duration `json:"interval"`
	// Mode is exactly_once (default) or at_least_once.
	Mode CheckpointMode `json:"mode"`
	// Timeout aborts a checkpoint not complete after it. Default 10m; at least 10ms.
	Timeout time.Duration `json:"timeout"`
	// MinPause is the least time between the end of a checkpoint and the trigger
	// of the next. Default 0.
	MinPause time.Duration `json:"min_pause,omitempty"`
	// MaxConcurrent is how many checkpoints may be in progress at once. Default 1;
	// 1 to 100.
	MaxConcurrent int `json:"max_concurrent"`
	// TolerableFailures is how many checkpoints in a row may fail before the job
	// fails. Default 0; 0 to 2147483647.
	TolerableFailures int `json:"tolerable_failures,omitempty"`
	// Retain is how many completed checkpoints are kept. Default 1; 1 to 100.
	Retain int `json:"retain"`
	// RetainOnCancel keeps the retained checkpoints when the job is canceled, so
	// that a new job can start from one. Default false.
	RetainOnCancel bool `json:"retain_on_cancel,omitempty"`
}

// Kind is what a step does. A kind is also the spec key that introduces the step
// (`map: {...}`), so Kind values are spec keys.
type Kind string

// Step kinds. Those marked "reserved" are known to the parser, which refuses them
// with a "not supported yet" error until they are built.
const (
	KindSource    Kind = "source"
	KindMap       Kind = "map"
	KindFilter    Kind = "filter"
	KindFlatMap   Kind = "flat_map"
	KindPartition Kind = "partition"
	KindSink      Kind = "sink"

	KindProcess   Kind = "process" // a keyed function with state; reads a key_by
	KindReduce    Kind = "reduce"  // a keyed running reduction; reads a key_by
	KindKeyBy     Kind = "key_by"
	KindWindow    Kind = "window"     // a window with its function: aggregate, reduce or process
	KindAggregate Kind = "aggregate"  // only as a window's function
	KindUnion     Kind = "union"      // merges its inputs
	KindJoin      Kind = "join"       // joins two keyed inputs: interval or window join
	KindCoProcess Kind = "co_process" // a function of two inputs, the second keyed or broadcast
)

// Partitioning is how records travel from a partition step's input to the steps
// that read it.
type Partitioning string

// Partitionings, after Flink's partitioners. A key_by step gives the edge after
// it a hash partitioning, which is not written as a partition step.
const (
	PartitionForward   Partitioning = "forward"   // subtask i to subtask i; needs equal parallelism
	PartitionRebalance Partitioning = "rebalance" // round robin over all downstream subtasks
	PartitionRescale   Partitioning = "rescale"   // round robin over a local subset of the downstream subtasks
	PartitionBroadcast Partitioning = "broadcast" // every record to every downstream subtask
	PartitionGlobal    Partitioning = "global"    // every record to downstream subtask 0
)

// Delivery is a sink's delivery guarantee.
type Delivery string

// Delivery guarantees.
const (
	// DeliveryAtLeastOnce publishes records as they arrive; after a failure the
	// records since the last checkpoint (or saved progress) are published again.
	DeliveryAtLeastOnce Delivery = "at_least_once"
	// DeliveryExactlyOnce holds the records of each checkpoint interval and
	// publishes them, with deterministic message ids, once that checkpoint
	// completes: the stream de-duplicates a re-publish after a failure. Needs
	// checkpointing.
	DeliveryExactlyOnce Delivery = "exactly_once"
)

// StartKind is where a JetStream source starts reading on the job's first run (a
// restored job resumes from its checkpointed positions instead).
type StartKind string

// Start positions.
const (
	StartEarliest StartKind = "earliest" // the first message in the stream
	StartLatest   StartKind = "latest"   // only messages published from now on
	StartSequence StartKind = "sequence" // StartPosition.Sequence and after
	StartTime     StartKind = "time"     // messages stored at StartPosition.Time or later
)

// Step is one step of the pipeline. Exactly one of Source, UDF, KeyBy, Partition and
// Sink is set, according to Kind: a key_by step sets KeyBy for a json_field and UDF
// for a key-selector function.
type Step struct {
	// ID is the stable operator id that state is mapped by: 1 to 64 of A-Z a-z 0-9
	// _ -, unique in the job. Default "<kind>-<index>" (e.g. "map-1"), which changes
	// when steps are inserted before it, so give stateful steps an explicit id.
	ID string `json:"id"`
	// Kind is what the step does.
	Kind Kind `json:"kind"`
	// Input is the ID of the step this one reads, always an earlier step and never
	// a sink; "" for a source. Default: the step before it.
	Input string `json:"input,omitempty"`
	// InputTag names the side output of Input this step reads (written
	// `input: <step>#<name>`); "" for its main output.
	InputTag string `json:"input_tag,omitempty"`
	// Inputs are what a union, join or co_process step reads, in order (written
	// `inputs: [a, b#name]`); such a step has no Input. See Reads.
	Inputs []StepInput `json:"inputs,omitempty"`
	// Parallelism is the step's own parallelism; 0 means the job's. See
	// EffectiveParallelism.
	Parallelism int `json:"parallelism,omitempty"`
	// Chain allows the step to be chained with its neighbours. Default true when
	// the spec leaves it out; Defaults does not touch it.
	Chain bool `json:"chain"`
	// SlotSharingGroup names the step's slot-sharing group. Default "default".
	SlotSharingGroup string `json:"slot_sharing_group"`
	// Config is handed to the UDF's open call, as JSON converted from the spec
	// (integers stay integers, key order is kept). Nil when absent or null; only
	// steps that run a UDF take one; at most 1 MiB.
	Config json.RawMessage `json:"config,omitempty"`
	// Limits bound the step's UDF instances: the step's own limits over the job's
	// over the defaults, field by field. Set on every step; only UDF steps use it.
	Limits Limits `json:"limits"`

	// Source is set for KindSource.
	Source *JetStreamSource `json:"source,omitempty"`
	// UDF is set for KindMap, KindFilter, KindFlatMap, KindProcess and KindReduce, and for a KindKeyBy
	// step whose key a key_selector function computes.
	UDF *UDFRef `json:"udf,omitempty"`
	// KeyBy is set for a KindKeyBy step that keys records by a JSON field.
	KeyBy *KeyBy `json:"key_by,omitempty"`
	// Partition is set for KindPartition.
	Partition Partitioning `json:"partition,omitempty"`
	// Sink is set for KindSink.
	Sink *JetStreamSink `json:"sink,omitempty"`
	// Timestamps is set on a source step whose records get their event time
	// from a rule, with watermarks.
	Timestamps *Timestamps `json:"timestamps,omitempty"`
	// Window is set for KindWindow: how records are grouped into windows.
	Window *Window `json:"window,omitempty"`
	// Aggregate is set for a window step whose function is a built-in aggregate.
	Aggregate *Aggregate `json:"aggregate,omitempty"`
	// WindowFunction is, for KindWindow, the kind of the function applied to
	// each fired window: KindAggregate (Aggregate for a built-in one, UDF for an
	// aggregate function), KindReduce or KindProcess (UDF).
	WindowFunction Kind `json:"window_function,omitempty"`
	// WindowProcess is the window process function of a window step that has
	// an aggregate function too: it gets the aggregate's result.
	WindowProcess *UDFRef `json:"window_process,omitempty"`
	// Join is set for KindJoin.
	Join *Join `json:"join,omitempty"`
	// KindCoProcess sets UDF (a co_process function); KindUnion sets nothing.

	// Line and Column locate the step in the spec (1-based; 0 when unknown), for
	// errors found after parsing, such as a function missing from its module.
	Line   int `json:"line,omitempty"`
	Column int `json:"column,omitempty"`
}

// StepInput is one input of a multi-input step: a step's id and, for a side
// output, its name.
type StepInput struct {
	ID  string `json:"id"`
	Tag string `json:"tag,omitempty"`
}

func (in StepInput) String() string {
	if in.Tag == "" {
		return in.ID
	}
	return in.ID + "#" + in.Tag
}

// Reads lists what the step reads: its Inputs, or its one Input; nil for a
// source.
func (s *Step) Reads() []StepInput {
	if len(s.Inputs) > 0 {
		return s.Inputs
	}
	if s.Input == "" {
		return nil
	}
	return []StepInput{{ID: s.Input, Tag: s.InputTag}}
}

// MultiInput reports whether the step's kind reads several inputs.
func (k Kind) MultiInput() bool { return k == KindUnion || k == KindJoin || k == KindCoProcess }

// EffectiveParallelism is the number of subtasks of the step in a job whose default
// parallelism is jobParallelism.
func (s *Step) EffectiveParallelism(jobParallelism int) int {
	if s.Parallelism > 0 {
		return s.Parallelism
	}
	return jobParallelism
}

// FunctionKind is the kind of UDF the step runs, as a module describes it
// (sdk/ABI.md §2): "key_selector" for a key_by step, the step's kind otherwise.
func (s *Step) FunctionKind() string {
	switch s.Kind {
	case KindKeyBy:
		return "key_selector"
	case KindWindow:
		if s.WindowFunction == KindProcess {
			return "window_process"
		}
		return string(s.WindowFunction)
	}
	return string(s.Kind)
}

// StepFunction is one user function of a step: where the spec names it and the
// kind its module must declare for it.
type StepFunction struct {
	Ref   *UDFRef
	Kind  string
	Field string // the step's key naming it: "map", "aggregate", "process", ...
}

// Functions lists the user functions the step runs: one, or for a window step
// with an aggregate and a process function, both.
func (s *Step) Functions() []StepFunction {
	var fns []StepFunction
	if ts := s.Timestamps; ts != nil && ts.UDF != nil {
		fns = append(fns, StepFunction{Ref: ts.UDF, Kind: "timestamp_extractor", Field: "timestamps.udf"})
	}
	if s.UDF == nil {
		if w := s.Window; w != nil && s.Kind == KindWindow {
			if w.Trigger != nil && w.Trigger.UDF != nil {
				fns = append(fns, StepFunction{Ref: w.Trigger.UDF, Kind: "trigger", Field: "window.trigger"})
			}
			if w.Evictor != nil && w.Evictor.UDF != nil {
				fns = append(fns, StepFunction{Ref: w.Evictor.UDF, Kind: "evictor", Field: "window.evictor"})
			}
		}
		return fns
	}
	field := string(s.Kind)
	if s.Kind == KindWindow {
		field = string(s.WindowFunction)
	}
	fns = append(fns, StepFunction{Ref: s.UDF, Kind: s.FunctionKind(), Field: field})
	if s.WindowProcess != nil {
		fns = append(fns, StepFunction{Ref: s.WindowProcess, Kind: "window_process", Field: string(KindProcess)})
	}
	if w := s.Window; w != nil {
		if w.Trigger != nil && w.Trigger.UDF != nil {
			fns = append(fns, StepFunction{Ref: w.Trigger.UDF, Kind: "trigger", Field: "window.trigger"})
		}
		if w.Evictor != nil && w.Evictor.UDF != nil {
			fns = append(fns, StepFunction{Ref: w.Evictor.UDF, Kind: "evictor", Field: "window.evictor"})
		}
	}
	return fns
}

// RunsUDF reports whether the step runs a user function, and so takes config and
// limits.
func (s *Step) RunsUDF() bool {
	return udfKinds[s.Kind] || s.Kind == KindKeyBy && s.KeyBy == nil || s.Kind == KindWindow && s.UDF != nil ||
		s.Timestamps != nil && s.Timestamps.UDF != nil || s.Window != nil && s.Window.customFunctions()
}

// customFunctions reports whether the window has a trigger or evictor function.
func (w *Window) customFunctions() bool {
	return w.Trigger != nil && w.Trigger.UDF != nil || w.Evictor != nil && w.Evictor.UDF != nil
}

// Timestamps assigns event time to a source's records and generates its
// watermarks (DESIGN §5), after Flink's WatermarkStrategy.
type Timestamps struct {
	// JSONField is a top-level member of the payload holding an integer number
	// of milliseconds since the Unix epoch or an RFC 3339 string.
	JSONField string `json:"json_field,omitempty"`
	// Ingestion assigns the time the source reads the record.
	Ingestion bool `json:"ingestion,omitempty"`
	// UDF is a timestamp_extractor function that gives each record its time
	// (sdk/ABI.md §4).
	UDF *UDFRef `json:"udf,omitempty"`
	// Punctuated takes the watermark from the punctuations the UDF emits
	// instead of from the timestamps and a bound.
	Punctuated bool `json:"punctuated,omitempty"`
	// MaxOutOfOrderness bounds how late a record may come behind the largest
	// timestamp seen: the watermark is that timestamp less the bound, less 1 ms.
	// 0 is for ascending timestamps. At most 24h.
	MaxOutOfOrderness time.Duration `json:"max_out_of_orderness,omitempty"`
	// IdleTimeout marks a source partition idle after that long without
	// records, so that it stops holding event time back; 0 never. At most 24h.
	IdleTimeout time.Duration `json:"idle_timeout,omitempty"`
}

// WindowTime is the clock a window follows.
type WindowTime string

// Window clocks.
const (
	EventTime      WindowTime = "event"
	ProcessingTime WindowTime = "processing"
)

// Window assigns records to windows: exactly one of Tumbling, Sliding,
// Session, Count and Global is set.
type Window struct {
	// Tumbling is the size of back-to-back windows starting at multiples of it
	// from the epoch. Whole milliseconds, 1ms to 8760h.
	Tumbling time.Duration `json:"tumbling,omitempty"`
	// Sliding windows overlap: one of Size every Slide.
	Sliding *SlidingWindow `json:"sliding,omitempty"`
	// Session windows are per key and end after a gap without records.
	Session *SessionWindow `json:"session,omitempty"`
	// Count windows hold a number of records per key: tumbling (Slide 0) or
	// sliding.
	Count *CountWindow `json:"count,omitempty"`
	// Global is one window per key that never ends; its Trigger fires it.
	Global bool `json:"global,omitempty"`
	// Trigger says when the window fires, replacing its default (the end of a
	// time window; every Size records of a count window). Required for a
	// global window.
	Trigger *Trigger `json:"trigger,omitempty"`
	// Evictor removes records from a window before its function runs.
	Evictor *Evictor `json:"evictor,omitempty"`
	// Time is event (default) or processing.
	Time WindowTime `json:"time"`
	// AllowedLateness keeps a fired window that long in event time: a record
	// for it within that time updates it and re-emits its result. Whole
	// milliseconds, 0 (default) to 8760h; event time only.
	AllowedLateness time.Duration `json:"allowed_lateness,omitempty"`
	// LateOutput names the side output that records later than that go to,
	// read as `input: <step>#<name>`; "" drops them (they are counted either
	// way). 1 to 64 of A-Z a-z 0-9 . _ -; event time only.
	LateOutput string `json:"late_output,omitempty"`
}

// SlidingWindow is a window of Size every Slide; windows start at multiples of
// Slide. Both are whole milliseconds, 1ms to 8760h; Slide is at most Size.
type SlidingWindow struct {
	Size  time.Duration `json:"size"`
	Slide time.Duration `json:"slide"`
}

// CountWindow fires every Slide records of a key with its last Size records;
// Slide 0 (tumbling) fires every Size records with those records and clears
// them. 1 to 2^31-1; Slide at most Size.
type CountWindow struct {
	Size  int64 `json:"size"`
	Slide int64 `json:"slide,omitempty"`
}

// TriggerKind names a built-in trigger or a trigger function.
type TriggerKind string

// Triggers, after Flink's.
const (
	TriggerEventTime                TriggerKind = "event_time"
	TriggerProcessingTime           TriggerKind = "processing_time"
	TriggerCount                    TriggerKind = "count"
	TriggerContinuousEventTime      TriggerKind = "continuous_event_time"
	TriggerContinuousProcessingTime TriggerKind = "continuous_processing_time"
	TriggerUDF                      TriggerKind = "udf"
)

// Trigger decides when a window fires.
type Trigger struct {
	Kind TriggerKind `json:"kind"`
	// Count is the records per firing of a count trigger, at least 1.
	Count int64 `json:"count,omitempty"`
	// Interval is the period of a continuous trigger: whole ms, 1ms to 8760h.
	Interval time.Duration `json:"interval,omitempty"`
	// UDF is a trigger function (sdk/ABI.md §4.9).
	UDF *UDFRef `json:"udf,omitempty"`
	// Purging clears the window's contents each time it fires (Flink's
	// PurgingTrigger); a trigger function purges by its own answers.
	Purging bool `json:"purging,omitempty"`
}

// Evictor removes records from a window before its function sees them:
// exactly one of Count, Time and UDF is set.
type Evictor struct {
	// Count keeps the last Count records, at least 1.
	Count int64 `json:"count,omitempty"`
	// Time keeps the records within Time of the window's newest one.
	Time time.Duration `json:"time,omitempty"`
	// UDF is an evictor function (sdk/ABI.md §4.10).
	UDF *UDFRef `json:"udf,omitempty"`
}

// JoinType is how a join pairs records.
type JoinType string

// Join types.
const (
	// IntervalJoin pairs a left record at t with the right records of its key
	// in [t+LowerBound, t+UpperBound].
	IntervalJoin JoinType = "interval"
	// WindowJoin pairs the records of a key that fall in one window.
	WindowJoin JoinType = "window"
)

// Outer says which unmatched records a join emits.
type Outer string

// Outer joins; "" is an inner join.
const (
	OuterLeft  Outer = "left"
	OuterRight Outer = "right"
	OuterFull  Outer = "full"
)

// Join joins the two keyed inputs of a join step by key and event time.
type Join struct {
	Type JoinType `json:"type"`
	// LowerBound and UpperBound bound an interval join: whole ms, each within
	// ±8760h, LowerBound at most UpperBound; both inclusive.
	LowerBound time.Duration `json:"lower_bound,omitempty"`
	UpperBound time.Duration `json:"upper_bound,omitempty"`
	// Outer makes an interval join outer: a record that met no partner by the
	// time the watermark passes its bound is emitted with null for the other
	// side. "" is inner; window joins are inner.
	Outer Outer `json:"outer,omitempty"`
	// Window is a window join's window: tumbling, sliding or session, in event
	// time.
	Window *Window `json:"window,omitempty"`
}

// SessionWindow closes after Gap without records of its key: a session spans
// its first record's timestamp to its last one's plus Gap, so records exactly
// Gap apart share one. Gap is whole milliseconds, 1ms to 8760h.
type SessionWindow struct {
	Gap time.Duration `json:"gap"`
}

// Aggregate is a window's built-in aggregate.
type Aggregate struct {
	// Builtin is count, sum, min, max or avg.
	Builtin string `json:"builtin,omitempty"`
	// Field is the JSON member sum, min, max and avg read; count takes none.
	Field string `json:"field,omitempty"`
}

// Builtin aggregates.
var builtinAggregates = []string{"count", "sum", "min", "max", "avg"}

// KeyBy keys records by a top-level member of their JSON payload: the key bytes
// are the member's value as canonical JSON text (DESIGN §5; docs/job-spec.md
// says exactly what the text is).
type KeyBy struct {
	// JSONField is the member's name, taken literally (a dot is part of the name,
	// not a path): 1 to 256 bytes of UTF-8. Required.
	JSONField string `json:"json_field"`
}

// JetStreamSource reads the messages of a JetStream stream.
type JetStreamSource struct {
	// Stream is the stream's name. Required.
	Stream string `json:"stream"`
	// Subjects filters the stream's subjects (wildcards allowed); nil reads every
	// subject.
	Subjects []string `json:"subjects,omitempty"`
	// Start is where the first run starts reading. Default earliest.
	Start StartPosition `json:"start"`
	// Partitions, when set, says the stream's subjects carry a partition number, so
	// that several source subtasks can read it in parallel.
	Partitions *SourcePartitions `json:"partitions,omitempty"`
}

// SourcePartitions says which token of a source's subjects carries the partition
// number, 0..Count-1. Every subject filter has a `*` at that token; partition p
// of a filter is the filter with p in place of that `*`.
type SourcePartitions struct {
	Count int `json:"count"`
	// Token is the 1-based index of the subject token holding the partition.
	Token int `json:"token"`
}

// PartitionPosition is the name under which the progress of partition p of the
// source step id is kept.
func PartitionPosition(id string, p int) string { return id + "[" + strconv.Itoa(p) + "]" }

// PartitionFilters returns the subject filters of partition p.
func (s *JetStreamSource) PartitionFilters(p int) []string {
	out := make([]string, len(s.Subjects))
	for i, subj := range s.Subjects {
		toks := strings.Split(subj, ".")
		toks[s.Partitions.Token-1] = strconv.Itoa(p)
		out[i] = strings.Join(toks, ".")
	}
	return out
}

// StartPosition is where a source starts reading.
type StartPosition struct {
	Kind     StartKind `json:"kind"`
	Sequence uint64    `json:"sequence,omitempty"` // for StartSequence, at least 1
	Time     time.Time `json:"time,omitzero"`      // for StartTime
}

// UDFRef names a user function in an uploaded Wasm module.
type UDFRef struct {
	// Module is the module's name.
	Module string `json:"module"`
	// Digest is the hex sha256 the spec pins the module to (without the "sha256:"
	// prefix), or "" for the module's latest upload, which the control plane pins
	// at submit.
	Digest string `json:"digest,omitempty"`
	// Function is the function's name within the module.
	Function string `json:"function"`
}

// ModuleRef renders the module as the spec writes it: "name", or
// "name@sha256:<hex>" when pinned.
func (u UDFRef) ModuleRef() string {
	if u.Digest == "" {
		return u.Module
	}
	return u.Module + "@sha256:" + u.Digest
}

// JetStreamSink publishes every record's payload to a subject.
type JetStreamSink struct {
	// Subject is the subject published to: a NATS subject without wildcards.
	Subject string `json:"subject"`
	// Delivery is the sink's guarantee. Default at_least_once.
	Delivery Delivery `json:"delivery"`
}

// Defaults fills every field left at its zero value that has a default: the job's
// parallelism, max parallelism, limits and restart strategy; each step's id, input
// (the step before it), slot-sharing group, limits (from the job's), source start and
// sink delivery. BufferTimeout and Chain are left alone because their zero values
// mean something; Parse sets them when the spec leaves them out. Defaults is
// idempotent.
func (j *Job) Defaults() {
	if j.Parallelism == 0 {
		j.Parallelism = DefaultParallelism
	}
	if j.MaxParallelism == 0 {
		j.MaxParallelism = DefaultMaxParallelism
	}
	if j.Limits.Memory == 0 {
		j.Limits.Memory = DefaultMemory
	}
	if j.Limits.CallTimeout == 0 {
		j.Limits.CallTimeout = DefaultCallTimeout
	}
	if j.Checkpointing != nil && j.Restart.Strategy == "" {
		j.Restart = Restart{Strategy: RestartFixedDelay, Attempts: math.MaxInt32, Delay: DefaultRestartDelay}
	}
	j.Restart.defaults()
	if c := j.Checkpointing; c != nil {
		if c.Mode == "" {
			c.Mode = ExactlyOnce
		}
		if c.Timeout == 0 {
			c.Timeout = DefaultCheckpointTimeout
		}
		if c.MaxConcurrent == 0 {
			c.MaxConcurrent = DefaultMaxConcurrent
		}
		if c.Retain == 0 {
			c.Retain = DefaultRetain
		}
	}
	for i := range j.Steps {
		s := &j.Steps[i]
		if s.ID == "" {
			s.ID = defaultID(s.Kind, i)
		}
		if s.SlotSharingGroup == "" {
			s.SlotSharingGroup = DefaultSlotSharingGroup
		}
		if s.Limits.Memory == 0 {
			s.Limits.Memory = j.Limits.Memory
		}
		if s.Limits.CallTimeout == 0 {
			s.Limits.CallTimeout = j.Limits.CallTimeout
		}
		if s.Source != nil && s.Source.Start.Kind == "" {
			s.Source.Start.Kind = StartEarliest
		}
		if s.Sink != nil && s.Sink.Delivery == "" {
			s.Sink.Delivery = DeliveryAtLeastOnce
		}
		if s.Window != nil && s.Window.Time == "" {
			s.Window.Time = EventTime
		}
	}
	// Inputs after ids, so that a default input names the default id.
	for i := 1; i < len(j.Steps); i++ {
		if s := &j.Steps[i]; s.Input == "" && s.Kind != KindSource && !s.Kind.MultiInput() {
			s.Input = j.Steps[i-1].ID
		}
	}
	// A window that does not read a key_by sees every record (Flink's
	// windowAll): it runs as one subtask.
	for i := range j.Steps {
		if s := &j.Steps[i]; s.Kind == KindWindow && s.Parallelism == 0 && !j.readsKeyBy(s) {
			s.Parallelism = 1
		}
	}
}

// readsKeyBy reports whether step s reads a key_by step's output.
func (j *Job) readsKeyBy(s *Step) bool {
	if s.InputTag != "" {
		return false
	}
	for k := range j.Steps {
		if j.Steps[k].ID == s.Input {
			return j.Steps[k].Kind == KindKeyBy
		}
	}
	return false
}

// defaults fills the zero parameters of the chosen strategy that have a default.
func (r *Restart) defaults() {
	fill := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	switch r.Strategy {
	case "":
		r.Strategy = RestartNone
	case RestartFixedDelay:
		if r.Attempts == 0 {
			r.Attempts = DefaultRestartAttempts
		}
	case RestartExponentialDelay:
		fill(&r.Initial, DefaultBackoffInitial)
		fill(&r.Max, max(DefaultBackoffMax, r.Initial))
		fill(&r.ResetAfter, DefaultBackoffResetAfter)
		if r.Multiplier == 0 {
			r.Multiplier = DefaultBackoffMultiplier
		}
	case RestartFailureRate:
		if r.MaxFailures == 0 {
			r.MaxFailures = DefaultMaxFailures
		}
		fill(&r.Interval, DefaultFailureRateInterval)
	}
}

func defaultID(k Kind, index int) string {
	return fmt.Sprintf("%s-%d", k, index)
}

// StepError builds the error for a problem found in step i after parsing (for
// example when the control plane finds that a module lacks the named function).
// field is relative to the step, in the spec's path syntax ("map.function"); the
// position is the step's.
func (j *Job) StepError(i int, field, msg string) *Error {
	e := &Error{Msg: msg, Field: stepField(i, field)}
	if i >= 0 && i < len(j.Steps) {
		e.Line, e.Column = j.Steps[i].Line, j.Steps[i].Column
	}
	return e
}
