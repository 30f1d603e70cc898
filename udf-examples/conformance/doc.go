// Package conformance is Weir's UDF conformance suite: it runs the example order
// functions of every language (udf-examples/go, wat, rust, c, as, each built by
// `make examples`) through Weir's own Wasm host (package wasmhost) on the same
// batches, and compares every output with what udf-examples/README.md and
// sdk/ABI.md define: golden files written by hand from those pages
// (testdata/*.golden) and, for generated inputs, an oracle in the test written from
// the same definitions with encoding/json and math/big, independently of every SDK.
//
// languages_test.go lists the languages, one row each; adding a language is a row
// there and a Makefile rule that builds its module. `make conformance` runs it;
// `make test` does too. There is no Go API here.
package conformance
