package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/weir-streams/weir/internal/api"
	"github.com/weir-streams/weir/internal/failpoint"
	"github.com/weir-streams/weir/internal/jobgraph"
	"github.com/weir-streams/weir/internal/keygroup"
	"github.com/weir-streams/weir/internal/record"
	"github.com/weir-streams/weir/internal/spec"
	"github.com/weir-streams/weir/wasmhost"
	"github.com/weir-streams/weir/worker/internal/barrier"
	"github.com/weir-streams/weir/worker/internal/connector"
	"github.com/weir-streams/weir/worker/internal/exchange"
	"github.com/weir-streams/weir/worker/internal/join"
	"github.com/weir-streams/weir/worker/internal/keyby"
	"github.com/weir-streams/weir/worker/internal/state"
	"github.com/weir-streams/weir/worker/internal/timestamp"
	"github.com/weir-streams/weir/worker/internal/watermark"
	"github.com/weir-streams/weir/worker/internal/window"
)

// markerInterval is how often a source sends its position downstream.
const markerInterval = 500 * time.Millisecond

// operator is one step of a chain between its source (or input) and its outputs:
// it turns a batch into the batch handed to the next step. It belongs to the task
// goroutine. A *wasmhost.Instance is one; built-in steps (key_by) are others.
type operator interface {
	// Process returns the step's output for b. The result is valid until the next
	// call; an empty result ends the chain for this batch.
	Process(ctx context.Context, b *record.Batch) (*record.Batch, error)
	// Close releases the step; finished says the input ended normally.
	Close(ctx context.Context, finished bool) error
}

// task runs one subtask: a chain of steps in one goroutine.
type task struct {
	w      *Worker
	desc   jobgraph.TaskDescriptor
	logger *slog.Logger

	// ctx ends the task at once (cancel); stop ends only its source's reading, so
	// that what was read still flows to the sinks (a graceful stop).
	ctx        context.Context
	cancel     context.CancelFunc
	stop       context.Context
	stopSource context.CancelFunc

	recordsIn  atomic.Uint64
	recordsOut atomic.Uint64
	bytesIn    atomic.Uint64
	bytesOut   atomic.Uint64
	// pushing and blocked accumulate nanoseconds spent processing batches and, of
	// that, waiting for downstream room (backpressure).
	pushing atomic.Int64
	blocked atomic.Int64
	stats   exchange.Stats

	sampleMu                  sync.Mutex // guards the previous sample of the metrics, gates and opsSnapshot
	sampleAt                  time.Time
	samplePush, sampleBlocked int64
	gates                     []*exchange.Gate // the input gates, for their credit figures
	// opsSnapshot are the task\'s UDF instances, for their call time and memory.
	opsSnapshot []*wasmhost.Instance
	// keyStats are the task's key_by operators' counters.
	keyStats []*keyby.Stats
	// windowsSnapshot and assignStats are the window operators' and the
	// timestamp assigner's counters.
	windowsSnapshot []*window.Stats
	joinStats       []*join.Stats
	assignStats     *timestamp.Stats

	// Owned by the task goroutine.
	sources []*connector.Source
	posKeys []string // the progress key of each source, by reader index
	srcOut  chan *connector.SourceBatch
	ops     []operator
	// extra are UDF instances outside the chain: a window step's functions.
	extra   []*wasmhost.Instance
	sink    *connector.Sink
	writers []*exchange.Writer
	// mainWriters are the writers of the chain's main output; sideWriters
	// those of each side output, by its name.
	mainWriters []*exchange.Writer
	sideWriters map[string][]*exchange.Writer
	finished    bool

	// Event time (eventtime.go). assign and gen are a source task's timestamp
	// assigner and watermark generator when its step has a timestamps rule;
	// tracker follows an input task's channels; windows are the window steps
	// of the chain.
	assign  assigner
	gen     *watermark.Generator
	tracker *watermark.Tracker
	windows []*windowStep
	joins   []*joinStep
	// timed are the steps that react to the clocks: windows, process functions.
	timed []timed
	// The event-time status for the metrics.
	hasWatermark atomic.Bool
	wmValue      atomic.Int64
	wmIdle       atomic.Bool

	// checkpoints receives the control plane's checkpoint events for this task.
	checkpoints chan api.CheckpointEvent
	// cp is the task's part in checkpoints, and its state.
	cp *checkpointer
}

// isSource reports whether the task's chain starts with a source.
func (t *task) isSource() bool {
	return len(t.desc.Steps) > 0 && t.desc.Steps[0].Kind == spec.KindSource
}

func newTask(w *Worker, desc jobgraph.TaskDescriptor) *task {
	ctx, cancel := context.WithCancel(context.Background())
	stop, stopSource := context.WithCancel(ctx)
	return &task{
		w: w, desc: desc,
		logger: w.logger.With("task", desc.Task.String()),
		ctx:    ctx, cancel: cancel, stop: stop, stopSource: stopSource,
		checkpoints: make(chan api.CheckpointEvent, 64),
	}
}

// stopGracefully ends the source's reading and cancels the task if it has not
// finished within timeout.
func (t *task) stopGracefully(timeout time.Duration) {
	t.stopSource()
	time.AfterFunc(timeout, t.cancel)
}

