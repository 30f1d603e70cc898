//go:build !wasip1

package weir

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"testing"
)

// fakeTimers records the timer imports the SDK calls.
type fakeTimers struct {
	calls []string
	wm    int64
}

func (f *fakeTimers) register(d, r int32, t int64) int32 {
	f.calls = append(f.calls, fmt.Sprintf("register %d %d %d", d, r, t))
	return 0
}

func (f *fakeTimers) delete(d, r int32, t int64) int32 {
	f.calls = append(f.calls, fmt.Sprintf("delete %d %d %d", d, r, t))
	return 0
}
func (f *fakeTimers) watermark() int64 { return f.wm }
func (f *fakeTimers) now() int64       { return 42 }

func useFakeTimers(t testing.TB) *fakeTimers {
	f := &fakeTimers{wm: 7}
	testTimers = f
	t.Cleanup(func() { testTimers = nil })
	return f
}

func TestProcessTimers(t *testing.T) {
	h := useTestRegistry(t)
	ft := useFakeTimers(t)
	Process("p", func(in *Record, ctx *Context) error {
		ts, _ := in.Timestamp()
		if err := ctx.RegisterEventTimer(ts + 10); err != nil {
			return err
		}
		return ctx.DeleteProcessingTimer(ctx.CurrentWatermark())
	}, OnTimer(func(tm *Timer, ctx *Context) error {
		ctx.Emit().SetPayload([]byte(fmt.Sprintf("%s@%d/%d", tm.Key, tm.Time, tm.Domain)))
		return ctx.RegisterProcessingTimer(ctx.CurrentProcessingTime())
	}))
	Map("m", func(in *Record, out *Output) error { return nil })
	in := batchFrame(testRecord{Flags: flagKey | flagTimestamp | flagPayload, Key: "a", Timestamp: 5, Payload: "x"},
		testRecord{Flags: flagKey | flagTimestamp | flagPayload, Key: "b", Timestamp: 9, Payload: "y"})
	if rc := call(t, callProcess, 0, in); rc != rcOK {
		t.Fatalf("process: %d %v", rc, h.errors)
	}
	want := []string{"register 0 0 15", "delete 1 0 7", "register 0 1 19", "delete 1 1 7"}
	if fmt.Sprint(ft.calls) != fmt.Sprint(want) {
		t.Fatalf("imports %v, want %v", ft.calls, want)
	}
	ft.calls = nil
	fired := batchFrame(testRecord{Flags: flagKey | flagTimestamp | flagPayload, Key: "a", Timestamp: 15, Payload: "\x00"},
		testRecord{Flags: flagKey | flagTimestamp | flagPayload, Key: "b", Timestamp: 3, Payload: "\x01"})
	if rc := call(t, callTimer, 0, fired); rc != rcOK {
		t.Fatalf("timer: %d %v", rc, h.errors)
	}
	outs := decodeOutputFrame(t, h.frames[len(h.frames)-1])
	if len(outs) != 2 || outs[0].Parent != 0 || outs[0].Payload != "a@15/0" || outs[1].Parent != 1 || outs[1].Payload != "b@3/1" {
		t.Fatalf("timer outputs %+v", outs)
	}
	if fmt.Sprint(ft.calls) != fmt.Sprint([]string{"register 1 0 42", "register 1 1 42"}) {
		t.Fatalf("timer imports %v", ft.calls)
	}
	if rc := call(t, callTimer, 1, fired); rc != rcUnsupported {
		t.Fatalf("a map's timer call returned %d, want 3", rc)
	}
	if rc := call(t, callTimer, 0, batchFrame(testRecord{Flags: flagKey | flagTimestamp | flagPayload, Key: "a", Payload: "\x05"})); rc != rcMalformedInput {
		t.Fatalf("a fired timer with domain 5 returned %d, want 4", rc)
	}
}

// aggFrame builds an aggregate call's input (ABI §4.5).
type aggFrame struct{ b []byte }

func newAggFrame(op, groups uint32) *aggFrame {
	return &aggFrame{b: binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(nil, op), groups)}
}

