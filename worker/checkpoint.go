package worker

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/weir-streams/weir/internal/api"
	"github.com/weir-streams/weir/internal/failpoint"
	"github.com/weir-streams/weir/internal/jobgraph"
	"github.com/weir-streams/weir/internal/keygroup"
	"github.com/weir-streams/weir/internal/spec"
	"github.com/weir-streams/weir/wasmhost"
	"github.com/weir-streams/weir/worker/internal/barrier"
	"github.com/weir-streams/weir/worker/internal/connector"
	"github.com/weir-streams/weir/worker/internal/exchange"
	"github.com/weir-streams/weir/worker/internal/state"
)

// A task's part in checkpoints (DESIGN §5). The task goroutine takes the
// synchronous part of a snapshot when the barrier has arrived on every input (or,
// at a source, when the trigger arrives): it cuts the exactly-once sink's
// interval, rotates the state backend's memtable and forwards the barrier. The
// upload then runs on a goroutine of its own while records flow on, and ends with
// the acknowledgement to the control plane. Completion notifications come back
// through the task goroutine, which publishes the exactly-once sink's records.

// checkpointer holds a task's checkpoint machinery. It belongs to the task
// goroutine, except uploads, which run on their own goroutines and touch only
// their Pending snapshot.
type checkpointer struct {
	t *task
	// backend holds the task's state; nil when no step keeps any.
	backend *state.Backend
	eoSink  *connector.ExactlyOnceSink
	// aligner aligns the barriers of an input task; nil for a source task.
	aligner    *barrier.Aligner
	alignStart time.Time
	// stash holds the buffers of blocked channels, in arrival order, until the
	// alignment ends; ready holds released ones still to process.
	stash, ready []*exchange.Buffer

	uploads sync.WaitGroup
	// dir holds the backend's local files.
	dir string
	// lastComplete is the newest checkpoint the task was told completed.
	lastComplete uint64
	// lastCleanup is when expired state was last looked for.
	lastCleanup time.Time
	// savepointBarriers are the checkpoints being aligned whose barriers said
	// they are savepoints.
	savepointBarriers map[uint64]bool
	// completed counts the completions the task was notified of; uploads read it.
	completed atomic.Int64
}

// needsBackend reports whether any step of the task keeps state.
func needsBackend(steps []spec.Step, checkpointing bool) bool {
	for _, s := range steps {
		switch s.Kind {
		case spec.KindProcess, spec.KindReduce, spec.KindWindow, spec.KindJoin, spec.KindCoProcess:
			return true
		}
		if s.Sink != nil && s.Sink.Delivery == spec.DeliveryExactlyOnce && checkpointing {
			return true
		}
	}
	return false
}

// openState opens the task's state backend, restoring it when the descriptor
// says so.
func (t *task) openState() error {
	cp := &checkpointer{t: t, savepointBarriers: map[uint64]bool{}}
	t.cp = cp
	if t.desc.Checkpointing != nil && len(t.desc.Inputs) > 0 {
		channels := 0
		for _, in := range t.desc.Inputs {
			channels += in.PeerParallel
		}
		cp.aligner = barrier.New(channels, t.desc.Checkpointing.ExactlyOnce)
	}
	if !needsBackend(t.desc.Steps, t.desc.Checkpointing != nil) {
		return nil
	}
	maxP := t.desc.MaxParallelism
	first, last := keygroup.Range(t.desc.Task.Subtask, maxP, t.desc.Parallelism)
	opts := state.Options{
		// Local files are a cache of the checkpoints: each attempt has its own,
		// so that an ending attempt never touches the next one's.
		Dir:            filepath.Join(t.w.opts.DataDir, "state", t.desc.Task.JobID+"-"+strconv.FormatUint(t.desc.Task.Attempt, 10)+"-"+t.desc.Task.Vertex+"-"+strconv.Itoa(t.desc.Task.Subtask)),
		Cache:          t.w.stateCache,
		MaxParallelism: maxP,
		KeyGroups:      state.Range{First: first, Last: last},
		Logger:         t.logger,
	}
	cp.dir = opts.Dir
	var err error
	if r := t.desc.Restore; r != nil && len(r.Handles) > 0 {
		handles := make([]state.Handle, len(r.Handles))
		for i, raw := range r.Handles {
			if err := json.Unmarshal(raw, &handles[i]); err != nil {
				return fmt.Errorf("restoring checkpoint %d: decoding state handle %d: %w", r.CheckpointID, i, err)
			}
		}
		if r.Foreign {
			// Another job's files: share none of them, so that nothing
			// this job deletes is that job's.
			for i := range handles {
				handles[i].Full = true
			}
		}
		keep := func(i int) bool { return i < len(r.KeepOperatorState) && r.KeepOperatorState[i] }
		start := time.Now()
		cp.backend, err = state.Restore(t.ctx, opts, t.w.stateFiles, handles, keep)
		if err != nil {
			return &restoreError{id: r.CheckpointID, err: err}
		}
		t.logger.Info("state restored", "checkpoint", r.CheckpointID, "snapshots", len(handles), "took", time.Since(start))
	} else {
		cp.backend, err = state.Open(opts)
		if err != nil {
			return fmt.Errorf("opening state: %w", err)
		}
	}
	return nil
}

