package weir

import "unsafe"

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
	var br batchReader
	if br.reset(in) != nil {
		return rcMalformedInput
	}
	frame.reset()
	for {
		more, err := br.read(&record)
		if err != nil {
			return rcMalformedInput
		}
		if !more {
			break
		}
		parent := uint32(record.index)
		switch f.kind {
		case kindMap:
			output.reset(0)
			if err := f.mapFn(&record, &output); err != nil {
				return result(err)
			}
			frame.appendOutput(parent, &output)
		case kindFilter:
			keep, err := f.filterFn(&record)
			if err != nil {
				return result(err)
			}
			if keep {
				frame.appendRecord(parent, 0, 0, nil, 0, nil, nil, 0)
			}
		case kindFlatMap:
			coll.w, coll.parent, coll.pending = &frame, parent, false
			if err := f.flatMapFn(&record, &coll); err != nil {
				return result(err)
			}
			coll.flush()
		}
	}
	record = Record{} // drop the views into the input buffer
	if frame.count > 0 {
		hostEmit(frame.bytes())
	}
	return rcOK
}
