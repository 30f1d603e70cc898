package spec

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// The decoding of each part of a job spec. Every value is checked on its own here,
// where its position is known; what involves several values (parallelism against
// max_parallelism, inputs, the shape of the pipeline) is Validate's.

// job decodes the document's top-level mapping. Values the spec leaves out stay at
// their zero values for Defaults, except those whose zero value means something.
func (d *decoder) job(root *yaml.Node) *Job {
	j := &Job{BufferTimeout: DefaultBufferTimeout}
	d.record("", root)
	if r := deref(root); r.Kind != yaml.MappingNode {
		d.errorf(root, "", "a job spec is a mapping with at least name and pipeline, got %s", describe(r))
		return j
	}
	f, ok := d.fields(root, "", jobShape)
	if !ok {
		return j
	}
	if p, ok := d.require(f, "name"); ok {
		if v, ok := d.str(p.val, "name"); ok {
			d.check(p.val, "name", checkName("name", v, 128))
			j.Name = v
		}
	}
	if p, ok := f.get("parallelism"); ok {
		if v, ok := d.integer(p.val, "parallelism"); ok && d.check(p.val, "parallelism", checkIntRange(v, 1, MaxParallelismLimit)) {
			j.Parallelism = int(v)
		}
	}
	if p, ok := f.get("max_parallelism"); ok {
		if v, ok := d.integer(p.val, "max_parallelism"); ok && d.check(p.val, "max_parallelism", checkIntRange(v, 1, MaxParallelismLimit)) {
			j.MaxParallelism = int(v)
		}
	}
	if p, ok := f.get("buffer_timeout"); ok {
		if v, ok := d.duration(p.val, "buffer_timeout"); ok && d.check(p.val, "buffer_timeout", checkBufferTimeout(v)) {
			j.BufferTimeout = v
		}
	}
	if p, ok := f.get("limits"); ok {
		j.Limits = d.limits(p.val, "limits")
	}
	if p, ok := f.get("restart"); ok {
		j.Restart = d.restart(p.val)
	}
	if p, ok := f.get("checkpointing"); ok {
		j.Checkpointing = d.checkpointing(p.val)
	}
	if p, ok := f.get("from_savepoint"); ok {
		if v, ok := d.str(p.val, "from_savepoint"); ok && d.check(p.val, "from_savepoint", checkSavepointID(v)) {
			j.FromSavepoint = v
		}
	}
	if p, ok := f.get("allow_non_restored_state"); ok {
		if v, ok := d.boolean(p.val, "allow_non_restored_state"); ok {
			j.AllowNonRestoredState = v
		}
	}
	if p, ok := d.require(f, "pipeline"); ok {
		j.Steps = d.pipeline(p.val)
		d.record("pipeline", p.key)
	}
	return j
}

// check reports msg, the result of one of the check functions, unless it is "".
func (d *decoder) check(n *yaml.Node, field, msg string) bool {
	if msg != "" {
		d.errorf(n, field, "%s", msg)
		return false
	}
	return true
}

// limits decodes limits, leaving what the spec leaves out at zero.
func (d *decoder) limits(n *yaml.Node, path string) Limits {
	var l Limits
	f, ok := d.fields(n, path, limitsShape)
	if !ok {
		return l
	}
	if p, ok := f.get("memory"); ok {
		field := path + ".memory"
		if v, ok := d.size(p.val, field); ok && d.check(p.val, field, checkMemory(v)) {
			l.Memory = v
		}
	}
	if p, ok := f.get("call_timeout"); ok {
		field := path + ".call_timeout"
		if v, ok := d.duration(p.val, field); ok && d.check(p.val, field, checkCallTimeout(v)) {
			l.CallTimeout = v
		}
	}
	return l
}

