package weir

import (
	"encoding/binary"
	"errors"
)

// Timers, aggregate functions and window process functions (ABI §4.4–4.6).

// TimeDomain is the clock a timer follows.
type TimeDomain int32

const (
	// EventTime timers fire when the watermark reaches their time.
	EventTime TimeDomain = 0
	// ProcessingTime timers fire when the wall clock reaches their time.
	ProcessingTime TimeDomain = 1
)

// Timer is a fired timer, as an [OnTimer] callback gets it.
type Timer struct {
	// Time is the timer's time, ms; outputs inherit it as their timestamp.
	Time   int64
	Domain TimeDomain
	// Key is the key the timer was registered for; valid during the callback.
	Key []byte
}

// TimerFunc handles a fired timer of a process function: ctx reaches the keyed
// state and timers of the timer's key and emits outputs that inherit its key and
// time (set their payload).
type TimerFunc func(t *Timer, ctx *Context) error

// OnTimer gives a [Process] function its timer callback (Flink's onTimer).
func OnTimer(fn TimerFunc) Option {
	return func(f *function) { f.timerFn = fn }
}

// Return codes of the timer imports.
const (
	timerOK      = 0
	timerInvalid = -3
)

// ErrTimers is returned by the timer methods when the host refuses the call: a
// Context used outside its call, or a host without timers.
var ErrTimers = errors.New("weir: timers are not available here")

func (c *Context) timer(register bool, d TimeDomain, ms int64) error {
	if !c.active {
		return ErrTimers
	}
	var rc int32
	if register {
		rc = hostTimerRegister(int32(d), c.record, ms)
	} else {
		rc = hostTimerDelete(int32(d), c.record, ms)
	}
	if rc != timerOK {
		return ErrTimers
	}
	return nil
}

// RegisterEventTimer registers a timer for the current record's key that fires
// when the watermark reaches ms. Registering one that exists changes nothing.
func (c *Context) RegisterEventTimer(ms int64) error { return c.timer(true, EventTime, ms) }

// RegisterProcessingTimer registers a timer that fires when the wall clock
// reaches ms.
func (c *Context) RegisterProcessingTimer(ms int64) error {
	return c.timer(true, ProcessingTime, ms)
}

// DeleteEventTimer deletes the current key's event-time timer at ms, if any.
func (c *Context) DeleteEventTimer(ms int64) error { return c.timer(false, EventTime, ms) }

// DeleteProcessingTimer deletes the current key's processing-time timer at ms.
func (c *Context) DeleteProcessingTimer(ms int64) error {
	return c.timer(false, ProcessingTime, ms)
}

// CurrentWatermark is the task's event-time clock, ms (math.MinInt64 before the
// first watermark).
func (c *Context) CurrentWatermark() int64 { return hostCurrentWatermark() }

// CurrentProcessingTime is the wall clock, ms since the Unix epoch.
func (c *Context) CurrentProcessingTime() int64 { return hostCurrentTime() }

// timers runs a timer call: the process function's callback per fired timer.
func timers(f *function, in []byte) int32 {
	if f.kind != kindProcess || f.timerFn == nil {
		return rcUnsupported
	}
	if len(in) < 4 {
		return rcMalformedInput
	}
	count := int(binary.LittleEndian.Uint32(in))
	if uint64(count) > uint64(len(in)-4) {
		return rcMalformedInput
	}
	frame.reset()
	off := 4
	ctx.w, ctx.fn, ctx.active = &frame, f, true
	defer func() { ctx.active, ctx.fn = false, nil }()
	var t Timer
	for i := 0; i < count; i++ {
		if off = decodeNext(in, off, &record); off < 0 {
			return rcMalformedInput
		}
		p := record.Payload()
		if len(p) != 1 || p[0] > 1 || record.flags&flagTimestamp == 0 {
			return rcMalformedInput
		}
		t = Timer{Time: record.timestamp, Domain: TimeDomain(p[0]), Key: record.key}
		ctx.record, ctx.parent, ctx.pending = int32(i), uint32(i), false
		if err := f.timerFn(&t, &ctx); err != nil {
			return result(err)
		}
		ctx.flush()
	}
	record = Record{}
	if off != len(in) {
		return rcMalformedInput
	}
	if frame.count > 0 {
		hostEmit(frame.bytes())
	}
	return rcOK
}

// AggregateFuncs are the four parts of an aggregate function (Flink's
// AggregateFunction). Accumulators are bytes the host stores per window and key;
// a function may return its argument modified, or a new slice. Slices passed in
// are valid only during the call.
type AggregateFuncs struct {
	// Create returns a fresh accumulator.
	Create func() []byte
	// Add folds a record into acc.
	Add func(acc []byte, in *Record) ([]byte, error)
	// Merge folds other into acc (panes of a sliding window, merging sessions).
	Merge func(acc, other []byte) ([]byte, error)
	// Result is the window's output payload.
	Result func(acc []byte) ([]byte, error)
}

