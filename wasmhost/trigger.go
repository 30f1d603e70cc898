package wasmhost

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"

	"github.com/weir-streams/weir/internal/record"
)

// Trigger and evictor calls (sdk/ABI.md §4.9, §4.10).

// emitMode says how a call's outputs are read.
type emitMode uint8

const (
	emitRecords   emitMode = iota // records for the main and side outputs
	emitAggregate                 // one accumulator or result per group
	emitTrigger                   // one action per event
	emitEvict                     // one list of indexes per window
)

// TriggerEvent is what happened to a window, the event of a trigger frame.
type TriggerEvent uint8

const (
	TriggerElements       TriggerEvent = 0 // elements were added to the window
	TriggerEventTime      TriggerEvent = 1 // an event-time timer of the window fired
	TriggerProcessingTime TriggerEvent = 2 // a processing-time timer fired
)

// TriggerResult is what a trigger decides for a window (Flink's TriggerResult).
type TriggerResult uint8

const (
	TriggerContinue     TriggerResult = 0
	TriggerFire         TriggerResult = 1
	TriggerPurge        TriggerResult = 2
	TriggerFireAndPurge TriggerResult = 3
)

// Fire reports whether r evaluates the window's function.
func (r TriggerResult) Fire() bool { return r == TriggerFire || r == TriggerFireAndPurge }

// Purge reports whether r clears the window's contents.
func (r TriggerResult) Purge() bool { return r == TriggerPurge || r == TriggerFireAndPurge }

// NoTimer is the time of a TriggerAction timer that is not to be registered.
const NoTimer = math.MinInt64

// TriggerAction is a trigger's answer to one event: what to do with the window,
// and timers to register for the window and its key (NoTimer for none).
type TriggerAction struct {
	Result          TriggerResult
	EventTimer      int64
	ProcessingTimer int64
}

// TriggerFrame is the input of a trigger call: events of windows.
type TriggerFrame struct {
	buf    []byte
	events int
}

// NewTriggerFrame returns an empty frame.
func NewTriggerFrame() *TriggerFrame {
	f := &TriggerFrame{}
	f.Reset()
	return f
}

// Reset empties f, keeping its memory.
func (f *TriggerFrame) Reset() {
	f.buf = binary.LittleEndian.AppendUint32(f.buf[:0], 0)
	f.events = 0
}

// Len is the number of events in f.
func (f *TriggerFrame) Len() int { return f.events }

// AddEvent adds an event of window [start, end) of key (keyed false: a window of
// a non-keyed stream). time is the largest timestamp of the elements added
// (TriggerElements) or the timer's time; count is the number of elements now in
// the window. A global window is (math.MinInt64, math.MaxInt64).
func (f *TriggerFrame) AddEvent(event TriggerEvent, start, end, time int64, count uint64, key []byte, keyed bool) {
	f.buf = append(f.buf, byte(event))
	f.buf = binary.LittleEndian.AppendUint64(f.buf, uint64(start))
	f.buf = binary.LittleEndian.AppendUint64(f.buf, uint64(end))
	f.buf = binary.LittleEndian.AppendUint64(f.buf, uint64(time))
	f.buf = binary.LittleEndian.AppendUint64(f.buf, count)
	f.buf = appendKey(f.buf, key, keyed)
	f.events++
	binary.LittleEndian.PutUint32(f.buf, uint32(f.events))
}

// appendKey appends a window's key: its length and bytes, or 0xFFFFFFFF for the
// window of a non-keyed stream.
func appendKey(buf, key []byte, keyed bool) []byte {
	if !keyed {
		return binary.LittleEndian.AppendUint32(buf, noAccumulator)
	}
	buf = binary.LittleEndian.AppendUint32(buf, uint32(len(key)))
	return append(buf, key...)
}

