package udfexamples_test

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// Tests of the AssemblyScript SDK (sdk/assemblyscript) beyond the order
// functions, which the tests in examples_test.go run in every language. The
// module is udf-examples/as/assembly/sdktest.ts.

const sdkTestModule = "testdata/sdktest_as.wasm"

func TestASRecordAccessors(t *testing.T) {
	inst := instantiate(t, sharedRuntime(t), sdkTestModule)
	in := []record{
		{Flags: flagKey | flagTimestamp | flagPayload | flagHeaders, Key: "k1", Timestamp: -5, Payload: `{"a":1}`,
			Headers: [][2]string{{"x", "1"}, {"h", "é"}, {"h", "second"}}},
		{Flags: flagPayload, Payload: ""},
		{Flags: flagTimestamp | flagPayload | flagHeaders, Timestamp: 1 << 40, Payload: "p"},
	}
	got := inst.process(t, inst.fn(t, "describe", "map"), batch(in...))
	want := []string{`k1|-5|x=1,h=é,h=second|h=é|{"a":1}`, `-|-||h=-|`, `-|1099511627776||h=-|p`}
	if len(got) != len(want) {
		t.Fatalf("%d outputs: %+v", len(got), got)
	}
	for i, o := range got {
		if o.Parent != uint32(i) || o.Flags != flagPayload || o.Payload != want[i] {
			t.Errorf("output %d: %+v, want payload %q", i, o, want[i])
		}
	}
}

