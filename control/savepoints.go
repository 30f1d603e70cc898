package control

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/weir-streams/weir/control/checkpoint"
	"github.com/weir-streams/weir/control/plan"
	"github.com/weir-streams/weir/internal/api"
	"github.com/weir-streams/weir/internal/jobgraph"
	"github.com/weir-streams/weir/internal/spec"
)

// Savepoints (DESIGN §6): user-triggered, self-contained snapshots that outlive
// their job. A savepoint is a checkpoint the coordinator triggers out of turn
// whose files are uploaded in full under their own prefix and whose metadata goes
// to the savepoint store instead of the job's checkpoints. Stopping with a
// savepoint makes the sources end after its barrier once it completes, so the
// job ends FINISHED with nothing processed past it; rescaling is a stop with a
// savepoint followed by a new attempt, at the new parallelism, restored from it.

// spRequest is a savepoint the job master is asked for.
type spRequest struct {
	id   string
	stop bool
	// drain, with stop, advances event time to its end before the barrier.
	drain bool
	// rescale, when set, restarts the job from the savepoint with these
	// parallelisms once it has stopped.
	rescale *RescaleRequest
	reply   chan error
}

// evSavepoint asks the job master for a savepoint.
type evSavepoint struct{ req spRequest }

// RescaleRequest is POST /jobs/{id}/rescale: a new parallelism for every step, or
// for the named ones.
type RescaleRequest struct {
	Parallelism int            `json:"parallelism,omitempty"`
	Steps       map[string]int `json:"steps,omitempty"`
}

// StopRequest is POST /jobs/{id}/stop.
type StopRequest struct {
	Savepoint bool `json:"savepoint"`
	Drain     bool `json:"drain"`
}

func newSavepointID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "sp-" + hex.EncodeToString(b[:])
}

// triggerSavepoint records a new savepoint and asks the job master for it.
func (c *Control) triggerSavepoint(ctx context.Context, jobID string, stop, drain bool, rescale *RescaleRequest) (string, error) {
	m, err := c.job(jobID)
	if err != nil {
		return "", err
	}
	rec := m.snapshot()
	if rec.Job.Checkpointing == nil {
		return "", fmt.Errorf("%w: job %s takes no checkpoints; savepoints need a checkpointing section in its spec", ErrConflict, jobID)
	}
	if rec.Status != StatusRunning {
		return "", fmt.Errorf("%w: job %s is %s; a savepoint needs a RUNNING job", ErrConflict, jobID, rec.Status)
	}
	sp := checkpoint.SavepointRecord{ID: newSavepointID(), JobID: jobID, JobName: rec.Name, Status: checkpoint.SavepointInProgress, Created: time.Now().UTC()}
	if _, err := c.checkpoints.PutSavepoint(ctx, sp, 0); err != nil {
		return "", fmt.Errorf("recording savepoint: %w", err)
	}
	reply := make(chan error, 1)
	m.send(evSavepoint{spRequest{id: sp.ID, stop: stop, drain: drain, rescale: rescale, reply: reply}})
	select {
	case err := <-reply:
		if err != nil {
			return "", err
		}
	case <-m.done:
		return "", fmt.Errorf("%w: job %s ended", ErrConflict, jobID)
	case <-ctx.Done():
		return "", ctx.Err()
	}
	return sp.ID, nil
}

// onSavepoint starts a savepoint the REST API asked for.
func (m *jobMaster) onSavepoint(req spRequest) {
	fail := func(err error) {
		req.reply <- err
		m.savepointFailed(req.id, err.Error())
	}
	switch {
	case m.coord == nil:
		fail(fmt.Errorf("%w: the job takes no checkpoints", ErrConflict))
		return
	case m.failing || m.cancel || m.shutdown || !m.allRunning():
		fail(fmt.Errorf("%w: the job is not running: not every subtask is RUNNING", ErrConflict))
		return
	case m.stopping != "":
		fail(fmt.Errorf("%w: the job is already stopping with savepoint %s", ErrConflict, m.stopping))
		return
	}
	actions, err := m.coord.TriggerSavepoint(time.Now(), req.id)
	if err != nil {
		fail(fmt.Errorf("%w: %v", ErrConflict, err))
		return
	}
	m.savepoints[req.id] = req
	if req.stop {
		m.stopping = req.id
	}
	req.reply <- nil
	m.act(actions)
}

// savepointFailed marks a savepoint FAILED in the store.
func (m *jobMaster) savepointFailed(id, reason string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sp, rev, err := m.c.checkpoints.GetSavepoint(ctx, id)
	if err != nil {
		m.logger.Warn("reading savepoint", "savepoint", id, "err", err)
		return
	}
	sp.Status, sp.Error = checkpoint.SavepointFailed, reason
	if _, err := m.c.checkpoints.PutSavepoint(ctx, sp, rev); err != nil {
		m.logger.Warn("recording a failed savepoint", "savepoint", id, "err", err)
	}
	delete(m.savepoints, id)
	if m.stopping == id {
		m.stopping = ""
	}
}