// metrics returns the task's counters for a heartbeat; busy and backpressure are
// shares of the time since the previous call.
func (t *task) metrics() api.TaskMetrics {
	m := api.TaskMetrics{
		Task: t.desc.Task, RecordsIn: t.recordsIn.Load(), RecordsOut: t.recordsOut.Load(),
		BytesIn: t.bytesIn.Load(), BytesOut: t.bytesOut.Load(), ExchangeBytesOut: t.stats.BytesOut.Load(),
		BuffersInFlight: int(t.stats.Waiting.Load()),
	}
	t.sampleMu.Lock()
	defer t.sampleMu.Unlock()
	now, push, blocked := time.Now(), t.pushing.Load(), t.blocked.Load()
	if !t.sampleAt.IsZero() {
		if d := float64(now.Sub(t.sampleAt)); d > 0 {
			m.Backpressure = min(1, float64(blocked-t.sampleBlocked)/d)
			m.Busy = min(1, max(0, float64((push-t.samplePush)-(blocked-t.sampleBlocked))/d))
		}
	}
	t.sampleAt, t.samplePush, t.sampleBlocked = now, push, blocked
	for _, op := range t.opsSnapshot {
		d, mem := op.Stats()
		m.WasmCallNanos += uint64(d)
		m.WasmMemoryBytes += mem
	}
	for _, ks := range t.keyStats {
		m.KeyedNull += ks.Missing.Load() + ks.Invalid.Load()
	}
	if t.hasWatermark.Load() {
		m.HasWatermark, m.Watermark, m.WatermarkIdle = true, t.wmValue.Load(), t.wmIdle.Load()
	}
	for _, w := range t.windowsSnapshot {
		m.LateRecords += w.Late.Load()
	}
	for _, j := range t.joinStats {
		m.LateRecords += j.Late.Load()
		m.InvalidTimestamps += j.NoTimestamp.Load()
	}
	if t.assignStats != nil {
		m.InvalidTimestamps += t.assignStats.Invalid.Load()
	}
	for _, g := range t.gates {
		q, c := g.Credit()
		m.InputQueued += q
		m.InputCredit += c
		if q > c {
			m.CreditViolations++
		}
	}
	return m
}

func (t *task) report(state string, failure *api.Failure) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := t.w.control.ReportTaskState(ctx, api.TaskState{Task: t.desc.Task, WorkerID: t.w.opts.ID, State: state, Failure: failure}); err != nil {
		t.logger.Warn("reporting task state", "state", state, "err", err)
	}
}

// run runs the task to its end and reports its final state.
func (t *task) run() {
	defer t.cancel()
	t.report(api.TaskDeploying, nil)
	err := t.setup()
	if err == nil {
		t.report(api.TaskRunning, nil)
		if t.srcOut != nil {
			err = t.runSource()
		} else {
			err = t.runInput()
		}
	}
	t.teardown()
	switch {
	case err == nil && t.finished:
		t.report(api.TaskFinished, nil)
	case err == nil || t.ctx.Err() != nil:
		// An error after the task was canceled is a consequence of the cancel.
		t.report(api.TaskCanceled, nil)
	default:
		t.logger.Warn("task failed", "err", err)
		t.report(api.TaskFailed, t.failure(err))
	}
}

func (t *task) failure(err error) *api.Failure {
	f := &api.Failure{Time: time.Now().UTC(), Task: t.desc.Task.String(), Kind: "task", Message: err.Error()}
	var re *restoreError
	if errors.As(err, &re) && errors.Is(err, state.ErrCorrupt) {
		f.Kind, f.Checkpoint = api.FailureRestoreCorrupt, re.id
	}
	var ce *wasmhost.CallError
	if errors.As(err, &ce) {
		f.Kind = "udf_" + string(ce.Kind)
		f.Stack = ce.Stack
	}
	return f
}

