package wasmhost

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"time"

	"github.com/tetratelabs/wazero/api"

	"github.com/weir-streams/weir/internal/record"
)

// Time, timers and window calls (sdk/ABI.md §4.4–4.6).

// Timers is the timer service behind a process function's timer imports
// (sdk/ABI.md §4.4): per key, like KeyedState. domain is 0 (event time) or 1
// (processing time). key is valid only during the call. An error fails the task
// (a failure of kind "state").
type Timers interface {
	Register(domain int, key []byte, t int64) error
	Delete(domain int, key []byte, t int64) error
}

// SetTimers gives the instance the timer service its timer imports reach.
// Without one, they return UNSUPPORTED.
func (i *Instance) SetTimers(t Timers) { i.timers = t }

// SetWatermark sets what weir.current_watermark returns: the task's event-time
// clock (math.MinInt64 before the first watermark).
func (i *Instance) SetWatermark(wm int64) { i.watermark = wm }

// Timer runs a process or co_process function's timer call on fired timers: a
// batch whose records carry the timer's KEY, its time as TIMESTAMP and its domain
// as a one-byte PAYLOAD. It returns the main output, valid until the next call
// like the side outputs.
func (i *Instance) Timer(ctx context.Context, fired *record.Batch) (*record.Batch, error) {
	if i.fn.Kind != KindProcess && i.fn.Kind != KindCoProcess {
		return nil, fmt.Errorf("wasmhost: timer call for a %s function", i.fn.Kind)
	}
	i.out.Reset()
	i.parents.reset(fired)
	i.scope = scopeKeyed
	err := i.call(ctx, callTimer, fired.Bytes(), true)
	i.scope = scopeNone
	if err != nil {
		return nil, err
	}
	return &i.out, nil
}

// AggregateOp is what an aggregate call does (sdk/ABI.md §4.5).
type AggregateOp uint32

const (
	AggregateAdd    AggregateOp = 1
	AggregateMerge  AggregateOp = 2
	AggregateResult AggregateOp = 3
)

// noAccumulator is the length of an absent accumulator in an aggregate frame.
const noAccumulator = math.MaxUint32

// AggregateFrame is the input of an aggregate call: groups of one operation.
type AggregateFrame struct {
	buf    []byte
	groups int
}

// NewAggregateFrame returns an empty frame of operation op.
func NewAggregateFrame(op AggregateOp) *AggregateFrame {
	f := &AggregateFrame{}
	f.Reset(op)
	return f
}

// Reset empties f for operation op, keeping its memory.
func (f *AggregateFrame) Reset(op AggregateOp) {
	f.buf = binary.LittleEndian.AppendUint32(f.buf[:0], uint32(op))
	f.buf = binary.LittleEndian.AppendUint32(f.buf, 0)
	f.groups = 0
}

// Len is the number of groups in f.
func (f *AggregateFrame) Len() int { return f.groups }

func (f *AggregateFrame) appendAcc(acc []byte, has bool) {
	f.groups++
	binary.LittleEndian.PutUint32(f.buf[4:], uint32(f.groups))
	if !has {
		f.buf = binary.LittleEndian.AppendUint32(f.buf, noAccumulator)
		return
	}
	f.buf = binary.LittleEndian.AppendUint32(f.buf, uint32(len(acc)))
	f.buf = append(f.buf, acc...)
}

// AddGroup adds a group of an add frame: the accumulator (none yet when has is
// false) and the records to fold into it.
func (f *AggregateFrame) AddGroup(acc []byte, has bool, records *record.Batch) {
	f.AddGroupEncoded(acc, has, records.Len(), records.Records())
}

// AddGroupEncoded is AddGroup with n records already in record encoding.
func (f *AggregateFrame) AddGroupEncoded(acc []byte, has bool, n int, encoded []byte) {
	f.appendAcc(acc, has)
	f.buf = binary.LittleEndian.AppendUint32(f.buf, uint32(n))
	f.buf = append(f.buf, encoded...)
}

// MergeGroup adds a group of a merge frame: others merged into acc, in order.
func (f *AggregateFrame) MergeGroup(acc []byte, others [][]byte) {
	f.appendAcc(acc, true)
	f.buf = binary.LittleEndian.AppendUint32(f.buf, uint32(len(others)))
	for _, o := range others {
		f.buf = binary.LittleEndian.AppendUint32(f.buf, uint32(len(o)))
		f.buf = append(f.buf, o...)
	}
}

// ResultGroup adds a group of a result frame.
func (f *AggregateFrame) ResultGroup(acc []byte) { f.appendAcc(acc, true) }

