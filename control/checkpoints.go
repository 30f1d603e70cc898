package control

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/weir-streams/weir/control/checkpoint"
	"github.com/weir-streams/weir/internal/api"
	"github.com/weir-streams/weir/internal/failpoint"
	"github.com/weir-streams/weir/internal/jobgraph"
	"github.com/weir-streams/weir/internal/keygroup"
	"github.com/weir-streams/weir/internal/spec"
)

// The job master's side of checkpoints (DESIGN §5): it owns the job's
// checkpoint.Coordinator, carries out its actions (barrier triggers at the
// sources, metadata commits, completion notices, deletion of files no retained
// checkpoint needs) and restores each attempt from the latest completed
// checkpoint.

// checkpointTick is how often the coordinator is asked whether to trigger a
// checkpoint or time one out.
const checkpointTick = 50 * time.Millisecond

// CheckpointList is GET /jobs/{id}/checkpoints.
type CheckpointList struct {
	// Enabled says whether the job takes checkpoints.
	Enabled bool `json:"enabled"`
	// Latest is the id of the latest completed checkpoint, 0 for none.
	Latest uint64 `json:"latest"`
	// Counts are totals since the control plane started following the job.
	Counts checkpoint.Counts `json:"counts"`
	// Checkpoints are the most recent checkpoints, oldest first.
	Checkpoints []CheckpointStats `json:"checkpoints"`
	// Restores says which checkpoint each attempt started from.
	Restores []RestoreStats `json:"restores"`
}

// CheckpointStats is one checkpoint as the API shows it; durations in ms.
type CheckpointStats struct {
	ID         uint64              `json:"id"`
	Savepoint  string              `json:"savepoint,omitempty"`
	Status     checkpoint.Status   `json:"status"`
	Triggered  time.Time           `json:"triggered"`
	Ended      time.Time           `json:"ended,omitzero"`
	DurationMs float64             `json:"duration_ms"`
	Size       int64               `json:"size"`
	Uploaded   int64               `json:"uploaded"`
	Acked      int                 `json:"acked"`
	Expected   int                 `json:"expected"`
	Failure    string              `json:"failure,omitempty"`
	Subtasks   []CheckpointSubtask `json:"subtasks,omitempty"`
}

// CheckpointSubtask is one subtask's part of a checkpoint; durations in ms.
type CheckpointSubtask struct {
	Task        string  `json:"task"`
	AlignmentMs float64 `json:"alignment_ms"`
	SyncMs      float64 `json:"sync_ms"`
	AsyncMs     float64 `json:"async_ms"`
	Size        int64   `json:"size"`
}

// RestoreStats says which checkpoint an execution attempt started from (0: none).
type RestoreStats struct {
	Attempt    uint64    `json:"attempt"`
	Checkpoint uint64    `json:"checkpoint"`
	At         time.Time `json:"at"`
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// checkpointStats converts the coordinator's figures for the API.
func checkpointStats(in []checkpoint.Stats) []CheckpointStats {
	out := make([]CheckpointStats, len(in))
	for i, s := range in {
		out[i] = CheckpointStats{ID: s.ID, Savepoint: s.Savepoint, Status: s.Status, Triggered: s.Triggered, Ended: s.Ended,
			DurationMs: ms(s.Duration), Size: s.Size, Uploaded: s.Uploaded, Acked: s.Acked, Expected: s.Expected, Failure: s.Failure}
		for _, st := range s.Subtasks {
			out[i].Subtasks = append(out[i].Subtasks, CheckpointSubtask{Task: st.Task, AlignmentMs: ms(st.Alignment), SyncMs: ms(st.Sync), AsyncMs: ms(st.Async), Size: st.Size})
		}
	}
	return out
}

// taskName names a subtask in checkpoint metadata: "vertex[i]".
func taskName(id jobgraph.TaskID) string {
	return id.Vertex + "[" + strconv.Itoa(id.Subtask) + "]"
}

// checkpointConfig converts the spec's checkpointing section.
func checkpointConfig(c *spec.Checkpointing, maxP int) checkpoint.Config {
	return checkpoint.Config{
		Interval: c.Interval, Timeout: c.Timeout, MinPause: c.MinPause,
		MaxConcurrent: c.MaxConcurrent, TolerableFailures: c.TolerableFailures, Retain: c.Retain,
		MaxParallelism: maxP,
	}
}

// openCheckpoints creates the job's coordinator from the checkpoints retained in
// the store; it does nothing for a job without checkpointing.
func (m *jobMaster) openCheckpoints() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if ref := m.rec.FromSavepoint; ref != "" {
		rp, err := m.c.loadRestorePoint(ctx, ref)
		if err != nil {
			return fmt.Errorf("reading %s, the job's restore point: %w", ref, err)
		}
		m.fromSavepoint, m.fromCommitted, m.fromForeign = rp.meta, rp.sinksCommitted, rp.foreign
	}
	c := m.rec.Job.Checkpointing
	if c == nil {
		return nil
	}
	retained, err := m.c.checkpoints.List(ctx, m.rec.ID)
	if err != nil {
		return fmt.Errorf("reading the job's checkpoints: %w", err)
	}
	next := uint64(1)
	if n := len(retained); n > 0 {
		next = retained[n-1].ID + 1
	}
	next = max(next, m.rec.LastCheckpointID+1)
	if m.fromSavepoint != nil {
		// Checkpoint ids go on from the savepoint's, so that the newest
		// snapshot always has the highest id.
		next = max(next, m.fromSavepoint.ID+1)
	}
	m.coord = checkpoint.New(checkpointConfig(c, m.rec.Job.MaxParallelism), m.rec.ID, nil, retained, next)
	return nil
}