// Trigger runs a trigger function's trigger call and returns one action per
// event of f, in order. The slice is valid until the next call.
func (i *Instance) Trigger(ctx context.Context, f *TriggerFrame) ([]TriggerAction, error) {
	if i.fn.Kind != KindTrigger {
		return nil, fmt.Errorf("wasmhost: trigger call for a %s function", i.fn.Kind)
	}
	i.trigOut = i.trigOut[:0]
	i.trigEvents = f.events
	i.emitMode = emitTrigger
	err := i.call(ctx, callTrigger, f.buf, true)
	i.emitMode = emitRecords
	if err != nil {
		return nil, err
	}
	if len(i.trigOut) != f.events {
		return nil, i.abiError(fmt.Sprintf("trigger call emitted %d outputs for %d events; it emits exactly one per event", len(i.trigOut), f.events))
	}
	return i.trigOut, nil
}

// onTriggerEmit takes the outputs of a trigger call: one PAYLOAD-only record per
// event, in order, whose payload is an action and up to two timers.
func (i *Instance) onTriggerEmit(idx, tag uint32, v *record.View) error {
	want := uint32(len(i.trigOut))
	if idx != want || tag != 0 || v.Flags != record.FlagPayload {
		return abiViolation(fmt.Sprintf("weir.emit: trigger output %d has input index %d, tag %d and flags %#x; want input index %d, tag 0 and flags 0x04 (the payload alone)", want, idx, tag, v.Flags, want))
	}
	if int(want) >= i.trigEvents {
		return abiViolation(fmt.Sprintf("weir.emit: trigger output %d for a call of %d events; it emits exactly one per event", want, i.trigEvents))
	}
	p := v.Payload
	if len(p) != 1 && len(p) != 9 && len(p) != 17 {
		return abiViolation(fmt.Sprintf("weir.emit: trigger output %d has a %d-byte payload; want 1, 9 or 17 bytes (an action, then optional event-time and processing-time timers)", want, len(p)))
	}
	if p[0] > byte(TriggerFireAndPurge) {
		return abiViolation(fmt.Sprintf("weir.emit: trigger output %d has action %d; want 0 (continue), 1 (fire), 2 (purge) or 3 (fire and purge)", want, p[0]))
	}
	a := TriggerAction{Result: TriggerResult(p[0]), EventTimer: NoTimer, ProcessingTimer: NoTimer}
	if len(p) >= 9 {
		a.EventTimer = int64(binary.LittleEndian.Uint64(p[1:]))
	}
	if len(p) == 17 {
		a.ProcessingTimer = int64(binary.LittleEndian.Uint64(p[9:]))
	}
	i.trigOut = append(i.trigOut, a)
	return nil
}

// EvictFrame is the input of an evict call: windows about to fire, with their
// elements.
type EvictFrame struct {
	buf []byte
	// sizes are the windows' element counts; countAt is the offset of the last
	// window's count in buf.
	sizes   []uint32
	countAt int
}

// NewEvictFrame returns an empty frame.
func NewEvictFrame() *EvictFrame {
	f := &EvictFrame{}
	f.Reset()
	return f
}

// Reset empties f, keeping its memory.
func (f *EvictFrame) Reset() {
	f.buf = binary.LittleEndian.AppendUint32(f.buf[:0], 0)
	f.sizes = f.sizes[:0]
	f.countAt = 0
}

// Len is the number of windows in f.
func (f *EvictFrame) Len() int { return len(f.sizes) }

// AddWindow adds window [start, end) of key (keyed false: non-keyed) with no
// elements yet: AddElement and AddElementsEncoded add them to the last window
// added.
func (f *EvictFrame) AddWindow(start, end int64, key []byte, keyed bool) {
	f.buf = binary.LittleEndian.AppendUint64(f.buf, uint64(start))
	f.buf = binary.LittleEndian.AppendUint64(f.buf, uint64(end))
	f.buf = appendKey(f.buf, key, keyed)
	f.countAt = len(f.buf)
	f.buf = binary.LittleEndian.AppendUint32(f.buf, 0)
	f.sizes = append(f.sizes, 0)
	binary.LittleEndian.PutUint32(f.buf, uint32(len(f.sizes)))
}

// AddElement adds an element to the last window added.
func (f *EvictFrame) AddElement(v *record.View) {
	f.mustHaveWindow()
	f.buf = record.AppendView(f.buf, v)
	f.grow(1)
}