func (d *decoder) restart(n *yaml.Node) Restart {
	var r Restart
	f, ok := d.fields(n, "restart", restartShape)
	if !ok {
		return r
	}
	p, ok := d.require(f, "strategy")
	if !ok {
		return r
	}
	v, ok := d.str(p.val, "restart.strategy")
	if !ok {
		return r
	}
	s := RestartStrategy(v)
	params, known := restartParams[s]
	switch {
	case !known:
		names := enumStrings(strategies)
		d.errorf(p.val, "restart.strategy", "unknown strategy %s%s; use %s", quote(v), didYouMean(v, names), orList(names))
		return r
	case !supported(s):
		d.unsupported(p.val, "restart.strategy", "strategy %s is not supported yet", quote(v))
	default:
		r.Strategy = s
	}
	for _, q := range f.pairs {
		if k := deref(q.key).Value; k != "strategy" && !slices.Contains(params, k) {
			d.errorf(q.key, "restart."+k, "not used by strategy %s", quote(v))
		}
	}
	if r.Strategy == RestartFixedDelay || r.Strategy == RestartFailureRate {
		r.Delay = DefaultRestartDelay
	}
	for _, k := range params {
		p, ok := f.get(k)
		if !ok {
			continue
		}
		field := "restart." + k
		switch k {
		case "attempts", "max_failures":
			if n, ok := d.integer(p.val, field); ok && d.check(p.val, field, checkIntRange(n, 1, math.MaxInt32)) {
				if k == "attempts" {
					r.Attempts = int(n)
				} else {
					r.MaxFailures = int(n)
				}
			}
		case "multiplier":
			if x, ok := d.float(p.val, field); ok && d.check(p.val, field, checkMultiplier(x)) {
				r.Multiplier = x
			}
		default:
			dv, ok := d.duration(p.val, field)
			if !ok || !d.check(p.val, field, checkRestartDuration(k, dv)) {
				continue
			}
			*restartDuration(&r, k) = dv
		}
	}
	return r
}

// restartDuration returns the field of r that the duration parameter k sets.
func restartDuration(r *Restart, k string) *time.Duration {
	switch k {
	case "delay":
		return &r.Delay
	case "initial":
		return &r.Initial
	case "max":
		return &r.Max
	case "reset_after":
		return &r.ResetAfter
	default: // "interval"
		return &r.Interval
	}
}

func (d *decoder) pipeline(n *yaml.Node) []Step {
	t := deref(n)
	if t.Kind != yaml.SequenceNode {
		d.errorf(n, "pipeline", "expected a list of steps, got %s", describe(t))
		return nil
	}
	steps := make([]Step, 0, len(t.Content))
	for i, item := range t.Content {
		steps = append(steps, d.step(item, i))
	}
	return steps
}

// step decodes pipeline[i].
func (d *decoder) step(n *yaml.Node, i int) Step {
	path := fmt.Sprintf("pipeline[%d]", i)
	s := Step{Chain: true, Line: n.Line, Column: n.Column}
	d.record(path, n)
	f, ok := d.fields(n, path, stepShape)
	if !ok {
		return s
	}
	s.Kind = d.kind(f, path)

	if p, ok := f.get("id"); ok {
		if v, ok := d.str(p.val, path+".id"); ok && d.check(p.val, path+".id", checkStepID(v)) {
			s.ID = v
		}
	}
	if p, ok := f.get("input"); ok {
		field := path + ".input"
		if v, ok := d.str(p.val, field); ok {
			switch {
			case v == "":
				d.errorf(p.val, field, "must name a step")
			case strings.Contains(v, "#"):
				step, tag, _ := strings.Cut(v, "#")
				if msg := checkName("side output", tag, 64); msg != "" || step == "" {
					if step == "" {
						msg = "a side output is read as <step>#<name>"
					}
					d.errorf(p.val, field, "%s", msg)
					break
				}
				s.Input, s.InputTag = step, tag
			default:
				s.Input = v
			}
		}
	}
	if p, ok := f.get("inputs"); ok {
		s.Inputs = d.inputs(p.val, path+".inputs")
	}
	if p, ok := f.get("parallelism"); ok {
		field := path + ".parallelism"
		if v, ok := d.integer(p.val, field); ok && d.check(p.val, field, checkIntRange(v, 1, MaxParallelismLimit)) {
			s.Parallelism = int(v)
		}
	}
	if p, ok := f.get("chain"); ok {
		if v, ok := d.boolean(p.val, path+".chain"); ok {
			s.Chain = v
		}
	}
	if p, ok := f.get("slot_sharing_group"); ok {
		field := path + ".slot_sharing_group"
		if v, ok := d.str(p.val, field); ok && d.check(p.val, field, checkName("slot-sharing group", v, 128)) {
			s.SlotSharingGroup = v
		}
	}
	if p, ok := f.get("config"); ok {
		s.Config = d.config(p.val, path+".config")
	}
	if p, ok := f.get("limits"); ok {
		s.Limits = d.limits(p.val, path+".limits")
	}

	if p, ok := f.get(string(s.Kind)); ok {
		field := joinField(path, string(s.Kind))
		switch s.Kind {
		case KindSource:
			s.Source = d.source(p.val, field)
		case KindMap, KindFilter, KindFlatMap, KindProcess, KindReduce, KindCoProcess:
			s.UDF = d.udf(p.val, field)
		case KindUnion:
			d.fields(p.val, field, stepShape.keys["union"].shape)
		case KindJoin:
			s.Join = d.join(p.val, field)
		case KindKeyBy:
			s.KeyBy, s.UDF = d.keyBy(p.val, field)
		case KindPartition:
			s.Partition = d.partition(p.val, field)
		case KindSink:
			s.Sink = d.sink(p.val, field)
		case KindWindow:
			d.record(field, p.key)
			s.Window = d.window(p.val, field)
			s.WindowFunction, s.Aggregate, s.UDF, s.WindowProcess = d.windowFunction(f, path)
		}
	}
	if p, ok := f.get("timestamps"); ok {
		s.Timestamps = d.timestamps(p.val, path+".timestamps")
	}

	// Keys that mean nothing for the step's kind are refused rather than ignored,
	// so that a spec says what it does.
	if supportedKinds[s.Kind] && !s.RunsUDF() {
		what := fmt.Sprintf("a %s step", s.Kind)
		if s.Kind == KindKeyBy {
			what = "a key_by step with json_field"
		}
		for _, k := range []string{"config", "limits"} {
			if p, ok := f.index[k]; ok {
				d.errorf(p.key, joinField(path, k), "%s runs no UDF, so it takes no %s", what, k)
			}
		}
	}
	if msg := ownSubtasks[s.Kind]; msg != "" {
		for _, k := range []string{"parallelism", "chain", "slot_sharing_group"} {
			if p, ok := f.index[k]; ok {
				d.errorf(p.key, joinField(path, k), msg, k)
			}
		}
	}
	return s
}

