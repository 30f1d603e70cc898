package join

import (
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/weir-streams/weir/internal/keygroup"
)

// Kind is which unmatched elements an interval join emits.
type Kind uint8

const (
	// Inner emits matched pairs only.
	Inner Kind = iota
	// LeftOuter also emits every left element that matched nothing, with a
	// null right side, when it is removed.
	LeftOuter
	// RightOuter is LeftOuter with the sides swapped.
	RightOuter
	// FullOuter is LeftOuter and RightOuter.
	FullOuter
)

func (k Kind) outer(side uint8) bool {
	switch k {
	case LeftOuter:
		return side == left
	case RightOuter:
		return side == right
	case FullOuter:
		return true
	}
	return false
}

// WindowKind is how a window join assigns elements to windows.
type WindowKind uint8

const (
	Tumbling WindowKind = iota
	Sliding
	Session
)

// The sides of a join, as Process's input index.
const (
	left  uint8 = 0
	right uint8 = 1
)

// IntervalConfig describes an interval join step.
type IntervalConfig struct {
	// Operator is the step's id: state and timers are registered under it.
	// Required.
	Operator string
	// MaxParallelism is the job's number of key groups. Required.
	MaxParallelism int
	// Lower and Upper (ms, both included) bound b.ts-a.ts for a left a and a
	// right b to join; either may be negative, Lower <= Upper. Default 0, 0.
	Lower, Upper int64
	// Kind is Inner (the default), LeftOuter, RightOuter or FullOuter.
	Kind Kind
	// CleanupBucket (ms) is the granularity of the removal timers: one timer
	// per key and bucket. An element stays buffered (and an outer row waits)
	// up to CleanupBucket-1 ms of watermark past its removal time; timers are
	// most of the operator's cost, so coarser buckets are faster. Default
	// max(1, Upper-Lower).
	CleanupBucket int64
	// CacheKeys bounds the keys the write-back cache holds: past it, the
	// operator writes what changed to the backend and empties the cache.
	// Default 200,000.
	CacheKeys int
}

// Defaults fills in the defaults of unset fields.
func (c *IntervalConfig) Defaults() {
	if c.CleanupBucket == 0 && c.Upper >= c.Lower {
		c.CleanupBucket = max(1, c.Upper-c.Lower)
	}
	if c.CacheKeys == 0 {
		c.CacheKeys = defaultCacheKeys
	}
}

// Validate reports the first invalid field.
func (c *IntervalConfig) Validate() error {
	if err := checkCommon(c.Operator, c.MaxParallelism, c.CacheKeys); err != nil {
		return err
	}
	if c.Lower > c.Upper {
		return fmt.Errorf("join: lower bound %dms is above upper bound %dms", c.Lower, c.Upper)
	}
	if c.Kind > FullOuter {
		return fmt.Errorf("join: unknown kind %d", c.Kind)
	}
	if c.CleanupBucket <= 0 {
		return fmt.Errorf("join: cleanup bucket %dms must be positive", c.CleanupBucket)
	}
	return nil
}

// WindowConfig describes a window join step.
type WindowConfig struct {
	// Operator is the step's id: state and timers are registered under it.
	// Required.
	Operator string
	// MaxParallelism is the job's number of key groups. Required.
	MaxParallelism int
	// Kind is Tumbling (the default), Sliding or Session.
	Kind WindowKind
	// Size (ms) is the length of tumbling and sliding windows, Slide (ms) the
	// distance between sliding windows' starts (at most Size); Gap (ms) the
	// inactivity that ends a session. No defaults.
	Size, Slide, Gap int64
	// CacheKeys bounds the keys the write-back cache holds. Default 200,000.
	CacheKeys int
}

// Defaults fills in the defaults of unset fields.
func (c *WindowConfig) Defaults() {
	if c.Kind == Tumbling {
		c.Slide = c.Size
	}
	if c.CacheKeys == 0 {
		c.CacheKeys = defaultCacheKeys
	}
}

// Validate reports the first invalid field.
func (c *WindowConfig) Validate() error {
	if err := checkCommon(c.Operator, c.MaxParallelism, c.CacheKeys); err != nil {
		return err
	}
	switch c.Kind {
	case Tumbling, Sliding:
		if c.Size <= 0 || c.Slide <= 0 || c.Slide > c.Size {
			return fmt.Errorf("join: window size %dms and slide %dms must be positive, slide at most size", c.Size, c.Slide)
		}
	case Session:
		if c.Gap <= 0 {
			return fmt.Errorf("join: session gap %dms must be positive", c.Gap)
		}
	default:
		return fmt.Errorf("join: unknown window kind %d", c.Kind)
	}
	return nil
}

const defaultCacheKeys = 200_000

func checkCommon(operator string, maxP, cacheKeys int) error {
	if operator == "" {
		return errors.New("join: operator id is empty")
	}
	if maxP < 1 || maxP > keygroup.MaxParallelism {
		return fmt.Errorf("join: max parallelism %d out of range 1..%d", maxP, keygroup.MaxParallelism)
	}
	if cacheKeys < 0 {
		return fmt.Errorf("join: cache size %d keys is negative", cacheKeys)
	}
	return nil
}

// Stats are the operator's counters; safe to read from any goroutine.
type Stats struct {
	// Late counts elements dropped because they came after the watermark had
	// passed them (interval join: ts < watermark; window join: every window of
	// theirs had fired).
	Late atomic.Uint64
	// NoTimestamp counts records without a timestamp, dropped.
	NoTimestamp atomic.Uint64
	// Pairs counts the matched pairs emitted, OuterRows the outer rows.
	Pairs     atomic.Uint64
	OuterRows atomic.Uint64
}
