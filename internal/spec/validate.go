package spec

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Validate checks that Weir can run the job as it stands: every value well formed
// and in range, every capability it uses built, and a pipeline that starts with a
// source, whose every step reads an earlier step that has output, and whose every
// output reaches a sink. Call it after Defaults; Parse does both. It returns the
// first problem by position as a *Error, or nil. Validate is for a Job built or
// changed in code (a rescale, a job read back from storage); it does not modify the
// job.
func (j *Job) Validate() error { return first(j.validate(nil)) }

// validate returns every problem, sorted, using the positions Parse recorded (nil
// when there are none).
func (j *Job) validate(pos map[string]position) []*Error {
	v := &validator{j: j, pos: pos}
	v.job()
	for i := range j.Steps {
		v.step(i)
	}
	v.graph()
	sortErrors(v.errs)
	return v.errs
}

type validator struct {
	j    *Job
	pos  map[string]position
	errs []*Error
}

func (v *validator) errorf(field, format string, args ...any) *Error {
	e := &Error{Msg: fmt.Sprintf(format, args...), Field: field}
	e.Line, e.Column = v.at(field)
	v.errs = append(v.errs, e)
	return e
}

func (v *validator) unsupported(field, format string, args ...any) {
	v.errorf(field, format, args...).Unsupported = true
}

func (v *validator) check(field, msg string) {
	if msg != "" {
		v.errorf(field, "%s", msg)
	}
}

// at finds the position of field: its own, or the nearest enclosing one recorded,
// or the step's.
func (v *validator) at(field string) (line, column int) {
	for f := field; ; f = parentField(f) {
		if p, ok := v.pos[f]; ok {
			return p.line, p.column
		}
		if f == "" {
			break
		}
	}
	if i, ok := stepIndex(field); ok && i < len(v.j.Steps) {
		return v.j.Steps[i].Line, v.j.Steps[i].Column
	}
	return 0, 0
}

// explicit reports whether the spec gave field, rather than Defaults; without
// positions, everything counts as given.
func (v *validator) explicit(field string) bool {
	_, ok := v.pos[field]
	return ok || v.pos == nil
}

// stepIndex returns i when field is within "pipeline[i]".
func stepIndex(field string) (int, bool) {
	rest, ok := strings.CutPrefix(field, "pipeline[")
	if !ok {
		return 0, false
	}
	num, _, ok := strings.Cut(rest, "]")
	if !ok {
		return 0, false
	}
	i, err := strconv.Atoi(num)
	return i, err == nil && i >= 0
}

func (v *validator) job() {
	j := v.j
	v.check("name", checkName("name", j.Name, 128))
	v.check("max_parallelism", checkIntRange(int64(j.MaxParallelism), 1, MaxParallelismLimit))
	if j.Parallelism < 1 || j.Parallelism > j.MaxParallelism {
		v.errorf("parallelism", "must be between 1 and max_parallelism (%d), got %d", j.MaxParallelism, j.Parallelism)
	}
	v.check("buffer_timeout", checkBufferTimeout(j.BufferTimeout))
	v.limits("limits", j.Limits)
	v.restart(j.Restart)
	if c := j.Checkpointing; c != nil {
		v.checkpointing(c)
	}
	if j.FromSavepoint != "" {
		v.check("from_savepoint", checkSavepointID(j.FromSavepoint))
	}
	if j.AllowNonRestoredState && j.FromSavepoint == "" {
		v.errorf("allow_non_restored_state", "only means something with from_savepoint")
	}
	if len(j.Steps) == 0 {
		v.errorf("pipeline", "needs at least one step: a source, then a sink")
	}
}

func (v *validator) checkpointing(c *Checkpointing) {
	v.check("checkpointing.interval", checkCheckpointInterval(c.Interval))
	if !slices.Contains(modes, c.Mode) {
		v.errorf("checkpointing.mode", "unknown mode %s; use %s", quote(string(c.Mode)), orList(enumStrings(modes)))
	}
	v.check("checkpointing.timeout", checkDurationRange(c.Timeout, minCheckpointInterval, 24*time.Hour))
	v.check("checkpointing.min_pause", checkDurationRange(c.MinPause, 0, 24*time.Hour))
	v.check("checkpointing.max_concurrent", checkIntRange(int64(c.MaxConcurrent), 1, 100))
	v.check("checkpointing.tolerable_failures", checkIntRange(int64(c.TolerableFailures), 0, math.MaxInt32))
	v.check("checkpointing.retain", checkIntRange(int64(c.Retain), 1, 100))
}