// inputs decodes the inputs of a multi-input step: step ids, a side output
// written <step>#<name>.
func (d *decoder) inputs(n *yaml.Node, path string) []StepInput {
	t := deref(n)
	if t.Kind != yaml.SequenceNode {
		d.errorf(n, path, "expected a list of step ids, got %s", describe(t))
		return nil
	}
	var out []StepInput
	for i, item := range t.Content {
		field := fmt.Sprintf("%s[%d]", path, i)
		v, ok := d.str(item, field)
		if !ok {
			continue
		}
		in := StepInput{ID: v}
		if strings.Contains(v, "#") {
			in.ID, in.Tag, _ = strings.Cut(v, "#")
			msg := checkName("side output", in.Tag, 64)
			if in.ID == "" {
				msg = "a side output is read as <step>#<name>"
			}
			if !d.check(item, field, msg) {
				continue
			}
		}
		if in.ID == "" {
			d.errorf(item, field, "must name a step")
			continue
		}
		d.record(field, item)
		out = append(out, in)
	}
	return out
}

// join decodes a join step's join; the validator checks the values.
func (d *decoder) join(n *yaml.Node, path string) *Join {
	j := &Join{}
	f, ok := d.fields(n, path, stepShape.keys["join"].shape)
	if !ok {
		return j
	}
	if p, ok := d.require(f, "type"); ok {
		d.record(path+".type", p.val)
		if v, ok := d.str(p.val, path+".type"); ok {
			j.Type = JoinType(v)
		}
	}
	for _, b := range []struct {
		key string
		dst *time.Duration
	}{{"lower_bound", &j.LowerBound}, {"upper_bound", &j.UpperBound}} {
		if p, ok := f.get(b.key); ok {
			field := path + "." + b.key
			d.record(field, p.val)
			if v, ok := d.duration(p.val, field); ok {
				*b.dst = v
			}
		}
	}
	if p, ok := f.get("outer"); ok {
		d.record(path+".outer", p.val)
		if v, ok := d.str(p.val, path+".outer"); ok {
			j.Outer = Outer(v)
		}
	}
	if p, ok := f.get("window"); ok {
		d.record(path+".window", p.val)
		j.Window = d.windowShapeOf(p.val, path+".window", joinWindowShape)
	}
	return j
}

// window decodes a window step's window: its shape and clock; the validator
// checks the values.
func (d *decoder) window(n *yaml.Node, path string) *Window {
	return d.windowShapeOf(n, path, windowShape)
}