// bindState gives a process or reduce step's instance its keyed state.
func (t *task) bindState(s spec.Step, inst *wasmhost.Instance) error {
	if s.Kind != spec.KindProcess && s.Kind != spec.KindReduce && s.Kind != spec.KindCoProcess {
		return nil
	}
	ks, err := newKeyedState(t.cp.backend, s.ID, inst.Function(), t.desc.MaxParallelism)
	if err != nil {
		return fmt.Errorf("step %q: %w", s.ID, err)
	}
	inst.SetKeyedState(ks)
	return nil
}

// restoredID is the checkpoint the task restored, 0 for none.
func (t *task) restoredID() uint64 {
	if t.desc.Restore == nil {
		return 0
	}
	return t.desc.Restore.CheckpointID
}

// commitState applies the state writes of the batch just processed.
func (cp *checkpointer) commitState() error {
	if cp.backend == nil {
		return nil
	}
	if err := cp.backend.Commit(); err != nil {
		return fmt.Errorf("committing state: %w", err)
	}
	return nil
}

// snapshot takes checkpoint ev's synchronous part, forwards its barrier and
// starts its upload; positions are a source task's positions at the barrier.
func (cp *checkpointer) snapshot(ev api.CheckpointEvent, positions map[string]uint64, alignment time.Duration) error {
	t := cp.t
	start := time.Now()
	if err := failpoint.Check(failpoint.SnapshotSync, t.desc.Task.Attempt, cp.completed.Load()); err != nil {
		return err
	}
	if cp.eoSink != nil {
		cp.eoSink.Barrier(ev.ID)
	}
	var pending *state.Pending
	if cp.backend != nil {
		if err := t.flushWindows(); err != nil {
			return fmt.Errorf("checkpoint %d: writing windows to state: %w", ev.ID, err)
		}
		var err error
		if pending, err = cp.backend.Snapshot(ev.ID); err != nil {
			return fmt.Errorf("snapshotting state for checkpoint %d: %w", ev.ID, err)
		}
	}
	for _, w := range t.writers {
		if err := w.Barrier(t.ctx, ev.ID, ev.Savepoint); err != nil {
			return err
		}
	}
	ack := api.CheckpointAck{Task: t.desc.Task, ID: ev.ID, Positions: positions, Alignment: alignment, SyncPause: time.Since(start)}
	cp.uploads.Add(1)
	go func() {
		defer cp.uploads.Done()
		cp.upload(ev, pending, ack)
	}()
	return nil
}

