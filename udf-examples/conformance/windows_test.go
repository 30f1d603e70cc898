package conformance_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/weir-streams/weir/internal/record"
	"github.com/weir-streams/weir/wasmhost"
)

// The window and timer examples (udf-examples/go/windows) through Weir's host:
// aggregate calls, window calls and timer calls as the window operator and the
// timer service make them, against results written here by hand.

// windowModules are the languages with the windows example, and their modules.
var windowModules = []struct{ lang, file string }{{"go", "windows.wasm"}, {"c", "windows_c.wasm"}, {"rust", "windows_rust.wasm"}, {"as", "windows_as.wasm"}}

// eachWindows runs test once per language with the windows example.
func eachWindows(t *testing.T, test func(t *testing.T, file string)) {
	for _, m := range windowModules {
		t.Run(m.lang, func(t *testing.T) { test(t, m.file) })
	}
}

func openWindows(t *testing.T, file, fn string) *wasmhost.Instance {
	t.Helper()
	inst, err := loadFile(t, file, file).Instantiate(context.Background(), fn, wasmhost.Limits{}, nil)
	if err != nil {
		t.Fatalf("instantiating %s: %v", fn, err)
	}
	t.Cleanup(func() { inst.Close(context.Background(), false) })
	if err := inst.Open(context.Background(), []byte("{}")); err != nil {
		t.Fatalf("opening %s: %v", fn, err)
	}
	return inst
}

func payloadBatch(ps ...string) *record.Batch {
	var b record.Batch
	b.Reset()
	for _, p := range ps {
		b.Append(&record.View{Flags: record.FlagPayload, Payload: []byte(p)})
	}
	return &b
}

func TestSessionStatsAggregate(t *testing.T) {
	eachWindows(t, func(t *testing.T, file string) {
		inst := openWindows(t, file, "session_stats")
		ctx := context.Background()
		add := wasmhost.NewAggregateFrame(wasmhost.AggregateAdd)
		add.AddGroup(nil, false, payloadBatch(`{"page":"/a"}`, `{"page":"/b"}`, `{"page":"/a"}`))
		add.AddGroup(nil, false, payloadBatch(`{"page":"/c"}`))
		accs, err := inst.Aggregate(ctx, add)
		if err != nil {
			t.Fatal(err)
		}
		a, b := slices.Clone(accs[0]), slices.Clone(accs[1])
		// A record bridging two sessions merges them: 4 clicks over /a, /b, /c.
		merge := wasmhost.NewAggregateFrame(wasmhost.AggregateMerge)
		merge.MergeGroup(a, [][]byte{b})
		merged, err := inst.Aggregate(ctx, merge)
		if err != nil {
			t.Fatal(err)
		}
		res := wasmhost.NewAggregateFrame(wasmhost.AggregateResult)
		res.ResultGroup(slices.Clone(merged[0]))
		res.ResultGroup(b)
		out, err := inst.Aggregate(ctx, res)
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprintf("%s %s", out[0], out[1]); got != `{"clicks":4,"pages":3} {"clicks":1,"pages":1}` {
			t.Fatalf("results %s", got)
		}
	})
}

