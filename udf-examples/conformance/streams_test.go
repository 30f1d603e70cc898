package conformance_test

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"testing"

	"github.com/weir-streams/weir/internal/record"
	"github.com/weir-streams/weir/wasmhost"
)

// The streams example (udf-examples/README.md, "The streams module") through
// Weir's host in every language: the fraud co_process function with its
// broadcast state and side output, the match map, the eager trigger and the
// drop_negative evictor, against results written here by hand.

var streamsModules = []struct{ lang, file string }{{"go", "streams.wasm"}, {"c", "streams_c.wasm"}, {"rust", "streams_rust.wasm"}, {"as", "streams_as.wasm"}}

func eachStreams(t *testing.T, test func(t *testing.T, file string)) {
	for _, m := range streamsModules {
		t.Run(m.lang, func(t *testing.T) { test(t, m.file) })
	}
}

// mapState is a KeyedState for the conformance tests: one map per (state, key),
// a broadcast state under the key nil whatever the record's key, as the worker
// keeps it.
type mapState struct {
	broadcast map[int]bool
	data      map[string]map[string][]byte
}

func (m *mapState) where(st int, key []byte) string {
	if m.broadcast[st] {
		key = nil
	}
	return fmt.Sprintf("%d/%x", st, key)
}

func (m *mapState) Get(st int, key, sub, dst []byte) ([]byte, bool, error) {
	v, ok := m.data[m.where(st, key)][string(sub)]
	return append(dst, v...), ok, nil
}

func (m *mapState) Put(st int, key, sub, val []byte) error {
	w := m.where(st, key)
	if m.data[w] == nil {
		m.data[w] = map[string][]byte{}
	}
	m.data[w][string(sub)] = slices.Clone(val)
	return nil
}

func (m *mapState) Append(int, []byte, []byte) error { return fmt.Errorf("no list state here") }

func (m *mapState) Delete(st int, key, sub []byte) error {
	if len(sub) == 0 {
		delete(m.data, m.where(st, key))
		return nil
	}
	delete(m.data[m.where(st, key)], string(sub))
	return nil
}

func (m *mapState) Iter(st int, key []byte, cursor int) ([]byte, []byte, bool, error) {
	entries := m.data[m.where(st, key)]
	subs := make([]string, 0, len(entries))
	for k := range entries {
		subs = append(subs, k)
	}
	sort.Strings(subs)
	if cursor >= len(subs) {
		return nil, nil, false, nil
	}
	return []byte(subs[cursor]), entries[subs[cursor]], true, nil
}

func keyed(key string, payloads ...string) *record.Batch {
	var b record.Batch
	b.Reset()
	for _, p := range payloads {
		b.Append(&record.View{Flags: record.FlagKey | record.FlagPayload, Key: []byte(key), Payload: []byte(p)})
	}
	return &b
}

func payloads(b *record.Batch) []string {
	var out []string
	r := b.Reader()
	var v record.View
	for r.Next(&v) {
		out = append(out, string(v.Payload))
	}
	return out
}

func TestStreamsFraud(t *testing.T) {
	eachStreams(t, func(t *testing.T, file string) {
		ctx := context.Background()
		inst := openWindows(t, file, "fraud")
		st := &mapState{broadcast: map[int]bool{0: true}, data: map[string]map[string][]byte{}}
		inst.SetKeyedState(st)
		inst.SetBroadcastSecond(true)
		if out, err := inst.Process2(ctx, payloadBatch(`{"rule":"big","max_amount":900}`, `{"rule":"medium","max_amount":500}`, `{"rule":"gone","max_amount":1}`, `{"rule":"gone","delete":true}`)); err != nil || out.Len() != 0 {
			t.Fatalf("process2: %v, %d outputs", err, out.Len())
		}
		out, err := inst.Process(ctx, keyed(`"a1"`, `{"id":"t1","account":"a1","amount":950}`, `{"id":"t2","account":"a1","amount":600}`, `{"id":"t3","account":"a1","amount":20}`))
		if err != nil {
			t.Fatal(err)
		}
		want := []string{`{"txn":"t1","rule":"big","amount":950}`, `{"txn":"t1","rule":"medium","amount":950}`, `{"txn":"t2","rule":"medium","amount":600}`}
		if got := payloads(out); !slices.Equal(got, want) {
			t.Fatalf("alerts %q, want %q", got, want)
		}
		if got := payloads(inst.SideOutput(1)); !slices.Equal(got, []string{`{"id":"t3","account":"a1","amount":20}`}) {
			t.Fatalf("clean %q", got)
		}
		// A rule update applies to the records after it; the keyed side
		// cannot write broadcast state.
		if _, err := inst.Process2(ctx, payloadBatch(`{"rule":"medium","delete":true}`, `{"rule":"small","max_amount":10}`)); err != nil {
			t.Fatal(err)
		}
		out, err = inst.Process(ctx, keyed(`"a2"`, `{"id":"t4","account":"a2","amount":600}`))
		if err != nil {
			t.Fatal(err)
		}
		if got := payloads(out); !slices.Equal(got, []string{`{"txn":"t4","rule":"small","amount":600}`}) {
			t.Fatalf("alerts after the update %q", got)
		}
		if n := inst.SideOutput(1).Len(); n != 0 {
			t.Fatalf("%d clean records after the update", n)
		}
	})
}