func (v *validator) restart(r Restart) {
	switch s := r.Strategy; {
	case !slices.Contains(strategies, s):
		v.errorf("restart.strategy", "unknown strategy %s; use %s", quote(string(s)), orList(enumStrings(strategies)))
		return
	case !supported(s):
		v.unsupported("restart.strategy", "strategy %s is not supported yet", quote(string(s)))
		return
	}
	params := restartParams[r.Strategy]
	values := []struct {
		name string
		set  bool
		msg  func() string
	}{
		{"attempts", r.Attempts != 0, func() string { return checkIntRange(int64(r.Attempts), 1, math.MaxInt32) }},
		{"delay", r.Delay != 0, func() string { return checkRestartDuration("delay", r.Delay) }},
		{"initial", r.Initial != 0, func() string { return checkRestartDuration("initial", r.Initial) }},
		{"max", r.Max != 0, func() string { return checkRestartDuration("max", r.Max) }},
		{"multiplier", r.Multiplier != 0, func() string { return checkMultiplier(r.Multiplier) }},
		{"reset_after", r.ResetAfter != 0, func() string { return checkRestartDuration("reset_after", r.ResetAfter) }},
		{"max_failures", r.MaxFailures != 0, func() string { return checkIntRange(int64(r.MaxFailures), 1, math.MaxInt32) }},
		{"interval", r.Interval != 0, func() string { return checkRestartDuration("interval", r.Interval) }},
	}
	for _, p := range values {
		switch uses := slices.Contains(params, p.name); {
		case !uses && p.set:
			v.errorf("restart."+p.name, "not used by strategy %s", quote(string(r.Strategy)))
		case uses && (p.set || p.name != "delay"):
			v.check("restart."+p.name, p.msg())
		}
	}
	if r.Strategy == RestartExponentialDelay && r.Max < r.Initial {
		v.errorf("restart.max", "must be at least initial (%v), got %v", r.Initial, r.Max)
	}
}

func (v *validator) limits(field string, l Limits) {
	v.check(field+".memory", checkMemory(l.Memory))
	v.check(field+".call_timeout", checkCallTimeout(l.CallTimeout))
}

// payloads names the payload each supported kind needs, by field of Step.
var payloads = []struct {
	name  string
	kinds map[Kind]bool
	set   func(*Step) bool
}{
	{"source", map[Kind]bool{KindSource: true}, func(s *Step) bool { return s.Source != nil }},
	{"udf", udfKinds, func(s *Step) bool { return s.UDF != nil }},
	{"key_by", map[Kind]bool{KindKeyBy: true}, func(s *Step) bool { return s.KeyBy != nil || s.Kind == KindKeyBy && s.UDF != nil }},
	{"partition", map[Kind]bool{KindPartition: true}, func(s *Step) bool { return s.Partition != "" }},
	{"sink", map[Kind]bool{KindSink: true}, func(s *Step) bool { return s.Sink != nil }},
	{"window", map[Kind]bool{KindWindow: true}, func(s *Step) bool { return s.Window != nil }},
	{"join", map[Kind]bool{KindJoin: true}, func(s *Step) bool { return s.Join != nil }},
}

