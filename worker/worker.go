package worker

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/weir-streams/weir/internal/api"
	"github.com/weir-streams/weir/internal/jobgraph"
	"github.com/weir-streams/weir/internal/meta"
	"github.com/weir-streams/weir/wasmhost"
	"github.com/weir-streams/weir/worker/internal/exchange"
	"github.com/weir-streams/weir/worker/internal/state"
)

// Options configure a Worker.
type Options struct {
	// ID names the worker. Default "worker-1".
	ID string
	// Slots is the number of task slots offered. Default 4.
	Slots int
	// Address says where the worker runs, for people reading GET /workers.
	Address string
	// DataConn and CreditConn carry the exchange with other workers: bulk frames
	// and credit grants on separate connections. Default: the worker's connection
	// (fine in standalone, where every peer is local).
	DataConn, CreditConn *nats.Conn
	// SourceConn carries the JetStream sources' deliveries, apart from the sinks'
	// publishes and their acknowledgements. Default: the worker's connection.
	SourceConn *nats.Conn
	// DataDir holds the worker's files (the Wasm compilation cache). Required.
	DataDir string
	// HeartbeatInterval is how often metrics reach the control plane. Default 1s.
	HeartbeatInterval time.Duration
	// StopTimeout bounds a graceful stop before tasks are canceled. Default 30s.
	StopTimeout time.Duration
	// StateCacheSize is the block cache, in bytes, shared by the worker's state
	// backends. Default 64 MiB.
	StateCacheSize int64
}

func (o *Options) defaults() {
	if o.ID == "" {
		o.ID = "worker-1"
	}
	if o.Slots <= 0 {
		o.Slots = 4
	}
	if o.HeartbeatInterval <= 0 {
		o.HeartbeatInterval = time.Second
	}
	if o.StopTimeout <= 0 {
		o.StopTimeout = 30 * time.Second
	}
	if o.StateCacheSize <= 0 {
		o.StateCacheSize = 64 << 20
	}
}

// Worker runs subtasks. Create it with New, then call Run.
type Worker struct {
	opts     Options
	logger   *slog.Logger
	nc       *nats.Conn
	js       jetstream.JetStream // sinks, modules
	srcJS    jetstream.JetStream // sources
	control  api.ControlPlane
	rt       *wasmhost.Runtime
	modules  meta.ModuleStore
	registry *exchange.Registry
	net      *exchange.Net
	// stateCache is the block cache every state backend of the worker shares;
	// stateFiles is where checkpoints put their files.
	stateCache *pebble.Cache
	stateFiles state.FileStore

	memory atomic.Uint64 // heap and stacks in use, sampled at each heartbeat

	mu    sync.Mutex
	tasks map[jobgraph.TaskID]*task // guarded by mu
	wg    sync.WaitGroup            // running task goroutines
}

// New creates a worker that reaches NATS through nc and the control plane through control.
func New(ctx context.Context, opts Options, nc *nats.Conn, control api.ControlPlane, logger *slog.Logger) (*Worker, error) {
	opts.defaults()
	if opts.DataDir == "" {
		return nil, errors.New("worker: a data directory is required")
	}
	srcJS, err := jetstream.New(cmp.Or(opts.SourceConn, nc))
	if err != nil {
		return nil, fmt.Errorf("opening JetStream: %w", err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("opening JetStream: %w", err)
	}
	_, obj, err := meta.Buckets(ctx, js)
	if err != nil {
		return nil, err
	}
	stateObj, err := meta.StateStore(ctx, js)
	if err != nil {
		return nil, err
	}
	rt, err := wasmhost.NewRuntime(ctx, wasmhost.Options{
		CacheDir: filepath.Join(opts.DataDir, "wasm-cache"),
		Logger:   logger,
	})
	if err != nil {
		return nil, err
	}
	return &Worker{
		opts:       opts,
		logger:     logger.With("worker", opts.ID),
		nc:         nc,
		js:         js,
		srcJS:      srcJS,
		control:    control,
		rt:         rt,
		modules:    meta.ModuleStore{Obj: obj},
		registry:   exchange.NewRegistry(16),
		stateCache: pebble.NewCache(opts.StateCacheSize),
		stateFiles: state.NewObjectStore(stateObj),
		net:        exchange.NewNet(cmp.Or(opts.DataConn, nc), cmp.Or(opts.CreditConn, nc), 0, logger),
		tasks:      map[jobgraph.TaskID]*task{},
	}, nil
}

// ID is the worker's id.
func (w *Worker) ID() string { return w.opts.ID }

// Run registers with the control plane and sends heartbeats until ctx ends; then it
// cancels every task still running, waits for them and unregisters.
func (w *Worker) Run(ctx context.Context) error {
	if err := w.control.RegisterWorker(ctx, api.RegisterWorker{WorkerID: w.opts.ID, Slots: w.opts.Slots, Address: w.opts.Address}, w); err != nil {
		return fmt.Errorf("registering with the control plane: %w", err)
	}
	w.logger.Info("worker registered", "slots", w.opts.Slots, "max_concurrent_guest_calls", w.rt.MaxConcurrentCalls())
	tick := time.NewTicker(w.opts.HeartbeatInterval)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			w.memory.Store(ms.HeapInuse + ms.StackInuse)
			_ = w.control.Heartbeat(ctx, w.heartbeat())
		case <-ctx.Done():
			w.shutdown()
			return nil
		}
	}
}

