//go:build !wasip1

package weir

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// Tests of the timer, window and aggregate calls (ABI §4.4–4.6) beyond
// window_test.go: the codes every function kind answers, malformed frames,
// state and timers in an OnTimer callback, and allocations.

// firedTimers builds a timer call's input: a batch of KEY, TIMESTAMP and a
// one-byte domain per fired timer.
func firedTimers(timers ...testRecord) []byte {
	for i := range timers {
		timers[i].Flags = flagKey | flagTimestamp | flagPayload
	}
	return batchFrame(timers...)
}

// windowFrame builds a window call's input (ABI §4.6).
type windowFrame struct{ b []byte }

func newWindowFrame(count uint32) *windowFrame {
	return &windowFrame{b: binary.LittleEndian.AppendUint32(nil, count)}
}

// window appends one window; a nil key makes it a window of a non-keyed stream.
func (f *windowFrame) window(start, end int64, key *string, elements ...testRecord) *windowFrame {
	f.b = binary.LittleEndian.AppendUint64(f.b, uint64(start))
	f.b = binary.LittleEndian.AppendUint64(f.b, uint64(end))
	if key == nil {
		f.b = binary.LittleEndian.AppendUint32(f.b, noAccumulator)
	} else {
		f.b = binary.LittleEndian.AppendUint32(f.b, uint32(len(*key)))
		f.b = append(f.b, *key...)
	}
	f.b = binary.LittleEndian.AppendUint32(f.b, uint32(len(elements)))
	for _, e := range elements {
		f.b = appendTestRecord(f.b, e)
	}
	return f
}

func TestCallKindsByFunctionKind(t *testing.T) {
	h := useTestRegistry(t)
	Map("map", func(*Record, *Output) error { return nil })
	Filter("filter", func(*Record) (bool, error) { return true, nil })
	FlatMap("flat_map", func(*Record, *Collector) error { return nil })
	KeySelector("key", func(_ *Record, k []byte) ([]byte, error) { return k, nil })
	Process("process", func(*Record, *Context) error { return nil })
	Process("process_timers", func(*Record, *Context) error { return nil },
		OnTimer(func(*Timer, *Context) error { return nil }))
	Reduce("reduce", func(a, _ []byte) ([]byte, error) { return a, nil })
	Aggregate("aggregate", sumAgg())
	WindowProcess("window", func(*Window, []*Record, *Collector) error { return nil })
	TimestampExtractor("ts", func(*Record, *TimestampResult) error { return nil })
	CoProcess("co", func(*Record, *Context) error { return nil }, func(*Record, *Context) error { return nil })
	CoProcess("co_timers", func(*Record, *Context) error { return nil }, func(*Record, *Context) error { return nil },
		OnTimer(func(*Timer, *Context) error { return nil }))
	Trigger("trigger", func(*TriggerEvent, *TriggerResult) error { return nil })
	Evictor("evictor", func(_ *Window, _ []*Record, e []int) ([]int, error) { return e, nil })

	// A valid, empty input for each call kind that has one.
	emptyBatch := binary.LittleEndian.AppendUint32(nil, 0)
	inputs := map[int32][]byte{
		callProcess: emptyBatch, callProcess2: emptyBatch, callTimer: emptyBatch,
		callWindow: newWindowFrame(0).b, callAggregate: newAggFrame(1, 0).b,
		callTrigger: emptyBatch, callEvict: newWindowFrame(0).b,
		0: nil, 10: nil, -1: nil,
	}
	takes := map[string][]int32{
		"map": {callProcess}, "filter": {callProcess}, "flat_map": {callProcess}, "key": {callProcess},
		"process": {callProcess}, "process_timers": {callProcess, callTimer},
		"reduce": {callProcess, callAggregate}, "aggregate": {callAggregate},
		"window": {callWindow}, "ts": {callProcess},
		"co": {callProcess, callProcess2}, "co_timers": {callProcess, callProcess2, callTimer},
		"trigger": {callTrigger}, "evictor": {callEvict},
	}
	for fn, f := range registry {
		for kind, in := range inputs {
			want := int32(rcUnsupported)
			for _, k := range takes[f.name] {
				if k == kind {
					want = rcOK
				}
			}
			if rc := call(t, kind, int32(fn), in); rc != want {
				t.Errorf("%s: call kind %d returned %d, want %d", f.name, kind, rc, want)
			}
		}
	}
	// Answering an empty input emits nothing.
	if len(h.frames) != 0 || len(h.errors) != 0 {
		t.Fatalf("frames %q, errors %q", h.frames, h.errors)
	}
	if rc := call(t, callWindow, int32(len(registry)), nil); rc != rcUnknownFn {
		t.Fatalf("an unknown function returned %d", rc)
	}
}