// step checks step i on its own.
func (v *validator) step(i int) {
	j, s := v.j, &v.j.Steps[i]
	v.check(stepField(i, "id"), checkStepID(s.ID))
	switch {
	case s.Kind == "":
		v.errorf(stepField(i, ""), "a step needs a kind: one of %s", orList(enumStrings(kindKeys)))
		return
	case !slices.Contains(kindKeys, s.Kind):
		v.errorf(stepField(i, "kind"), "unknown kind %s; use %s", quote(string(s.Kind)), orList(enumStrings(kindKeys)))
		return
	case s.Kind == KindAggregate:
		v.errorf(stepField(i, "aggregate"), "aggregate needs a window in the same step, e.g. window: {tumbling: 10s}")
		return
	case !supportedKinds[s.Kind]:
		v.unsupported(stepField(i, string(s.Kind)), "not supported yet")
		return
	}
	for _, p := range payloads {
		if p.name == "udf" && (s.Kind == KindKeyBy || s.Kind == KindWindow) {
			continue // a key_by step has a UDF or a key_by field, a window one or a built-in aggregate
		}
		switch set := p.set(s); {
		case set && !p.kinds[s.Kind]:
			v.errorf(stepField(i, ""), "a %s step has no %s", s.Kind, p.name)
		case !set && p.kinds[s.Kind]:
			v.errorf(stepField(i, string(s.Kind)), "required")
		}
	}

	if s.Parallelism < 0 || s.Parallelism > j.MaxParallelism {
		v.errorf(stepField(i, "parallelism"), "must be between 1 and max_parallelism (%d), got %d", j.MaxParallelism, s.Parallelism)
	}
	v.check(stepField(i, "slot_sharing_group"), checkName("slot-sharing group", s.SlotSharingGroup, 128))
	v.limits(stepField(i, "limits"), s.Limits)
	if s.Kind == KindKeyBy {
		if s.KeyBy != nil && s.UDF != nil {
			v.errorf(stepField(i, "key_by"), "json_field and module exclude each other: key by a JSON field or by a key_selector function, not both")
		}
		if s.KeyBy != nil {
			v.check(stepField(i, "key_by.json_field"), checkJSONField(s.KeyBy.JSONField))
		}
		if s.Parallelism != 0 {
			v.errorf(stepField(i, "parallelism"), ownSubtasks[KindKeyBy], "parallelism")
		}
	}
	if s.Config != nil {
		switch {
		case !s.RunsUDF():
			v.errorf(stepField(i, "config"), "a %s step runs no UDF, so it takes no config", s.Kind)
		case len(s.Config) > maxConfigSize:
			v.errorf(stepField(i, "config"), "larger than %s as JSON", formatSize(maxConfigSize))
		case !json.Valid(s.Config):
			v.errorf(stepField(i, "config"), "not valid JSON")
		}
	}

	if src := s.Source; src != nil && s.Kind == KindSource {
		f := stepField(i, "source.jetstream")
		v.check(f+".stream", checkStream(src.Stream))
		for k, sub := range src.Subjects {
			field := fmt.Sprintf("%s.subjects[%d]", f, k)
			v.check(field, checkSubject(sub, true))
			if slices.Contains(src.Subjects[:k], sub) {
				v.errorf(field, "duplicate subject %s", quote(sub))
			}
		}
		switch st := src.Start; st.Kind {
		case StartEarliest, StartLatest:
		case StartSequence:
			if st.Sequence == 0 {
				v.errorf(f+".start.sequence", "must be at least 1")
			}
		case StartTime:
			if st.Time.IsZero() {
				v.errorf(f+".start.time", "required")
			}
		default:
			v.errorf(f+".start", "unknown start %s; use earliest, latest, sequence or time", quote(string(st.Kind)))
		}
	}
	if s.RunsUDF() {
		for _, fn := range s.Functions() {
			u, f := fn.Ref, stepField(i, fn.Field)
			v.check(f+".module", checkName("module name", u.Module, 128))
			if u.Digest != "" {
				v.check(f+".module", checkDigest(u.Digest))
			}
			v.check(f+".function", checkFunction(u.Function))
		}
	}
	if s.Kind == KindPartition && s.Partition != "" {
		switch p := s.Partition; {
		case !slices.Contains(partitionings, p):
			v.errorf(stepField(i, "partition"), "unknown partitioning %s; use %s", quote(string(p)), orList(enumStrings(partitionings)))
		case !supported(p):
			v.unsupported(stepField(i, "partition"), "partitioning %s is not supported yet", quote(string(p)))
		}
	}
	if s.Timestamps != nil {
		v.timestamps(i, s)
	}
	if w := s.Window; w != nil && s.Kind == KindWindow {
		v.window(i, s)
	}
	if s.Join != nil && s.Kind == KindJoin {
		v.join(i, s.Join)
	}
	if k := s.Sink; k != nil && s.Kind == KindSink {
		v.check(stepField(i, "sink.jetstream.subject"), checkSubject(k.Subject, false))
		switch dl := k.Delivery; {
		case !slices.Contains(deliveries, dl):
			v.errorf(stepField(i, "sink.delivery"), "unknown delivery %s; use %s", quote(string(dl)), orList(enumStrings(deliveries)))
		case !supported(dl):
			v.unsupported(stepField(i, "sink.delivery"), "delivery %s is not supported yet", quote(string(dl)))
		case dl == DeliveryExactlyOnce && j.Checkpointing == nil:
			v.errorf(stepField(i, "sink.delivery"), "delivery %s needs checkpointing: records are published when the checkpoint that covers them completes; add checkpointing: {interval: 1s}", quote(string(dl)))
		}
	}
}