// commitSavepoint writes a completed savepoint's metadata to its record.
func (m *jobMaster) commitSavepoint(meta checkpoint.Metadata) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sp, rev, err := m.c.checkpoints.GetSavepoint(ctx, meta.Savepoint)
	if err != nil {
		return err
	}
	sp.Status, sp.Completed, sp.CheckpointID, sp.Size = checkpoint.SavepointCompleted, time.Now().UTC(), meta.ID, meta.Size()
	sp.Metadata = &meta
	_, err = m.c.checkpoints.PutSavepoint(ctx, sp, rev)
	return err
}

// savepointEvent fills in what the tasks need to know of a savepoint event.
func (m *jobMaster) savepointEvent(ev api.CheckpointEvent, savepoint string) api.CheckpointEvent {
	if savepoint == "" {
		return ev
	}
	ev.Savepoint = true
	ev.Stop = m.savepoints[savepoint].stop
	ev.Drain = m.savepoints[savepoint].drain
	return ev
}

// savepointDone forgets a savepoint once the tasks know its outcome; a completed
// stop-with-savepoint leaves the job to end, a rescale to restart.
func (m *jobMaster) savepointDone(id string, completed bool) {
	req, ok := m.savepoints[id]
	if !ok {
		return
	}
	delete(m.savepoints, id)
	if !req.stop {
		return
	}
	if !completed {
		m.stopping = ""
		return
	}
	m.stopped = id
	m.rescaleTo = req.rescale
}

// handleTriggerSavepoint is POST /jobs/{id}/savepoints.
func (c *Control) handleTriggerSavepoint(w http.ResponseWriter, r *http.Request) {
	id, err := c.triggerSavepoint(r.Context(), chi.URLParam(r, "id"), false, false, nil)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"id": id})
}

// maxRequestBody bounds the small JSON bodies of job actions.
const maxRequestBody = 64 << 10

// decodeBody decodes an optional JSON body into v, refusing unknown members.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBody))
	if err != nil {
		return ErrTooLarge
	}
	if len(body) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: request body: %v", ErrInvalid, err)
	}
	return nil
}

// handleStopJob is POST /jobs/{id}/stop.
func (c *Control) handleStopJob(w http.ResponseWriter, r *http.Request) {
	var req StopRequest
	if err := decodeBody(w, r, &req); err != nil {
		c.fail(w, r, err)
		return
	}
	if !req.Savepoint {
		c.fail(w, r, invalid("savepoint", 0, 0, "stop without a savepoint is a cancel: use DELETE /api/v1/jobs/%s, or stop with {\"savepoint\": true}", chi.URLParam(r, "id")))
		return
	}
	id, err := c.triggerSavepoint(r.Context(), chi.URLParam(r, "id"), true, req.Drain, nil)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"savepoint": id})
}

// handleRescaleJob is POST /jobs/{id}/rescale.
func (c *Control) handleRescaleJob(w http.ResponseWriter, r *http.Request) {
	var req RescaleRequest
	if err := decodeBody(w, r, &req); err != nil {
		c.fail(w, r, err)
		return
	}
	m, err := c.job(chi.URLParam(r, "id"))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	if _, err := rescaledJob(m.snapshot().Job, &req); err != nil {
		c.fail(w, r, err)
		return
	}
	id, err := c.triggerSavepoint(r.Context(), chi.URLParam(r, "id"), true, false, &req)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"savepoint": id})
}

// SavepointView is a savepoint as the API shows it: its record without the
// metadata's state handles.
type SavepointView struct {
	ID        string                     `json:"id"`
	JobID     string                     `json:"job_id"`
	JobName   string                     `json:"job_name"`
	Status    checkpoint.SavepointStatus `json:"status"`
	Created   time.Time                  `json:"created"`
	Completed time.Time                  `json:"completed,omitzero"`
	Size      int64                      `json:"size"`
	Error     string                     `json:"error,omitempty"`
	// Checkpoint is the savepoint's id in the job's sequence of checkpoints.
	Checkpoint uint64 `json:"checkpoint,omitempty"`
}

func savepointView(r checkpoint.SavepointRecord) SavepointView {
	return SavepointView{ID: r.ID, JobID: r.JobID, JobName: r.JobName, Status: r.Status, Created: r.Created,
		Completed: r.Completed, Size: r.Size, Error: r.Error, Checkpoint: r.CheckpointID}
}