func (f *aggFrame) acc(a *string) *aggFrame {
	if a == nil {
		f.b = binary.LittleEndian.AppendUint32(f.b, noAccumulator)
		return f
	}
	f.b = binary.LittleEndian.AppendUint32(f.b, uint32(len(*a)))
	f.b = append(f.b, *a...)
	return f
}

func (f *aggFrame) records(ps ...string) *aggFrame {
	f.b = binary.LittleEndian.AppendUint32(f.b, uint32(len(ps)))
	for _, p := range ps {
		f.b = appendTestRecord(f.b, testRecord{Flags: flagPayload, Payload: p})
	}
	return f
}

func (f *aggFrame) accs(as ...string) *aggFrame {
	f.b = binary.LittleEndian.AppendUint32(f.b, uint32(len(as)))
	for _, a := range as {
		f.b = binary.LittleEndian.AppendUint32(f.b, uint32(len(a)))
		f.b = append(f.b, a...)
	}
	return f
}

func str(s string) *string { return &s }

// sumAgg sums decimal payloads; its accumulator is the decimal sum.
func sumAgg() AggregateFuncs {
	parse := func(b []byte) int64 { n, _ := strconv.ParseInt(string(b), 10, 64); return n }
	return AggregateFuncs{
		Create: func() []byte { return []byte("0") },
		Add: func(acc []byte, in *Record) ([]byte, error) {
			return strconv.AppendInt(nil, parse(acc)+parse(in.Payload()), 10), nil
		},
		Merge: func(acc, other []byte) ([]byte, error) {
			return strconv.AppendInt(nil, parse(acc)+parse(other), 10), nil
		},
		Result: func(acc []byte) ([]byte, error) { return append([]byte("sum="), acc...), nil },
	}
}

func TestAggregateCalls(t *testing.T) {
	h := useTestRegistry(t)
	Aggregate("sum", sumAgg())
	Reduce("max", func(acc, v []byte) ([]byte, error) {
		if string(v) > string(acc) {
			return v, nil
		}
		return acc, nil
	})
	Process("p", func(*Record, *Context) error { return nil })
	payloadsOf := func(rc int32) []string {
		t.Helper()
		if rc != rcOK {
			t.Fatalf("rc %d %v", rc, h.errors)
		}
		var ps []string
		for k, o := range decodeOutputFrame(t, h.frames[len(h.frames)-1]) {
			if o.Parent != uint32(k) || o.Tag != 0 || o.Flags != flagPayload {
				t.Fatalf("output %d: %+v", k, o)
			}
			ps = append(ps, o.Payload)
		}
		return ps
	}
	add := newAggFrame(1, 3)
	add.acc(nil).records("1", "2")
	add.acc(str("10")).records("5")
	add.acc(str("")).records() // an empty accumulator is one
	if got := payloadsOf(call(t, callAggregate, 0, add.b)); fmt.Sprint(got) != "[3 15 ]" {
		t.Fatalf("add: %q", got)
	}
	merge := newAggFrame(2, 1)
	merge.acc(str("3")).accs("4", "5")
	if got := payloadsOf(call(t, callAggregate, 0, merge.b)); fmt.Sprint(got) != "[12]" {
		t.Fatalf("merge: %q", got)
	}
	res := newAggFrame(3, 2)
	res.acc(str("12")).acc(str("0"))
	if got := payloadsOf(call(t, callAggregate, 0, res.b)); fmt.Sprint(got) != "[sum=12 sum=0]" {
		t.Fatalf("result: %q", got)
	}
	// A reduce function answers the same calls: the first payload starts it.
	add = newAggFrame(1, 2)
	add.acc(nil).records("b", "c", "a")
	add.acc(str("x")).records("y")
	if got := payloadsOf(call(t, callAggregate, 1, add.b)); fmt.Sprint(got) != "[c y]" {
		t.Fatalf("reduce add: %q", got)
	}
	merge = newAggFrame(2, 1)
	merge.acc(str("b")).accs("d", "a")
	if got := payloadsOf(call(t, callAggregate, 1, merge.b)); fmt.Sprint(got) != "[d]" {
		t.Fatalf("reduce merge: %q", got)
	}
	if rc := call(t, callAggregate, 2, add.b); rc != rcUnsupported {
		t.Fatalf("a process function's aggregate call returned %d", rc)
	}
	if rc := call(t, callProcess, 0, payloads("1")); rc != rcUnsupported {
		t.Fatalf("an aggregate's process call returned %d", rc)
	}
	bad := newAggFrame(2, 1)
	bad.acc(nil).accs("1")
	if rc := call(t, callAggregate, 0, bad.b); rc != rcMalformedInput {
		t.Fatalf("merge without an accumulator returned %d", rc)
	}
	if rc := call(t, callAggregate, 0, add.b[:len(add.b)-1]); rc != rcMalformedInput {
		t.Fatalf("a truncated frame returned %d", rc)
	}
}