// timestamps checks step i's timestamps rule.
func (v *validator) timestamps(i int, s *Step) {
	f := stepField(i, "timestamps")
	ts := s.Timestamps
	if s.Kind != KindSource {
		v.errorf(f, "only a source step assigns timestamps; move timestamps to the source this step reads")
		return
	}
	rules := 0
	for _, set := range []bool{ts.JSONField != "", ts.Ingestion, ts.UDF != nil} {
		if set {
			rules++
		}
	}
	switch {
	case rules == 0:
		v.errorf(f, "needs a rule: json_field (a member holding ms since the epoch or an RFC 3339 time), or ingestion: true")
	case rules > 1:
		v.errorf(f, "json_field, ingestion and udf exclude each other: give one")
	case ts.JSONField != "":
		v.check(f+".json_field", checkJSONField(ts.JSONField))
	}
	v.check(f+".max_out_of_orderness", checkDurationRange(ts.MaxOutOfOrderness, 0, 24*time.Hour))
	v.check(f+".idle_timeout", checkDurationRange(ts.IdleTimeout, 0, 24*time.Hour))
	if ts.Ingestion && ts.MaxOutOfOrderness != 0 {
		v.errorf(f+".max_out_of_orderness", "ingestion timestamps are never out of order: leave max_out_of_orderness out")
	}
	switch {
	case ts.Punctuated && ts.UDF == nil:
		v.errorf(f+".punctuated", "punctuations come from a timestamp_extractor function: give udf: {module, function}")
	case ts.Punctuated && ts.MaxOutOfOrderness != 0:
		v.errorf(f+".max_out_of_orderness", "a punctuated watermark comes from the function's punctuations, not from a bound: leave max_out_of_orderness out")
	}
}

// window checks step i's window and its function.
func (v *validator) window(i int, s *Step) {
	f := stepField(i, "window")
	w := s.Window
	kinds := 0
	for _, set := range []bool{w.Tumbling != 0, w.Sliding != nil, w.Session != nil, w.Count != nil, w.Global} {
		if set {
			kinds++
		}
	}
	if kinds != 1 {
		v.errorf(f, "needs exactly one of tumbling, sliding, session, count and global, got %d", kinds)
	}
	v.timeWindow(f, w)
	if w.Count != nil || w.Global {
		v.countWindow(f, w)
		v.windowFunction(i, s)
		return
	}
	v.trigger(f, w)
	switch w.Time {
	case EventTime:
		if w.AllowedLateness < 0 || w.AllowedLateness > 365*24*time.Hour || w.AllowedLateness%time.Millisecond != 0 {
			v.errorf(f+".allowed_lateness", "must be whole milliseconds between 0 and 8760h, got %v", w.AllowedLateness)
		}
	case ProcessingTime:
		if w.AllowedLateness != 0 {
			v.errorf(f+".allowed_lateness", "only event-time windows have late records; drop allowed_lateness or use time: event")
		}
		if w.LateOutput != "" {
			v.errorf(f+".late_output", "only event-time windows have late records; drop late_output or use time: event")
		}
	default:
		v.errorf(f+".time", "unknown time %s; use %s or %s", quote(string(w.Time)), quote(string(EventTime)), quote(string(ProcessingTime)))
	}
	if w.LateOutput != "" {
		v.check(f+".late_output", checkName("side output", w.LateOutput, 64))
	}
	v.windowFunction(i, s)
}

// windowSize checks one size of a time window.
func (v *validator) windowSize(field string, d time.Duration) {
	switch {
	case d < time.Millisecond || d > 365*24*time.Hour:
		v.errorf(field, "must be between 1ms and 8760h, got %v", d)
	case d%time.Millisecond != 0:
		v.errorf(field, "must be whole milliseconds, got %v", d)
	}
}

// timeWindow checks the sizes of a tumbling, sliding or session window.
func (v *validator) timeWindow(f string, w *Window) {
	switch {
	case w.Tumbling != 0:
		v.windowSize(f+".tumbling", w.Tumbling)
	case w.Sliding != nil:
		v.windowSize(f+".sliding.size", w.Sliding.Size)
		v.windowSize(f+".sliding.slide", w.Sliding.Slide)
		if w.Sliding.Slide > w.Sliding.Size {
			v.errorf(f+".sliding.slide", "must be at most size (%v), got %v", w.Sliding.Size, w.Sliding.Slide)
		}
	case w.Session != nil:
		v.windowSize(f+".session.gap", w.Session.Gap)
	}
}

