package window

import (
	"context"
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/weir-streams/weir/internal/record"
)

// EvictorKind is the kind of a window's evictor (Flink's Evictor classes).
type EvictorKind uint8

const (
	// CountEvictor keeps the last N elements.
	CountEvictor EvictorKind = iota + 1
	// TimeEvictor keeps the elements whose timestamp is above the largest
	// timestamp in the window minus Size (elements without one stay).
	TimeEvictor
	// CustomEvictor asks Functions.Evictor (sdk/ABI.md §4.10).
	CustomEvictor
)

// Evictor removes elements from a window when it fires, before its function
// runs (Flink's Evictor.evictBefore); evicted elements leave the window.
type Evictor struct {
	Kind EvictorKind
	// N is CountEvictor's count.
	N uint64
	// Size (ms) is TimeEvictor's span.
	Size int64
}

// EvictWindow is a window about to fire, for a custom evictor. Its slices alias
// the operator's memory: valid during the call.
type EvictWindow struct {
	Start, End int64
	Key        []byte
	Keyed      bool
	// N is the number of elements; Elements are they, §5 records in arrival
	// order (a batch frame without its count).
	N        int
	Elements []byte
}

// EvictorCaller runs evict calls: the worker adapts an instance of an
// `evictor` function to it. It returns, per window in order, the indexes of
// the elements to evict, ascending. The operator calls it from its task's
// goroutine with every window that fires in one Process or Advance call
// (a window firing again in the same call first has its earlier eviction
// applied, which takes another call), never once per record.
type EvictorCaller interface {
	Evict(ctx context.Context, windows []EvictWindow) ([][]uint32, error)
}

// evictBuiltin applies a built-in evictor to w's elements.
func (o *Operator) evictBuiltin(w *win) {
	e := o.trig.evictor
	if e == nil || e.Kind == CustomEvictor {
		return
	}
	var drop func(v *record.View) bool
	switch e.Kind {
	case CountEvictor:
		if w.n <= e.N {
			return
		}
		k := w.n - e.N
		drop = func(*record.View) bool {
			if k > 0 {
				k--
				return true
			}
			return false
		}
	case TimeEvictor:
		maxTS, has := elementsMaxTS(w.acc)
		if !has {
			return
		}
		drop = func(v *record.View) bool { return v.HasTimestamp() && v.Timestamp <= maxTS-e.Size }
	}
	o.keepElems(w, func(k int, v *record.View) bool { return !drop(v) })
}

// keepElems keeps the elements of w for which keep is true, in place.
func (o *Operator) keepElems(w *win, keep func(k int, v *record.View) bool) {
	p := w.acc[4:]
	out := 4
	v := &o.trig.fview
	n := uint32(0)
	for k := 0; len(p) > 0; k++ {
		l, err := record.DecodeInto(p, v)
		if err != nil {
			break
		}
		if keep(k, v) {
			out += copy(w.acc[out:], p[:l])
			n++
		}
		p = p[l:]
	}
	w.acc = w.acc[:out]
	binary.LittleEndian.PutUint32(w.acc, n)
	w.n = uint64(n)
	w.maxTS, w.hasTS = elementsMaxTS(w.acc)
}

// flushEvictions calls the custom evictor with the fires waiting for it,
// applies its evictions to those fires and their windows, and outputs them.
func (o *Operator) flushEvictions() error {
	ts := o.trig
	if len(ts.evq) == 0 {
		return nil
	}
	ts.evw = ts.evw[:0]
	for _, f := range ts.evq {
		ts.evw = append(ts.evw, EvictWindow{Start: f.start, End: f.end, Key: f.ks.key, Keyed: o.cfg.Keyed,
			N: int(binary.LittleEndian.Uint32(f.elems)), Elements: f.elems[4:]})
	}
	idx, err := o.cfg.Functions.Evictor.Evict(o.ctx, ts.evw)
	if err != nil {
		return err
	}
	if len(idx) != len(ts.evq) {
		return fmt.Errorf("window %q: the evictor answered %d windows of %d", o.cfg.Operator, len(idx), len(ts.evq))
	}
	for j, f := range ts.evq {
		ev := idx[j]
		tmp := win{acc: f.elems}
		keep := func(k int, _ *record.View) bool { _, found := slices.BinarySearch(ev, uint32(k)); return !found }
		o.keepElems(&tmp, keep)
		f.elems = tmp.acc
		if i, err := o.window(f.ks, f.start, f.end, false); err == nil && i >= 0 && f.ks.wins[i].pend {
			w := &f.ks.wins[i]
			w.pend = false
			if len(ev) > 0 {
				// The fire's elements are the window's first ones: later
				// elements of the call came after them.
				n := int(binary.LittleEndian.Uint32(tmp.acc)) + len(ev)
				o.keepElems(w, func(k int, _ *record.View) bool {
					if k >= n {
						return true
					}
					_, found := slices.BinarySearch(ev, uint32(k))
					return !found
				})
				o.markDirty(f.ks)
			}
			o.dropIfEmpty(f.ks, i)
		}
		o.outputElems(f)
	}
	clear(ts.evq)
	ts.evq = ts.evq[:0]
	clear(ts.evw)
	return nil
}
