package conformance_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/weir-streams/weir/internal/record"
	"github.com/weir-streams/weir/wasmhost"
)

// The C SDK's co_process, broadcast state, trigger and evictor calls (ABI
// §4.7-4.10), through c/streams.c. They run over a fake host written here, as
// windowtest_c_test.go does, since Weir's host does not make these calls yet: it
// keeps one broadcast map, refuses writes to it outside process2 as §4.8 says, and
// records every output frame. TestCSDKStreamsHost runs the module's map through
// Weir's host as well; testdata/streamstest_c.wasm (c/streamstest.c) takes the
// co_process paths the example does not, errors included.

// Function indices of streams.c (every SDK's streams module has them).
const (
	stFraud = iota
	stMatch
	stEager
	stDropNegative
)

const streamsC = "streams_c.wasm"

// stHost is the fake host of one instance of streams.c.
type stHost struct {
	kind        uint32            // the call kind being made
	broadcast   map[string]string // state 0, the broadcast map
	refuseWrite bool              // answer INVALID to every write, as for a keyed second input
	calls       []string          // state import calls, in order
	emitted     []wtOut
	emits       int
	errMsg      string
}

type stModule struct {
	h   *stHost
	mod api.Module
}

func newStreamsTest(t *testing.T) *stModule { return newStreamsModule(t, streamsC) }

func newStreamsModule(t *testing.T, file string) *stModule {
	t.Helper()
	bin, err := os.ReadFile(filepath.Join(wasmDir(), file))
	if err != nil {
		t.Fatalf("%v (build it with `make examples`; `make conformance` does)", err)
	}
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	t.Cleanup(func() { rt.Close(ctx) })
	h := &stHost{broadcast: map[string]string{}}
	read := func(m api.Module, ptr, n uint32) []byte {
		b, ok := m.Memory().Read(ptr, n)
		if !ok {
			panic("fake host: read out of range")
		}
		return b
	}
	write := func(m api.Module, out, capacity uint32, b []byte) int32 {
		if uint32(len(b)) <= capacity && !m.Memory().Write(out, b) {
			panic("fake host: write out of range")
		}
		return int32(len(b))
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
		k := string(read(m, sub, subLen))
		h.calls = append(h.calls, fmt.Sprintf("get %d %d %q", st, rec, k))
		v, ok := h.broadcast[k]
		if !ok {
			return -1
		}
		return write(m, out, outCap, []byte(v))
	}).Export("state_get").
		NewFunctionBuilder().WithFunc(func(_ context.Context, m api.Module, st, rec, sub, subLen, val, n uint32) int32 {
		k := string(read(m, sub, subLen))
		h.calls = append(h.calls, fmt.Sprintf("put %d %d %q", st, rec, k))
		if st != 0 { // keyed state: no key in process2 of a broadcast input
			return map[bool]int32{true: -3, false: 0}[h.kind == 3]
		}
		if h.kind != 3 || h.refuseWrite {
			return -3
		}
		h.broadcast[k] = string(read(m, val, n))
		return 0
	}).Export("state_put").
		NewFunctionBuilder().WithFunc(func(_ context.Context, m api.Module, st, rec, sub, subLen uint32) int32 {
		k := string(read(m, sub, subLen))
		h.calls = append(h.calls, fmt.Sprintf("delete %d %d %q", st, rec, k))
		if st != 0 || h.kind != 3 || h.refuseWrite {
			return -3
		}
		if subLen == 0 {
			clear(h.broadcast)
		} else {
			delete(h.broadcast, k)
		}
		return 0
	}).Export("state_delete").
		NewFunctionBuilder().WithFunc(func(_ context.Context, m api.Module, st, rec, cursor, out, outCap uint32) int32 {
		if cursor == 0 {
			h.calls = append(h.calls, fmt.Sprintf("iter %d %d", st, rec))
		}
		keys := make([]string, 0, len(h.broadcast))
		for k := range h.broadcast {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if int(cursor) >= len(keys) {
			return -1
		}
		k := keys[cursor]
		// An entry larger than the guest's buffer is not written: the guest
		// asks again with room for it (the large rule below takes that path).
		e := record.AppendView(nil, &record.View{Flags: record.FlagKey | record.FlagPayload, Key: []byte(k), Payload: []byte(h.broadcast[k])})
		return write(m, out, outCap, e)
	}).Export("state_iter").
		NewFunctionBuilder().WithFunc(func(_ context.Context, d int32, rec uint32, at int64) int32 {
		h.calls = append(h.calls, fmt.Sprintf("timer_register %d %d %d", d, rec, at))
		return map[bool]int32{true: -3, false: 0}[h.kind == 3]
	}).Export("timer_register").
		NewFunctionBuilder().WithFunc(func(_ context.Context, d int32, rec uint32, at int64) int32 {
		h.calls = append(h.calls, fmt.Sprintf("timer_delete %d %d %d", d, rec, at))
		return 0
	}).Export("timer_delete").
		Instantiate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mod, err := rt.InstantiateWithConfig(ctx, bin, wazero.NewModuleConfig().WithName("streams"))
	if err != nil {
		t.Fatalf("instantiating %s: %v", file, err)
	}
	return &stModule{h: h, mod: mod}
}

