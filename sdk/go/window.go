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

// OnTimer gives a [Process] or [CoProcess] function its timer callback (Flink's onTimer): the
// SDK calls fn once per fired timer of a timer call, in the host's (time, key)
// order. Its Context acts for the timer's key as a process call's does for the
// record's: keyed state, timers (a timer registered at or before the clock fires
// later in the same advance), and outputs, which inherit the timer's key and
// time and should set a payload. The Timer is reused: copy Key to keep it. A
// process function without OnTimer refuses timer calls (code 3) and
// registering timers.
func OnTimer(fn TimerFunc) Option {
	return func(f *function) { f.timerFn = fn }
}

// Return codes of the timer imports.
const (
	timerOK      = 0
	timerInvalid = -3
)

var (
	// ErrTimers is returned by the timer methods when the host refuses the call:
	// a Context used outside its call, or a host without timers.
	ErrTimers = errors.New("weir: timers are not available here")
	// ErrNoOnTimer is returned by RegisterEventTimer and RegisterProcessingTimer
	// of a process function registered without [OnTimer]: its timers would fire
	// into a function that cannot take them, and fail the task then (ABI §4.4:
	// such a function answers a timer call with code 3). The SDK refuses them
	// when they are registered, where the mistake is.
	ErrNoOnTimer = errors.New("weir: a process function without an OnTimer callback registers no timers")
)

func (c *Context) timer(register bool, d TimeDomain, ms int64) error {
	if !c.active || c.fn == nil || c.fn.kind != kindProcess && c.fn.kind != kindCoProcess {
		return ErrTimers
	}
	var rc int32
	if register {
		if c.fn.timerFn == nil {
			return ErrNoOnTimer
		}
		rc = hostTimerRegister(int32(d), c.record, ms)
	} else {
		rc = hostTimerDelete(int32(d), c.record, ms)
	}
	if rc != timerOK {
		return ErrTimers
	}
	return nil
}

// RegisterEventTimer registers a timer for the current record's key (in an
// [OnTimer] callback: the fired timer's key) that fires when the watermark
// reaches ms; the function's OnTimer callback then gets it. Registering one that
// exists changes nothing. It returns [ErrNoOnTimer] for a function without an
// OnTimer callback, and [ErrTimers] when the host refuses.
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

// firedTimer is the Timer an OnTimer callback gets, reused from timer to timer
// (a Timer of the call's own would escape to the heap in every call).
var firedTimer Timer