func TestMalformedWindowAndTimerFrames(t *testing.T) {
	h := useTestRegistry(t)
	called := 0
	Process("p", func(*Record, *Context) error { return nil },
		OnTimer(func(*Timer, *Context) error { called++; return nil }))
	Aggregate("agg", sumAgg())
	WindowProcess("w", func(_ *Window, _ []*Record, out *Collector) error {
		called++
		out.EmitPayload([]byte("x"))
		return nil
	})
	Reduce("r", func(a, _ []byte) ([]byte, error) { return a, nil })

	timer := func(r testRecord) []byte { return batchFrame(r) }
	goodTimers := firedTimers(testRecord{Key: "k", Timestamp: 1, Payload: "\x00"})
	goodWindows := newWindowFrame(1).window(0, 10, str("k"), testRecord{Flags: flagPayload, Payload: "e"}).b
	u32 := func(vs ...uint32) []byte {
		var b []byte
		for _, v := range vs {
			b = binary.LittleEndian.AppendUint32(b, v)
		}
		return b
	}
	cat := func(bs ...[]byte) []byte { return bytes.Join(bs, nil) }
	record := appendTestRecord(nil, testRecord{Flags: flagPayload, Payload: "1"})

	cases := []struct {
		name string
		kind int32
		fn   int32
		in   []byte
	}{
		{"timer: empty input", callTimer, 0, nil},
		{"timer: short count", callTimer, 0, []byte{1, 0}},
		{"timer: count past the end", callTimer, 0, u32(2)},
		{"timer: truncated record", callTimer, 0, goodTimers[:len(goodTimers)-1]},
		{"timer: trailing byte", callTimer, 0, append(goodTimers[:len(goodTimers):len(goodTimers)], 0)},
		{"timer: no key", callTimer, 0, timer(testRecord{Flags: flagTimestamp | flagPayload, Timestamp: 1, Payload: "\x00"})},
		{"timer: no timestamp", callTimer, 0, timer(testRecord{Flags: flagKey | flagPayload, Key: "k", Payload: "\x00"})},
		{"timer: no domain", callTimer, 0, timer(testRecord{Flags: flagKey | flagTimestamp, Key: "k", Timestamp: 1})},
		{"timer: domain of two bytes", callTimer, 0, firedTimers(testRecord{Key: "k", Payload: "\x00\x00"})},
		{"timer: domain 2", callTimer, 0, firedTimers(testRecord{Key: "k", Payload: "\x02"})},
		{"timer: reserved flag", callTimer, 0, timer(testRecord{Flags: 0x10 | flagKey | flagTimestamp | flagPayload, Key: "k", Payload: "\x00"})},

		{"aggregate: empty input", callAggregate, 1, nil},
		{"aggregate: no group count", callAggregate, 1, u32(1)},
		{"aggregate: op 0", callAggregate, 1, u32(0, 0)},
		{"aggregate: op 4", callAggregate, 1, u32(4, 0)},
		{"aggregate: group count past the end", callAggregate, 1, u32(3, 2, 0)},
		{"aggregate: accumulator past the end", callAggregate, 1, cat(u32(3, 1, 5), []byte("1234"))},
		{"aggregate: add without a record count", callAggregate, 1, u32(1, 1, noAccumulator)},
		{"aggregate: add count past the end", callAggregate, 1, u32(1, 1, noAccumulator, 3)},
		{"aggregate: add record truncated", callAggregate, 1, cat(u32(1, 1, noAccumulator, 1), record[:len(record)-1])},
		{"aggregate: add trailing byte", callAggregate, 1, cat(u32(1, 1, noAccumulator, 1), record, []byte{0})},
		{"aggregate: merge without an accumulator", callAggregate, 1, u32(2, 1, noAccumulator, 0)},
		{"aggregate: merge of an absent accumulator", callAggregate, 1, cat(u32(2, 1, 1), []byte("1"), u32(1, noAccumulator))},
		{"aggregate: merge count past the end", callAggregate, 1, cat(u32(2, 1, 1), []byte("1"), u32(2, 0))},
		{"aggregate: result without an accumulator", callAggregate, 1, u32(3, 1, noAccumulator)},
		{"aggregate: result trailing byte", callAggregate, 1, cat(u32(3, 1, 1), []byte("12"))},
		{"reduce: merge without an accumulator", callAggregate, 3, u32(2, 1, noAccumulator, 0)},
		{"reduce: op 9", callAggregate, 3, u32(9, 0)},

		{"window: empty input", callWindow, 2, nil},
		{"window: count past the end", callWindow, 2, u32(1, 0, 0, 0)},
		{"window: truncated element", callWindow, 2, goodWindows[:len(goodWindows)-1]},
		{"window: trailing byte", callWindow, 2, append(goodWindows[:len(goodWindows):len(goodWindows)], 0)},
		{"window: key past the end", callWindow, 2, cat(u32(1, 0, 0, 0, 0, 40), make([]byte, 8))},
		{"window: element count past the end", callWindow, 2, cat(u32(1, 0, 0, 0, 0, noAccumulator, 1))},
		{"window: second window truncated", callWindow, 2, cat(u32(2), goodWindows[4:], make([]byte, 20))},
		{"window: element with a reserved flag", callWindow, 2, cat(u32(1, 0, 0, 0, 0, noAccumulator, 1), []byte{0x20})},
	}
	for _, c := range cases {
		h.reset()
		if rc := call(t, c.kind, c.fn, c.in); rc != rcMalformedInput {
			t.Errorf("%s: returned %d, want 4", c.name, rc)
		}
		if len(h.frames) != 0 {
			t.Errorf("%s: emitted %q", c.name, h.frames)
		}
	}
	// The good frames the cases damage are good.
	h.reset()
	called = 0
	if call(t, callTimer, 0, goodTimers) != rcOK || call(t, callWindow, 2, goodWindows) != rcOK || called != 2 || len(h.frames) != 1 {
		t.Fatalf("good frames: %d calls, frames %q, errors %q", called, h.frames, h.errors)
	}
}

