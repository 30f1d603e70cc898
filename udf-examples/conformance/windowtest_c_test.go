package conformance_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/weir-streams/weir/internal/record"
	"github.com/weir-streams/weir/wasmhost"
)

// The C SDK's timer, aggregate and window calls (ABI §4.4–4.6), below Weir's
// host: c/windowtest.c runs over a fake host written here, which hands it frames
// built byte by byte — including frames Weir's host never sends — and records
// every import call. So the return codes 3 and 4, the arguments of the timer and
// state imports and the exact output frames are checked, not only what the real
// host makes of them (windows_test.go does that for the examples).

// Function indices of windowtest.c, in registration order.
const (
	wtAgg = iota
	wtCat
	wtWin
	wtTimed
	wtPlain
	wtIdent
)

// wtHost is the fake host of one instance: the weir imports windowtest.c uses.
type wtHost struct {
	watermark, now int64
	timerRC        int32    // what timer_register and timer_delete return
	calls          []string // timer and state import calls, in order
	emitted        []wtOut  // the outputs of every emit of the current call
	emits          int      // emit calls during the current call
	errMsg         string
}

// wtOut is one output of an output frame, fields as text for comparisons.
type wtOut struct {
	index, tag uint32
	flags      byte
	key        string
	ts         int64
	payload    string
}

func (o wtOut) String() string {
	return fmt.Sprintf("%d/%d f%d k%q t%d %q", o.index, o.tag, o.flags, o.key, o.ts, o.payload)
}

type wtModule struct {
	h   *wtHost
	mod api.Module
}

func newWindowTest(t *testing.T) *wtModule {
	t.Helper()
	bin, err := os.ReadFile(filepath.Join(wasmDir(), "testdata/windowtest_c.wasm"))
	if err != nil {
		t.Fatalf("%v (build it with `make examples`; `make conformance` does)", err)
	}
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	t.Cleanup(func() { rt.Close(ctx) })
	h := &wtHost{watermark: -1 << 63, now: 1_700_000_000_123}
	read := func(m api.Module, ptr, n uint32) []byte {
		b, ok := m.Memory().Read(ptr, n)
		if !ok {
			panic("fake host: read out of range")
		}
		return b
	}
	_, err = rt.NewHostModuleBuilder("weir").
		NewFunctionBuilder().WithFunc(func(_ context.Context, m api.Module, ptr, n uint32) {
		h.emits++
		h.emitted = append(h.emitted, wtParseOutputs(t, read(m, ptr, n))...)
	}).Export("emit").
		NewFunctionBuilder().WithFunc(func(_ context.Context, m api.Module, ptr, n uint32) {
		h.errMsg = string(read(m, ptr, n))
	}).Export("error").
		NewFunctionBuilder().WithFunc(func(_ context.Context, m api.Module, st, rec, sub, subLen, out, outCap uint32) int32 {
		h.calls = append(h.calls, fmt.Sprintf("state_get %d %d", st, rec))
		return -1
	}).Export("state_get").
		NewFunctionBuilder().WithFunc(func(_ context.Context, m api.Module, st, rec, sub, subLen, val, n uint32) int32 {
		h.calls = append(h.calls, fmt.Sprintf("state_put %d %d %q", st, rec, read(m, val, n)))
		return 0
	}).Export("state_put").
		NewFunctionBuilder().WithFunc(func(_ context.Context, d int32, rec uint32, at int64) int32 {
		h.calls = append(h.calls, fmt.Sprintf("timer_register %d %d %d", d, rec, at))
		return h.timerRC
	}).Export("timer_register").
		NewFunctionBuilder().WithFunc(func(_ context.Context, d int32, rec uint32, at int64) int32 {
		h.calls = append(h.calls, fmt.Sprintf("timer_delete %d %d %d", d, rec, at))
		return h.timerRC
	}).Export("timer_delete").
		NewFunctionBuilder().WithFunc(func(context.Context) int64 { return h.watermark }).Export("current_watermark").
		NewFunctionBuilder().WithFunc(func(context.Context) int64 { return h.now }).Export("current_time").
		Instantiate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mod, err := rt.InstantiateWithConfig(ctx, bin, wazero.NewModuleConfig().WithName("windowtest"))
	if err != nil {
		t.Fatalf("instantiating windowtest_c.wasm: %v", err)
	}
	return &wtModule{h: h, mod: mod}
}