// restoreFrom fills the descriptors of a new attempt from the newest of the
// latest completed checkpoint and the savepoint the job (re)started from: each
// subtask's state handles and each source's positions. It returns the restored
// checkpoint's id, 0 when there is none.
func (m *jobMaster) restoreFrom(descs []jobgraph.TaskDescriptor) uint64 {
	var meta *checkpoint.Metadata
	if m.coord != nil {
		meta = m.coord.Latest()
	}
	committed, foreign := false, false
	if sp := m.fromSavepoint; sp != nil && (meta == nil || sp.ID > meta.ID) {
		meta, committed, foreign = sp, m.fromCommitted, m.fromForeign
	}
	if meta == nil {
		return 0
	}
	restoreDescriptors(meta, descs, m.rec.Job.MaxParallelism, committed)
	if foreign {
		for i := range descs {
			descs[i].Restore.Foreign = true
		}
	}
	return meta.ID
}

// restoreDescriptors maps a snapshot onto the subtasks of a new attempt, whose
// parallelism may differ from the snapshot's (rescaling): a subtask restores the
// snapshots of its vertex whose key-group ranges overlap its own, and takes over
// the operator state (an exactly-once sink's records waiting for their commit) of
// the old subtasks j with j mod parallelism = its index. Every source subtask gets
// every position of its step and reads the partitions it owns.
func restoreDescriptors(meta *checkpoint.Metadata, descs []jobgraph.TaskDescriptor, maxP int, sinksCommitted bool) {
	positions := meta.Positions()
	oldParallelism := map[string]int{}
	for name := range meta.Tasks {
		if v, _, ok := strings.Cut(name, "["); ok {
			oldParallelism[v]++
		}
	}
	for i := range descs {
		d := &descs[i]
		if src := d.Steps[0]; src.Kind == spec.KindSource {
			d.ResumeAfter = map[string]uint64{}
			for k, v := range positions {
				if k == src.ID || strings.HasPrefix(k, src.ID+"[") {
					d.ResumeAfter[k] = v
				}
			}
		}
		r := &jobgraph.Restore{CheckpointID: meta.ID, SinksCommitted: sinksCommitted}
		p, q := oldParallelism[d.Task.Vertex], d.Parallelism
		first, last := keygroup.Range(d.Task.Subtask, maxP, q)
		for j := range p {
			s, ok := meta.Tasks[d.Task.Vertex+"["+strconv.Itoa(j)+"]"]
			if !ok || len(s.Handle) == 0 {
				continue
			}
			of, ol := keygroup.Range(j, maxP, p)
			keep := j%q == d.Task.Subtask
			if keep || of <= last && first <= ol {
				r.Handles = append(r.Handles, s.Handle)
				r.KeepOperatorState = append(r.KeepOperatorState, keep)
			}
		}
		d.Restore = r
	}
}