// timers runs a timer call: the process function's callback per fired timer.
func timers(f *function, in []byte) int32 {
	if f.kind != kindProcess && f.kind != kindCoProcess || f.timerFn == nil {
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
	ctx.w, ctx.sides, ctx.fn, ctx.call, ctx.active = &frame, f.sideOutputs, f, callTimer, true
	defer func() {
		ctx.active, ctx.fn, ctx.call = false, nil, 0
		// Drop the views into the input buffer.
		record, firedTimer = Record{}, Timer{}
	}()
	t := &firedTimer
	for i := 0; i < count; i++ {
		if off = decodeNext(in, off, &record); off < 0 {
			return rcMalformedInput
		}
		// A fired timer is KEY, TIMESTAMP and a one-byte domain, 0 or 1.
		p := record.Payload()
		if record.flags&(flagKey|flagTimestamp|flagPayload) != flagKey|flagTimestamp|flagPayload || len(p) != 1 || p[0] > 1 {
			return rcMalformedInput
		}
		*t = Timer{Time: record.timestamp, Domain: TimeDomain(p[0]), Key: record.key}
		ctx.record, ctx.parent, ctx.pending = int32(i), uint32(i), false
		if err := f.timerFn(t, &ctx); err != nil {
			return result(err)
		}
		ctx.flush()
	}
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

// Window is the window a [WindowProcessFunc] gets. The SDK reuses it from
// window to window.
type Window struct {
	// Start and End bound the window, ms; End is exclusive.
	Start, End int64
	// Key is the window's key, a view of the input valid during the call (empty
	// for an empty key); Keyed is false, and Key nil, for a window of a
	// non-keyed stream.
	Key   []byte
	Keyed bool
}

// WindowProcessFunc gets a fired window and all its elements at once (Flink's
// ProcessWindowFunction): elements is a slice, in arrival order (a merged
// session's in session order), or one element, the aggregate's result, when the
// step also has an aggregate function. The slice, the Records and their bytes
// are the SDK's, valid only during the call: copy what you keep.
//
// Outputs go through out, as a flat_map's do: each inherits the window's key and
// its last instant, End-1, as timestamp, and must set a payload (an output
// without one fails the call). out.EmitTo reaches declared side outputs.
type WindowProcessFunc func(w *Window, elements []*Record, out *Collector) error

// WindowProcess registers a window process function, a window step's `process:
// {module, function}` (ABI §4.6). The host calls it with many windows at once;
// the SDK calls fn once per window.
func WindowProcess(name string, fn WindowProcessFunc, opts ...Option) {
	if fn == nil {
		panic("weir: " + name + ": nil function")
	}
	register(&function{name: name, kind: kindWindowProcess, windowFn: fn}, opts)
}

// noAccumulator is the length of an absent accumulator in an aggregate frame,
// and of the key of a non-keyed window in a windows frame.
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
// function: one output per group, in group order, PAYLOAD alone. The records
// of an add are decoded into the SDK's one Record, as a process call's are, so
// the SDK allocates nothing per record or per group; what the user's functions
// allocate is theirs.
func aggregates(f *function, in []byte) int32 {
	if f.kind != kindAggregate && f.kind != kindReduce {
		return rcUnsupported
	}
	r := &aggReader{b: in}
	op, groups := r.u32(), r.u32()
	// Every group takes at least its accumulator's length.
	if r.bad || op < aggAdd || op > aggResult || uint64(groups)*4 > uint64(len(in)-r.off) {
		return rcMalformedInput
	}
	frame.reset()
	rc := aggregateGroups(f, r, op, groups)
	record = Record{} // drop the views into the input buffer
	if rc != rcOK {
		return rc
	}
	if r.off != len(in) {
		return rcMalformedInput
	}
	if frame.count > 0 {
		hostEmit(frame.bytes())
	}
	return rcOK
}

// The operations of an aggregate call.
const (
	aggAdd    = 1
	aggMerge  = 2
	aggResult = 3
)

// aggregateGroups answers the groups of an aggregate call into frame.
func aggregateGroups(f *function, r *aggReader, op, groups uint32) int32 {
	in := r.b
	for g := uint32(0); g < groups; g++ {
		acc, has := r.accumulator()
		if r.bad || !has && op != aggAdd {
			return rcMalformedInput
		}
		var err error
		switch op {
		case aggAdd:
			n := r.u32()
			// Every record takes at least its flags byte.
			if r.bad || uint64(n) > uint64(len(in)-r.off) {
				return rcMalformedInput
			}
			for i := uint32(0); i < n; i++ {
				if r.off = decodeNext(in, r.off, &record); r.off < 0 {
					return rcMalformedInput
				}
				record.index = int(i)
				if acc, has, err = f.addRecord(acc, has); err != nil {
					return result(err)
				}
			}
			if !has {
				acc = f.create()
			}
		case aggMerge:
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
		case aggResult:
			if acc, err = f.result(acc); err != nil {
				return result(err)
			}
		}
		frame.appendRecord(g, 0, flagPayload, nil, 0, acc, nil, 0)
	}
	return rcOK
}

// reduceAcc is the buffer a reduce function's first payload is copied into to
// start a group's accumulator: the [ReduceFunc] may write into its acc, which
// must then not be the input batch. Its bytes are copied into the output frame
// before the next group reuses it.
var reduceAcc []byte

// addRecord folds the current record into acc (created first when there is
// none): a reduce function starts from the first payload.
func (f *function) addRecord(acc []byte, has bool) ([]byte, bool, error) {
	if f.kind == kindReduce {
		p := record.Payload()
		if !has {
			reduceAcc = append(reduceAcc[:0], p...)
			return reduceAcc, true, nil
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

// create is the accumulator of an add with no accumulator and no record: a
// reduce function has nothing to start from and answers an empty one.
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

// The elements of the window being handled, reused from window to window and
// from call to call: windowRecords holds them, windowElements points to them
// (what a WindowProcessFunc gets).
var (
	windowRecords  []Record
	windowElements []*Record
)

// The Window and the Collector a WindowProcessFunc gets, reused (as values of a
// call they would escape to the heap in every call).
var (
	firedWindow Window
	windowOut   Collector
)

// errWindowPayload fails a window call whose function emitted an output
// without a payload, which the host would refuse (ABI §4.6).
var errWindowPayload = errors.New("a window_process output must set a payload (ABI §4.6)")

// windows runs a window call (ABI §4.6): the function once per window, its
// outputs naming the window by input_index.
func windows(f *function, in []byte) int32 {
	if f.kind != kindWindowProcess {
		return rcUnsupported
	}
	r := &aggReader{b: in}
	count := r.u32()
	// Every window takes at least start, end, key length and element count.
	if r.bad || uint64(count)*24 > uint64(len(in)-r.off) {
		return rcMalformedInput
	}
	frame.reset()
	rc := windowCalls(f, r, count)
	// Drop the views into the input buffer (windowElements point to
	// windowRecords, and stay).
	clear(windowRecords)
	if rc != rcOK {
		return rc
	}
	if r.off != len(in) {
		return rcMalformedInput
	}
	if frame.count > 0 {
		hostEmit(frame.bytes())
	}
	return rcOK
}

// window reads one window of a windows or evictor frame (ABI §4.6, §4.10)
// into w and returns its elements, decoded into windowRecords; ok is false
// when the window breaks the frame's layout.
func (r *aggReader) window(w *Window) (els []*Record, ok bool) {
	in := r.b
	w.Start, w.End = r.i64(), r.i64()
	kl := r.u32()
	w.Key, w.Keyed = nil, kl != noAccumulator
	if w.Keyed {
		w.Key = r.bytes(kl)
	}
	n := r.u32()
	// Every element takes at least its flags byte.
	if r.bad || uint64(n) > uint64(len(in)-r.off) {
		return nil, false
	}
	if int(n) > cap(windowRecords) {
		windowRecords = make([]Record, n)
		windowElements = make([]*Record, n)
		for j := range windowRecords {
			windowElements[j] = &windowRecords[j]
		}
	}
	els = windowElements[:n]
	for j, e := range els {
		if r.off = decodeNext(in, r.off, e); r.off < 0 {
			return nil, false
		}
		e.index = j
	}
	return els, true
}

// windowCalls calls f for each of the count windows of r into frame.
func windowCalls(f *function, r *aggReader, count uint32) int32 {
	w, c := &firedWindow, &windowOut
	defer func() { *w = Window{} }() // its key is a view of the input
	c.w, c.sides, c.needPayload = &frame, f.sideOutputs, true
	for i := uint32(0); i < count; i++ {
		els, ok := r.window(w)
		if !ok {
			return rcMalformedInput
		}
		c.parent, c.pending, c.noPayload = i, false, false
		if err := f.windowFn(w, els, c); err != nil {
			return result(err)
		}
		c.flush()
		if c.noPayload {
			return result(errWindowPayload)
		}
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