// call runs weir_call(kind, fn) on input, returning its code; the host's record of
// the call's emits and imports starts afresh.
func (w *wtModule) call(t *testing.T, kind, fn uint32, input []byte) uint32 {
	t.Helper()
	ctx := context.Background()
	w.h.emitted, w.h.emits, w.h.calls, w.h.errMsg = nil, 0, nil, ""
	res, err := w.mod.ExportedFunction("weir_alloc").Call(ctx, uint64(max(len(input), 1)))
	if err != nil || res[0] == 0 {
		t.Fatalf("weir_alloc(%d): %v %v", len(input), res, err)
	}
	ptr := uint32(res[0])
	if !w.mod.Memory().Write(ptr, input) {
		t.Fatal("writing the input")
	}
	res, err = w.mod.ExportedFunction("weir_call").Call(ctx, uint64(kind), uint64(fn), uint64(ptr), uint64(len(input)))
	if err != nil {
		t.Fatalf("weir_call(%d, %d): %v", kind, fn, err)
	}
	return uint32(res[0])
}

// ok runs a call that must succeed and returns its outputs as text.
func (w *wtModule) ok(t *testing.T, kind, fn uint32, input []byte) []string {
	t.Helper()
	if rc := w.call(t, kind, fn, input); rc != 0 {
		t.Fatalf("weir_call(%d, %d) = %d (%s), want 0", kind, fn, rc, w.h.errMsg)
	}
	if w.h.emits > 1 {
		t.Errorf("%d emits in one call, want at most 1", w.h.emits)
	}
	var s []string
	for _, o := range w.h.emitted {
		s = append(s, o.String())
	}
	return s
}

func wtParseOutputs(t *testing.T, f []byte) []wtOut {
	if len(f) < 4 {
		t.Errorf("output frame of %d bytes", len(f))
		return nil
	}
	n := binary.LittleEndian.Uint32(f)
	f = f[4:]
	var outs []wtOut
	for range n {
		if len(f) < 8 {
			t.Errorf("output frame truncated")
			return outs
		}
		o := wtOut{index: binary.LittleEndian.Uint32(f), tag: binary.LittleEndian.Uint32(f[4:])}
		var v record.View
		k, err := record.DecodeInto(f[8:], &v)
		if err != nil {
			t.Errorf("output %d: %v", len(outs), err)
			return outs
		}
		o.flags, o.key, o.ts, o.payload = v.Flags, string(v.Key), v.Timestamp, string(v.Payload)
		outs = append(outs, o)
		f = f[8+k:]
	}
	if len(f) != 0 {
		t.Errorf("%d bytes after the output frame", len(f))
	}
	return outs
}

// wtFrame builds input frames little endian, field by field.
type wtFrame []byte

func (f wtFrame) u32(v uint32) wtFrame { return binary.LittleEndian.AppendUint32(f, v) }
func (f wtFrame) i64(v int64) wtFrame  { return binary.LittleEndian.AppendUint64(f, uint64(v)) }
func (f wtFrame) bytes(s string) wtFrame {
	return append(f.u32(uint32(len(s))), s...)
}
func (f wtFrame) raw(b ...byte) wtFrame { return append(f, b...) }

// payloads appends n records with payload only.
func (f wtFrame) payloads(ps ...string) wtFrame {
	f = f.u32(uint32(len(ps)))
	for _, p := range ps {
		f = record.AppendView(f, &record.View{Flags: record.FlagPayload, Payload: []byte(p)})
	}
	return f
}

func (f wtFrame) rec(v record.View) wtFrame { return record.AppendView(f, &v) }

const wtNone = 0xFFFFFFFF

func wtCheck(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %q\nwant %q", what, got, want)
	}
}