func (t *task) setup() error {
	steps := t.desc.Steps
	if len(steps) == 0 {
		return errors.New("task has no steps")
	}
	if err := t.openState(); err != nil {
		return err
	}
	if s := steps[0]; s.Kind == spec.KindSource {
		t.setupSources(s)
		steps = steps[1:]
		if s.Timestamps != nil {
			op, strategy, err := t.newAssigner(s)
			if err != nil {
				return err
			}
			t.assign = op
			t.ops = append(t.ops, op)
			t.gen = watermark.NewGenerator(len(t.sources), strategy, time.Now())
			t.sampleMu.Lock()
			t.assignStats = op.stats()
			t.sampleMu.Unlock()
		}
	}
	if n := len(steps); n > 0 && steps[n-1].Kind == spec.KindSink {
		s := steps[n-1]
		sink, err := connector.NewSink(t.ctx, t.w.nc, s.Sink.Subject)
		if err != nil {
			return fmt.Errorf("step %q: %w", s.ID, err)
		}
		t.sink = sink
		if s.Sink.Delivery == spec.DeliveryExactlyOnce && t.desc.Checkpointing != nil {
			task := t.desc.Task
			eo, err := connector.NewExactlyOnceSink(sink, t.cp.backend, s.ID, task.JobID, task.Subtask, task.Attempt, t.restoredID())
			if err != nil {
				return fmt.Errorf("step %q: %w", s.ID, err)
			}
			t.cp.eoSink = eo
			// The restored records belong to a completed checkpoint: publish
			// them again (the stream drops those it already has), unless the
			// job that took the savepoint published them before it stopped.
			if r := t.desc.Restore; r != nil && r.SinksCommitted {
				if err := eo.Drop(t.restoredID()); err != nil {
					return fmt.Errorf("step %q: %w", s.ID, err)
				}
			} else if n, err := eo.Commit(t.ctx, t.restoredID()); err != nil {
				return fmt.Errorf("step %q: re-publishing restored records: %w", s.ID, err)
			} else if n > 0 {
				t.logger.Info("re-published the restored checkpoint's sink records", "records", n, "checkpoint", t.restoredID())
			}
		}
		steps = steps[:n-1]
	}
	for i, s := range steps {
		if s.Kind == spec.KindWindow {
			// A window first in its chain behind a hash edge is keyed; any
			// other reads a non-keyed stream (the plan gives it a global edge).
			keyed := i == 0 && len(t.desc.Inputs) == 1 && t.desc.Inputs[0].Partitioning == jobgraph.Hash
			w, err := t.newWindowStep(s, keyed)
			if err != nil {
				return err
			}
			t.windows = append(t.windows, w)
			t.timed = append(t.timed, w)
			t.ops = append(t.ops, w)
			t.sampleMu.Lock()
			t.windowsSnapshot = append(t.windowsSnapshot, w.op.Stats())
			t.sampleMu.Unlock()
			continue
		}
		if s.Kind == spec.KindUnion {
			t.ops = append(t.ops, unionStep{})
			continue
		}
		if s.Kind == spec.KindJoin {
			j, err := t.newJoinStep(s)
			if err != nil {
				return err
			}
			t.joins = append(t.joins, j)
			t.timed = append(t.timed, j)
			t.ops = append(t.ops, j)
			t.sampleMu.Lock()
			t.joinStats = append(t.joinStats, j.op.Stats())
			t.sampleMu.Unlock()
			continue
		}
		if s.KeyBy != nil { // a built-in key_by; one with a key_selector is a UDF
			op := keyby.New(s.KeyBy.JSONField)
			t.ops = append(t.ops, op)
			t.sampleMu.Lock()
			t.keyStats = append(t.keyStats, op.Stats())
			t.sampleMu.Unlock()
			continue
		}
		inst, err := t.instantiate(s, s.UDF)
		if err != nil {
			return fmt.Errorf("step %q: %w", s.ID, err)
		}
		switch s.Kind {
		case spec.KindProcess, spec.KindCoProcess:
			p, err := t.newProcessStep(s, inst)
			if err != nil {
				inst.Close(t.ctx, false)
				return err
			}
			t.timed = append(t.timed, p)
			if s.Kind == spec.KindCoProcess {
				inst.SetBroadcastSecond(t.broadcastInput(1))
				t.ops = append(t.ops, coProcessStep{p})
			} else {
				t.ops = append(t.ops, p)
			}
		default:
			t.ops = append(t.ops, udfStep{inst, s.ID})
		}
		t.sampleMu.Lock()
		t.opsSnapshot = append(t.opsSnapshot, inst)
		t.sampleMu.Unlock()
		if err := t.bindState(s, inst); err != nil {
			return err
		}
		inst.SetTaskInfo(t.taskInfo(s))
		if err := inst.Open(t.ctx, s.Config); err != nil {
			return fmt.Errorf("step %q: opening: %w", s.ID, err)
		}
	}
	for _, out := range t.desc.Outputs {
		wr, err := t.writer(out)
		if err != nil {
			return err
		}
		t.writers = append(t.writers, wr)
		if out.Tag == "" {
			t.mainWriters = append(t.mainWriters, wr)
		} else {
			if t.sideWriters == nil {
				t.sideWriters = map[string][]*exchange.Writer{}
			}
			k := sideKey(out.TagStep, out.Tag)
			t.sideWriters[k] = append(t.sideWriters[k], wr)
		}
	}
	return nil
}

// partitionings maps an edge's partitioning to the writer's.
var partitionings = map[string]exchange.Partitioning{
	jobgraph.Forward:   exchange.PartitionForward,
	jobgraph.Rebalance: exchange.PartitionRebalance,
	jobgraph.Rescale:   exchange.PartitionRescale,
	jobgraph.Hash:      exchange.PartitionHash,
	jobgraph.Broadcast: exchange.PartitionBroadcast,
	jobgraph.Global:    exchange.PartitionGlobal,
}

// local reports whether peer subtask i of gate runs on this worker.
func (t *task) local(g jobgraph.Gate, i int) bool {
	return len(g.PeerWorkers) == 0 || g.PeerWorkers[i] == t.w.opts.ID
}

