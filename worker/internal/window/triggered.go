package window

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/weir-streams/weir/internal/record"
	"github.com/weir-streams/weir/worker/internal/timer"
)

// This file is the trigger-and-evictor path (Flink's WindowOperator and
// EvictingWindowOperator in general): count and global windows, and time
// windows with a trigger or an evictor. Every window is kept whole (sliding
// windows are not panes here) with its contents and its trigger's state.

// Timer namespaces of the trigger path: a trigger's timer and a time
// window's cleanup, each followed by the window's start and end. A trigger's
// timer sorts before the cleanup of the same window and time.
const (
	nsTrigger = 2
	nsClean   = 3
)

// trigState is the configuration and scratch memory of the trigger path.
type trigState struct {
	trigger Trigger
	evictor *Evictor
	// elems says windows keep their elements (a batch frame: u32 count,
	// records) rather than an accumulator.
	elems bool
	// result is the built-in aggregate of results (nil with user functions);
	// Config.Aggregate is then what the contents are (collect{} for elements).
	result Aggregator
	// count says windows are count or global windows: results have no bounds
	// and carry their contents' largest timestamp.
	count bool

	now     int64 // processing time of the current Process call
	view    record.View
	fview   record.View // fires' scratch
	ns      []byte
	touched []*keyState
	events  []TriggerEvent
	// evq are fires waiting for the custom evictor; evw its windows.
	evq    []tfire
	evw    []EvictWindow
	timers []trigTimer
	cleans []trigTimer
	fold   []byte
}

// tfire is a fired window's contents (elements), waiting for the custom
// evictor or for the output.
type tfire struct {
	ks         *keyState
	start, end int64
	elems      []byte
}

// trigTimer is a fired timer of the trigger path.
type trigTimer struct {
	ks         *keyState
	d          timer.Domain
	t          int64
	start, end int64
}

func isTime(k Kind) bool { return k == Tumbling || k == Sliding || k == Session }

// newTrigState returns the trigger path's state for cfg, or nil when cfg's
// windows take the time windows' own path (a time window with its default
// trigger and no evictor).
func newTrigState(cfg *Config) (*trigState, error) {
	t, ev := cfg.Trigger, cfg.Evictor
	timeKind := isTime(cfg.Kind)
	if t != nil && !t.Purging && ev == nil && timeKind &&
		(t.Kind == EventTimeTrigger && !cfg.ProcessingTime || t.Kind == ProcessingTimeTrigger && cfg.ProcessingTime) {
		t = nil // the default trigger, spelt out
	}
	if timeKind && t == nil && ev == nil {
		return nil, nil
	}
	if cfg.Kind == Session && t != nil && t.Kind == CustomTrigger {
		// The ABI has no merge event to tell a custom trigger about.
		return nil, errors.New("window: session windows take no custom trigger")
	}
	s := &trigState{count: !timeKind}
	switch cfg.Kind {
	case TumblingCount:
		if cfg.Size <= 0 {
			return nil, fmt.Errorf("window: count window size %d must be positive", cfg.Size)
		}
		s.trigger = Trigger{Kind: CountTrigger, N: uint64(cfg.Size), Purging: true}
	case SlidingCount:
		if cfg.Size <= 0 || cfg.Slide <= 0 {
			return nil, fmt.Errorf("window: count window size %d and slide %d must be positive", cfg.Size, cfg.Slide)
		}
		s.trigger = Trigger{Kind: CountTrigger, N: uint64(cfg.Slide)}
		s.evictor = &Evictor{Kind: CountEvictor, N: uint64(cfg.Size)}
	case Global:
		s.trigger = Trigger{Kind: NeverTrigger}
	default:
		s.trigger = Trigger{Kind: EventTimeTrigger}
		if cfg.ProcessingTime {
			s.trigger.Kind = ProcessingTimeTrigger
		}
	}
	if t != nil {
		s.trigger = *t
	}
	if ev != nil {
		e := *ev
		s.evictor = &e
	}
	switch tr := s.trigger; tr.Kind {
	case EventTimeTrigger, ProcessingTimeTrigger, NeverTrigger:
	case CountTrigger:
		if tr.N == 0 {
			return nil, errors.New("window: count trigger of 0 records")
		}
	case ContinuousEventTimeTrigger, ContinuousProcessingTimeTrigger:
		if tr.Interval <= 0 {
			return nil, fmt.Errorf("window: continuous trigger interval %dms must be positive", tr.Interval)
		}
	case CustomTrigger:
		if cfg.Functions == nil || cfg.Functions.Trigger == nil {
			return nil, errors.New("window: custom trigger without Functions.Trigger")
		}
	default:
		return nil, fmt.Errorf("window: unknown trigger kind %d", tr.Kind)
	}
	if e := s.evictor; e != nil {
		switch e.Kind {
		case CountEvictor:
		case TimeEvictor:
			if e.Size < 0 {
				return nil, fmt.Errorf("window: time evictor size %dms must not be negative", e.Size)
			}
		case CustomEvictor:
			if cfg.Functions == nil || cfg.Functions.Evictor == nil {
				return nil, errors.New("window: custom evictor without Functions.Evictor")
			}
		default:
			return nil, fmt.Errorf("window: unknown evictor kind %d", e.Kind)
		}
	}
	userFns := cfg.Functions != nil && (cfg.Functions.Aggregate != nil || cfg.Functions.Process != nil)
	s.elems = s.evictor != nil || userFns
	if !userFns {
		s.result = cfg.Aggregate
	}
	if s.elems {
		cfg.Aggregate = collect{}
	}
	return s, nil
}

