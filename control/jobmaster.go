package control

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/weir-streams/weir/control/checkpoint"
	"github.com/weir-streams/weir/control/plan"
	"github.com/weir-streams/weir/control/restart"
	"github.com/weir-streams/weir/internal/api"
	"github.com/weir-streams/weir/internal/jobgraph"
	"github.com/weir-streams/weir/internal/spec"
)

// progressInterval is how often a job's progress is saved.
const progressInterval = time.Second

// SubtaskStatus is one subtask as the job API shows it.
type SubtaskStatus struct {
	Index      int    `json:"index"`
	Worker     string `json:"worker"`
	Status     string `json:"status"`
	RecordsIn  uint64 `json:"records_in"`
	RecordsOut uint64 `json:"records_out"`
	BytesIn    uint64 `json:"bytes_in"`
	BytesOut   uint64 `json:"bytes_out"`
	// BuffersInFlight is how many buffers this subtask has sent that its receivers
	// have not taken yet.
	BuffersInFlight int `json:"buffers_in_flight"`
	// Backpressure is the share of the last measuring interval (0..1) the subtask
	// spent waiting for downstream capacity (credit); Busy the share it spent working.
	Backpressure float64 `json:"backpressure"`
	Busy         float64 `json:"busy"`
	// Watermark is the subtask's event-time clock in ms: the watermark its
	// inputs have reached (math.MinInt64 before the first). Absent when the
	// subtask does not follow event time. WatermarkIdle says all its inputs are
	// idle.
	Watermark     *int64 `json:"watermark,omitempty"`
	WatermarkIdle bool   `json:"watermark_idle,omitempty"`
	// LateRecords counts records that came after their windows' allowed
	// lateness; InvalidTimestamps records dropped for want of a timestamp.
	LateRecords       uint64 `json:"late_records,omitempty"`
	InvalidTimestamps uint64 `json:"invalid_timestamps,omitempty"`
	// ExchangeBytesOut counts the bytes the subtask sent to other processes over NATS.
	ExchangeBytesOut uint64 `json:"exchange_bytes_out"`
	// InputQueued is how many buffers from other processes wait in the subtask's
	// input, and InputCredit how many it has room for (queued plus outstanding
	// credit); credit-based flow control keeps InputQueued ≤ InputCredit.
	InputQueued int `json:"input_queued"`
	InputCredit int `json:"input_credit"`
	// WasmCallSeconds is the time the subtask's UDFs have spent in Wasm calls;
	// WasmMemoryBytes the size of their linear memories.
	WasmCallSeconds float64 `json:"wasm_call_seconds"`
	WasmMemoryBytes uint64  `json:"wasm_memory_bytes"`
	// KeyedNull counts records a key_by by JSON field keyed null: the field was
	// missing, or its value unusable as a key.
	KeyedNull uint64 `json:"keyed_null"`
}

// jobMaster runs one job: it schedules the job onto slots, deploys its subtasks,
// follows their states and saves its progress. Its goroutine owns the job's
// lifecycle; mu guards what the REST API reads.
type jobMaster struct {
	c      *Control
	logger *slog.Logger
	graph  *jobgraph.JobGraph
	events chan any
	done   chan struct{}

	mu    sync.Mutex
	rec   JobRecord                          // guarded by mu
	rev   uint64                             // guarded by mu
	tasks map[jobgraph.TaskID]*SubtaskStatus // guarded by mu

	// Owned by the run goroutine.
	policy   restart.Policy
	slots    []slot
	workers  map[string]api.Worker // the current attempt's workers
	lost     map[string]bool       // workers of the current attempt that were lost
	sinkPos  map[jobgraph.TaskID]map[string]uint64
	saved    map[string]uint64
	progRev  uint64
	dirty    bool
	failing  bool
	failedAt time.Time // when the current attempt started failing
	cancel   bool
	shutdown bool

	// coord is the job's checkpoint coordinator; nil without checkpointing.
	coord *checkpoint.Coordinator
	// cpList is what GET /jobs/{id}/checkpoints shows; guarded by mu.
	cpList CheckpointList
	// savepoints are the savepoints in progress, by id; stopping is the
	// stop-with-savepoint in progress, stopped the one that completed, after
	// which the attempt ends; rescaleTo restarts the job at new parallelisms
	// from it.
	// notified counts the completions notified in this attempt.
	notified   int64
	savepoints map[string]spRequest
	// savepointIDs maps the coordinator's ids of savepoints in progress to theirs.
	savepointIDs map[uint64]string
	// fromSavepoint is the savepoint the job started (or rescaled) from.
	fromSavepoint *checkpoint.Metadata
	// fromCommitted says fromSavepoint's sink records were published when its
	// job stopped.
	fromCommitted bool
	// fromForeign says fromSavepoint is another job's retained checkpoint.
	fromForeign bool
	stopping    string
	stopped     string
	rescaleTo   *RescaleRequest
}