// countWindow checks a count or global window: a count window brings its
// own trigger and evictor, a global one needs a trigger, and neither has late
// records.
func (v *validator) countWindow(f string, w *Window) {
	if c := w.Count; c != nil {
		v.check(f+".count.size", checkIntRange(c.Size, 1, math.MaxInt32))
		if c.Slide != 0 {
			v.check(f+".count.slide", checkIntRange(c.Slide, 1, math.MaxInt32))
			if c.Slide > c.Size {
				v.errorf(f+".count.slide", "must be at most size (%d), got %d", c.Size, c.Slide)
			}
		}
		if w.Trigger != nil {
			v.errorf(f+".trigger", "a count window fires every size (or slide) records; for another trigger use global: {} with that trigger")
		}
		if w.Evictor != nil && c.Slide != 0 {
			v.errorf(f+".evictor", "a sliding count window keeps its last size records with an evictor of its own; for another evictor use global: {} with a count trigger")
		}
	}
	if w.Global && w.Trigger == nil {
		v.errorf(f+".trigger", "required: a global window never ends, so only a trigger fires it, e.g. trigger: {count: 100}")
	}
	if t := w.Trigger; w.Global && t != nil && (t.Kind == TriggerEventTime || t.Kind == TriggerProcessingTime) {
		v.errorf(f+".trigger", "a global window never ends, so a %s trigger never fires it; use count, continuous_event_time, continuous_processing_time or a trigger function", t.Kind)
	}
	v.trigger(f, w)
	if w.AllowedLateness != 0 {
		v.errorf(f+".allowed_lateness", "only time windows have late records; drop allowed_lateness")
	}
	if w.LateOutput != "" {
		v.errorf(f+".late_output", "only time windows have late records; drop late_output")
	}
	if w.Time == ProcessingTime {
		v.errorf(f+".time", "count and global windows follow no clock; drop time (a trigger may follow one)")
	}
}

// trigger checks a window's trigger and evictor values.
func (v *validator) trigger(f string, w *Window) {
	if t := w.Trigger; t != nil {
		switch t.Kind {
		case TriggerCount:
			v.check(f+".trigger.count", checkIntRange(t.Count, 1, math.MaxInt32))
		case TriggerContinuousEventTime, TriggerContinuousProcessingTime:
			v.windowSize(f+".trigger."+string(t.Kind), t.Interval)
		case TriggerUDF:
			if t.Purging {
				v.errorf(f+".trigger.purging", "a trigger function purges by its own answers (fire and purge); drop purging")
			}
		}
		if w.Session != nil && t.Kind == TriggerUDF {
			v.errorf(f+".trigger", "session windows merge, and a trigger function cannot follow a merge (sdk/ABI.md §4.9 has no merge event); use a built-in trigger")
		}
	}
	if e := w.Evictor; e != nil {
		switch {
		case e.Count != 0:
			v.check(f+".evictor.count", checkIntRange(e.Count, 1, math.MaxInt32))
		case e.Time != 0:
			v.windowSize(f+".evictor.time", e.Time)
		}
	}
}

// windowFunction checks a window step's built-in aggregate.
func (v *validator) windowFunction(i int, s *Step) {
	if s.WindowFunction == KindAggregate && s.Aggregate != nil {
		a := s.Aggregate
		af := stepField(i, "aggregate")
		switch {
		case !slices.Contains(builtinAggregates, a.Builtin):
			v.errorf(af+".builtin", "unknown built-in aggregate %s; use %s", quote(a.Builtin), orList(builtinAggregates))
		case a.Builtin == "count" && a.Field != "":
			v.errorf(af+".field", "count counts records and reads no field; leave field out")
		case a.Builtin != "count" && a.Field == "":
			v.errorf(af+".field", "required: the JSON member %s reads", a.Builtin)
		case a.Field != "":
			v.check(af+".field", checkJSONField(a.Field))
		}
	}
}

// join checks a join step's join.
func (v *validator) join(i int, jn *Join) {
	f := stepField(i, "join")
	bound := func(field string, d time.Duration) {
		switch {
		case d < -365*24*time.Hour || d > 365*24*time.Hour:
			v.errorf(field, "must be between -8760h and 8760h, got %v", d)
		case d%time.Millisecond != 0:
			v.errorf(field, "must be whole milliseconds, got %v", d)
		}
	}
	switch jn.Type {
	case IntervalJoin:
		bound(f+".lower_bound", jn.LowerBound)
		bound(f+".upper_bound", jn.UpperBound)
		if jn.LowerBound > jn.UpperBound {
			v.errorf(f+".upper_bound", "must be at least lower_bound (%v), got %v", jn.LowerBound, jn.UpperBound)
		}
		if jn.Window != nil {
			v.errorf(f+".window", "an interval join takes bounds, not a window; use type: window for a window join")
		}
		switch jn.Outer {
		case "", OuterLeft, OuterRight, OuterFull:
		default:
			v.errorf(f+".outer", "unknown outer join %s; use left, right or full (leave it out for an inner join)", quote(string(jn.Outer)))
		}
	case WindowJoin:
		if jn.Window == nil {
			v.errorf(f+".window", "required: a window join takes a window, e.g. window: {tumbling: 10s}")
		} else {
			kinds := 0
			for _, set := range []bool{jn.Window.Tumbling != 0, jn.Window.Sliding != nil, jn.Window.Session != nil} {
				if set {
					kinds++
				}
			}
			if kinds != 1 {
				v.errorf(f+".window", "needs exactly one of tumbling, sliding and session, got %d", kinds)
			}
			v.timeWindow(f+".window", jn.Window)
		}
		for _, k := range []struct {
			name string
			set  bool
		}{{"lower_bound", jn.LowerBound != 0}, {"upper_bound", jn.UpperBound != 0}} {
			if k.set {
				v.errorf(f+"."+k.name, "a window join pairs the records of one window and takes no bounds; use type: interval for an interval join")
			}
		}
		if jn.Outer != "" {
			v.errorf(f+".outer", "window joins are inner joins; use an interval join for an outer join")
		}
	default:
		v.errorf(f+".type", "unknown join type %s; use interval or window", quote(string(jn.Type)))
	}
}

