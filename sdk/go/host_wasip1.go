//go:build wasip1

package weir

import "unsafe"

// The guest side of the ABI: the exports the host calls and the imports it
// provides (sdk/ABI.md §1). The Go linker exports these from whichever package
// declares them, so a UDF's main package only has to import this one.

//go:wasmexport weir_abi_version
func weirABIVersion() int32 { return abiVersion }

//go:wasmexport weir_alloc
func weirAlloc(size int32) int32 {
	b := alloc(size)
	if b == nil {
		return 0
	}
	return int32(uintptr(unsafe.Pointer(unsafe.SliceData(b))))
}

//go:wasmexport weir_describe
func weirDescribe() int64 {
	d := describe() // kept alive by the package variable description
	return int64(uintptr(unsafe.Pointer(unsafe.SliceData(d))))<<32 | int64(len(d))
}

//go:wasmexport weir_call
func weirCall(callKind, fn, inPtr, inLen int32) int32 {
	in, ok := inputAt(uintptr(uint32(inPtr)), inLen)
	if !ok {
		return rcMalformedInput
	}
	return dispatch(callKind, fn, in)
}

//go:wasmimport weir emit
func weirEmit(ptr unsafe.Pointer, n uint32)

//go:wasmimport weir error
func weirError(ptr unsafe.Pointer, n uint32)

//go:wasmimport weir log
func weirLog(level int32, ptr unsafe.Pointer, n uint32)

func hostEmit(b []byte) { weirEmit(unsafe.Pointer(unsafe.SliceData(b)), uint32(len(b))) }

func hostError(msg string) { weirError(unsafe.Pointer(unsafe.StringData(msg)), uint32(len(msg))) }

func hostLog(level int32, msg string) {
	weirLog(level, unsafe.Pointer(unsafe.StringData(msg)), uint32(len(msg)))
}

//go:wasmimport weir state_get
func weirStateGet(state, record int32, subPtr unsafe.Pointer, subLen uint32, outPtr unsafe.Pointer, outCap uint32) int32

//go:wasmimport weir state_put
func weirStatePut(state, record int32, subPtr unsafe.Pointer, subLen uint32, valPtr unsafe.Pointer, valLen uint32) int32

//go:wasmimport weir state_append
func weirStateAppend(state, record int32, valPtr unsafe.Pointer, valLen uint32) int32

//go:wasmimport weir state_delete
func weirStateDelete(state, record int32, subPtr unsafe.Pointer, subLen uint32) int32

//go:wasmimport weir state_iter
func weirStateIter(state, record, cursor int32, outPtr unsafe.Pointer, outCap uint32) int32

//go:wasmimport weir task_info
func weirTaskInfo(outPtr unsafe.Pointer, outCap uint32) int32

// ptr is the address of b's first byte, nil for an empty slice without one.
func ptr(b []byte) unsafe.Pointer { return unsafe.Pointer(unsafe.SliceData(b)) }

// The state calls pass out buffers by their full length: the host writes at
// most len(out) bytes and returns the value's length either way.

func hostStateGet(state, record int32, sub, out []byte) int32 {
	return weirStateGet(state, record, ptr(sub), uint32(len(sub)), ptr(out), uint32(len(out)))
}

func hostStatePut(state, record int32, sub, val []byte) int32 {
	return weirStatePut(state, record, ptr(sub), uint32(len(sub)), ptr(val), uint32(len(val)))
}

func hostStateAppend(state, record int32, val []byte) int32 {
	return weirStateAppend(state, record, ptr(val), uint32(len(val)))
}

func hostStateDelete(state, record int32, sub []byte) int32 {
	return weirStateDelete(state, record, ptr(sub), uint32(len(sub)))
}

func hostStateIter(state, record, cursor int32, out []byte) int32 {
	return weirStateIter(state, record, cursor, ptr(out), uint32(len(out)))
}

func hostTaskInfo(out []byte) int32 { return weirTaskInfo(ptr(out), uint32(len(out))) }

//go:wasmimport weir timer_register
func weirTimerRegister(domain, record int32, time int64) int32

//go:wasmimport weir timer_delete
func weirTimerDelete(domain, record int32, time int64) int32

//go:wasmimport weir current_watermark
func weirCurrentWatermark() int64

//go:wasmimport weir current_time
func weirCurrentTime() int64

func hostTimerRegister(domain, record int32, t int64) int32 {
	return weirTimerRegister(domain, record, t)
}
func hostTimerDelete(domain, record int32, t int64) int32 { return weirTimerDelete(domain, record, t) }
func hostCurrentWatermark() int64                         { return weirCurrentWatermark() }
func hostCurrentTime() int64                              { return weirCurrentTime() }