// writer builds the writer of one output edge: a local gate for each downstream
// subtask on this worker, a remote channel over NATS for each one elsewhere.
func (t *task) writer(out jobgraph.Gate) (*exchange.Writer, error) {
	mode, ok := partitionings[out.Partitioning]
	if !ok {
		return nil, fmt.Errorf("edge %d: unknown partitioning %q", out.Edge, out.Partitioning)
	}
	outs := make([]exchange.Output, out.PeerParallel)
	for i := range outs {
		k := exchange.Key{JobID: t.desc.Task.JobID, Attempt: t.desc.Task.Attempt, Edge: out.Edge, Subtask: i}
		if t.local(out, i) {
			outs[i] = t.w.registry.Gate(k, t.desc.Parallelism)
			continue
		}
		ro, err := t.w.net.Dial(k, t.desc.Task.Subtask, &t.stats)
		if err != nil {
			closeOutputs(outs[:i])
			return nil, err
		}
		outs[i] = ro
	}
	maxP := t.desc.MaxParallelism
	w, err := exchange.NewWriter(outs, exchange.WriterOptions{
		Mode:           mode,
		Channel:        t.desc.Task.Subtask,
		Upstream:       t.desc.Parallelism,
		MaxParallelism: maxP,
		KeyGroup:       func(key []byte) int { return keygroup.Of(key, maxP) },
		Blocked:        &t.blocked,
	})
	if err != nil {
		closeOutputs(outs)
		return nil, fmt.Errorf("edge %d: %w", out.Edge, err)
	}
	return w, nil
}

// closeOutputs closes the remote outputs among outs (local gates need nothing).
func closeOutputs(outs []exchange.Output) {
	for _, o := range outs {
		if c, ok := o.(interface{ Close() }); ok {
			c.Close()
		}
	}
}

// inputGate returns the gate of the task's input edge, attached to NATS for the
// upstream subtasks on other workers.
func (t *task) inputGate(in jobgraph.Gate) (*exchange.Gate, error) {
	g := t.w.registry.Gate(exchange.Key{JobID: t.desc.Task.JobID, Attempt: t.desc.Task.Attempt, Edge: in.Edge, Subtask: t.desc.Task.Subtask}, in.PeerParallel)
	var remote []int
	for i := range in.PeerParallel {
		if !t.local(in, i) {
			remote = append(remote, i)
		}
	}
	if err := t.w.net.Attach(g, remote); err != nil {
		return nil, err
	}
	return g, nil
}

func (t *task) instantiate(s spec.Step, ref *spec.UDFRef) (*wasmhost.Instance, error) {
	if ref == nil {
		return nil, fmt.Errorf("step kind %q cannot run in a chain yet", s.Kind)
	}
	digest := ref.Digest
	mod := t.w.rt.Cached(digest)
	if mod == nil {
		wasm, err := t.w.modules.Fetch(t.ctx, digest)
		if err != nil {
			return nil, err
		}
		if mod, err = t.w.rt.Load(t.ctx, digest, wasm); err != nil {
			return nil, err
		}
	}
	lim := wasmhost.Limits{Memory: s.Limits.Memory, CallTimeout: s.Limits.CallTimeout}
	return mod.Instantiate(t.ctx, ref.Function, lim, t.logger.With("step", s.ID))
}

// openFunction instantiates and opens function ref of step s outside the chain
// (a window's functions), counting it in the task's metrics and closing it with
// the task.
func (t *task) openFunction(s spec.Step, ref *spec.UDFRef) (*wasmhost.Instance, error) {
	inst, err := t.instantiate(s, ref)
	if err != nil {
		return nil, fmt.Errorf("step %q: %w", s.ID, err)
	}
	t.extra = append(t.extra, inst)
	t.sampleMu.Lock()
	t.opsSnapshot = append(t.opsSnapshot, inst)
	t.sampleMu.Unlock()
	inst.SetTaskInfo(t.taskInfo(s))
	if err := inst.Open(t.ctx, s.Config); err != nil {
		return nil, fmt.Errorf("step %q: opening %s: %w", s.ID, ref.Function, err)
	}
	return inst, nil
}

func (t *task) teardown() {
	for _, op := range t.ops {
		if err := op.Close(t.ctx, t.finished); err != nil {
			t.logger.Warn("closing UDF", "err", err)
		}
	}
	for _, inst := range t.extra {
		if err := inst.Close(t.ctx, t.finished); err != nil {
			t.logger.Warn("closing UDF", "err", err)
		}
	}
	for _, w := range t.writers {
		w.Close()
	}
	if t.cp != nil {
		t.cp.close()
	}
}

// taskInfo is what weir.task_info tells step s's UDF (sdk/ABI.md §4.3).
func (t *task) taskInfo(s spec.Step) []byte {
	b, _ := json.Marshal(map[string]any{
		"job_id": t.desc.Task.JobID, "job_name": t.desc.JobName, "step": s.ID,
		"subtask": t.desc.Task.Subtask, "parallelism": t.desc.Parallelism,
		"max_parallelism": t.desc.MaxParallelism, "attempt": t.desc.Task.Attempt,
	})
	return b
}

// push runs a batch through the chain, hands the result on and commits the
// state the batch changed.
func (t *task) push(b *record.Batch) error { return t.pushInput(0, b) }

// pushInput is push for a batch of input k of the chain's first step.
func (t *task) pushInput(k int, b *record.Batch) error {
	start := time.Now()
	defer func() { t.pushing.Add(int64(time.Since(start))) }()
	if len(t.opsSnapshot) > 0 {
		if err := failpoint.Check(failpoint.UDF, t.desc.Task.Attempt, t.cp.completed.Load()); err != nil {
			return err
		}
	}
	if err := t.pushChain(k, b); err != nil {
		return err
	}
	return t.cp.commitState()
}