// needsEventTime reports whether step s follows event time: a time window in
// event time or with an event-time trigger, or a join.
func (s *Step) needsEventTime() bool {
	if s.Kind == KindJoin {
		return true
	}
	w := s.Window
	if s.Kind != KindWindow || w == nil {
		return false
	}
	if t := w.Trigger; t != nil && (t.Kind == TriggerEventTime || t.Kind == TriggerContinuousEventTime) {
		return true
	}
	return w.Count == nil && !w.Global && w.Time == EventTime
}

// eventTime checks that every step following event time has timestamps on each
// source upstream of it, and that a non-keyed window runs as one subtask.
func (v *validator) eventTime(index map[string]int) {
	j := v.j
	for i := range j.Steps {
		s := &j.Steps[i]
		if s.Kind == KindWindow && s.Window != nil && !j.readsKeyBy(s) && s.Parallelism > 1 {
			v.errorf(stepField(i, "parallelism"), "a window that does not read a key_by step sees every record and runs as one subtask; key the stream first (key_by), or leave parallelism out")
		}
		if !s.needsEventTime() {
			continue
		}
		what, field := "window uses event time", stepField(i, "window")
		if s.Kind == KindJoin {
			what, field = "a join follows event time", stepField(i, "join")
		}
		seen := map[int]bool{}
		for stack := []int{i}; len(stack) > 0; {
			k := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if seen[k] {
				continue
			}
			seen[k] = true
			up := &j.Steps[k]
			if up.Kind == KindSource {
				if up.Timestamps == nil {
					hint := ", or set window.time: processing"
					if s.Kind != KindWindow || s.Window.Count != nil || s.Window.Global {
						hint = ""
					}
					v.errorf(field, "%s, but source %s assigns no timestamps: add timestamps to that source%s", what, quote(up.ID), hint)
				}
				continue
			}
			for _, r := range up.Reads() {
				if in, ok := index[r.ID]; ok && in < k {
					stack = append(stack, in)
				}
			}
		}
	}
}

// graph checks how the steps connect: ids, inputs, and where outputs go.
func (v *validator) graph() {
	j := v.j
	if len(j.Steps) == 0 {
		return
	}
	var (
		index   = map[string]int{} // id → the first step with it
		readers = make([]int, len(j.Steps))
		dup     = make([]bool, len(j.Steps))
		sources int
		sinks   int
		before  = len(v.errs)
	)
	for i := range j.Steps {
		s := &j.Steps[i]
		switch s.Kind {
		case KindSource:
			sources++
		case KindSink:
			sinks++
		}
		v.input(i, index, readers)

		idField := stepField(i, "id")
		prev, seen := index[s.ID]
		dup[i] = seen
		switch {
		case !seen:
			index[s.ID] = i
		case v.explicit(idField):
			by := ""
			if !v.explicit(stepField(prev, "id")) {
				by = " by default"
			}
			v.errorf(idField, "duplicate id %s: pipeline[%d] has it too%s", quote(s.ID), prev, by)
		default:
			v.errorf(stepField(i, ""), "its default id %s is pipeline[%d]'s already; give this step an id", quote(s.ID), prev)
		}
	}

	if len(v.errs) == 0 {
		v.eventTime(index)
	}
	switch {
	case sources == 0:
		v.errorf("pipeline", "has no source; the first step must be a source")
	case j.Steps[0].Kind != KindSource:
		v.errorf(stepField(0, ""), "the first step must be a source, not a %s", j.Steps[0].Kind)
	}
	if sinks == 0 {
		v.errorf("pipeline", "has no sink; a pipeline ends in at least one sink")
	}
	// A step whose output goes nowhere is often the consequence of a broken
	// input or id elsewhere; report it only when those are sound.
	if len(v.errs) > before {
		return
	}
	for i := range j.Steps {
		if s := &j.Steps[i]; s.Kind != KindSink && readers[i] == 0 && !dup[i] {
			v.errorf(stepField(i, ""), "its output goes nowhere: no step reads %s; add a sink or a step that reads it", quote(s.ID))
		}
	}
}