// failingTimeout bounds how long a failing attempt waits for its subtasks to
// report their end before the job master gives up on them.
const failingTimeout = 30 * time.Second

type (
	evTaskState  struct{ s api.TaskState }
	evProgress   struct{ p api.Progress }
	evCancel     struct{}
	evShutdown   struct{}
	evWorkerLost struct{ id, reason string }
	// evCheckpointAck is a subtask's acknowledgement or decline of a checkpoint.
	evCheckpointAck struct{ ack api.CheckpointAck }
)

func (c *Control) startJobMaster(rec *JobRecord, rev uint64, graph *jobgraph.JobGraph, resume map[string]uint64) *jobMaster {
	m := &jobMaster{
		c:            c,
		logger:       c.logger.With("job", rec.ID, "job_name", rec.Name),
		graph:        graph,
		events:       make(chan any, 256),
		done:         make(chan struct{}),
		rec:          *rec,
		rev:          rev,
		tasks:        map[jobgraph.TaskID]*SubtaskStatus{},
		sinkPos:      map[jobgraph.TaskID]map[string]uint64{},
		saved:        resume,
		workers:      map[string]api.Worker{},
		lost:         map[string]bool{},
		policy:       restart.New(rec.Job.Restart),
		savepoints:   map[string]spRequest{},
		savepointIDs: map[uint64]string{},
	}
	if m.saved == nil {
		m.saved = map[string]uint64{}
	}
	c.mu.Lock()
	c.jobs[rec.ID] = m
	c.mu.Unlock()
	if isTerminal(rec.Status) {
		close(m.done)
		return m
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		defer close(m.done)
		m.run()
	}()
	return m
}

// send queues an event for the job master; it never blocks a worker for long.
func (m *jobMaster) send(ev any) {
	select {
	case m.events <- ev:
	case <-m.done:
	}
}

func (m *jobMaster) snapshot() JobRecord {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.rec
}

// setStatus records a status change and persists it.
func (m *jobMaster) setStatus(status, reason string, failure *api.Failure) {
	m.mu.Lock()
	m.rec.Status, m.rec.Reason, m.rec.UpdatedAt = status, reason, time.Now().UTC()
	if failure != nil {
		m.rec.Exceptions = append(m.rec.Exceptions, *failure)
		if len(m.rec.Exceptions) > maxExceptions {
			m.rec.Exceptions = m.rec.Exceptions[len(m.rec.Exceptions)-maxExceptions:]
		}
	}
	rec, rev := m.rec, m.rev
	m.mu.Unlock()
	m.persist(rec, rev)
}

func (m *jobMaster) persist(rec JobRecord, rev uint64) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	n, err := m.c.store.put(ctx, jobKey(rec.ID), rev, &rec)
	if err != nil {
		m.logger.Error("saving job record", "err", err)
		return
	}
	m.mu.Lock()
	m.rev = n
	m.mu.Unlock()
}

func (m *jobMaster) run() {
	if err := m.openCheckpoints(); err != nil {
		m.logger.Error("opening checkpoints", "err", err)
		m.setStatus(StatusFailed, err.Error(), &api.Failure{Time: time.Now().UTC(), Kind: "checkpoint", Message: err.Error()})
		return
	}
	for {
		if !m.schedule() {
			return
		}
		m.deploy()
		m.runAttempt()
		m.saveProgress()
		m.c.slots.release(m.slots)
		m.slots = nil
		m.c.notifySlots()
		if m.stopped != "" && !m.failing {
			m.stoppedCleanly()
		}
		if m.rescaleTo != nil && !m.failing && !m.cancel && !m.shutdown {
			if err := m.rescale(); err != nil {
				m.setStatus(StatusFailed, err.Error(), &api.Failure{Time: time.Now().UTC(), Kind: "rescale", Message: err.Error()})
				return
			}
			m.resetAttempt()
			continue
		}
		if !m.failing || m.cancel || m.shutdown {
			m.finish()
			return
		}
		if !m.restart() {
			return
		}
	}
}

