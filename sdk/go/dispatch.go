package weir

import (
	"encoding/binary"
	"unsafe"
)

// The guest's state across calls. The host calls one instance from one goroutine
// at a time, so none of it is guarded.
var (
	// input is the buffer weir_alloc last returned. Holding it here keeps the
	// garbage collector from freeing it while the host writes into it.
	input []byte

	frame  frameWriter // the output frame, reused across batches
	record Record      // the current input record
	output Output      // the current map output
	coll   Collector   // the current flat_map collector
)

// alloc implements weir_alloc: it replaces the input buffer by one of size
// bytes. A negative size (above 2 GiB as the host's u32) gets nil, which the
// export reports as 0, out of memory. (A size the Go heap cannot satisfy makes
// the runtime abort instead: Go has no way to fail an allocation softly.)
func alloc(size int32) []byte {
	if size < 0 {
		return nil
	}
	input = nil // let the old buffer go first: the host no longer uses it
	// Never an empty buffer: its address would not be one the host can use.
	input = make([]byte, max(int(size), 1))
	return input
}

// inputAt returns the bytes [ptr, ptr+n) of guest memory if they lie inside the
// input buffer; the host never passes anything else (ABI §4).
func inputAt(ptr uintptr, n int32) ([]byte, bool) {
	if n == 0 {
		return nil, true
	}
	if n < 0 || len(input) == 0 {
		return nil, false
	}
	base := uintptr(unsafe.Pointer(unsafe.SliceData(input)))
	if ptr < base || ptr-base > uintptr(len(input)) || uintptr(n) > uintptr(len(input))-(ptr-base) {
		return nil, false
	}
	off := int(ptr - base)
	return input[off : off+int(n) : off+int(n)], true
}

// dispatch implements weir_call once the input is located.
func dispatch(callKind, fn int32, in []byte) int32 {
	sealed = true
	if fn < 0 || int(fn) >= len(registry) {
		return rcUnknownFn
	}
	f := registry[fn]
	switch callKind {
	case callOpen:
		if !validJSONObject(in) {
			return rcMalformedInput
		}
		if f.open == nil {
			return rcOK
		}
		// The input buffer is reused by later calls; the hook may keep its copy.
		return result(f.open(append([]byte(nil), in...)))
	case callProcess:
		switch f.kind {
		case kindAggregate, kindWindowProcess, kindTrigger, kindEvictor:
			return rcUnsupported
		}
		return process(f, in, callProcess)
	case callProcess2:
		if f.kind != kindCoProcess {
			return rcUnsupported
		}
		return process(f, in, callProcess2)
	case callTimer:
		return timers(f, in)
	case callWindow:
		return windows(f, in)
	case callAggregate:
		return aggregates(f, in)
	case callTrigger:
		return triggers(f, in)
	case callEvict:
		return evictions(f, in)
	case callClose:
		if len(in) != 0 {
			return rcMalformedInput
		}
		if f.close == nil {
			return rcOK
		}
		return result(f.close())
	default:
		// 0 and anything above 9 are no call kind at all.
		return rcUnsupported
	}
}

// result turns a user error into a return code, reporting its message.
func result(err error) int32 {
	if err == nil {
		return rcOK
	}
	msg := err.Error()
	if msg == "" {
		msg = "error without a message"
	}
	hostError(msg)
	return rcError
}

// process runs f over one batch and emits all its outputs at once. Nothing is
// emitted when the batch is malformed or the function fails: the task fails then.
// callKind is callProcess, or callProcess2 for the second input of a co_process
// function.
func process(f *function, in []byte, callKind int32) int32 {
	if len(in) < 4 {
		return rcMalformedInput
	}
	n := binary.LittleEndian.Uint32(in)
	// Every record takes at least its flags byte: a larger count cannot be honest.
	if uint64(n) > uint64(len(in)-4) {
		return rcMalformedInput
	}
	frame.reset()
	coll.sides = f.sideOutputs
	var rc int32
	switch f.kind {
	case kindMap:
		rc = processMap(f.mapFn, in, int(n))
	case kindFilter:
		rc = processFilter(f.filterFn, in, int(n))
	case kindFlatMap:
		rc = processFlatMap(f.flatMapFn, in, int(n))
	case kindKey:
		rc = processKeySelector(f.keyFn, in, int(n))
	case kindProcess:
		rc = processKeyed(f, f.processFn, callProcess, in, int(n))
	case kindCoProcess:
		fn := f.processFn
		if callKind == callProcess2 {
			fn = f.process2Fn
		}
		rc = processKeyed(f, fn, callKind, in, int(n))
	case kindReduce:
		rc = processReduce(f, in, int(n))
	case kindTimestamp:
		rc = processTimestamps(f.timestampFn, in, int(n))
	}
	record = Record{} // drop the views into the input buffer
	if rc == rcOK && frame.count > 0 {
		hostEmit(frame.bytes())
	}
	return rc
}

