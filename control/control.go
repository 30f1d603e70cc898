package control

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/weir-streams/weir/control/checkpoint"
	"github.com/weir-streams/weir/control/plan"
	"github.com/weir-streams/weir/internal/api"
	"github.com/weir-streams/weir/internal/meta"
	"github.com/weir-streams/weir/wasmhost"
)

// Options configure a Control.
type Options struct {
	// MaxModuleSize caps uploads in bytes. Default 64 MiB.
	MaxModuleSize int64
	// CacheDir holds the Wasm compilation cache of upload validation. Default: a
	// private directory under the OS temporary directory.
	CacheDir string
	// StopTimeout bounds the graceful stop of running jobs at Close. Default 30s.
	StopTimeout time.Duration
	// HeartbeatInterval is how often remote workers send heartbeats. Default 1s.
	HeartbeatInterval time.Duration
	// HeartbeatTimeout is how long a remote worker may stay silent before it is
	// declared lost and its jobs restart. Default 10s.
	HeartbeatTimeout time.Duration
}

func (o *Options) defaults() {
	if o.MaxModuleSize <= 0 {
		o.MaxModuleSize = DefaultMaxModuleSize
	}
	if o.StopTimeout <= 0 {
		o.StopTimeout = 30 * time.Second
	}
	if o.HeartbeatInterval <= 0 {
		o.HeartbeatInterval = time.Second
	}
	if o.HeartbeatTimeout <= 0 {
		o.HeartbeatTimeout = 10 * time.Second
	}
}

// Control is the control plane. Create it with New, serve Handler, and Close it to
// stop: Close suspends running jobs gracefully so that a restart resumes them.
type Control struct {
	opts    Options
	logger  *slog.Logger
	nc      *nats.Conn
	store   kvStore
	modules meta.ModuleStore
	rt      *wasmhost.Runtime
	// checkpoints stores checkpoint metadata; stateObj holds checkpoint files.
	checkpoints checkpoint.Store
	stateObj    jetstream.ObjectStore
	slots       *slotManager
	registry    *prometheus.Registry

	mu      sync.Mutex
	jobs    map[string]*jobMaster // guarded by mu
	freed   chan struct{}         // closed and replaced when slots free up; guarded by mu
	closing bool                  // guarded by mu
	wg      sync.WaitGroup
}

// New opens the metadata buckets and loads the stored jobs; jobs that were running
// start again once workers offer slots.
func New(ctx context.Context, opts Options, nc *nats.Conn, logger *slog.Logger, reg *prometheus.Registry) (*Control, error) {
	opts.defaults()
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("opening JetStream: %w", err)
	}
	kv, obj, err := meta.Buckets(ctx, js)
	if err != nil {
		return nil, err
	}
	stateObj, err := meta.StateStore(ctx, js)
	if err != nil {
		return nil, err
	}
	if opts.CacheDir == "" {
		opts.CacheDir = filepath.Join(os.TempDir(), fmt.Sprintf("weir-control-cache-%d", os.Getuid()))
	}
	rt, err := wasmhost.NewRuntime(ctx, wasmhost.Options{CacheDir: opts.CacheDir, Logger: logger})
	if err != nil {
		return nil, err
	}
	c := &Control{
		opts:        opts,
		logger:      logger,
		nc:          nc,
		store:       kvStore{kv: kv},
		checkpoints: checkpoint.Store{KV: kv, Obj: stateObj},
		stateObj:    stateObj,
		modules:     meta.ModuleStore{Obj: obj},
		rt:          rt,
		slots:       newSlotManager(),
		registry:    reg,
		jobs:        map[string]*jobMaster{},
		freed:       make(chan struct{}),
	}
	if err := c.loadJobs(ctx); err != nil {
		rt.Close(ctx)
		return nil, err
	}
	if reg != nil {
		if err := reg.Register(newCollector(c)); err != nil {
			rt.Close(ctx)
			return nil, fmt.Errorf("registering metrics: %w", err)
		}
	}
	return c, nil
}

// loadJobs restores every stored job; non-terminal ones are started again.
func (c *Control) loadJobs(ctx context.Context) error {
	keys, err := c.store.keys(ctx, "jobs.")
	if err != nil && !errors.Is(err, jetstream.ErrNoKeysFound) {
		return err
	}
	for _, k := range keys {
		var rec JobRecord
		rev, err := c.store.get(ctx, k, &rec)
		if err != nil {
			return err
		}
		if rec.Job == nil {
			c.logger.Error("stored job has no spec; skipping", "job", rec.ID)
			continue
		}
		graph, err := plan.Build(rec.Job)
		if err != nil {
			c.logger.Error("stored job does not plan; skipping", "job", rec.ID, "err", err)
			continue
		}
		var resume map[string]uint64
		if !isTerminal(rec.Status) {
			if _, err := c.store.get(ctx, progressKey(rec.ID), &resume); err != nil && !errors.Is(err, ErrNotFound) {
				return err
			}
			c.logger.Info("resuming job", "job", rec.ID, "name", rec.Name, "after", resume)
		}
		c.startJobMaster(&rec, rev, graph, resume)
	}
	return nil
}

