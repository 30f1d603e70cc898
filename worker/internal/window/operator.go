package window

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/weir-streams/weir/internal/keygroup"
	"github.com/weir-streams/weir/internal/record"
	"github.com/weir-streams/weir/worker/internal/state"
	"github.com/weir-streams/weir/worker/internal/timer"
)

// Kind is how records are assigned to windows.
type Kind uint8

const (
	Tumbling Kind = iota
	Sliding
	Session
	// TumblingCount is Flink's countWindow(size): per key one global window
	// that fires and purges after every Size records (a purging count
	// trigger).
	TumblingCount
	// SlidingCount is Flink's countWindow(size, slide): a global window that
	// fires every Slide records with the last Size of them (a count evictor
	// of Size and a count trigger of Slide); the first fires come after Slide
	// records, with fewer than Size.
	SlidingCount
	// Global is one window per key that never ends [math.MinInt64,
	// math.MaxInt64); it fires only as its Trigger says (default: never).
	Global
)

// Config describes a window step.
type Config struct {
	// Operator is the step's id: state and timers are mapped by it.
	Operator string
	Kind     Kind
	// Size and Slide (ms) shape tumbling (Size) and sliding windows; Gap (ms)
	// session windows. For count windows Size and Slide count records.
	Size, Slide, Gap int64
	// AllowedLateness (ms) keeps a fired window's state that long in event time.
	AllowedLateness int64
	// ProcessingTime assigns records to windows by the wall clock when they
	// arrive, and fires windows by it; otherwise by their timestamps and the
	// watermark.
	ProcessingTime bool
	// Keyed windows are per key; a non-keyed window (Flink's windowAll) puts
	// every record in the same windows.
	Keyed bool
	// Aggregate is a built-in aggregate, whose results are JSON objects with
	// the window's bounds; nil when Functions are set.
	Aggregate Aggregator
	// Functions are the step's user functions, when it has any.
	Functions *Functions
	// LateOutput sends late records to the Late batch instead of dropping them.
	LateOutput     bool
	MaxParallelism int
	// Now is the processing-time clock. Default time.Now.
	Now func() time.Time
	// Trigger decides when windows fire; nil is the window's default: an
	// event-time or processing-time trigger for time windows, a purging
	// count trigger of Size for TumblingCount, a count trigger of Slide for
	// SlidingCount, never for Global. Session windows take no custom
	// trigger.
	Trigger *Trigger
	// Evictor removes elements from a firing window before its function
	// runs; nil is none (a count evictor of Size for SlidingCount). With an
	// evictor windows keep their elements, not an accumulator.
	Evictor *Evictor
	// CacheKeys bounds the keys the write-back cache holds: past it, a Process
	// call writes the changes to the backend and empties the cache. Default
	// 100,000.
	CacheKeys int
}

// Stats are the operator's counters, read by other goroutines.
type Stats struct {
	// Late counts the records that came after their windows' lateness.
	Late atomic.Uint64
	// NoTimestamp counts records of an event-time window without a timestamp,
	// dropped.
	NoTimestamp atomic.Uint64
}

// Timer namespaces: a window's firing and the end of its allowed lateness.
var (
	nsFire    = []byte{0}
	nsCleanup = []byte{1}
)

// Operator runs one window step of one subtask. It is owned by the task's
// goroutine.
type Operator struct {
	cfg    Config
	b      *state.Backend
	st     state.State
	timers *timer.Service
	domain timer.Domain
	// pane is the slice length of tumbling and sliding windows.
	pane int64
	// clock is the time the operator's clock reached: the watermark, or the
	// processing time of the last Advance.
	clock int64
	// other is the clock of the other domain (AdvanceDomain), which only
	// triggers use.
	other int64
	// trig is the state of the trigger-and-evictor path (nil: the time
	// windows' own path).
	trig *trigState
	// userFns says results come from user functions (Functions.Aggregate or
	// Functions.Process), not from a built-in aggregate.
	userFns bool

	cache  map[string]*keyState
	dirty  []*keyState
	refire []refire
	done   []refire // sessions re-emitted in this batch
	out    record.Batch
	late   record.Batch
	acc    []byte // scratch accumulator
	buf    []byte // scratch: encoded state, results
	stats  Stats

	// ctx is the context of the current Process or Advance call (user
	// functions run under it).
	ctx context.Context
	// batched says the accumulators belong to a user aggregate: records wait in
	// pending until the end of the batch, folded in by one call.
	batched bool
	pending []pendingAdd
	nextID  uint64
	// fires are the windows fired by the current call, when user functions
	// make their results.
	fires []fire
	fnBuf fnBuffers
}