// udfStep is a map, filter, flat_map, reduce or key_selector function in the
// chain.
type udfStep struct {
	*wasmhost.Instance
	id string
}

func (u udfStep) stepID() string { return u.id }

// sideOutputs implements sided.
func (u udfStep) sideOutputs(write func(string, *record.Batch) error) error {
	return instanceSideOutputs(u.Instance, write)
}

// instanceSideOutputs hands write what a function's last call emitted to its
// side outputs.
func instanceSideOutputs(inst *wasmhost.Instance, write func(string, *record.Batch) error) error {
	names := inst.SideOutputNames()
	for k, b := range inst.SideOutputs() {
		if err := write(names[k], b); err != nil {
			return err
		}
	}
	return nil
}

// broadcastInput reports whether input k of the chain's first step reads a
// broadcast edge.
func (t *task) broadcastInput(k int) bool {
	for _, in := range t.desc.Inputs {
		if in.Input == k && in.Partitioning == jobgraph.Broadcast {
			return true
		}
	}
	return false
}

// unionStep merges its inputs: every record of each goes on as it is.
type unionStep struct{}

func (unionStep) Process(_ context.Context, b *record.Batch) (*record.Batch, error) { return b, nil }
func (unionStep) ProcessInput(_ context.Context, _ int, b *record.Batch) (*record.Batch, error) {
	return b, nil
}
func (unionStep) Close(context.Context, bool) error { return nil }

// multiInput is the first step of a chain that reads several inputs: a union,
// a join, a co_process function.
type multiInput interface {
	operator
	// ProcessInput is Process for a batch of input k.
	ProcessInput(ctx context.Context, k int, b *record.Batch) (*record.Batch, error)
}

func (t *task) pushChain(k int, b *record.Batch) error {
	if len(t.ops) == 0 {
		return t.pushFrom(0, b)
	}
	m, ok := t.ops[0].(multiInput)
	if !ok {
		return t.pushFrom(0, b)
	}
	out, err := m.ProcessInput(t.ctx, k, b)
	if err != nil {
		return err
	}
	if err := t.side(m); err != nil {
		return err
	}
	if out.Len() == 0 {
		return nil
	}
	return t.pushFrom(1, out)
}

// sided is a step of the chain with side outputs.
type sided interface {
	// sideOutputs calls write with the records each of its side outputs got
	// from its last call, by side output name.
	sideOutputs(write func(name string, b *record.Batch) error) error
	// stepID is the step's id: side outputs are named by step and name.
	stepID() string
}

// side hands the side-output records of op's last call to the edges that read
// them; unread side outputs are dropped, as in Flink.
func (t *task) side(op operator) error {
	s, ok := op.(sided)
	if !ok || len(t.sideWriters) == 0 {
		return nil
	}
	id := s.stepID()
	return s.sideOutputs(func(name string, b *record.Batch) error {
		if b.Len() == 0 {
			return nil
		}
		for _, wr := range t.sideWriters[sideKey(id, name)] {
			if err := wr.Write(t.ctx, b); err != nil {
				return err
			}
		}
		return nil
	})
}

// sideKey names side output name of step id in task.sideWriters.
func sideKey(id, name string) string { return id + "#" + name }

// pushFrom runs b through the chain from operator i on and hands the result to
// the sink and the main outputs.
func (t *task) pushFrom(i int, b *record.Batch) error {
	for _, op := range t.ops[i:] {
		out, err := op.Process(t.ctx, b)
		if err != nil {
			return err
		}
		if err := t.side(op); err != nil {
			return err
		}
		if b = out; b.Len() == 0 {
			return nil
		}
	}
	t.recordsOut.Add(uint64(b.Len()))
	t.bytesOut.Add(uint64(b.Size()))
	switch {
	case t.cp.eoSink != nil:
		if err := t.cp.eoSink.Write(b); err != nil {
			return err
		}
	case t.sink != nil:
		if err := t.sink.Write(t.ctx, b); err != nil {
			return err
		}
	}
	for _, w := range t.mainWriters {
		if err := w.Write(t.ctx, b); err != nil {
			return err
		}
	}
	return nil
}

func (t *task) flush() error {
	if len(t.timed) > 0 {
		if err := t.fireProcessingTime(time.Now()); err != nil {
			return err
		}
	}
	if eo := t.cp.eoSink; eo != nil {
		if err := eo.Reap(); err != nil {
			return err
		}
	}
	if err := t.cp.cleanupExpired(); err != nil {
		return err
	}
	for _, w := range t.writers {
		if err := w.Flush(t.ctx); err != nil {
			return err
		}
	}
	return nil
}

// marker hands progress positions on: a sink reports them once its publishes are
// acknowledged; other tasks forward them behind the records they wrote.
func (t *task) marker(pos map[string]uint64) error {
	if t.sink != nil {
		if err := t.sink.Sync(t.ctx); err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(t.ctx, 10*time.Second)
		defer cancel()
		if err := t.w.control.ReportProgress(ctx, api.Progress{Task: t.desc.Task, Positions: pos}); err != nil {
			t.logger.Warn("reporting progress", "err", err)
		}
	}
	for _, w := range t.writers {
		if err := w.Broadcast(t.ctx, exchange.Marker, pos); err != nil {
			return err
		}
	}
	return nil
}