func TestOnTimerStateAndTimers(t *testing.T) {
	h := useTestRegistry(t)
	ft := useFakeTimers(t)
	fs := useFakeState(t, StateValue)
	last := NewValueState("last", 0)
	Process("p", func(in *Record, ctx *Context) error {
		ts, _ := in.Timestamp()
		if err := last.PutInt64(ctx, ts); err != nil {
			return err
		}
		return ctx.RegisterEventTimer(ts + 100)
	}, State(last), OnTimer(func(tm *Timer, ctx *Context) error {
		ts, ok, err := last.GetInt64(ctx)
		if err != nil || !ok {
			return fmt.Errorf("timer %d of %q: no last (%v)", ctx.Index(), tm.Key, err)
		}
		if tm.Domain == ProcessingTime {
			return ctx.DeleteEventTimer(ts + 100)
		}
		if err := last.Clear(ctx); err != nil {
			return err
		}
		ctx.Emit().SetPayload(fmt.Appendf(nil, "%s:%d:%d", tm.Key, tm.Time, ts))
		return ctx.RegisterProcessingTimer(ctx.CurrentProcessingTime() + 5)
	}))
	fs.keys = []string{"a", "b", "a"}
	in := batchFrame(testRecord{Flags: flagKey | flagTimestamp | flagPayload, Key: "a", Timestamp: 1, Payload: "{}"},
		testRecord{Flags: flagKey | flagTimestamp | flagPayload, Key: "b", Timestamp: 2, Payload: "{}"},
		testRecord{Flags: flagKey | flagTimestamp | flagPayload, Key: "a", Timestamp: 3, Payload: "{}"})
	if rc := call(t, callProcess, 0, in); rc != rcOK {
		t.Fatalf("process: %d %q", rc, h.errors)
	}
	if want := "[register 0 0 101 register 0 1 102 register 0 2 103]"; fmt.Sprint(ft.calls) != want {
		t.Fatalf("process imports %v, want %s", ft.calls, want)
	}
	// Fired timers: b's event timer (record 0), a's processing timer (record 1).
	ft.calls, h.frames = nil, nil
	fs.keys = []string{"b", "a"}
	fired := firedTimers(testRecord{Key: "b", Timestamp: 102, Payload: "\x00"}, testRecord{Key: "a", Timestamp: 50, Payload: "\x01"})
	if rc := call(t, callTimer, 0, fired); rc != rcOK {
		t.Fatalf("timer: %d %q", rc, h.errors)
	}
	if want := "[register 1 0 47 delete 0 1 103]"; fmt.Sprint(ft.calls) != want {
		t.Fatalf("timer imports %v, want %s", ft.calls, want)
	}
	outs := decodeOutputFrame(t, h.frames[0])
	if len(outs) != 1 || outs[0].Parent != 0 || outs[0].Flags != flagPayload || outs[0].Payload != "b:102:2" {
		t.Fatalf("timer outputs %+v", outs)
	}
	if _, ok := fs.vals[[3]string{"0", "b", ""}]; ok {
		t.Fatalf("b's state not cleared: %v", fs.vals)
	}
	if string(fs.vals[[3]string{"0", "a", ""}]) != int64Value(3) {
		t.Fatalf("a's state %v", fs.vals)
	}
	// A failing callback emits nothing.
	h.reset()
	fs.keys = []string{"zz"}
	if rc := call(t, callTimer, 0, firedTimers(testRecord{Key: "zz", Timestamp: 1, Payload: "\x00"})); rc != rcError || len(h.frames) != 0 || !strings.Contains(fmt.Sprint(h.errors), `timer 0 of "zz": no last`) {
		t.Fatalf("failing timer: frames %q, errors %q", h.frames, h.errors)
	}
}

