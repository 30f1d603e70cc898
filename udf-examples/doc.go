// Package udfexamples holds Weir's example UDF modules and the tests that run
// them on raw wazero against sdk/ABI.md: go/ (the Go module orders, with its
// own go.mod), wat/ (the same functions written by hand in WebAssembly text,
// the smallest complete module and faulty modules for tests) and a Makefile
// that builds them all into build/wasm. There is no Go API here.
package udfexamples
