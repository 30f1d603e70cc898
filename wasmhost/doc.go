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
//
// An Instance serves one function and offers the calls its kind takes (sdk/ABI.md
// §4): Process for every record-at-a-time kind and a co_process function's first
// input, Process2 for its second input, Timer for process and co_process
// functions, Aggregate, Window, Trigger (TriggerFrame in, one TriggerAction per
// event out) and Evict (EvictFrame in, ascending element indexes per window out).
// A guest's answer that breaks the ABI fails the call with a CallError of kind
// FailureABI; after an error from an import (a bad frame, a state failure) or a
// trap the instance is broken. Every result is owned by the instance and valid
// until its next call.
//
// Process, Process2, Timer and Window calls return their main output (tag 0); what
// the function emitted to its declared side outputs is in SideOutputs, one batch per
// side output in description order (tag k+1 is SideOutputs()[k]), with inherited
// fields filled in as for the main output. Side outputs are emptied at every call
// and empty after a failed one. Aggregate, trigger and evict calls have no side
// outputs.
//
// The state and timer imports act only in process calls of process, reduce and
// co_process functions, process2 calls of co_process functions and timer calls,
// for the key of the record they name. When SetBroadcastSecond(true) says a
// co_process function's second input is broadcast, its process2 calls may write
// broadcast state (StateBroadcast) and get INVALID from keyed state and timers;
// every other call only reads broadcast state.
package wasmhost