func TestTop3WindowProcess(t *testing.T) {
	eachWindows(t, func(t *testing.T, file string) {
		inst := openWindows(t, file, "top3")
		f := wasmhost.NewWindowFrame()
		f.Add(0, 10_000, []byte(`"shop"`), true, payloadBatch(`{"item":"b","price":5}`, `{"item":"a","price":9}`,
			`{"item":"c","price":5}`, `{"item":"d","price":1}`, `{"item":"z","price":9}`))
		f.Add(10_000, 20_000, nil, false, payloadBatch(`{"item":"x","price":2}`))
		out, err := inst.Window(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		r := out.Reader()
		var v record.View
		for r.Next(&v) {
			got = append(got, fmt.Sprintf("%s@%d %s", v.Key, v.Timestamp, v.Payload))
		}
		want := []string{
			`"shop"@9999 {"window_start":0,"window_end":10000,"top":[{"item":"a","price":9},{"item":"z","price":9},{"item":"b","price":5}]}`,
			`@19999 {"window_start":10000,"window_end":20000,"top":[{"item":"x","price":2}]}`,
		}
		if !slices.Equal(got, want) {
			t.Fatalf("got  %q\nwant %q", got, want)
		}
	})
}

// memTimers is a timer service for one instance, kept by hand.
type memTimers struct{ timers map[string]bool }

func (m *memTimers) Register(d int, key []byte, at int64) error {
	m.timers[fmt.Sprintf("%d|%s|%d", d, key, at)] = true
	return nil
}

func (m *memTimers) Delete(d int, key []byte, at int64) error {
	delete(m.timers, fmt.Sprintf("%d|%s|%d", d, key, at))
	return nil
}

func TestTimeoutTimers(t *testing.T) {
	eachWindows(t, func(t *testing.T, file string) {
		inst := openWindows(t, file, "timeout")
		inst.SetKeyedState(&wasmhost.MemoryState{})
		tm := &memTimers{timers: map[string]bool{}}
		inst.SetTimers(tm)
		ctx := context.Background()
		var in record.Batch
		in.Reset()
		for _, r := range []struct {
			key string
			ts  int64
		}{{`"a"`, 1000}, {`"b"`, 1500}, {`"a"`, 1800}} {
			in.Append(&record.View{Flags: record.FlagKey | record.FlagTimestamp | record.FlagPayload, Key: []byte(r.key), Timestamp: r.ts, Payload: []byte("{}")})
		}
		if _, err := inst.Process(ctx, &in); err != nil {
			t.Fatal(err)
		}
		want := map[string]bool{`0|"a"|2000`: true, `0|"b"|2500`: true, `0|"a"|2800`: true}
		if fmt.Sprint(tm.timers) != fmt.Sprint(want) {
			t.Fatalf("timers %v, want %v", tm.timers, want)
		}
		// The watermark passes 2500: the first timer of "a" is stale (a later record
		// moved its deadline), that of "b" reports it.
		var fired record.Batch
		fired.Reset()
		for _, f := range []struct {
			key string
			at  int64
		}{{`"a"`, 2000}, {`"b"`, 2500}} {
			fired.Append(&record.View{Flags: record.FlagKey | record.FlagTimestamp | record.FlagPayload, Key: []byte(f.key), Timestamp: f.at, Payload: []byte{0}})
		}
		inst.SetWatermark(2500)
		out, err := inst.Timer(ctx, &fired)
		if err != nil {
			t.Fatal(err)
		}
		var v record.View
		r := out.Reader()
		if !r.Next(&v) || string(v.Key) != `"b"` || v.Timestamp != 2500 || r.Next(&v) {
			t.Fatalf("timer outputs: %d records, first %q@%d", out.Len(), v.Key, v.Timestamp)
		}
		var o map[string]any
		if err := json.Unmarshal(v.Payload, &o); err != nil || o["key"] != "b" || o["idle_since"] != 1500.0 {
			t.Fatalf("timeout output %s", v.Payload)
		}
	})
}

func TestEventTimeExtractor(t *testing.T) {
	eachWindows(t, func(t *testing.T, file string) {
		inst := openWindows(t, file, "event_time")
		in := payloadBatch(`{"ts":5,"k":1}`, `{"nots":1}`, `{"ts":9,"watermark":7}`, `{"watermark":8}`)
		out, err := inst.Process(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		r := out.Reader()
		var v record.View
		for r.Next(&v) {
			got = append(got, fmt.Sprintf("%d %s", v.Timestamp, v.Payload))
		}
		if want := []string{`5 {"ts":5,"k":1}`, `9 {"ts":9,"watermark":7}`}; !slices.Equal(got, want) {
			t.Fatalf("got %q, want %q", got, want)
		}
		dropped, maxTS, punct, punctuated := inst.Extraction()
		if dropped != 2 || maxTS != 9 || punct != 8 || !punctuated {
			t.Fatalf("extraction: dropped %d, max %d, punctuation %d %v", dropped, maxTS, punct, punctuated)
		}
	})
}

func TestSumPriceAggregate(t *testing.T) {
	eachWindows(t, func(t *testing.T, file string) {
		inst := openWindows(t, file, "sum_price")
		ctx := context.Background()
		add := wasmhost.NewAggregateFrame(wasmhost.AggregateAdd)
		add.AddGroup(nil, false, payloadBatch(`{"price":5}`, `{"price":-2}`, `{"nope":1}`))
		add.AddGroup(nil, false, payloadBatch())
		accs, err := inst.Aggregate(ctx, add)
		if err != nil {
			t.Fatal(err)
		}
		merge := wasmhost.NewAggregateFrame(wasmhost.AggregateMerge)
		merge.MergeGroup(slices.Clone(accs[0]), [][]byte{slices.Clone(accs[0]), slices.Clone(accs[1])})
		merged, err := inst.Aggregate(ctx, merge)
		if err != nil {
			t.Fatal(err)
		}
		res := wasmhost.NewAggregateFrame(wasmhost.AggregateResult)
		res.ResultGroup(slices.Clone(merged[0]))
		out, err := inst.Aggregate(ctx, res)
		if err != nil || string(out[0]) != `{"sum":6}` {
			t.Fatalf("sum: %q, %v", out, err)
		}
	})
}

// TestReduceInWindow runs the Go counter's sum, a reduce function, as a window's
// function: aggregate calls fold payloads and accumulators with it.
func TestReduceInWindow(t *testing.T) {
	inst, err := loadFile(t, "go", "counter.wasm").Instantiate(context.Background(), "sum", wasmhost.Limits{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { inst.Close(context.Background(), false) })
	if err := inst.Open(context.Background(), []byte("{}")); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	add := wasmhost.NewAggregateFrame(wasmhost.AggregateAdd)
	add.AddGroup(nil, false, payloadBatch(`{"amount":2}`, `{"amount":5}`))
	add.AddGroup([]byte(`{"amount":10}`), true, payloadBatch(`{"amount":1}`))
	accs, err := inst.Aggregate(ctx, add)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprintf("%s %s", accs[0], accs[1]); got != `{"amount":7} {"amount":11}` {
		t.Fatalf("add: %s", got)
	}
	merge := wasmhost.NewAggregateFrame(wasmhost.AggregateMerge)
	merge.MergeGroup(slices.Clone(accs[0]), [][]byte{slices.Clone(accs[1])})
	res := wasmhost.NewAggregateFrame(wasmhost.AggregateResult)
	merged, err := inst.Aggregate(ctx, merge)
	if err != nil {
		t.Fatal(err)
	}
	res.ResultGroup(slices.Clone(merged[0]))
	out, err := inst.Aggregate(ctx, res)
	if err != nil || string(out[0]) != `{"amount":18}` {
		t.Fatalf("result: %q %v", out, err)
	}
}