func TestTimerRefusals(t *testing.T) {
	h := useTestRegistry(t)
	ft := useFakeTimers(t)
	var kept *Context
	var errs []error
	Process("no_on_timer", func(_ *Record, ctx *Context) error {
		kept = ctx
		errs = append(errs, ctx.RegisterEventTimer(1), ctx.RegisterProcessingTimer(1), ctx.DeleteEventTimer(1))
		return nil
	})
	if rc := call(t, callProcess, 0, payloads("x")); rc != rcOK {
		t.Fatalf("process: %d %q", rc, h.errors)
	}
	if !errors.Is(errs[0], ErrNoOnTimer) || !errors.Is(errs[1], ErrNoOnTimer) || errs[2] != nil {
		t.Fatalf("errors %v", errs)
	}
	if fmt.Sprint(ft.calls) != "[delete 0 0 1]" {
		t.Fatalf("imports %v", ft.calls)
	}
	// A Context kept past its call asks the host nothing.
	if err := kept.DeleteEventTimer(1); !errors.Is(err, ErrTimers) || len(ft.calls) != 1 {
		t.Fatalf("a kept Context: %v, imports %v", err, ft.calls)
	}
	if got := kept.CurrentWatermark(); got != 7 {
		t.Fatalf("watermark %d", got)
	}
	// Without a host that has timers, registering fails with ErrTimers and the
	// clocks read the smallest int64.
	testTimers = nil
	useTestRegistry(t)
	var err error
	var wm, now int64
	Process("p", func(_ *Record, ctx *Context) error {
		err, wm, now = ctx.RegisterEventTimer(5), ctx.CurrentWatermark(), ctx.CurrentProcessingTime()
		return nil
	}, OnTimer(func(*Timer, *Context) error { return nil }))
	if rc := call(t, callProcess, 0, payloads("x")); rc != rcOK || !errors.Is(err, ErrTimers) || wm != -1<<63 || now != -1<<63 {
		t.Fatalf("rc %d, err %v, watermark %d, now %d", rc, err, wm, now)
	}
}

