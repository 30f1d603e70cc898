package checkpoint

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Errors of TriggerSavepoint.
var (
	ErrNotRunning       = errors.New("checkpoint: the coordinator is not running")
	ErrSavepointID      = errors.New("checkpoint: a savepoint needs an id")
	ErrSavepointPending = errors.New("checkpoint: savepoint already in progress")
)

// state is what the coordinator may start.
type state int

const (
	running   state = iota // triggers periodic checkpoints and savepoints
	suspended              // between Suspend and Resume: triggers nothing
	failed                 // FailJob was emitted: triggers nothing until Resume
)

// pending is a triggered checkpoint that has not ended.
type pending struct {
	id        uint64
	savepoint string
	attempt   int // the attempt whose tasks work on it
	triggered time.Time
	deadline  time.Time
	expected  []string // sorted
	acks      map[string]TaskSnapshot
	// committing: every task acked and Commit was emitted; the caller owns it until
	// Committed or CommitFailed, so neither a timeout nor a decline ends it.
	committing bool
	meta       Metadata // set once committing
	stats      *Stats
}

// Coordinator is the checkpoint coordinator of one job (see the package doc). It
// is not safe for concurrent use: the job master owns it and calls it from one
// goroutine.
type Coordinator struct {
	cfg     Config
	jobID   string
	tasks   []string // sorted; the subtasks of the current attempt
	attempt int
	state   state
	nextID  uint64

	pending map[uint64]*pending
	// retained are the completed checkpoints kept, in ascending id order.
	retained []Metadata
	// newestID is the highest id of a checkpoint ever completed (Drop does not
	// lower it), so that Notify ids only increase.
	newestID uint64

	// failures counts checkpoints failed in a row in this attempt.
	failures int
	// armed says due is set; the first Tick of an attempt arms it.
	armed bool
	due   time.Time
	// lastEnd is when the last checkpoint ended, for MinPause; zero if none did.
	lastEnd time.Time

	history  []*Stats
	restores []Restore
	counts   Counts
}

// New returns the coordinator of job jobID, running, whose checkpoints every
// subtask in tasks must acknowledge. retained are the completed checkpoints read
// from the store, oldest first; nextID the first id to use (ids start at 1, and
// never at or below a retained one). cfg should have passed Validate; New applies
// Defaults, and a non-positive Interval triggers no periodic checkpoints.
func New(cfg Config, jobID string, tasks []string, retained []Metadata, nextID uint64) *Coordinator {
	cfg.Defaults()
	c := &Coordinator{
		cfg:     cfg,
		jobID:   jobID,
		tasks:   sortedSet(tasks),
		attempt: 1,
		nextID:  max(nextID, 1),
		pending: map[uint64]*pending{},
	}
	for _, m := range retained {
		c.retained = append(c.retained, m.clone())
	}
	slices.SortFunc(c.retained, func(a, b Metadata) int { return cmpID(a.ID, b.ID) })
	if n := len(c.retained); n > 0 {
		c.newestID = c.retained[n-1].ID
		c.nextID = max(c.nextID, c.newestID+1)
	}
	return c
}

// NextID is the id the next checkpoint or savepoint will get; the job master
// persists it so that a new control plane never reuses a savepoint's id.
func (c *Coordinator) NextID() uint64 { return c.nextID }

// Tick expires checkpoints past their timeout and triggers a periodic checkpoint
// when one is due: Interval after the previous trigger (or after the first Tick of
// the attempt), fewer than MaxConcurrent in flight and MinPause passed since the
// last one ended. A trigger held back waits for the first Tick that allows it; the
// next one is then due Interval after it, not after the missed time. The caller
// calls Tick often compared with Interval (e.g. every 100ms).
func (c *Coordinator) Tick(now time.Time) []Action {
	var out []Action
	for _, p := range c.pendingInOrder() {
		if !p.committing && !now.Before(p.deadline) {
			reason := fmt.Sprintf("expired after %s with %d of %d tasks acknowledged%s",
				c.cfg.Timeout, len(p.acks), len(p.expected), missing(p))
			out = append(out, c.fail(now, p, reason)...)
		}
	}
	if c.state != running || c.cfg.Interval <= 0 {
		return out
	}
	if !c.armed {
		c.armed, c.due = true, now.Add(c.cfg.Interval)
		return out
	}
	if now.Before(c.due) || len(c.pending) >= c.cfg.MaxConcurrent {
		return out
	}
	if !c.lastEnd.IsZero() && now.Before(c.lastEnd.Add(c.cfg.MinPause)) {
		return out
	}
	c.due = now.Add(c.cfg.Interval)
	return append(out, c.trigger(now, "")...)
}