// readField is where an error about what step i reads points: its input when the
// spec gives one, else the step.
func (v *validator) readField(i int) string {
	if f := stepField(i, "input"); v.explicit(f) {
		return f
	}
	return stepField(i, "")
}

// input checks what step i reads, given the ids of the steps before it, and counts
// it as a reader of that step.
func (v *validator) input(i int, index map[string]int, readers []int) {
	s := &v.j.Steps[i]
	field := stepField(i, "input")
	switch {
	case s.Kind == KindSource:
		if s.Input != "" {
			v.errorf(field, "a source reads no input")
		}
		if len(s.Inputs) > 0 {
			v.errorf(stepField(i, "inputs"), "a source reads no input")
		}
		return
	case s.Kind.MultiInput():
		v.multiInput(i, index, readers)
		return
	case len(s.Inputs) > 0:
		v.errorf(stepField(i, "inputs"), "only union, join and co_process steps read several inputs; a %s step reads one: use input", s.Kind)
		return
	case s.Input == "":
		if i > 0 { // the first step is reported as not a source
			v.errorf(field, "required")
		}
		return
	case strings.Contains(s.Input, "#"):
		v.errorf(field, "a side output is read as <step>#<name>: give them as input and input_tag")
		return
	}
	k, ok := v.resolve(i, field, s.Input, index)
	if !ok {
		return
	}
	readers[k]++
	if !v.sideOutput(i, field, k, s.InputTag) {
		return
	}
	v.reads(i, field, k, index)
}

// resolve finds the step id that step i reads, reporting one that is not an
// earlier step.
func (v *validator) resolve(i int, field, id string, index map[string]int) (int, bool) {
	j := v.j
	k, ok := index[id]
	if ok {
		return k, true
	}
	msg := fmt.Sprintf("no step %s before this one", quote(id))
	earlier := make([]string, i)
	for m := range earlier {
		earlier[m] = j.Steps[m].ID
	}
	msg += didYouMean(id, earlier)
	for m := i; m < len(j.Steps); m++ {
		if j.Steps[m].ID == id {
			if m == i {
				msg += " (a step cannot read itself)"
			} else {
				msg += fmt.Sprintf(" (it is pipeline[%d]; a step reads only earlier steps)", m)
			}
			break
		}
	}
	v.errorf(field, "%s", msg)
	return 0, false
}

// sideOutputKinds are the kinds whose functions may declare side outputs; the
// control plane checks the name against the module when the job is submitted.
var sideOutputKinds = map[Kind]bool{KindMap: true, KindFilter: true, KindFlatMap: true, KindProcess: true, KindCoProcess: true}

// sideOutput checks the side output tag step i reads of step k; it returns
// true when step i reads k's main output, so that the checks of a main input
// follow.
func (v *validator) sideOutput(i int, field string, k int, tag string) bool {
	if tag == "" {
		return true
	}
	s, in := &v.j.Steps[i], &v.j.Steps[k]
	switch {
	case in.Window != nil && in.Window.LateOutput == tag:
	case sideOutputKinds[in.Kind]:
	default:
		declared := "declares no side output"
		if in.Window != nil && in.Window.LateOutput != "" {
			declared = fmt.Sprintf("declares only %s (its window's late_output)", quote(in.Window.LateOutput))
		}
		v.errorf(field, "step %s has no side output %s: it %s", quote(in.ID), quote(tag), declared)
		return false
	}
	// A side output is not keyed, even one of a keyed step.
	if keyedKinds[s.Kind] {
		v.errorf(field, "a %s step reads a keyed stream, but the side output %s is not keyed; put a key_by step that reads it before this step", s.Kind, quote(in.ID+"#"+tag))
	}
	return false
}