// windowShapeOf decodes a window against sh: a window step's, or a join's
// (time windows only).
func (d *decoder) windowShapeOf(n *yaml.Node, path string, sh *shape) *Window {
	w := &Window{}
	f, ok := d.fields(n, path, sh)
	if !ok {
		return w
	}
	dur := func(f *fields, key, field string, dst *time.Duration) {
		if p, ok := f.get(key); ok {
			d.record(field, p.val)
			if v, ok := d.duration(p.val, field); ok {
				*dst = v
			}
		}
	}
	dur(f, "tumbling", path+".tumbling", &w.Tumbling)
	if p, ok := f.get("sliding"); ok {
		field := path + ".sliding"
		d.record(field, p.val)
		w.Sliding = &SlidingWindow{}
		if sf, ok := d.fields(p.val, field, windowShape.keys["sliding"].shape); ok {
			if _, ok := d.require(sf, "size"); ok {
				dur(sf, "size", field+".size", &w.Sliding.Size)
			}
			if _, ok := d.require(sf, "slide"); ok {
				dur(sf, "slide", field+".slide", &w.Sliding.Slide)
			}
		}
	}
	if p, ok := f.get("session"); ok {
		field := path + ".session"
		d.record(field, p.val)
		w.Session = &SessionWindow{}
		if sf, ok := d.fields(p.val, field, windowShape.keys["session"].shape); ok {
			if _, ok := d.require(sf, "gap"); ok {
				dur(sf, "gap", field+".gap", &w.Session.Gap)
			}
		}
	}
	if p, ok := f.get("time"); ok {
		field := path + ".time"
		d.record(field, p.val)
		if v, ok := d.str(p.val, field); ok {
			w.Time = WindowTime(v)
		}
	}
	if p, ok := f.get("count"); ok {
		field := path + ".count"
		d.record(field, p.val)
		w.Count = &CountWindow{}
		if cf, ok := d.fields(p.val, field, windowShape.keys["count"].shape); ok {
			if sp, ok := d.require(cf, "size"); ok {
				d.record(field+".size", sp.val)
				if v, ok := d.integer(sp.val, field+".size"); ok {
					w.Count.Size = v
				}
			}
			if sp, ok := cf.get("slide"); ok {
				d.record(field+".slide", sp.val)
				if v, ok := d.integer(sp.val, field+".slide"); ok {
					w.Count.Slide = v
				}
			}
		}
	}
	if p, ok := f.get("global"); ok {
		d.record(path+".global", p.val)
		if _, ok := d.fields(p.val, path+".global", windowShape.keys["global"].shape); ok {
			w.Global = true
		}
	}
	if p, ok := f.get("trigger"); ok {
		w.Trigger = d.trigger(p.val, path+".trigger")
	}
	if p, ok := f.get("evictor"); ok {
		w.Evictor = d.evictor(p.val, path+".evictor")
	}
	dur(f, "allowed_lateness", path+".allowed_lateness", &w.AllowedLateness)
	if p, ok := f.get("late_output"); ok {
		field := path + ".late_output"
		d.record(field, p.val)
		if v, ok := d.str(p.val, field); ok {
			w.LateOutput = v
		}
	}
	return w
}

// trigger decodes a window's trigger: one built-in trigger or a function, and
// purging.
func (d *decoder) trigger(n *yaml.Node, path string) *Trigger {
	d.record(path, n)
	t := &Trigger{}
	f, ok := d.fields(n, path, windowShape.keys["trigger"].shape)
	if !ok {
		return t
	}
	var kinds []string
	for _, k := range []TriggerKind{TriggerEventTime, TriggerProcessingTime, TriggerCount, TriggerContinuousEventTime, TriggerContinuousProcessingTime} {
		p, ok := f.get(string(k))
		if !ok {
			continue
		}
		kinds = append(kinds, string(k))
		field := path + "." + string(k)
		d.record(field, p.val)
		t.Kind = k
		switch k {
		case TriggerEventTime, TriggerProcessingTime:
			if v, ok := d.boolean(p.val, field); ok && !v {
				d.errorf(p.val, field, "write %s: true, or leave it out", k)
			}
		case TriggerCount:
			if v, ok := d.integer(p.val, field); ok {
				t.Count = v
			}
		default:
			if v, ok := d.duration(p.val, field); ok {
				t.Interval = v
			}
		}
	}
	_, hasModule := f.get("module")
	_, hasFunction := f.get("function")
	if hasModule || hasFunction {
		kinds = append(kinds, "module")
		t.Kind, t.UDF = TriggerUDF, d.udfOf(f, path)
	}
	switch {
	case len(kinds) == 0 && len(f.typos) == 0:
		d.errorf(n, path, "needs one of event_time: true, processing_time: true, count: N, continuous_event_time: <interval>, continuous_processing_time: <interval>, or module and function (a trigger function)")
	case len(kinds) > 1:
		d.errorf(n, path, "%s exclude each other: give one trigger", andList(kinds))
	}
	if p, ok := f.get("purging"); ok {
		d.record(path+".purging", p.val)
		if v, ok := d.boolean(p.val, path+".purging"); ok {
			t.Purging = v
		}
	}
	return t
}