// timeDomain is the domain of the windows' bounds: the event time but for
// processing-time windows.
func (o *Operator) timeDomain() timer.Domain { return o.domain }

// processTriggered is Process on the trigger path.
func (o *Operator) processTriggered(b *record.Batch) (*record.Batch, error) {
	ts := o.trig
	ts.now = math.MinInt64
	if o.cfg.ProcessingTime || ts.trigger.Kind == ContinuousProcessingTimeTrigger {
		ts.now = o.cfg.Now().UnixMilli()
	}
	var noTS, lateRecs uint64
	// The record view lives in the operator: passed on to the aggregate
	// through an interface, a local one would escape once per batch.
	v := &ts.view
	r := b.Reader()
	for r.Next(v) {
		var key []byte
		if o.cfg.Keyed {
			key = v.Key
		}
		if ts.count {
			ks, err := o.lookup(key)
			if err != nil {
				return nil, err
			}
			if err := o.addTriggered(ks, math.MinInt64, math.MaxInt64, v); err != nil {
				return nil, err
			}
			continue
		}
		at := v.Timestamp
		switch {
		case o.cfg.ProcessingTime:
			at = ts.now
		case !v.HasTimestamp():
			noTS++
			continue
		}
		ks, err := o.lookup(key)
		if err != nil {
			return nil, err
		}
		if o.cfg.Kind == Session {
			late, err := o.addSessionTriggered(ks, at, v)
			if err != nil {
				return nil, err
			}
			if late {
				lateRecs++
				if o.cfg.LateOutput {
					o.late.Append(v)
				}
			}
			continue
		}
		accepted := false
		size, slide := o.cfg.Size, o.cfg.Slide
		for s := floorDiv(at, slide) * slide; s > at-size; s -= slide {
			if !o.cfg.ProcessingTime && s+size-1+o.cfg.AllowedLateness <= o.clock {
				continue // this window is past its lateness
			}
			accepted = true
			if err := o.addTriggered(ks, s, s+size, v); err != nil {
				return nil, err
			}
		}
		if !accepted {
			lateRecs++
			if o.cfg.LateOutput {
				o.late.Append(v)
			}
		}
	}
	if err := r.Err(); err != nil {
		return nil, err
	}
	if noTS > 0 {
		o.stats.NoTimestamp.Add(noTS)
	}
	if lateRecs > 0 {
		o.stats.Late.Add(lateRecs)
	}
	if err := o.callTriggerElements(); err != nil {
		return nil, err
	}
	// Timers the batch registered at or before their clock fire now, not at
	// the clock's next move: results do not depend on when that comes (or on
	// a restore, which moves the clock again).
	for _, d := range [2]timer.Domain{timer.EventTime, timer.ProcessingTime} {
		if c := o.clockOf(d); c != math.MinInt64 {
			if err := o.fireTimers(d, c); err != nil {
				return nil, err
			}
		}
	}
	if err := o.finishTriggered(); err != nil {
		return nil, err
	}
	if len(o.cache) > o.cfg.CacheKeys {
		if err := o.Flush(); err != nil {
			return nil, err
		}
	}
	return &o.out, nil
}

