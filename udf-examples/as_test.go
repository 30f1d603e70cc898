package udfexamples_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
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