// Aggregate registers an aggregate function, a window step's `aggregate:
// {module, function}` (ABI §4.5). The host calls it with many windows at once.
func Aggregate(name string, fns AggregateFuncs, opts ...Option) {
	if fns.Create == nil || fns.Add == nil || fns.Merge == nil || fns.Result == nil {
		panic("weir: " + name + ": an aggregate needs Create, Add, Merge and Result")
	}
	register(&function{name: name, kind: kindAggregate, aggFns: &fns}, opts)
}

// Window is the window a [WindowProcessFunc] gets.
type Window struct {
	// Start and End bound the window, ms; End is exclusive.
	Start, End int64
	// Key is the window's key; Keyed is false for a window of a non-keyed stream.
	Key   []byte
	Keyed bool
}

// WindowProcessFunc gets a fired window with its elements (in arrival order; one
// element, the aggregate's result, when the step has an aggregate function) and
// emits its outputs through out: they inherit the window's key and end-1 as
// timestamp, and must set a payload. Elements are valid during the call.
type WindowProcessFunc func(w *Window, elements []*Record, out *Collector) error

// WindowProcess registers a window process function, a window step's `process:
// {module, function}` (ABI §4.6).
func WindowProcess(name string, fn WindowProcessFunc, opts ...Option) {
	if fn == nil {
		panic("weir: " + name + ": nil function")
	}
	register(&function{name: name, kind: kindWindowProcess, windowFn: fn}, opts)
}

const noAccumulator = 0xFFFFFFFF

// aggReader reads an aggregate or windows frame.
type aggReader struct {
	b   []byte
	off int
	bad bool
}

func (r *aggReader) u32() uint32 {
	if r.off+4 > len(r.b) {
		r.bad = true
		return 0
	}
	v := binary.LittleEndian.Uint32(r.b[r.off:])
	r.off += 4
	return v
}

func (r *aggReader) i64() int64 {
	if r.off+8 > len(r.b) {
		r.bad = true
		return 0
	}
	v := int64(binary.LittleEndian.Uint64(r.b[r.off:]))
	r.off += 8
	return v
}

func (r *aggReader) bytes(n uint32) []byte {
	if uint64(r.off)+uint64(n) > uint64(len(r.b)) {
		r.bad = true
		return nil
	}
	v := r.b[r.off : r.off+int(n) : r.off+int(n)]
	r.off += int(n)
	return v
}

// accumulator reads an accumulator: ok is false for "none yet".
func (r *aggReader) accumulator() (acc []byte, ok bool) {
	n := r.u32()
	if n == noAccumulator {
		return nil, false
	}
	return r.bytes(n), true
}

// aggregates runs an aggregate call (ABI §4.5) for an aggregate or a reduce
// function.
func aggregates(f *function, in []byte) int32 {
	if f.kind != kindAggregate && f.kind != kindReduce {
		return rcUnsupported
	}
	r := &aggReader{b: in}
	op, groups := r.u32(), r.u32()
	if r.bad || op < 1 || op > 3 || uint64(groups)*4 > uint64(len(in)) {
		return rcMalformedInput
	}
	frame.reset()
	for g := uint32(0); g < groups; g++ {
		acc, has := r.accumulator()
		if r.bad || !has && op != 1 {
			return rcMalformedInput
		}
		var err error
		switch op {
		case 1:
			n := r.u32()
			if r.bad || uint64(n) > uint64(len(in)-r.off) {
				return rcMalformedInput
			}
			for i := uint32(0); i < n; i++ {
				if r.off = decodeNext(in, r.off, &record); r.off < 0 {
					return rcMalformedInput
				}
				acc, has, err = f.addRecord(acc, has)
				if err != nil {
					return result(err)
				}
			}
			if !has {
				acc = f.create()
			}
		case 2:
			n := r.u32()
			if r.bad || uint64(n)*4 > uint64(len(in)-r.off) {
				return rcMalformedInput
			}
			for i := uint32(0); i < n; i++ {
				other, ok := r.accumulator()
				if r.bad || !ok {
					return rcMalformedInput
				}
				if acc, err = f.merge(acc, other); err != nil {
					return result(err)
				}
			}
		case 3:
			if acc, err = f.result(acc); err != nil {
				return result(err)
			}
		}
		frame.appendRecord(g, 0, flagPayload, nil, 0, acc, nil, 0)
	}
	record = Record{}
	if r.off != len(in) {
		return rcMalformedInput
	}
	hostEmit(frame.bytes())
	return rcOK
}

