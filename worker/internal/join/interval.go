package join

import (
	"math"
	"slices"

	"github.com/weir-streams/weir/internal/record"
	"github.com/weir-streams/weir/worker/internal/timer"
)

// intervalAdd joins element v of side with the key's buffered elements of the
// other side, then buffers it unless it can match nothing more.
func (o *Operator) intervalAdd(ks *keyState, side uint8, v *record.View) (res result, err error) {
	ts := v.Timestamp
	wm := o.watermarkOf(ks.kg)
	if ts < wm {
		res.late = true
		o.dropIfClean(ks)
		return res, nil
	}
	lo, up := o.interval.Lower, o.interval.Upper
	js := isJSON(v.Payload)
	matched := false
	for i := range ks.elems {
		e := &ks.elems[i]
		if e.side == side {
			continue
		}
		if side == left {
			if !within(ts, e.ts, lo, up) {
				continue
			}
			o.emit(ks, max(ts, e.ts), v.Payload, js, true, ks.payload(e), e.json, true)
		} else {
			if !within(e.ts, ts, lo, up) {
				continue
			}
			o.emit(ks, max(ts, e.ts), ks.payload(e), e.json, true, v.Payload, js, true)
		}
		res.pairs++
		matched = true
		if !e.matched {
			e.matched = true
			o.markDirty(ks)
		}
	}
	if o.removal(side, ts) <= wm {
		// No element still to come can match it: it is not kept.
		if !matched && o.interval.Kind.outer(side) {
			o.emitOuter(ks, side, ts, v.Payload, js)
			res.outer++
		}
		o.dropIfClean(ks)
		return res, nil
	}
	ks.add(side, ts, v.Payload, js, matched)
	o.markDirty(ks)
	if b := o.bucket(&ks.elems[len(ks.elems)-1]); o.addBucket(ks, b) {
		if err := o.timers.Register(timer.EventTime, ks.kg, ks.key, nil, b); err != nil {
			return res, err
		}
	}
	return res, nil
}

// within reports whether left a and right b timestamps join:
// a+lo <= b <= a+up, without overflow.
func within(a, b, lo, up int64) bool { return b >= satAdd(a, lo) && b <= satAdd(a, up) }

// removal is the first watermark at which an element of side at ts can match
// no element still to come (those are at or above the watermark).
func (o *Operator) removal(side uint8, ts int64) int64 {
	if side == left {
		return satAdd(satAdd(ts, o.interval.Upper), 1)
	}
	return satAdd(satSub(ts, o.interval.Lower), 1)
}

// bucket is the time of e's removal timer: its removal time rounded up to the
// cleanup bucket.
func (o *Operator) bucket(e *elem) int64 {
	t := o.removal(e.side, e.ts)
	bk := o.interval.CleanupBucket
	r := t % bk
	if r == 0 {
		return t
	}
	if r < 0 {
		return t - r
	}
	return satAdd(t, bk-r)
}

// addBucket records that the key has a timer at b; it reports whether the
// timer is new.
func (o *Operator) addBucket(ks *keyState, b int64) bool {
	i, found := slices.BinarySearch(ks.buckets, b)
	if found {
		return false
	}
	ks.buckets = slices.Insert(ks.buckets, i, b)
	return true
}

// intervalCleanup removes the key's elements whose removal bucket is t (or
// before), emitting the outer rows of those that matched nothing.
func (o *Operator) intervalCleanup(ks *keyState, t int64) (res result) {
	n, w := 0, uint32(0)
	for i := range ks.elems {
		e := &ks.elems[i]
		if o.bucket(e) > t {
			w = ks.keep(i, n, w)
			n++
			continue
		}
		if !e.matched && o.interval.Kind.outer(e.side) {
			o.emitOuter(ks, e.side, e.ts, ks.payload(e), e.json)
			res.outer++
		}
	}
	if n != len(ks.elems) {
		ks.truncate(n, w)
		o.markDirty(ks)
	}
	k := 0
	for k < len(ks.buckets) && ks.buckets[k] <= t {
		k++
	}
	ks.buckets = append(ks.buckets[:0], ks.buckets[k:]...)
	o.dropIfClean(ks)
	return res
}

func (o *Operator) emitOuter(ks *keyState, side uint8, ts int64, payload []byte, js bool) {
	if side == left {
		o.emit(ks, ts, payload, js, true, nil, false, false)
	} else {
		o.emit(ks, ts, nil, false, false, payload, js, true)
	}
}

// dropIfClean removes a key with nothing buffered and nothing to write from
// the cache.
func (o *Operator) dropIfClean(ks *keyState) {
	if ks.empty() && !ks.dirty && !ks.stored {
		delete(o.cache, string(ks.key))
		o.release(ks)
	}
}

func satAdd(a, b int64) int64 {
	s := a + b
	switch {
	case b > 0 && s < a:
		return math.MaxInt64
	case b < 0 && s > a:
		return math.MinInt64
	}
	return s
}

func satSub(a, b int64) int64 {
	if b == math.MinInt64 {
		if a >= 0 {
			return math.MaxInt64
		}
		return a - b
	}
	return satAdd(a, -b)
}
