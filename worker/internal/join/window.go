package join

import (
	"math"
	"slices"

	"github.com/weir-streams/weir/internal/record"
	"github.com/weir-streams/weir/worker/internal/timer"
)

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func ceilDiv(a, b int64) int64 { return -floorDiv(-a, b) }

// firstEnd and lastEnd are the ends of the first and last windows holding ts
// (windows start at multiples of the slide).
func (o *Operator) firstEnd(ts int64) int64 {
	return (floorDiv(ts-o.window.Size, o.window.Slide)+1)*o.window.Slide + o.window.Size
}

func (o *Operator) lastEnd(ts int64) int64 {
	return floorDiv(ts, o.window.Slide)*o.window.Slide + o.window.Size
}

// windowAdd buffers element v of side in the key's windows not yet fired.
func (o *Operator) windowAdd(ks *keyState, side uint8, v *record.View) (res result, err error) {
	if o.window.Kind == Session {
		return o.sessionAdd(ks, side, v)
	}
	ts := v.Timestamp
	wm := o.watermarkOf(ks.kg)
	// The element's first window still to fire.
	e := o.firstEnd(ts)
	if e-1 <= wm {
		e += ceilDiv(wm-(e-1)+1, o.window.Slide) * o.window.Slide
	}
	if e > o.lastEnd(ts) {
		res.late = true
		o.dropIfClean(ks)
		return res, nil
	}
	ks.add(side, ts, v.Payload, isJSON(v.Payload), false)
	o.markDirty(ks)
	if ks.pending <= wm || e-1 < ks.pending {
		if err := o.timers.Register(timer.EventTime, ks.kg, ks.key, nil, e-1); err != nil {
			return res, err
		}
		ks.pending = e - 1
	}
	return res, nil
}

// windowFire emits the key's window ending at t+1, removes the elements whose
// last window it was and registers the key's next firing.
func (o *Operator) windowFire(ks *keyState, t int64) (res result, err error) {
	end := t + 1
	res.pairs = o.emitPairs(ks, t, end-o.window.Size, end)
	n, w := 0, uint32(0)
	next := int64(math.MaxInt64)
	for i := range ks.elems {
		ts := ks.elems[i].ts
		if o.lastEnd(ts)-1 <= t {
			continue
		}
		w = ks.keep(i, n, w)
		n++
		next = min(next, max(o.firstEnd(ts), end+o.window.Slide))
	}
	if n != len(ks.elems) {
		ks.truncate(n, w)
		o.markDirty(ks)
	}
	switch {
	case n > 0 && (ks.pending <= t || next-1 < ks.pending):
		if err := o.timers.Register(timer.EventTime, ks.kg, ks.key, nil, next-1); err != nil {
			return res, err
		}
		ks.pending = next - 1
		o.markDirty(ks)
	case n == 0 && ks.pending != math.MinInt64 && ks.pending <= t:
		ks.pending = math.MinInt64
		o.markDirty(ks)
	}
	o.dropIfClean(ks)
	return res, nil
}

// emitPairs emits every left×right pair of the key's elements in [start, end),
// at ts, lefts then rights in arrival order.
func (o *Operator) emitPairs(ks *keyState, ts, start, end int64) int {
	pairs := 0
	for i := range ks.elems {
		l := &ks.elems[i]
		if l.side != left || l.ts < start || l.ts >= end {
			continue
		}
		for j := range ks.elems {
			r := &ks.elems[j]
			if r.side != right || r.ts < start || r.ts >= end {
				continue
			}
			o.emit(ks, ts, ks.payload(l), l.json, true, ks.payload(r), r.json, true)
			pairs++
		}
	}
	return pairs
}

// sessionAdd buffers element v of side in its session, merging the sessions
// its window [ts, ts+gap) overlaps or touches.
func (o *Operator) sessionAdd(ks *keyState, side uint8, v *record.View) (res result, err error) {
	ts := v.Timestamp
	wm := o.watermarkOf(ks.kg)
	start, end := ts, satAdd(ts, o.window.Gap)
	first, n := -1, 0
	for i, s := range ks.sessions {
		if s.start <= end && s.end >= start {
			if first < 0 {
				first = i
			}
			n++
			start, end = min(start, s.start), max(end, s.end)
		}
	}
	if end-1 <= wm {
		res.late = true
		o.dropIfClean(ks)
		return res, nil
	}
	ks.add(side, ts, v.Payload, isJSON(v.Payload), false)
	o.markDirty(ks)
	merged := session{start: start, end: end}
	if n == 1 && ks.sessions[first] == merged {
		return res, nil
	}
	if first < 0 {
		i, _ := slices.BinarySearchFunc(ks.sessions, start, func(s session, t int64) int { return cmpInt(s.start, t) })
		ks.sessions = slices.Insert(ks.sessions, i, merged)
	} else {
		for _, s := range ks.sessions[first : first+n] {
			if s.end != end {
				if err := o.timers.Delete(timer.EventTime, ks.kg, ks.key, nil, s.end-1); err != nil {
					return res, err
				}
			}
		}
		ks.sessions = slices.Replace(ks.sessions, first, first+n, merged)
	}
	return res, o.timers.Register(timer.EventTime, ks.kg, ks.key, nil, end-1)
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// sessionFire emits and clears the key's session ending at t+1.
func (o *Operator) sessionFire(ks *keyState, t int64) (res result, err error) {
	i := slices.IndexFunc(ks.sessions, func(s session) bool { return s.end-1 == t })
	if i < 0 {
		o.dropIfClean(ks)
		return res, nil
	}
	s := ks.sessions[i]
	res.pairs = o.emitPairs(ks, t, s.start, s.end)
	n, w := 0, uint32(0)
	for j := range ks.elems {
		if ts := ks.elems[j].ts; ts >= s.start && ts < s.end {
			continue
		}
		w = ks.keep(j, n, w)
		n++
	}
	ks.truncate(n, w)
	ks.sessions = slices.Delete(ks.sessions, i, i+1)
	o.markDirty(ks)
	return res, nil
}
