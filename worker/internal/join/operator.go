package join

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/weir-streams/weir/internal/keygroup"
	"github.com/weir-streams/weir/internal/record"
	"github.com/weir-streams/weir/worker/internal/state"
	"github.com/weir-streams/weir/worker/internal/timer"
)

type mode uint8

const (
	modeInterval mode = iota
	modeWindow
)

// Operator runs one join step of one subtask. It is owned by the task's
// goroutine; only Stats may be used from others.
type Operator struct {
	mode     mode
	interval IntervalConfig
	window   WindowConfig
	operator string
	maxP     int
	cacheMax int

	b      *state.Backend
	st     state.State // the keys' elements
	wmSt   state.State // the watermark, per key group
	timers *timer.Service
	kgs    state.Range

	// wm is the watermark reached (math.MinInt64 before any).
	wm int64
	// floor is, after a restore, the watermark each owned key group had
	// reached at the snapshot (index kg-kgs.First), nil once wm passed them
	// all or when nothing was restored.
	floor    []int64
	floorMax int64
	// storedWM is the watermark Flush last stored.
	storedWM int64

	cache map[string]*keyState
	dirty []*keyState
	free  []*keyState

	out   record.Batch
	pbuf  []byte // the result payload under construction
	vbuf  []byte // encoded key state
	stats Stats
}

// NewInterval returns an interval join operator over b, with the elements,
// timers and watermark b holds (after a restore, the restored ones).
func NewInterval(cfg IntervalConfig, b *state.Backend) (*Operator, error) {
	cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	o := &Operator{mode: modeInterval, interval: cfg, operator: cfg.Operator, maxP: cfg.MaxParallelism, cacheMax: cfg.CacheKeys}
	return o, o.open(b)
}

// NewWindow returns a window join operator over b, with the elements, timers
// and watermark b holds.
func NewWindow(cfg WindowConfig, b *state.Backend) (*Operator, error) {
	cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	o := &Operator{mode: modeWindow, window: cfg, operator: cfg.Operator, maxP: cfg.MaxParallelism, cacheMax: cfg.CacheKeys}
	return o, o.open(b)
}

func (o *Operator) open(b *state.Backend) error {
	var err error
	o.b, o.kgs = b, b.KeyGroups()
	o.wm, o.storedWM, o.floorMax = math.MinInt64, math.MinInt64, math.MinInt64
	o.cache = make(map[string]*keyState)
	if o.st, err = b.Register(o.operator, "join/elements", state.Value, 0); err != nil {
		return err
	}
	if o.wmSt, err = b.Register(o.operator, "join/watermark", state.Value, 0); err != nil {
		return err
	}
	if o.timers, err = timer.New(b, o.operator); err != nil {
		return err
	}
	// The watermark each key group had reached at the snapshot.
	restored := false
	floor := make([]int64, o.kgs.Last-o.kgs.First+1)
	lowest := int64(math.MaxInt64)
	for kg := o.kgs.First; kg <= o.kgs.Last; kg++ {
		v, ok, err := b.Get(o.wmSt, kg, nil, nil, nil, o.vbuf[:0])
		if err != nil {
			return fmt.Errorf("reading the watermark of key group %d: %w", kg, err)
		}
		f := int64(math.MinInt64)
		if ok {
			if len(v) != 8 {
				return fmt.Errorf("reading the watermark of key group %d: %w", kg, errMalformed)
			}
			f, restored = int64(binary.LittleEndian.Uint64(v)), true
		}
		floor[kg-o.kgs.First] = f
		lowest, o.floorMax = min(lowest, f), max(o.floorMax, f)
	}
	if restored {
		o.floor = floor
		o.wm, o.storedWM = lowest, lowest
		if o.wm == o.floorMax {
			o.floor = nil
		}
	}
	return nil
}

// Stats returns the operator's counters.
func (o *Operator) Stats() *Stats { return &o.stats }

// Watermark is the watermark the operator has reached: the highest passed to
// Advance, or after a restore the lowest one its key groups had reached
// (math.MinInt64 before any).
func (o *Operator) Watermark() int64 { return o.wm }