// upload runs a snapshot's asynchronous part and acknowledges it.
func (cp *checkpointer) upload(ev api.CheckpointEvent, pending *state.Pending, ack api.CheckpointAck) {
	t := cp.t
	start := time.Now()
	if pending != nil {
		prefix := jobgraph.StatePrefix(t.desc.Task.JobID)
		if ev.Savepoint {
			prefix = jobgraph.SavepointPrefix(t.desc.Task.JobID, ev.ID)
		}
		h, err := pending.Upload(t.ctx, t.w.stateFiles, state.UploadOptions{Prefix: prefix, Full: ev.Savepoint})
		if err == nil {
			err = failpoint.Check(failpoint.Upload, t.desc.Task.Attempt, cp.completed.Load())
		}
		if err != nil {
			if t.ctx.Err() != nil {
				return // the task is gone; so is the checkpoint
			}
			ack.Declined = fmt.Sprintf("uploading state: %v", err)
			t.logger.Warn("declining checkpoint", "checkpoint", ev.ID, "err", err)
		} else {
			if raw, err := json.Marshal(h); err != nil {
				ack.Declined = fmt.Sprintf("encoding the state handle: %v", err)
			} else {
				ack.Handle, ack.Objects = raw, h.Objects()
				ack.Size, ack.Uploaded = h.TotalBytes, h.UploadedBytes
			}
		}
	}
	ack.Async = time.Since(start)
	ctx, cancel := context.WithTimeout(t.ctx, 10*time.Second)
	defer cancel()
	if err := t.w.control.AckCheckpoint(ctx, ack); err != nil {
		t.logger.Warn("acknowledging checkpoint", "checkpoint", ev.ID, "err", err)
	}
}

// notified handles a completion or abort from the coordinator.
func (cp *checkpointer) notified(ev api.CheckpointEvent) error {
	if ev.Kind != api.CheckpointComplete {
		return nil
	}
	cp.completed.Add(1)
	cp.lastComplete = max(cp.lastComplete, ev.ID)
	// A plain savepoint commits nothing: recovery never restores one, so what it
	// covers is published with the next checkpoint (as Flink since FLIP-193).
	if cp.eoSink == nil || ev.Savepoint && !ev.Stop {
		return nil
	}
	n, err := cp.eoSink.Commit(cp.t.ctx, ev.ID)
	if err != nil {
		return fmt.Errorf("committing the sink's records of checkpoint %d: %w", ev.ID, err)
	}
	cp.t.logger.Debug("sink records committed", "checkpoint", ev.ID, "records", n)
	return nil
}

// close waits for uploads in flight (the task's context ends them on a cancel)
// and closes the backend.
func (cp *checkpointer) close() {
	cp.uploads.Wait()
	if cp.backend != nil {
		if err := cp.backend.Close(); err != nil {
			cp.t.logger.Warn("closing state", "err", err)
		}
		if err := os.RemoveAll(cp.dir); err != nil {
			cp.t.logger.Warn("removing local state files", "dir", cp.dir, "err", err)
		}
	}
}

// releaseStash moves the stashed buffers to the front of those to process.
func (cp *checkpointer) releaseStash() {
	if len(cp.stash) == 0 {
		return
	}
	cp.ready = append(slices.Clone(cp.stash), cp.ready...)
	cp.stash = cp.stash[:0]
}

// restoreError is a failure to restore a checkpoint's state.
type restoreError struct {
	id  uint64
	err error
}

func (e *restoreError) Error() string {
	return fmt.Sprintf("restoring checkpoint %d: %v", e.id, e.err)
}

func (e *restoreError) Unwrap() error { return e.err }

// awaitStop waits for the outcome of stop-with-savepoint id, which the sources'
// end says has completed, so that an exactly-once sink commits what it covers
// before the task ends.
func (cp *checkpointer) awaitStop(id uint64) error {
	if cp.eoSink == nil || id == 0 || cp.lastComplete >= id {
		return nil
	}
	timeout := time.NewTimer(time.Minute)
	defer timeout.Stop()
	for {
		select {
		case ev := <-cp.t.checkpoints:
			if err := cp.notified(ev); err != nil {
				return err
			}
			if ev.ID == id && ev.Kind != api.CheckpointTrigger {
				return nil
			}
		case <-timeout.C:
			return fmt.Errorf("stop-with-savepoint %d: no completion notice a minute after the sources ended", id)
		case <-cp.t.ctx.Done():
			return nil
		}
	}
}

// Expired state is removed in the background, a bounded scan at a time: Pebble
// has no compaction filter, and a read already hides what expired.
const (
	cleanupEvery  = time.Second
	cleanupBudget = 1000
)

// cleanupExpired runs one bounded scan for expired state at most every second.
func (cp *checkpointer) cleanupExpired() error {
	if cp.backend == nil || time.Since(cp.lastCleanup) < cleanupEvery {
		return nil
	}
	cp.lastCleanup = time.Now()
	if _, err := cp.backend.CleanupExpired(cleanupBudget); err != nil {
		return fmt.Errorf("removing expired state: %w", err)
	}
	return cp.commitState()
}
