// Package e2e holds Weir's end-to-end tests: they start the real `weir standalone`
// binary on free ports with a fresh data directory, talk to it through its REST API
// and NATS, and check what reaches the sink streams. `make test` builds the binary
// and the Wasm modules first and runs this package with -p 1.
package e2e