// NextTimer is the time of the operator's earliest timer, the watermark at
// which Advance will have something to do.
func (o *Operator) NextTimer() (int64, bool) { return o.timers.Next(timer.EventTime) }

// watermarkOf is the watermark that judges lateness in key group kg.
func (o *Operator) watermarkOf(kg int) int64 {
	if o.floor == nil {
		return o.wm
	}
	return max(o.wm, o.floor[kg-o.kgs.First])
}

var errInput = errors.New("join: input must be 0 (left) or 1 (right)")

// Process joins the records of batch b of input 0 (left) or 1 (right) with the
// buffered elements of the other input and buffers them. It returns the
// results; the batch is valid until the next call.
func (o *Operator) Process(ctx context.Context, input int, b *record.Batch) (*record.Batch, error) {
	o.out.Reset()
	if input != 0 && input != 1 {
		return nil, errInput
	}
	side := uint8(input)
	var (
		v                 record.View
		noTS, late, pairs uint64
		outer             uint64
	)
	r := b.Reader()
	for r.Next(&v) {
		if !v.HasTimestamp() {
			noTS++
			continue
		}
		ks, err := o.lookup(v.Key)
		if err != nil {
			return nil, err
		}
		var res result
		if o.mode == modeInterval {
			res, err = o.intervalAdd(ks, side, &v)
		} else {
			res, err = o.windowAdd(ks, side, &v)
		}
		if err != nil {
			return nil, err
		}
		pairs += uint64(res.pairs)
		outer += uint64(res.outer)
		if res.late {
			late++
		}
	}
	if err := r.Err(); err != nil {
		return nil, fmt.Errorf("reading input %d: %w", input, err)
	}
	o.count(noTS, late, pairs, outer)
	if err := o.bound(); err != nil {
		return nil, err
	}
	return &o.out, nil
}

// result is what one element did.
type result struct {
	pairs, outer int
	late         bool
}

func (o *Operator) count(noTS, late, pairs, outer uint64) {
	if noTS > 0 {
		o.stats.NoTimestamp.Add(noTS)
	}
	if late > 0 {
		o.stats.Late.Add(late)
	}
	if pairs > 0 {
		o.stats.Pairs.Add(pairs)
	}
	if outer > 0 {
		o.stats.OuterRows.Add(outer)
	}
}

// Advance moves the watermark to wm and fires every timer at or before it, in
// time order: window joins emit the windows that end, interval joins remove
// the elements that can match nothing more (emitting outer rows). It returns
// the results; the batch is valid until the next call.
func (o *Operator) Advance(ctx context.Context, wm int64) (*record.Batch, error) {
	o.out.Reset()
	if wm <= o.wm {
		return &o.out, nil
	}
	o.wm = wm
	if o.floor != nil && wm >= o.floorMax {
		o.floor = nil
	}
	var pairs, outer uint64
	for {
		tm, ok, err := o.timers.Pop(timer.EventTime, wm)
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		ks, err := o.lookup(tm.Key)
		if err != nil {
			return nil, err
		}
		var res result
		switch {
		case o.mode == modeInterval:
			res = o.intervalCleanup(ks, tm.Time)
		case o.window.Kind == Session:
			res, err = o.sessionFire(ks, tm.Time)
		default:
			res, err = o.windowFire(ks, tm.Time)
		}
		if err != nil {
			return nil, err
		}
		pairs += uint64(res.pairs)
		outer += uint64(res.outer)
	}
	o.count(0, 0, pairs, outer)
	if err := o.bound(); err != nil {
		return nil, err
	}
	return &o.out, nil
}

// bound keeps the cache within its size: past it, what changed goes to the
// backend (committed by the worker with the batch) and the cache empties.
func (o *Operator) bound() error {
	if len(o.cache) <= o.cacheMax {
		return nil
	}
	if err := o.Flush(); err != nil {
		return err
	}
	for k, ks := range o.cache {
		delete(o.cache, k)
		o.release(ks)
	}
	return nil
}