// The three loops below are the per-record path. They are written out for each
// kind, with the common case of decodeNext repeated inline, because in
// WebAssembly (as Go compiles to it) every function call, and every jump the
// common case takes to anything but the next block, costs as much as dozens of
// plain instructions; so does a write barrier check, which is why nothing in
// them stores a pointer to the heap per record. Rarer cases go to functions out
// of line.

// processMap runs a map function over the count records of in.
func processMap(fn MapFunc, in []byte, count int) int32 {
	w := &frame
	b := w.buf
	record.in = in
	off := 4
	for i := 0; i < count; i++ {
		// A payload with or without a timestamp, and nothing else, with at least
		// 13 bytes from the flags on: the flags, eight bytes that are the
		// timestamp if there is one, and the payload's length after the flags or
		// after the timestamp. Anything else goes to processMapFrom.
		if len(in)-off < 13 || in[off]&^flagTimestamp != flagPayload {
			return processMapFrom(fn, in, count, i, off, b)
		}
		h := in[off : off+13 : off+13]
		t := int(h[0]&flagTimestamp) << 2 // 8 with a timestamp, else 0
		p := off + 5 + t
		l := int(binary.LittleEndian.Uint32(h[1+t&8:]))
		if l > len(in)-p {
			return rcMalformedInput
		}
		record.index, record.flags, record.pOff, record.pEnd = i, h[0], p, p+l
		record.timestamp = int64(binary.LittleEndian.Uint64(h[1:]))
		off = p + l

		output.flags = 0
		if err := fn(&record, &output); err != nil {
			w.buf = b
			return result(err)
		}
		// The output: its header (input index, tag 0, flags, and the payload's
		// length if it has one) and its payload.
		n, pl := len(b), output.payload
		if output.flags == flagPayload && cap(b)-n >= mapHeader+len(pl) {
			b = b[:n+mapHeader+len(pl)]
			o := b[n : n+mapHeader : n+mapHeader]
			binary.LittleEndian.PutUint64(o, uint64(i))
			o[8] = flagPayload
			binary.LittleEndian.PutUint32(o[9:], uint32(len(pl)))
			copy(b[n+mapHeader:], pl)
			continue
		}
		if output.flags == 0 && cap(b)-n >= 9 {
			b = b[:n+9]
			o := b[n : n+9 : n+9]
			binary.LittleEndian.PutUint64(o, uint64(i))
			o[8] = 0
			continue
		}
		b = w.appendMapOutput(b, uint32(i), &output)
	}
	w.buf = b
	w.count = uint32(count) // one output per record
	if off != len(in) {
		return rcMalformedInput
	}
	return rcOK
}

// processMapFrom is processMap for any record, from record i at in[off] on,
// with b the frame so far.
//
//go:noinline
func processMapFrom(fn MapFunc, in []byte, count, i, off int, b []byte) int32 {
	w := &frame
	for ; i < count; i++ {
		if off = decodeNext(in, off, &record); off < 0 {
			return rcMalformedInput
		}
		record.index = i
		output.flags = 0
		if err := fn(&record, &output); err != nil {
			w.buf = b
			return result(err)
		}
		b = w.appendMapOutput(b, uint32(i), &output)
	}
	w.buf = b
	w.count = uint32(count) // one output per record
	if off != len(in) {
		return rcMalformedInput
	}
	return rcOK
}

// mapHeader is the size of the header of a map output that sets its payload:
// input index, tag, flags and payload length.
const mapHeader = 4 + 4 + 1 + 4

