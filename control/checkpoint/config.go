package checkpoint

import (
	"errors"
	"fmt"
	"time"
)

// Config is the checkpointing policy of one job, from the job spec's
// `checkpointing:` section (durations in Go's syntax). Call Defaults, then Validate.
type Config struct {
	// Interval is the time between the triggers of two periodic checkpoints
	// (`interval`). Required, > 0.
	Interval time.Duration
	// Timeout is how long a checkpoint may take from its trigger until every task
	// has acknowledged it; past it the checkpoint fails (`timeout`). Default 10m.
	Timeout time.Duration
	// MinPause is the least time between the end of one checkpoint (completed or
	// failed) and the trigger of the next periodic one (`min_pause`), so that a job
	// whose checkpoints take longer than Interval still gets time to process
	// records. Default 0.
	MinPause time.Duration
	// MaxConcurrent is how many checkpoints (savepoints included) may be in flight
	// at once before a periodic trigger waits (`max_concurrent`). Default 1.
	MaxConcurrent int
	// TolerableFailures is how many checkpoints in a row may fail without failing
	// the job (`tolerable_failures`); one more fails it. Savepoints do not count.
	// Default 0.
	TolerableFailures int
	// Retain is how many completed checkpoints are kept (`retain`). Default 1.
	Retain int
	// MaxParallelism is the job's max_parallelism (the spec's top level), written
	// into every checkpoint's metadata so that a restore can refuse a mismatch.
	// Not part of `checkpointing:`; 0 leaves it unrecorded.
	MaxParallelism int
}

// Defaults, after Flink's.
const (
	DefaultTimeout       = 10 * time.Minute
	DefaultMaxConcurrent = 1
	DefaultRetain        = 1
)

// Defaults fills the fields left at zero that have a non-zero default.
func (c *Config) Defaults() {
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.MaxConcurrent == 0 {
		c.MaxConcurrent = DefaultMaxConcurrent
	}
	if c.Retain == 0 {
		c.Retain = DefaultRetain
	}
}

// Validate reports every field out of range, each error naming the spec key.
func (c Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("checkpointing.%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if c.Interval <= 0 {
		bad("interval", "must be positive, got %s", c.Interval)
	}
	if c.Timeout <= 0 {
		bad("timeout", "must be positive, got %s", c.Timeout)
	}
	if c.MinPause < 0 {
		bad("min_pause", "must not be negative, got %s", c.MinPause)
	}
	if c.MaxConcurrent < 1 {
		bad("max_concurrent", "must be at least 1, got %d", c.MaxConcurrent)
	}
	if c.TolerableFailures < 0 {
		bad("tolerable_failures", "must not be negative, got %d", c.TolerableFailures)
	}
	if c.Retain < 1 {
		bad("retain", "must be at least 1, got %d", c.Retain)
	}
	if c.MaxParallelism < 0 {
		bad("max_parallelism", "must not be negative, got %d", c.MaxParallelism)
	}
	return errors.Join(errs...)
}