// end finishes the task after its last input: flush, tell downstream, wait for
// acks. stopSavepoint, when not 0, is the stop-with-savepoint the end follows.
func (t *task) end(stopSavepoint uint64) error {
	if err := t.cp.awaitStop(stopSavepoint); err != nil {
		return err
	}
	for _, w := range t.writers {
		if err := w.End(t.ctx, stopSavepoint); err != nil {
			return err
		}
		if err := w.Drain(t.ctx); err != nil {
			return err
		}
	}
	if eo := t.cp.eoSink; eo != nil {
		if err := eo.Flush(t.ctx); err != nil {
			return err
		}
	} else if t.sink != nil {
		if err := t.sink.Sync(t.ctx); err != nil {
			return err
		}
	}
	t.finished = true
	return nil
}

func (t *task) flushTicker() *time.Ticker {
	d := t.desc.BufferTimeout
	if d <= 0 {
		d = time.Millisecond
	}
	return time.NewTicker(d)
}

// setupSources creates the readers of a source step: one for an unpartitioned
// stream; for a partitioned one, one per partition this subtask owns (partition p
// belongs to subtask p mod parallelism), possibly none.
func (t *task) setupSources(s spec.Step) {
	t.srcOut = make(chan *connector.SourceBatch, 4)
	cfg := *s.Source
	if cfg.Partitions == nil {
		t.posKeys = []string{s.ID}
		t.sources = []*connector.Source{connector.NewPartitionlessSource(t.w.srcJS, cfg, t.desc.ResumeAfter[s.ID], t.srcOut)}
		return
	}
	for p := t.desc.Task.Subtask; p < cfg.Partitions.Count; p += t.desc.Parallelism {
		key := spec.PartitionPosition(s.ID, p)
		t.sources = append(t.sources, connector.NewPartitionSource(t.w.srcJS, cfg, p, t.desc.ResumeAfter[key], len(t.posKeys), t.srcOut))
		t.posKeys = append(t.posKeys, key)
	}
	if len(t.sources) == 0 {
		t.logger.Info("source subtask owns no partition; it stays idle", "partitions", cfg.Partitions.Count)
	}
}

func (t *task) runSource() error {
	srcErr := make(chan error, len(t.sources))
	for _, src := range t.sources {
		go func() { srcErr <- src.Run(t.stop, t.ctx) }()
	}
	markers := time.NewTicker(markerInterval)
	defer markers.Stop()
	// Without a timestamps rule the source sends no watermarks: its ticker
	// channel stays nil.
	var watermarks <-chan time.Time
	if t.gen != nil {
		wt := time.NewTicker(watermarkInterval)
		defer wt.Stop()
		watermarks = wt.C
	}
	flush := t.flushTicker()
	defer flush.Stop()
	// pos holds every owned partition's position from the start (its resume
	// point), so that downstream alignment sees all of them in every marker.
	pos := make(map[string]uint64, len(t.posKeys))
	for _, k := range t.posKeys {
		pos[k] = t.desc.ResumeAfter[k]
	}
	// The first marker goes out even if nothing is read: idle subtasks too.
	// With checkpointing, positions travel in checkpoints instead of markers.
	moved := t.desc.Checkpointing == nil
	mark := func() error {
		if !moved || t.desc.Checkpointing != nil {
			return nil
		}
		moved = false
		return t.marker(maps.Clone(pos))
	}
	handle := func(b *connector.SourceBatch) error {
		t.recordsIn.Add(uint64(b.Batch.Len()))
		t.bytesIn.Add(uint64(b.Batch.Size()))
		if err := t.push(&b.Batch); err != nil {
			return err
		}
		if t.gen != nil {
			maxTS, punct, punctuated := t.assign.lastBatch()
			if maxTS != math.MinInt64 || punctuated {
				t.gen.Observe(b.Reader, maxTS, time.Now())
			}
			if punctuated {
				t.gen.Punctuate(b.Reader, punct)
			}
		}
		pos[t.posKeys[b.Reader]] = b.LastSeq
		moved = true
		t.sources[b.Reader].Recycle(b)
		if t.desc.BufferTimeout <= 0 {
			return t.flush()
		}
		return nil
	}
	running := len(t.sources)
	stop := t.stop.Done()
	// After a stop-with-savepoint's barrier the source reads nothing more: it
	// ends when the savepoint completes and reads on if it is aborted.
	var stopping, draining uint64
	in := t.srcOut
	for {
		select {
		case b := <-in:
			if err := handle(b); err != nil {
				return err
			}
		case err := <-srcErr:
			if err != nil {
				return err
			}
			if running--; running > 0 {
				continue
			}
			if t.ctx.Err() != nil {
				return nil
			}
			// Every reader has handed its last batch over before returning.
			for len(t.srcOut) > 0 {
				if err := handle(<-t.srcOut); err != nil {
					return err
				}
			}
			if err := mark(); err != nil {
				return err
			}
			return t.end(0)
		case <-stop:
			if len(t.sources) > 0 {
				stop = nil // the readers end their reads and return
				continue
			}
			if err := mark(); err != nil {
				return err
			}
			return t.end(0)
		case <-markers.C:
			if err := mark(); err != nil {
				return err
			}
		case now := <-watermarks:
			if st, changed := t.gen.Tick(now); changed {
				if err := t.advanceEventTime(st); err != nil {
					return err
				}
			}
		case ev := <-t.checkpoints:
			var err error
			switch {
			case ev.Kind == api.CheckpointTrigger:
				if ev.Stop && ev.Drain {
					// Event time ends before the barrier, so that every window
					// fires within the savepoint's interval.
					if err := t.advanceEventTime(watermark.Status{Watermark: maxWatermark}); err != nil {
						return err
					}
					watermarks, draining = nil, ev.ID
				}
				err = t.cp.snapshot(ev, maps.Clone(pos), 0)
				if ev.Stop && err == nil {
					stopping, in = ev.ID, nil
				}
			case ev.ID == stopping && ev.Kind == api.CheckpointComplete:
				if err := t.cp.notified(ev); err != nil {
					return err
				}
				return t.endAfterSavepoint(srcErr, running, ev.ID)
			case ev.ID == stopping && draining == ev.ID:
				// Event time is over: what would be read now would be late.
				return fmt.Errorf("stop with drain: savepoint %d failed after event time advanced to its end; the job restarts from its last checkpoint", ev.ID)
			case ev.ID == stopping:
				t.logger.Info("stop-with-savepoint aborted: reading on", "savepoint", ev.ID)
				stopping, in = 0, t.srcOut
			default:
				err = t.cp.notified(ev)
			}
			if err != nil {
				return err
			}
		case <-flush.C:
			if err := t.flush(); err != nil {
				return err
			}
		case <-t.ctx.Done():
			return nil
		}
	}
}

