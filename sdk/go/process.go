package weir

import "strconv"

// ProcessFunc handles one record of a keyed stream: it may read and write the
// keyed state of the record's key through the handles its function declared
// (see [State]) and emit zero or more outputs through ctx, each deriving from
// the record (so each keeps the record's key unless it sets another).
type ProcessFunc func(in *Record, ctx *Context) error

// ReduceFunc combines the running value of a key, acc, with the payload of the
// key's next record, value, and returns the new running value. acc is the SDK's
// buffer: the function may modify it or append to acc[:0] to build its result
// without allocating (after it has read what it needs from acc). The result may
// alias acc or value.
type ReduceFunc func(acc, value []byte) ([]byte, error)

// Context is what a [ProcessFunc] gets besides the record, and a [TimerFunc]
// besides the timer: the outputs it emits (the embedded [Collector]: Emit,
// EmitTo, EmitPayload), access to the keyed state of the record's (timer's) key,
// its timers (RegisterEventTimer and the others) and the clocks
// (CurrentWatermark, CurrentProcessingTime). It is valid only during the call
// that received it.
type Context struct {
	Collector
	fn *function
	// record is the current record's index in the batch, the record argument of
	// the state imports.
	record int32
	// active is true while a process call runs: state handles refuse to work
	// otherwise (a Context kept past its call).
	active bool
	// call is the kind of the running call (callProcess, callProcess2 or
	// callTimer): broadcast state is writable in process2 only (ABI §4.8).
	call int32
}

// Index returns the current record's position in the batch.
func (c *Context) Index() int { return int(c.record) }

// State declares keyed state for a process function: the i-th handle given to
// State options, in order, is its state number i. A handle belongs to one
// function; giving it to two panics.
func State(handles ...StateHandle) Option {
	return func(f *function) {
		for _, h := range handles {
			f.state = append(f.state, h.handle())
		}
	}
}

// Process registers a process function: a keyed per-record function with keyed
// state, emitting zero or more outputs per record on its main and side outputs
// (ABI §4, kind process). Its step reads a keyed stream (`process` after a
// `key_by`); state calls act for the key of the record being handled.
func Process(name string, fn ProcessFunc, opts ...Option) {
	register(&function{name: name, kind: kindProcess, processFn: fn}, opts)
}

// reduceStateName names the reducing state a reduce function declares, in
// checkpoints and savepoints: renaming it would lose the running values.
const reduceStateName = "reduce"

// Reduce registers a reduce function (ABI §4.1): for each record, in order, the
// running value of its key becomes the record's payload if the key has none yet,
// else fn(running value, payload); it is stored and emitted as the record's one
// output. The SDK declares the reducing state (state 0, named "reduce") and runs
// the whole batch in one call. A reduce function takes OnOpen and OnClose but no
// side outputs and no other state.
func Reduce(name string, fn ReduceFunc, opts ...Option) {
	f := &function{name: name, kind: kindReduce, reduceFn: fn}
	if fn != nil {
		f.reduceState = &ValueState{newHandle(reduceStateName, StateReducing, 0)}
	}
	register(f, opts)
}

// bindState checks f's state declarations and binds each handle to f.
func bindState(f *function) {
	if f.reduceState != nil {
		if len(f.state) > 0 {
			panic("weir: " + f.name + ": a reduce function declares no state of its own")
		}
		f.state = append(f.state, &f.reduceState.stateHandle)
	}
	if len(f.state) > 0 && f.kind != kindProcess && f.kind != kindReduce && f.kind != kindCoProcess {
		panic("weir: " + f.name + ": only process, co_process and reduce functions have keyed state")
	}
	for i, h := range f.state {
		if h.kind == StateBroadcast && f.kind != kindCoProcess {
			// Only process2 of a co_process function writes broadcast state
			// (ABI §4.8): any other function would only ever see it empty.
			panic("weir: " + f.name + ": only a co_process function has broadcast state")
		}
		if h.fn != nil {
			panic("weir: " + f.name + ": state " + strconv.Quote(h.name) + " is already declared by function " + strconv.Quote(h.fn.name))
		}
		for _, g := range f.state[:i] {
			if g.name == h.name {
				panic("weir: " + f.name + ": state " + strconv.Quote(h.name) + " declared twice")
			}
		}
	}
	for i, h := range f.state {
		h.fn, h.index = f, int32(i)
	}
}

// ctx is the Context of the current process call, reused from record to record.
var ctx Context

// processKeyed runs fn, the process function f (or one of a co_process
// function's two), over the count records of in, for a call of kind callKind.
func processKeyed(f *function, fn ProcessFunc, callKind int32, in []byte, count int) int32 {
	off := 4
	ctx.w, ctx.sides, ctx.fn, ctx.call, ctx.active = &frame, f.sideOutputs, f, callKind, true
	defer func() { ctx.active, ctx.fn, ctx.call = false, nil, 0 }()
	for i := 0; i < count; i++ {
		if off = decodeNext(in, off, &record); off < 0 {
			return rcMalformedInput
		}
		record.index = i
		ctx.record, ctx.parent, ctx.pending = int32(i), uint32(i), false
		if err := fn(&record, &ctx); err != nil {
			return result(err)
		}
		ctx.flush()
	}
	if off != len(in) {
		return rcMalformedInput
	}
	return rcOK
}

// processReduce runs the loop of ABI §4.1 over the count records of in: read the
// key's running value, combine, write it back, emit it. State reads see the
// writes of earlier records of the batch, so several records of one key chain.
func processReduce(f *function, in []byte, count int) int32 {
	off := 4
	st := f.reduceState
	ctx.w, ctx.sides, ctx.fn, ctx.call, ctx.active = &frame, nil, f, callProcess, true
	defer func() { ctx.active, ctx.fn, ctx.call = false, nil, 0 }()
	for i := 0; i < count; i++ {
		if off = decodeNext(in, off, &record); off < 0 {
			return rcMalformedInput
		}
		record.index = i
		ctx.record = int32(i)
		next := record.Payload()
		acc, ok, err := st.Get(&ctx)
		if err != nil {
			return result(err)
		}
		if ok {
			if next, err = f.reduceFn(acc, next); err != nil {
				return result(err)
			}
		}
		if err := st.Put(&ctx, next); err != nil {
			return result(err)
		}
		frame.appendRecord(uint32(i), 0, flagPayload, nil, 0, next, nil, 0)
	}
	if off != len(in) {
		return rcMalformedInput
	}
	return rcOK
}
