// Package wasmhost runs user-defined functions compiled to WebAssembly under the
// Weir ABI (sdk/ABI.md) in wazero sandboxes.
//
// A Runtime is created once per process that runs or validates UDFs (a worker, the
// control plane's upload validation). It owns one wazero runtime with a compilation
// cache, so a module is compiled once and instantiated many times, and it bounds how
// many guest calls run at once: Go cannot preempt Wasm machine code, so at most
// MaxConcurrentCalls (default GOMAXPROCS-1, at least 1) guests run while the remaining
// processor keeps heartbeats and network I/O alive.
//
// A Module is a compiled, validated module and its Description. An Instance is one
// sandbox of a module, owned by one subtask: it is not safe for concurrent use. Every
// instance has its own linear memory capped at Limits.Memory and every call is
// interrupted after Limits.CallTimeout; an interrupted instance is closed and must be
// replaced (Instance.Broken reports it).
//
// Guests see WASI preview 1 without file system, network, environment, arguments,
// real clock or real randomness. Their stdout and stderr go to the log; the tail of
// stderr is attached to call errors so that, for example, a Go panic message reaches
// the user.
//
// Calls move whole batches (record.Batch frames): one guest call per batch, never one
// per record, and no allocation per record on the host side.
package wasmhost