// window returns the index of ks's window starting at start, creating it
// (and its cleanup timer) when create is set; -1 when there is none.
func (o *Operator) window(ks *keyState, start, end int64, create bool) (int, error) {
	wins := ks.wins
	if len(wins) == 1 && wins[0].start == start {
		return 0, nil // count and global windows, tumbling windows mostly
	}
	i, found := slices.BinarySearchFunc(wins, start, func(w win, t int64) int { return cmpInt(w.start, t) })
	if found {
		return i, nil
	}
	if !create {
		return -1, nil
	}
	w := win{start: start, end: end, maxTS: math.MinInt64, acc: o.cfg.Aggregate.New(nil)}
	ks.wins = slices.Insert(ks.wins, i, w)
	if !o.trig.count {
		// A time window's state goes once its clock passes end-1 and the
		// allowed lateness, whatever its trigger says.
		if err := o.timers.Register(o.timeDomain(), ks.kg, ks.key, o.nsOf(nsClean, start, end), end-1+o.cfg.AllowedLateness); err != nil {
			return 0, err
		}
	}
	return i, nil
}

func (o *Operator) nsOf(kind byte, start, end int64) []byte {
	ns := append(o.trig.ns[:0], kind)
	ns = binary.BigEndian.AppendUint64(ns, uint64(start))
	ns = binary.BigEndian.AppendUint64(ns, uint64(end))
	o.trig.ns = ns
	return ns
}

func (o *Operator) registerTrigger(ks *keyState, d timer.Domain, start, end, t int64) error {
	return o.timers.Register(d, ks.kg, ks.key, o.nsOf(nsTrigger, start, end), t)
}

// addTriggered adds record v to ks's window [start, end) and runs the
// built-in trigger on it (or notes the window for the custom trigger).
func (o *Operator) addTriggered(ks *keyState, start, end int64, v *record.View) error {
	i, err := o.window(ks, start, end, true)
	if err != nil {
		return err
	}
	w := &ks.wins[i]
	fresh := w.n == 0 && w.tc == 0 && !w.hasNext
	w.acc = o.cfg.Aggregate.Add(w.acc, v)
	w.n++
	if v.HasTimestamp() && (!w.hasTS || v.Timestamp > w.maxTS) {
		w.maxTS, w.hasTS = v.Timestamp, true
	}
	o.markDirty(ks)
	ts := o.trig
	tr := ts.trigger
	switch tr.Kind {
	case CustomTrigger:
		if w.touch == 0 {
			ts.touched = append(ts.touched, ks)
			ts.events = append(ts.events, TriggerEvent{Kind: ElementsAdded, Start: start, End: end, Time: math.MinInt64})
			w.touch = len(ts.events)
		}
		if e := &ts.events[w.touch-1]; v.HasTimestamp() && v.Timestamp > e.Time {
			e.Time = v.Timestamp
		}
		return nil
	case CountTrigger:
		w.tc++
		if w.tc >= tr.N {
			w.tc = 0
			return o.fireTriggered(ks, i, tr.Purging)
		}
		return nil
	case EventTimeTrigger:
		if end-1 <= o.clockOf(timer.EventTime) {
			return o.fireTriggered(ks, i, tr.Purging)
		}
		if fresh {
			return o.registerTrigger(ks, timer.EventTime, start, end, end-1)
		}
	case ProcessingTimeTrigger:
		if fresh {
			return o.registerTrigger(ks, timer.ProcessingTime, start, end, end-1)
		}
	case ContinuousEventTimeTrigger:
		if end-1 <= o.clockOf(timer.EventTime) {
			return o.fireTriggered(ks, i, tr.Purging)
		}
		if fresh {
			if err := o.registerTrigger(ks, timer.EventTime, start, end, end-1); err != nil {
				return err
			}
		}
		if !w.hasNext && v.HasTimestamp() {
			return o.scheduleNext(ks, i, timer.EventTime, v.Timestamp)
		}
	case ContinuousProcessingTimeTrigger:
		if !w.hasNext {
			return o.scheduleNext(ks, i, timer.ProcessingTime, ts.now)
		}
	}
	return nil
}