func TestAggregateGroupCases(t *testing.T) {
	h := useTestRegistry(t)
	var seen []string
	Aggregate("trace", AggregateFuncs{
		Create: func() []byte { seen = append(seen, "create"); return []byte("c") },
		Add: func(acc []byte, in *Record) ([]byte, error) {
			seen = append(seen, fmt.Sprintf("add %q %q #%d", acc, in.Payload(), in.Index()))
			if string(in.Payload()) == "fail" {
				return nil, errors.New("add failed")
			}
			return append(acc, in.Payload()...), nil
		},
		Merge: func(acc, other []byte) ([]byte, error) {
			seen = append(seen, fmt.Sprintf("merge %q %q", acc, other))
			return append(acc, other...), nil
		},
		Result: func(acc []byte) ([]byte, error) { return append([]byte("r:"), acc...), nil },
	})
	// A reduce that writes into its accumulator: the first payload must be a
	// copy, not the input (the next group's bytes follow it there).
	Reduce("upper", func(acc, v []byte) ([]byte, error) {
		return append(append(acc[:0], strings.ToUpper(string(acc))...), v...), nil
	})

	add := newAggFrame(1, 4)
	add.acc(nil).records()         // no accumulator, no record: a fresh one
	add.acc(str("")).records("x")  // an empty accumulator is one
	add.acc(nil).records("y", "z") // created, then both added
	add.acc(str("long")).records() // unchanged
	if rc := call(t, callAggregate, 0, add.b); rc != rcOK {
		t.Fatalf("add: %d %q", rc, h.errors)
	}
	want := `[create add "" "x" #0 create add "c" "y" #0 add "cy" "z" #1]`
	if fmt.Sprint(seen) != want {
		t.Fatalf("calls %s\nwant  %s", seen, want)
	}
	var got []string
	for _, o := range decodeOutputFrame(t, h.frames[0]) {
		got = append(got, fmt.Sprintf("%d:%#x:%q", o.Parent, o.Flags, o.Payload))
	}
	if want := `[0:0x4:"c" 1:0x4:"x" 2:0x4:"cyz" 3:0x4:"long"]`; fmt.Sprint(got) != want {
		t.Fatalf("outputs %s, want %s", got, want)
	}

	// No groups: nothing to emit.
	h.reset()
	if rc := call(t, callAggregate, 0, newAggFrame(2, 0).b); rc != rcOK || len(h.frames) != 0 {
		t.Fatalf("no groups: %d, frames %q", rc, h.frames)
	}
	// A failing Add fails the call, and nothing is emitted.
	h.reset()
	bad := newAggFrame(1, 2)
	bad.acc(nil).records("ok")
	bad.acc(nil).records("fail")
	if rc := call(t, callAggregate, 0, bad.b); rc != rcError || len(h.frames) != 0 || fmt.Sprint(h.errors) != "[add failed]" {
		t.Fatalf("failing add: %d, frames %q, errors %q", rc, h.frames, h.errors)
	}

	h.reset()
	add = newAggFrame(1, 3)
	add.acc(nil).records("ab", "c")
	add.acc(nil).records("de")
	add.acc(nil).records() // nothing to start from: empty
	if rc := call(t, callAggregate, 1, add.b); rc != rcOK {
		t.Fatalf("reduce add: %d %q", rc, h.errors)
	}
	got = got[:0]
	for _, o := range decodeOutputFrame(t, h.frames[0]) {
		got = append(got, o.Payload)
	}
	if fmt.Sprint(got) != "[ABc de ]" {
		t.Fatalf("reduce add: %q", got)
	}
	h.reset()
	res := newAggFrame(3, 2)
	res.acc(str("kept")).acc(str(""))
	if rc := call(t, callAggregate, 1, res.b); rc != rcOK {
		t.Fatalf("reduce result: %d", rc)
	}
	if outs := decodeOutputFrame(t, h.frames[0]); len(outs) != 2 || outs[0].Payload != "kept" || outs[1].Payload != "" || outs[1].Flags != flagPayload {
		t.Fatalf("reduce result: %+v", outs)
	}
}

