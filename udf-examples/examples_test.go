// Package udfexamples_test checks the example and test UDF modules against
// sdk/ABI.md with raw wazero, independently of Weir's own host (wasmhost): it
// is a second, minimal host written from the ABI page alone.
//
// The modules are built by `make examples` (udf-examples/Makefile) into
// build/wasm; WEIR_TEST_WASM_DIR points elsewhere. WEIR_TEST_WASM_CACHE, when
// set, is a directory for wazero's compilation cache, shared by test processes.
package udfexamples_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"
)

// ABI constants (sdk/ABI.md).
const (
	callOpen     = 1
	callProcess  = 2
	callProcess2 = 3
	callTimer    = 4
	callWindow   = 5
	callClose    = 6

	rcOK          = 0
	rcError       = 1
	rcUnknownFn   = 2
	rcUnsupported = 3
	rcMalformed   = 4

	flagKey       = 0x01
	flagTimestamp = 0x02
	flagPayload   = 0x04
	flagHeaders   = 0x08

	unsupported = -2 // what the reserved imports return in v1
)

func wasmPath(t testing.TB, name string) string {
	t.Helper()
	dir := os.Getenv("WEIR_TEST_WASM_DIR")
	if dir == "" {
		dir = filepath.Join("..", "build", "wasm")
	}
	p := filepath.Join(dir, name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("%s is missing: run `make examples` (or `make -C udf-examples`) first", p)
	}
	return p
}

// ---------------------------------------------------------------- the host

// callState collects what a guest hands the host during one weir_call. It
// travels in the call's context, which wazero passes to host functions.
type callState struct {
	frames  [][]byte
	errMsg  *string
	logs    []string
	process bool // whether emit is allowed: inside process
	misuse  []string
}

type stateKey struct{}

func stateOf(ctx context.Context) *callState {
	st, _ := ctx.Value(stateKey{}).(*callState)
	if st == nil {
		st = &callState{} // a call outside any weir_call (e.g. _initialize)
	}
	return st
}

func read(mod api.Module, ptr, n uint32) []byte {
	b, ok := mod.Memory().Read(ptr, n)
	if !ok {
		panic(fmt.Sprintf("guest passed [%d, +%d) outside its memory", ptr, n))
	}
	return bytes.Clone(b) // the view dies when the guest grows its memory
}

// newRuntime builds a runtime with WASI (no file system, environment or
// arguments: wazero's defaults) and the module weir.
func newRuntime(t testing.TB, cfg wazero.RuntimeConfig) wazero.Runtime {
	t.Helper()
	ctx := context.Background()
	if c := compilationCache(t); c != nil {
		cfg = cfg.WithCompilationCache(c)
	}
	r := wazero.NewRuntimeWithConfig(ctx, cfg)
	wasi_snapshot_preview1.MustInstantiate(ctx, r)
	if err := instantiateWeir(ctx, r); err != nil {
		t.Fatal(err)
	}
	return r
}

// compilationCache returns the cache in WEIR_TEST_WASM_CACHE, or nil. Compiling
// orders.wasm takes about a second; cached, a few tens of milliseconds. The key
// of a cached module covers the runtime settings that change its code, such as
// WithCloseOnContextDone.
func compilationCache(t testing.TB) wazero.CompilationCache {
	cacheOnce.Do(func() {
		dir := os.Getenv("WEIR_TEST_WASM_CACHE")
		if dir == "" {
			return
		}
		// It holds executable code: keep it private.
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Logf("no compilation cache: %v", err)
			return
		}
		c, err := wazero.NewCompilationCacheWithDir(dir)
		if err != nil {
			t.Logf("no compilation cache: %v", err)
			return
		}
		cache = c
	})
	return cache
}

var (
	cacheOnce sync.Once
	cache     wazero.CompilationCache
)

func instantiateWeir(ctx context.Context, r wazero.Runtime) error {
	i32, i64 := api.ValueTypeI32, api.ValueTypeI64
	b := r.NewHostModuleBuilder("weir")
	fn := func(name string, params, results []api.ValueType, f api.GoModuleFunc) {
		b.NewFunctionBuilder().WithGoModuleFunction(f, params, results).Export(name)
	}
	fn("emit", []api.ValueType{i32, i32}, nil, func(ctx context.Context, mod api.Module, stack []uint64) {
		st := stateOf(ctx)
		if !st.process {
			st.misuse = append(st.misuse, "emit outside process")
		}
		st.frames = append(st.frames, read(mod, api.DecodeU32(stack[0]), api.DecodeU32(stack[1])))
	})
	fn("error", []api.ValueType{i32, i32}, nil, func(ctx context.Context, mod api.Module, stack []uint64) {
		msg := string(read(mod, api.DecodeU32(stack[0]), api.DecodeU32(stack[1])))
		stateOf(ctx).errMsg = &msg
	})
	fn("log", []api.ValueType{i32, i32, i32}, nil, func(ctx context.Context, mod api.Module, stack []uint64) {
		st := stateOf(ctx)
		msg := read(mod, api.DecodeU32(stack[1]), api.DecodeU32(stack[2]))
		st.logs = append(st.logs, fmt.Sprintf("%d %s", api.DecodeI32(stack[0]), msg))
	})
	// The reserved imports: present so that modules importing them instantiate,
	// all UNSUPPORTED in v1.
	reserved := func(name string, params []api.ValueType, result api.ValueType) {
		fn(name, params, []api.ValueType{result}, func(_ context.Context, _ api.Module, stack []uint64) {
			if result == i64 {
				stack[0] = api.EncodeI64(unsupported)
			} else {
				stack[0] = api.EncodeI32(unsupported)
			}
		})
	}
	reserved("state_get", []api.ValueType{i32, i32, i32, i32, i32, i32}, i32)
	reserved("state_put", []api.ValueType{i32, i32, i32, i32, i32, i32}, i32)
	reserved("state_append", []api.ValueType{i32, i32, i32, i32}, i32)
	reserved("state_delete", []api.ValueType{i32, i32, i32, i32}, i32)
	reserved("state_iter", []api.ValueType{i32, i32, i32, i32, i32}, i32)
	reserved("timer_register", []api.ValueType{i32, i32, i64}, i32)
	reserved("timer_delete", []api.ValueType{i32, i32, i64}, i32)
	reserved("current_watermark", nil, i64)
	reserved("current_time", nil, i64)
	_, err := b.Instantiate(ctx)
	return err
}

// shared is the runtime most tests use, compiled modules cached in it.
var shared struct {
	once     sync.Once
	r        wazero.Runtime
	mu       sync.Mutex
	compiled map[string]wazero.CompiledModule
}