func TestASOutputSetters(t *testing.T) {
	inst := instantiate(t, sharedRuntime(t), sdkTestModule)
	in := []record{
		{Flags: flagKey | flagTimestamp | flagPayload | flagHeaders, Key: "k", Timestamp: 7, Payload: "abc",
			Headers: [][2]string{{"old", "v"}}},
		{Flags: flagPayload, Payload: "\x00\xff"},
	}
	got := inst.process(t, inst.fn(t, "rewrite", "map"), batch(in...))
	all := byte(flagKey | flagTimestamp | flagPayload | flagHeaders)
	want := []output{
		{0, 0, record{Flags: all, Key: "key-0", Timestamp: 1007, Payload: "cba", Headers: [][2]string{{"n", "0"}, {"bin", "abc"}}}},
		{1, 0, record{Flags: all, Key: "key-1", Timestamp: 1000, Payload: "\xff\x00", Headers: [][2]string{{"n", "1"}, {"bin", "\x00\xff"}}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rewrite:\n got %+v\nwant %+v", got, want)
	}
	got = inst.process(t, inst.fn(t, "noheaders", "map"), batch(in...))
	want = []output{{0, 0, record{Flags: flagHeaders}}, {1, 0, record{Flags: flagHeaders}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("noheaders:\n got %+v\nwant %+v", got, want)
	}
}

func TestASFlatMapSideOutputs(t *testing.T) {
	inst := instantiate(t, sharedRuntime(t), sdkTestModule)
	for _, f := range inst.desc.Functions {
		if f.Name == "route" && !reflect.DeepEqual(f.SideOutputs, []string{"late"}) {
			t.Errorf("route declares side outputs %q", f.SideOutputs)
		}
	}
	got := inst.process(t, inst.fn(t, "route", "flat_map"), payloads("a", "too late", "b"))
	want := []output{
		{0, 0, record{}}, {0, 0, record{Flags: flagPayload, Payload: "copy"}},
		{1, 1, record{Flags: flagPayload, Payload: "late:1"}},
		{2, 0, record{}}, {2, 0, record{Flags: flagPayload, Payload: "copy"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("route:\n got %+v\nwant %+v", got, want)
	}
}

func TestASHooksAndLogs(t *testing.T) {
	inst := instantiate(t, sharedRuntime(t), sdkTestModule)
	fn := inst.fn(t, "prefix", "map")
	res := inst.mustDo(t, callOpen, fn, []byte(`{"prefix":"p\u00e9-"}`))
	if res.rc != rcOK || !reflect.DeepEqual(res.logs, []string{"1 opened with prefix pé-"}) {
		t.Fatalf("open: rc %d, logs %q", res.rc, res.logs)
	}
	if got := inst.process(t, fn, payloads("x")); len(got) != 1 || got[0].Payload != "pé-x" {
		t.Errorf("process: %+v", got)
	}
	res = inst.mustDo(t, callClose, fn, nil)
	if res.rc != rcOK || !reflect.DeepEqual(res.logs, []string{"2 closed 1"}) {
		t.Errorf("close: rc %d, logs %q", res.rc, res.logs)
	}
	res = inst.mustDo(t, callOpen, fn, []byte(`{"prefix":3}`))
	if res.rc != rcError || res.errMsg == nil || *res.errMsg != "prefix must be a string" {
		t.Errorf("bad config: rc %d, error %v", res.rc, res.errMsg)
	}
	// An open hook is optional; the config must still be a JSON object.
	other := inst.fn(t, "describe", "map")
	if res := inst.mustDo(t, callOpen, other, []byte(` {} `)); res.rc != rcOK {
		t.Errorf("open without a hook: rc %d", res.rc)
	}
	if res := inst.mustDo(t, callOpen, other, []byte(`[]`)); res.rc != rcMalformed {
		t.Errorf("open with an array: rc %d", res.rc)
	}
}

func TestASFilterAndFail(t *testing.T) {
	inst := instantiate(t, sharedRuntime(t), sdkTestModule)
	fn := inst.fn(t, "even", "filter")
	if got := inst.process(t, fn, payloads("a", "b", "c")); !reflect.DeepEqual(got, []output{{Parent: 0}, {Parent: 2}}) {
		t.Errorf("even: %+v", got)
	}
	res := inst.mustDo(t, callProcess, fn, payloads("a", "b", "bad", "c"))
	if res.rc != rcError || res.errMsg == nil || *res.errMsg != "bad record 2" || len(res.frames) != 0 {
		t.Errorf("fail: rc %d, error %v, %d frames", res.rc, res.errMsg, len(res.frames))
	}
	// The failure does not stick: the next batch runs normally.
	if got := inst.process(t, fn, payloads("a")); len(got) != 1 {
		t.Errorf("after a failure: %+v", got)
	}

	orders := instantiate(t, sharedRuntime(t), "orders_as.wasm")
	res = orders.mustDo(t, callProcess, orders.fn(t, "fail", "map"), payloads(`{"amount":3}`, `{"amount":-1e-9}`))
	if res.rc != rcError || res.errMsg == nil || *res.errMsg != "amount must not be negative" || len(res.frames) != 0 {
		t.Errorf("orders fail: rc %d, error %v, %d frames", res.rc, res.errMsg, len(res.frames))
	}
}

// TestASKeySelector: a key selector's outputs carry the key alone, one per record
// in order, through a key buffer that grows past its first size and is emptied
// for every record; its failure fails the batch with nothing emitted.
func TestASKeySelector(t *testing.T) {
	inst := instantiate(t, sharedRuntime(t), sdkTestModule)
	fn := inst.fn(t, "keyof", "key_selector")
	long := strings.Repeat("x", 10000)
	want := []output{
		{0, 0, record{Flags: flagKey, Key: "k:a"}},
		{1, 0, record{Flags: flagKey, Key: "k:" + long}},
		{2, 0, record{Flags: flagKey, Key: "k:"}},
	}
	if got := inst.process(t, fn, payloads("a", long, "")); !reflect.DeepEqual(got, want) {
		t.Errorf("keyof: %+v", got)
	}
	res := inst.mustDo(t, callProcess, fn, payloads("a", "bad"))
	if res.rc != rcError || res.errMsg == nil || *res.errMsg != "bad key 1" || len(res.frames) != 0 {
		t.Errorf("fail: rc %d, error %v, %d frames", res.rc, res.errMsg, len(res.frames))
	}
	if got := inst.process(t, fn, payloads("b")); !reflect.DeepEqual(got, []output{{0, 0, record{Flags: flagKey, Key: "k:b"}}}) {
		t.Errorf("after a failure: %+v", got)
	}
}

// TestASEnrichConfigMatchesGo: enrich's open hook accepts and refuses the same
// configs as the Go module's encoding/json, and scales by what it read.
func TestASEnrichConfigMatchesGo(t *testing.T) {
	configs := []string{`{}`, `{"field":"price","factor":-3}`, `{"FIELD":"price","Factor":2}`, `{"field":null,"factor":null}`,
		`{"factor":7,"factor":9}`, `{"factor":"x"}`, `{"factor":1.5}`, `{"factor":1e2}`, `{"field":5}`, `{"field":""}`,
		`{"other":1}`, `{"field":"am\u006fu\u006et"}`, `{"factor":9223372036854775807}`, `{"factor":9223372036854775808}`}
	in := payloads(`{"amount":2,"price":7}`, `{"price":3074457345618258603,"amount":-1}`, `{"amount":5}`)
	for _, c := range configs {
		var rcs []int32
		var outs [][]output
		for _, name := range []string{"orders.wasm", "orders_as.wasm"} {
			inst := instantiate(t, sharedRuntime(t), name)
			fn := inst.fn(t, "enrich", "map")
			res := inst.mustDo(t, callOpen, fn, []byte(c))
			rcs = append(rcs, res.rc)
			if res.rc == rcOK {
				outs = append(outs, inst.process(t, fn, in))
			}
		}
		if rcs[0] != rcs[1] || len(outs) == 2 && !reflect.DeepEqual(outs[0], outs[1]) {
			t.Errorf("config %s: Go rc %d, AS rc %d; outputs %+v", c, rcs[0], rcs[1], outs)
		}
	}
}

// TestASEnrichNumbersMatchGo: enrich with factors 1 and -1 on integers of every
// length (both sides of each power of ten, both signs) and at the int64 limits,
// where the SDK's number parsing and formatting change method, gives Go's bytes.
func TestASEnrichNumbersMatchGo(t *testing.T) {
	var ps []string
	for k, p := int64(0), int64(1); k < 19; k, p = k+1, p*10 {
		for _, n := range []int64{p - 1, p, p + 1} {
			ps = append(ps, fmt.Sprintf(`{"amount":%d}`, n), fmt.Sprintf(`{"amount":%d,"x":1}`, -n), fmt.Sprintf(`{"amount":%d}`, n))
		}
	}
	ps = append(ps, `{"amount":9223372036854775807}`, `{"amount":-9223372036854775808}`, `{"amount":1}`, `{"a":1,"amount":12345678}`)
	for _, config := range []string{`{"factor":1}`, `{"factor":-1}`, `{"factor":7}`} {
		var got [2][]output
		for i, name := range []string{"orders.wasm", "orders_as.wasm"} {
			inst := instantiate(t, sharedRuntime(t), name)
			fn := inst.fn(t, "enrich", "map")
			if res := inst.mustDo(t, callOpen, fn, []byte(config)); res.rc != rcOK {
				t.Fatalf("%s: open %s: rc %d", name, config, res.rc)
			}
			got[i] = inst.process(t, fn, payloads(ps...))
		}
		if !reflect.DeepEqual(got[0], got[1]) {
			for i := range got[0] {
				if !reflect.DeepEqual(got[0][i], at(got[1], i)) {
					t.Errorf("config %s, %s: Go %+v, AS %+v", config, ps[i], got[0][i], at(got[1], i))
				}
			}
		}
	}
}

// TestASAbort: a throw (or any abort) prints "panic: ..." to stderr and traps.
func TestASAbort(t *testing.T) {
	for _, c := range []struct{ module, fn, payload, msg string }{
		{sdkTestModule, "abort", "boom", "panic: boom at record 1 at assembly/sdktest.ts:"},
		{"orders_as.wasm", "panic", `{"amount":13}`, "panic: udf panic: boom at assembly/orders.ts:"},
	} {
		inst := instantiate(t, sharedRuntime(t), c.module)
		_, err := inst.do(context.Background(), t, callProcess, inst.fn(t, c.fn, "map"), payloads("x", c.payload))
		if err == nil || !strings.Contains(err.Error(), "unreachable") {
			t.Errorf("%s: want a trap, got %v", c.fn, err)
		}
		if !strings.HasPrefix(inst.stderr.String(), c.msg) {
			t.Errorf("%s: stderr %q, want it to start with %q", c.fn, inst.stderr.String(), c.msg)
		}
	}
}

// TestASMemoryBounded runs many batches through one instance of a function that
// allocates strings on every record, and checks that the instance's memory stops
// growing: the incremental collector reclaims what each batch left.
func TestASMemoryBounded(t *testing.T) {
	inst := instantiate(t, sharedRuntime(t), sdkTestModule)
	fn := inst.fn(t, "upper", "map")
	ps := make([]string, 200)
	for i := range ps {
		ps[i] = fmt.Sprintf(`{"id":%d,"customer":"c-%d","note":"%s"}`, i, i%17, strings.Repeat("x", i%300))
	}
	in := payloads(ps...)
	batches := 3000
	if testing.Short() {
		batches = 600
	}
	var after100 uint32
	for b := 1; b <= batches; b++ {
		outs := inst.process(t, fn, in)
		if len(outs) != len(ps) || outs[5].Payload != strings.ToUpper(ps[5])+"!!!!!" {
			t.Fatalf("batch %d: %d outputs, output 5 %q", b, len(outs), outs[5].Payload)
		}
		if b == 100 {
			after100 = inst.mod.Memory().Size()
		}
	}
	end := inst.mod.Memory().Size()
	t.Logf("memory after 100 batches: %d KiB; after %d batches (%d records): %d KiB", after100>>10, batches, batches*len(ps), end>>10)
	if end > after100+256<<10 {
		t.Errorf("memory grew from %d to %d bytes over %d batches", after100, end, batches-100)
	}
}

// BenchmarkASvsGo runs the same 100-record batches through the Go, WAT and
// AssemblyScript order functions, alternating between the modules batch by
// batch so that all three see the same machine load (the build machines are
// shared), and reports each one's time per record and AssemblyScript's speed
// relative to Go's (x-go > 1: faster than Go).
func BenchmarkASvsGo(b *testing.B) {
	ps := make([]string, 100)
	for i := range ps {
		ps[i] = fmt.Sprintf(`{"id":%d,"customer":"c-42","amount":%d,"currency":"EUR"}`, 10000+i, 1000+i)
	}
	in := payloads(ps...)
	modules := []string{"orders.wasm", "orders_wat.wasm", "orders_as.wasm"}
	for _, f := range []struct{ name, kind string }{{"enrich", "map"}, {"positive", "filter"}, {"identity", "map"}} {
		b.Run(f.name, func(b *testing.B) {
			insts := make([]*instance, len(modules))
			fns := make([]int32, len(modules))
			for i, m := range modules {
				insts[i] = instantiate(b, sharedRuntime(b), m)
				fns[i] = insts[i].fn(b, f.name, f.kind)
				insts[i].process(b, fns[i], in) // grow the buffers first
			}
			elapsed := make([]time.Duration, len(modules))
			b.ResetTimer()
			for b.Loop() {
				for i, inst := range insts {
					start := time.Now()
					if res := inst.mustDo(b, callProcess, fns[i], in); res.rc != rcOK {
						b.Fatal(res.rc)
					}
					elapsed[i] += time.Since(start)
				}
			}
			perRecord := func(i int) float64 { return float64(elapsed[i].Nanoseconds()) / float64(b.N*len(ps)) }
			b.ReportMetric(perRecord(0), "go-ns/record")
			b.ReportMetric(perRecord(1), "wat-ns/record")
			b.ReportMetric(perRecord(2), "as-ns/record")
			b.ReportMetric(perRecord(0)/perRecord(2), "as-x-go")
		})
	}
}

// ---------------------------------------------------------------- timers, aggregates, windows

// The SDK's timer, aggregate and window calls (ABI §4.4–4.6) run on a fake host
// of their own: the weir imports record every timer and state call and answer
// what the test sets, and the frames are built byte by byte here, including
// ones Weir's host never sends, so that return codes 3 and 4, the imports'
// arguments and the exact output frames are checked. The functions are those of
// sdktest.ts (agg, cat, win, timed, plain); conformance/windows_test.go runs the
// windows.ts examples through Weir's host.

const asCallAggregate = 7

// asFakeHost is the fake host of one runtime.
type asFakeHost struct {
	watermark, now int64
	timerRC        int32             // what timer_register and timer_delete return
	state          map[string][]byte // value state by "state/record"
	calls          []string          // timer and state import calls of the current call, in order
}

// newASFakeHost makes a runtime with WASI and a recording weir module, and an
// instance of sdktest_as.wasm in it.
func newASFakeHost(t testing.TB) (*asFakeHost, *instance) {
	return newASFakeHostOf(t, sdkTestModule)
}

// newASFakeHostOf is newASFakeHost with another module.
func newASFakeHostOf(t testing.TB, module string) (*asFakeHost, *instance) {
	t.Helper()
	ctx := context.Background()
	r := wazero.NewRuntime(ctx)
	t.Cleanup(func() { r.Close(ctx) })
	wasi_snapshot_preview1.MustInstantiate(ctx, r)
	h := &asFakeHost{watermark: math.MinInt64, now: 1_700_000_000_123, state: map[string][]byte{}}
	i32, i64 := api.ValueTypeI32, api.ValueTypeI64
	b := r.NewHostModuleBuilder("weir")
	fn := func(name string, params, results []api.ValueType, f api.GoModuleFunc) {
		b.NewFunctionBuilder().WithGoModuleFunction(f, params, results).Export(name)
	}
	fn("emit", []api.ValueType{i32, i32}, nil, func(ctx context.Context, mod api.Module, stack []uint64) {
		st := stateOf(ctx)
		st.frames = append(st.frames, read(mod, api.DecodeU32(stack[0]), api.DecodeU32(stack[1])))
	})
	fn("error", []api.ValueType{i32, i32}, nil, func(ctx context.Context, mod api.Module, stack []uint64) {
		msg := string(read(mod, api.DecodeU32(stack[0]), api.DecodeU32(stack[1])))
		stateOf(ctx).errMsg = &msg
	})
	fn("log", []api.ValueType{i32, i32, i32}, nil, func(ctx context.Context, mod api.Module, stack []uint64) {
		st := stateOf(ctx)
		st.logs = append(st.logs, fmt.Sprintf("%d %s", api.DecodeI32(stack[0]), read(mod, api.DecodeU32(stack[1]), api.DecodeU32(stack[2]))))
	})
	fn("state_get", []api.ValueType{i32, i32, i32, i32, i32, i32}, []api.ValueType{i32}, func(_ context.Context, mod api.Module, stack []uint64) {
		s, rec := api.DecodeU32(stack[0]), api.DecodeU32(stack[1])
		h.calls = append(h.calls, fmt.Sprintf("state_get %d %d", s, rec))
		v, ok := h.state[fmt.Sprintf("%d/%d", s, rec)]
		switch {
		case !ok:
			stack[0] = api.EncodeI32(-1)
		case uint32(len(v)) > api.DecodeU32(stack[5]):
			stack[0] = api.EncodeI32(int32(len(v)))
		default:
			if !mod.Memory().Write(api.DecodeU32(stack[4]), v) {
				panic("state_get: out buffer outside memory")
			}
			stack[0] = api.EncodeI32(int32(len(v)))
		}
	})
	fn("state_put", []api.ValueType{i32, i32, i32, i32, i32, i32}, []api.ValueType{i32}, func(_ context.Context, mod api.Module, stack []uint64) {
		s, rec := api.DecodeU32(stack[0]), api.DecodeU32(stack[1])
		v := read(mod, api.DecodeU32(stack[4]), api.DecodeU32(stack[5]))
		h.calls = append(h.calls, fmt.Sprintf("state_put %d %d %q", s, rec, v))
		h.state[fmt.Sprintf("%d/%d", s, rec)] = v
		stack[0] = 0
	})
	for _, u := range []struct {
		name   string
		params []api.ValueType
	}{
		{"state_append", []api.ValueType{i32, i32, i32, i32}},
		{"state_delete", []api.ValueType{i32, i32, i32, i32}},
		{"state_iter", []api.ValueType{i32, i32, i32, i32, i32}},
		{"task_info", []api.ValueType{i32, i32}},
	} {
		fn(u.name, u.params, []api.ValueType{i32}, func(_ context.Context, _ api.Module, stack []uint64) {
			h.calls = append(h.calls, u.name)
			stack[0] = api.EncodeI32(unsupported)
		})
	}
	timer := func(name string) {
		fn(name, []api.ValueType{i32, i32, i64}, []api.ValueType{i32}, func(_ context.Context, _ api.Module, stack []uint64) {
			h.calls = append(h.calls, fmt.Sprintf("%s %d %d %d", name, api.DecodeI32(stack[0]), api.DecodeU32(stack[1]), int64(stack[2])))
			stack[0] = api.EncodeI32(h.timerRC)
		})
	}
	timer("timer_register")
	timer("timer_delete")
	fn("current_watermark", nil, []api.ValueType{i64}, func(_ context.Context, _ api.Module, stack []uint64) {
		stack[0] = api.EncodeI64(h.watermark)
	})
	fn("current_time", nil, []api.ValueType{i64}, func(_ context.Context, _ api.Module, stack []uint64) {
		stack[0] = api.EncodeI64(h.now)
	})
	if _, err := b.Instantiate(ctx); err != nil {
		t.Fatal(err)
	}
	inst := instantiateRaw(t, r, module)
	raw := inst.describe(t)
	if err := json.Unmarshal(raw, &inst.desc); err != nil {
		t.Fatalf("description %q: %v", raw, err)
	}
	return h, inst
}

// do runs one call with the record of import calls started afresh.
func (h *asFakeHost) do(t *testing.T, inst *instance, kind, fn int32, input []byte) result {
	t.Helper()
	h.calls = nil
	return inst.mustDo(t, kind, fn, input)
}

// ok runs a call that must succeed with at most one emit, and returns its outputs.
func (h *asFakeHost) ok(t *testing.T, inst *instance, kind, fn int32, input []byte) []output {
	t.Helper()
	res := h.do(t, inst, kind, fn, input)
	if res.rc != rcOK {
		t.Fatalf("weir_call(%d, %d) = %d (error %v), want 0", kind, fn, res.rc, deref(res.errMsg))
	}
	switch len(res.frames) {
	case 0:
		return nil
	case 1:
		return decodeOutputs(t, res.frames[0])
	}
	t.Fatalf("weir_call(%d, %d): %d emits, want at most 1", kind, fn, len(res.frames))
	return nil
}

func deref(s *string) string {
	if s == nil {
		return "<none>"
	}
	return *s
}

// payloadOutputs are outputs with flags PAYLOAD alone, the i-th naming input i
// unless parents says otherwise.
func payloadOutputs(parents []uint32, ps ...string) []output {
	outs := make([]output, len(ps))
	for i, p := range ps {
		parent := uint32(i)
		if parents != nil {
			parent = parents[i]
		}
		outs[i] = output{Parent: parent, record: record{Flags: flagPayload, Payload: p}}
	}
	return outs
}

// aggGroup is one group of an aggregate frame: acc nil for "none yet".
type aggGroup struct {
	acc     *string
	records []record
	others  []string
}

func str(s string) *string { return &s }

func u32(b []byte, v uint32) []byte { return binary.LittleEndian.AppendUint32(b, v) }

func lenBytes(b []byte, s string) []byte { return append(u32(b, uint32(len(s))), s...) }

func aggFrame(op uint32, groups ...aggGroup) []byte {
	b := u32(u32(nil, op), uint32(len(groups)))
	for _, g := range groups {
		if g.acc == nil {
			b = u32(b, 0xFFFFFFFF)
		} else {
			b = lenBytes(b, *g.acc)
		}
		switch op {
		case 1:
			b = u32(b, uint32(len(g.records)))
			for _, r := range g.records {
				b = appendRecord(b, r)
			}
		case 2:
			b = u32(b, uint32(len(g.others)))
			for _, o := range g.others {
				b = lenBytes(b, o)
			}
		}
	}
	return b
}

func pls(ps ...string) []record {
	recs := make([]record, len(ps))
	for i, p := range ps {
		recs[i] = record{Flags: flagPayload, Payload: p}
	}
	return recs
}

// TestASAggregateCalls: an aggregate function answers add, merge and result over
// several groups, absent and empty accumulators included, with exactly one
// PAYLOAD-only output per group in group order, in one emit.
func TestASAggregateCalls(t *testing.T) {
	h, inst := newASFakeHost(t)
	agg := inst.fn(t, "agg", "aggregate")
	full := record{Flags: flagKey | flagTimestamp | flagPayload | flagHeaders, Key: "k", Timestamp: 9, Payload: "h",
		Headers: [][2]string{{"n", "v"}}}
	for _, c := range []struct {
		name string
		in   []byte
		want []output
	}{
		{"add", aggFrame(1,
			aggGroup{acc: nil, records: pls("a", "b")},
			aggGroup{acc: str(""), records: pls("r")},
			aggGroup{acc: str("x")},
			aggGroup{acc: nil},
			aggGroup{acc: str("\xff\x00"), records: []record{full, {Flags: 0}}},
		), payloadOutputs(nil, "c+a+b", "+r", "x", "c", "\xff\x00+h+")},
		{"merge", aggFrame(2,
			aggGroup{acc: str("a"), others: []string{"b", "c"}},
			aggGroup{acc: str("")},
			aggGroup{acc: str("z"), others: []string{""}},
		), payloadOutputs(nil, "a|b|c", "", "z|")},
		{"result", aggFrame(3, aggGroup{acc: str("a")}, aggGroup{acc: str("")}), payloadOutputs(nil, "<a>", "<>")},
		{"no groups", aggFrame(1), []output{}}, // one emit of an empty frame
	} {
		got := h.ok(t, inst, asCallAggregate, agg, c.in)
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", c.name, got, c.want)
		}
		if len(h.calls) != 0 {
			t.Errorf("%s: import calls %q", c.name, h.calls)
		}
	}

	// A failing add fails the call with its message and emits nothing; the next call runs.
	res := h.do(t, inst, asCallAggregate, agg, aggFrame(1, aggGroup{records: pls("a")}, aggGroup{records: pls("b", "fail")}))
	if res.rc != rcError || deref(res.errMsg) != "agg: cannot add record 1" || len(res.frames) != 0 {
		t.Errorf("failing add: rc %d, error %s, %d frames", res.rc, deref(res.errMsg), len(res.frames))
	}
	if got := h.ok(t, inst, asCallAggregate, agg, aggFrame(1, aggGroup{records: pls("a")})); !reflect.DeepEqual(got, payloadOutputs(nil, "c+a")) {
		t.Errorf("after a failure: %+v", got)
	}
}

// TestASReduceAggregateCalls: a reduce function answers aggregate calls (ABI
// §4.5): add without an accumulator starts from the first payload, merge folds
// the accumulators with the same function, result is the accumulator.
func TestASReduceAggregateCalls(t *testing.T) {
	h, inst := newASFakeHost(t)
	cat := inst.fn(t, "cat", "reduce")
	for _, c := range []struct {
		name string
		in   []byte
		want []output
	}{
		{"add", aggFrame(1,
			aggGroup{records: pls("1", "2", "3")},
			aggGroup{acc: str("0"), records: pls("x")},
			aggGroup{},
			aggGroup{acc: str(""), records: pls("y")},
			aggGroup{records: pls("")},
		), payloadOutputs(nil, "1,2,3", "0,x", "", ",y", "")},
		{"merge", aggFrame(2, aggGroup{acc: str("a"), others: []string{"b", "c"}}, aggGroup{acc: str("q")}),
			payloadOutputs(nil, "a,b,c", "q")},
		{"result", aggFrame(3, aggGroup{acc: str("a,b")}, aggGroup{acc: str("")}), payloadOutputs(nil, "a,b", "")},
	} {
		got := h.ok(t, inst, asCallAggregate, cat, c.in)
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", c.name, got, c.want)
		}
		// The running value of a window is the host's: no state import is used.
		if len(h.calls) != 0 {
			t.Errorf("%s: import calls %q", c.name, h.calls)
		}
	}
}

// asWindow is one window of a windows frame: key nil for a non-keyed stream.
type asWindow struct {
	start, end int64
	key        *string
	elements   []record
}

func windowsFrame(ws ...asWindow) []byte {
	b := u32(nil, uint32(len(ws)))
	for _, w := range ws {
		b = binary.LittleEndian.AppendUint64(b, uint64(w.start))
		b = binary.LittleEndian.AppendUint64(b, uint64(w.end))
		if w.key == nil {
			b = u32(b, 0xFFFFFFFF)
		} else {
			b = lenBytes(b, *w.key)
		}
		b = u32(b, uint32(len(w.elements)))
		for _, r := range w.elements {
			b = appendRecord(b, r)
		}
	}
	return b
}

// TestASWindowCalls: a window process function gets each window's bounds, key
// (or none) and elements, and its outputs name their window.
func TestASWindowCalls(t *testing.T) {
	h, inst := newASFakeHost(t)
	win := inst.fn(t, "win", "window_process")
	in := windowsFrame(
		asWindow{0, 10, str("k1"), []record{{Flags: flagTimestamp | flagPayload, Timestamp: 3, Payload: "a"},
			{Flags: flagKey | flagTimestamp | flagPayload | flagHeaders, Key: "x", Timestamp: 5, Payload: "b", Headers: [][2]string{{"h", "v"}}}}},
		asWindow{-10, 0, nil, nil},
		asWindow{10, 20, str("skip"), pls("s")},
		asWindow{20, 30, str(""), []record{{Flags: flagPayload}}},
		asWindow{math.MinInt64, math.MaxInt64, nil, pls("p", "q")},
	)
	want := payloadOutputs([]uint32{0, 1, 3, 4}, "0,10,k1,2:a@3/0;b@5/1;", "-10,0,-,0:", "20,30,,1:@-/0;",
		"-9223372036854775808,9223372036854775807,-,2:p@-/0;q@-/1;")
	if got := h.ok(t, inst, callWindow, win, in); !reflect.DeepEqual(got, want) {
		t.Errorf("windows:\n got %+v\nwant %+v", got, want)
	}
	if got := h.ok(t, inst, callWindow, win, windowsFrame()); got != nil {
		t.Errorf("no windows: %+v", got)
	}
	// An output without a payload fails the call, naming the rule.
	res := h.do(t, inst, callWindow, win, windowsFrame(asWindow{0, 1, str("k"), nil}, asWindow{0, 1, str("nopayload"), nil}))
	if res.rc != rcError || !strings.Contains(deref(res.errMsg), "window_process output must set a payload") || len(res.frames) != 0 {
		t.Errorf("output without a payload: rc %d, error %s, %d frames", res.rc, deref(res.errMsg), len(res.frames))
	}
	if got := h.ok(t, inst, callWindow, win, windowsFrame(asWindow{1, 2, nil, nil})); !reflect.DeepEqual(got, payloadOutputs(nil, "1,2,-,0:")) {
		t.Errorf("after a failure: %+v", got)
	}
}

// TestASTimers: a process function's timer and clock calls reach the imports
// with the current record's index, and its timer callback gets each fired timer
// with keyed state and timers for that timer's index.
func TestASTimers(t *testing.T) {
	h, inst := newASFakeHost(t)
	timed := inst.fn(t, "timed", "process")
	keyed := func(key string, ps ...string) []byte {
		recs := pls(ps...)
		for i := range recs {
			recs[i].Flags |= flagKey
			recs[i].Key = fmt.Sprintf("%s%d", key, i)
		}
		return batch(recs...)
	}
	got := h.ok(t, inst, callProcess, timed, keyed("k", "ev:100", "pt:200", "dev:300", "dpt:400", "clock", "ev:-5"))
	wantCalls := []string{"timer_register 0 0 100", "timer_register 1 1 200", "timer_delete 0 2 300", "timer_delete 1 3 400",
		"timer_register 0 5 -5"}
	if !reflect.DeepEqual(h.calls, wantCalls) {
		t.Errorf("import calls:\n got %q\nwant %q", h.calls, wantCalls)
	}
	if want := payloadOutputs([]uint32{4}, "wm=-9223372036854775808,now=1700000000123"); !reflect.DeepEqual(got, want) {
		t.Errorf("clock: %+v", got)
	}
	h.watermark = 1234
	if got := h.ok(t, inst, callProcess, timed, keyed("k", "clock")); !reflect.DeepEqual(got, payloadOutputs(nil, "wm=1234,now=1700000000123")) {
		t.Errorf("clock after a watermark: %+v", got)
	}

	// The host refusing a timer call fails the call with a message.
	for rc, msg := range map[int32]string{-3: "(INVALID)", -2: "(UNSUPPORTED)"} {
		h.timerRC = rc
		res := h.do(t, inst, callProcess, timed, keyed("k", "ev:1"))
		if res.rc != rcError || !strings.HasSuffix(deref(res.errMsg), msg) || len(res.frames) != 0 {
			t.Errorf("timer_register returning %d: rc %d, error %s", rc, res.rc, deref(res.errMsg))
		}
	}
	h.timerRC = 0

	// A timer call: state and timers act for the fired timer's index.
	h.state["0/1"] = []byte("old")
	fired := batch(
		record{Flags: flagKey | flagTimestamp | flagPayload, Key: "k1", Timestamp: 100, Payload: "\x00"},
		record{Flags: flagKey | flagTimestamp | flagPayload, Key: "again", Timestamp: 200, Payload: "\x01"},
	)
	got = h.ok(t, inst, callTimer, timed, fired)
	if want := payloadOutputs(nil, "fired 100 d0 kk1 seen=-", "fired 200 d1 kagain seen=old"); !reflect.DeepEqual(got, want) {
		t.Errorf("timer call:\n got %+v\nwant %+v", got, want)
	}
	wantCalls = []string{"state_get 0 0", `state_put 0 0 "k1"`, "state_get 0 1", `state_put 0 1 "again"`, "timer_register 0 1 201"}
	if !reflect.DeepEqual(h.calls, wantCalls) {
		t.Errorf("timer call's import calls:\n got %q\nwant %q", h.calls, wantCalls)
	}
	if got := h.ok(t, inst, callTimer, timed, batch()); got != nil {
		t.Errorf("no fired timers: %+v", got)
	}
}

// TestASWrongCallKind: a call kind the function's kind does not take gets 3,
// whatever its input, and nothing is emitted.
func TestASWrongCallKind(t *testing.T) {
	h, inst := newASFakeHost(t)
	good := map[int32][]byte{
		callProcess:     payloads("x"),
		callTimer:       batch(record{Flags: flagKey | flagTimestamp | flagPayload, Key: "k", Timestamp: 1, Payload: "\x00"}),
		callWindow:      windowsFrame(asWindow{0, 1, nil, pls("x")}),
		asCallAggregate: aggFrame(1, aggGroup{records: pls("x")}),
		callProcess2:    payloads("x"),
		0:               nil,
		8:               nil,
	}
	takes := map[string][]int32{
		"agg":      {asCallAggregate},
		"cat":      {callProcess, asCallAggregate},
		"win":      {callWindow},
		"timed":    {callProcess, callTimer},
		"plain":    {callProcess},
		"describe": {callProcess},
	}
	kinds := map[string]string{"agg": "aggregate", "cat": "reduce", "win": "window_process", "timed": "process",
		"plain": "process", "describe": "map"}
	for name, ok := range takes {
		fn := inst.fn(t, name, kinds[name])
		for kind, in := range good {
			if slices.Contains(ok, kind) {
				continue
			}
			for _, input := range [][]byte{in, {0xFF, 0xFF}, {}} {
				res := h.do(t, inst, kind, fn, input)
				if res.rc != rcUnsupported || len(res.frames) != 0 || len(h.calls) != 0 {
					t.Errorf("%s, call kind %d, input %x: rc %d, %d frames, calls %q, want 3", name, kind, input, res.rc, len(res.frames), h.calls)
				}
			}
		}
	}
	// An empty process batch is no exception for aggregate and window functions.
	for _, name := range []string{"agg", "win"} {
		if res := h.do(t, inst, callProcess, inst.fn(t, name, kinds[name]), batch()); res.rc != rcUnsupported {
			t.Errorf("%s: empty process batch: rc %d, want 3", name, res.rc)
		}
	}
}

// TestASMalformedWindowFrames: frames that break §4.4–4.6 get 4 and emit nothing.
func TestASMalformedWindowFrames(t *testing.T) {
	h, inst := newASFakeHost(t)
	agg, cat := inst.fn(t, "agg", "aggregate"), inst.fn(t, "cat", "reduce")
	win, timed := inst.fn(t, "win", "window_process"), inst.fn(t, "timed", "process")
	add := aggFrame(1, aggGroup{acc: str("a"), records: pls("x")})
	merge := aggFrame(2, aggGroup{acc: str("a"), others: []string{"b"}})
	windows := windowsFrame(asWindow{0, 1, str("k"), pls("x")})
	ts := record{Flags: flagKey | flagTimestamp | flagPayload, Key: "k", Timestamp: 1, Payload: "\x00"}
	for _, c := range []struct {
		name     string
		kind, fn int32
		in       []byte
	}{
		{"aggregate: empty", asCallAggregate, agg, nil},
		{"aggregate: op alone", asCallAggregate, agg, u32(nil, 1)},
		{"aggregate: op 0", asCallAggregate, agg, aggFrame(0)},
		{"aggregate: op 4", asCallAggregate, agg, aggFrame(4)},
		{"aggregate: group missing", asCallAggregate, agg, u32(u32(nil, 1), 1)},
		{"aggregate: groups past the end", asCallAggregate, agg, u32(u32(nil, 3), 1000)},
		{"aggregate: merge without accumulator", asCallAggregate, agg, aggFrame(2, aggGroup{others: []string{"b"}})},
		{"aggregate: result without accumulator", asCallAggregate, agg, aggFrame(3, aggGroup{})},
		{"aggregate: accumulator past the end", asCallAggregate, agg, add[:10]},
		{"aggregate: record count missing", asCallAggregate, agg, add[:13]},
		{"aggregate: record missing", asCallAggregate, agg, add[:17]},
		{"aggregate: record cut", asCallAggregate, agg, add[:len(add)-1]},
		{"aggregate: reserved flag", asCallAggregate, agg, aggFrame(1, aggGroup{records: []record{{Flags: 0x10}}})},
		{"aggregate: trailing byte", asCallAggregate, agg, append(bytes.Clone(add), 0)},
		{"aggregate: other missing", asCallAggregate, agg, merge[:len(merge)-5]},
		{"aggregate: other cut", asCallAggregate, agg, merge[:len(merge)-1]},
		{"aggregate: other absent", asCallAggregate, agg, u32(u32(lenBytes(u32(u32(nil, 2), 1), "a"), 1), 0xFFFFFFFF)},
		{"reduce: trailing byte", asCallAggregate, cat, append(bytes.Clone(merge), 0)},
		{"reduce: merge without accumulator", asCallAggregate, cat, aggFrame(2, aggGroup{})},
		{"window: empty", callWindow, win, nil},
		{"window: count past the end", callWindow, win, u32(nil, 2)},
		{"window: bounds cut", callWindow, win, windows[:20]},
		{"window: key cut", callWindow, win, windows[:24]},
		{"window: element count missing", callWindow, win, windows[:25]},
		{"window: elements past the end", callWindow, win, append(windows[:25:25], 9, 0, 0, 0)},
		{"window: element cut", callWindow, win, windows[:len(windows)-1]},
		{"window: trailing byte", callWindow, win, append(bytes.Clone(windows), 0)},
		{"timer: empty", callTimer, timed, nil},
		{"timer: count past the end", callTimer, timed, u32(nil, 5)},
		{"timer: domain 2", callTimer, timed, batch(record{Flags: ts.Flags, Key: "k", Timestamp: 1, Payload: "\x02"})},
		{"timer: two-byte payload", callTimer, timed, batch(record{Flags: ts.Flags, Key: "k", Timestamp: 1, Payload: "\x00\x00"})},
		{"timer: no payload", callTimer, timed, batch(record{Flags: flagKey | flagTimestamp, Key: "k", Timestamp: 1})},
		{"timer: no timestamp", callTimer, timed, batch(record{Flags: flagKey | flagPayload, Key: "k", Payload: "\x00"})},
		{"timer: trailing byte", callTimer, timed, append(batch(ts), 0)},
	} {
		res := h.do(t, inst, c.kind, c.fn, c.in)
		if res.rc != rcMalformed || len(res.frames) != 0 {
			t.Errorf("%s (%x): rc %d, %d frames, want 4 and none", c.name, c.in, res.rc, len(res.frames))
		}
	}
	// Nothing stuck: well-formed calls run after all that.
	if got := h.ok(t, inst, asCallAggregate, agg, add); !reflect.DeepEqual(got, payloadOutputs(nil, "a+x")) {
		t.Errorf("aggregate afterwards: %+v", got)
	}
	if got := h.ok(t, inst, callTimer, timed, batch(ts)); len(got) != 1 {
		t.Errorf("timer afterwards: %+v", got)
	}
}

// TestASWindowsExample: what the conformance suite does not reach in the
// AssemblyScript windows example: top3 over a big window with many ties against
// a sort here, and the errors of malformed accumulators and timestamp-less records.
func TestASWindowsExample(t *testing.T) {
	h, inst := newASFakeHostOf(t, "windows_as.wasm")
	top3 := inst.fn(t, "top3", "window_process")
	rng := rand.New(rand.NewPCG(1, 2))
	type item struct {
		name  string
		price int64
	}
	for _, n := range []int{0, 1, 2, 3, 4, 1000} {
		var items []item
		var elems []record
		for i := 0; i < n; i++ {
			it := item{fmt.Sprintf(`"i%d"`, rng.IntN(50)), rng.Int64N(20) - 5}
			items = append(items, it)
			elems = append(elems, record{Flags: flagPayload, Payload: fmt.Sprintf(`{"item":%s,"price":%d}`, it.name, it.price)})
		}
		elems = append(elems, record{Flags: flagPayload, Payload: `{"item":"no price"}`}, record{Flags: flagPayload, Payload: `{"price":99}`})
		slices.SortStableFunc(items, func(a, b item) int {
			if a.price != b.price {
				return cmp.Compare(b.price, a.price)
			}
			return strings.Compare(a.name, b.name)
		})
		var top []string
		for _, it := range items[:min(3, len(items))] {
			top = append(top, fmt.Sprintf(`{"item":%s,"price":%d}`, it.name, it.price))
		}
		want := payloadOutputs(nil, fmt.Sprintf(`{"window_start":5,"window_end":15,"top":[%s]}`, strings.Join(top, ",")))
		if got := h.ok(t, inst, callWindow, top3, windowsFrame(asWindow{5, 15, str("k"), elems})); !reflect.DeepEqual(got, want) {
			t.Errorf("%d elements:\n got %+v\nwant %+v", n, got, want)
		}
	}

	stats, sum := inst.fn(t, "session_stats", "aggregate"), inst.fn(t, "sum_price", "aggregate")
	for _, c := range []struct {
		fn  int32
		in  []byte
		msg string
	}{
		{stats, aggFrame(1, aggGroup{acc: str("short"), records: pls(`{"page":"/a"}`)}), "session_stats: malformed accumulator"},
		{stats, aggFrame(2, aggGroup{acc: str("\x00\x00\x00\x00\x00\x00\x00\x00"), others: []string{"\x01\x00\x00\x00\x00\x00\x00\x00\x09\x00\x00\x00/a"}}),
			"session_stats: malformed accumulator"},
		{stats, aggFrame(3, aggGroup{acc: str("")}), "session_stats: malformed accumulator"},
		{sum, aggFrame(2, aggGroup{acc: str("\x00\x00\x00\x00\x00\x00\x00\x00"), others: []string{"1"}}), "sum_price: malformed accumulator"},
	} {
		res := h.do(t, inst, asCallAggregate, c.fn, c.in)
		if res.rc != rcError || deref(res.errMsg) != c.msg || len(res.frames) != 0 {
			t.Errorf("%x: rc %d, error %s, %d frames; want 1, %q", c.in, res.rc, deref(res.errMsg), len(res.frames), c.msg)
		}
	}
	got := h.ok(t, inst, asCallAggregate, stats, aggFrame(1, aggGroup{records: pls(`{"page":"/b"}`, `{"page":"/a"}`, `{"page":"/b"}`)}))
	if want := payloadOutputs(nil, "\x03\x00\x00\x00\x00\x00\x00\x00\x02\x00\x00\x00/a\x02\x00\x00\x00/b"); !reflect.DeepEqual(got, want) {
		t.Errorf("session_stats add: %+v", got)
	}

	timeout := inst.fn(t, "timeout", "process")
	res := h.do(t, inst, callProcess, timeout, batch(record{Flags: flagKey | flagPayload, Key: `"u1"`, Payload: "{}"}))
	if res.rc != rcError || deref(res.errMsg) != "timeout: a record without a timestamp" || len(h.calls) != 0 {
		t.Errorf("timeout without a timestamp: rc %d, error %s, calls %q", res.rc, deref(res.errMsg), h.calls)
	}
	got = h.ok(t, inst, callProcess, timeout, batch(record{Flags: flagKey | flagTimestamp | flagPayload, Key: `"u1"`, Timestamp: 7, Payload: "{}"}))
	wantCalls := []string{`state_put 0 0 "\a\x00\x00\x00\x00\x00\x00\x00"`, "timer_register 0 0 1007"}
	if len(got) != 0 || !reflect.DeepEqual(h.calls, wantCalls) {
		t.Errorf("timeout: outputs %+v, calls %q, want %q", got, h.calls, wantCalls)
	}
}

// FuzzASWindowFrames hands aggregate, window and timer calls arbitrary input: the
// SDK must answer 0, 1 or 4 without trapping, and a call that succeeds emits at
// most one well-formed frame (for an aggregate call, one PAYLOAD-only output per
// group, in order). The seeds are well-formed frames of every kind.
//
//	go test -run '^$' -fuzz FuzzASWindowFrames -fuzztime 60s ./udf-examples/
func FuzzASWindowFrames(f *testing.F) {
	fired := batch(record{Flags: flagKey | flagTimestamp | flagPayload, Key: "again", Timestamp: 5, Payload: "\x01"})
	for _, seed := range [][]byte{
		aggFrame(1, aggGroup{records: pls("a", "b")}, aggGroup{acc: str("")}),
		aggFrame(2, aggGroup{acc: str("a"), others: []string{"b", ""}}),
		aggFrame(3, aggGroup{acc: str("x")}),
		windowsFrame(asWindow{0, 10, str("k"), pls("a")}, asWindow{-1, 1, nil, nil}),
		fired,
	} {
		for _, kind := range []int32{asCallAggregate, callWindow, callTimer} {
			f.Add(kind, seed)
		}
	}
	// One instance for every input: a call that does not trap leaves it usable.
	_, inst := newASFakeHost(f)
	fns := map[int32][]int32{
		asCallAggregate: {inst.fn(f, "agg", "aggregate"), inst.fn(f, "cat", "reduce")},
		callWindow:      {inst.fn(f, "win", "window_process")},
		callTimer:       {inst.fn(f, "timed", "process")},
	}
	f.Fuzz(func(t *testing.T, kind int32, in []byte) {
		for _, fn := range fns[kind] {
			res, err := inst.do(context.Background(), t, kind, fn, in)
			if err != nil {
				t.Fatalf("call kind %d, input %x: trapped: %v (stderr %s)", kind, in, err, inst.stderr.Bytes())
			}
			if res.rc != rcOK && res.rc != rcError && res.rc != rcMalformed {
				t.Fatalf("call kind %d, input %x: rc %d", kind, in, res.rc)
			}
			if res.rc != rcOK {
				if len(res.frames) != 0 {
					t.Fatalf("call kind %d, input %x: rc %d with %d frames", kind, in, res.rc, len(res.frames))
				}
				continue
			}
			if len(res.frames) > 1 {
				t.Fatalf("call kind %d: %d frames", kind, len(res.frames))
			}
			var outs []output
			if len(res.frames) == 1 {
				outs = decodeOutputs(t, res.frames[0])
			}
			if kind == asCallAggregate {
				if len(res.frames) != 1 || uint32(len(outs)) != binary.LittleEndian.Uint32(in[4:]) {
					t.Fatalf("aggregate call, input %x: %d frames, %d outputs", in, len(res.frames), len(outs))
				}
				for i, o := range outs {
					if o.Parent != uint32(i) || o.Tag != 0 || o.Flags != flagPayload {
						t.Fatalf("aggregate call, input %x: output %d is %+v", in, i, o)
					}
				}
			}
		}
	})
}