// endAfterSavepoint ends a source task once its stop-with-savepoint completed:
// its readers stop, what they read after the barrier is dropped (the savepoint's
// positions are before it), and the end tells downstream which savepoint it
// follows.
func (t *task) endAfterSavepoint(srcErr <-chan error, running int, savepoint uint64) error {
	t.stopSource()
	for running > 0 {
		select {
		case b := <-t.srcOut:
			t.sources[b.Reader].Recycle(b)
		case err := <-srcErr:
			if err != nil {
				return err
			}
			running--
		case <-t.ctx.Done():
			return nil
		}
	}
	return t.end(savepoint)
}

func (t *task) runInput() error {
	in := &inputLoop{t: t}
	channels := 0
	for _, g := range t.desc.Inputs {
		gate, err := t.inputGate(g)
		if err != nil {
			return err
		}
		in.gates = append(in.gates, gate)
		in.offsets = append(in.offsets, channels)
		in.inputOf = append(in.inputOf, g.Input)
		channels += gate.Channels()
	}
	if len(in.gates) == 0 {
		return errors.New("a task without a source reads no input")
	}
	t.sampleMu.Lock()
	t.gates = append(t.gates, in.gates...)
	t.sampleMu.Unlock()
	in.latest, in.closed = make([]map[string]uint64, channels), make([]bool, channels)
	t.tracker = watermark.NewTracker(channels)
	recv, failed := in.gates[0].C(), in.gates[0].Err()
	if len(in.gates) > 1 {
		recv, failed = t.fanIn(in.gates)
	}
	flush := t.flushTicker()
	defer flush.Stop()
	cp := t.cp
	for {
		if len(cp.ready) > 0 {
			buf := cp.ready[0]
			cp.ready = cp.ready[1:]
			if err := in.handle(buf); err != nil || in.done {
				return err
			}
			continue
		}
		select {
		case buf := <-recv:
			if err := in.handle(buf); err != nil || in.done {
				return err
			}
		case ev := <-t.checkpoints:
			if err := cp.notified(ev); err != nil {
				return err
			}
		case err := <-failed:
			return err
		case <-flush.C:
			if err := t.flush(); err != nil {
				return err
			}
		case <-t.ctx.Done():
			return nil
		}
	}
}

// fanIn merges the buffers of several gates into one channel, each marked with
// its gate's index, and their failures into another. The buffers keep their
// room in their gates until the loop takes them, so backpressure is per gate as
// with one.
func (t *task) fanIn(gates []*exchange.Gate) (<-chan *exchange.Buffer, <-chan error) {
	out := make(chan *exchange.Buffer)
	failed := make(chan error, len(gates))
	for k, g := range gates {
		go func() {
			for {
				select {
				case b := <-g.C():
					b.Input = k
					select {
					case out <- b:
					case <-t.ctx.Done():
						return
					}
				case err := <-g.Err():
					failed <- err
					return
				case <-t.ctx.Done():
					return
				}
			}
		}()
	}
	return out, failed
}

// inputLoop is the state of an input task's loop over its gates. Channels are
// numbered across the gates: gate k's channel c is offsets[k]+c, for the
// barrier aligner, the watermark tracker and the progress markers.
type inputLoop struct {
	t       *task
	gates   []*exchange.Gate
	offsets []int
	// inputOf is, per gate, the input of the chain's first step it feeds.
	inputOf []int
	latest  []map[string]uint64
	closed  []bool
	aligned map[string]uint64
	ended   int
	done    bool // the last channel ended and the task finished
	// stopSavepoint is the stop-with-savepoint the inputs' ends follow, if any.
	stopSavepoint uint64
}