func sharedRuntime(t testing.TB) wazero.Runtime {
	shared.once.Do(func() {
		shared.r = newRuntime(t, wazero.NewRuntimeConfig())
		shared.compiled = map[string]wazero.CompiledModule{}
	})
	return shared.r
}

func compile(t testing.TB, r wazero.Runtime, name string) wazero.CompiledModule {
	t.Helper()
	if r == shared.r {
		shared.mu.Lock()
		defer shared.mu.Unlock()
		if c, ok := shared.compiled[name]; ok {
			return c
		}
	}
	bin, err := os.ReadFile(wasmPath(t, name))
	if err != nil {
		t.Fatal(err)
	}
	c, err := r.CompileModule(context.Background(), bin)
	if err != nil {
		t.Fatalf("compiling %s: %v", name, err)
	}
	if r == shared.r {
		shared.compiled[name] = c
	}
	return c
}

// ---------------------------------------------------------------- an instance

type description struct {
	ABIVersion int    `json:"abi_version"`
	SDK        string `json:"sdk"`
	Functions  []struct {
		Name        string   `json:"name"`
		Kind        string   `json:"kind"`
		Index       int32    `json:"index"`
		SideOutputs []string `json:"side_outputs"`
	} `json:"functions"`
}

type instance struct {
	name     string
	mod      api.Module
	stderr   *bytes.Buffer
	alloc    api.Function
	call     api.Function
	buf, cap uint32 // the input buffer weir_alloc returned
	desc     description
}

// instantiate makes a reactor instance of a module (running _initialize if
// it has one) and reads its description.
func instantiate(t testing.TB, r wazero.Runtime, name string) *instance {
	t.Helper()
	inst := instantiateRaw(t, r, name)
	raw := inst.describe(t)
	if err := json.Unmarshal(raw, &inst.desc); err != nil {
		t.Fatalf("%s: description %q: %v", name, raw, err)
	}
	if inst.desc.ABIVersion != 1 {
		t.Fatalf("%s: description says abi_version %d", name, inst.desc.ABIVersion)
	}
	return inst
}

func instantiateRaw(t testing.TB, r wazero.Runtime, name string) *instance {
	t.Helper()
	c := compile(t, r, name)
	var stdout, stderr bytes.Buffer
	cfg := wazero.NewModuleConfig().WithName("").WithStartFunctions("_initialize").
		WithStdout(&stdout).WithStderr(&stderr)
	mod, err := r.InstantiateModule(context.Background(), c, cfg)
	if err != nil {
		t.Fatalf("instantiating %s: %v (stderr: %s)", name, err, stderr.Bytes())
	}
	t.Cleanup(func() { mod.Close(context.Background()) })
	return &instance{name: name, mod: mod, stderr: &stderr,
		alloc: mod.ExportedFunction("weir_alloc"), call: mod.ExportedFunction("weir_call")}
}

func (in *instance) describe(t testing.TB) []byte {
	t.Helper()
	res, err := in.mod.ExportedFunction("weir_describe").Call(context.Background())
	if err != nil {
		t.Fatalf("%s: weir_describe: %v", in.name, err)
	}
	return read(in.mod, uint32(res[0]>>32), uint32(res[0]))
}

// fn returns the index of the function called name.
func (in *instance) fn(t testing.TB, name, kind string) int32 {
	t.Helper()
	for _, f := range in.desc.Functions {
		if f.Name == name {
			if f.Kind != kind {
				t.Fatalf("%s: %s is a %s, want %s", in.name, name, f.Kind, kind)
			}
			return f.Index
		}
	}
	t.Fatalf("%s: no function %s", in.name, name)
	return 0
}

type result struct {
	rc     int32
	frames [][]byte
	errMsg *string
	logs   []string
}

// do runs one weir_call, first copying input into the guest's input buffer
// (asking weir_alloc for a bigger one when needed, as the host does).
func (in *instance) do(ctx context.Context, t testing.TB, kind, fn int32, input []byte) (result, error) {
	t.Helper()
	if uint32(len(input)) > in.cap || in.buf == 0 {
		res, err := in.alloc.Call(ctx, uint64(len(input)))
		if err != nil {
			return result{}, fmt.Errorf("weir_alloc: %w", err)
		}
		if res[0] == 0 {
			t.Fatalf("%s: weir_alloc(%d) returned 0", in.name, len(input))
		}
		in.buf, in.cap = uint32(res[0]), uint32(len(input))
	}
	if !in.mod.Memory().Write(in.buf, input) {
		t.Fatalf("%s: input buffer [%d, +%d) outside memory", in.name, in.buf, len(input))
	}
	st := &callState{process: kind == callProcess}
	res, err := in.call.Call(context.WithValue(ctx, stateKey{}, st), uint64(kind), uint64(fn), uint64(in.buf), uint64(len(input)))
	if err != nil {
		return result{}, err
	}
	if len(st.misuse) > 0 {
		t.Errorf("%s: %v", in.name, st.misuse)
	}
	return result{rc: api.DecodeI32(res[0]), frames: st.frames, errMsg: st.errMsg, logs: st.logs}, nil
}

// mustDo is do for calls that must not trap.
func (in *instance) mustDo(t testing.TB, kind, fn int32, input []byte) result {
	t.Helper()
	res, err := in.do(context.Background(), t, kind, fn, input)
	if err != nil {
		t.Fatalf("%s: weir_call(%d, %d): %v (stderr: %s)", in.name, kind, fn, err, in.stderr.Bytes())
	}
	return res
}

// process runs a batch through function fn and returns its outputs, failing
// the test unless the call succeeds with exactly one emit (or none, for no
// outputs).
func (in *instance) process(t testing.TB, fn int32, batch []byte) []output {
	t.Helper()
	res := in.mustDo(t, callProcess, fn, batch)
	if res.rc != rcOK {
		msg := "<none>"
		if res.errMsg != nil {
			msg = *res.errMsg
		}
		t.Fatalf("%s: process: rc %d, error %s", in.name, res.rc, msg)
	}
	switch len(res.frames) {
	case 0:
		return nil
	case 1:
		return decodeOutputs(t, res.frames[0])
	}
	t.Fatalf("%s: %d emits for one batch", in.name, len(res.frames))
	return nil
}

// ---------------------------------------------------------------- frames

type record struct {
	Flags     byte
	Key       string
	Timestamp int64
	Payload   string
	Headers   [][2]string
}

func appendRecord(b []byte, r record) []byte {
	b = append(b, r.Flags)
	str := func(s string) {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(s)))
		b = append(b, s...)
	}
	if r.Flags&flagKey != 0 {
		str(r.Key)
	}
	if r.Flags&flagTimestamp != 0 {
		b = binary.LittleEndian.AppendUint64(b, uint64(r.Timestamp))
	}
	if r.Flags&flagPayload != 0 {
		str(r.Payload)
	}
	if r.Flags&flagHeaders != 0 {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(r.Headers)))
		for _, h := range r.Headers {
			str(h[0])
			str(h[1])
		}
	}
	return b
}