// evictor decodes a window's evictor: count, time, or a function.
func (d *decoder) evictor(n *yaml.Node, path string) *Evictor {
	d.record(path, n)
	e := &Evictor{}
	f, ok := d.fields(n, path, windowShape.keys["evictor"].shape)
	if !ok {
		return e
	}
	var kinds []string
	if p, ok := f.get("count"); ok {
		kinds = append(kinds, "count")
		d.record(path+".count", p.val)
		if v, ok := d.integer(p.val, path+".count"); ok {
			e.Count = v
		}
	}
	if p, ok := f.get("time"); ok {
		kinds = append(kinds, "time")
		d.record(path+".time", p.val)
		if v, ok := d.duration(p.val, path+".time"); ok {
			e.Time = v
		}
	}
	_, hasModule := f.get("module")
	_, hasFunction := f.get("function")
	if hasModule || hasFunction {
		kinds = append(kinds, "module")
		e.UDF = d.udfOf(f, path)
	}
	switch {
	case len(kinds) == 0 && len(f.typos) == 0:
		d.errorf(n, path, "needs one of count: N, time: <duration>, or module and function (an evictor function)")
	case len(kinds) > 1:
		d.errorf(n, path, "%s exclude each other: give one evictor", andList(kinds))
	}
	return e
}

// windowFunction decodes the function of a window step: a built-in aggregate,
// an aggregate, reduce or process function, or an aggregate function with a
// process function that gets its result.
func (d *decoder) windowFunction(f *fields, path string) (kind Kind, builtin *Aggregate, udf, process *UDFRef) {
	if p, ok := f.get(string(KindProcess)); ok {
		process = d.udf(p.val, path+".process")
	}
	if p, ok := f.get(string(KindAggregate)); ok {
		field := path + ".aggregate"
		d.record(field, p.key)
		af, ok := d.fields(p.val, field, stepShape.keys["aggregate"].shape)
		if !ok {
			return KindAggregate, nil, nil, nil
		}
		_, hasModule := af.get("module")
		_, hasFunction := af.get("function")
		_, hasBuiltin := af.get("builtin")
		switch {
		case hasBuiltin && (hasModule || hasFunction):
			d.errorf(p.val, field, "builtin and module exclude each other: use a built-in aggregate or an aggregate function, not both")
			return KindAggregate, nil, nil, nil
		case hasModule || hasFunction:
			if _, ok := af.get("field"); ok {
				d.errorf(p.val, field, "field goes with a built-in aggregate; an aggregate function reads the records itself")
			}
			return KindAggregate, nil, d.udf(p.val, field), process
		}
		if process != nil {
			d.errorf(p.val, field, "a window process function takes the result of an aggregate function, not of a built-in aggregate")
		}
		a := &Aggregate{}
		if bp, ok := d.require(af, "builtin"); ok {
			d.record(field+".builtin", bp.val)
			if v, ok := d.str(bp.val, field+".builtin"); ok {
				a.Builtin = v
			}
		}
		if fp, ok := af.get("field"); ok {
			d.record(field+".field", fp.val)
			if v, ok := d.str(fp.val, field+".field"); ok {
				a.Field = v
			}
		}
		return KindAggregate, a, nil, nil
	}
	if p, ok := f.get(string(KindReduce)); ok {
		return KindReduce, nil, d.udf(p.val, path+".reduce"), nil
	}
	if process != nil {
		return KindProcess, nil, process, nil
	}
	d.errorf(f.node, path, "a window needs its function in the same step: aggregate: {builtin: %s}, or an aggregate, reduce or process function", strings.Join(builtinAggregates, "|"))
	return "", nil, nil, nil
}

// timestamps decodes a timestamps rule; the validator checks the values.
func (d *decoder) timestamps(n *yaml.Node, path string) *Timestamps {
	ts := &Timestamps{}
	f, ok := d.fields(n, path, timestampsShape)
	if !ok {
		return ts
	}
	if p, ok := f.get("json_field"); ok {
		d.record(path+".json_field", p.val)
		if v, ok := d.str(p.val, path+".json_field"); ok {
			ts.JSONField = v
		}
	}
	if p, ok := f.get("ingestion"); ok {
		d.record(path+".ingestion", p.val)
		if v, ok := d.boolean(p.val, path+".ingestion"); ok {
			ts.Ingestion = v
		}
	}
	if p, ok := f.get("udf"); ok {
		ts.UDF = d.udf(p.val, path+".udf")
	}
	if p, ok := f.get("punctuated"); ok {
		d.record(path+".punctuated", p.val)
		if v, ok := d.boolean(p.val, path+".punctuated"); ok {
			ts.Punctuated = v
		}
	}
	for _, k := range []string{"max_out_of_orderness", "idle_timeout"} {
		if p, ok := f.get(k); ok {
			field := path + "." + k
			d.record(field, p.val)
			if v, ok := d.duration(p.val, field); ok {
				if k == "idle_timeout" {
					ts.IdleTimeout = v
				} else {
					ts.MaxOutOfOrderness = v
				}
			}
		}
	}
	return ts
}