// TriggerSavepoint starts savepoint savepointID at once: like Flink's, it ignores
// Interval, MinPause and MaxConcurrent, but takes its id from the same sequence as
// checkpoints and counts as in flight for periodic triggers.
func (c *Coordinator) TriggerSavepoint(now time.Time, savepointID string) ([]Action, error) {
	if c.state != running {
		return nil, fmt.Errorf("triggering savepoint %q: %w", savepointID, ErrNotRunning)
	}
	if savepointID == "" {
		return nil, ErrSavepointID
	}
	for _, p := range c.pending {
		if p.savepoint == savepointID {
			return nil, fmt.Errorf("triggering savepoint %q: %w as checkpoint %d", savepointID, ErrSavepointPending, p.id)
		}
	}
	return c.trigger(now, savepointID), nil
}

func (c *Coordinator) trigger(now time.Time, savepoint string) []Action {
	p := &pending{
		id:        c.nextID,
		savepoint: savepoint,
		attempt:   c.attempt,
		triggered: now,
		deadline:  now.Add(c.cfg.Timeout),
		expected:  slices.Clone(c.tasks),
		acks:      map[string]TaskSnapshot{},
	}
	c.nextID++
	p.stats = &Stats{ID: p.id, Savepoint: savepoint, Status: InProgress, Triggered: now, Expected: len(p.expected)}
	c.pending[p.id] = p
	c.counts.InProgress++
	c.history = append(c.history, p.stats)
	if n := len(c.history); n > historySize {
		c.history = slices.Delete(c.history, 0, n-historySize)
	}
	out := []Action{Trigger{ID: p.id, Savepoint: savepoint, Timestamp: now}}
	if len(p.expected) == 0 { // nothing to wait for: a job without tasks
		out = append(out, c.startCommit(now, p))
	}
	return out
}

// Ack records task s.Task's snapshot for checkpoint id. The ack that completes
// the set returns Commit. An ack for an unknown, ended or already acknowledged
// checkpoint, or from a task it does not expect, returns Ignored.
func (c *Coordinator) Ack(now time.Time, id uint64, s TaskSnapshot) []Action {
	p, why := c.lookup(id)
	switch {
	case p == nil:
	case !slices.Contains(p.expected, s.Task):
		why = fmt.Sprintf("%s is not a task of checkpoint %d", s.Task, id)
	case hasAck(p, s.Task):
		why = fmt.Sprintf("duplicate: %s already acknowledged checkpoint %d", s.Task, id)
	}
	if why != "" {
		return []Action{Ignored{Input: "ack", ID: id, Task: s.Task, Reason: why}}
	}
	s = s.clone()
	p.acks[s.Task] = s
	st := p.stats
	st.Acked++
	st.Size += s.Size
	st.Uploaded += s.Uploaded
	st.Subtasks = append(st.Subtasks, SubtaskStats{Task: s.Task, Alignment: s.Alignment, Sync: s.SyncPause, Async: s.AsyncDuration, Size: s.Size})
	if len(p.acks) < len(p.expected) {
		return nil
	}
	return []Action{c.startCommit(now, p)}
}

func (c *Coordinator) startCommit(now time.Time, p *pending) Action {
	p.committing = true
	p.meta = Metadata{
		JobID:          c.jobID,
		ID:             p.id,
		Savepoint:      p.savepoint,
		Triggered:      p.triggered,
		Completed:      now,
		MaxParallelism: c.cfg.MaxParallelism,
		Tasks:          maps.Clone(p.acks),
	}
	return Commit{Meta: p.meta.clone()}
}

// Decline fails checkpoint id because task could not snapshot (reason says why).
// A decline that comes after every task acked, or for a checkpoint not pending,
// returns Ignored.
func (c *Coordinator) Decline(now time.Time, id uint64, task, reason string) []Action {
	p, why := c.lookup(id)
	switch {
	case p == nil:
	case !slices.Contains(p.expected, task):
		why = fmt.Sprintf("%s is not a task of checkpoint %d", task, id)
	case p.committing:
		why = fmt.Sprintf("every task acknowledged checkpoint %d already", id)
	}
	if why != "" {
		return []Action{Ignored{Input: "decline", ID: id, Task: task, Reason: why}}
	}
	return c.fail(now, p, fmt.Sprintf("declined by %s: %s", task, reason))
}