func batch(recs ...record) []byte {
	b := binary.LittleEndian.AppendUint32(nil, uint32(len(recs)))
	for _, r := range recs {
		b = appendRecord(b, r)
	}
	return b
}

func payloads(ps ...string) []byte {
	recs := make([]record, len(ps))
	for i, p := range ps {
		recs[i] = record{Flags: flagPayload, Payload: p}
	}
	return batch(recs...)
}

type output struct {
	Parent, Tag uint32
	record
}

// decodeOutputs reads an output frame as the host does, refusing any length
// that runs past the end.
func decodeOutputs(t testing.TB, b []byte) []output {
	t.Helper()
	fail := func() { t.Fatalf("malformed output frame %q", b) }
	p := b
	u32 := func() uint32 {
		if len(p) < 4 {
			fail()
		}
		v := binary.LittleEndian.Uint32(p)
		p = p[4:]
		return v
	}
	str := func() string {
		n := u32()
		if uint32(len(p)) < n {
			fail()
		}
		s := string(p[:n])
		p = p[n:]
		return s
	}
	n := u32()
	if uint64(n) > uint64(len(p)) {
		fail()
	}
	outs := make([]output, n)
	for i := range outs {
		o := &outs[i]
		o.Parent, o.Tag = u32(), u32()
		if len(p) < 1 {
			fail()
		}
		o.Flags, p = p[0], p[1:]
		if o.Flags&0xF0 != 0 {
			fail()
		}
		if o.Flags&flagKey != 0 {
			o.Key = str()
		}
		if o.Flags&flagTimestamp != 0 {
			if len(p) < 8 {
				fail()
			}
			o.Timestamp, p = int64(binary.LittleEndian.Uint64(p)), p[8:]
		}
		if o.Flags&flagPayload != 0 {
			o.Payload = str()
		}
		if o.Flags&flagHeaders != 0 {
			for k := u32(); k > 0; k-- {
				o.Headers = append(o.Headers, [2]string{str(), str()})
			}
		}
	}
	if len(p) != 0 {
		fail()
	}
	return outs
}

// resolve applies inheritance (ABI §5): the record an output stands for.
func resolve(t testing.TB, in []record, o output) record {
	t.Helper()
	var r record
	if o.Parent != 0xFFFFFFFF {
		if int(o.Parent) >= len(in) {
			t.Fatalf("output names input %d of %d", o.Parent, len(in))
		}
		r = in[o.Parent]
	} else {
		r = record{Flags: flagPayload}
	}
	if o.Flags&flagKey != 0 {
		r.Flags, r.Key = r.Flags|flagKey, o.Key
	}
	if o.Flags&flagTimestamp != 0 {
		r.Flags, r.Timestamp = r.Flags|flagTimestamp, o.Timestamp
	}
	if o.Flags&flagPayload != 0 {
		r.Flags, r.Payload = r.Flags|flagPayload, o.Payload
	}
	if o.Flags&flagHeaders != 0 {
		r.Flags, r.Headers = r.Flags|flagHeaders, o.Headers
	}
	return r
}

// ---------------------------------------------------------------- the modules

// orderModules are the implementations of the order functions; the first, Go's,
// is the reference the others are compared with.
var orderModules = []string{"orders.wasm", "orders_wat.wasm", "orders_as.wasm"}

// nativeModules are the order functions built with the Rust and C SDKs. The
// conformance suite (conformance/) checks their outputs through wasmhost; here
// they get the raw checks a host cannot make: shape, return codes on bad input.
var nativeModules = []string{"orders_rust.wasm", "orders_rust_wasi.wasm", "orders_c.wasm", "orders_c_wasi.wasm"}

func TestModuleShape(t *testing.T) {
	r := sharedRuntime(t)
	i32, i64 := api.ValueTypeI32, api.ValueTypeI64
	want := map[string][2][]api.ValueType{
		"weir_abi_version": {nil, {i32}},
		"weir_alloc":       {{i32}, {i32}},
		"weir_describe":    {nil, {i64}},
		"weir_call":        {{i32, i32, i32, i32}, {i32}},
	}
	for _, name := range append(append(orderModules, "identity_wat.wasm"), nativeModules...) {
		c := compile(t, r, name)
		fns := c.ExportedFunctions()
		for exp, sig := range want {
			f, ok := fns[exp]
			if !ok {
				t.Errorf("%s: no export %s", name, exp)
				continue
			}
			if !reflect.DeepEqual(f.ParamTypes(), sig[0]) || !reflect.DeepEqual(f.ResultTypes(), sig[1]) {
				t.Errorf("%s: %s has signature %v -> %v", name, exp, f.ParamTypes(), f.ResultTypes())
			}
		}
		if _, ok := c.ExportedMemories()["memory"]; !ok {
			t.Errorf("%s: no exported memory", name)
		}
		if _, ok := fns["_start"]; ok {
			if _, ok := fns["_initialize"]; !ok {
				t.Errorf("%s: a command, not a reactor", name)
			}
		}
		for _, f := range c.ImportedFunctions() {
			mod, _, _ := f.Import()
			if mod != "weir" && mod != "wasi_snapshot_preview1" {
				t.Errorf("%s: imports from %s", name, mod)
			}
		}
		inst := instantiate(t, r, name)
		res, err := inst.mod.ExportedFunction("weir_abi_version").Call(context.Background())
		if err != nil || res[0] != 1 {
			t.Errorf("%s: weir_abi_version = %v, %v", name, res, err)
		}
		if !json.Valid(inst.describe(t)) {
			t.Errorf("%s: description is not JSON", name)
		}
	}

	goOrders := instantiate(t, r, "orders.wasm")
	if got := goOrders.desc.SDK; !strings.HasPrefix(got, "go/") {
		t.Errorf("orders.wasm: sdk %q", got)
	}
	for _, f := range []struct{ name, kind string }{
		{"enrich", "map"}, {"enrich_stdjson", "map"}, {"positive", "filter"}, {"identity", "map"},
		{"split", "flat_map"}, {"fail", "map"}, {"panic", "map"}, {"customer", "key_selector"},
	} {
		goOrders.fn(t, f.name, f.kind)
	}
	watOrders := instantiate(t, r, "orders_wat.wasm")
	for _, f := range []struct{ name, kind string }{
		{"enrich", "map"}, {"positive", "filter"}, {"identity", "map"}, {"split", "flat_map"},
		{"customer", "key_selector"},
	} {
		if g, w := goOrders.fn(t, f.name, f.kind), watOrders.fn(t, f.name, f.kind); g != w {
			t.Errorf("%s: index %d in Go, %d in WAT", f.name, g, w)
		}
	}
	asOrders := instantiate(t, r, "orders_as.wasm")
	if got := asOrders.desc.SDK; !strings.HasPrefix(got, "assemblyscript/") {
		t.Errorf("orders_as.wasm: sdk %q", got)
	}
	for _, f := range []struct{ name, kind string }{
		{"enrich", "map"}, {"positive", "filter"}, {"identity", "map"}, {"split", "flat_map"}, {"fail", "map"}, {"panic", "map"},
		{"customer", "key_selector"},
	} {
		asOrders.fn(t, f.name, f.kind)
	}
	id := instantiate(t, r, "identity_wat.wasm")
	if id.fn(t, "identity", "map") != 0 || len(id.desc.Functions) != 1 {
		t.Errorf("identity_wat.wasm: %+v", id.desc)
	}
}