func TestWindowCalls(t *testing.T) {
	h := useTestRegistry(t)
	WindowProcess("count", func(w *Window, elements []*Record, out *Collector) error {
		if len(elements) == 0 {
			return errors.New("no elements")
		}
		last := elements[len(elements)-1].Payload()
		out.Emit().SetPayload([]byte(fmt.Sprintf("%d-%d %q keyed=%v n=%d last=%s", w.Start, w.End, w.Key, w.Keyed, len(elements), last)))
		return nil
	})
	b := binary.LittleEndian.AppendUint32(nil, 2)
	b = binary.LittleEndian.AppendUint64(b, 0)
	b = binary.LittleEndian.AppendUint64(b, 10)
	b = binary.LittleEndian.AppendUint32(b, 2)
	b = append(b, `"a"`[:2]...)
	b = binary.LittleEndian.AppendUint32(b, 2)
	b = appendTestRecord(b, testRecord{Flags: flagPayload | flagTimestamp, Timestamp: 3, Payload: "p1"})
	b = appendTestRecord(b, testRecord{Flags: flagPayload | flagKey, Key: "k", Payload: "p2"})
	b = binary.LittleEndian.AppendUint64(b, 10)
	b = binary.LittleEndian.AppendUint64(b, 20)
	b = binary.LittleEndian.AppendUint32(b, noAccumulator)
	b = binary.LittleEndian.AppendUint32(b, 1)
	b = appendTestRecord(b, testRecord{Flags: flagPayload, Payload: "q"})
	if rc := call(t, callWindow, 0, b); rc != rcOK {
		t.Fatalf("window call: %d %v", rc, h.errors)
	}
	outs := decodeOutputFrame(t, h.frames[len(h.frames)-1])
	if len(outs) != 2 || outs[0].Parent != 0 || outs[0].Payload != `0-10 "\"a" keyed=true n=2 last=p2` ||
		outs[1].Parent != 1 || outs[1].Payload != `10-20 "" keyed=false n=1 last=q` {
		t.Fatalf("window outputs %+v", outs)
	}
	if rc := call(t, callWindow, 0, b[:len(b)-2]); rc != rcMalformedInput {
		t.Fatalf("a truncated window frame returned %d", rc)
	}
}

func TestTimestampExtractor(t *testing.T) {
	h := useTestRegistry(t)
	TimestampExtractor("ts", func(in *Record, out *TimestampResult) error {
		if ts, ok := JSONInt(in.Payload(), "ts"); ok {
			out.SetTime(ts)
		}
		if wm, ok := JSONInt(in.Payload(), "wm"); ok {
			out.EmitWatermark(wm)
		}
		return nil
	})
	in := payloads(`{"ts":5}`, `{"nots":1}`, `{"ts":9,"wm":7}`, `{"wm":8}`)
	if rc := call(t, callProcess, 0, in); rc != rcOK {
		t.Fatalf("rc %d %v", rc, h.errors)
	}
	var got []string
	for _, o := range decodeOutputFrame(t, h.frames[0]) {
		got = append(got, fmt.Sprintf("%d:%#x:%d:%x", o.Parent, o.Flags, o.Timestamp, o.Payload))
	}
	want := []string{"0:0x2:5:", "1:0x0:0:", "2:0x6:9:0700000000000000", "3:0x4:0:0800000000000000"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("outputs %v, want %v", got, want)
	}
}