func TestStreamsMatch(t *testing.T) {
	eachStreams(t, func(t *testing.T, file string) {
		inst := openWindows(t, file, "match")
		out, err := inst.Process(context.Background(), payloadBatch(
			`{"left":{"order_id":"o1","amount":100,"ts":5},"right":{"order_id":"o1","amount":100,"ts":6}}`,
			`{"left":{"order_id":"o2","amount":100},"right":{"order_id":"o2","amount":99.5}}`,
			`{"left":{"order_id":7,"amount":3},"right":null}`,
			`{"left":null,"right":{"order_id":"o9","amount":4}}`,
		))
		if err != nil {
			t.Fatal(err)
		}
		want := []string{
			`{"order":"o1","ordered":100,"paid":100,"underpaid":false}`,
			`{"order":"o2","ordered":100,"paid":99.5,"underpaid":true}`,
			`{"order":7,"ordered":3,"paid":null,"underpaid":true}`,
			`{"order":"o9","ordered":null,"paid":4,"underpaid":false}`,
		}
		if got := payloads(out); !slices.Equal(got, want) {
			t.Fatalf("rows\n%q\nwant\n%q", got, want)
		}
	})
}

func TestStreamsEagerTrigger(t *testing.T) {
	eachStreams(t, func(t *testing.T, file string) {
		inst := openWindows(t, file, "eager")
		f := wasmhost.NewTriggerFrame()
		f.AddEvent(wasmhost.TriggerElements, 0, 1000, 10, 4, []byte("k"), true)
		f.AddEvent(wasmhost.TriggerElements, 0, 1000, 20, 5, []byte("k"), true)
		f.AddEvent(wasmhost.TriggerEventTime, 0, 1000, 500, 5, []byte("k"), true)
		f.AddEvent(wasmhost.TriggerEventTime, 0, 1000, 999, 5, nil, false)
		f.AddEvent(wasmhost.TriggerProcessingTime, math.MinInt64, math.MaxInt64, 7, 1, []byte("k"), true)
		got, err := inst.Trigger(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		want := []wasmhost.TriggerAction{
			{Result: wasmhost.TriggerContinue, EventTimer: 999, ProcessingTimer: wasmhost.NoTimer},
			{Result: wasmhost.TriggerFire, EventTimer: 999, ProcessingTimer: wasmhost.NoTimer},
			{Result: wasmhost.TriggerContinue, EventTimer: wasmhost.NoTimer, ProcessingTimer: wasmhost.NoTimer},
			{Result: wasmhost.TriggerFireAndPurge, EventTimer: wasmhost.NoTimer, ProcessingTimer: wasmhost.NoTimer},
			{Result: wasmhost.TriggerContinue, EventTimer: wasmhost.NoTimer, ProcessingTimer: wasmhost.NoTimer},
		}
		if !slices.Equal(got, want) {
			t.Fatalf("actions %+v\nwant %+v", got, want)
		}
	})
}

func TestStreamsDropNegativeEvictor(t *testing.T) {
	eachStreams(t, func(t *testing.T, file string) {
		inst := openWindows(t, file, "drop_negative")
		f := wasmhost.NewEvictFrame()
		f.AddWindow(0, 1000, []byte("k"), true)
		for _, p := range []string{`{"amount":5}`, `{"amount":-1}`, `{"x":1}`, `{"amount":-0.5}`, `{"amount":"-3"}`} {
			f.AddElement(&record.View{Flags: record.FlagPayload, Payload: []byte(p)})
		}
		f.AddWindow(math.MinInt64, math.MaxInt64, nil, false)
		f.AddWindow(0, 10, nil, false)
		f.AddElement(&record.View{Flags: record.FlagPayload, Payload: []byte(`{"amount":-2}`)})
		got, err := inst.Evict(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		if s := fmt.Sprint(got); s != "[[1 3] [] [0]]" {
			t.Fatalf("evicted %s", s)
		}
	})
}