// ownSubtasks says, for the kinds that have no subtasks of their own, why they
// take no parallelism, chain or slot_sharing_group (%s is the key).
var ownSubtasks = map[Kind]string{
	KindPartition: "a partition step runs nothing of its own; set %s on the step that reads it",
	KindKeyBy:     "a key_by step runs in the subtasks of the step it reads; set %s there",
}

// keyBy decodes a key_by step: a JSON field, or a key-selector function.
func (d *decoder) keyBy(n *yaml.Node, path string) (*KeyBy, *UDFRef) {
	f, ok := d.fields(n, path, keyByShape)
	if !ok {
		return nil, nil
	}
	jf, hasField := f.get("json_field")
	_, hasModule := f.get("module")
	_, hasFunction := f.get("function")
	switch {
	case hasField && (hasModule || hasFunction):
		other := "module"
		if !hasModule {
			other = "function"
		}
		d.errorf(n, path, "json_field and %s exclude each other: key by a JSON field or by a key_selector function, not both", other)
		return nil, nil
	case hasField:
		field := path + ".json_field"
		v, ok := d.str(jf.val, field)
		if ok && d.check(jf.val, field, checkJSONField(v)) {
			return &KeyBy{JSONField: v}, nil
		}
		return nil, nil
	case hasModule || hasFunction:
		return nil, d.udf(n, path)
	}
	if len(f.typos) == 0 {
		d.errorf(n, path, "needs json_field (a top-level member of the payload), or module and function (a key_selector)")
	}
	return nil, nil
}

// kind finds the step's kind among its keys. A window may share its step with the
// function applied to it (aggregate, reduce or process); otherwise a step has one.
func (d *decoder) kind(f *fields, path string) Kind {
	var (
		kinds []Kind
		keys  []*yaml.Node
	)
	for _, p := range f.pairs {
		if k := Kind(deref(p.key).Value); slices.Contains(kindKeys, k) {
			kinds = append(kinds, k)
			keys = append(keys, p.key)
		}
	}
	switch {
	case len(kinds) == 0:
		d.errorf(f.node, path, "a step needs a kind: one of %s", orList(enumStrings(kindKeys)))
		return ""
	case len(kinds) == 1:
		return kinds[0]
	case len(kinds) == 2 && slices.Contains(kinds, KindWindow) && (windowFunctions[kinds[0]] || windowFunctions[kinds[1]]):
		return KindWindow
	case len(kinds) == 3 && slices.Contains(kinds, KindWindow) && slices.Contains(kinds, KindAggregate) && slices.Contains(kinds, KindProcess):
		// An aggregate whose result a window process function gets.
		return KindWindow
	}
	d.errorf(keys[1], path, "a step has one kind, but this one has %s", andList(enumStrings(kinds)))
	return ""
}

func (d *decoder) source(n *yaml.Node, path string) *JetStreamSource {
	src := &JetStreamSource{}
	f, ok := d.fields(n, path, sourceShape)
	if !ok {
		return src
	}
	p, ok := d.require(f, "jetstream")
	if !ok {
		return src
	}
	path += ".jetstream"
	if f, ok = d.fields(p.val, path, jetstreamSourceShape); !ok {
		return src
	}
	if p, ok := d.require(f, "stream"); ok {
		field := path + ".stream"
		if v, ok := d.str(p.val, field); ok && d.check(p.val, field, checkStream(v)) {
			src.Stream = v
		}
	}
	if p, ok := f.get("subjects"); ok {
		src.Subjects = d.subjects(p.val, path+".subjects")
	}
	if p, ok := f.get("start"); ok {
		src.Start = d.start(p.val, path+".start")
	}
	if p, ok := f.get("partitions"); ok {
		src.Partitions = d.partitions(p.val, path+".partitions", src.Subjects)
	}
	return src
}