// enrichCases define enrich byte for byte (udf-examples/README.md quotes them);
// want "" means the record passes unchanged (an output with flags 0).
var enrichCases = []struct{ in, want string }{
	{`{"id":1,"amount":12,"currency":"EUR"}`, `{"id":1,"amount":1200,"currency":"EUR"}`},
	{`{ "amount" : -7 , "x":[1,{"amount":3}]}`, `{ "amount" : -700 , "x":[1,{"amount":3}]}`},
	{`{"x":{"amount":5},"s":"\"amount\":1","amount":0}`, `{"x":{"amount":5},"s":"\"amount\":1","amount":0}`},
	{`{"amount":-0}`, `{"amount":0}`},
	{`{"am\u006funt":5}`, `{"am\u006funt":500}`},
	{`{"amount":1,"amount":2}`, `{"amount":100,"amount":2}`},
	{`{"amount":5}trailing`, `{"amount":500}trailing`},
	{`{"amount":92233720368547758}`, `{"amount":9223372036854775800}`},
	{`{"amount":-92233720368547758}`, `{"amount":-9223372036854775800}`},
	{`{"id":1}`, ""},                                 // missing
	{`{"x":{"amount":5}}`, ""},                       // only nested
	{`{"amount":"12"}`, ""},                          // not a number
	{`{"amount":null}`, ""},                          // not a number
	{`{"amount":12.0}`, ""},                          // not an integer
	{`{"amount":1e3}`, ""},                           // not an integer
	{`{"amount":92233720368547759}`, ""},             // the product overflows
	{`{"amount":-92233720368547759}`, ""},            // the product overflows
	{`{"amount":9223372036854775807}`, ""},           // the product overflows
	{`{"amount":9223372036854775808}`, ""},           // not an int64
	{`{"amount":012}`, ""},                           // not JSON
	{`{"amount":12`, ""},                             // not JSON
	{`{"a":[1,}],"amount":12}`, ""},                  // not JSON before the member
	{`[{"amount":12}]`, ""},                          // not an object
	{``, ""},                                         // empty
	{`{"Amount":12}`, ""},                            // names are case-sensitive
	{"{\"amount\":\t12\n}", "{\"amount\":\t1200\n}"}, // whitespace kept
}

func TestOrdersEnrich(t *testing.T) {
	r := sharedRuntime(t)
	in := make([]record, len(enrichCases))
	for i, c := range enrichCases {
		in[i] = record{Flags: flagKey | flagTimestamp | flagPayload | flagHeaders, Key: fmt.Sprint("k", i),
			Timestamp: int64(i), Payload: c.in, Headers: [][2]string{{"h", "v"}}}
	}
	var frames [][]output
	for _, name := range orderModules {
		inst := instantiate(t, r, name)
		if res := inst.mustDo(t, callOpen, inst.fn(t, "enrich", "map"), []byte(`{}`)); res.rc != rcOK {
			t.Fatalf("%s: open: rc %d", name, res.rc)
		}
		outs := inst.process(t, inst.fn(t, "enrich", "map"), batch(in...))
		if len(outs) != len(in) {
			t.Fatalf("%s: %d outputs for %d inputs", name, len(outs), len(in))
		}
		for i, o := range outs {
			c := enrichCases[i]
			if o.Parent != uint32(i) || o.Tag != 0 {
				t.Errorf("%s: output %d: parent %d tag %d", name, i, o.Parent, o.Tag)
			}
			if c.want == "" {
				if o.Flags != 0 {
					t.Errorf("%s: %s: want it unchanged (flags 0), got flags %#x payload %s", name, c.in, o.Flags, o.Payload)
				}
				continue
			}
			if o.Flags != flagPayload || o.Payload != c.want {
				t.Errorf("%s: %s: got flags %#x payload %s, want %s", name, c.in, o.Flags, o.Payload, c.want)
			}
			// Key, timestamp and headers are inherited.
			if got := resolve(t, in, o); got.Key != in[i].Key || got.Timestamp != in[i].Timestamp || len(got.Headers) != 1 {
				t.Errorf("%s: output %d lost inherited fields: %+v", name, i, got)
			}
		}
		frames = append(frames, outs)
	}
	for i := 1; i < len(frames); i++ {
		if !reflect.DeepEqual(frames[0], frames[i]) {
			t.Errorf("%s and %s differ", orderModules[0], orderModules[i])
		}
	}
}

// TestOrdersDepth: JSON nested deeper than 1000 levels (the top-level object
// included) is malformed for both scanners.
func TestOrdersDepth(t *testing.T) {
	nest := func(depth int) string {
		return `{"x":` + strings.Repeat("[", depth-1) + strings.Repeat("]", depth-1) + `,"amount":1}`
	}
	for _, name := range orderModules {
		inst := instantiate(t, sharedRuntime(t), name)
		outs := inst.process(t, inst.fn(t, "enrich", "map"), payloads(nest(1000), nest(1001)))
		if len(outs) != 2 || outs[0].Flags != flagPayload || !strings.HasSuffix(outs[0].Payload, `"amount":100}`) || outs[1].Flags != 0 {
			t.Errorf("%s: %d outputs, flags %#x and %#x", name, len(outs), outs[0].Flags, outs[1].Flags)
		}
	}
}

func TestOrdersEnrichConfig(t *testing.T) {
	inst := instantiate(t, sharedRuntime(t), "orders.wasm")
	enrich := inst.fn(t, "enrich", "map")
	if res := inst.mustDo(t, callOpen, enrich, []byte(`{"field":"price","factor":-3}`)); res.rc != rcOK {
		t.Fatalf("open: rc %d", res.rc)
	}
	outs := inst.process(t, enrich, payloads(`{"amount":2,"price":7}`, `{"price":3074457345618258603}`))
	if outs[0].Payload != `{"amount":2,"price":-21}` || outs[1].Flags != 0 {
		t.Errorf("got %+v", outs)
	}
	res := inst.mustDo(t, callOpen, enrich, []byte(`{"factor":"x"}`))
	if res.rc != rcError || res.errMsg == nil || !strings.Contains(*res.errMsg, "enrich: reading config") {
		t.Errorf("bad config: rc %d, error %v", res.rc, res.errMsg)
	}
}

