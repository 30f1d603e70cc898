package wasmhost

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// Options configure a Runtime. The zero value is usable.
type Options struct {
	// CacheDir holds compiled machine code between process runs. It is created with
	// mode 0700 because it holds executable code. Empty means an in-memory cache.
	CacheDir string
	// MaxConcurrentCalls bounds the guest calls running at once. Default
	// GOMAXPROCS-1, at least 1.
	MaxConcurrentCalls int
	// Logger receives guest log lines and stdout/stderr. Default slog.Default().
	Logger *slog.Logger
}

// Runtime compiles and instantiates UDF modules. It is safe for concurrent use.
type Runtime struct {
	rt     wazero.Runtime
	cache  wazero.CompilationCache
	logger *slog.Logger
	// calls is a counting semaphore of guest calls in flight.
	calls chan struct{}

	mu sync.Mutex
	// modules caches compiled modules by digest; guarded by mu.
	modules map[string]*Module
}

// NewRuntime creates the wazero runtime with WASI and the weir host module.
func NewRuntime(ctx context.Context, opts Options) (*Runtime, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.MaxConcurrentCalls <= 0 {
		opts.MaxConcurrentCalls = max(1, runtime.GOMAXPROCS(0)-1)
	}
	var cache wazero.CompilationCache
	if opts.CacheDir != "" {
		if err := os.MkdirAll(opts.CacheDir, 0o700); err != nil {
			return nil, fmt.Errorf("creating compilation cache: %w", err)
		}
		if err := os.Chmod(opts.CacheDir, 0o700); err != nil {
			return nil, fmt.Errorf("securing compilation cache: %w", err)
		}
		c, err := wazero.NewCompilationCacheWithDir(opts.CacheDir)
		if err != nil {
			return nil, fmt.Errorf("opening compilation cache: %w", err)
		}
		cache = c
	} else {
		cache = wazero.NewCompilationCache()
	}
	cfg := wazero.NewRuntimeConfig().
		WithCompilationCache(cache).
		// Interruption comes from the fuel checks meter compiles into every loop
		// (module.go), which cost far less than wazero's per-iteration exit to Go.
		WithCloseOnContextDone(false)
	rt := wazero.NewRuntimeWithConfig(ctx, cfg)
	r := &Runtime{
		rt:      rt,
		cache:   cache,
		logger:  opts.Logger,
		calls:   make(chan struct{}, opts.MaxConcurrentCalls),
		modules: map[string]*Module{},
	}
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, rt); err != nil {
		rt.Close(ctx)
		return nil, fmt.Errorf("instantiating wasi: %w", err)
	}
	if err := instantiateHostModule(ctx, rt); err != nil {
		rt.Close(ctx)
		return nil, fmt.Errorf("instantiating weir host module: %w", err)
	}
	return r, nil
}

// MaxConcurrentCalls is the bound on guest calls running at once.
func (r *Runtime) MaxConcurrentCalls() int { return cap(r.calls) }

// acquire takes a guest-call slot, waiting at most until ctx ends.
func (r *Runtime) acquire(ctx context.Context) error {
	select {
	case r.calls <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (r *Runtime) release() { <-r.calls }

// Close releases the runtime and every module and instance made from it.
func (r *Runtime) Close(ctx context.Context) error {
	err := r.rt.Close(ctx)
	if cerr := r.cache.Close(ctx); err == nil {
		err = cerr
	}
	return err
}

// validationLimits bound the instance made to validate an upload.
var validationLimits = Limits{Memory: 256 << 20, CallTimeout: 5 * time.Second}
