package as_test

import (
	"encoding/json"
	"math"
	"reflect"
	"testing"
)

// The `streams` example (udf-examples/as/assembly/streams.ts), the same in every SDK.

func TestStreamsDescription(t *testing.T) {
	h := newHost(t, "streams_as.wasm")
	got, _ := json.Marshal(h.desc.Functions)
	want := `[{"name":"fraud","kind":"co_process","index":0,"side_outputs":["clean"],"state":[{"name":"rules","kind":"broadcast","ttl_ms":0}]},` +
		`{"name":"match","kind":"map","index":1,"side_outputs":[],"state":[]},` +
		`{"name":"eager","kind":"trigger","index":2,"side_outputs":[],"state":[]},` +
		`{"name":"drop_negative","kind":"evictor","index":3,"side_outputs":[],"state":[]}]`
	if string(got) != want {
		t.Errorf("functions:\n got %s\nwant %s", got, want)
	}
}

// TestStreamsFraud: rules from the broadcast input land in broadcast state (and
// nothing else does); each transaction gets an alert per rule it breaks, in rule
// id order, or goes to "clean" itself.
func TestStreamsFraud(t *testing.T) {
	h := newHost(t, "streams_as.wasm")
	h.broadcastInput = true
	fraud := h.fn(t, "fraud", "co_process")
	rules, keys := keyedBatch(
		"", `{"rule":"r2","max_amount":100}`,
		"", `{"max_amount":50.5,"rule":"r1"}`,
		"", `not json`,
		"", `{"rule":5,"max_amount":1}`,
		"", `{"rule":"r3"}`,
		"", `{"rule":"r4","max_amount":"1"}`,
		"", `{"rule":"r9","max_amount":1}`,
		"", `{"rule":"r9","delete":true}`,
		"", `{"rule":"r2","delete":false}`,
		"", `{"rule":"r5","max_amount":1`,
		"", `[{"rule":"r6","max_amount":1}]`,
	)
	if got := h.ok(t, callProcess2, fraud, rules, keys...); got != nil {
		t.Errorf("rules emitted %+v", got)
	}
	wantRules := map[string][]byte{"r1": []byte(`{"max_amount":50.5,"rule":"r1"}`), "r2": []byte(`{"rule":"r2","max_amount":100}`)}
	if !reflect.DeepEqual(h.shared[0], wantRules) {
		t.Fatalf("broadcast state %q, want %q", h.shared[0], wantRules)
	}

	txns, keys := keyedBatch(
		`"a"`, `{"id":1,"account":"a","amount":75}`,
		`"b"`, `{"id":"t2","account":"b","amount":500}`,
		`"a"`, `{"id":3,"account":"a","amount":10}`,
		`"a"`, `{"id":4,"account":"a","amount":"75"}`,
		`"c"`, `{"id":5,"account":"c","amount":50.5}`,
		`"c"`, `{"id":{"n":6},"account":"c","amount":1e3}`,
		`"c"`, `{"account":"c","amount":51}`,
	)
	clean := func(parent uint32) output { return output{Parent: parent, Tag: 1} }
	want := []output{
		out(0, 0, `{"txn":1,"rule":"r1","amount":75}`),
		out(1, 0, `{"txn":"t2","rule":"r1","amount":500}`),
		out(1, 0, `{"txn":"t2","rule":"r2","amount":500}`),
		clean(2), clean(3), clean(4),
		out(5, 0, `{"txn":{"n":6},"rule":"r1","amount":1e3}`),
		out(5, 0, `{"txn":{"n":6},"rule":"r2","amount":1e3}`),
		out(6, 0, `{"txn":null,"rule":"r1","amount":51}`),
	}
	if got := h.ok(t, callProcess, fraud, txns, keys...); !reflect.DeepEqual(got, want) {
		t.Errorf("transactions:\n got %+v\nwant %+v", got, want)
	}

	// A deleted rule matches no more.
	del, keys := keyedBatch("", `{"rule":"r1","delete":true}`)
	h.ok(t, callProcess2, fraud, del, keys...)
	txns, keys = keyedBatch(`"a"`, `{"id":1,"account":"a","amount":75}`, `"a"`, `{"id":2,"account":"a","amount":101}`)
	if got, want := h.ok(t, callProcess, fraud, txns, keys...), []output{clean(0), out(1, 0, `{"txn":2,"rule":"r2","amount":101}`)}; !reflect.DeepEqual(got, want) {
		t.Errorf("after deleting r1:\n got %+v\nwant %+v", got, want)
	}
	// A keyed call kind the function does not take.
	h.fails(t, rcUnsupported, callWindow, fraud, windowsFrame())
}