// addSessionTriggered adds a record at ts to the key's sessions: the windows
// its window [ts, ts+gap) overlaps or touches merge into one (contents,
// trigger state and timers, as Flink's MergingWindowSet and Trigger.onMerge
// do), then the record goes into it. late reports a merged session already
// past its lateness (nothing changes then).
func (o *Operator) addSessionTriggered(ks *keyState, ts int64, v *record.View) (late bool, err error) {
	start, end := ts, ts+o.cfg.Gap
	first, n := -1, 0
	for i, w := range ks.wins {
		if w.start <= end && w.end >= start {
			if first < 0 {
				first = i
			}
			n++
			start, end = min(start, w.start), max(end, w.end)
		}
	}
	if !o.cfg.ProcessingTime && end-1+o.cfg.AllowedLateness <= o.clock {
		return true, nil
	}
	if n == 1 && ks.wins[first].start == start && ks.wins[first].end == end {
		return false, o.addTriggered(ks, start, end, v)
	}
	if n > 0 {
		for i := first; i < first+n; i++ {
			if ks.wins[i].pend {
				if err := o.flushEvictions(); err != nil {
					return false, err
				}
				break
			}
		}
		merged := win{start: start, end: end, maxTS: math.MinInt64, acc: o.cfg.Aggregate.New(nil)}
		for _, w := range ks.wins[first : first+n] {
			if err := o.deleteWindowTimers(ks, w); err != nil {
				return false, err
			}
			merged.acc = o.cfg.Aggregate.Merge(merged.acc, w.acc)
			merged.n += w.n
			merged.tc += w.tc
			if w.hasTS && (!merged.hasTS || w.maxTS > merged.maxTS) {
				merged.maxTS, merged.hasTS = w.maxTS, true
			}
			if w.hasNext && (!merged.hasNext || w.next < merged.next) {
				merged.next, merged.hasNext = w.next, true
			}
		}
		ks.wins = slices.Replace(ks.wins, first, first+n, merged)
		o.markDirty(ks)
		if err := o.windowTimers(ks, merged); err != nil {
			return false, err
		}
	}
	return false, o.addTriggered(ks, start, end, v)
}

// deleteWindowTimers deletes a merged-away session's timers: its cleanup, its
// trigger's end-1 and next continuous firing.
func (o *Operator) deleteWindowTimers(ks *keyState, w win) error {
	if err := o.timers.Delete(o.timeDomain(), ks.kg, ks.key, o.nsOf(nsClean, w.start, w.end), w.end-1+o.cfg.AllowedLateness); err != nil {
		return err
	}
	if err := o.timers.Delete(o.trigDomain(), ks.kg, ks.key, o.nsOf(nsTrigger, w.start, w.end), w.end-1); err != nil {
		return err
	}
	if w.hasNext {
		return o.timers.Delete(o.trigDomain(), ks.kg, ks.key, o.nsOf(nsTrigger, w.start, w.end), w.next)
	}
	return nil
}

