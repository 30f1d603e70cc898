package state

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// Options configure a Backend. Defaults fills the zero fields; Validate checks
// the rest.
type Options struct {
	// Dir is the backend's directory (required). It is wiped on Open and Restore:
	// local files are a cache, durability comes from checkpoints. The database
	// lives in Dir/db, checkpoint captures in Dir/capture, downloads in Dir/restore.
	Dir string
	// FS is the file system. Default vfs.Default; tests use vfs.NewMem or
	// vfs.NewCrashableMem.
	FS vfs.FS
	// Cache is the worker's shared block cache. Default (nil): a private 8 MiB one.
	Cache *pebble.Cache
	// MemTableSize is Pebble's largest memtable. Default 64 MiB. Up to four
	// may exist while flushes lag behind writes. It also bounds how much may be
	// written between a barrier and the capture of its snapshot before Commit
	// blocks (see doc.go).
	MemTableSize uint64
	// MaxParallelism is the job's number of key groups (required, 1..32768).
	MaxParallelism int
	// KeyGroups is the range of key groups this subtask owns (required).
	KeyGroups Range
	// Now is the TTL clock. Default time.Now.
	Now func() time.Time
	// Logger receives Pebble's messages (its info at debug level). Default
	// slog.Default().
	Logger *slog.Logger

	// noAutoCompactions is for tests that need a deterministic set of files:
	// whether a background compaction finishes before a capture is a race.
	noAutoCompactions bool
}

const (
	defaultMemTableSize = 64 << 20
	privateCacheSize    = 8 << 20
	// minMemTableSize keeps Pebble's arithmetic (half a memtable for a large
	// batch, the first memtable at 256 KiB) meaningful.
	minMemTableSize = 256 << 10
)

// Defaults fills the zero fields of o with their defaults.
func (o *Options) Defaults() {
	if o.FS == nil {
		o.FS = vfs.Default
	}
	if o.MemTableSize == 0 {
		o.MemTableSize = defaultMemTableSize
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// Validate reports the first invalid field of o, after Defaults.
func (o *Options) Validate() error {
	if o.Dir == "" {
		return errors.New("state: Options.Dir is required")
	}
	// The directory is wiped: refuse the obvious disasters.
	if c := filepath.Clean(o.Dir); c == "/" || c == "." || c == ".." {
		return fmt.Errorf("state: Options.Dir %q would wipe a directory that is not the backend's", o.Dir)
	}
	if o.MaxParallelism < 1 || o.MaxParallelism > maxKeyGroups {
		return fmt.Errorf("state: Options.MaxParallelism %d out of range 1..%d", o.MaxParallelism, maxKeyGroups)
	}
	if !o.KeyGroups.Valid(o.MaxParallelism) {
		return fmt.Errorf("state: Options.KeyGroups %v is not a range of key groups below %d", o.KeyGroups, o.MaxParallelism)
	}
	if o.MemTableSize < minMemTableSize || o.MemTableSize >= 4<<30 {
		return fmt.Errorf("state: Options.MemTableSize %d out of range %d..4GiB", o.MemTableSize, minMemTableSize)
	}
	return nil
}

func (o *Options) dbDir() string      { return filepath.Join(o.Dir, "db") }
func (o *Options) captureDir() string { return filepath.Join(o.Dir, "capture") }
func (o *Options) restoreDir() string { return filepath.Join(o.Dir, "restore") }

// pebbleOptions returns the options every database of the backend is opened with.
func (o *Options) pebbleOptions(cache *pebble.Cache, readOnly bool) *pebble.Options {
	po := &pebble.Options{
		FS:           o.FS,
		Cache:        cache,
		MemTableSize: o.MemTableSize,
		// Durability comes from checkpoints plus source replay, as Flink runs
		// RocksDB; the WAL would only cost a write per record.
		DisableWAL: true,
		// Zero already, but load-bearing: a delayed flush would move post-barrier
		// writes into sstables before a snapshot is captured.
		FlushDelayDeleteRange: 0,
		FlushDelayRangeKey:    0,
		// Rotating the memtable at a barrier stalls while the memtables queued
		// reach this many times MemTableSize. Pebble's default, 2, makes a
		// barrier that follows a burst of writes wait for the previous flush
		// (hundreds of ms, measured) inside the synchronous pause; 4 (as
		// CockroachDB runs Pebble) leaves room for two flushes in flight, at
		// the cost of up to 4*MemTableSize of memtables while flushes lag.
		MemTableStopWritesThreshold: 4,
		ReadOnly:                    readOnly,
		DisableAutomaticCompactions: o.noAutoCompactions,
		Logger:                      pebbleLogger{o.Logger},
	}
	// Bloom filters on every level: state reads are point lookups (Get seeks by
	// the whole key, which is the default comparer's prefix).
	for i := range po.Levels {
		po.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
	}
	// No read-triggered compactions: they rewrite files only because they were
	// read, and every rewritten file is uploaded again by the next incremental
	// checkpoint (RocksDB, under Flink, has none either).
	po.Experimental.ReadSamplingMultiplier = -1
	return po
}

// pebbleLogger sends Pebble's messages to slog. Pebble calls Fatalf when its
// invariants are broken (a failed commit pipeline): it must not return, so it
// panics after logging rather than exiting the whole worker from a library.
type pebbleLogger struct{ l *slog.Logger }

func (p pebbleLogger) Infof(format string, args ...any) {
	p.l.Debug(fmt.Sprintf(format, args...), "component", "pebble")
}

func (p pebbleLogger) Errorf(format string, args ...any) {
	p.l.Error(fmt.Sprintf(format, args...), "component", "pebble")
}

func (p pebbleLogger) Fatalf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	p.l.Error(msg, "component", "pebble", "fatal", true)
	panic("pebble: " + msg)
}
