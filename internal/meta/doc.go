// Package meta names where Weir keeps what must outlive a process, all in NATS
// JetStream: a KV bucket for metadata (module names, job records and their progress)
// and an Object Store bucket for Wasm modules, stored by sha256 digest. Control and
// workers both use it: the control plane writes, workers fetch modules by digest.
package meta