func (c *Control) handleListSavepoints(w http.ResponseWriter, r *http.Request) {
	list, err := c.checkpoints.ListSavepoints(r.Context())
	if err != nil {
		c.fail(w, r, err)
		return
	}
	out := make([]SavepointView, len(list))
	for i, sp := range list {
		out[i] = savepointView(sp)
	}
	writeJSON(w, http.StatusOK, map[string]any{"savepoints": out})
}

func (c *Control) getSavepoint(ctx context.Context, id string) (checkpoint.SavepointRecord, error) {
	sp, _, err := c.checkpoints.GetSavepoint(ctx, id)
	if errors.Is(err, checkpoint.ErrNotFound) {
		return sp, fmt.Errorf("%w: savepoint %s", ErrNotFound, id)
	}
	return sp, err
}

func (c *Control) handleGetSavepoint(w http.ResponseWriter, r *http.Request) {
	sp, err := c.getSavepoint(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, savepointView(sp))
}

// handleDeleteSavepoint is DELETE /savepoints/{id}: its files, then its record.
func (c *Control) handleDeleteSavepoint(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sp, err := c.getSavepoint(ctx, chi.URLParam(r, "id"))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	if sp.Status == checkpoint.SavepointInProgress {
		c.fail(w, r, fmt.Errorf("%w: savepoint %s is in progress", ErrConflict, sp.ID))
		return
	}
	if sp.Metadata != nil {
		for _, o := range sp.Metadata.Objects() {
			if err := c.stateObj.Delete(ctx, o); err != nil && !isNotFound(err) {
				c.fail(w, r, fmt.Errorf("deleting savepoint file %s: %w", o, err))
				return
			}
		}
	}
	if err := c.checkpoints.DeleteSavepoint(ctx, sp.ID); err != nil {
		c.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// rescaledJob returns the job's spec with the parallelism a rescale asks for, or
// a 4xx naming what is wrong.
func rescaledJob(job *spec.Job, req *RescaleRequest) (*spec.Job, error) {
	if req.Parallelism == 0 && len(req.Steps) == 0 {
		return nil, invalid("parallelism", 0, 0, "give a parallelism, or steps with one per step id")
	}
	out, err := cloneJob(job)
	if err != nil {
		return nil, err
	}
	if req.Parallelism != 0 {
		if req.Parallelism < 1 || req.Parallelism > job.MaxParallelism {
			return nil, invalid("parallelism", 0, 0, "must be between 1 and max_parallelism (%d), got %d: max_parallelism is fixed when a job is first submitted", job.MaxParallelism, req.Parallelism)
		}
		out.Parallelism = req.Parallelism
		for i := range out.Steps {
			out.Steps[i].Parallelism = 0
		}
	}
	for id, p := range req.Steps {
		found := false
		for i := range out.Steps {
			if out.Steps[i].ID == id {
				found = true
				if p < 1 || p > job.MaxParallelism {
					return nil, invalid("steps."+id, 0, 0, "must be between 1 and max_parallelism (%d), got %d", job.MaxParallelism, p)
				}
				out.Steps[i].Parallelism = p
			}
		}
		if !found {
			return nil, invalid("steps."+id, 0, 0, "the job has no step %q", id)
		}
	}
	if err := out.Validate(); err != nil {
		return nil, err
	}
	if _, err := plan.Build(out); err != nil {
		return nil, err
	}
	return out, nil
}

// cloneJob deep-copies a job spec through its JSON form.
func cloneJob(j *spec.Job) (*spec.Job, error) {
	b, err := json.Marshal(j)
	if err != nil {
		return nil, fmt.Errorf("copying the job spec: %w", err)
	}
	out := &spec.Job{}
	if err := json.Unmarshal(b, out); err != nil {
		return nil, fmt.Errorf("copying the job spec: %w", err)
	}
	return out, nil
}

// isNotFound reports a missing object.
func isNotFound(err error) bool { return errors.Is(err, jetstream.ErrObjectNotFound) }

// rescale restarts the job, after its stop-with-savepoint, at the parallelism the
// rescale asked for, restored from that savepoint.
func (m *jobMaster) rescale() error {
	req, sp := m.rescaleTo, m.stopped
	m.rescaleTo, m.stopped, m.stopping = nil, "", ""
	job, err := rescaledJob(m.rec.Job, req)
	if err != nil {
		return fmt.Errorf("rescaling: %w", err)
	}
	graph, err := plan.Build(job)
	if err != nil {
		return fmt.Errorf("rescaling: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rec, err := m.c.getSavepoint(ctx, sp)
	if err != nil {
		return fmt.Errorf("rescaling: reading savepoint %s: %w", sp, err)
	}
	if rec.Metadata == nil {
		return fmt.Errorf("rescaling: savepoint %s has no metadata", sp)
	}
	m.fromSavepoint, m.fromCommitted, m.fromForeign = rec.Metadata, rec.SinksCommitted, false
	m.graph = graph
	m.mu.Lock()
	m.rec.Job = job
	m.rec.FromSavepoint = sp
	m.mu.Unlock()
	m.logger.Info("rescaling job", "savepoint", sp, "parallelism", job.Parallelism)
	return nil
}

// restorePoint is what a job's from_savepoint names: a savepoint, or a retained
// checkpoint of another job that has ended.
type restorePoint struct {
	meta           *checkpoint.Metadata
	sinksCommitted bool
	foreign        bool
}

// loadRestorePoint reads what from_savepoint names, or returns a 4xx saying why
// it cannot be restored.
func (c *Control) loadRestorePoint(ctx context.Context, ref string) (restorePoint, error) {
	if jobID, id, ok := spec.RetainedCheckpoint(ref); ok {
		m, err := c.job(jobID)
		if err != nil {
			return restorePoint{}, invalid("from_savepoint", 0, 0, "no job %q: GET /api/v1/jobs lists them", jobID)
		}
		if st := m.snapshot().Status; st != StatusCanceled && st != StatusFailed {
			return restorePoint{}, invalid("from_savepoint", 0, 0, "job %s is %s: only a CANCELED or FAILED job's retained checkpoints can be restored (take a savepoint of a running job instead)", jobID, st)
		}
		meta, err := c.checkpoints.Load(ctx, jobID, id)
		if errors.Is(err, checkpoint.ErrNotFound) {
			return restorePoint{}, invalid("from_savepoint", 0, 0, "job %s has no retained checkpoint %d: GET /api/v1/jobs/%s/checkpoints lists them", jobID, id, jobID)
		}
		if err != nil {
			return restorePoint{}, err
		}
		return restorePoint{meta: &meta, foreign: true}, nil
	}
	sp, err := c.getSavepoint(ctx, ref)
	if errors.Is(err, ErrNotFound) {
		return restorePoint{}, invalid("from_savepoint", 0, 0, "no savepoint %q: GET /api/v1/savepoints lists them", ref)
	}
	if err != nil {
		return restorePoint{}, err
	}
	if sp.Status != checkpoint.SavepointCompleted || sp.Metadata == nil {
		return restorePoint{}, invalid("from_savepoint", 0, 0, "savepoint %s is %s: only a COMPLETED savepoint can be restored", sp.ID, sp.Status)
	}
	return restorePoint{meta: sp.Metadata, sinksCommitted: sp.SinksCommitted}, nil
}

// checkFromSavepoint refuses a job whose from_savepoint cannot be restored: an
// unknown or unfinished savepoint or checkpoint, another max_parallelism, or
// state of vertices the job no longer has (unless allow_non_restored_state).
func (c *Control) checkFromSavepoint(ctx context.Context, job *spec.Job, graph *jobgraph.JobGraph) error {
	if job.FromSavepoint == "" {
		return nil
	}
	rp, err := c.loadRestorePoint(ctx, job.FromSavepoint)
	if err != nil {
		return err
	}
	if mp := rp.meta.MaxParallelism; mp != 0 && mp != job.MaxParallelism {
		return invalid("max_parallelism", 0, 0, "%s was taken with max_parallelism %d, which a job restored from it keeps (key groups are fixed): set max_parallelism: %d", job.FromSavepoint, mp, mp)
	}
	var dropped []string
	for name, t := range rp.meta.Tasks {
		v, _, _ := strings.Cut(name, "[")
		if len(t.Handle) > 0 && graph.Vertex(v) == nil && !slices.Contains(dropped, v) {
			dropped = append(dropped, v)
		}
	}
	if len(dropped) > 0 && !job.AllowNonRestoredState {
		slices.Sort(dropped)
		return invalid("from_savepoint", 0, 0, "%s holds state of steps this job does not have (%s): restoring would drop it; set allow_non_restored_state: true to accept that", job.FromSavepoint, strings.Join(dropped, ", "))
	}
	return nil
}

// stoppedCleanly records, once every subtask FINISHED after a stop-with-savepoint,
// that the savepoint's exactly-once sink records were all published: a subtask
// with such a sink finishes only after committing them.
func (m *jobMaster) stoppedCleanly() {
	m.mu.Lock()
	for _, t := range m.tasks {
		if t.Status != api.TaskFinished {
			m.mu.Unlock()
			return
		}
	}
	m.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sp, rev, err := m.c.checkpoints.GetSavepoint(ctx, m.stopped)
	if err != nil {
		m.logger.Warn("reading savepoint", "savepoint", m.stopped, "err", err)
		return
	}
	sp.SinksCommitted = true
	if _, err := m.c.checkpoints.PutSavepoint(ctx, sp, rev); err != nil {
		m.logger.Warn("recording that a savepoint's sink records are published", "savepoint", m.stopped, "err", err)
	}
}
