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
