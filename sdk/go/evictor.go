package weir

import (
	"encoding/binary"
	"strconv"
)

// EvictorFunc chooses the elements to remove from a window before its function
// runs (Flink's Evictor.evictBefore): it appends their indexes in elements, in
// ascending order, to evict, an empty buffer the SDK reuses from window to
// window, and returns the result (so the usual answer, built with append,
// allocates nothing once the buffer has grown). w and elements are as a
// [WindowProcessFunc] gets them, valid only during the call.
type EvictorFunc func(w *Window, elements []*Record, evict []int) ([]int, error)

// Evictor registers an evictor function, a window step's `evictor: {module,
// function}` (ABI §4.10). The host calls it with every window about to fire,
// many in one call; the SDK calls fn once per window. Indexes that are not
// ascending, repeat or are out of range fail the call. An evictor takes OnOpen
// and OnClose, no side outputs and no state.
func Evictor(name string, fn EvictorFunc, opts ...Option) {
	if fn == nil {
		panic("weir: " + name + ": nil function")
	}
	register(&function{name: name, kind: kindEvictor, evictorFn: fn}, opts)
}

// evictBuf is the index buffer handed to an evictor, and evictPayload the
// payload its answer is encoded into; both are reused from window to window.
var (
	evictBuf     = make([]int, 0, 64)
	evictPayload []byte
)

// evictions runs an evict call (ABI §4.10): one output per window, in window
// order, whose PAYLOAD is u32 m and m ascending u32 indexes.
func evictions(f *function, in []byte) int32 {
	if f.kind != kindEvictor {
		return rcUnsupported
	}
	r := &aggReader{b: in}
	count := r.u32()
	// Every window takes at least start, end, key length and element count.
	if r.bad || uint64(count)*24 > uint64(len(in)-r.off) {
		return rcMalformedInput
	}
	frame.reset()
	rc := evictCalls(f, r, count)
	clear(windowRecords) // drop the views into the input buffer
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

// evictCalls calls f for each of the count windows of r into frame.
func evictCalls(f *function, r *aggReader, count uint32) int32 {
	w := &firedWindow
	defer func() { *w = Window{} }() // its key is a view of the input
	for i := uint32(0); i < count; i++ {
		els, ok := r.window(w)
		if !ok {
			return rcMalformedInput
		}
		idx, err := f.evictorFn(w, els, evictBuf[:0])
		if err != nil {
			return result(err)
		}
		p := binary.LittleEndian.AppendUint32(evictPayload[:0], uint32(len(idx)))
		prev := -1
		for _, x := range idx {
			if x <= prev || x >= len(els) {
				return result(&evictIndexError{fn: f.name, index: x, prev: prev, n: len(els)})
			}
			p = binary.LittleEndian.AppendUint32(p, uint32(x))
			prev = x
		}
		frame.appendRecord(i, 0, flagPayload, nil, 0, p, nil, 0)
		evictPayload = p
		if cap(idx) > cap(evictBuf) {
			// Grow the SDK's own buffer rather than keep idx, which may be the
			// function's: the next answer of this size appends without
			// allocating.
			evictBuf = make([]int, 0, cap(idx))
		}
	}
	return rcOK
}

// evictIndexError is the error of an evictor that answered a bad index.
type evictIndexError struct {
	fn             string
	index, prev, n int
}

func (e *evictIndexError) Error() string {
	s := "evictor " + strconv.Quote(e.fn) + ": index " + strconv.Itoa(e.index)
	if e.index >= 0 && e.index <= e.prev {
		return s + " after " + strconv.Itoa(e.prev) + ": indexes must be ascending, without repeats (ABI §4.10)"
	}
	return s + " out of range for " + strconv.Itoa(e.n) + " elements"
}
