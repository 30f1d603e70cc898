package worker

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/weir-streams/weir/internal/keygroup"
	"github.com/weir-streams/weir/internal/record"
	"github.com/weir-streams/weir/internal/spec"
	"github.com/weir-streams/weir/wasmhost"
	"github.com/weir-streams/weir/worker/internal/timer"
	"github.com/weir-streams/weir/worker/internal/timestamp"
	"github.com/weir-streams/weir/worker/internal/watermark"
	"github.com/weir-streams/weir/worker/internal/window"
)

// A task's part in event time (DESIGN §5). A source task whose step has a
// timestamps rule assigns each record its timestamp (the first operator of its
// chain) and generates the watermark from what its readers hand over; an input
// task follows the watermarks of its input channels. Either way, when the
// task's event-time clock advances, its event-time windows fire first, then the
// watermark goes to every downstream subtask, behind the results.

// watermarkInterval is how often a source task looks at its watermark (Flink's
// auto-watermark interval).
const watermarkInterval = 200 * time.Millisecond

// windowStep is a window operator in the task's chain.
type windowStep struct {
	op *window.Operator
	id string
	// at is its index in task.ops: its results go on through the ops after it.
	at int
	// lateTag names the side output its late records go to; "" drops them.
	lateTag string
}

// Process implements operator: the results of windows that late records within
// the allowed lateness changed. Late records go to the side output.
func (w *windowStep) Process(ctx context.Context, b *record.Batch) (*record.Batch, error) {
	return w.op.Process(ctx, b)
}

// Close implements operator.
func (w *windowStep) Close(context.Context, bool) error { return nil }

// newWindowStep builds the window operator of step s.
func (t *task) newWindowStep(s spec.Step, keyed bool) (*windowStep, error) {
	win := s.Window
	if win == nil {
		return nil, fmt.Errorf("step %q: a window step without its window", s.ID)
	}
	cfg := window.Config{
		Operator: s.ID, Keyed: keyed, MaxParallelism: t.desc.MaxParallelism,
		AllowedLateness: win.AllowedLateness.Milliseconds(), LateOutput: win.LateOutput != "",
		ProcessingTime: win.Time == spec.ProcessingTime,
	}
	if !windowShape(win, &cfg) {
		return nil, fmt.Errorf("step %q: the window has no kind", s.ID)
	}
	fns := &window.Functions{}
	for _, f := range s.Functions() {
		inst, err := t.openFunction(s, f.Ref)
		if err != nil {
			return nil, err
		}
		switch f.Kind {
		case wasmhost.KindWindowProcess:
			fns.Process = inst
		case wasmhost.KindTrigger:
			fns.Trigger = &wasmTrigger{inst: inst, f: wasmhost.NewTriggerFrame()}
		case wasmhost.KindEvictor:
			fns.Evictor = &wasmEvictor{inst: inst, f: wasmhost.NewEvictFrame()}
		default:
			fns.Aggregate = inst
		}
	}
	cfg.Functions = fns
	switch {
	case s.Aggregate != nil && s.Aggregate.Builtin != "":
		agg, err := window.Builtin(s.Aggregate.Builtin, s.Aggregate.Field)
		if err != nil {
			return nil, fmt.Errorf("step %q: %w", s.ID, err)
		}
		cfg.Aggregate = agg
	case s.UDF == nil:
		return nil, fmt.Errorf("step %q: the window has no function", s.ID)
	}
	op, err := window.New(cfg, t.cp.backend)
	if err != nil {
		return nil, fmt.Errorf("step %q: %w", s.ID, err)
	}
	return &windowStep{op: op, id: s.ID, at: len(t.ops), lateTag: win.LateOutput}, nil
}

// assigner is the first operator of a source task's chain when its step has a
// timestamps rule: it gives records their event time.
type assigner interface {
	operator
	// lastBatch reports the last batch: its largest timestamp (math.MinInt64
	// for none) and its largest punctuation, if any.
	lastBatch() (maxTS, punct int64, punctuated bool)
	stats() *timestamp.Stats
}

// jsonAssigner is the built-in assigner (json_field, ingestion).
type jsonAssigner struct{ *timestamp.Operator }

func (a jsonAssigner) lastBatch() (int64, int64, bool) { return a.MaxTimestamp(), 0, false }
func (a jsonAssigner) stats() *timestamp.Stats         { return a.Stats() }

// extractorStep runs a timestamp_extractor function (sdk/ABI.md §4).
type extractorStep struct {
	*wasmhost.Instance
	st                timestamp.Stats
	takesPunctuations bool
}