// appendMapOutput appends to b, the frame, the map output o of input parent.
//
//go:noinline
func (w *frameWriter) appendMapOutput(b []byte, parent uint32, o *Output) []byte {
	w.buf = b
	w.appendOutput(parent, o)
	return w.buf
}

// processFilter runs a filter function over the count records of in.
func processFilter(fn FilterFunc, in []byte, count int) int32 {
	w := &frame
	b := w.buf
	record.in = in
	off := 4
	for i := 0; i < count; i++ {
		if len(in)-off < 13 || in[off]&^flagTimestamp != flagPayload {
			return processFilterFrom(fn, in, count, i, off, b)
		}
		h := in[off : off+13 : off+13]
		t := int(h[0]&flagTimestamp) << 2
		p := off + 5 + t
		l := int(binary.LittleEndian.Uint32(h[1+t&8:]))
		if l > len(in)-p {
			return rcMalformedInput
		}
		record.index, record.flags, record.pOff, record.pEnd = i, h[0], p, p+l
		record.timestamp = int64(binary.LittleEndian.Uint64(h[1:]))
		off = p + l

		keep, err := fn(&record)
		if err != nil {
			w.buf = b
			return result(err)
		}
		if !keep {
			continue
		}
		if n := len(b); cap(b)-n >= 9 {
			b = b[:n+9]
			o := b[n : n+9 : n+9]
			binary.LittleEndian.PutUint64(o, uint64(i))
			o[8] = 0
			w.count++
			continue
		}
		b = w.appendKept(b, uint32(i))
	}
	w.buf = b
	if off != len(in) {
		return rcMalformedInput
	}
	return rcOK
}

// processFilterFrom is processFilter for any record, from record i at in[off]
// on, with b the frame so far.
//
//go:noinline
func processFilterFrom(fn FilterFunc, in []byte, count, i, off int, b []byte) int32 {
	w := &frame
	for ; i < count; i++ {
		if off = decodeNext(in, off, &record); off < 0 {
			return rcMalformedInput
		}
		record.index = i
		keep, err := fn(&record)
		if err != nil {
			w.buf = b
			return result(err)
		}
		if keep {
			b = w.appendKept(b, uint32(i))
		}
	}
	w.buf = b
	if off != len(in) {
		return rcMalformedInput
	}
	return rcOK
}

// appendKept appends to b, the frame, the output of a kept input record.
//
//go:noinline
func (w *frameWriter) appendKept(b []byte, parent uint32) []byte {
	w.buf = b
	w.appendRecord(parent, 0, 0, nil, 0, nil, nil, 0)
	return w.buf
}

// processFlatMap runs a flat_map function over the count records of in.
func processFlatMap(fn FlatMapFunc, in []byte, count int) int32 {
	off := 4
	coll.w = &frame
	for i := 0; i < count; i++ {
		if off = decodeNext(in, off, &record); off < 0 {
			return rcMalformedInput
		}
		record.index = i
		coll.parent, coll.pending = uint32(i), false
		if err := fn(&record, &coll); err != nil {
			return result(err)
		}
		coll.flush()
	}
	if off != len(in) {
		return rcMalformedInput
	}
	return rcOK
}

// keyBuf is the key buffer handed to a key selector, reused from record to record.
var keyBuf = make([]byte, 0, 64)

// processKeySelector runs a key selector over the count records of in: one
// output per record, in order, with flags KEY and the key alone (ABI §4).
func processKeySelector(fn KeySelectorFunc, in []byte, count int) int32 {
	off := 4
	w := &frame
	for i := 0; i < count; i++ {
		if off = decodeNext(in, off, &record); off < 0 {
			return rcMalformedInput
		}
		record.index = i
		k, err := fn(&record, keyBuf[:0])
		if err != nil {
			return result(err)
		}
		w.appendRecord(uint32(i), 0, flagKey, k, 0, nil, nil, 0)
		if len(k) > cap(keyBuf) {
			// Grow the SDK's own buffer rather than keep k, which may alias the
			// input: the next key of this size appends without allocating.
			keyBuf = make([]byte, 0, 2*len(k))
		}
	}
	if off != len(in) {
		return rcMalformedInput
	}
	return rcOK
}
