package conformance_test

// A language is one build of the order functions. Every row must implement enrich
// (map), positive (filter), fail (map) and customer (key_selector) as
// udf-examples/README.md defines them.
type language struct {
	// name names the sub-tests and benchmarks.
	name string
	// module is the file `make examples` builds into build/wasm (WEIR_TEST_WASM_DIR).
	module string
	// config says whether enrich reads the step's config ("field", "factor"); a
	// module that ignores it (the WAT one, by its definition) is tested with the
	// default config only, and the suite logs that it did so.
	config bool
	// counter is the file of the language's keyed-state example, which has
	// count (process) as udf-examples/README.md defines it; "" when it has none.
	counter string
}

// languages are the modules the suite holds to the definitions, the Go one first:
// it is the baseline of the benchmarks.
var languages = []language{
	{name: "go", module: "orders.wasm", config: true, counter: "counter.wasm"},
	{name: "wat", module: "orders_wat.wasm", config: false},
	{name: "rust", module: "orders_rust.wasm", config: true, counter: "counter_rust.wasm"},                // wasm32-unknown-unknown
	{name: "rust-wasi", module: "orders_rust_wasi.wasm", config: true, counter: "counter_rust_wasi.wasm"}, // wasm32-wasi
	{name: "c", module: "orders_c.wasm", config: true, counter: "counter_c.wasm"},                         // --target=wasm32, freestanding
	{name: "c-wasi", module: "orders_c_wasi.wasm", config: true, counter: "counter_c_wasi.wasm"},          // --target=wasm32-wasi reactor
	{name: "as", module: "orders_as.wasm", config: true, counter: "counter_as.wasm"},                      // AssemblyScript 0.28, incremental runtime
}