// handle processes one buffer from a gate, or holds it back while its channel
// is blocked by a barrier alignment.
func (in *inputLoop) handle(buf *exchange.Buffer) error {
	t, gate, cp := in.t, in.gates[buf.Input], in.t.cp
	ch := in.offsets[buf.Input] + buf.Channel
	if cp.aligner != nil && cp.aligner.Blocked(ch) {
		cp.stash = append(cp.stash, buf)
		return nil
	}
	switch buf.Kind {
	case exchange.Data:
		t.recordsIn.Add(uint64(buf.Batch.Len()))
		t.bytesIn.Add(uint64(buf.Batch.Size()))
		err := t.pushInput(in.inputOf[buf.Input], &buf.Batch)
		gate.Took(buf)
		exchange.Release(buf)
		if err != nil {
			return err
		}
		if t.desc.BufferTimeout <= 0 {
			return t.flush()
		}
	case exchange.Marker:
		gate.Took(buf)
		in.latest[ch] = buf.Positions
		if pos, ok := alignMarkers(in.latest, in.closed); ok && !samePositions(pos, in.aligned) {
			in.aligned = pos
			return t.marker(pos)
		}
	case exchange.Watermark:
		gate.Took(buf)
		var (
			st      watermark.Status
			changed bool
		)
		if buf.Idle {
			st, changed = t.tracker.Idle(ch, true)
		} else {
			st, changed = t.tracker.Watermark(ch, buf.Watermark)
		}
		exchange.Release(buf)
		if changed {
			return t.advanceEventTime(st)
		}
	case exchange.Barrier:
		gate.Took(buf)
		if cp.aligner == nil {
			return fmt.Errorf("barrier %d on channel %d, but the job takes no checkpoints", buf.Checkpoint, ch)
		}
		if cp.aligner.Aligning() == 0 {
			cp.alignStart = time.Now()
		}
		if buf.Savepoint {
			cp.savepointBarriers[buf.Checkpoint] = true
		}
		r := cp.aligner.Barrier(ch, buf.Checkpoint)
		return in.onAlign(r)
	case exchange.EndOfPartition:
		gate.Took(buf)
		in.ended++
		in.closed[ch] = true
		in.stopSavepoint = max(in.stopSavepoint, buf.Checkpoint)
		if cp.aligner != nil {
			if err := in.onAlign(cp.aligner.End(ch)); err != nil {
				return err
			}
		}
		if in.ended == len(in.closed) {
			in.done = true
			return t.end(in.stopSavepoint)
		}
	}
	return nil
}

// onAlign acts on the aligner's answer.
func (in *inputLoop) onAlign(r barrier.Result) error {
	cp := in.t.cp
	if r.Abort != 0 {
		in.t.logger.Info("checkpoint overtaken by a newer barrier before its alignment ended", "checkpoint", r.Abort)
		cp.releaseStash()
		cp.alignStart = time.Now()
	}
	if r.Snapshot == 0 {
		return nil
	}
	ev := api.CheckpointEvent{JobID: in.t.desc.Task.JobID, Attempt: in.t.desc.Task.Attempt, ID: r.Snapshot, Kind: api.CheckpointTrigger,
		Savepoint: cp.savepointBarriers[r.Snapshot]}
	for id := range cp.savepointBarriers {
		if id <= r.Snapshot {
			delete(cp.savepointBarriers, id)
		}
	}
	err := cp.snapshot(ev, nil, time.Since(cp.alignStart))
	cp.releaseStash()
	return err
}

// alignMarkers returns, per source position key, a position every record up to
// which has arrived, once every open channel has sent a marker. A key travels only
// on the channels its records can take, and every marker an upstream subtask sends
// carries all the keys of its own inputs, so a channel without a key never holds
// records of it. For a key some open channel carries, that is the smallest position
// over the open channels carrying it: a closed channel sent all it ever will. For a
// key only closed channels carried (its source has ended), it is their last one.
func alignMarkers(latest []map[string]uint64, closed []bool) (map[string]uint64, bool) {
	open := 0
	for c, m := range latest {
		if closed[c] {
			continue
		}
		open++
		if m == nil {
			// A channel without a marker yet holds the alignment back.
			return nil, false
		}
	}
	if open == 0 {
		return nil, false
	}
	out := map[string]uint64{}
	lower := func(k string, v uint64) {
		if cur, ok := out[k]; !ok || v < cur {
			out[k] = v
		}
	}
	for c, m := range latest {
		if !closed[c] {
			for k, v := range m {
				lower(k, v)
			}
		}
	}
	ended := map[string]uint64{}
	for c, m := range latest {
		if !closed[c] {
			continue
		}
		for k, v := range m {
			if _, live := out[k]; live {
				continue
			}
			if cur, ok := ended[k]; !ok || v < cur {
				ended[k] = v
			}
		}
	}
	for k, v := range ended {
		out[k] = v
	}
	return out, true
}

func samePositions(a, b map[string]uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