// Committed is the caller's report that it durably wrote the metadata of Commit
// id. A checkpoint joins the retained set, every task of the current attempt is
// notified, older pending checkpoints are subsumed (aborted, as they can never be
// restored in preference to this one) and those falling out of Retain are
// discarded. A savepoint only notifies: it never joins the retained set.
func (c *Coordinator) Committed(now time.Time, id uint64) []Action {
	p, why := c.lookup(id)
	if p != nil && !p.committing {
		why = fmt.Sprintf("checkpoint %d was not committing", id)
	}
	if why != "" {
		return []Action{Ignored{Input: "committed", ID: id, Reason: why}}
	}
	c.end(now, p, Completed, "")
	var out []Action
	// Notify means "this checkpoint and every earlier one are done", so one that
	// completes after a newer one (their commits raced) notifies nobody: the newer
	// one's Notify covered it.
	newest := p.savepoint != "" || id > c.newestID
	if newest && p.attempt == c.attempt && c.state != suspended {
		out = append(out, Notify{ID: id, Savepoint: p.savepoint})
	}
	if p.savepoint != "" {
		return out
	}
	c.newestID = max(c.newestID, id)
	if p.attempt == c.attempt {
		c.failures = 0
	}
	i, _ := slices.BinarySearchFunc(c.retained, id, func(m Metadata, id uint64) int { return cmpID(m.ID, id) })
	c.retained = slices.Insert(c.retained, i, p.meta)
	for _, q := range c.pendingInOrder() {
		if q.id < id && q.savepoint == "" && !q.committing {
			reason := fmt.Sprintf("subsumed by checkpoint %d", id)
			c.end(now, q, Aborted, reason)
			out = append(out, Abort{ID: q.id, Reason: reason})
		}
	}
	for len(c.retained) > c.cfg.Retain {
		old := c.retained[0]
		c.retained = c.retained[1:]
		out = append(out, c.discard(old))
	}
	return out
}

// CommitFailed is the caller's report that writing Commit id failed; the
// checkpoint fails.
func (c *Coordinator) CommitFailed(now time.Time, id uint64, reason string) []Action {
	p, why := c.lookup(id)
	if p != nil && !p.committing {
		why = fmt.Sprintf("checkpoint %d was not committing", id)
	}
	if why != "" {
		return []Action{Ignored{Input: "commit failed", ID: id, Reason: why}}
	}
	return c.fail(now, p, "committing the metadata: "+reason)
}

// Suspend stops triggering (the job is failing over or stopping) and aborts every
// pending checkpoint whose acks are still awaited; those do not count as failures.
// One being committed stays until Committed or CommitFailed, since its write may
// yet succeed.
func (c *Coordinator) Suspend(now time.Time, reason string) []Action {
	c.state, c.armed = suspended, false
	var out []Action
	for _, p := range c.pendingInOrder() {
		if !p.committing {
			r := "suspended: " + reason
			c.end(now, p, Aborted, r)
			out = append(out, Abort{ID: p.id, Reason: r})
		}
	}
	return out
}

// Resume starts a new attempt of the job with its subtasks tasks, restored from
// checkpoint restoredFrom (0: none). Ids continue; the failure count restarts; the
// first periodic checkpoint is due Interval from now. Called without Suspend
// first, it suspends and returns the Aborts.
func (c *Coordinator) Resume(now time.Time, tasks []string, restoredFrom uint64) []Action {
	var out []Action
	if c.state != suspended {
		out = c.Suspend(now, "a new attempt started")
	}
	c.attempt++
	c.tasks = sortedSet(tasks)
	c.state, c.failures = running, 0
	c.armed, c.due = true, now.Add(c.cfg.Interval)
	if restoredFrom != 0 {
		c.counts.Restored++
	}
	c.restores = append(c.restores, Restore{Checkpoint: restoredFrom, Time: now})
	if n := len(c.restores); n > historySize {
		c.restores = slices.Delete(c.restores, 0, n-historySize)
	}
	return out
}

// Latest returns a copy of the latest completed checkpoint, nil if none.
func (c *Coordinator) Latest() *Metadata {
	if len(c.retained) == 0 {
		return nil
	}
	m := c.retained[len(c.retained)-1].clone()
	return &m
}

// Retained returns the completed checkpoints kept, oldest first.
func (c *Coordinator) Retained() []Metadata {
	out := make([]Metadata, len(c.retained))
	for i, m := range c.retained {
		out[i] = m.clone()
	}
	return out
}

// Drop forgets retained checkpoint id, found corrupt at restore, so that Latest
// falls back to the one before it, and discards what only it referenced. Dropping
// a checkpoint that is not retained returns nothing.
func (c *Coordinator) Drop(id uint64) []Action {
	i := slices.IndexFunc(c.retained, func(m Metadata) bool { return m.ID == id })
	if i < 0 {
		return nil
	}
	m := c.retained[i]
	c.retained = slices.Delete(c.retained, i, i+1)
	return []Action{c.discard(m)}
}

