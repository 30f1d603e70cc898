// Package udfexamples holds Weir's example UDF modules and the tests that run
// them on raw wazero against sdk/ABI.md: go/ (the Go module orders, with its
// own go.mod), wat/ (the same functions written by hand in WebAssembly text,
// the smallest complete module and faulty modules for tests), rust/ and c/
// (the same functions with the Rust and C SDKs) and a Makefile that builds
// them all into build/wasm. The conformance suite that holds every language to
// the definitions in README.md through Weir's host is the package conformance.
// There is no Go API here.
package udfexamples