// Aggregate runs an aggregate call (an aggregate function, or a reduce function
// in a window) and returns one payload per group, in order: the new
// accumulators, or the results. The slices are valid until the next call.
func (i *Instance) Aggregate(ctx context.Context, f *AggregateFrame) ([][]byte, error) {
	if i.fn.Kind != KindAggregate && i.fn.Kind != KindReduce {
		return nil, fmt.Errorf("wasmhost: aggregate call for a %s function", i.fn.Kind)
	}
	i.aggOut = i.aggOut[:0]
	i.aggArena = i.aggArena[:0]
	i.emitMode = emitAggregate
	err := i.call(ctx, callAggregate, f.buf, true)
	i.emitMode = emitRecords
	if err != nil {
		return nil, err
	}
	if len(i.aggOut) != f.groups {
		return nil, i.abiError(fmt.Sprintf("aggregate call emitted %d outputs for %d groups; it emits exactly one per group", len(i.aggOut), f.groups))
	}
	// The arena may have moved while it grew: slice it now.
	out := i.aggSlices[:0]
	for _, span := range i.aggOut {
		out = append(out, i.aggArena[span[0]:span[1]:span[1]])
	}
	i.aggSlices = out
	return out, nil
}

// onAggregateEmit takes the outputs of an aggregate call: one PAYLOAD-only
// record per group, in order.
func (i *Instance) onAggregateEmit(idx, tag uint32, v *record.View) error {
	want := uint32(len(i.aggOut))
	if idx != want || tag != 0 || v.Flags != record.FlagPayload {
		return abiViolation(fmt.Sprintf("weir.emit: aggregate output %d has input index %d, tag %d and flags %#x; want input index %d, tag 0 and flags 0x04 (the payload alone)", want, idx, tag, v.Flags, want))
	}
	start := len(i.aggArena)
	i.aggArena = append(i.aggArena, v.Payload...)
	i.aggOut = append(i.aggOut, [2]int{start, len(i.aggArena)})
	return nil
}

// WindowFrame is the input of a window call: fired windows with their elements.
type WindowFrame struct {
	buf  []byte
	meta []record.View // per window: what its outputs inherit
}

// NewWindowFrame returns an empty frame.
func NewWindowFrame() *WindowFrame {
	f := &WindowFrame{}
	f.Reset()
	return f
}

// Reset empties f, keeping its memory.
func (f *WindowFrame) Reset() {
	f.buf = binary.LittleEndian.AppendUint32(f.buf[:0], 0)
	f.meta = f.meta[:0]
}

// Len is the number of windows in f.
func (f *WindowFrame) Len() int { return len(f.meta) }

// Add adds window [start, end) of key (keyed false: a non-keyed window) with its
// elements.
func (f *WindowFrame) Add(start, end int64, key []byte, keyed bool, elements *record.Batch) {
	f.AddEncoded(start, end, key, keyed, elements.Len(), elements.Records())
}

// AddEncoded is Add with n elements already in record encoding.
func (f *WindowFrame) AddEncoded(start, end int64, key []byte, keyed bool, n int, encoded []byte) {
	f.buf = binary.LittleEndian.AppendUint64(f.buf, uint64(start))
	f.buf = binary.LittleEndian.AppendUint64(f.buf, uint64(end))
	m := record.View{Flags: record.FlagTimestamp, Timestamp: end - 1}
	if keyed {
		f.buf = binary.LittleEndian.AppendUint32(f.buf, uint32(len(key)))
		f.buf = append(f.buf, key...)
		m.Flags |= record.FlagKey
		m.Key = key
	} else {
		f.buf = binary.LittleEndian.AppendUint32(f.buf, noAccumulator)
	}
	f.buf = binary.LittleEndian.AppendUint32(f.buf, uint32(n))
	f.buf = append(f.buf, encoded...)
	f.meta = append(f.meta, m)
	binary.LittleEndian.PutUint32(f.buf, uint32(len(f.meta)))
}

// SetTimestamp replaces what the outputs of the window added last inherit as
// their timestamp (end - 1 by default): ts, or none when has is false. Count
// and global windows, which have no end, give the largest timestamp of the
// records they fired with.
func (f *WindowFrame) SetTimestamp(ts int64, has bool) {
	m := &f.meta[len(f.meta)-1]
	m.Timestamp = ts
	if has {
		m.Flags |= record.FlagTimestamp
	} else {
		m.Flags &^= record.FlagTimestamp
	}
}

// Window runs a window_process function's window call and returns its main
// output: records that inherit their window's key and end - 1 as timestamp.
// The batch is valid until the next call.
func (i *Instance) Window(ctx context.Context, f *WindowFrame) (*record.Batch, error) {
	if i.fn.Kind != KindWindowProcess {
		return nil, fmt.Errorf("wasmhost: window call for a %s function", i.fn.Kind)
	}
	i.out.Reset()
	i.windows = f.meta
	err := i.call(ctx, callWindow, f.buf, true)
	i.windows = nil
	if err != nil {
		return nil, err
	}
	return &i.out, nil
}