// AddElementsEncoded adds n elements already in record encoding to the last
// window added.
func (f *EvictFrame) AddElementsEncoded(n int, encoded []byte) {
	f.mustHaveWindow()
	f.buf = append(f.buf, encoded...)
	f.grow(uint32(n))
}

func (f *EvictFrame) mustHaveWindow() {
	if len(f.sizes) == 0 {
		panic("wasmhost: EvictFrame element added before any window")
	}
}

func (f *EvictFrame) grow(n uint32) {
	last := len(f.sizes) - 1
	f.sizes[last] += n
	binary.LittleEndian.PutUint32(f.buf[f.countAt:], f.sizes[last])
}

// Evict runs an evictor function's evict call and returns, per window of f in
// order, the indexes of the elements to evict, ascending. The slices are valid
// until the next call.
func (i *Instance) Evict(ctx context.Context, f *EvictFrame) ([][]uint32, error) {
	if i.fn.Kind != KindEvictor {
		return nil, fmt.Errorf("wasmhost: evict call for a %s function", i.fn.Kind)
	}
	i.evSizes = f.sizes
	i.evOut = i.evOut[:0]
	i.evArena = i.evArena[:0]
	i.emitMode = emitEvict
	err := i.call(ctx, callEvict, f.buf, true)
	i.emitMode = emitRecords
	i.evSizes = nil
	if err != nil {
		return nil, err
	}
	if len(i.evOut) != len(f.sizes) {
		return nil, i.abiError(fmt.Sprintf("evict call emitted %d outputs for %d windows; it emits exactly one per window", len(i.evOut), len(f.sizes)))
	}
	// The arena may have moved while it grew: slice it now.
	out := i.evSlices[:0]
	for _, span := range i.evOut {
		out = append(out, i.evArena[span[0]:span[1]:span[1]])
	}
	i.evSlices = out
	return out, nil
}

// onEvictEmit takes the outputs of an evict call: one PAYLOAD-only record per
// window, in order, whose payload is u32 m and m ascending element indexes.
func (i *Instance) onEvictEmit(idx, tag uint32, v *record.View) error {
	want := uint32(len(i.evOut))
	if idx != want || tag != 0 || v.Flags != record.FlagPayload {
		return abiViolation(fmt.Sprintf("weir.emit: evict output %d has input index %d, tag %d and flags %#x; want input index %d, tag 0 and flags 0x04 (the payload alone)", want, idx, tag, v.Flags, want))
	}
	if int(want) >= len(i.evSizes) {
		return abiViolation(fmt.Sprintf("weir.emit: evict output %d for a call of %d windows; it emits exactly one per window", want, len(i.evSizes)))
	}
	p := v.Payload
	if len(p) < 4 {
		return abiViolation(fmt.Sprintf("weir.emit: evict output %d has a %d-byte payload, shorter than its count", want, len(p)))
	}
	m := binary.LittleEndian.Uint32(p)
	if uint64(len(p)) != 4+4*uint64(m) {
		return abiViolation(fmt.Sprintf("weir.emit: evict output %d has a %d-byte payload for %d indexes; want %d bytes", want, len(p), m, 4+4*uint64(m)))
	}
	n := i.evSizes[want]
	start := len(i.evArena)
	for k := uint32(0); k < m; k++ {
		e := binary.LittleEndian.Uint32(p[4+4*k:])
		if e >= n {
			return abiViolation(fmt.Sprintf("weir.emit: evict output %d names element %d of a window of %d", want, e, n))
		}
		if k > 0 && e <= i.evArena[len(i.evArena)-1] {
			return abiViolation(fmt.Sprintf("weir.emit: evict output %d: element indexes must be strictly ascending, but %d follows %d", want, e, i.evArena[len(i.evArena)-1]))
		}
		i.evArena = append(i.evArena, e)
	}
	i.evOut = append(i.evOut, [2]int{start, len(i.evArena)})
	return nil
}

func (f *TriggerFrame) frameBytes() []byte { return f.buf }
func (f *EvictFrame) frameBytes() []byte   { return f.buf }