// windowTimers registers a merged session's timers (Trigger.onMerge): its
// cleanup, its trigger's end-1 while ahead of the clock (the record that
// merged it fires it otherwise), its next continuous firing.
func (o *Operator) windowTimers(ks *keyState, w win) error {
	if err := o.timers.Register(o.timeDomain(), ks.kg, ks.key, o.nsOf(nsClean, w.start, w.end), w.end-1+o.cfg.AllowedLateness); err != nil {
		return err
	}
	switch o.trig.trigger.Kind {
	case EventTimeTrigger, ContinuousEventTimeTrigger, ProcessingTimeTrigger:
		if d := o.trigDomain(); w.end-1 > o.clockOf(d) {
			if err := o.registerTrigger(ks, d, w.start, w.end, w.end-1); err != nil {
				return err
			}
		}
	}
	if w.hasNext {
		return o.registerTrigger(ks, o.trigDomain(), w.start, w.end, w.next)
	}
	return nil
}

// scheduleNext registers the continuous trigger's next firing of window i:
// the first multiple of the interval after t, at most the window's end-1.
func (o *Operator) scheduleNext(ks *keyState, i int, d timer.Domain, t int64) error {
	w := &ks.wins[i]
	iv := o.trig.trigger.Interval
	next := w.end - 1
	if q := floorDiv(t, iv); q < floorDiv(math.MaxInt64, iv) {
		next = min(next, (q+1)*iv)
	}
	w.next, w.hasNext = next, true
	o.markDirty(ks)
	return o.registerTrigger(ks, d, w.start, w.end, next)
}

// fireTriggered fires window i of ks: its result now for an accumulator, its
// elements (after the evictor) to finishTriggered otherwise; then purges it
// when purge is set.
func (o *Operator) fireTriggered(ks *keyState, i int, purge bool) error {
	w := &ks.wins[i]
	ts := o.trig
	if w.pend {
		if err := o.flushEvictions(); err != nil {
			return err
		}
	}
	if w.n > 0 {
		if !ts.elems {
			o.emitTriggered(ks, w.start, w.end, w.acc, w.maxTS, w.hasTS)
		} else {
			o.evictBuiltin(w)
			o.markDirty(ks)
			f := tfire{ks: ks, start: w.start, end: w.end, elems: slices.Clone(w.acc)}
			if ts.evictor != nil && ts.evictor.Kind == CustomEvictor {
				w.pend = !purge
				ts.evq = append(ts.evq, f)
			} else {
				o.outputElems(f)
			}
		}
	}
	if purge {
		o.purge(ks, i)
	}
	return nil
}

// purge empties window i's contents; a window left without contents or
// trigger state goes.
func (o *Operator) purge(ks *keyState, i int) {
	w := &ks.wins[i]
	w.acc = o.cfg.Aggregate.New(w.acc[:0])
	w.n, w.maxTS, w.hasTS = 0, math.MinInt64, false
	o.markDirty(ks)
	o.dropIfEmpty(ks, i)
}

// A count or global window stays in the cache empty, so that its memory
// serves the key's next window; Flush leaves it out of the state.
func (o *Operator) dropIfEmpty(ks *keyState, i int) {
	if w := &ks.wins[i]; !o.trig.count && w.empty() && w.touch == 0 && !w.pend {
		ks.wins = slices.Delete(ks.wins, i, i+1)
	}
}

// empty says a window has neither contents nor trigger state.
func (w *win) empty() bool { return w.n == 0 && w.tc == 0 && !w.hasNext }

// liveWins counts the windows worth storing.
func liveWins(wins []win) int {
	n := 0
	for i := range wins {
		if !wins[i].empty() {
			n++
		}
	}
	return n
}

// outputElems makes a fired window's output from its elements.
func (o *Operator) outputElems(f tfire) {
	maxTS, hasTS := elementsMaxTS(f.elems)
	if binary.LittleEndian.Uint32(f.elems) == 0 {
		return
	}
	if o.userFns {
		fr := fire{ks: f.ks, start: f.start, end: f.end, accs: [][]byte{f.elems}, elems: true}
		if o.trig.count {
			fr.tsSet, fr.ts, fr.hasTS = true, maxTS, hasTS
		}
		o.fires = append(o.fires, fr)
		return
	}
	ts := o.trig
	agg := ts.result
	ts.fold = agg.New(ts.fold[:0])
	r := record.NewReader(f.elems)
	v := &ts.fview
	for r.Next(v) {
		ts.fold = agg.Add(ts.fold, v)
	}
	o.emitTriggered(f.ks, f.start, f.end, ts.fold, maxTS, hasTS)
}