// onWindowEmit fills in what a window call's output inherits from its window.
func (i *Instance) onWindowEmit(idx uint32, v *record.View) error {
	if int(idx) >= len(i.windows) {
		return abiViolation(fmt.Sprintf("weir.emit: window output names window %d of %d", idx, len(i.windows)))
	}
	if v.Flags&record.FlagPayload == 0 {
		return abiViolation("weir.emit: a window output must set its payload")
	}
	inheritFrom(v, &i.windows[idx])
	return nil
}

// Timer imports (sdk/ABI.md §4.4).

func hostTimerRegister(ctx context.Context, _ api.Module, stack []uint64) {
	hostTimer(ctx, stack, true)
}

func hostTimerDelete(ctx context.Context, _ api.Module, stack []uint64) {
	hostTimer(ctx, stack, false)
}

func hostTimer(ctx context.Context, stack []uint64, register bool) {
	inst := callerOf(ctx)
	switch {
	case inst == nil:
		stack[0] = api.EncodeI32(codeInvalid)
		return
	case inst.timers == nil:
		stack[0] = api.EncodeI32(codeUnsupported)
		return
	}
	domain, rec, t := int32(stack[0]), int32(stack[1]), int64(stack[2])
	// Timers are keyed: only in a keyed scope of a process or co_process function.
	if inst.scope != scopeKeyed || (inst.fn.Kind != KindProcess && inst.fn.Kind != KindCoProcess) || domain < 0 || domain > 1 || rec < 0 || int(rec) >= inst.parents.count {
		stack[0] = api.EncodeI32(codeInvalid)
		return
	}
	v, err := inst.parents.get(uint32(rec))
	if err != nil {
		inst.abort(err)
	}
	key := v.Key
	if v.Flags&record.FlagKey == 0 {
		key = nil
	}
	if register {
		err = inst.timers.Register(int(domain), key, t)
	} else {
		err = inst.timers.Delete(int(domain), key, t)
	}
	if err != nil {
		inst.abort(stateError{err})
	}
	stack[0] = 0
}

func hostCurrentWatermark(ctx context.Context, _ api.Module, stack []uint64) {
	wm := int64(math.MinInt64)
	if inst := callerOf(ctx); inst != nil {
		wm = inst.watermark
	}
	stack[0] = api.EncodeI64(wm)
}

func hostCurrentTime(_ context.Context, _ api.Module, stack []uint64) {
	stack[0] = api.EncodeI64(time.Now().UnixMilli())
}

// FrameBytes returns the encoded frame f (for tests and tools that read it as a
// guest would). It aliases f.
func FrameBytes(f interface{ frameBytes() []byte }) []byte { return f.frameBytes() }

func (f *AggregateFrame) frameBytes() []byte { return f.buf }
func (f *WindowFrame) frameBytes() []byte    { return f.buf }

// extraction is what a timestamp_extractor's process call found (sdk/ABI.md §4).
type extraction struct {
	outputs int // outputs seen, one per input
	dropped int // inputs without a usable time
	maxTS   int64
	// punct is the largest punctuation (a watermark after a record), when
	// hasPunct.
	punct    int64
	hasPunct bool
}

// Extraction reports the last process call of a timestamp_extractor: the
// records it dropped for want of a time, the largest timestamp it assigned
// (math.MinInt64 for none), and its largest punctuation, if it emitted any.
func (i *Instance) Extraction() (dropped int, maxTS int64, punctuation int64, punctuated bool) {
	e := &i.extract
	return e.dropped, e.maxTS, e.punct, e.hasPunct
}

// onExtracted takes a timestamp_extractor's output: the input record with its
// new timestamp, or nothing (dropped), and maybe a punctuation.
func (i *Instance) onExtracted(idx uint32, v *record.View) error {
	want := uint32(i.extract.outputs)
	if idx != want || v.Flags&^(record.FlagTimestamp|record.FlagPayload) != 0 || v.Flags&record.FlagPayload != 0 && len(v.Payload) != 8 {
		return abiViolation(fmt.Sprintf("weir.emit: timestamp_extractor output %d has input index %d, flags %#x and a %d-byte payload; want input index %d, flags 0x02 or 0x00, and an 8-byte watermark as payload only with 0x04", want, idx, v.Flags, len(v.Payload), want))
	}
	i.extract.outputs++
	if v.Flags&record.FlagPayload != 0 {
		wm := int64(binary.LittleEndian.Uint64(v.Payload))
		if !i.extract.hasPunct || wm > i.extract.punct {
			i.extract.punct, i.extract.hasPunct = wm, true
		}
	}
	if v.Flags&record.FlagTimestamp == 0 {
		i.extract.dropped++
		return nil
	}
	p, err := i.parents.get(idx)
	if err != nil {
		return err
	}
	out := *p
	out.Flags |= record.FlagTimestamp
	out.Timestamp = v.Timestamp
	i.extract.maxTS = max(i.extract.maxTS, v.Timestamp)
	i.out.Append(&out)
	return nil
}