// controlLost cancels every task: the control plane has declared this worker lost
// and restarts its jobs elsewhere, so their results here would only be duplicates.
func (w *Worker) controlLost() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, t := range w.tasks {
		t.cancel()
	}
}

func (w *Worker) shutdown() {
	w.controlLost()
	w.wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = w.control.UnregisterWorker(ctx, w.opts.ID)
	_ = w.rt.Close(ctx)
	w.stateCache.Unref()
}

func (w *Worker) heartbeat() api.Heartbeat {
	w.mu.Lock()
	defer w.mu.Unlock()
	hb := api.Heartbeat{WorkerID: w.opts.ID, Tasks: make([]api.TaskMetrics, 0, len(w.tasks)), MemoryBytes: w.memory.Load()}
	for _, t := range w.tasks {
		hb.Tasks = append(hb.Tasks, t.metrics())
	}
	return hb
}

// DeployTask implements api.Worker.
func (w *Worker) DeployTask(ctx context.Context, desc jobgraph.TaskDescriptor) error {
	t := newTask(w, desc)
	w.mu.Lock()
	if _, dup := w.tasks[desc.Task]; dup {
		w.mu.Unlock()
		return fmt.Errorf("task %s is already deployed", desc.Task)
	}
	w.tasks[desc.Task] = t
	w.wg.Add(1)
	w.mu.Unlock()
	go func() {
		defer w.wg.Done()
		t.run()
		// Final metrics reach the control plane before the task is forgotten.
		_ = w.control.Heartbeat(context.Background(), w.heartbeat())
		w.mu.Lock()
		delete(w.tasks, desc.Task)
		empty := true
		for id := range w.tasks {
			if id.JobID == desc.Task.JobID && id.Attempt == desc.Task.Attempt {
				empty = false
			}
		}
		w.mu.Unlock()
		if empty {
			w.registry.DropJob(desc.Task.JobID, desc.Task.Attempt)
		}
	}()
	return nil
}

// StopJob implements api.Worker.
func (w *Worker) StopJob(ctx context.Context, jobID string, attempt uint64, graceful bool) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	for id, t := range w.tasks {
		if id.JobID != jobID || id.Attempt != attempt {
			continue
		}
		if graceful {
			t.stopGracefully(w.opts.StopTimeout)
		} else {
			t.cancel()
		}
	}
	return nil
}

// Checkpoint implements api.Worker: it hands the event to the job attempt's
// subtasks on this worker. Only source subtasks act on a trigger; the others see
// the checkpoint's barriers in their inputs.
func (w *Worker) Checkpoint(ctx context.Context, ev api.CheckpointEvent) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	for id, t := range w.tasks {
		if id.JobID != ev.JobID || id.Attempt != ev.Attempt {
			continue
		}
		if ev.Kind == api.CheckpointTrigger && !t.isSource() {
			continue
		}
		select {
		case t.checkpoints <- ev:
		default:
			// The task is far behind; the checkpoint times out and the
			// coordinator aborts it.
			t.logger.Warn("checkpoint event dropped: the task's queue is full", "checkpoint", ev.ID, "kind", ev.Kind)
		}
	}
	return nil
}
