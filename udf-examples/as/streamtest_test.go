package as_test

import (
	"bytes"
	"math"
	"reflect"
	"strings"
	"testing"
)

// The SDK's co_process, broadcast state, trigger and evictor API, through
// udf-examples/as/assembly/streamtest.ts (its header lists the commands).

const streamTestModule = "testdata/streamtest_as.wasm"

// TestASCoProcess: both inputs reach their handler with keyed state shared by
// key, side outputs by name, timers, and broadcast state written in process2 and
// read in every call.
func TestASCoProcess(t *testing.T) {
	h := newHost(t, streamTestModule)
	co := h.fn(t, "co", "co_process")
	in2, keys := keyedBatch("k1", "put:a=1", "k1", "put:c=3", "k2", "put:b=2", "k1", "count", "k1", "list", "k1", "get:b",
		"k1", "get:z", "k1", "del:c", "k1", "side", "k1", "list", "k1", "put:a=10")
	want := []output{out(3, 0, "in2:v=1"), out(4, 0, "in2:a=1;b=2;c=3;"), out(5, 0, "b=2"), out(6, 0, "z-"), out(8, 1, "side"),
		out(9, 0, "in2:a=1;b=2;")}
	if got := h.ok(t, callProcess2, co, in2, keys...); !reflect.DeepEqual(got, want) {
		t.Errorf("process2:\n got %+v\nwant %+v", got, want)
	}
	in1, keys := keyedBatch("k1", "count", "k2", "count", "k2", "list", "k1", "timer:100", "k2", "get:a")
	want = []output{out(0, 0, "in1:v=2"), out(1, 0, "in1:v=1"), out(2, 0, "in1:a=10;b=2;"), out(4, 0, "a=10")}
	if got := h.ok(t, callProcess, co, in1, keys...); !reflect.DeepEqual(got, want) {
		t.Errorf("process:\n got %+v\nwant %+v", got, want)
	}
	if want := []string{"timer_register 0 k1 100"}; !reflect.DeepEqual(h.calls, want) {
		t.Errorf("timer calls %q, want %q", h.calls, want)
	}

	// Writing broadcast state outside process2: the host says INVALID, the SDK says why.
	for _, cmd := range []string{"put:x=1", "del:a", "clear"} {
		b, keys := keyedBatch("k1", "count", "k1", cmd)
		msg := h.fails(t, rcError, callProcess, co, b, keys...)
		if !strings.HasPrefix(msg, `weir: `) || !strings.Contains(msg, `state "b": the host refused the call as invalid (INVALID): `+
			`broadcast state is written only while processing the broadcast input (process2`) {
			t.Errorf("%s in process: error %q", cmd, msg)
		}
	}

	// A timer call: the callback reads broadcast state; ctx.input is 0.
	fired := u32(nil, 1)
	fired = appendRecord(fired, record{Flags: flagKey | flagTimestamp | flagPayload, Key: "k1", Timestamp: 100, Payload: "\x00"})
	if got, want := h.ok(t, callTimer, co, fired, "k1"), []output{out(0, 0, "timer 100 in0 a=10;b=2;")}; !reflect.DeepEqual(got, want) {
		t.Errorf("timer:\n got %+v\nwant %+v", got, want)
	}

	// clear in process2 empties it for everyone.
	b, keys := keyedBatch("k9", "clear", "k9", "list")
	if got, want := h.ok(t, callProcess2, co, b, keys...), []output{out(1, 0, "in2:")}; !reflect.DeepEqual(got, want) {
		t.Errorf("after clear: %+v", got)
	}

	// A broadcast second input: keyed state and timers are INVALID in process2,
	// broadcast state is not.
	h.broadcastInput = true
	for cmd, prefix := range map[string]string{
		"count":   `weir: reading state "v": the host refused the call as invalid (INVALID)`,
		"timer:5": `weir: the host refused the timer call as invalid (INVALID)`,
	} {
		b, keys := keyedBatch("", cmd)
		if msg := h.fails(t, rcError, callProcess2, co, b, keys...); !strings.HasPrefix(msg, prefix) {
			t.Errorf("%s in broadcast process2: error %q, want %q", cmd, msg, prefix)
		}
	}
	b, keys = keyedBatch("", "put:q=1", "", "list")
	if got, want := h.ok(t, callProcess2, co, b, keys...), []output{out(1, 0, "in2:q=1;")}; !reflect.DeepEqual(got, want) {
		t.Errorf("broadcast process2: %+v", got)
	}
}