func (s *stModule) call(t *testing.T, kind, fn uint32, input []byte) uint32 {
	t.Helper()
	ctx := context.Background()
	s.h.kind, s.h.emitted, s.h.emits, s.h.calls, s.h.errMsg = kind, nil, 0, nil, ""
	res, err := s.mod.ExportedFunction("weir_alloc").Call(ctx, uint64(max(len(input), 1)))
	if err != nil || res[0] == 0 {
		t.Fatalf("weir_alloc(%d): %v %v", len(input), res, err)
	}
	ptr := uint32(res[0])
	if !s.mod.Memory().Write(ptr, input) {
		t.Fatal("writing the input")
	}
	res, err = s.mod.ExportedFunction("weir_call").Call(ctx, uint64(kind), uint64(fn), uint64(ptr), uint64(len(input)))
	if err != nil {
		t.Fatalf("weir_call(%d, %d): %v", kind, fn, err)
	}
	return uint32(res[0])
}

func (s *stModule) ok(t *testing.T, kind, fn uint32, input []byte) []string {
	t.Helper()
	if rc := s.call(t, kind, fn, input); rc != 0 {
		t.Fatalf("weir_call(%d, %d) = %d (%s), want 0", kind, fn, rc, s.h.errMsg)
	}
	if s.h.emits > 1 {
		t.Errorf("%d emits in one call, want at most 1", s.h.emits)
	}
	var out []string
	for _, o := range s.h.emitted {
		out = append(out, o.String())
	}
	return out
}

func keyedBatch(key string, payloads ...string) wtFrame {
	f := wtFrame{}.u32(uint32(len(payloads)))
	for _, p := range payloads {
		f = f.rec(record.View{Flags: record.FlagKey | record.FlagPayload, Key: []byte(key), Payload: []byte(p)})
	}
	return f
}