// runAttempt follows the current attempt until every subtask has ended.
func (m *jobMaster) runAttempt() {
	tick := time.NewTicker(progressInterval)
	defer tick.Stop()
	var cpTick <-chan time.Time
	if m.coord != nil {
		t := time.NewTicker(checkpointTick)
		defer t.Stop()
		cpTick = t.C
	}
	for {
		select {
		case ev := <-m.events:
			if m.handle(ev) {
				return
			}
		case now := <-cpTick:
			if !m.failing && !m.cancel && !m.shutdown && m.allRunning() {
				m.act(m.coord.Tick(now))
			}
		case <-tick.C:
			m.saveProgress()
			if m.failing && time.Since(m.failedAt) > failingTimeout {
				m.abandonTasks()
				if m.allEnded() {
					return
				}
			}
		}
	}
}

// abandonTasks marks the subtasks that never reported their end as failed.
func (m *jobMaster) abandonTasks() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for id, t := range m.tasks {
		if !isTaskTerminal(t.Status) {
			m.logger.Warn("subtask did not report its end; giving up on it", "task", id.String(), "worker", t.Worker)
			t.Status = api.TaskFailed
		}
	}
}

// restart asks the restart policy and, if it allows, waits out its delay in
// RESTARTING; it returns false when the job ended instead (failed for good,
// canceled or shut down while waiting).
func (m *jobMaster) restart() bool {
	reason := m.snapshot().Reason
	delay, ok := m.policy.Failure(time.Now())
	if !ok {
		m.setStatus(StatusFailed, reason, nil)
		return false
	}
	m.setStatus(StatusRestarting, fmt.Sprintf("restarting in %s after: %s", delay, reason), nil)
	m.logger.Info("restarting job", "delay", delay, "reason", reason)
	timer := time.NewTimer(delay)
	defer timer.Stop()
	for {
		select {
		case <-timer.C:
			m.resetAttempt()
			return true
		case ev := <-m.events:
			switch ev.(type) {
			case evCancel:
				m.setStatus(StatusCanceled, "canceled while restarting", nil)
				return false
			case evShutdown:
				m.logger.Info("job suspended for shutdown while restarting")
				return false
			}
		}
	}
}

// resetAttempt forgets the ended attempt's subtasks before the next one.
func (m *jobMaster) resetAttempt() {
	m.mu.Lock()
	m.tasks = map[jobgraph.TaskID]*SubtaskStatus{}
	m.mu.Unlock()
	m.workers = map[string]api.Worker{}
	m.lost = map[string]bool{}
	m.sinkPos = map[jobgraph.TaskID]map[string]uint64{}
	m.failing, m.dirty = false, false
	m.notified = 0
}

// schedule waits until slots are free; it returns false if the job ended meanwhile.
func (m *jobMaster) schedule() bool {
	need := m.graph.MaxParallelism()
	for {
		slots, free := m.c.slots.allocate(need)
		if slots != nil {
			m.slots = slots
			return true
		}
		reason := fmt.Sprintf("waiting for %d free slots; %d are free", need, free)
		if m.snapshot().Reason != reason {
			m.setStatus(StatusCreated, reason, nil)
		}
		select {
		case ev := <-m.events:
			switch ev.(type) {
			case evCancel:
				m.setStatus(StatusCanceled, "canceled while waiting for slots", nil)
				return false
			case evShutdown:
				m.logger.Info("job suspended for shutdown while waiting for slots")
				return false
			}
		case <-m.c.slotsFreed():
		case <-time.After(time.Second):
		}
	}
}

func (m *jobMaster) deploy() {
	m.mu.Lock()
	m.rec.Attempt++
	m.rec.Status, m.rec.Reason, m.rec.UpdatedAt = StatusRunning, "", time.Now().UTC()
	attempt := m.rec.Attempt
	rec, rev := m.rec, m.rev
	descs := plan.Descriptors(m.graph, m.rec.Job, m.rec.ID, attempt, m.saved)
	restored := m.restoreFrom(descs)
	// With slot sharing, subtask i of every vertex runs in slot i: that tells each
	// subtask where its peers are.
	placement := make([]string, len(m.slots))
	for i, s := range m.slots {
		placement[i] = s.worker
	}
	for i := range descs {
		for _, gates := range [][]jobgraph.Gate{descs[i].Inputs, descs[i].Outputs} {
			for j := range gates {
				gates[j].PeerWorkers = placement[:gates[j].PeerParallel]
			}
		}
	}
	for _, d := range descs {
		s := m.slots[d.Task.Subtask]
		m.tasks[d.Task] = &SubtaskStatus{Index: d.Task.Subtask, Worker: s.worker, Status: api.TaskCreated}
		m.workers[s.worker] = s.w
	}
	m.mu.Unlock()
	m.persist(rec, rev)
	if m.coord != nil {
		m.mu.Lock()
		m.cpList.Restores = append(m.cpList.Restores, RestoreStats{Attempt: attempt, Checkpoint: restored, At: time.Now().UTC()})
		if n := len(m.cpList.Restores); n > 50 {
			m.cpList.Restores = m.cpList.Restores[n-50:]
		}
		m.mu.Unlock()
		m.act(m.coord.Resume(time.Now(), checkpointTasks(descs), restored))
	}
	m.policy.Running(time.Now())
	m.logger.Info("deploying job", "attempt", attempt, "subtasks", len(descs), "resume", m.saved)
	for _, d := range descs {
		s := m.slots[d.Task.Subtask]
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := s.w.DeployTask(ctx, d)
		cancel()
		if err != nil {
			m.send(evTaskState{api.TaskState{Task: d.Task, WorkerID: s.worker, State: api.TaskFailed,
				Failure: &api.Failure{Time: time.Now().UTC(), Task: d.Task.String(), Kind: "deploy", Message: err.Error()}}})
		}
	}
}

