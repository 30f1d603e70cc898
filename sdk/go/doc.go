// Package weir is the Go SDK for Weir user-defined functions (UDFs).
//
// A UDF module is a Go main package built for WASI preview 1 as a reactor:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -trimpath -ldflags=-s -o udf.wasm .
//
// It registers its functions from init and leaves main empty; this package holds
// the exports and imports of the Weir ABI (sdk/ABI.md, version 1), so importing it
// is all a module needs to do:
//
//	func init() {
//		weir.Map("enrich", enrich, weir.OnOpen(configure))
//		weir.Filter("positive", positive)
//		weir.FlatMap("split", split)
//		weir.KeySelector("customer", customer)
//		weir.Process("count", count, weir.State(counts))
//		weir.Reduce("sum", sum)
//		weir.Process("timeout", timeout, weir.State(last), weir.OnTimer(onTimeout))
//		weir.Aggregate("stats", weir.AggregateFuncs{Create: create, Add: add, Merge: merge, Result: result})
//		weir.WindowProcess("top3", top3)
//		weir.CoProcess("fraud", checkTxn, updateRule, weir.State(rules), weir.SideOutputs("clean"))
//		weir.Trigger("eager", eager)
//		weir.Evictor("drop_negative", dropNegative)
//	}
//
//	func main() {}
//
// # Contract
//
// Functions are numbered in registration order: the first registered function has
// index 0 in the module's description. Registration is only allowed during package
// initialisation; a name that is invalid or taken panics, which fails the module's
// instantiation, so mistakes surface at upload.
//
// The host hands the guest one batch of records per call. The SDK decodes the batch
// in place, calls the user function once per record and emits all outputs of the
// batch in a single weir.emit call. Every buffer involved (the input buffer, the
// output frame, each Output's fields) is reused from batch to batch, so the
// per-record path allocates nothing unless the user function does.
//
// A [Record] and every slice obtained from it are views into the input buffer: they
// are valid only until the user function returns. Copy what must be kept. An
// [Output] and a [Collector] are likewise only valid during the call that received
// them.
//
// A user function that returns an error fails the call: the SDK reports the
// error's text through weir.error and returns 1, and the host fails the task. A
// panic is not recovered: the Go runtime prints it, with the goroutine's stack,
// to stderr and aborts, which is a trap (unreachable) in a c-shared module; the
// host attaches the end of stderr to the task failure and discards the instance.
//
// A process function reads and writes keyed state, the state of the current
// record's key in Weir (checkpointed and restored with the job), through handles
// declared once as package variables ([NewValueState], [NewListState],
// [NewMapState]) and given to it with [State]. A reduce function only combines
// two values; the SDK keeps the running value in keyed state (ABI §4.1).
//
// Window steps and timers (ABI §4.4–4.6) batch too: a timer call hands a
// process function's [OnTimer] callback every fired timer of one advance, an
// aggregate call hands an [Aggregate] (or a [Reduce]) function many windows'
// accumulators, a window call hands a [WindowProcess] function many fired
// windows; each is one guest call, answered with one weir.emit.
//
// The ABI's later additions (§4.7–4.10) follow the same rules: a [CoProcess]
// function has one handler per input, sharing keyed state and timers, and
// reads and writes a [BroadcastState] (written from the broadcast second input
// only); a [Trigger] answers many trigger events, an [Evictor] many windows,
// in one call each.
//
// Everything runs on one goroutine; the package is not safe for concurrent use and
// needs not be, since the host never calls an instance concurrently.
//
// Outside wasip1 (for example under a plain `go test`) the package builds with
// stand-ins for the host imports, so the JSON helpers and user functions can be
// unit-tested natively; weir.Log then writes to stderr.
package weir