func TestStreamsMatch(t *testing.T) {
	h := newHost(t, "streams_as.wasm")
	match := h.fn(t, "match", "map")
	cases := []struct{ in, want string }{
		{`{"left":{"order_id":1,"amount":100},"right":{"order_id":1,"amount":100}}`, `{"order":1,"ordered":100,"paid":100,"underpaid":false}`},
		{`{"left":{"order_id":"o1","amount":100,"x":[1]},"right":{"order_id":"o1","amount":99.5}}`, `{"order":"o1","ordered":100,"paid":99.5,"underpaid":true}`},
		{`{"left":{"order_id":1,"amount":100},"right":null}`, `{"order":1,"ordered":100,"paid":null,"underpaid":true}`},
		{`{"left":null,"right":{"order_id":"o2","amount":5}}`, `{"order":"o2","ordered":null,"paid":5,"underpaid":false}`},
		{`{"right":{"amount":5,"order_id":7},"left":{"amount":1e2,"order_id":7}}`, `{"order":7,"ordered":1e2,"paid":5,"underpaid":true}`},
		{`{"left":{"order_id":1,"amount":100},"right":{"order_id":1,"amount":100.5}}`, `{"order":1,"ordered":100,"paid":100.5,"underpaid":false}`},
	}
	var in []string
	var want []output
	for i, c := range cases {
		in = append(in, "", c.in)
		want = append(want, out(uint32(i), 0, c.want))
	}
	b, keys := keyedBatch(in...)
	if got := h.ok(t, callProcess, match, b, keys...); !reflect.DeepEqual(got, want) {
		t.Errorf("\n got %+v\nwant %+v", got, want)
	}
}

func TestStreamsEager(t *testing.T) {
	h := newHost(t, "streams_as.wasm")
	eager := h.fn(t, "eager", "trigger")
	k := str(`"k"`)
	in := triggerFrame(
		triggerEvent{0, 0, 10, 3, 4, k},
		triggerEvent{0, 0, 10, 4, 5, k},
		triggerEvent{0, 0, 10, 9, 12, nil},
		triggerEvent{1, 0, 10, 8, 5, k},
		triggerEvent{1, 0, 10, 9, 5, k},
		triggerEvent{1, 0, 10, 20, 0, nil},
		triggerEvent{2, 0, 10, 9, 5, k},
		triggerEvent{0, math.MinInt64, math.MaxInt64, 1, 1, nil},
	)
	want := []output{
		out(0, 0, triggerPayload(0, 9)),
		out(1, 0, triggerPayload(1, 9)),
		out(2, 0, triggerPayload(1, 9)),
		out(3, 0, triggerPayload(0, math.MinInt64)),
		out(4, 0, triggerPayload(3, math.MinInt64)),
		out(5, 0, triggerPayload(3, math.MinInt64)),
		out(6, 0, triggerPayload(0, math.MinInt64)),
		out(7, 0, triggerPayload(0, math.MaxInt64-1)),
	}
	if got := h.ok(t, callTrigger, eager, in); !reflect.DeepEqual(got, want) {
		t.Errorf("\n got %+v\nwant %+v", got, want)
	}
}

func TestStreamsDropNegative(t *testing.T) {
	h := newHost(t, "streams_as.wasm")
	drop := h.fn(t, "drop_negative", "evictor")
	in := windowsFrame(
		window{0, 10, str(`"k"`), []string{`{"amount":-1}`, `{"amount":0}`, `{"amount":"-5"}`, `{"x":1}`, `{"amount":-0.5}`,
			`not json`, `{"amount":-0}`, `{"id":1,"amount":-1e-3}`}},
		window{10, 20, str(`"k"`), nil},
		window{0, 10, nil, []string{`{"amount":-2}`, `{"amount":-3}`}},
	)
	want := []output{out(0, 0, evictPayload(0, 4, 7)), out(1, 0, evictPayload()), out(2, 0, evictPayload(0, 1))}
	if got := h.ok(t, callEvict, drop, in); !reflect.DeepEqual(got, want) {
		t.Errorf("\n got %+v\nwant %+v", got, want)
	}
}