// stopAll stops every subtask of the current attempt.
func (m *jobMaster) stopAll(graceful bool) {
	attempt := m.snapshot().Attempt
	for id, w := range m.workers {
		if m.lost[id] {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := w.StopJob(ctx, m.rec.ID, attempt, graceful); err != nil {
			m.logger.Warn("stopping tasks", "worker", id, "err", err)
		}
		cancel()
	}
}

// handle applies one event; it returns true once every subtask has ended.
func (m *jobMaster) handle(ev any) bool {
	switch ev := ev.(type) {
	case evTaskState:
		if !m.applyTaskState(ev.s) {
			return false
		}
	case evCheckpointAck:
		m.onCheckpointAck(ev.ack)
		return false
	case evSavepoint:
		m.onSavepoint(ev.req)
		return false
	case evProgress:
		if ev.p.Task.Attempt == m.snapshot().Attempt {
			m.sinkPos[ev.p.Task] = ev.p.Positions
			m.dirty = true
		}
		return false
	case evCancel:
		if !m.cancel {
			m.cancel = true
			m.stopAll(false)
		}
	case evShutdown:
		m.shutdown = true
		m.stopAll(true)
	case evWorkerLost:
		if _, ok := m.workers[ev.id]; !ok {
			return false
		}
		m.lost[ev.id] = true
		lost := false
		m.mu.Lock()
		for _, t := range m.tasks {
			if t.Worker == ev.id && !isTaskTerminal(t.Status) {
				t.Status = api.TaskFailed
				lost = true
			}
		}
		m.mu.Unlock()
		if lost && !m.failing && !m.cancel {
			m.fail(ev.reason, &api.Failure{Time: time.Now().UTC(), Kind: "worker_lost", Message: ev.reason})
		}
	}
	return m.allEnded()
}

// fail starts failing the current attempt: every subtask is canceled.
func (m *jobMaster) fail(reason string, f *api.Failure) {
	m.failing, m.failedAt = true, time.Now()
	if m.coord != nil {
		m.act(m.coord.Suspend(time.Now(), reason))
	}
	m.setStatus(StatusFailing, reason, f)
	m.stopAll(false)
}

func isTaskTerminal(s string) bool {
	return s == api.TaskFinished || s == api.TaskCanceled || s == api.TaskFailed
}

// applyTaskState records a task transition; it returns false for stale reports.
func (m *jobMaster) applyTaskState(s api.TaskState) bool {
	m.mu.Lock()
	t, ok := m.tasks[s.Task]
	if !ok || s.Task.Attempt != m.rec.Attempt {
		m.mu.Unlock()
		return false
	}
	t.Status = s.State
	m.mu.Unlock()
	if f := s.Failure; s.State == api.TaskFailed && f != nil && f.Kind == api.FailureRestoreCorrupt {
		m.dropCorrupt(f)
	}
	if s.State == api.TaskFailed && !m.failing && !m.cancel {
		reason := "task " + s.Task.String() + " failed"
		if s.Failure != nil {
			reason = s.Failure.Message
		}
		m.fail(reason, s.Failure)
	}
	return true
}

func (m *jobMaster) allEnded() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, t := range m.tasks {
		if !isTaskTerminal(t.Status) {
			return false
		}
	}
	return true
}