func TestOrdersEnrichStdJSON(t *testing.T) {
	inst := instantiate(t, sharedRuntime(t), "orders.wasm")
	fn := inst.fn(t, "enrich_stdjson", "map")
	outs := inst.process(t, fn, payloads(`{"id":1, "amount":12, "note":"<b>"}`, `{"amount":"x","amount":-3}`,
		`{"amount":1.5}`, `nope`, `{"amount":5}trailing`))
	want := []string{`{"amount":1200,"id":1,"note":"\u003cb\u003e"}`, `{"amount":-300}`}
	for i, o := range outs {
		if i < len(want) && (o.Flags != flagPayload || o.Payload != want[i]) || i >= len(want) && o.Flags != 0 {
			t.Errorf("output %d: %+v", i, o)
		}
	}
}

func TestOrdersPositive(t *testing.T) {
	docs := []struct {
		payload string
		keep    bool
	}{
		{`{"amount":1}`, true}, {`{"amount":0.5}`, true}, {`{"amount":1e-400}`, true}, {`{"amount":2E+3}`, true},
		{`{"amount":0}`, false}, {`{"amount":-0.0}`, false}, {`{"amount":0e10}`, false}, {`{"amount":-1}`, false},
		{`{"amount":"5"}`, false}, {`{"amount":true}`, false}, {`{"other":5}`, false}, {`{"amount":5`, false},
		{`[5]`, false}, {``, false}, {`{"x":{"amount":5},"amount":0.000}`, false}, {`{"amount":0.001}`, true},
	}
	var ps []string
	var want []output
	for i, d := range docs {
		ps = append(ps, d.payload)
		if d.keep {
			want = append(want, output{Parent: uint32(i)})
		}
	}
	for _, name := range orderModules {
		inst := instantiate(t, sharedRuntime(t), name)
		if got := inst.process(t, inst.fn(t, "positive", "filter"), payloads(ps...)); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %+v, want %+v", name, got, want)
		}
	}
}

func TestOrdersIdentity(t *testing.T) {
	in := []record{
		{Flags: flagPayload, Payload: `{"amount":1}`},
		{Flags: flagPayload, Payload: ``},
		{Flags: flagKey | flagTimestamp | flagPayload | flagHeaders, Key: "k", Timestamp: -1, Payload: "\x00\xff binary",
			Headers: [][2]string{{"a", "1"}, {"a", "2"}}},
	}
	for _, name := range append(orderModules, "identity_wat.wasm") {
		inst := instantiate(t, sharedRuntime(t), name)
		outs := inst.process(t, inst.fn(t, "identity", "map"), batch(in...))
		if len(outs) != len(in) {
			t.Fatalf("%s: %d outputs", name, len(outs))
		}
		for i, o := range outs {
			if o.Parent != uint32(i) || o.Flags != flagPayload || o.Payload != in[i].Payload {
				t.Errorf("%s: output %d: %+v", name, i, o)
			}
			if !reflect.DeepEqual(resolve(t, in, o), in[i]) {
				t.Errorf("%s: output %d resolves to %+v", name, i, resolve(t, in, o))
			}
		}
	}
}

func TestOrdersSplit(t *testing.T) {
	ps := []string{
		`{"words":["a","b c","\"q\"",""]}`,
		`{"id":1}`,
		`{"words":[]}`,
		`{"words":"abc"}`,
		`{"words":[1,"x",null,["y"],{"z":"w"}, "\u00e9" ]}`,
		`{"words":["unterminated"}`,
	}
	want := []output{
		{0, 0, record{Flags: flagPayload, Payload: `"a"`}},
		{0, 0, record{Flags: flagPayload, Payload: `"b c"`}},
		{0, 0, record{Flags: flagPayload, Payload: `"\"q\""`}},
		{0, 0, record{Flags: flagPayload, Payload: `""`}},
		{4, 0, record{Flags: flagPayload, Payload: `"x"`}},
		{4, 0, record{Flags: flagPayload, Payload: `"\u00e9"`}},
	}
	for _, name := range append(orderModules, nativeModules...) {
		inst := instantiate(t, sharedRuntime(t), name)
		if got := inst.process(t, inst.fn(t, "split", "flat_map"), payloads(ps...)); !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", name, got, want)
		}
	}
}

// TestOrdersCustomer checks the key selector: one output per record, in order,
// with flags KEY and the key alone; the rest of the record is the input's.
func TestOrdersCustomer(t *testing.T) {
	in := []record{
		{Flags: flagPayload, Payload: `{"id":1,"customer":"c-42","amount":5}`},
		{Flags: flagPayload | flagKey | flagTimestamp, Key: "old", Timestamp: 9, Payload: `{"customer":17}`},
		{Flags: flagPayload, Payload: `{"customer":-1.50e3}`},
		{Flags: flagPayload, Payload: `{"customer":"a\"b"}`},
		{Flags: flagPayload, Payload: `{"customer":null}`},
		{Flags: flagPayload, Payload: `{"customer":{"id":1}}`},
		{Flags: flagPayload, Payload: `{"x":{"customer":"nested"}}`},
		{Flags: flagPayload, Payload: `{"customer":"unterminated}`},
		{Flags: flagPayload, Payload: `[{"customer":"c"}]`},
		{Flags: flagPayload, Payload: ``},
	}
	keys := []string{`"c-42"`, `17`, `-1.50e3`, `"a\"b"`, `null`, `null`, `null`, `null`, `null`, `null`}
	for _, name := range append(orderModules, nativeModules...) {
		inst := instantiate(t, sharedRuntime(t), name)
		outs := inst.process(t, inst.fn(t, "customer", "key_selector"), batch(in...))
		if len(outs) != len(in) {
			t.Fatalf("%s: %d outputs for %d records", name, len(outs), len(in))
		}
		for i, o := range outs {
			want := output{uint32(i), 0, record{Flags: flagKey, Key: keys[i]}}
			if !reflect.DeepEqual(o, want) {
				t.Errorf("%s: output %d: %+v, want %+v", name, i, o, want)
			}
			r := resolve(t, in, o)
			if r.Key != keys[i] || r.Payload != in[i].Payload || r.Timestamp != in[i].Timestamp {
				t.Errorf("%s: output %d resolves to %+v", name, i, r)
			}
		}
	}
}