func TestWindowCallCases(t *testing.T) {
	h := useTestRegistry(t)
	WindowProcess("w", func(w *Window, elements []*Record, out *Collector) error {
		var b strings.Builder
		fmt.Fprintf(&b, "%d-%d keyed=%v key=%q n=%d", w.Start, w.End, w.Keyed, w.Key, len(elements))
		for _, e := range elements {
			k, hasKey := e.Key()
			ts, hasTS := e.Timestamp()
			v, _ := e.Header("h")
			fmt.Fprintf(&b, " [%d %q/%v %d/%v %q %q]", e.Index(), k, hasKey, ts, hasTS, e.Payload(), v)
		}
		out.Emit().SetPayload([]byte(b.String()))
		if len(elements) > 1 {
			out.EmitTo(1).SetPayload([]byte("side"))
		}
		return nil
	}, SideOutputs("extra"))
	WindowProcess("nopayload", func(_ *Window, _ []*Record, out *Collector) error {
		out.EmitPayload([]byte("fine"))
		out.Emit().SetKey([]byte("no payload"))
		return nil
	})
	f := newWindowFrame(4).
		window(0, 10, str("k"),
			testRecord{Flags: flagPayload | flagKey | flagTimestamp | flagHeaders, Key: "k", Timestamp: -5, Payload: "p", Headers: [][2]string{{"h", "v"}}},
						testRecord{Flags: flagPayload, Payload: ""}).
		window(10, 20, str("")). // keyed by the empty key, no elements
		window(-20, -10, nil, testRecord{Flags: flagPayload | flagTimestamp, Timestamp: 3, Payload: "q"}).
		window(5, 6, nil)
	if rc := call(t, callWindow, 0, f.b); rc != rcOK {
		t.Fatalf("window call: %d %q", rc, h.errors)
	}
	var got []string
	for _, o := range decodeOutputFrame(t, h.frames[0]) {
		got = append(got, fmt.Sprintf("%d/%d %#x %s", o.Parent, o.Tag, o.Flags, o.Payload))
	}
	want := []string{
		`0/0 0x4 0-10 keyed=true key="k" n=2 [0 "k"/true -5/true "p" "v"] [1 ""/false 0/false "" ""]`,
		`0/1 0x4 side`,
		`1/0 0x4 10-20 keyed=true key="" n=0`,
		`2/0 0x4 -20--10 keyed=false key="" n=1 [0 ""/false 3/true "q" ""]`,
		`3/0 0x4 5-6 keyed=false key="" n=0`,
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("outputs\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The same frame again, through the reused element slices.
	h.reset()
	if rc := call(t, callWindow, 0, f.b); rc != rcOK || len(decodeOutputFrame(t, h.frames[0])) != len(want) {
		t.Fatalf("second call: %d", rc)
	}
	h.reset()
	if rc := call(t, callWindow, 1, newWindowFrame(1).window(0, 1, nil).b); rc != rcError || len(h.frames) != 0 ||
		!strings.Contains(fmt.Sprint(h.errors), "must set a payload") {
		t.Fatalf("an output without a payload: %d, frames %q, errors %q", rc, h.frames, h.errors)
	}
}

// countTimers is a timer host that only counts, allocating nothing.
type countTimers struct{ n int }

func (c *countTimers) register(int32, int32, int64) int32 { c.n++; return 0 }
func (c *countTimers) delete(int32, int32, int64) int32   { c.n++; return 0 }
func (c *countTimers) watermark() int64                   { return 0 }
func (c *countTimers) now() int64                         { return 0 }

func TestWindowAggregateTimerCallsDoNotAllocate(t *testing.T) {
	useTestRegistry(t)
	ct := &countTimers{}
	testTimers = ct
	t.Cleanup(func() { testTimers = nil })
	testEmit = func([]byte) {} // the capturing host copies every frame
	Aggregate("sum", AggregateFuncs{
		Create: func() []byte { return make([]byte, 8) },
		Add: func(acc []byte, in *Record) ([]byte, error) {
			binary.LittleEndian.PutUint64(acc, binary.LittleEndian.Uint64(acc)+uint64(len(in.Payload())))
			return acc, nil
		},
		Merge: func(acc, other []byte) ([]byte, error) {
			binary.LittleEndian.PutUint64(acc, binary.LittleEndian.Uint64(acc)+binary.LittleEndian.Uint64(other))
			return acc, nil
		},
		Result: func(acc []byte) ([]byte, error) { return acc, nil },
	})
	Reduce("longest", func(acc, v []byte) ([]byte, error) {
		if len(v) > len(acc) {
			return v, nil
		}
		return acc, nil
	})
	WindowProcess("count", func(w *Window, elements []*Record, out *Collector) error {
		o := out.Emit()
		o.SetPayload(binary.LittleEndian.AppendUint64(o.Buffer(), uint64(len(elements))))
		return nil
	})
	Process("p", func(*Record, *Context) error { return nil }, OnTimer(func(tm *Timer, ctx *Context) error {
		ctx.EmitPayload(tm.Key)
		return ctx.RegisterEventTimer(tm.Time + 1)
	}))
	zero := string(make([]byte, 8))
	add := newAggFrame(1, 3)
	for i := 0; i < 3; i++ {
		add.acc(&zero).records("a", "bb", "ccc", "dddd")
	}
	reduce := newAggFrame(1, 3)
	for i := 0; i < 3; i++ {
		reduce.acc(nil).records("a", "bb", "ccc", "dddd")
	}
	merge := newAggFrame(2, 2)
	merge.acc(&zero).accs(zero, zero)
	merge.acc(&zero).accs(zero)
	var els []testRecord
	for i := 0; i < 50; i++ {
		els = append(els, testRecord{Flags: flagPayload | flagTimestamp, Timestamp: int64(i), Payload: "e"})
	}
	wins := newWindowFrame(3).window(0, 10, str("k"), els...).window(10, 20, nil, els[:7]...).window(20, 30, str("j")).b
	timers := firedTimers(testRecord{Key: "a", Timestamp: 1, Payload: "\x00"}, testRecord{Key: "b", Timestamp: 2, Payload: "\x01"})
	for _, c := range []struct {
		name     string
		kind, fn int32
		in       []byte
	}{
		{"aggregate add", callAggregate, 0, add.b},
		{"aggregate merge", callAggregate, 0, merge.b},
		{"reduce add", callAggregate, 1, reduce.b},
		{"window", callWindow, 2, wins},
		{"timer", callTimer, 3, timers},
	} {
		alloc(int32(len(c.in)))
		copy(input, c.in)
		run := func() {
			if rc := dispatch(c.kind, c.fn, input[:len(c.in)]); rc != rcOK {
				t.Fatalf("%s: %d", c.name, rc)
			}
			copy(input, c.in) // the functions write into their accumulators
		}
		run() // grow the SDK's buffers
		if n := testing.AllocsPerRun(100, run); n != 0 {
			t.Errorf("%s: %.1f allocations per call, want 0", c.name, n)
		}
	}
	if ct.n == 0 {
		t.Fatal("the timer callback registered nothing")
	}
}