// finish records the job's final status once all its subtasks ended.
func (m *jobMaster) finish() {
	switch {
	case m.cancel:
		// Checkpoints go before the status says the job ended, so that
		// whoever sees the end sees them gone.
		if c := m.rec.Job.Checkpointing; c != nil && !c.RetainOnCancel {
			m.dropCheckpoints()
		}
		m.setStatus(StatusCanceled, "canceled by the user", nil)
	case m.shutdown:
		// The job stays RUNNING in the store: the next control plane resumes it.
		m.logger.Info("job suspended for shutdown")
	case m.stopped != "":
		m.dropCheckpoints()
		m.setStatus(StatusFinished, "stopped with savepoint "+m.stopped, nil)
	default:
		m.dropCheckpoints()
		m.setStatus(StatusFinished, "", nil)
	}
}

// isSinkTask reports whether a subtask ends in a sink step.
func (m *jobMaster) sinkTasks() []jobgraph.TaskID {
	var out []jobgraph.TaskID
	m.mu.Lock()
	defer m.mu.Unlock()
	for id := range m.tasks {
		v := m.graph.Vertex(id.Vertex)
		if v != nil && v.Steps[len(v.Steps)-1].Kind == spec.KindSink {
			out = append(out, id)
		}
	}
	return out
}

// saveProgress writes, per source, the smallest position every sink subtask has
// reported, once all have reported and if it moved forward.
func (m *jobMaster) saveProgress() {
	if !m.dirty {
		return
	}
	sinks := m.sinkTasks()
	if len(sinks) == 0 {
		return
	}
	// A position is safe once every sink subtask that reports it has reached it;
	// each source partition's position reaches every sink subtask, since markers
	// are broadcast on every edge.
	low := map[string]uint64{}
	for _, id := range sinks {
		p, ok := m.sinkPos[id]
		if !ok {
			return
		}
		for k, v := range p {
			if cur, seen := low[k]; !seen || v < cur {
				low[k] = v
			}
		}
	}
	moved := false
	for k, v := range low {
		if v > m.saved[k] {
			moved = true
		}
	}
	if !moved {
		m.dirty = false
		return
	}
	next := map[string]uint64{}
	for k, v := range m.saved {
		next[k] = v
	}
	for k, v := range low {
		next[k] = max(next[k], v)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if m.progRev == 0 {
		var old map[string]uint64
		rev, err := m.c.store.get(ctx, progressKey(m.rec.ID), &old)
		if err == nil {
			m.progRev = rev
		}
	}
	rev, err := m.c.store.put(ctx, progressKey(m.rec.ID), m.progRev, next)
	if err != nil {
		m.logger.Error("saving progress", "err", err)
		m.progRev = 0
		return
	}
	m.progRev, m.saved, m.dirty = rev, next, false
}

// status returns the job record and the live subtask view of each vertex.
func (m *jobMaster) status() (JobRecord, map[string][]SubtaskStatus) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string][]SubtaskStatus{}
	for id, t := range m.tasks {
		out[id.Vertex] = append(out[id.Vertex], *t)
	}
	return m.rec, out
}

// metrics applies a heartbeat's counters.
func (m *jobMaster) metrics(tm api.TaskMetrics) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if t, ok := m.tasks[tm.Task]; ok && tm.Task.Attempt == m.rec.Attempt {
		t.RecordsIn, t.RecordsOut = tm.RecordsIn, tm.RecordsOut
		t.BytesIn, t.BytesOut = tm.BytesIn, tm.BytesOut
		t.BuffersInFlight, t.Backpressure, t.Busy = tm.BuffersInFlight, tm.Backpressure, tm.Busy
		t.ExchangeBytesOut = tm.ExchangeBytesOut
		t.InputQueued, t.InputCredit = tm.InputQueued, tm.InputCredit
		t.WasmCallSeconds, t.WasmMemoryBytes = float64(tm.WasmCallNanos)/1e9, tm.WasmMemoryBytes
		t.KeyedNull = tm.KeyedNull
		t.Watermark, t.WatermarkIdle = nil, tm.WatermarkIdle
		if tm.HasWatermark {
			wm := tm.Watermark
			t.Watermark = &wm
		}
		t.LateRecords, t.InvalidTimestamps = tm.LateRecords, tm.InvalidTimestamps
	}
}

// allRunning reports whether every subtask of the attempt is RUNNING: checkpoints
// are triggered only then, as in Flink.
func (m *jobMaster) allRunning() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, t := range m.tasks {
		if t.Status != api.TaskRunning {
			return false
		}
	}
	return len(m.tasks) > 0
}

// checkpoints returns what GET /jobs/{id}/checkpoints shows.
func (m *jobMaster) checkpoints() CheckpointList {
	m.mu.Lock()
	defer m.mu.Unlock()
	l := m.cpList
	l.Checkpoints, l.Restores = slices.Clone(l.Checkpoints), slices.Clone(l.Restores)
	return l
}