// Process implements operator, counting the records the function dropped.
func (e *extractorStep) Process(ctx context.Context, b *record.Batch) (*record.Batch, error) {
	out, err := e.Instance.Process(ctx, b)
	if err != nil {
		return nil, err
	}
	dropped, _, punct, punctuated := e.Extraction()
	if punctuated && !e.takesPunctuations {
		return nil, fmt.Errorf("timestamp_extractor %s emitted a watermark (%d), but the step's timestamps are not punctuated: true", e.Function().Name, punct)
	}
	if dropped > 0 {
		e.st.Invalid.Add(uint64(dropped))
	}
	return out, nil
}

func (e *extractorStep) lastBatch() (int64, int64, bool) {
	_, maxTS, punct, punctuated := e.Extraction()
	return maxTS, punct, punctuated
}

func (e *extractorStep) stats() *timestamp.Stats { return &e.st }

// newAssigner builds the timestamp assigner of a source step's timestamps rule.
func (t *task) newAssigner(s spec.Step) (assigner, watermark.Strategy, error) {
	ts := s.Timestamps
	st := watermark.Strategy{MaxOutOfOrderness: ts.MaxOutOfOrderness, IdleTimeout: ts.IdleTimeout, Punctuated: ts.Punctuated}
	switch {
	case ts.UDF != nil:
		inst, err := t.instantiate(s, ts.UDF)
		if err != nil {
			return nil, st, fmt.Errorf("step %q: %w", s.ID, err)
		}
		t.sampleMu.Lock()
		t.opsSnapshot = append(t.opsSnapshot, inst)
		t.sampleMu.Unlock()
		inst.SetTaskInfo(t.taskInfo(s))
		if err := inst.Open(t.ctx, s.Config); err != nil {
			inst.Close(t.ctx, false)
			return nil, st, fmt.Errorf("step %q: opening %s: %w", s.ID, ts.UDF.Function, err)
		}
		return &extractorStep{Instance: inst, takesPunctuations: ts.Punctuated}, st, nil
	case ts.JSONField != "":
		return jsonAssigner{timestamp.NewJSONField(ts.JSONField)}, st, nil
	case ts.Ingestion:
		return jsonAssigner{timestamp.NewIngestion(time.Now)}, st, nil
	}
	return nil, st, fmt.Errorf("step %q: timestamps: no rule this worker runs", s.ID)
}

// setWatermark records the task's event-time status for its metrics.
func (t *task) setWatermark(st watermark.Status) {
	t.wmValue.Store(st.Watermark)
	t.wmIdle.Store(st.Idle)
	t.hasWatermark.Store(true)
}

// timed is a step of the chain that reacts to its clocks: a window, or a process
// function with timers.
type timed interface {
	// position is the step's index in task.ops: its output goes on from the next.
	position() int
	// advance moves clock domain (timer.EventTime or timer.ProcessingTime) to t
	// and hands each output batch to emit.
	advance(ctx context.Context, domain timer.Domain, t int64, emit func(*record.Batch) error) error
}

func (w *windowStep) position() int { return w.at }

func (w *windowStep) advance(ctx context.Context, domain timer.Domain, t int64, emit func(*record.Batch) error) error {
	// Either clock may fire a window: its own, and the other one for the
	// timers of a trigger that follows it.
	if w.op.ClockIn(domain) >= t {
		return nil
	}
	if domain == timer.ProcessingTime {
		if next, ok := w.op.NextTimerIn(domain); !ok || next > t {
			return nil
		}
	}
	out, err := w.op.AdvanceDomain(ctx, domain, t)
	if err != nil || out.Len() == 0 {
		return err
	}
	return emit(out)
}

// advanceEventTime moves the task's event-time clock: its windows and timers
// fire at the new watermark, then the status goes downstream behind their
// results.
func (t *task) advanceEventTime(st watermark.Status) error {
	// An idle status can carry a higher watermark too (see watermark.Tracker).
	if err := t.advanceClocks(timer.EventTime, st.Watermark); err != nil {
		return err
	}
	t.setWatermark(st)
	for _, w := range t.writers {
		if err := w.Watermark(t.ctx, st.Watermark, st.Idle); err != nil {
			return err
		}
	}
	return nil
}

// fireProcessingTime fires the processing-time windows and timers whose time
// has come.
func (t *task) fireProcessingTime(now time.Time) error {
	return t.advanceClocks(timer.ProcessingTime, now.UnixMilli())
}