// emitTriggered appends a built-in aggregate's result: with the window's
// bounds and timestamp end-1 for time windows, without bounds and with the
// contents' largest timestamp (if any) for count and global windows.
func (o *Operator) emitTriggered(ks *keyState, start, end int64, acc []byte, maxTS int64, hasTS bool) {
	if o.userFns {
		// Accumulator contents with user functions do not happen: they keep
		// elements.
		return
	}
	agg := o.trig.result
	p := append(o.buf[:0], '{')
	if o.cfg.Keyed {
		p = append(p, `"key":`...)
		p = append(p, ks.keyJSON...)
		p = append(p, ',')
	}
	v := record.View{Flags: record.FlagPayload}
	if !o.trig.count {
		p = append(p, `"window_start":`...)
		p = strconv.AppendInt(p, start, 10)
		p = append(p, `,"window_end":`...)
		p = strconv.AppendInt(p, end, 10)
		p = append(p, ',')
		v.Flags |= record.FlagTimestamp
		v.Timestamp = end - 1
	} else if hasTS {
		v.Flags |= record.FlagTimestamp
		v.Timestamp = maxTS
	}
	p = append(p, '"')
	p = append(p, agg.Name()...)
	p = append(p, `":`...)
	p = agg.AppendResult(p, acc)
	p = append(p, '}')
	o.buf = p
	v.Payload = p
	if o.cfg.Keyed {
		v.Flags |= record.FlagKey
		v.Key = ks.key
	}
	o.out.Append(&v)
}

// callTriggerElements tells the custom trigger about the windows the batch
// added elements to, in one call, and applies its answers.
func (o *Operator) callTriggerElements() error {
	ts := o.trig
	if len(ts.events) == 0 {
		return nil
	}
	for k, ks := range ts.touched {
		e := &ts.events[k]
		e.Key, e.Keyed = ks.key, o.cfg.Keyed
		if i, _ := o.window(ks, e.Start, e.End, false); i >= 0 {
			e.Count = ks.wins[i].n
			ks.wins[i].touch = 0
		}
	}
	err := o.applyTrigger(ts.touched)
	clear(ts.touched)
	ts.touched = ts.touched[:0]
	return err
}