// TestOrdersGoMatchesWAT feeds every implementation (Go, WAT, AssemblyScript)
// the same random batches, valid and broken JSON alike, and wants output frames
// identical to Go's.
func TestOrdersGoMatchesWAT(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	insts := orderInstances(t)
	n := 4000
	if testing.Short() {
		n = 500
	}
	var ps []string
	for range n {
		ps = append(ps, randomPayload(rng))
	}
	seen := map[string]int{} // outputs per function, to show the inputs are varied
	for start := 0; start < len(ps); start += 250 {
		b := payloads(ps[start:min(start+250, len(ps))]...)
		for _, f := range []struct{ name, kind string }{
			{"enrich", "map"}, {"positive", "filter"}, {"identity", "map"}, {"split", "flat_map"},
			{"customer", "key_selector"},
		} {
			got := make([][]output, len(insts))
			for i, inst := range insts {
				got[i] = inst.process(t, inst.fn(t, f.name, f.kind), b)
			}
			for m := 1; m < len(got); m++ {
				if reflect.DeepEqual(got[0], got[m]) {
					continue
				}
				for i := range max(len(got[0]), len(got[m])) {
					if i >= len(got[0]) || i >= len(got[m]) || !reflect.DeepEqual(got[0][i], got[m][i]) {
						t.Fatalf("%s: output %d differs:\n%s %+v\n%s %+v", f.name, i, insts[0].name, at(got[0], i), insts[m].name, at(got[m], i))
					}
				}
			}
			for _, o := range got[0] {
				if f.name == "customer" && o.Key != "null" {
					seen["customer keyed"]++
				}
				if o.Flags != 0 {
					seen[f.name+" changed"]++
				} else {
					seen[f.name+" unchanged"]++
				}
			}
		}
	}
	t.Logf("outputs over %d payloads: %v", n, seen)
	for _, k := range []string{"enrich changed", "enrich unchanged", "positive unchanged", "split changed", "customer keyed"} {
		if seen[k] < n/20 {
			t.Errorf("only %d outputs %q: the random payloads are too uniform", seen[k], k)
		}
	}
}

// orderInstances instantiates every module of orderModules.
func orderInstances(t testing.TB) []*instance {
	insts := make([]*instance, len(orderModules))
	for i, name := range orderModules {
		insts[i] = instantiate(t, sharedRuntime(t), name)
	}
	return insts
}

// TestNativeMatchGo feeds the Go module and the Rust and C ones the same random
// batches and wants identical outputs, byte for byte, from every function they
// share (the conformance suite holds enrich and positive to an oracle; this
// covers identity, split (the flat_map) and customer (the key_selector) too).
func TestNativeMatchGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var ps []string
	for range 1000 {
		ps = append(ps, randomPayload(rng))
	}
	b := payloads(ps...)
	goInst := instantiate(t, sharedRuntime(t), "orders.wasm")
	for _, name := range nativeModules {
		inst := instantiate(t, sharedRuntime(t), name)
		for _, f := range []struct{ name, kind string }{
			{"enrich", "map"}, {"positive", "filter"}, {"identity", "map"}, {"split", "flat_map"},
			{"customer", "key_selector"},
		} {
			want := goInst.process(t, goInst.fn(t, f.name, f.kind), b)
			if got := inst.process(t, inst.fn(t, f.name, f.kind), b); !reflect.DeepEqual(got, want) {
				for i := range max(len(got), len(want)) {
					if i >= len(got) || i >= len(want) || !reflect.DeepEqual(got[i], want[i]) {
						t.Fatalf("%s %s: output %d differs:\n got %+v\nwant %+v (Go)", name, f.name, i, at(got, i), at(want, i))
					}
				}
			}
		}
	}
}

func at(o []output, i int) any {
	if i < len(o) {
		return o[i]
	}
	return "<none>"
}

// randomPayload makes an order-like JSON document, sometimes damaged.
func randomPayload(rng *rand.Rand) string {
	pick := func(xs ...string) string { return xs[rng.IntN(len(xs))] }
	numbers := []string{"0", "-0", "7", "-12", "13", "250", "1", "42", "-3", "1999", "100000", "2", "1.5", "-2.5e3", "1e-400", "0.0", "92233720368547758",
		"92233720368547759", "-92233720368547758", "-92233720368547759", "9223372036854775807",
		"-9223372036854775808", "18446744073709551616", "00", "1.", ".5", "-", "1e", "+1", "0x10"}
	values := []string{`"x"`, `"a\"b\\c\u00e9"`, `true`, `false`, `null`, `[]`, `{}`, `[1,"2",{"amount":3}]`,
		`{"amount":{"amount":4}}`, `"\ud83d\ude00"`, `nul`, `"\x"`, `[1,]`}
	words := []string{`["a","b"]`, `[ "x" , 1, "y\"z" ,[]]`, `[]`, `["\u00e9",null,""]`, `"w"`, `["a",]`, `["a"`}
	ws := []string{"", "", " ", "\n\t", "\r"}
	var b strings.Builder
	b.WriteString(pick(ws...) + "{")
	for i := range 1 + rng.IntN(4) {
		if i > 0 {
			b.WriteString("," + pick(ws...))
		}
		name := pick(`"amount"`, `"amount"`, `"amount"`, `"words"`, `"words"`, `"am\u006funt"`, `"Amount"`, `"id"`, `"a\"mount"`, `"amount "`,
			`"customer"`, `"cust\u006fmer"`)
		b.WriteString(name + pick(ws...) + ":" + pick(ws...))
		switch {
		case name == `"words"` && rng.IntN(4) > 0:
			b.WriteString(pick(words...))
		case rng.IntN(3) > 0:
			b.WriteString(pick(numbers...))
		default:
			b.WriteString(pick(values...))
		}
		b.WriteString(pick(ws...))
	}
	b.WriteString("}")
	s := []byte(b.String())
	switch rng.IntN(6) { // damage one in three
	case 0:
		s = s[:rng.IntN(len(s)+1)]
	case 1:
		const junk = "{}[]\",:\\ 0-e."
		s[rng.IntN(len(s))] = junk[rng.IntN(len(junk))]
	}
	return string(s)
}