// checkpointTasks lists the subtasks that must acknowledge every checkpoint.
func checkpointTasks(descs []jobgraph.TaskDescriptor) []string {
	out := make([]string, len(descs))
	for i, d := range descs {
		out[i] = taskName(d.Task)
	}
	return out
}

// onCheckpointAck applies a subtask's acknowledgement or decline.
func (m *jobMaster) onCheckpointAck(ack api.CheckpointAck) {
	if m.coord == nil || ack.Task.Attempt != m.snapshot().Attempt || m.failing {
		return
	}
	now := time.Now()
	if ack.Declined != "" {
		m.act(m.coord.Decline(now, ack.ID, taskName(ack.Task), ack.Declined))
		return
	}
	m.act(m.coord.Ack(now, ack.ID, checkpoint.TaskSnapshot{
		Task: taskName(ack.Task), Handle: ack.Handle, Objects: ack.Objects, Positions: ack.Positions,
		Size: ack.Size, Uploaded: ack.Uploaded, Alignment: ack.Alignment, SyncPause: ack.SyncPause, AsyncDuration: ack.Async,
	}))
}

// act carries out the coordinator's actions, and those they lead to.
func (m *jobMaster) act(actions []checkpoint.Action) {
	for len(actions) > 0 {
		a := actions[0]
		actions = actions[1:]
		switch a := a.(type) {
		case checkpoint.Trigger:
			if a.Savepoint != "" {
				m.savepointIDs[a.ID] = a.Savepoint
			}
			m.broadcastCheckpoint(m.savepointEvent(api.CheckpointEvent{ID: a.ID, Kind: api.CheckpointTrigger, Timestamp: a.Timestamp}, a.Savepoint))
		case checkpoint.Commit:
			meta := a.Meta
			meta.MaxParallelism = m.rec.Job.MaxParallelism
			var err error
			if meta.Savepoint != "" {
				err = m.commitSavepoint(meta)
			} else {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				err = m.c.checkpoints.Commit(ctx, meta)
				cancel()
			}
			if err != nil {
				m.logger.Warn("committing checkpoint metadata", "checkpoint", meta.ID, "err", err)
				actions = append(actions, m.coord.CommitFailed(time.Now(), meta.ID, err.Error())...)
				continue
			}
			m.noteCheckpointID(meta.ID)
			actions = append(actions, m.coord.Committed(time.Now(), meta.ID)...)
		case checkpoint.Notify:
			m.notified++
			if err := failpoint.Check(failpoint.AfterCommit, m.snapshot().Attempt, m.notified); err != nil {
				// As if the control plane died between the commit and the
				// notification: the committed checkpoint is the restore point.
				m.fail(err.Error(), &api.Failure{Time: time.Now().UTC(), Kind: "failpoint", Message: err.Error()})
				continue
			}
			m.broadcastCheckpoint(m.savepointEvent(api.CheckpointEvent{ID: a.ID, Kind: api.CheckpointComplete}, a.Savepoint))
			if a.Savepoint != "" {
				delete(m.savepointIDs, a.ID)
				m.savepointDone(a.Savepoint, true)
			}
		case checkpoint.Abort:
			m.logger.Info("checkpoint aborted", "checkpoint", a.ID, "reason", a.Reason)
			sp := m.savepointIDs[a.ID]
			m.broadcastCheckpoint(m.savepointEvent(api.CheckpointEvent{ID: a.ID, Kind: api.CheckpointAbort}, sp))
			if sp != "" {
				delete(m.savepointIDs, a.ID)
				m.savepointFailed(sp, a.Reason)
				m.savepointDone(sp, false)
			}
		case checkpoint.Discard:
			m.discard(a)
		case checkpoint.FailJob:
			if !m.failing && !m.cancel {
				m.fail(a.Reason, &api.Failure{Time: time.Now().UTC(), Kind: "checkpoint", Message: a.Reason})
			}
		}
	}
	h := m.coord.History()
	m.mu.Lock()
	m.cpList.Enabled, m.cpList.Counts, m.cpList.Checkpoints = true, h.Counts, checkpointStats(h.Checkpoints)
	m.cpList.Latest = 0
	if l := m.coord.Latest(); l != nil {
		m.cpList.Latest = l.ID
	}
	m.mu.Unlock()
}