// multiInput checks the inputs of a union, join or co_process step.
func (v *validator) multiInput(i int, index map[string]int, readers []int) {
	j, s := v.j, &v.j.Steps[i]
	field := stepField(i, "inputs")
	if s.Input != "" {
		v.errorf(stepField(i, "input"), "a %s step reads inputs: [first, second]; use inputs instead of input", s.Kind)
		return
	}
	n := len(s.Inputs)
	switch {
	case n == 0:
		v.errorf(field, "required: a %s step names the steps it reads, e.g. inputs: [orders, payments]", s.Kind)
		return
	case s.Kind == KindUnion && n < 2:
		v.errorf(field, "a union reads at least two inputs, got %d", n)
		return
	case s.Kind != KindUnion && n != 2:
		v.errorf(field, "a %s step reads exactly two inputs, got %d", s.Kind, n)
		return
	}
	for x, in := range s.Inputs {
		f := fmt.Sprintf("%s[%d]", field, x)
		for y := range x {
			if s.Inputs[y] == in {
				v.errorf(f, "reads %s twice", quote(in.String()))
			}
		}
		k, ok := v.resolve(i, f, in.ID, index)
		if !ok {
			continue
		}
		readers[k]++
		up := &j.Steps[k]
		if up.Kind == KindSink {
			v.errorf(f, "%s is a sink, which has no output", quote(up.ID))
			continue
		}
		main := v.sideOutput(i, f, k, in.Tag)
		keyed := main && up.Kind == KindKeyBy
		broadcast := main && up.Kind == KindPartition && up.Partition == PartitionBroadcast
		switch {
		case s.Kind == KindJoin && !keyed:
			v.errorf(f, "a join pairs records by key, but %s is not a key_by step; put a key_by step before the join for this input", quote(in.String()))
		case s.Kind == KindCoProcess && x == 0 && !keyed:
			v.errorf(f, "a co_process step's first input is keyed: put a key_by step before it for %s", quote(in.String()))
		case s.Kind == KindCoProcess && x == 1 && !keyed && !broadcast:
			v.errorf(f, "a co_process step's second input is keyed (a key_by step) or broadcast (a partition: broadcast step), but %s is neither", quote(in.String()))
		case up.Kind == KindPartition && up.Partition == PartitionForward:
			v.reads(i, f, k, index)
		}
	}
}

// reads checks what step i can make of reading the main output of step k.
func (v *validator) reads(i int, field string, k int, index map[string]int) {
	j, s, in := v.j, &v.j.Steps[i], &v.j.Steps[k]
	switch {
	case in.Kind == KindSink && v.explicit(field):
		v.errorf(field, "%s is a sink, which has no output", quote(in.ID))
	case in.Kind == KindSink:
		v.errorf(stepField(i, ""), "reads the step before it, %s, which is a sink and has no output; to read another step, name it in input", quote(in.ID))
	case in.Kind == KindPartition && s.Kind == KindPartition:
		v.errorf(field, "a partition step cannot read another partition step (%s)", quote(in.ID))
	case in.Kind == KindKeyBy && (s.Kind == KindPartition || s.Kind == KindKeyBy):
		// A key_by gives the edge after it a hash partitioning: another
		// partitioning, or another key, would overrule it at once.
		v.errorf(v.readField(i), "a %s step cannot read a key_by step (%s), which sets the partitioning after it", s.Kind, quote(in.ID))
	case keyedKinds[s.Kind] && in.Kind != KindKeyBy:
		v.errorf(v.readField(i), "a %s step reads a keyed stream, but %s is a %s step; put a key_by step right before it", s.Kind, quote(in.ID), in.Kind)
	case s.Kind == KindWindow && in.Kind == KindPartition && in.Partition != PartitionGlobal:
		// A window reads a key_by (hash edge) or, non-keyed, every record in one
		// subtask (global edge); the planner would overrule the partitioning.
		v.errorf(v.readField(i), "a window that does not read a key_by step runs as one subtask reading every record (a global edge), so partition %s before it has no effect; drop the partition step (%s), or key the stream with key_by", in.Partition, quote(in.ID))
	case in.Kind == KindPartition && s.Kind == KindKeyBy:
		v.errorf(v.readField(i), "a key_by step cannot read a partition step (%s): it runs in the subtasks of the step it keys, so give the partitioning after it instead", quote(in.ID))
	case in.Kind == KindPartition && in.Partition == PartitionForward:
		// Forward sends subtask i's records to subtask i, so both sides need the
		// same parallelism, as in Flink.
		up, ok := index[in.Input]
		if !ok {
			return
		}
		pu, ps := j.Steps[up].EffectiveParallelism(j.Parallelism), s.EffectiveParallelism(j.Parallelism)
		if pu != ps {
			v.errorf(stepField(k, "partition"), "forward needs the same parallelism on both sides, but %s has %d and %s has %d",
				quote(j.Steps[up].ID), pu, quote(s.ID), ps)
		}
	}
}