// addRecord folds the current record into acc (created first when there is
// none): a reduce function starts from the first payload.
func (f *function) addRecord(acc []byte, has bool) ([]byte, bool, error) {
	if f.kind == kindReduce {
		p := record.Payload()
		if !has {
			return append([]byte(nil), p...), true, nil
		}
		acc, err := f.reduceFn(acc, p)
		return acc, true, err
	}
	if !has {
		acc = f.aggFns.Create()
	}
	acc, err := f.aggFns.Add(acc, &record)
	return acc, true, err
}

func (f *function) create() []byte {
	if f.kind == kindReduce {
		return nil
	}
	return f.aggFns.Create()
}

func (f *function) merge(acc, other []byte) ([]byte, error) {
	if f.kind == kindReduce {
		return f.reduceFn(acc, other)
	}
	return f.aggFns.Merge(acc, other)
}

func (f *function) result(acc []byte) ([]byte, error) {
	if f.kind == kindReduce {
		return acc, nil
	}
	return f.aggFns.Result(acc)
}

// windowElements holds the records of the window being handled, reused.
var windowElements []Record

// windows runs a window call (ABI §4.6).
func windows(f *function, in []byte) int32 {
	if f.kind != kindWindowProcess {
		return rcUnsupported
	}
	r := &aggReader{b: in}
	count := r.u32()
	if r.bad || uint64(count)*24 > uint64(len(in)) {
		return rcMalformedInput
	}
	frame.reset()
	var (
		w    Window
		ptrs []*Record
	)
	coll := Collector{w: &frame}
	for i := uint32(0); i < count; i++ {
		w.Start, w.End = r.i64(), r.i64()
		kl := r.u32()
		w.Key, w.Keyed = nil, kl != noAccumulator
		if w.Keyed {
			w.Key = r.bytes(kl)
		}
		n := r.u32()
		if r.bad || uint64(n) > uint64(len(in)-r.off) {
			return rcMalformedInput
		}
		windowElements = windowElements[:0]
		for j := uint32(0); j < n; j++ {
			windowElements = append(windowElements, Record{})
			e := &windowElements[len(windowElements)-1]
			if r.off = decodeNext(in, r.off, e); r.off < 0 {
				return rcMalformedInput
			}
			e.index = int(j)
		}
		ptrs = ptrs[:0]
		for j := range windowElements {
			ptrs = append(ptrs, &windowElements[j])
		}
		coll.parent, coll.pending = i, false
		if err := f.windowFn(&w, ptrs, &coll); err != nil {
			return result(err)
		}
		coll.flush()
	}
	clear(windowElements)
	if r.off != len(in) {
		return rcMalformedInput
	}
	if frame.count > 0 {
		hostEmit(frame.bytes())
	}
	return rcOK
}

// TimestampResult is what a [TimestampFunc] says about one record.
type TimestampResult struct {
	time, watermark int64
	hasTime, hasWM  bool
}

// SetTime gives the record its event time, ms since the Unix epoch. A record
// whose time is never set is dropped (and counted by the host).
func (r *TimestampResult) SetTime(ms int64) { r.time, r.hasTime = ms, true }

// EmitWatermark emits a watermark after the record (a punctuation): only for a
// source whose timestamps are `punctuated: true`.
func (r *TimestampResult) EmitWatermark(ms int64) {
	if !r.hasWM || ms > r.watermark {
		r.watermark, r.hasWM = ms, true
	}
}

// TimestampFunc gives a source record its event time (ABI §4, kind
// timestamp_extractor).
type TimestampFunc func(in *Record, out *TimestampResult) error

// TimestampExtractor registers a timestamp_extractor function, a source step's
// `timestamps: {udf: {module, function}}`: one call per batch.
func TimestampExtractor(name string, fn TimestampFunc, opts ...Option) {
	if fn == nil {
		panic("weir: " + name + ": nil function")
	}
	register(&function{name: name, kind: kindTimestamp, timestampFn: fn}, opts)
}

// processTimestamps runs a timestamp extractor over the count records of in.
func processTimestamps(fn TimestampFunc, in []byte, count int) int32 {
	off := 4
	var res TimestampResult
	var wm [8]byte
	for i := 0; i < count; i++ {
		if off = decodeNext(in, off, &record); off < 0 {
			return rcMalformedInput
		}
		record.index = i
		res = TimestampResult{}
		if err := fn(&record, &res); err != nil {
			return result(err)
		}
		var flags byte
		if res.hasTime {
			flags |= flagTimestamp
		}
		var payload []byte
		if res.hasWM {
			flags |= flagPayload
			binary.LittleEndian.PutUint64(wm[:], uint64(res.watermark))
			payload = wm[:]
		}
		frame.appendRecord(uint32(i), 0, flags, nil, res.time, payload, nil, 0)
	}
	if off != len(in) {
		return rcMalformedInput
	}
	return rcOK
}