// noteCheckpointID remembers the newest committed id in the job record, so that
// ids keep growing even when every checkpoint has been discarded.
func (m *jobMaster) noteCheckpointID(id uint64) {
	m.mu.Lock()
	if id <= m.rec.LastCheckpointID {
		m.mu.Unlock()
		return
	}
	m.rec.LastCheckpointID = id
	m.mu.Unlock()
}

// broadcastCheckpoint sends a checkpoint event to every worker of the attempt.
func (m *jobMaster) broadcastCheckpoint(ev api.CheckpointEvent) {
	rec := m.snapshot()
	ev.JobID, ev.Attempt = rec.ID, rec.Attempt
	for id, w := range m.workers {
		if m.lost[id] {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := w.Checkpoint(ctx, ev); err != nil {
			m.logger.Warn("sending checkpoint event", "worker", id, "kind", ev.Kind, "checkpoint", ev.ID, "err", err)
		}
		cancel()
	}
}

// discard deletes the files and metadata of checkpoints no longer retained.
func (m *jobMaster) discard(a checkpoint.Discard) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if a.Checkpoint != 0 {
		if err := m.c.checkpoints.Delete(ctx, m.rec.ID, a.Checkpoint); err != nil {
			m.logger.Warn("deleting checkpoint metadata", "checkpoint", a.Checkpoint, "err", err)
		}
	}
	for _, name := range a.Objects {
		if err := m.c.stateObj.Delete(ctx, name); err != nil {
			m.logger.Warn("deleting a checkpoint file", "object", name, "err", err)
		}
	}
}

// dropCorrupt forgets a checkpoint a subtask could not restore because its files
// are missing or corrupt, so that the next attempt falls back to the previous
// complete checkpoint; the job's exceptions say so.
func (m *jobMaster) dropCorrupt(f *api.Failure) {
	if m.coord == nil || f.Checkpoint == 0 {
		return
	}
	latest := m.coord.Latest()
	if latest == nil || latest.ID != f.Checkpoint {
		return // already dropped, after another subtask's report
	}
	m.act(m.coord.Drop(f.Checkpoint))
	next := "no checkpoint: the job starts from its sources' start positions with empty state"
	if l := m.coord.Latest(); l != nil {
		next = fmt.Sprintf("checkpoint %d", l.ID)
	}
	msg := fmt.Sprintf("checkpoint %d cannot be restored (%s); recovery falls back to %s", f.Checkpoint, f.Message, next)
	m.logger.Warn(msg)
	m.mu.Lock()
	m.rec.Exceptions = append(m.rec.Exceptions, api.Failure{Time: time.Now().UTC(), Task: f.Task, Kind: "checkpoint_fallback", Message: msg, Checkpoint: f.Checkpoint})
	m.mu.Unlock()
}

// dropCheckpoints deletes the job's checkpoints, metadata and files, once it has
// ended for good: FINISHED, or CANCELED without retain_on_cancel (as Flink's
// retention policy). Savepoints are the user's and stay. A FAILED job keeps its
// checkpoints, so that a new job can be started from one.
func (m *jobMaster) dropCheckpoints() {
	if m.coord == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, meta := range m.coord.Retained() {
		if err := m.c.checkpoints.Delete(ctx, m.rec.ID, meta.ID); err != nil {
			m.logger.Warn("deleting checkpoint metadata", "checkpoint", meta.ID, "err", err)
		}
	}
	// Every file under the job's prefix: retained checkpoints' and those of
	// aborted ones alike.
	prefix := jobgraph.StatePrefix(m.rec.ID)
	objects, err := m.c.stateObj.List(ctx)
	if err != nil && !errors.Is(err, jetstream.ErrNoObjectsFound) {
		m.logger.Warn("listing checkpoint files", "err", err)
		return
	}
	n := 0
	for _, o := range objects {
		if strings.HasPrefix(o.Name, prefix) {
			if err := m.c.stateObj.Delete(ctx, o.Name); err != nil && !isNotFound(err) {
				m.logger.Warn("deleting a checkpoint file", "object", o.Name, "err", err)
				continue
			}
			n++
		}
	}
	m.logger.Info("checkpoints deleted", "files", n)
}