// partitions decodes `partitions: {count, token}` and checks that every subject
// filter has a `*` at the partition token.
func (d *decoder) partitions(n *yaml.Node, path string, subjects []string) *SourcePartitions {
	f, ok := d.fields(n, path, partitionsShape)
	if !ok {
		return nil
	}
	out := &SourcePartitions{}
	for _, k := range []string{"count", "token"} {
		p, ok := d.require(f, k)
		if !ok {
			return nil
		}
		field := path + "." + k
		v, ok := d.integer(p.val, field)
		if !ok || !d.check(p.val, field, checkIntRange(v, 1, 1<<20)) {
			return nil
		}
		if k == "count" {
			out.Count = int(v)
		} else {
			out.Token = int(v)
		}
	}
	if len(subjects) == 0 {
		d.errorf(n, path, "partitions need subjects: list the subject filters, with a * at token %d for the partition", out.Token)
		return nil
	}
	for i, subj := range subjects {
		toks := strings.Split(subj, ".")
		if len(toks) < out.Token || toks[out.Token-1] != "*" {
			d.errorf(n, path, "subject %s has no * at token %d to carry the partition (subjects[%d])", quote(subj), out.Token, i)
			return nil
		}
	}
	return out
}

// subjects decodes a source's subject filters. An empty list is no filter.
func (d *decoder) subjects(n *yaml.Node, path string) []string {
	t := deref(n)
	if t.Kind != yaml.SequenceNode {
		d.errorf(n, path, "expected a list of subjects, got %s", describe(t))
		return nil
	}
	var out []string
	for i, item := range t.Content {
		field := fmt.Sprintf("%s[%d]", path, i)
		v, ok := d.str(item, field)
		if !ok || !d.check(item, field, checkSubject(v, true)) {
			continue
		}
		if slices.Contains(out, v) {
			d.errorf(item, field, "duplicate subject %s", quote(v))
			continue
		}
		out = append(out, v)
	}
	return out
}

func (d *decoder) start(n *yaml.Node, path string) StartPosition {
	const want = "earliest, latest, {sequence: N} or {time: <RFC 3339 time>}"
	t := deref(n)
	if t.Kind == yaml.MappingNode {
		f, ok := d.fields(n, path, startShape)
		if !ok {
			return StartPosition{}
		}
		seq, hasSeq := f.get("sequence")
		tm, hasTime := f.get("time")
		switch {
		case hasSeq && hasTime:
			d.errorf(n, path, "sequence and time exclude each other; give one")
		case hasSeq:
			if v, ok := d.sequence(seq.val, path+".sequence"); ok {
				return StartPosition{Kind: StartSequence, Sequence: v}
			}
		case hasTime:
			if v, ok := d.time(tm.val, path+".time"); ok {
				return StartPosition{Kind: StartTime, Time: v}
			}
		default:
			d.errorf(n, path, "expected %s, got an empty mapping", want)
		}
		return StartPosition{}
	}
	d.record(path, n)
	if t.Kind == yaml.ScalarNode && t.ShortTag() == "!!str" {
		switch k := StartKind(t.Value); k {
		case StartEarliest, StartLatest:
			return StartPosition{Kind: k}
		}
		d.errorf(n, path, "expected %s, got %s%s", want, describe(t), didYouMean(t.Value, []string{"earliest", "latest"}))
		return StartPosition{}
	}
	d.errorf(n, path, "expected %s, got %s", want, describe(t))
	return StartPosition{}
}

// sequence decodes a stream sequence number: an integer of at least 1.
func (d *decoder) sequence(n *yaml.Node, field string) (uint64, bool) {
	t, ok := d.scalar(n, field, "an integer", "!!int")
	if !ok {
		return 0, false
	}
	var v uint64
	if err := t.Decode(&v); err != nil || v == 0 {
		d.errorf(n, field, "must be an integer from 1 to 18446744073709551615, got %s", describe(t))
		return 0, false
	}
	return v, true
}

// time decodes an RFC 3339 time, kept in UTC so that a Job does not depend on the
// machine's time zone.
func (d *decoder) time(n *yaml.Node, field string) (time.Time, bool) {
	t, ok := d.scalar(n, field, "an RFC 3339 time", "!!str", "!!timestamp")
	if !ok {
		return time.Time{}, false
	}
	v, err := time.Parse(time.RFC3339Nano, t.Value)
	if err != nil {
		d.errorf(n, field, "invalid time %s: want RFC 3339, like 2024-05-01T12:00:00Z", quote(t.Value))
		return time.Time{}, false
	}
	return v.UTC(), true
}

func (d *decoder) udf(n *yaml.Node, path string) *UDFRef {
	f, ok := d.fields(n, path, udfShape)
	if !ok {
		return &UDFRef{}
	}
	return d.udfOf(f, path)
}