// advanceClocks moves clock domain of every timed step to at, in chain order,
// each one's output going through the rest of the chain, and commits the state
// the firing changed.
func (t *task) advanceClocks(domain timer.Domain, at int64) error {
	if len(t.timed) == 0 {
		return nil
	}
	for _, s := range t.timed {
		from := s.position() + 1
		if err := s.advance(t.ctx, domain, at, func(b *record.Batch) error { return t.pushFrom(from, b) }); err != nil {
			return err
		}
	}
	return t.cp.commitState()
}

// processStep is a process function in the chain, with its timers (sdk/ABI.md
// §4.4): a timer service over the task's state backend, fired into timer calls.
type processStep struct {
	*wasmhost.Instance
	id string
	at int
	// side hands on what a timer call emitted to side outputs.
	side   func() error
	timers *timer.Service
	maxP   int
	fired  record.Batch
	clock  [2]int64 // the time each domain has reached
}

func (t *task) newProcessStep(s spec.Step, inst *wasmhost.Instance) (*processStep, error) {
	ts, err := timer.New(t.cp.backend, s.ID)
	if err != nil {
		return nil, fmt.Errorf("step %q: %w", s.ID, err)
	}
	p := &processStep{Instance: inst, id: s.ID, at: len(t.ops), timers: ts, maxP: t.desc.MaxParallelism, clock: [2]int64{math.MinInt64, math.MinInt64}}
	p.side = func() error { return t.side(p) }
	inst.SetTimers(p)
	return p, nil
}

func (p *processStep) stepID() string { return p.id }

// sideOutputs implements sided.
func (p *processStep) sideOutputs(write func(string, *record.Batch) error) error {
	return instanceSideOutputs(p.Instance, write)
}

// coProcessStep is a co_process function: a process function whose second
// input goes to process2 calls (sdk/ABI.md §4.7).
type coProcessStep struct{ *processStep }

// ProcessInput implements multiInput.
func (c coProcessStep) ProcessInput(ctx context.Context, k int, b *record.Batch) (*record.Batch, error) {
	if k == 0 {
		return c.Process(ctx, b)
	}
	return c.Process2(ctx, b)
}

// Register implements wasmhost.Timers.
func (p *processStep) Register(domain int, key []byte, at int64) error {
	return p.timers.Register(timer.Domain(domain), keygroup.Of(key, p.maxP), key, nil, at)
}

// Delete implements wasmhost.Timers.
func (p *processStep) Delete(domain int, key []byte, at int64) error {
	return p.timers.Delete(timer.Domain(domain), keygroup.Of(key, p.maxP), key, nil, at)
}

func (p *processStep) position() int { return p.at }

// timerBatch is how many fired timers one timer call gets at most.
const timerBatch = 1024

func (p *processStep) advance(ctx context.Context, domain timer.Domain, at int64, emit func(*record.Batch) error) error {
	if at <= p.clock[domain] {
		return nil
	}
	p.clock[domain] = at
	if domain == timer.EventTime {
		p.SetWatermark(at)
	}
	// Timers a timer call registers at or before the clock fire in a later
	// call of this advance.
	for {
		p.fired.Reset()
		for p.fired.Len() < timerBatch {
			tm, ok, err := p.timers.Pop(domain, at)
			if err != nil {
				return err
			}
			if !ok {
				break
			}
			p.fired.Append(&record.View{Flags: record.FlagKey | record.FlagTimestamp | record.FlagPayload,
				Key: tm.Key, Timestamp: tm.Time, Payload: []byte{byte(domain)}})
		}
		if p.fired.Len() == 0 {
			return nil
		}
		out, err := p.Timer(ctx, &p.fired)
		if err != nil {
			return err
		}
		if err := p.side(); err != nil {
			return err
		}
		if out.Len() > 0 {
			if err := emit(out); err != nil {
				return err
			}
		}
	}
}

// flushWindows writes the windows' and joins' caches to the state backend,
// before a snapshot.
func (t *task) flushWindows() error {
	for _, w := range t.windows {
		if err := w.op.Flush(); err != nil {
			return err
		}
	}
	for _, j := range t.joins {
		if err := j.op.Flush(); err != nil {
			return err
		}
	}
	return nil
}

func (w *windowStep) stepID() string { return w.id }

// sideOutputs implements sided: the late records go to the late output.
func (w *windowStep) sideOutputs(write func(string, *record.Batch) error) error {
	if w.lateTag == "" {
		return nil
	}
	return write(w.lateTag, w.op.Late())
}

// maxWatermark is the watermark that ends event time.
const maxWatermark = math.MaxInt64