// TestCSDKStreamsDescription reads the description as any host would.
func TestCSDKStreamsDescription(t *testing.T) {
	s := newStreamsTest(t)
	res, err := s.mod.ExportedFunction("weir_describe").Call(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := s.mod.Memory().Read(uint32(res[0]>>32), uint32(res[0]))
	var d wasmhost.Description
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	var got []string
	for _, f := range d.Functions {
		got = append(got, fmt.Sprintf("%d %s:%s %v %v", f.Index, f.Name, f.Kind, f.SideOutputs, f.State))
	}
	wtCheck(t, "functions", got, []string{
		"0 fraud:co_process [clean] [{rules broadcast 0}]",
		"1 match:map [] []",
		"2 eager:trigger [] []",
		"3 drop_negative:evictor [] []",
	})
}

// TestCSDKStreamsHost loads streams_c.wasm into Weir's host and runs match there.
func TestCSDKStreamsHost(t *testing.T) {
	bin, err := os.ReadFile(filepath.Join(wasmDir(), streamsC))
	if err != nil {
		t.Fatalf("%v (build it with `make examples`; `make conformance` does)", err)
	}
	ctx := context.Background()
	m, err := runtime(t).Load(ctx, "streams_c_host", bin)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := m.Instantiate(ctx, "match", wasmhost.Limits{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Close(ctx, false)
	if err := inst.Open(ctx, []byte("{}")); err != nil {
		t.Fatal(err)
	}
	out, err := inst.Process(ctx, payloadBatch(`{"left":{"order_id":1,"amount":100},"right":null}`))
	if err != nil {
		t.Fatal(err)
	}
	r := out.Reader()
	var v record.View
	if !r.Next(&v) || string(v.Payload) != `{"order":1,"ordered":100,"paid":null,"underpaid":true}` {
		t.Errorf("match through the host: %q", v.Payload)
	}
}

func TestCSDKCoProcessBroadcast(t *testing.T) {
	s := newStreamsTest(t)
	// process2: rules, a deletion of one never stored, and records that are no rules.
	rules := wtFrame{}.payloads(
		`{"rule":"b","max_amount":100}`,
		`{"rule":"a","max_amount":50}`,
		`{"rule":"q\"x","max_amount":1e3}`,
		`{"rule":"c","delete":true}`,
		`not json`, `{"rule":"d","max_amount":"5"}`, `{"rule":"","max_amount":1}`, `{"rule":7,"max_amount":1}`,
		`{"rule":"e","max_amount":5`)
	wtCheck(t, "process2 outputs", s.ok(t, 3, stFraud, rules), nil)
	wtCheck(t, "process2 imports", s.h.calls, []string{`put 0 0 "b"`, `put 0 1 "a"`, `put 0 2 "q\"x"`, `delete 0 3 "c"`})
	if len(s.h.broadcast) != 3 || s.h.broadcast["a"] != `{"rule":"a","max_amount":50}` {
		t.Errorf("broadcast state: %q", s.h.broadcast)
	}

	txns := keyedBatch(`"acct"`,
		`{"id":1,"account":"acct","amount":75}`,
		`{"id":"t2","account":"acct","amount":1000.5}`,
		`{"id":3,"account":"acct","amount":50}`,
		`{"account":"acct","amount":-1}`,
		`{"id":5,"account":"acct","amount":"75"}`,
		`{"id":6}`)
	wtCheck(t, "process outputs", s.ok(t, 2, stFraud, txns), []string{
		`0/0 f4 k"" t0 "{\"txn\":1,\"rule\":\"a\",\"amount\":75}"`,
		`1/0 f4 k"" t0 "{\"txn\":\"t2\",\"rule\":\"a\",\"amount\":1000.5}"`,
		`1/0 f4 k"" t0 "{\"txn\":\"t2\",\"rule\":\"b\",\"amount\":1000.5}"`,
		`1/0 f4 k"" t0 "{\"txn\":\"t2\",\"rule\":\"q\\\"x\",\"amount\":1000.5}"`,
		`2/1 f0 k"" t0 ""`, // 50 is not above max_amount 50: clean, the record itself
		`3/1 f0 k"" t0 ""`,
		`4/1 f0 k"" t0 ""`, // no numeric amount: no rule matches
		`5/1 f0 k"" t0 ""`,
	})
	wtCheck(t, "process imports", s.h.calls, []string{"iter 0 0", "iter 0 1", "iter 0 2", "iter 0 3"})

	// A rule deleted, a large rule (past the SDK's first buffers) stored.
	big := fmt.Sprintf(`{"rule":"a","max_amount":10,"note":%q}`, strings.Repeat("n", 5000))
	s.ok(t, 3, stFraud, wtFrame{}.payloads(`{"rule":"b","delete":true}`, `{"rule":"q\"x","delete":true}`, big))
	wtCheck(t, "after the deletions", s.ok(t, 2, stFraud, keyedBatch("k", `{"id":9,"amount":11}`, `{"id":10,"amount":10}`)),
		[]string{`0/0 f4 k"" t0 "{\"txn\":9,\"rule\":\"a\",\"amount\":11}"`, `1/1 f0 k"" t0 ""`})

	// A host that refuses the write (INVALID): the call fails, naming the state.
	s.h.refuseWrite = true
	if rc := s.call(t, 3, stFraud, wtFrame{}.payloads(`{"rule":"z","max_amount":1}`)); rc != 1 ||
		!strings.Contains(s.h.errMsg, `writing state "rules"`) || !strings.Contains(s.h.errMsg, "INVALID") {
		t.Errorf("refused write: rc %d, message %q", rc, s.h.errMsg)
	}
	if s.h.emits != 0 {
		t.Errorf("a failed call emitted %d frames", s.h.emits)
	}
}

func TestCSDKMatch(t *testing.T) {
	s := newStreamsTest(t)
	in := wtFrame{}.payloads(
		`{"left":{"order_id":1,"amount":100},"right":{"order_id":1,"amount":90.5}}`,
		`{"left":{"order_id":1,"amount":100},"right":{"order_id":1,"amount":1e2}}`,
		`{"left":{"order_id":"o2","amount":5},"right":null}`,
		`{"left":null,"right":{"order_id":3,"amount":7}}`,
		`{"left":{"order_id":4,"amount":0.3},"right":{"order_id":4,"amount":0.30000000000000004}}`,
		`{"right":{"amount":7},"left":{"order_id":[5],"amount":-2.5E1}}`,
		`{"left":null,"right":null}`)
	wtCheck(t, "match", s.ok(t, 2, stMatch, in), []string{
		`0/0 f4 k"" t0 "{\"order\":1,\"ordered\":100,\"paid\":90.5,\"underpaid\":true}"`,
		`1/0 f4 k"" t0 "{\"order\":1,\"ordered\":100,\"paid\":1e2,\"underpaid\":false}"`,
		`2/0 f4 k"" t0 "{\"order\":\"o2\",\"ordered\":5,\"paid\":null,\"underpaid\":true}"`,
		`3/0 f4 k"" t0 "{\"order\":3,\"ordered\":null,\"paid\":7,\"underpaid\":false}"`,
		`4/0 f4 k"" t0 "{\"order\":4,\"ordered\":0.3,\"paid\":0.30000000000000004,\"underpaid\":false}"`,
		`5/0 f4 k"" t0 "{\"order\":[5],\"ordered\":-2.5E1,\"paid\":7,\"underpaid\":false}"`,
		`6/0 f4 k"" t0 "{\"order\":null,\"ordered\":null,\"paid\":null,\"underpaid\":false}"`,
	})
	if rc := s.call(t, 2, stMatch, wtFrame{}.payloads(`[1]`)); rc != 1 || !strings.Contains(s.h.errMsg, "not a JSON object") {
		t.Errorf("a payload that is no object: rc %d, message %q", rc, s.h.errMsg)
	}
}

// trigger event frames (ABI §4.9)
func (f wtFrame) event(kind byte, start, end, at int64, count uint64, key string, keyed bool) wtFrame {
	f = f.raw(kind).i64(start).i64(end).i64(at)
	f = binary.LittleEndian.AppendUint64(f, count)
	if !keyed {
		return f.u32(wtNone)
	}
	return f.bytes(key)
}

// answer is a trigger output's payload as text: action, then the timers.
func answer(action byte, timers ...int64) string {
	b := []byte{action}
	for _, t := range timers {
		b = binary.LittleEndian.AppendUint64(b, uint64(t))
	}
	return fmt.Sprintf("%q", b)
}

func TestCSDKTrigger(t *testing.T) {
	s := newStreamsTest(t)
	const none = -1 << 63
	f := wtFrame{}.u32(7).
		event(0, 0, 10, 3, 4, `"k"`, true).
		event(0, 0, 10, 9, 5, `"k"`, true).
		event(1, 0, 10, 8, 5, `"k"`, true).
		event(1, 0, 10, 9, 5, "", true).
		event(2, 0, 10, 1, 2, "", false).
		event(0, none, 1<<63-1, 5, 100, "", false).
		event(1, none, 1<<63-1, 1<<63-1, 1, "k", true)
	got := s.ok(t, 8, stEager, f)
	wtCheck(t, "eager", got, []string{
		`0/0 f4 k"" t0 ` + answer(0, 9),
		`1/0 f4 k"" t0 ` + answer(1, 9),
		`2/0 f4 k"" t0 ` + answer(0, none),
		`3/0 f4 k"" t0 ` + answer(3, none),
		`4/0 f4 k"" t0 ` + answer(0, none),
		`5/0 f4 k"" t0 ` + answer(1, 1<<63-2),
		`6/0 f4 k"" t0 ` + answer(3, none),
	})
	wtCheck(t, "no events", s.ok(t, 8, stEager, wtFrame{}.u32(0)), nil)
	for _, c := range []struct {
		name  string
		input wtFrame
	}{
		{"empty", wtFrame{}},
		{"event 3", wtFrame{}.u32(1).event(3, 0, 1, 0, 0, "", false)},
		{"an event missing", wtFrame{}.u32(2).event(0, 0, 1, 0, 0, "", false)},
		{"truncated", wtFrame{}.u32(1).raw(0, 1, 2, 3)},
		{"key past the end", wtFrame{}.u32(1).event(0, 0, 1, 0, 0, "", false)[:4+37-4].u32(9).raw('k')},
		{"trailing bytes", wtFrame{}.u32(1).event(0, 0, 1, 0, 0, "", false).raw(0)},
	} {
		if rc := s.call(t, 8, stEager, c.input); rc != 4 || s.h.emits != 0 {
			t.Errorf("%s: rc %d, %d emits; want 4, none", c.name, rc, s.h.emits)
		}
	}
}

// evicted is an evictor output's payload as text: the count, then the indexes.
func evicted(idx ...uint32) string {
	b := binary.LittleEndian.AppendUint32(nil, uint32(len(idx)))
	for _, i := range idx {
		b = binary.LittleEndian.AppendUint32(b, i)
	}
	return fmt.Sprintf("%q", b)
}

func TestCSDKEvictor(t *testing.T) {
	s := newStreamsTest(t)
	f := wtFrame{}.u32(3).
		i64(0).i64(10).bytes(`"k"`).payloads(`{"amount":-1}`, `{"amount":0}`, `{"amount":-0}`, `{"amount":"-5"}`,
		`{"amount":-0.5}`, `{"amount":3}`, `{}`, `nope`, `{"amount":-2e-3,"x":1}`).
		i64(10).i64(20).u32(wtNone).payloads().
		i64(20).i64(30).bytes("").payloads(`{"amount":1}`)
	wtCheck(t, "drop_negative", s.ok(t, 9, stDropNegative, f), []string{
		`0/0 f4 k"" t0 ` + evicted(0, 4, 8),
		`1/0 f4 k"" t0 ` + evicted(),
		`2/0 f4 k"" t0 ` + evicted(),
	})
	wtCheck(t, "no windows", s.ok(t, 9, stDropNegative, wtFrame{}.u32(0)), nil)
	if rc := s.call(t, 9, stDropNegative, wtFrame{}.u32(1).i64(0).i64(1).u32(wtNone).payloads("a").raw(0)); rc != 4 {
		t.Errorf("trailing bytes: rc %d, want 4", rc)
	}
}

// TestCSDKStreamsUnsupportedCalls: each new kind takes only its own calls.
func TestCSDKStreamsUnsupportedCalls(t *testing.T) {
	s := newStreamsTest(t)
	empty := wtFrame{}.u32(0)
	for _, c := range []struct {
		name     string
		kind, fn uint32
	}{
		{"process2 of a map", 3, stMatch},
		{"trigger of a co_process", 8, stFraud},
		{"trigger of an evictor", 8, stDropNegative},
		{"evict of a trigger", 9, stEager},
		{"evict of a map", 9, stMatch},
		{"process of a trigger", 2, stEager},
		{"process of an evictor", 2, stDropNegative},
		{"process2 of a trigger", 3, stEager},
		{"timer of a co_process without a timer callback", 4, stFraud},
		{"window of an evictor", 5, stDropNegative},
		{"call kind 10", 10, stEager},
	} {
		if rc := s.call(t, c.kind, c.fn, empty); rc != 3 {
			t.Errorf("%s: rc %d, want 3", c.name, rc)
		}
	}
	if rc := s.call(t, 2, 4, empty); rc != 2 {
		t.Errorf("unknown function: rc %d, want 2", rc)
	}
}

// TestCSDKCoProcessPaths runs testdata/streamstest_c.wasm: what a co_process
// function sees of its two inputs, and the errors the SDK reports.
func TestCSDKCoProcessPaths(t *testing.T) {
	s := newStreamsModule(t, "testdata/streamstest_c.wasm")
	const co = 0
	wtCheck(t, "process2", s.ok(t, 3, co, keyedBatch("k", "put:a", "in", "get:a", "get:z", "tag:1")), []string{
		`1/0 f4 k"" t0 "in2"`, `2/0 f4 k"" t0 "a=put:a"`, `3/0 f4 k"" t0 "z-"`, `4/1 f4 k"" t0 "t"`})
	wtCheck(t, "process", s.ok(t, 2, co, keyedBatch("k", "in", "get:a", "kv", "ev:5")), []string{
		`0/0 f4 k"" t0 "in1"`, `1/0 f4 k"" t0 "a=put:a"`})
	wtCheck(t, "process imports", s.h.calls, []string{`get 0 1 "a"`, `put 1 2 ""`, "timer_register 0 3 5"})
	fired := wtFrame{}.u32(1).rec(record.View{Flags: record.FlagKey | record.FlagTimestamp | record.FlagPayload,
		Key: []byte("k"), Timestamp: 5, Payload: []byte{0}})
	wtCheck(t, "timer", s.ok(t, 4, co, fired), []string{`0/0 f4 k"" t0 "fired 5 in0 a=put:a"`})

	for _, c := range []struct {
		name, want string
		kind       uint32
		payload    string
	}{
		{"broadcast write in process", `weir: writing state "bc": broadcast state is written only while processing the broadcast input (process2) (INVALID)`, 2, "put:b"},
		{"undeclared tag", `weir: emitting on output tag 2, which function "co" did not declare (weir_side_output)`, 2, "tag:2"},
		{"keyed state in process2", `weir: writing state "seen": the host refused the call as invalid (INVALID): in process2 of a broadcast input the records have no key, so keyed state is unavailable`, 3, "kv"},
		{"timer in process2", `weir: the host refused the timer call as invalid (INVALID): in process2 of a broadcast input the records have no key, so timers are unavailable`, 3, "ev:1"},
	} {
		// A good record first: a failed call emits nothing at all.
		if rc := s.call(t, c.kind, co, keyedBatch("k", "in", c.payload)); rc != 1 || s.h.errMsg != c.want || s.h.emits != 0 {
			t.Errorf("%s: rc %d, %d emits, message %q; want 1, none, %q", c.name, rc, s.h.emits, s.h.errMsg, c.want)
		}
	}
}