type keyState struct {
	key     []byte
	kg      int
	keyJSON []byte // the key as a JSON value in results
	// wins are the key's panes (tumbling, sliding) or sessions, by start.
	wins  []win
	dirty bool
}

type win struct {
	start, end int64
	acc        []byte
	// fresh says the window has no accumulator yet: records wait in the
	// operator's pending adds for a user aggregate (batched aggregators).
	fresh bool
	// id names the window while a batch is processed (not stored).
	id uint64
	// The trigger path's window state (stored by encodeTWins): n is the
	// number of elements in the window's contents, tc the count trigger's
	// counter, maxTS the largest timestamp of the contents (hasTS: any), next
	// the continuous trigger's next firing (hasNext: registered).
	n, tc          uint64
	maxTS, next    int64
	hasTS, hasNext bool
	// touch is 1 + the window's index in the batch's custom trigger events;
	// pend says a fire of the window waits for the custom evictor (not
	// stored).
	touch int
	pend  bool
}

// refire is a window to emit again at the end of a batch: a late record within
// the allowed lateness changed it. For panes, end is the window's end; for
// sessions, at is the record's timestamp (its session is found then).
type refire struct {
	ks      *keyState
	end, at int64
}

// New returns the operator of cfg over the state backend b, with the windows
// and timers b holds (after a restore, the restored ones).
func New(cfg Config, b *state.Backend) (*Operator, error) {
	batched := false
	f := cfg.Functions
	userFns := f != nil && (f.Aggregate != nil || f.Process != nil)
	switch {
	case userFns && f.Aggregate != nil:
		cfg.Aggregate, batched = nil, true
	case userFns:
		cfg.Aggregate = collect{}
	case cfg.Aggregate == nil:
		return nil, errors.New("window: no aggregate")
	}
	switch cfg.Kind {
	case Tumbling:
		cfg.Slide = cfg.Size
	case Sliding:
	case Session:
		if cfg.Gap <= 0 {
			return nil, fmt.Errorf("window: session gap %dms must be positive", cfg.Gap)
		}
	case TumblingCount, SlidingCount, Global:
	default:
		return nil, fmt.Errorf("window: unknown kind %d", cfg.Kind)
	}
	trig, err := newTrigState(&cfg)
	if err != nil {
		return nil, err
	}
	if trig != nil {
		batched = false
	}
	if isTime(cfg.Kind) && cfg.Kind != Session && (cfg.Size <= 0 || cfg.Slide <= 0 || cfg.Slide > cfg.Size) {
		return nil, fmt.Errorf("window: size %dms and slide %dms must be positive, slide at most size", cfg.Size, cfg.Slide)
	}
	if cfg.AllowedLateness < 0 || cfg.ProcessingTime && cfg.AllowedLateness != 0 {
		return nil, fmt.Errorf("window: allowed lateness %dms needs event time and must not be negative", cfg.AllowedLateness)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.CacheKeys <= 0 {
		cfg.CacheKeys = 100_000
	}
	st, err := b.Register(cfg.Operator, "windows", state.Value, 0)
	if err != nil {
		return nil, err
	}
	ts, err := timer.New(b, cfg.Operator)
	if err != nil {
		return nil, err
	}
	o := &Operator{cfg: cfg, b: b, st: st, timers: ts, clock: math.MinInt64, other: math.MinInt64,
		cache: make(map[string]*keyState), batched: batched, trig: trig, userFns: userFns}
	if cfg.ProcessingTime {
		o.domain = timer.ProcessingTime
	}
	if isTime(cfg.Kind) && cfg.Kind != Session {
		o.pane = gcd(cfg.Size, cfg.Slide)
	}
	return o, nil
}

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func ceilDiv(a, b int64) int64 { return -floorDiv(-a, b) }

// Stats returns the operator's counters.
func (o *Operator) Stats() *Stats { return &o.stats }

// Clock is the time the operator's clock has reached (math.MinInt64 before any).
func (o *Operator) Clock() int64 { return o.clock }

// ClockIn is the time the clock of domain d has reached (math.MinInt64 before
// any): Clock for the operator's domain, else the last AdvanceDomain of d.
func (o *Operator) ClockIn(d timer.Domain) int64 { return o.clockOf(d) }

// Late returns the late records of the last Process call when Config.LateOutput
// is set; valid until the next call.
func (o *Operator) Late() *record.Batch { return &o.late }

// Process assigns b's records to their windows. It returns the results of
// windows that fired before and that a record within the allowed lateness
// changed; the batch is valid until the next call.
func (o *Operator) Process(ctx context.Context, b *record.Batch) (*record.Batch, error) {
	o.ctx = ctx
	o.out.Reset()
	o.late.Reset()
	if o.trig != nil {
		return o.processTriggered(b)
	}
	o.refire = o.refire[:0]
	var now int64
	if o.cfg.ProcessingTime {
		now = o.cfg.Now().UnixMilli()
	}
	var (
		v        record.View
		noTS     uint64
		lateRecs uint64
	)
	r := b.Reader()
	for r.Next(&v) {
		ts := v.Timestamp
		switch {
		case o.cfg.ProcessingTime:
			ts = now
		case !v.HasTimestamp():
			noTS++
			continue
		}
		var key []byte
		if o.cfg.Keyed {
			key = v.Key
		}
		ks, err := o.lookup(key)
		if err != nil {
			return nil, err
		}
		var late bool
		if o.cfg.Kind == Session {
			late, err = o.addSession(ks, ts, &v)
		} else {
			late, err = o.addPane(ks, ts, &v)
		}
		if err != nil {
			return nil, err
		}
		if late {
			lateRecs++
			if o.cfg.LateOutput {
				o.late.Append(&v)
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
	if err := o.resolve(); err != nil {
		return nil, err
	}
	o.emitRefires()
	if err := o.finishFires(); err != nil {
		return nil, err
	}
	// The cache is bounded between snapshots too: past its size, what changed
	// goes to the backend (committed with the batch) and the cache starts over.
	if len(o.cache) > o.cfg.CacheKeys {
		if err := o.Flush(); err != nil {
			return nil, err
		}
	}
	return &o.out, nil
}

// Advance moves the operator's clock to t (a watermark, or the processing time)
// and fires every timer at or before it, in time order. It returns the results;
// the batch is valid until the next call.
func (o *Operator) Advance(ctx context.Context, t int64) (*record.Batch, error) {
	return o.AdvanceDomain(ctx, o.domain, t)
}

// AdvanceDomain moves the clock of domain d to t and fires its timers, as
// Advance does for the operator's own domain (Advance is AdvanceDomain of
// it). The other domain's clock matters only to triggers of that domain (a
// processing-time trigger on event-time windows, a custom trigger's timers):
// the worker advances it when NextTimerIn(d) is due.
func (o *Operator) AdvanceDomain(ctx context.Context, d timer.Domain, t int64) (*record.Batch, error) {
	o.ctx = ctx
	o.out.Reset()
	if o.trig != nil {
		return o.advanceTriggered(d, t)
	}
	if d != o.domain {
		return &o.out, nil
	}
	if t <= o.clock {
		return &o.out, nil
	}
	o.clock = t
	for {
		tm, ok, err := o.timers.Pop(o.domain, t)
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		if err := o.onTimer(tm); err != nil {
			return nil, err
		}
	}
	if err := o.finishFires(); err != nil {
		return nil, err
	}
	return &o.out, nil
}

func (o *Operator) clockOf(d timer.Domain) int64 {
	if d == o.domain {
		return o.clock
	}
	return o.other
}

func (o *Operator) setClock(d timer.Domain, t int64) {
	if d == o.domain {
		o.clock = t
	} else {
		o.other = t
	}
}

// NextTimer is the time of the operator's earliest timer in its domain.
func (o *Operator) NextTimer() (int64, bool) { return o.timers.Next(o.domain) }

// NextTimerIn is the time of the operator's earliest timer in domain d.
func (o *Operator) NextTimerIn(d timer.Domain) (int64, bool) { return o.timers.Next(d) }

// Flush writes the windows changed since the last Flush to the state backend
// (the caller commits it). The worker calls it before every snapshot.
func (o *Operator) Flush() error {
	for _, ks := range o.dirty {
		ks.dirty = false
		if len(ks.wins) == 0 || o.trig != nil && liveWins(ks.wins) == 0 {
			delete(o.cache, string(ks.key))
			if err := o.b.Delete(o.st, ks.kg, ks.key, nil, nil); err != nil {
				return err
			}
			continue
		}
		if o.trig != nil {
			o.buf = encodeTWins(o.buf[:0], ks.wins)
		} else {
			o.buf = encodeWins(o.buf[:0], ks.wins)
		}
		if err := o.b.Put(o.st, ks.kg, ks.key, nil, nil, o.buf); err != nil {
			return err
		}
	}
	clear(o.dirty)
	o.dirty = o.dirty[:0]
	if len(o.cache) > o.cfg.CacheKeys {
		clear(o.cache)
	}
	return nil
}

// lookup returns the state of key, from the cache or the backend.
func (o *Operator) lookup(key []byte) (*keyState, error) {
	if ks, ok := o.cache[string(key)]; ok {
		return ks, nil
	}
	ks := &keyState{key: slices.Clone(key), kg: keygroup.Of(key, o.cfg.MaxParallelism)}
	if ks.key == nil {
		ks.key = []byte{}
	}
	val, ok, err := o.b.Get(o.st, ks.kg, ks.key, nil, nil, o.buf[:0])
	if err != nil {
		return nil, err
	}
	if ok {
		o.buf = val[:0]
		if o.trig != nil {
			ks.wins, err = decodeTWins(val)
		} else {
			ks.wins, err = decodeWins(val)
		}
		if err != nil {
			return nil, fmt.Errorf("window %q: key %q: %w", o.cfg.Operator, key, err)
		}
	}
	if o.cfg.Keyed {
		if json.Valid(ks.key) {
			ks.keyJSON = ks.key
		} else {
			ks.keyJSON, _ = json.Marshal(string(ks.key))
		}
	}
	o.cache[string(ks.key)] = ks
	return ks, nil
}

func (o *Operator) markDirty(ks *keyState) {
	if !ks.dirty {
		ks.dirty = true
		o.dirty = append(o.dirty, ks)
	}
}

// firstEnd and lastEnd are the ends of the first and the last window that the
// pane starting at ps belongs to (windows start at multiples of the slide).
func (o *Operator) firstEnd(ps int64) int64 {
	return ceilDiv(ps+o.pane-o.cfg.Size, o.cfg.Slide)*o.cfg.Slide + o.cfg.Size
}

func (o *Operator) lastEnd(ps int64) int64 { return floorDiv(ps, o.cfg.Slide)*o.cfg.Slide + o.cfg.Size }

// addPane adds a record at ts to its pane; late reports a record every window of
// which is past its lateness.
func (o *Operator) addPane(ks *keyState, ts int64, v *record.View) (late bool, err error) {
	ps := floorDiv(ts, o.pane) * o.pane
	last := o.lastEnd(ps)
	if last-1+o.cfg.AllowedLateness <= o.clock {
		return true, nil
	}
	i, found := slices.BinarySearchFunc(ks.wins, ps, func(w win, t int64) int { return cmpInt(w.start, t) })
	if !found {
		ks.wins = slices.Insert(ks.wins, i, o.newWin(ps, ps+o.pane))
		// The pane's first window whose firing is still ahead.
		e := o.firstEnd(ps)
		if e-1 <= o.clock {
			e += ceilDiv(o.clock-(e-1)+1, o.cfg.Slide) * o.cfg.Slide
		}
		if e <= last {
			if err := o.timers.Register(o.domain, ks.kg, ks.key, nsFire, e-1); err != nil {
				return false, err
			}
		}
		if o.cfg.AllowedLateness > 0 {
			if err := o.timers.Register(o.domain, ks.kg, ks.key, nsCleanup, last-1+o.cfg.AllowedLateness); err != nil {
				return false, err
			}
		}
	}
	o.add(ks, &ks.wins[i], v)
	o.markDirty(ks)
	// Windows that fired already but are within their lateness fire again.
	for e := o.firstEnd(ps); e <= last && e-1 <= o.clock; e += o.cfg.Slide {
		if e-1+o.cfg.AllowedLateness > o.clock {
			o.addRefire(refire{ks: ks, end: e})
		}
	}
	return false, nil
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

// addSession adds a record at ts to the key's sessions, merging those its
// window [ts, ts+gap) overlaps or touches.
func (o *Operator) addSession(ks *keyState, ts int64, v *record.View) (late bool, err error) {
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
	if end-1+o.cfg.AllowedLateness <= o.clock {
		return true, nil
	}
	switch {
	case n == 1 && ks.wins[first].start == start && ks.wins[first].end == end:
		// Inside a session: its bounds stay.
		o.add(ks, &ks.wins[first], v)
	case n == 1:
		// The session grows: same accumulator, new bounds and timers.
		w := &ks.wins[first]
		if err := o.deleteSessionTimers(ks, *w); err != nil {
			return false, err
		}
		w.start, w.end = start, end
		o.add(ks, w, v)
		if err := o.sessionTimers(ks, end); err != nil {
			return false, err
		}
	default:
		// A new session, or one that bridges several.
		merged := o.newWin(start, end)
		if n > 0 {
			accs := make([][]byte, 0, n)
			for _, w := range ks.wins[first : first+n] {
				if err := o.deleteSessionTimers(ks, w); err != nil {
					return false, err
				}
			}
			if err := o.resolve(); err != nil {
				return false, err
			}
			for _, w := range ks.wins[first : first+n] {
				accs = append(accs, w.acc)
			}
			acc, err := o.mergeAccs(accs)
			if err != nil {
				return false, err
			}
			merged.acc, merged.fresh = acc, false
		}
		if first < 0 {
			i, _ := slices.BinarySearchFunc(ks.wins, start, func(w win, t int64) int { return cmpInt(w.start, t) })
			ks.wins = slices.Insert(ks.wins, i, merged)
			first = i
		} else {
			ks.wins = slices.Replace(ks.wins, first, first+n, merged)
		}
		o.add(ks, &ks.wins[first], v)
		if err := o.sessionTimers(ks, end); err != nil {
			return false, err
		}
	}
	o.markDirty(ks)
	if end-1 <= o.clock {
		o.addRefire(refire{ks: ks, at: ts})
	}
	return false, nil
}

// sessionTimers registers the timers of a session ending at end: its firing
// (unless the clock is past it: it fires again at once) and its cleanup.
func (o *Operator) sessionTimers(ks *keyState, end int64) error {
	if end-1 > o.clock {
		if err := o.timers.Register(o.domain, ks.kg, ks.key, nsFire, end-1); err != nil {
			return err
		}
	}
	if o.cfg.AllowedLateness > 0 {
		return o.timers.Register(o.domain, ks.kg, ks.key, nsCleanup, end-1+o.cfg.AllowedLateness)
	}
	return nil
}

func (o *Operator) deleteSessionTimers(ks *keyState, w win) error {
	if err := o.timers.Delete(o.domain, ks.kg, ks.key, nsFire, w.end-1); err != nil {
		return err
	}
	if o.cfg.AllowedLateness > 0 {
		return o.timers.Delete(o.domain, ks.kg, ks.key, nsCleanup, w.end-1+o.cfg.AllowedLateness)
	}
	return nil
}

func (o *Operator) addRefire(r refire) {
	if !slices.Contains(o.refire, r) {
		o.refire = append(o.refire, r)
	}
}

// emitRefires emits the windows late records changed, once each.
func (o *Operator) emitRefires() {
	if o.cfg.Kind != Session {
		for _, r := range o.refire {
			o.emitPanes(r.ks, r.end)
		}
		return
	}
	o.done = o.done[:0]
	for _, r := range o.refire {
		// The record's session, unless a later record of the batch moved its end
		// ahead of the clock (it fires when the clock gets there).
		for _, w := range r.ks.wins {
			if w.start <= r.at && r.at < w.end {
				if d := (refire{ks: r.ks, end: w.end}); w.end-1 <= o.clock && !slices.Contains(o.done, d) {
					o.done = append(o.done, d)
					o.emit(r.ks, w.start, w.end, w.acc)
				}
				break
			}
		}
	}
}

// onTimer handles a fired timer.
func (o *Operator) onTimer(tm timer.Timer) error {
	ks, err := o.lookup(tm.Key)
	if err != nil {
		return err
	}
	t, cleanup := tm.Time, len(tm.Namespace) == 1 && tm.Namespace[0] == nsCleanup[0]
	if o.cfg.Kind == Session {
		return o.onSessionTimer(ks, t, cleanup)
	}
	if !cleanup {
		e := t + 1
		o.emitPanes(ks, e)
		// The key's next window, while panes remain for it.
		next := e + o.cfg.Slide
		for _, w := range ks.wins {
			if w.start >= next-o.cfg.Size && w.start < next {
				if err := o.timers.Register(o.domain, ks.kg, ks.key, nsFire, next-1); err != nil {
					return err
				}
				break
			}
		}
	}
	// Panes whose last window is past its lateness go.
	n := 0
	for _, w := range ks.wins {
		if o.lastEnd(w.start)-1+o.cfg.AllowedLateness > t {
			ks.wins[n] = w
			n++
		}
	}
	if n != len(ks.wins) {
		clear(ks.wins[n:])
		ks.wins = ks.wins[:n]
		o.markDirty(ks)
	}
	return nil
}

func (o *Operator) onSessionTimer(ks *keyState, t int64, cleanup bool) error {
	n := 0
	for _, w := range ks.wins {
		switch {
		case !cleanup && w.end-1 == t:
			o.emit(ks, w.start, w.end, w.acc)
			if o.cfg.AllowedLateness > 0 {
				ks.wins[n] = w
				n++
			}
		case cleanup && w.end-1+o.cfg.AllowedLateness <= t:
		default:
			ks.wins[n] = w
			n++
		}
	}
	if n != len(ks.wins) {
		clear(ks.wins[n:])
		ks.wins = ks.wins[:n]
		o.markDirty(ks)
	}
	return nil
}

// emitPanes emits the window ending at end from the key's panes, if it has any.
func (o *Operator) emitPanes(ks *keyState, end int64) {
	start := end - o.cfg.Size
	if o.batched {
		var accs [][]byte
		for _, w := range ks.wins {
			if w.start >= start && w.end <= end {
				accs = append(accs, w.acc)
			}
		}
		if len(accs) > 0 {
			o.fires = append(o.fires, fire{ks: ks, start: start, end: end, accs: accs})
		}
		return
	}
	agg := o.cfg.Aggregate
	found := false
	for _, w := range ks.wins {
		if w.start >= start && w.end <= end {
			if !found {
				o.acc = agg.New(o.acc[:0])
				found = true
			}
			o.acc = agg.Merge(o.acc, w.acc)
		}
	}
	if found {
		o.emit(ks, start, end, o.acc)
	}
}

// emit appends window [start, end)'s result to the output, or, with user
// functions, keeps the window for finishFires.
func (o *Operator) emit(ks *keyState, start, end int64, acc []byte) {
	if o.userFns {
		o.fires = append(o.fires, fire{ks: ks, start: start, end: end, accs: [][]byte{slices.Clone(acc)}})
		return
	}
	p := append(o.buf[:0], '{')
	if o.cfg.Keyed {
		p = append(p, `"key":`...)
		p = append(p, ks.keyJSON...)
		p = append(p, ',')
	}
	p = append(p, `"window_start":`...)
	p = strconv.AppendInt(p, start, 10)
	p = append(p, `,"window_end":`...)
	p = strconv.AppendInt(p, end, 10)
	p = append(p, `,"`...)
	p = append(p, o.cfg.Aggregate.Name()...)
	p = append(p, `":`...)
	p = o.cfg.Aggregate.AppendResult(p, acc)
	p = append(p, '}')
	o.buf = p
	v := record.View{Flags: record.FlagTimestamp | record.FlagPayload, Timestamp: end - 1, Payload: p}
	if o.cfg.Keyed {
		v.Flags |= record.FlagKey
		v.Key = ks.key
	}
	o.out.Append(&v)
}

// A key's windows as stored: u32 count, then per window start (i64), end (i64),
// u32 accumulator length and the accumulator, little endian.
func encodeWins(dst []byte, wins []win) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(wins)))
	for _, w := range wins {
		dst = binary.LittleEndian.AppendUint64(dst, uint64(w.start))
		dst = binary.LittleEndian.AppendUint64(dst, uint64(w.end))
		dst = binary.LittleEndian.AppendUint32(dst, uint32(len(w.acc)))
		dst = append(dst, w.acc...)
	}
	return dst
}

var errMalformed = errors.New("malformed window state")

func decodeWins(b []byte) ([]win, error) {
	if len(b) < 4 {
		return nil, errMalformed
	}
	n := int(binary.LittleEndian.Uint32(b))
	b = b[4:]
	if n > len(b)/20 {
		return nil, errMalformed
	}
	wins := make([]win, 0, n)
	for range n {
		if len(b) < 20 {
			return nil, errMalformed
		}
		w := win{start: int64(binary.LittleEndian.Uint64(b)), end: int64(binary.LittleEndian.Uint64(b[8:]))}
		l := int(binary.LittleEndian.Uint32(b[16:]))
		b = b[20:]
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