// applyTrigger calls the custom trigger with ts.events (of the windows of
// keys, in order) and applies its results.
func (o *Operator) applyTrigger(keys []*keyState) error {
	ts := o.trig
	defer func() {
		clear(ts.events)
		ts.events = ts.events[:0]
	}()
	res, err := o.cfg.Functions.Trigger.Trigger(o.ctx, ts.events)
	if err != nil {
		return err
	}
	if len(res) != len(ts.events) {
		return fmt.Errorf("window %q: the trigger answered %d events of %d", o.cfg.Operator, len(res), len(ts.events))
	}
	for k, r := range res {
		ks, e := keys[k], ts.events[k]
		if r.HasEventTimer {
			if err := o.registerTrigger(ks, timer.EventTime, e.Start, e.End, r.EventTimer); err != nil {
				return err
			}
		}
		if r.HasProcTimer {
			if err := o.registerTrigger(ks, timer.ProcessingTime, e.Start, e.End, r.ProcTimer); err != nil {
				return err
			}
		}
		i, _ := o.window(ks, e.Start, e.End, false)
		if i < 0 {
			continue
		}
		switch r.Action {
		case Fire:
			err = o.fireTriggered(ks, i, false)
		case FireAndPurge:
			err = o.fireTriggered(ks, i, true)
		case Purge:
			if ks.wins[i].pend {
				if err = o.flushEvictions(); err != nil {
					return err
				}
				if i, _ = o.window(ks, e.Start, e.End, false); i < 0 {
					continue
				}
			}
			o.purge(ks, i)
		default:
			o.dropIfEmpty(ks, i)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// finishTriggered outputs the fires of the current call: the custom
// evictor's, then the user functions'.
func (o *Operator) finishTriggered() error {
	if err := o.flushEvictions(); err != nil {
		return err
	}
	return o.finishFires()
}

// advanceTriggered is AdvanceDomain on the trigger path: it fires the timers
// of domain d up to t in rounds (a custom trigger gets each round's timers in
// one call), then the cleanups of time windows.
func (o *Operator) advanceTriggered(d timer.Domain, t int64) (*record.Batch, error) {
	if t <= o.clockOf(d) {
		return &o.out, nil
	}
	o.setClock(d, t)
	if err := o.fireTimers(d, t); err != nil {
		return nil, err
	}
	if err := o.finishTriggered(); err != nil {
		return nil, err
	}
	return &o.out, nil
}

// fireTimers fires the timers of domain d up to t, in rounds.
func (o *Operator) fireTimers(d timer.Domain, t int64) error {
	ts := o.trig
	for {
		ts.timers, ts.cleans = ts.timers[:0], ts.cleans[:0]
		for {
			tm, ok, err := o.timers.Pop(d, t)
			if err != nil {
				return err
			}
			if !ok {
				break
			}
			if len(tm.Namespace) != 17 {
				return fmt.Errorf("window %q: malformed timer namespace", o.cfg.Operator)
			}
			ks, err := o.lookup(tm.Key)
			if err != nil {
				return err
			}
			tt := trigTimer{ks: ks, d: d, t: tm.Time,
				start: int64(binary.BigEndian.Uint64(tm.Namespace[1:])), end: int64(binary.BigEndian.Uint64(tm.Namespace[9:]))}
			if tm.Namespace[0] == nsClean {
				ts.cleans = append(ts.cleans, tt)
				continue
			}
			// A trigger's timer after its time window's cleanup is void.
			if !ts.count && d == o.timeDomain() && tt.t > tt.end-1+o.cfg.AllowedLateness {
				continue
			}
			if ts.trigger.Kind == CustomTrigger {
				ts.timers = append(ts.timers, tt)
				continue
			}
			if err := o.onTriggerTimer(tt); err != nil {
				return err
			}
		}
		if len(ts.timers) == 0 && len(ts.cleans) == 0 {
			break
		}
		if len(ts.timers) > 0 {
			keys := ts.touched[:0]
			for _, tt := range ts.timers {
				kind := EventTimeTimer
				if d == timer.ProcessingTime {
					kind = ProcessingTimeTimer
				}
				e := TriggerEvent{Kind: kind, Start: tt.start, End: tt.end, Time: tt.t, Key: tt.ks.key, Keyed: o.cfg.Keyed}
				if i, _ := o.window(tt.ks, tt.start, tt.end, false); i >= 0 {
					e.Count = tt.ks.wins[i].n
				}
				ts.events = append(ts.events, e)
				keys = append(keys, tt.ks)
			}
			err := o.applyTrigger(keys)
			clear(keys)
			if err != nil {
				return err
			}
		}
		for _, c := range ts.cleans {
			if i, _ := o.window(c.ks, c.start, c.end, false); i >= 0 && c.ks.wins[i].end == c.end {
				if c.ks.wins[i].pend {
					if err := o.flushEvictions(); err != nil {
						return err
					}
					if i, _ = o.window(c.ks, c.start, c.end, false); i < 0 {
						continue
					}
				}
				if w := c.ks.wins[i]; w.hasNext {
					_ = o.timers.Delete(o.trigDomain(), c.ks.kg, c.ks.key, o.nsOf(nsTrigger, w.start, w.end), w.next)
				}
				c.ks.wins = slices.Delete(c.ks.wins, i, i+1)
				o.markDirty(c.ks)
			}
		}
		clear(ts.cleans)
	}
	return nil
}

// trigDomain is the domain of the built-in trigger's timers.
func (o *Operator) trigDomain() timer.Domain {
	switch o.trig.trigger.Kind {
	case ProcessingTimeTrigger, ContinuousProcessingTimeTrigger:
		return timer.ProcessingTime
	}
	return timer.EventTime
}

// onTriggerTimer runs a built-in trigger on one of its fired timers.
func (o *Operator) onTriggerTimer(tt trigTimer) error {
	i, err := o.window(tt.ks, tt.start, tt.end, false)
	if err != nil || i < 0 || tt.ks.wins[i].end != tt.end {
		return err
	}
	w := &tt.ks.wins[i]
	tr := o.trig.trigger
	switch tr.Kind {
	case EventTimeTrigger, ProcessingTimeTrigger:
		if tt.t == w.end-1 {
			return o.fireTriggered(tt.ks, i, tr.Purging)
		}
	case ContinuousEventTimeTrigger, ContinuousProcessingTimeTrigger:
		atEnd := tt.t == w.end-1 && tr.Kind == ContinuousEventTimeTrigger
		atNext := w.hasNext && tt.t == w.next
		if atNext {
			w.hasNext = false
			o.markDirty(tt.ks)
			if w.next < w.end-1 {
				// The next multiple of the interval past the clock: a jump of
				// the clock fires once, not once per interval.
				if err := o.scheduleNext(tt.ks, i, tt.d, o.clockOf(tt.d)); err != nil {
					return err
				}
			}
		}
		if atEnd || atNext {
			return o.fireTriggered(tt.ks, i, tr.Purging)
		}
		o.dropIfEmpty(tt.ks, i)
	}
	return nil
}

// A key's windows on the trigger path: u32 count, then per window start, end
// (i64), n, tc (u64), maxTS, next (i64), flags (u8: 1 hasTS, 2 hasNext), u32
// contents length and the contents, little endian.
const twinHeader = 8*6 + 1 + 4

func encodeTWins(dst []byte, wins []win) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, uint32(liveWins(wins)))
	for _, w := range wins {
		if w.empty() {
			continue
		}
		dst = binary.LittleEndian.AppendUint64(dst, uint64(w.start))
		dst = binary.LittleEndian.AppendUint64(dst, uint64(w.end))
		dst = binary.LittleEndian.AppendUint64(dst, w.n)
		dst = binary.LittleEndian.AppendUint64(dst, w.tc)
		dst = binary.LittleEndian.AppendUint64(dst, uint64(w.maxTS))
		dst = binary.LittleEndian.AppendUint64(dst, uint64(w.next))
		var fl byte
		if w.hasTS {
			fl |= 1
		}
		if w.hasNext {
			fl |= 2
		}
		dst = append(dst, fl)
		dst = binary.LittleEndian.AppendUint32(dst, uint32(len(w.acc)))
		dst = append(dst, w.acc...)
	}
	return dst
}

func decodeTWins(b []byte) ([]win, error) {
	if len(b) < 4 {
		return nil, errMalformed
	}
	n := int(binary.LittleEndian.Uint32(b))
	b = b[4:]
	if n > len(b)/twinHeader {
		return nil, errMalformed
	}
	wins := make([]win, 0, n)
	u := func(k int) uint64 { return binary.LittleEndian.Uint64(b[8*k:]) }
	for range n {
		if len(b) < twinHeader {
			return nil, errMalformed
		}
		w := win{start: int64(u(0)), end: int64(u(1)), n: u(2), tc: u(3), maxTS: int64(u(4)), next: int64(u(5))}
		fl := b[48]
		w.hasTS, w.hasNext = fl&1 != 0, fl&2 != 0
		l := int(binary.LittleEndian.Uint32(b[49:]))
		b = b[twinHeader:]
		if l > len(b) {
			return nil, errMalformed
		}
		w.acc = slices.Clone(b[:l])
		b = b[l:]
		wins = append(wins, w)
	}
	if len(b) != 0 {
		return nil, errMalformed
	}
	return wins, nil
}