// Orphans returns those of all (e.g. a listing of the job's prefix in the Object
// Store) that no retained checkpoint and no pending ack references, sorted: the
// files of aborted checkpoints and of acks that were ignored. It is only safe
// while no task can still upload and ack (the job has ended, or every task of a
// suspended attempt has stopped), since an upload under way is not referenced yet.
func (c *Coordinator) Orphans(all []string) []string {
	used := c.referenced()
	var out []string
	for _, o := range sortedSet(all) {
		if !used[o] {
			out = append(out, o)
		}
	}
	return out
}

// History returns the report for GET /jobs/{id}/checkpoints.
func (c *Coordinator) History() History {
	h := History{Counts: c.counts, Restores: slices.Clone(c.restores)}
	for _, s := range c.history {
		st := *s
		st.Subtasks = slices.Clone(s.Subtasks)
		h.Checkpoints = append(h.Checkpoints, st)
	}
	return h
}

// lookup returns pending checkpoint id, or nil and why it is not pending.
func (c *Coordinator) lookup(id uint64) (*pending, string) {
	if p := c.pending[id]; p != nil {
		return p, ""
	}
	if id == 0 || id >= c.nextID {
		return nil, fmt.Sprintf("unknown checkpoint %d", id)
	}
	for _, s := range c.history {
		if s.ID == id {
			return nil, fmt.Sprintf("checkpoint %d already ended (%s)", id, s.Status)
		}
	}
	return nil, fmt.Sprintf("checkpoint %d already ended", id)
}

// fail ends p as a failure and fails the job once more checkpoints failed in a row
// than tolerated. Savepoints and checkpoints of an earlier attempt do not count.
func (c *Coordinator) fail(now time.Time, p *pending, reason string) []Action {
	c.end(now, p, Failed, reason)
	out := []Action{Abort{ID: p.id, Reason: reason}}
	if p.savepoint != "" || p.attempt != c.attempt {
		return out
	}
	c.failures++
	if c.failures > c.cfg.TolerableFailures && c.state == running {
		c.state = failed
		msg := fmt.Sprintf("checkpoint %d failed and tolerable_failures is %d: %s", p.id, c.cfg.TolerableFailures, reason)
		if c.failures > 1 {
			msg = fmt.Sprintf("%d checkpoints failed in a row, more than tolerable_failures (%d); the last, %d: %s",
				c.failures, c.cfg.TolerableFailures, p.id, reason)
		}
		out = append(out, FailJob{Reason: msg})
	}
	return out
}

// end removes p from the pending set and records how it ended.
func (c *Coordinator) end(now time.Time, p *pending, status Status, reason string) {
	delete(c.pending, p.id)
	c.lastEnd = now
	c.counts.InProgress--
	switch status {
	case Completed:
		c.counts.Completed++
	case Failed:
		c.counts.Failed++
	case Aborted:
		c.counts.Aborted++
	}
	p.stats.Status, p.stats.Failure = status, reason
	p.stats.Ended, p.stats.Duration = now, now.Sub(p.triggered)
}

// discard returns the Discard for m, which left the retained set: its objects that
// nothing retained or pending references.
func (c *Coordinator) discard(m Metadata) Action {
	used := c.referenced()
	d := Discard{Checkpoint: m.ID}
	for _, o := range m.Objects() {
		if !used[o] {
			d.Objects = append(d.Objects, o)
		}
	}
	return d
}

// referenced is the set of objects that must not be deleted: those of retained
// checkpoints and of every ack of a pending checkpoint (savepoints included).
// Recomputed per call: the sets are small and a cached count could drift.
func (c *Coordinator) referenced() map[string]bool {
	used := map[string]bool{}
	for _, m := range c.retained {
		for _, t := range m.Tasks {
			for _, o := range t.Objects {
				used[o] = true
			}
		}
	}
	for _, p := range c.pending {
		for _, t := range p.acks {
			for _, o := range t.Objects {
				used[o] = true
			}
		}
	}
	return used
}

func (c *Coordinator) pendingInOrder() []*pending {
	ps := slices.Collect(maps.Values(c.pending))
	slices.SortFunc(ps, func(a, b *pending) int { return cmpID(a.id, b.id) })
	return ps
}

// missing names the tasks that have not acked p, at most three of them.
func missing(p *pending) string {
	var names []string
	for _, t := range p.expected {
		if _, ok := p.acks[t]; !ok {
			names = append(names, t)
		}
	}
	if len(names) == 0 {
		return ""
	}
	more := ""
	if len(names) > 3 {
		more = fmt.Sprintf(" and %d more", len(names)-3)
		names = names[:3]
	}
	return " (waiting for " + strings.Join(names, ", ") + more + ")"
}

func sortedSet(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return slices.Compact(out)
}

func hasAck(p *pending, task string) bool {
	_, ok := p.acks[task]
	return ok
}

func cmpID(a, b uint64) int { return cmp.Compare(a, b) }