func TestReturnCodes(t *testing.T) {
	type rcCase struct {
		name     string
		kind, fn int32
		in       []byte
		want     int32
	}
	good := payloads(`{"amount":1}`)
	cases := []rcCase{
		{"open {}", callOpen, 0, []byte(`{}`), rcOK},
		{"open not an object", callOpen, 0, []byte(`[1]`), rcMalformed},
		{"open not JSON", callOpen, 0, []byte(`{"a":`), rcMalformed},
		{"process", callProcess, 0, good, rcOK},
		{"unknown function", callProcess, 99, good, rcUnknownFn},
		{"negative function", callProcess, -1, good, rcUnknownFn},
		{"call kind 0", 0, 0, good, rcUnsupported},
		{"call kind 7", 7, 0, good, rcUnsupported},
		{"process2", callProcess2, 0, good, rcUnsupported},
		{"timer", callTimer, 0, nil, rcUnsupported},
		{"window", callWindow, 0, nil, rcUnsupported},
		{"truncated batch", callProcess, 0, good[:len(good)-1], rcMalformed},
		{"trailing bytes", callProcess, 0, append(bytes.Clone(good), 0), rcMalformed},
		{"reserved flag", callProcess, 0, batch(record{Flags: flagPayload | 0x80}), rcMalformed},
		{"count too big", callProcess, 0, []byte{9, 0, 0, 0, flagPayload, 0, 0, 0, 0}, rcMalformed},
		{"header past the end", callProcess, 0, []byte{1, 0, 0, 0, flagHeaders, 1, 0, 0, 0, 1, 0, 0, 0}, rcMalformed},
		{"empty input", callProcess, 0, nil, rcMalformed},
		{"close with input", callClose, 0, []byte{1}, rcMalformed},
		{"close", callClose, 0, nil, rcOK},
	}
	for _, name := range append(orderModules, nativeModules...) { // enrich is 0 in each
		inst := instantiate(t, sharedRuntime(t), name)
		for _, c := range cases {
			res := inst.mustDo(t, c.kind, c.fn, c.in)
			if res.rc != c.want {
				t.Errorf("%s: %s: rc %d, want %d", name, c.name, res.rc, c.want)
			}
			if res.rc != rcOK && len(res.frames) != 0 {
				t.Errorf("%s: %s: emitted although the call failed", name, c.name)
			}
		}
	}
}

func TestBigBatchAndBufferReuse(t *testing.T) {
	for _, name := range append(orderModules, nativeModules...) {
		inst := instantiate(t, sharedRuntime(t), name)
		enrich := inst.fn(t, "enrich", "map")
		for _, n := range []int{1, 5000, 3, 20000} { // grow, shrink (buffer reused), grow
			ps := make([]string, n)
			for i := range ps {
				ps[i] = fmt.Sprintf(`{"id":%d,"amount":%d,"pad":"%s"}`, i, i, strings.Repeat("x", i%50))
			}
			outs := inst.process(t, enrich, payloads(ps...))
			if len(outs) != n {
				t.Fatalf("%s: %d outputs for %d", name, len(outs), n)
			}
			i := n - 1
			if want := fmt.Sprintf(`{"id":%d,"amount":%d,"pad":"%s"}`, i, i*100, strings.Repeat("x", i%50)); outs[i].Payload != want {
				t.Errorf("%s: last output %s, want %s", name, outs[i].Payload, want)
			}
		}
	}
}

func TestGoFailAndPanic(t *testing.T) {
	inst := instantiate(t, sharedRuntime(t), "orders.wasm")
	fail := inst.fn(t, "fail", "map")
	if outs := inst.process(t, fail, payloads(`{"amount":0}`, `{"amount":-0.0}`, `{"amount":3}`)); len(outs) != 3 || outs[2].Payload != `{"amount":3}` {
		t.Errorf("fail on good records: %+v", outs)
	}
	res := inst.mustDo(t, callProcess, fail, payloads(`{"amount":3}`, `{"amount":-1e-9}`))
	if res.rc != rcError || res.errMsg == nil || *res.errMsg != "amount must not be negative" || len(res.frames) != 0 {
		t.Errorf("fail: rc %d, error %v, %d frames", res.rc, res.errMsg, len(res.frames))
	}

	pan := inst.fn(t, "panic", "map")
	if outs := inst.process(t, pan, payloads(`{"amount":12}`, `{"amount":13.0}`)); len(outs) != 2 {
		t.Errorf("panic on good records: %+v", outs)
	}
	// A c-shared Go module does not exit on a panic: the runtime prints the
	// panic to stderr and aborts, which is an unreachable trap. The instance
	// is unusable afterwards; the host discards it.
	_, err := inst.do(context.Background(), t, callProcess, pan, payloads(`{"amount":1}`, `{"amount":13}`))
	if err == nil || !strings.Contains(err.Error(), "unreachable") {
		t.Fatalf("panic: want a trap, got %v", err)
	}
	if !strings.Contains(inst.stderr.String(), "panic: udf panic: boom") {
		t.Errorf("stderr lacks the panic: %q", inst.stderr.String())
	}
}

// ---------------------------------------------------------------- faulty modules

func TestFaultyModules(t *testing.T) {
	r := sharedRuntime(t)
	ctx := context.Background()

	t.Run("abi_v2", func(t *testing.T) {
		inst := instantiateRaw(t, r, "testdata/abi_v2.wasm")
		res, err := inst.mod.ExportedFunction("weir_abi_version").Call(ctx)
		if err != nil || res[0] != 2 {
			t.Errorf("weir_abi_version = %v, %v", res, err)
		}
	})
	t.Run("start_only", func(t *testing.T) {
		fns := compile(t, r, "testdata/start_only.wasm").ExportedFunctions()
		_, start := fns["_start"]
		_, init := fns["_initialize"]
		if !start || init {
			t.Errorf("_start %v, _initialize %v: want a command", start, init)
		}
	})
	t.Run("no_describe", func(t *testing.T) {
		fns := compile(t, r, "testdata/no_describe.wasm").ExportedFunctions()
		if _, ok := fns["weir_describe"]; ok {
			t.Errorf("weir_describe exported")
		}
		if _, ok := fns["weir_call"]; !ok {
			t.Errorf("weir_call missing")
		}
	})
	t.Run("bad_describe", func(t *testing.T) {
		inst := instantiateRaw(t, r, "testdata/bad_describe.wasm")
		if d := inst.describe(t); json.Valid(d) {
			t.Errorf("description %q is valid JSON", d)
		}
	})
	t.Run("trap", func(t *testing.T) {
		inst := instantiate(t, r, "testdata/trap.wasm")
		_, err := inst.do(ctx, t, callProcess, inst.fn(t, "trap", "map"), payloads("x"))
		if err == nil || !strings.Contains(err.Error(), "unreachable") {
			t.Errorf("want an unreachable trap, got %v", err)
		}
	})
	t.Run("error", func(t *testing.T) {
		inst := instantiate(t, r, "testdata/error.wasm")
		res := inst.mustDo(t, callProcess, inst.fn(t, "fail", "map"), payloads("x"))
		if res.rc != rcError || res.errMsg == nil || *res.errMsg != "bad record 7" {
			t.Errorf("rc %d, error %v", res.rc, res.errMsg)
		}
	})
	t.Run("passthrough works", func(t *testing.T) {
		for _, name := range []string{"testdata/abi_v2.wasm", "testdata/bad_describe.wasm", "testdata/no_describe.wasm", "testdata/start_only.wasm"} {
			inst := instantiateRaw(t, r, name)
			res := inst.mustDo(t, callProcess, 0, payloads("a", "b"))
			if res.rc != rcOK || len(res.frames) != 1 {
				t.Fatalf("%s: rc %d, %d frames", name, res.rc, len(res.frames))
			}
			if got := decodeOutputs(t, res.frames[0]); !reflect.DeepEqual(got, []output{{Parent: 0}, {Parent: 1}}) {
				t.Errorf("%s: %+v", name, got)
			}
		}
	})
}