// TestASTrigger: every event's fields reach the function and every result is
// encoded as §4.9 says, 9 bytes or 17 with a processing-time timer.
func TestASTrigger(t *testing.T) {
	h := newHost(t, streamTestModule)
	trig := h.fn(t, "trig", "trigger")
	in := triggerFrame(
		triggerEvent{0, 0, 10, 3, 4, str("ab")},
		triggerEvent{1, 0, 10, 9, 5, str("k")},
		triggerEvent{2, -5, 10, 7, 6, nil},
		triggerEvent{0, math.MinInt64, math.MaxInt64, 0, 7, str("")},
		triggerEvent{2, 100, 200, 150, 1, str("key")},
	)
	want := []output{
		out(0, 0, triggerPayload(0, 5)),
		out(1, 0, triggerPayload(1, 9)),
		out(2, 0, triggerPayload(2, math.MinInt64, 10)),
		out(3, 0, triggerPayload(3, math.MinInt64)),
		out(4, 0, triggerPayload(1, 253, 200)),
	}
	if got := h.ok(t, callTrigger, trig, in); !reflect.DeepEqual(got, want) {
		t.Errorf("\n got %+v\nwant %+v", got, want)
	}
	if got := h.ok(t, callTrigger, trig, triggerFrame()); got != nil {
		t.Errorf("no events: %+v", got)
	}
	msg := h.fails(t, rcError, callTrigger, trig, triggerFrame(triggerEvent{0, 0, 1, 0, 1, nil}, triggerEvent{0, 0, 1, 0, 1, str("bad")}))
	if !strings.Contains(msg, "trigger trig: action 7 is none of") {
		t.Errorf("action 7: error %q", msg)
	}
	one := triggerFrame(triggerEvent{0, 0, 10, 3, 4, str("ab")})
	bad := bytes.Clone(one)
	bad[4] = 3
	for name, in := range map[string][]byte{
		"empty":           nil,
		"count alone":     u32(nil, 1),
		"count too large": u32(nil, 1000),
		"event cut":       one[:30],
		"key cut":         one[:len(one)-1],
		"event kind 3":    bad,
		"trailing byte":   append(bytes.Clone(one), 0),
	} {
		t.Run(name, func(t *testing.T) { h.fails(t, rcMalformed, callTrigger, trig, in) })
	}
	if got := h.ok(t, callTrigger, trig, one); !reflect.DeepEqual(got, want[:1]) {
		t.Errorf("after malformed frames: %+v", got)
	}
}

// TestASEvictor: the marked elements go to the host once each, ascending,
// whatever order they were marked in; an index out of range fails the call.
func TestASEvictor(t *testing.T) {
	h := newHost(t, streamTestModule)
	ev := h.fn(t, "evict", "evictor")
	in := windowsFrame(
		window{0, 10, str("k"), []string{"a", "x", "xx", "b", "x"}},
		window{0, 10, nil, []string{"x"}},
		window{5, 6, str(""), nil},
	)
	want := []output{out(0, 0, evictPayload(1, 2, 4)), out(1, 0, evictPayload(0)), out(2, 0, evictPayload())}
	if got := h.ok(t, callEvict, ev, in); !reflect.DeepEqual(got, want) {
		t.Errorf("\n got %+v\nwant %+v", got, want)
	}
	msg := h.fails(t, rcError, callEvict, ev, windowsFrame(window{0, 1, nil, []string{"oob"}}))
	if msg != "weir: evictor: element 1 out of range (the window has 1)" {
		t.Errorf("out of range: error %q", msg)
	}
	one := windowsFrame(window{0, 10, str("k"), []string{"x"}})
	for _, in := range [][]byte{nil, u32(nil, 1), u32(nil, 100), one[:20], one[:25], one[:len(one)-1], append(bytes.Clone(one), 0)} {
		h.fails(t, rcMalformed, callEvict, ev, in)
	}
	if got := h.ok(t, callEvict, ev, one); !reflect.DeepEqual(got, []output{out(0, 0, evictPayload(0))}) {
		t.Errorf("after failures: %+v", got)
	}
}

// TestASNewKindsWrongCallKind: each new kind answers 3 to the call kinds it does
// not take, and the older kinds answer 3 to process2, trigger and evict.
func TestASNewKindsWrongCallKind(t *testing.T) {
	h := newHost(t, streamTestModule)
	streams := newHost(t, "streams_as.wasm")
	good, _ := keyedBatch("k", "count")
	for _, c := range []struct {
		h     *host
		fn    int32
		kinds []int32
	}{
		{h, h.fn(t, "co", "co_process"), []int32{callWindow, 7, callTrigger, callEvict, 0, 10}},
		{h, h.fn(t, "trig", "trigger"), []int32{callProcess, callProcess2, callTimer, callWindow, 7, callEvict}},
		{h, h.fn(t, "evict", "evictor"), []int32{callProcess, callProcess2, callTimer, callWindow, 7, callTrigger}},
		{streams, streams.fn(t, "match", "map"), []int32{callProcess2, callTimer, callTrigger, callEvict}},
	} {
		for _, kind := range c.kinds {
			c.h.fails(t, rcUnsupported, kind, c.fn, good, "k")
		}
	}
	// A co_process function without onTimer takes no timer call.
	fired := appendRecord(u32(nil, 1), record{Flags: flagKey | flagTimestamp | flagPayload, Key: "k", Timestamp: 1, Payload: "\x00"})
	streams.fails(t, rcUnsupported, callTimer, streams.fn(t, "fraud", "co_process"), fired, "k")
	// open and close work for the new kinds.
	for _, name := range []string{"trig", "evict", "co"} {
		fn := h.functionByName[name]
		if res := h.do(t, callOpen, fn, []byte("{}")); res.rc != rcOK {
			t.Errorf("%s: open: rc %d", name, res.rc)
		}
	}
}