// udfOf decodes the module and function keys of a mapping already read.
func (d *decoder) udfOf(f *fields, path string) *UDFRef {
	u := &UDFRef{}
	if p, ok := d.require(f, "module"); ok {
		field := path + ".module"
		if v, ok := d.str(p.val, field); ok {
			name, digest, msg := splitModule(v)
			if d.check(p.val, field, msg) && d.check(p.val, field, checkName("module name", name, 128)) {
				u.Module, u.Digest = name, digest
			}
		}
	}
	if p, ok := d.require(f, "function"); ok {
		field := path + ".function"
		if v, ok := d.str(p.val, field); ok && d.check(p.val, field, checkFunction(v)) {
			u.Function = v
		}
	}
	return u
}

func (d *decoder) partition(n *yaml.Node, field string) Partitioning {
	v, ok := d.str(n, field)
	if !ok {
		return ""
	}
	p := Partitioning(v)
	switch {
	case !slices.Contains(partitionings, p):
		names := enumStrings(partitionings)
		d.errorf(n, field, "unknown partitioning %s%s; use %s", quote(v), didYouMean(v, names), orList(names))
	case !supported(p):
		d.unsupported(n, field, "partitioning %s is not supported yet", quote(v))
	default:
		return p
	}
	return ""
}

func (d *decoder) sink(n *yaml.Node, path string) *JetStreamSink {
	sink := &JetStreamSink{}
	f, ok := d.fields(n, path, sinkShape)
	if !ok {
		return sink
	}
	if p, ok := d.require(f, "jetstream"); ok {
		jsPath := path + ".jetstream"
		if js, ok := d.fields(p.val, jsPath, jetstreamSinkShape); ok {
			if p, ok := d.require(js, "subject"); ok {
				field := jsPath + ".subject"
				if v, ok := d.str(p.val, field); ok && d.check(p.val, field, checkSubject(v, false)) {
					sink.Subject = v
				}
			}
		}
	}
	if p, ok := f.get("delivery"); ok {
		field := path + ".delivery"
		if v, ok := d.str(p.val, field); ok {
			switch dl := Delivery(v); {
			case !slices.Contains(deliveries, dl):
				names := enumStrings(deliveries)
				d.errorf(p.val, field, "unknown delivery %s%s; use %s", quote(v), didYouMean(v, names), orList(names))
			case !supported(dl):
				d.unsupported(p.val, field, "delivery %s is not supported yet", quote(v))
			default:
				sink.Delivery = dl
			}
		}
	}
	return sink
}

// checkpointing decodes the checkpointing section; what it leaves out stays zero
// for Defaults.
func (d *decoder) checkpointing(n *yaml.Node) *Checkpointing {
	c := &Checkpointing{}
	f, ok := d.fields(n, "checkpointing", checkpointingShape)
	if !ok {
		return c
	}
	if p, ok := d.require(f, "interval"); ok {
		if v, ok := d.duration(p.val, "checkpointing.interval"); ok && d.check(p.val, "checkpointing.interval", checkCheckpointInterval(v)) {
			c.Interval = v
		}
	}
	if p, ok := f.get("mode"); ok {
		if v, ok := d.str(p.val, "checkpointing.mode"); ok {
			if m := CheckpointMode(v); !slices.Contains(modes, m) {
				names := enumStrings(modes)
				d.errorf(p.val, "checkpointing.mode", "unknown mode %s%s; use %s", quote(v), didYouMean(v, names), orList(names))
			} else {
				c.Mode = m
			}
		}
	}
	durations := []struct {
		key string
		dst *time.Duration
		min time.Duration
	}{{"timeout", &c.Timeout, minCheckpointInterval}, {"min_pause", &c.MinPause, 0}}
	for _, x := range durations {
		if p, ok := f.get(x.key); ok {
			field := "checkpointing." + x.key
			if v, ok := d.duration(p.val, field); ok && d.check(p.val, field, checkDurationRange(v, x.min, 24*time.Hour)) {
				*x.dst = v
			}
		}
	}
	ints := []struct {
		key    string
		dst    *int
		lo, hi int64
	}{{"max_concurrent", &c.MaxConcurrent, 1, 100}, {"tolerable_failures", &c.TolerableFailures, 0, math.MaxInt32}, {"retain", &c.Retain, 1, 100}}
	for _, x := range ints {
		if p, ok := f.get(x.key); ok {
			field := "checkpointing." + x.key
			if v, ok := d.integer(p.val, field); ok && d.check(p.val, field, checkIntRange(v, x.lo, x.hi)) {
				*x.dst = int(v)
			}
		}
	}
	if p, ok := f.get("retain_on_cancel"); ok {
		if v, ok := d.boolean(p.val, "checkpointing.retain_on_cancel"); ok {
			c.RetainOnCancel = v
		}
	}
	return c
}