func TestLoopIsInterrupted(t *testing.T) {
	r := newRuntime(t, wazero.NewRuntimeConfig().WithCloseOnContextDone(true))
	defer r.Close(context.Background())
	inst := instantiate(t, r, "testdata/loop.wasm")
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	startedAt := time.Now()
	_, err := inst.do(ctx, t, callProcess, inst.fn(t, "spin", "map"), payloads("x"))
	var exit *sys.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != sys.ExitCodeDeadlineExceeded {
		t.Fatalf("want a deadline exit, got %v", err)
	}
	if !inst.mod.IsClosed() {
		t.Errorf("an interrupted instance stays open")
	}
	t.Logf("interrupted after %v", time.Since(startedAt))
}

func TestMemhogHitsTheLimit(t *testing.T) {
	const limitPages = 160 // 10 MiB
	r := newRuntime(t, wazero.NewRuntimeConfig().WithMemoryLimitPages(limitPages))
	defer r.Close(context.Background())
	inst := instantiate(t, r, "testdata/memhog.wasm")
	_, err := inst.do(context.Background(), t, callProcess, inst.fn(t, "hog", "map"), payloads("x"))
	if err == nil || !strings.Contains(err.Error(), "unreachable") {
		t.Fatalf("want the trap after memory.grow failed, got %v", err)
	}
	if pages := inst.mod.Memory().Size() / 65536; pages > limitPages || pages < limitPages-16 {
		t.Errorf("memory ended at %d pages, limit %d", pages, limitPages)
	}
}

// ---------------------------------------------------------------- benchmarks

// BenchmarkOrders runs 100-record batches through each implementation and
// reports the cost per record, wazero call included.
func BenchmarkOrders(b *testing.B) {
	ps := make([]string, 100)
	for i := range ps {
		ps[i] = fmt.Sprintf(`{"id":%d,"customer":"c-42","amount":%d,"currency":"EUR"}`, 10000+i, 1000+i)
	}
	in := payloads(ps...)
	for _, c := range []struct{ module, fn, kind string }{
		{"orders.wasm", "enrich", "map"},
		{"orders.wasm", "enrich_stdjson", "map"},
		{"orders_wat.wasm", "enrich", "map"},
		{"orders_as.wasm", "enrich", "map"},
		{"orders_rust.wasm", "enrich", "map"},
		{"orders_rust_wasi.wasm", "enrich", "map"},
		{"orders_c.wasm", "enrich", "map"},
		{"orders_c_wasi.wasm", "enrich", "map"},
		{"orders.wasm", "positive", "filter"},
		{"orders_wat.wasm", "positive", "filter"},
		{"orders_as.wasm", "positive", "filter"},
		{"orders.wasm", "identity", "map"},
		{"orders_wat.wasm", "identity", "map"},
		{"orders_as.wasm", "identity", "map"},
		{"identity_wat.wasm", "identity", "map"},
	} {
		b.Run(strings.TrimSuffix(c.module, ".wasm")+"/"+c.fn, func(b *testing.B) {
			inst := instantiate(b, sharedRuntime(b), c.module)
			fn := inst.fn(b, c.fn, c.kind)
			inst.process(b, fn, in)
			b.ResetTimer()
			for b.Loop() {
				if res := inst.mustDo(b, callProcess, fn, in); res.rc != rcOK {
					b.Fatal(res.rc)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(ps)), "ns/record")
		})
	}
}

// FuzzOrdersGoMatchesWAT: for any payload, the Go and WAT order functions
// give the same output frame.
func FuzzOrdersGoMatchesWAT(f *testing.F) {
	for _, c := range enrichCases {
		f.Add([]byte(c.in))
	}
	f.Add([]byte(`{"words":["a","b\"c",1,[]],"amount":0.5}`))
	insts := orderInstances(f)
	funcs := []struct{ name, kind string }{{"enrich", "map"}, {"positive", "filter"}, {"identity", "map"}, {"split", "flat_map"}, {"customer", "key_selector"}}
	f.Fuzz(func(t *testing.T, payload []byte) {
		in := payloads(string(payload))
		for _, fn := range funcs {
			got := make([][]output, len(insts))
			for i, inst := range insts {
				got[i] = inst.process(t, inst.fn(t, fn.name, fn.kind), in)
				if i > 0 && !reflect.DeepEqual(got[0], got[i]) {
					t.Fatalf("%s(%q):\n%s %+v\n%s %+v", fn.name, payload, insts[0].name, got[0], insts[i].name, got[i])
				}
			}
		}
	})
}

// FuzzBatchGoMatchesWAT: for any batch frame, the Go SDK's decoder and the WAT
// one agree on the return code and, when it is 0, on the outputs.
func FuzzBatchGoMatchesWAT(f *testing.F) {
	f.Add(batch(record{Flags: flagKey | flagTimestamp | flagPayload | flagHeaders, Key: "k", Timestamp: 1,
		Payload: `{"amount":2}`, Headers: [][2]string{{"h", "v"}}}, record{Flags: flagPayload}))
	f.Add(payloads(`{"amount":1}`, `{"words":["x"]}`))
	f.Add([]byte{0, 0, 0, 0})
	insts := orderInstances(f)
	f.Fuzz(func(t *testing.T, frame []byte) {
		for _, fn := range []struct{ name, kind string }{{"enrich", "map"}, {"split", "flat_map"}, {"customer", "key_selector"}} {
			res := make([]result, len(insts))
			for i, inst := range insts {
				res[i] = inst.mustDo(t, callProcess, inst.fn(t, fn.name, fn.kind), frame)
				if i > 0 && (res[0].rc != res[i].rc || !reflect.DeepEqual(res[0].frames, res[i].frames)) {
					t.Fatalf("%s(%q): %s rc %d frames %q, %s rc %d frames %q", fn.name, frame,
						insts[0].name, res[0].rc, res[0].frames, insts[i].name, res[i].rc, res[i].frames)
				}
			}
		}
	})
}
