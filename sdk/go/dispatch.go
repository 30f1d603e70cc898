package weir

import (
	"encoding/binary"
	"slices"
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
		return process(f, in)
	case callClose:
		if len(in) != 0 {
			return rcMalformedInput
		}
		if f.close == nil {
			return rcOK
		}
		return result(f.close())
	default:
		// process2, timer and window belong to kinds this SDK does not offer
		// yet; 0 and anything above 6 are no call kind at all.
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
func process(f *function, in []byte) int32 {
	if len(in) < 4 {
		return rcMalformedInput
	}
	n := binary.LittleEndian.Uint32(in)
	// Every record takes at least its flags byte: a larger count cannot be honest.
	if uint64(n) > uint64(len(in)-4) {
		return rcMalformedInput
	}
	frame.reset()
	var rc int32
	switch f.kind {
	case kindMap:
		rc = processMap(f.mapFn, in, int(n))
	case kindFilter:
		rc = processFilter(f.filterFn, in, int(n))
	case kindFlatMap:
		rc = processFlatMap(f.flatMapFn, in, int(n))
	}
	record = Record{} // drop the views into the input buffer
	output.payload = nil
	if rc == rcOK && frame.count > 0 {
		hostEmit(frame.bytes())
	}
	return rc
}

// The three loops below are the per-record path. They are written out for each
// kind, with the common case of decodeNext repeated inline, because in
// WebAssembly every function call, and every jump the common case takes, costs
// far more than the few instructions of the work itself.

// processMap runs a map function over the count records of in.
//
// The output's payload buffer is the free space of the frame itself, past room
// for the output's header: a payload set with SetPayload or Write lands where the
// frame wants it, and an output that sets only its payload, or nothing, is
// finished by writing its header in front of it.
func processMap(fn MapFunc, in []byte, count int) int32 {
	w := &frame
	b := w.buf
	off := 4
	for i := 0; i < count; i++ {
		if uint(off) >= uint(len(in)) {
			return rcMalformedInput
		}
		if flags := in[off]; flags&^flagTimestamp == flagPayload {
			p := off + 1
			if flags&flagTimestamp != 0 {
				if len(in)-p < 8 {
					return rcMalformedInput
				}
				record.timestamp = int64(binary.LittleEndian.Uint64(in[p:]))
				p += 8
			}
			if len(in)-p < 4 {
				return rcMalformedInput
			}
			l := int(binary.LittleEndian.Uint32(in[p:]))
			p += 4
			if l > len(in)-p {
				return rcMalformedInput
			}
			record.flags = flags
			record.payload = in[p : p+l : p+l]
			off = p + l
		} else if off = decodeRecord(in, off, &record); off < 0 {
			return rcMalformedInput
		}
		record.index = i

		n := len(b)
		if cap(b)-n < w.reserve {
			b = slices.Grow(b, w.reserve)
		}
		output.flags = 0
		output.payload = b[n+mapHeader : n+mapHeader]
		if err := fn(&record, &output); err != nil {
			w.buf = b
			return result(err)
		}
		switch {
		case output.flags == 0:
			b = b[:n+9]
			binary.LittleEndian.PutUint64(b[n:], uint64(uint32(i)))
			b[n+8] = 0
		case output.flags == flagPayload && unsafe.SliceData(output.payload) == unsafe.SliceData(b[n+mapHeader:n+mapHeader]):
			l := len(output.payload)
			b = b[:n+mapHeader+l]
			binary.LittleEndian.PutUint64(b[n:], uint64(uint32(i)))
			b[n+8] = flagPayload
			binary.LittleEndian.PutUint32(b[n+9:], uint32(l))
		default:
			b = w.appendMoved(b, uint32(i), &output)
		}
		w.count++
	}
	w.buf = b
	if off != len(in) {
		return rcMalformedInput
	}
	return rcOK
}

// processFilter runs a filter function over the count records of in.
func processFilter(fn FilterFunc, in []byte, count int) int32 {
	w := &frame
	b := w.buf
	off := 4
	for i := 0; i < count; i++ {
		if uint(off) >= uint(len(in)) {
			return rcMalformedInput
		}
		if flags := in[off]; flags&^flagTimestamp == flagPayload {
			p := off + 1
			if flags&flagTimestamp != 0 {
				if len(in)-p < 8 {
					return rcMalformedInput
				}
				record.timestamp = int64(binary.LittleEndian.Uint64(in[p:]))
				p += 8
			}
			if len(in)-p < 4 {
				return rcMalformedInput
			}
			l := int(binary.LittleEndian.Uint32(in[p:]))
			p += 4
			if l > len(in)-p {
				return rcMalformedInput
			}
			record.flags = flags
			record.payload = in[p : p+l : p+l]
			off = p + l
		} else if off = decodeRecord(in, off, &record); off < 0 {
			return rcMalformedInput
		}
		record.index = i

		keep, err := fn(&record)
		if err != nil {
			w.buf = b
			return result(err)
		}
		if keep {
			n := len(b)
			if cap(b)-n < 9 {
				b = slices.Grow(b, 9)
			}
			b = b[:n+9]
			binary.LittleEndian.PutUint64(b[n:], uint64(uint32(i)))
			b[n+8] = 0
			w.count++
		}
	}
	w.buf = b
	if off != len(in) {
		return rcMalformedInput
	}
	return rcOK
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