func TestCSDKWindowTestDescription(t *testing.T) {
	w := newWindowTest(t)
	res, err := w.mod.ExportedFunction("weir_describe").Call(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := w.mod.Memory().Read(uint32(res[0]>>32), uint32(res[0]))
	var d struct {
		Functions []struct {
			Name, Kind string
			State      []struct{ Name, Kind string }
		}
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	var got []string
	for _, f := range d.Functions {
		got = append(got, f.Name+":"+f.Kind+fmt.Sprint(f.State))
	}
	wtCheck(t, "functions", got, []string{"agg:aggregate[]", "cat:reduce[{reduce reducing}]",
		"win:window_process[]", "timed:process[{seen value}]", "plain:process[]", "ident:map[]"})
}

func TestCSDKAggregateCalls(t *testing.T) {
	w := newWindowTest(t)
	// add: no accumulator (created), an empty one (not created), one with no
	// records, none with no records.
	add := wtFrame{}.u32(1).u32(4).
		u32(wtNone).payloads("x", "y").
		u32(0).payloads("z").
		bytes("ab").payloads().
		u32(wtNone).payloads()
	wtCheck(t, "add", w.ok(t, 7, wtAgg, add), []string{
		`0/0 f4 k"" t0 "c+x+y"`, `1/0 f4 k"" t0 "+z"`, `2/0 f4 k"" t0 "ab"`, `3/0 f4 k"" t0 "c"`})
	merge := wtFrame{}.u32(2).u32(3).
		bytes("a").u32(3).bytes("b").bytes("").bytes("c").
		bytes("").u32(0).
		bytes("").u32(1).bytes("q")
	wtCheck(t, "merge", w.ok(t, 7, wtAgg, merge), []string{
		`0/0 f4 k"" t0 "a|b||c"`, `1/0 f4 k"" t0 ""`, `2/0 f4 k"" t0 "|q"`})
	result := wtFrame{}.u32(3).u32(2).bytes("q").bytes("")
	wtCheck(t, "result", w.ok(t, 7, wtAgg, result), []string{`0/0 f4 k"" t0 "<q>"`, `1/0 f4 k"" t0 "<>"`})
	// Accumulators returned as views of the accumulator given: a part of it, itself.
	views := wtFrame{}.u32(2).u32(2).bytes("abcd").u32(3).bytes("drop1").bytes("x").bytes("drop1").
		bytes("=").u32(1).bytes("drop1")
	wtCheck(t, "views", w.ok(t, 7, wtAgg, views), []string{`0/0 f4 k"" t0 "cd|x"`, `1/0 f4 k"" t0 ""`})
	wtCheck(t, "result in place", w.ok(t, 7, wtAgg, wtFrame{}.u32(3).u32(2).bytes("=k").bytes("=")),
		[]string{`0/0 f4 k"" t0 "=k"`, `1/0 f4 k"" t0 "="`})
	// A long accumulator, past any buffer the SDK had so far, then a short one.
	long := strings.Repeat("L", 100_000)
	got := w.ok(t, 7, wtAgg, wtFrame{}.u32(1).u32(2).bytes(long).payloads("1").bytes("s").payloads("2"))
	wtCheck(t, "long", got, []string{fmt.Sprintf(`0/0 f4 k"" t0 %q`, long+"+1"), `1/0 f4 k"" t0 "s+2"`})
	// No groups: no outputs.
	wtCheck(t, "no groups", w.ok(t, 7, wtAgg, wtFrame{}.u32(3).u32(0)), nil)
}

func TestCSDKReduceInAggregateCalls(t *testing.T) {
	w := newWindowTest(t)
	add := wtFrame{}.u32(1).u32(3).
		u32(wtNone).payloads("1", "2", "3").
		bytes("a").payloads("b").
		u32(0).payloads("x")
	wtCheck(t, "add", w.ok(t, 7, wtCat, add), []string{`0/0 f4 k"" t0 "1,2,3"`, `1/0 f4 k"" t0 "a,b"`, `2/0 f4 k"" t0 ",x"`})
	merge := wtFrame{}.u32(2).u32(2).bytes("m").u32(2).bytes("n").bytes("o").bytes("z").u32(0)
	wtCheck(t, "merge", w.ok(t, 7, wtCat, merge), []string{`0/0 f4 k"" t0 "m,n,o"`, `1/0 f4 k"" t0 "z"`})
	result := wtFrame{}.u32(3).u32(2).bytes("r").bytes("")
	wtCheck(t, "result", w.ok(t, 7, wtCat, result), []string{`0/0 f4 k"" t0 "r"`, `1/0 f4 k"" t0 ""`})
	if len(w.h.calls) != 0 {
		t.Errorf("a reduce in an aggregate call used the host: %q", w.h.calls)
	}
}

func TestCSDKWindowCalls(t *testing.T) {
	w := newWindowTest(t)
	f := wtFrame{}.u32(4).
		i64(0).i64(10).bytes(`"k"`).u32(2).
		rec(record.View{Flags: record.FlagPayload | record.FlagTimestamp, Timestamp: 3, Payload: []byte("a")}).
		rec(record.View{Flags: record.FlagPayload | record.FlagKey | record.FlagTimestamp, Key: []byte(`"k"`), Timestamp: 7, Payload: []byte("b")}).
		i64(-20).i64(-10).u32(wtNone).payloads("c").
		i64(5).i64(6).bytes("skip").payloads("d").
		i64(10).i64(20).bytes("").payloads()
	wtCheck(t, "windows", w.ok(t, 5, wtWin, f), []string{
		`0/0 f4 k"" t0 "0,10,\"k\",2:a@3/0;b@7/1"`,
		`1/0 f4 k"" t0 "-20,-10,-,1:c@-1/0"`,
		`3/0 f4 k"" t0 "10,20,,0:"`,
	})
	// A window with more elements than the SDK had room for so far.
	ps := make([]string, 300)
	for i := range ps {
		ps[i] = "e"
	}
	got := w.ok(t, 5, wtWin, wtFrame{}.u32(1).i64(1).i64(2).u32(wtNone).payloads(ps...))
	if len(got) != 1 || !strings.HasPrefix(got[0], `0/0 f4 k"" t0 "1,2,-,300:e@-1/0;`) || !strings.HasSuffix(got[0], `e@-1/299"`) {
		t.Errorf("300 elements: %.80q", got)
	}
	wtCheck(t, "no windows", w.ok(t, 5, wtWin, wtFrame{}.u32(0)), nil)
}

func TestCSDKTimers(t *testing.T) {
	w := newWindowTest(t)
	keyed := func(key, payload string) record.View {
		return record.View{Flags: record.FlagKey | record.FlagPayload, Key: []byte(key), Payload: []byte(payload)}
	}
	in := wtFrame{}.u32(5).rec(keyed("a", "ev:1000")).rec(keyed("b", "pt:-5")).rec(keyed("a", "dev:1000")).
		rec(keyed("c", "dpt:7")).rec(keyed("c", "clock"))
	w.h.watermark = 900
	wtCheck(t, "process outputs", w.ok(t, 2, wtTimed, in), []string{`4/0 f4 k"" t0 "wm=900,now=1700000000123"`})
	wtCheck(t, "process imports", w.h.calls, []string{
		"timer_register 0 0 1000", "timer_register 1 1 -5", "timer_delete 0 2 1000", "timer_delete 1 3 7"})

	w.h.watermark = -1 << 63
	wtCheck(t, "no watermark yet", w.ok(t, 2, wtTimed, wtFrame{}.u32(1).rec(keyed("c", "clock"))),
		[]string{`0/0 f4 k"" t0 "wm=-9223372036854775808,now=1700000000123"`})

	fired := func(key string, at int64, domain byte) record.View {
		return record.View{Flags: record.FlagKey | record.FlagTimestamp | record.FlagPayload, Key: []byte(key), Timestamp: at, Payload: []byte{domain}}
	}
	timers := wtFrame{}.u32(3).rec(fired("a", 1000, 0)).rec(fired("again", 1000, 0)).rec(fired("b", 1500, 1))
	wtCheck(t, "timer outputs", w.ok(t, 4, wtTimed, timers), []string{
		`0/0 f4 k"" t0 "fired 1000 d0 ka"`, `1/0 f4 k"" t0 "fired 1000 d0 kagain"`, `2/0 f4 k"" t0 "fired 1500 d1 kb"`})
	wtCheck(t, "timer imports", w.h.calls, []string{
		`state_put 0 0 "a"`, `state_put 0 1 "again"`, "timer_register 0 1 1001", `state_put 0 2 "b"`})
	wtCheck(t, "no timers", w.ok(t, 4, wtTimed, wtFrame{}.u32(0)), nil)

	// The host refuses a timer (INVALID): the call fails with a message.
	w.h.timerRC = -3
	if rc := w.call(t, 2, wtTimed, wtFrame{}.u32(1).rec(keyed("a", "ev:1"))); rc != 1 || !strings.Contains(w.h.errMsg, "INVALID") {
		t.Errorf("refused timer: rc %d, message %q", rc, w.h.errMsg)
	}
}

// TestCSDKUnsupportedCalls: a call kind the function's kind does not take is 3.
func TestCSDKUnsupportedCalls(t *testing.T) {
	w := newWindowTest(t)
	timers := wtFrame{}.u32(0)
	agg := wtFrame{}.u32(3).u32(0)
	win := wtFrame{}.u32(0)
	batch := wtFrame{}.u32(0)
	for _, c := range []struct {
		name     string
		kind, fn uint32
		input    []byte
	}{
		{"timer of a process without a timer callback", 4, wtPlain, timers},
		{"timer of an aggregate", 4, wtAgg, timers},
		{"timer of a reduce", 4, wtCat, timers},
		{"timer of a map", 4, wtIdent, timers},
		{"aggregate of a process", 7, wtTimed, agg},
		{"aggregate of a window process", 7, wtWin, agg},
		{"aggregate of a map", 7, wtIdent, agg},
		{"window of an aggregate", 5, wtAgg, win},
		{"window of a process", 5, wtTimed, win},
		{"window of a reduce", 5, wtCat, win},
		{"process of an aggregate", 2, wtAgg, batch},
		{"process of a window process", 2, wtWin, batch},
		{"process2", 3, wtTimed, batch},
		{"call kind 0", 0, wtAgg, nil},
		{"call kind 8", 8, wtWin, nil},
	} {
		if rc := w.call(t, c.kind, c.fn, c.input); rc != 3 {
			t.Errorf("%s: rc %d, want 3", c.name, rc)
		}
	}
	if rc := w.call(t, 7, 6, agg); rc != 2 {
		t.Errorf("unknown function: rc %d, want 2", rc)
	}
}

// TestCSDKMalformedCalls: frames that break §4.4–4.6 are 4, and emit nothing.
func TestCSDKMalformedCalls(t *testing.T) {
	w := newWindowTest(t)
	fired := wtFrame{}.u32(1).rec(record.View{Flags: record.FlagKey | record.FlagTimestamp | record.FlagPayload, Key: []byte("k"), Timestamp: 5, Payload: []byte{0}})
	for _, c := range []struct {
		name     string
		kind, fn uint32
		input    wtFrame
	}{
		{"aggregate: empty", 7, wtAgg, wtFrame{}},
		{"aggregate: no group count", 7, wtAgg, wtFrame{}.u32(1)},
		{"aggregate: op 0", 7, wtAgg, wtFrame{}.u32(0).u32(0)},
		{"aggregate: op 4", 7, wtAgg, wtFrame{}.u32(4).u32(0)},
		{"aggregate: a group missing", 7, wtAgg, wtFrame{}.u32(3).u32(2).bytes("a")},
		{"aggregate: accumulator past the end", 7, wtAgg, wtFrame{}.u32(3).u32(1).u32(5).raw('a')},
		{"aggregate: no record count", 7, wtAgg, wtFrame{}.u32(1).u32(1).u32(wtNone)},
		{"aggregate: a record missing", 7, wtAgg, wtFrame{}.u32(1).u32(1).u32(wtNone).u32(2).rec(record.View{Flags: record.FlagPayload, Payload: []byte("x")})},
		{"aggregate: reserved flags", 7, wtAgg, wtFrame{}.u32(1).u32(1).u32(wtNone).u32(1).raw(0x14, 0, 0, 0, 0)},
		{"aggregate: merge into none", 7, wtAgg, wtFrame{}.u32(2).u32(1).u32(wtNone).u32(0)},
		{"aggregate: result of none", 7, wtAgg, wtFrame{}.u32(3).u32(1).u32(wtNone)},
		{"aggregate: merge of none", 7, wtAgg, wtFrame{}.u32(2).u32(1).bytes("a").u32(1).u32(wtNone)},
		{"aggregate: trailing bytes", 7, wtAgg, wtFrame{}.u32(3).u32(1).bytes("a").raw(0)},
		{"reduce: merge into none", 7, wtCat, wtFrame{}.u32(2).u32(1).u32(wtNone).u32(0)},
		{"reduce: trailing bytes", 7, wtCat, wtFrame{}.u32(1).u32(1).u32(wtNone).payloads("a").raw(0)},
		{"window: empty", 5, wtWin, wtFrame{}},
		{"window: a window missing", 5, wtWin, wtFrame{}.u32(2).i64(0).i64(1).u32(wtNone).payloads()},
		{"window: truncated bounds", 5, wtWin, wtFrame{}.u32(1).i64(0).raw(1, 2, 3)},
		{"window: key past the end", 5, wtWin, wtFrame{}.u32(1).i64(0).i64(1).u32(9).raw('k').u32(0)},
		{"window: no element count", 5, wtWin, wtFrame{}.u32(1).i64(0).i64(1).bytes("k")},
		{"window: an element missing", 5, wtWin, wtFrame{}.u32(1).i64(0).i64(1).bytes("k").u32(1)},
		{"window: trailing bytes", 5, wtWin, wtFrame{}.u32(1).i64(0).i64(1).u32(wtNone).payloads("a").raw(0)},
		{"timer: empty", 4, wtTimed, wtFrame{}},
		{"timer: a timer missing", 4, wtTimed, wtFrame{}.u32(2).rec(record.View{Flags: record.FlagKey | record.FlagTimestamp | record.FlagPayload, Key: []byte("k"), Timestamp: 5, Payload: []byte{0}})},
		{"timer: no timestamp", 4, wtTimed, wtFrame{}.u32(1).rec(record.View{Flags: record.FlagKey | record.FlagPayload, Key: []byte("k"), Payload: []byte{0}})},
		{"timer: domain 2", 4, wtTimed, wtFrame{}.u32(1).rec(record.View{Flags: record.FlagKey | record.FlagTimestamp | record.FlagPayload, Key: []byte("k"), Timestamp: 5, Payload: []byte{2}})},
		{"timer: two-byte domain", 4, wtTimed, wtFrame{}.u32(1).rec(record.View{Flags: record.FlagKey | record.FlagTimestamp | record.FlagPayload, Key: []byte("k"), Timestamp: 5, Payload: []byte{0, 0}})},
		{"timer: trailing bytes", 4, wtTimed, fired.raw(0)},
	} {
		if rc := w.call(t, c.kind, c.fn, c.input); rc != 4 {
			t.Errorf("%s: rc %d (%s), want 4", c.name, rc, w.h.errMsg)
		}
		if w.h.emits != 0 {
			t.Errorf("%s: %d emits", c.name, w.h.emits)
		}
	}
	// The instance is still good after them.
	wtCheck(t, "after", w.ok(t, 4, wtTimed, fired), []string{`0/0 f4 k"" t0 "fired 5 d0 kk"`})
}

// TestCSDKReduceInWindowHost runs windowtest.c's reduce through Weir's host as a
// window step does: the real host takes what the SDK answers to aggregate calls.
func TestCSDKReduceInWindowHost(t *testing.T) {
	inst := openWindows(t, "testdata/windowtest_c.wasm", "cat")
	ctx := context.Background()
	add := wasmhost.NewAggregateFrame(wasmhost.AggregateAdd)
	add.AddGroup(nil, false, payloadBatch("1", "2"))
	add.AddGroup([]byte(""), true, payloadBatch("x"))
	accs, err := inst.Aggregate(ctx, add)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprintf("%q", accs); got != `["1,2" ",x"]` {
		t.Fatalf("add: %s", got)
	}
	merge := wasmhost.NewAggregateFrame(wasmhost.AggregateMerge)
	merge.MergeGroup(slices.Clone(accs[0]), [][]byte{slices.Clone(accs[1])})
	merged, err := inst.Aggregate(ctx, merge)
	if err != nil {
		t.Fatal(err)
	}
	res := wasmhost.NewAggregateFrame(wasmhost.AggregateResult)
	res.ResultGroup(slices.Clone(merged[0]))
	out, err := inst.Aggregate(ctx, res)
	if err != nil || string(out[0]) != "1,2,,x" {
		t.Fatalf("result: %q %v", out, err)
	}
}