func (c *Control) slotsFreed() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.freed
}

func (c *Control) notifySlots() {
	c.mu.Lock()
	defer c.mu.Unlock()
	close(c.freed)
	c.freed = make(chan struct{})
}

func (c *Control) job(id string) (*jobMaster, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m, ok := c.jobs[id]
	if !ok {
		return nil, fmt.Errorf("%w: no job %q", ErrNotFound, id)
	}
	return m, nil
}

func (c *Control) jobsSnapshot() []JobRecord {
	c.mu.Lock()
	ms := make([]*jobMaster, 0, len(c.jobs))
	for _, m := range c.jobs {
		ms = append(ms, m)
	}
	c.mu.Unlock()
	out := make([]JobRecord, 0, len(ms))
	for _, m := range ms {
		out = append(out, m.snapshot())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
	return out
}

// cancelJob cancels a job; it returns once the cancel is under way.
func (c *Control) cancelJob(id string) (JobRecord, error) {
	m, err := c.job(id)
	if err != nil {
		return JobRecord{}, err
	}
	rec := m.snapshot()
	if isTerminal(rec.Status) {
		return rec, fmt.Errorf("%w: job %s is already %s", ErrConflict, id, rec.Status)
	}
	m.send(evCancel{})
	return rec, nil
}

// Close suspends running jobs gracefully (their sources stop, what they read
// reaches the sinks, progress is saved) and releases the control plane.
func (c *Control) Close(ctx context.Context) error {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return nil
	}
	c.closing = true
	ms := make([]*jobMaster, 0, len(c.jobs))
	for _, m := range c.jobs {
		ms = append(ms, m)
	}
	c.mu.Unlock()
	for _, m := range ms {
		m.send(evShutdown{})
	}
	done := make(chan struct{})
	go func() { c.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(c.opts.StopTimeout):
		c.logger.Warn("jobs did not stop in time", "timeout", c.opts.StopTimeout)
	case <-ctx.Done():
	}
	return c.rt.Close(context.Background())
}

// Workers lists the registered workers, as GET /workers shows them.
func (c *Control) Workers() []WorkerStatus { return c.slots.list() }

// Healthy reports whether the control plane is connected to NATS.
func (c *Control) Healthy() error {
	if s := c.nc.Status(); s != nats.CONNECTED {
		return fmt.Errorf("NATS connection is %s", strings.ToLower(s.String()))
	}
	return nil
}

// RegisterWorker implements api.ControlPlane.
func (c *Control) RegisterWorker(_ context.Context, req api.RegisterWorker, w api.Worker) error {
	if req.WorkerID == "" || req.Slots <= 0 {
		return fmt.Errorf("%w: a worker needs an id and at least one slot", ErrInvalid)
	}
	c.slots.add(req, w)
	c.logger.Info("worker registered", "worker", req.WorkerID, "slots", req.Slots, "address", req.Address)
	c.notifySlots()
	return nil
}

// UnregisterWorker implements api.ControlPlane.
func (c *Control) UnregisterWorker(_ context.Context, id string) error {
	c.workerLost(id, "worker "+id+" unregistered")
	return nil
}

// workerLost forgets a worker and tells every job master, so that jobs with
// subtasks on it fail over.
func (c *Control) workerLost(id, reason string) {
	c.slots.remove(id, nil)
	c.mu.Lock()
	ms := make([]*jobMaster, 0, len(c.jobs))
	for _, m := range c.jobs {
		ms = append(ms, m)
	}
	c.mu.Unlock()
	for _, m := range ms {
		m.send(evWorkerLost{id: id, reason: reason})
	}
}

// ReportTaskState implements api.ControlPlane.
func (c *Control) ReportTaskState(_ context.Context, s api.TaskState) error {
	m, err := c.job(s.Task.JobID)
	if err != nil {
		return err
	}
	m.send(evTaskState{s})
	return nil
}

// ReportProgress implements api.ControlPlane.
func (c *Control) ReportProgress(_ context.Context, p api.Progress) error {
	m, err := c.job(p.Task.JobID)
	if err != nil {
		return err
	}
	m.send(evProgress{p})
	return nil
}

// Heartbeat implements api.ControlPlane.
func (c *Control) Heartbeat(_ context.Context, hb api.Heartbeat) error {
	c.slots.heartbeat(hb.WorkerID, hb.MemoryBytes, len(hb.Tasks))
	for _, t := range hb.Tasks {
		if m, err := c.job(t.Task.JobID); err == nil {
			m.metrics(t)
		}
	}
	return nil
}

// AckCheckpoint implements api.ControlPlane.
func (c *Control) AckCheckpoint(_ context.Context, ack api.CheckpointAck) error {
	m, err := c.job(ack.Task.JobID)
	if err != nil {
		return err
	}
	m.send(evCheckpointAck{ack})
	return nil
}