// Flush writes the keys changed since the last Flush, and the watermark, to
// the state backend (the caller commits it). The worker calls it before every
// snapshot.
func (o *Operator) Flush() error {
	for i, ks := range o.dirty {
		o.dirty[i] = nil
		ks.dirty = false
		if ks.empty() {
			if ks.stored {
				if err := o.b.Delete(o.st, ks.kg, ks.key, nil, nil); err != nil {
					return fmt.Errorf("deleting the state of key %q: %w", ks.key, err)
				}
			}
			delete(o.cache, string(ks.key))
			o.release(ks)
			continue
		}
		o.vbuf = ks.encode(o.vbuf[:0])
		if err := o.b.Put(o.st, ks.kg, ks.key, nil, nil, o.vbuf); err != nil {
			return fmt.Errorf("writing the state of key %q: %w", ks.key, err)
		}
		ks.stored = true
	}
	o.dirty = o.dirty[:0]
	if o.wm != o.storedWM {
		var v [8]byte
		for kg := o.kgs.First; kg <= o.kgs.Last; kg++ {
			binary.LittleEndian.PutUint64(v[:], uint64(o.watermarkOf(kg)))
			if err := o.b.Put(o.wmSt, kg, nil, nil, nil, v[:]); err != nil {
				return fmt.Errorf("writing the watermark of key group %d: %w", kg, err)
			}
		}
		o.storedWM = o.wm
	}
	return nil
}

// lookup returns the state of key, from the cache or the backend.
func (o *Operator) lookup(key []byte) (*keyState, error) {
	if ks, ok := o.cache[string(key)]; ok {
		return ks, nil
	}
	var ks *keyState
	if n := len(o.free); n > 0 {
		ks, o.free[n-1] = o.free[n-1], nil
		o.free = o.free[:n-1]
	} else {
		ks = &keyState{}
	}
	ks.reset()
	ks.key = append(ks.key, key...)
	ks.kg = keygroup.Of(key, o.maxP)
	val, ok, err := o.b.Get(o.st, ks.kg, ks.key, nil, nil, o.vbuf[:0])
	if err != nil {
		o.release(ks)
		return nil, fmt.Errorf("reading the state of key %q: %w", key, err)
	}
	if ok {
		o.vbuf = val[:0]
		if err := ks.decode(val); err != nil {
			o.release(ks)
			return nil, fmt.Errorf("reading the state of key %q: %w", key, err)
		}
		ks.stored = true
		if o.mode == modeInterval {
			for i := range ks.elems {
				o.addBucket(ks, o.bucket(&ks.elems[i]))
			}
		}
	}
	o.cache[string(ks.key)] = ks
	return ks, nil
}

// release puts ks, out of the cache, on the free list.
func (o *Operator) release(ks *keyState) {
	if len(o.free) < 1024 {
		o.free = append(o.free, ks)
	}
}

func (o *Operator) markDirty(ks *keyState) {
	if !ks.dirty {
		ks.dirty = true
		o.dirty = append(o.dirty, ks)
	}
}

// emit appends a result: l and r are the sides' payloads (nil with present
// false for the missing side of an outer row).
func (o *Operator) emit(ks *keyState, ts int64, l []byte, lJSON, lPresent bool, r []byte, rJSON, rPresent bool) {
	p := append(o.pbuf[:0], `{"left":`...)
	p = appendSide(p, l, lJSON, lPresent)
	p = append(p, `,"right":`...)
	p = appendSide(p, r, rJSON, rPresent)
	p = append(p, '}')
	o.pbuf = p
	o.out.Append(&record.View{Flags: record.FlagKey | record.FlagTimestamp | record.FlagPayload, Key: ks.key, Timestamp: ts, Payload: p})
}

func appendSide(dst, payload []byte, isJSON, present bool) []byte {
	switch {
	case !present:
		return append(dst, "null"...)
	case isJSON:
		return append(dst, payload...)
	}
	return appendString(dst, payload)
}

// isJSON reports whether payload can be embedded as is: encoding/json.Valid,
// without its allocations.
func isJSON(payload []byte) bool { return validJSON(payload) }
