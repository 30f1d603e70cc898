package wasmhost_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/weir-streams/weir/internal/record"
	"github.com/weir-streams/weir/wasmhost"
)

// watModule assembles testdata/name.wat with wat2wasm and loads it.
func watModule(t testing.TB, rt *wasmhost.Runtime, name string) *wasmhost.Module {
	t.Helper()
	tool, err := exec.LookPath("wat2wasm")
	if err != nil {
		t.Fatalf("wat2wasm is needed to assemble testdata/%s.wat (Debian package wabt; `make deps` installs it): %v", name, err)
	}
	out := filepath.Join(t.TempDir(), name+".wasm")
	if b, err := exec.Command(tool, filepath.Join("testdata", name+".wat"), "-o", out).CombinedOutput(); err != nil {
		t.Fatalf("assembling testdata/%s.wat: %v\n%s", name, err, b)
	}
	wasm, err := os.ReadFile(out)
	require.NoError(t, err)
	m, err := rt.Load(context.Background(), "testdata/"+name+".wat", wasm)
	require.NoError(t, err)
	return m
}

// script builds the commands testdata/script.wat runs for one record.
type script []byte

func (s script) u32(v uint32) script   { return binary.LittleEndian.AppendUint32(s, v) }
func (s script) bytes(b string) script { return append(s.u32(uint32(len(b))), b...) }

func (s script) emit(frame []byte) script {
	return append(append(s, 'E').u32(uint32(len(frame))), frame...)
}
func (s script) get(st, rec uint32, sub string) script {
	return append(s, 'G').u32(st).u32(rec).bytes(sub)
}
func (s script) put(st, rec uint32, sub, val string) script {
	return append(s, 'P').u32(st).u32(rec).bytes(sub).bytes(val)
}
func (s script) del(st, rec uint32, sub string) script {
	return append(s, 'D').u32(st).u32(rec).bytes(sub)
}
func (s script) iter(st, rec, cursor uint32) script {
	return append(s, 'I').u32(st).u32(rec).u32(cursor)
}
func (s script) timer(domain, rec uint32, t int64) script {
	return binary.LittleEndian.AppendUint64(append(s, 'T').u32(domain).u32(rec), uint64(t))
}

// output is one output of an output frame (sdk/ABI.md §5).
type output struct {
	idx, tag uint32
	v        record.View
}

func outFrame(outs ...output) []byte {
	b := binary.LittleEndian.AppendUint32(nil, uint32(len(outs)))
	for _, o := range outs {
		b = binary.LittleEndian.AppendUint32(b, o.idx)
		b = binary.LittleEndian.AppendUint32(b, o.tag)
		b = record.AppendView(b, &o.v)
	}
	return b
}

func payloadOut(idx, tag uint32, p string) output {
	return output{idx, tag, record.View{Flags: record.FlagPayload, Payload: []byte(p)}}
}

// rec is an input record: a key (none when keyed is false), a timestamp and a
// script as payload.
type rec struct {
	key    string
	keyed  bool
	ts     int64
	script script
}

func batchOfRecs(recs ...rec) *record.Batch {
	var b record.Batch
	b.Reset()
	hdr := record.AppendHeader(nil, "h", "v")
	for _, r := range recs {
		v := record.View{Flags: record.FlagPayload | record.FlagTimestamp | record.FlagHeaders,
			Timestamp: r.ts, Payload: r.script, Headers: hdr, HeaderCount: 1}
		if r.keyed {
			v.Flags |= record.FlagKey
			v.Key = []byte(r.key)
		}
		b.Append(&v)
	}
	return &b
}

func views(t testing.TB, b *record.Batch) []record.View {
	t.Helper()
	var out []record.View
	r := b.Reader()
	var v record.View
	for r.Next(&v) {
		out = append(out, v)
	}
	require.NoError(t, r.Err())
	return out
}

// callLog splits a call's main output into the records the functions emitted and
// the script's log, the last output when it has no key.
func callLog(t testing.TB, out *record.Batch) ([]record.View, *logReader) {
	t.Helper()
	vs := views(t, out)
	require.NotEmpty(t, vs, "the call logged nothing")
	last := vs[len(vs)-1]
	require.False(t, last.HasKey(), "the last output is not the log")
	return vs[:len(vs)-1], &logReader{t: t, b: last.Payload}
}

type logReader struct {
	t testing.TB
	b []byte
}

// code reads the next return code.
func (l *logReader) code() int32 {
	l.t.Helper()
	require.GreaterOrEqual(l.t, len(l.b), 4, "the log is shorter than expected")
	c := int32(binary.LittleEndian.Uint32(l.b))
	l.b = l.b[4:]
	return c
}

// value reads the result of a get: its bytes, or nil with the code when absent
// or refused.
func (l *logReader) value() (string, int32) {
	l.t.Helper()
	c := l.code()
	if c < 0 {
		return "", c
	}
	v := string(l.b[:c])
	l.b = l.b[c:]
	return v, c
}

func (l *logReader) done() {
	l.t.Helper()
	require.Empty(l.t, l.b, "the log has more than expected")
}

// expectCodes checks that the next codes of the log are want.
func (l *logReader) expectCodes(want ...int32) {
	l.t.Helper()
	for k, w := range want {
		require.Equal(l.t, w, l.code(), "code %d", k)
	}
}

func (l *logReader) expectValue(want string) {
	l.t.Helper()
	v, c := l.value()
	require.GreaterOrEqual(l.t, c, int32(0), "want %q", want)
	require.Equal(l.t, want, v)
}

func TestSideOutputsRoutedByTag(t *testing.T) {
	rt := newRuntime(t)
	m := watModule(t, rt, "script")
	inst := instance(t, m, "flat", wasmhost.Limits{})
	ctx := context.Background()
	require.Equal(t, []string{"odd", "even"}, inst.SideOutputNames())
	require.Len(t, inst.SideOutputs(), 2)
	require.Nil(t, inst.SideOutput(0))
	require.Nil(t, inst.SideOutput(3))

	// Record i emits itself on the main output and "s<i>" to "odd" (tag 1) or
	// "even" (tag 2); record 2 also names record 0 again (a timestamp of its
	// own) and emits a record without parent.
	in := batchOfRecs(
		rec{key: "k0", keyed: true, ts: 100, script: script{}.emit(outFrame(output{0, 0, record.View{}}, payloadOut(0, 2, "s0")))},
		rec{key: "k1", keyed: true, ts: 101, script: script{}.emit(outFrame(output{1, 0, record.View{}}, payloadOut(1, 1, "s1")))},
		rec{ts: 102, script: script{}.emit(outFrame(output{2, 0, record.View{}}, payloadOut(2, 2, "s2"),
			output{0, 1, record.View{Flags: record.FlagTimestamp, Timestamp: 7}},
			output{record.NoParent, 2, record.View{Flags: record.FlagKey, Key: []byte("nk")}}))},
	)
	out, err := inst.Process(ctx, in)
	require.NoError(t, err)
	require.Equal(t, views(t, in), views(t, out), "main outputs with flags 0 are the input records")

	inputs := views(t, in)
	odd := views(t, inst.SideOutput(1))
	require.Same(t, inst.SideOutputs()[0], inst.SideOutput(1))
	require.Len(t, odd, 2)
	require.Equal(t, "s1", string(odd[0].Payload))
	require.Equal(t, "k1", string(odd[0].Key))
	require.Equal(t, int64(101), odd[0].Timestamp)
	require.Equal(t, uint32(1), odd[0].HeaderCount, "headers are inherited")
	require.Equal(t, inputs[0].Payload, odd[1].Payload, "an output with no payload inherits its parent's")
	require.Equal(t, "k0", string(odd[1].Key))
	require.Equal(t, int64(7), odd[1].Timestamp)

	even := views(t, inst.SideOutput(2))
	require.Len(t, even, 3)
	require.Equal(t, "s0", string(even[0].Payload))
	require.Equal(t, "k0", string(even[0].Key))
	require.Equal(t, int64(100), even[0].Timestamp)
	require.Equal(t, "s2", string(even[1].Payload))
	require.False(t, even[1].HasKey(), "record 2 has no key to inherit")
	require.Equal(t, record.FlagKey|record.FlagPayload, even[2].Flags, "without parent nothing is inherited")
	require.Equal(t, "nk", string(even[2].Key))
	require.Empty(t, even[2].Payload)

	// The next call starts with empty side outputs.
	out, err = inst.Process(ctx, batchOfRecs(rec{key: "k", keyed: true, script: script{}.emit(outFrame(output{0, 0, record.View{}}))}))
	require.NoError(t, err)
	require.Equal(t, 1, out.Len())
	require.Equal(t, 0, inst.SideOutput(1).Len())
	require.Equal(t, 0, inst.SideOutput(2).Len())

	// An undeclared tag fails the call, and what it emitted before is gone.
	_, err = inst.Process(ctx, batchOfRecs(
		rec{script: script{}.emit(outFrame(payloadOut(0, 1, "a")))},
		rec{script: script{}.emit(outFrame(payloadOut(1, 3, "b")))}))
	ce := callErr(t, err)
	require.Equal(t, wasmhost.FailureABI, ce.Kind)
	require.Contains(t, ce.Message, "output tag 3 is not declared (the function declares 2 side outputs)")
	require.Equal(t, 0, inst.SideOutput(1).Len())
}

func TestMapCountsMainOutputsOnly(t *testing.T) {
	rt := newRuntime(t)
	inst := instance(t, watModule(t, rt, "script"), "tagmap", wasmhost.Limits{})
	ctx := context.Background()
	both := func(i uint32) script {
		return script{}.emit(outFrame(output{i, 1, record.View{}}, payloadOut(i, 0, "m")))
	}
	out, err := inst.Process(ctx, batchOfRecs(rec{script: both(0)}, rec{script: both(1)}))
	require.NoError(t, err)
	require.Equal(t, []string{"m", "m"}, payloads(t, out))
	require.Equal(t, 2, inst.SideOutput(1).Len())

	// Two side outputs and one main output for two inputs: a map breaking its rule.
	_, err = inst.Process(ctx, batchOfRecs(
		rec{script: script{}.emit(outFrame(output{0, 1, record.View{}}))},
		rec{script: both(1)}))
	ce := callErr(t, err)
	require.Equal(t, wasmhost.FailureABI, ce.Kind)
	require.Contains(t, ce.Message, "map function emitted 1 records for 2 inputs")
	require.Equal(t, 0, inst.SideOutput(1).Len(), "a failed call emits nothing")
}

// fakeTimers records the timers registered and deleted.
type fakeTimers struct{ calls []string }

func (f *fakeTimers) Register(domain int, key []byte, t int64) error {
	f.calls = append(f.calls, "register "+string('0'+byte(domain))+" "+string(key)+" "+itoa(t))
	return nil
}

func (f *fakeTimers) Delete(domain int, key []byte, t int64) error {
	f.calls = append(f.calls, "delete "+string('0'+byte(domain))+" "+string(key)+" "+itoa(t))
	return nil
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

func TestCoProcessKeyedInputsShareState(t *testing.T) {
	rt := newRuntime(t)
	m := watModule(t, rt, "script")
	require.True(t, wasmhost.Executable(wasmhost.KindCoProcess))
	inst := instance(t, m, "co", wasmhost.Limits{})
	var st wasmhost.MemoryState
	var timers fakeTimers
	inst.SetKeyedState(&st)
	inst.SetTimers(&timers)
	ctx := context.Background()
	const value, mapState, rules = 0, 1, 2

	// First input: a value and an event-time timer for key a.
	out, err := inst.Process(ctx, batchOfRecs(rec{key: "a", keyed: true, ts: 1,
		script: script{}.put(value, 0, "", "one").timer(0, 0, 500).put(rules, 0, "r", "x").get(rules, 0, "r")}))
	require.NoError(t, err)
	_, log := callLog(t, out)
	log.expectCodes(0, 0, -3, -1) // broadcast state is read-only outside a broadcast process2
	log.done()

	// Second input, keyed too: it sees the first input's state of the same key
	// and writes its own.
	out, err = inst.Process2(ctx, batchOfRecs(
		rec{key: "a", keyed: true, ts: 2, script: script{}.get(value, 0, "").put(mapState, 0, "x", "2").timer(1, 0, 600).put(rules, 0, "r", "x")},
		rec{key: "b", keyed: true, ts: 3, script: script{}.get(value, 1, "")}))
	require.NoError(t, err)
	_, log = callLog(t, out)
	log.expectValue("one")
	log.expectCodes(0, 0, -3)
	_, c := log.value()
	require.Equal(t, int32(-1), c, "key b has no value")
	log.done()

	// A timer call of a co_process function: state and side outputs for the
	// timer's key.
	fired := batchOfRecs(rec{key: "a", keyed: true, ts: 500,
		script: script{}.get(value, 0, "").get(mapState, 0, "x").emit(outFrame(payloadOut(0, 1, "late")))})
	out, err = inst.Timer(ctx, fired)
	require.NoError(t, err)
	_, log = callLog(t, out)
	log.expectValue("one")
	log.expectValue("2")
	log.done()
	late := views(t, inst.SideOutput(1))
	require.Len(t, late, 1)
	require.Equal(t, "late", string(late[0].Payload))
	require.Equal(t, "a", string(late[0].Key))
	require.Equal(t, int64(500), late[0].Timestamp)
	require.Equal(t, []string{"register 0 a " + itoa(500), "register 1 a " + itoa(600)}, timers.calls)

	// Process2 is for co_process functions only.
	proc := instance(t, m, "proc", wasmhost.Limits{})
	_, err = proc.Process2(ctx, batchOfRecs())
	require.ErrorContains(t, err, "process2 call for a process function")
}

// broadcastState is a KeyedState like the worker's: broadcast state (number
// bcast) is one map for the subtask, whatever the key. It records the keys it
// was called with for it.
type broadcastState struct {
	wasmhost.MemoryState
	bcast int
	keys  []string
}

func (b *broadcastState) key(state int, key []byte) []byte {
	if state != b.bcast {
		return key
	}
	if key == nil {
		b.keys = append(b.keys, "<nil>")
	} else {
		b.keys = append(b.keys, string(key))
	}
	return nil
}

func (b *broadcastState) Get(state int, key, sub, dst []byte) ([]byte, bool, error) {
	return b.MemoryState.Get(state, b.key(state, key), sub, dst)
}

func (b *broadcastState) Put(state int, key, sub, val []byte) error {
	return b.MemoryState.Put(state, b.key(state, key), sub, val)
}

func (b *broadcastState) Delete(state int, key, sub []byte) error {
	return b.MemoryState.Delete(state, b.key(state, key), sub)
}

func (b *broadcastState) Iter(state int, key []byte, cursor int) ([]byte, []byte, bool, error) {
	return b.MemoryState.Iter(state, b.key(state, key), cursor)
}

func TestCoProcessBroadcastSecond(t *testing.T) {
	rt := newRuntime(t)
	inst := instance(t, watModule(t, rt, "script"), "co", wasmhost.Limits{})
	st := &broadcastState{bcast: 2}
	var timers fakeTimers
	inst.SetKeyedState(st)
	inst.SetTimers(&timers)
	inst.SetBroadcastSecond(true)
	ctx := context.Background()
	const value, mapState, rules = 0, 1, 2

	// The broadcast input: records without key write broadcast state; keyed state
	// and timers are INVALID.
	out, err := inst.Process2(ctx, batchOfRecs(
		rec{ts: 1, script: script{}.put(rules, 0, "r1", "A").get(value, 0, "").put(value, 0, "", "z").
			put(mapState, 0, "s", "z").timer(0, 0, 5).put(rules, 7, "r9", "bad index")},
		rec{ts: 2, script: script{}.put(rules, 1, "r2", "B").get(rules, 1, "r1").del(rules, 1, "r2").
			put(rules, 1, "r2", "C").iter(rules, 1, 0)}))
	require.NoError(t, err)
	_, log := callLog(t, out)
	log.expectCodes(0, -3, -3, -3, -3, -3)
	log.expectCodes(0)
	log.expectValue("A")
	log.expectCodes(0, 0)
	entry, c := log.value()
	require.Positive(t, c)
	v, _, err := record.Decode([]byte(entry))
	require.NoError(t, err)
	require.Equal(t, "r1", string(v.Key), "broadcast state iterates as a map")
	require.Equal(t, "A", string(v.Payload))
	log.done()
	require.Empty(t, timers.calls)

	// The keyed input reads what the broadcast input wrote, cannot write it, and
	// has its keyed state and timers.
	out, err = inst.Process(ctx, batchOfRecs(rec{key: "k", keyed: true, ts: 3,
		script: script{}.get(rules, 0, "r1").get(rules, 0, "r2").put(rules, 0, "r3", "x").del(rules, 0, "r1").
			put(value, 0, "", "v").timer(0, 0, 9)}))
	require.NoError(t, err)
	_, log = callLog(t, out)
	log.expectValue("A")
	log.expectValue("C")
	log.expectCodes(-3, -3, 0, 0)
	log.done()

	// So does a timer call.
	out, err = inst.Timer(ctx, batchOfRecs(rec{key: "k", keyed: true, ts: 9,
		script: script{}.put(rules, 0, "r", "x").get(rules, 0, "r1").get(value, 0, "")}))
	require.NoError(t, err)
	_, log = callLog(t, out)
	log.expectCodes(-3)
	log.expectValue("A")
	log.expectValue("v")
	log.done()

	require.Equal(t, []string{"register 0 k " + itoa(9)}, timers.calls)
	// The store saw the broadcast records' missing key and the keyed records' key.
	require.Equal(t, []string{"<nil>", "<nil>", "<nil>", "<nil>", "<nil>", "<nil>", "k", "k", "k"}, st.keys)
}

func TestTrigger(t *testing.T) {
	rt := newRuntime(t)
	m := watModule(t, rt, "script")
	require.True(t, wasmhost.Executable(wasmhost.KindTrigger))
	inst := instance(t, m, "trig", wasmhost.Limits{})
	ctx := context.Background()
	auto := []byte("auto")

	f := wasmhost.NewTriggerFrame()
	f.AddEvent(wasmhost.TriggerElements, 0, 10, 7, 3, auto, true)
	f.AddEvent(wasmhost.TriggerEventTime, 0, 10, 9, 1, auto, true)
	f.AddEvent(wasmhost.TriggerProcessingTime, 20, 30, 25, 4, nil, false)
	f.AddEvent(wasmhost.TriggerElements, 0, 10, 3, 1, []byte{3}, true)
	f.AddEvent(wasmhost.TriggerElements, math.MinInt64, math.MaxInt64, 50, 5, auto, true)
	require.Equal(t, 5, f.Len())
	acts, err := inst.Trigger(ctx, f)
	require.NoError(t, err)
	require.Equal(t, []wasmhost.TriggerAction{
		{Result: wasmhost.TriggerFire, EventTimer: 9, ProcessingTimer: 107},
		{Result: wasmhost.TriggerContinue, EventTimer: 9, ProcessingTimer: 109},
		{Result: wasmhost.TriggerPurge, EventTimer: 20, ProcessingTimer: wasmhost.NoTimer},
		{Result: wasmhost.TriggerFireAndPurge, EventTimer: wasmhost.NoTimer, ProcessingTimer: wasmhost.NoTimer},
		{Result: wasmhost.TriggerFire, EventTimer: math.MaxInt64 - 1, ProcessingTimer: 150},
	}, acts)
	require.True(t, acts[3].Result.Fire() && acts[3].Result.Purge())
	require.False(t, acts[1].Result.Fire() || acts[1].Result.Purge())

	// A frame reused for a smaller call.
	f.Reset()
	f.AddEvent(wasmhost.TriggerElements, 0, 10, 7, 2, auto, true)
	acts, err = inst.Trigger(ctx, f)
	require.NoError(t, err)
	require.Equal(t, []wasmhost.TriggerAction{{Result: wasmhost.TriggerContinue, EventTimer: 9, ProcessingTimer: 107}}, acts)

	for _, tc := range []struct {
		name string
		keys []string // one event per key; "" emits nothing
		want string
	}{
		{"missing output", []string{"\x01", ""}, "trigger call emitted 1 outputs for 2 events"},
		{"bad action", []string{"\x04"}, "trigger output 0 has action 4"},
		{"bad length", []string{"\x01", "\x01\x00"}, "trigger output 1 has a 2-byte payload; want 1, 9 or 17 bytes"},
		{"18 bytes", []string{string(make([]byte, 18))}, "trigger output 0 has a 18-byte payload"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inst := instance(t, m, "trig", wasmhost.Limits{})
			f := wasmhost.NewTriggerFrame()
			for _, k := range tc.keys {
				f.AddEvent(wasmhost.TriggerElements, 0, 10, 1, 1, []byte(k), true)
			}
			_, err := inst.Trigger(ctx, f)
			ce := callErr(t, err)
			require.Equal(t, wasmhost.FailureABI, ce.Kind)
			require.Contains(t, ce.Message, tc.want)
		})
	}
}

// indexes is an evictor's payload: u32 m, then the m indexes.
func indexes(idx ...uint32) string {
	b := binary.LittleEndian.AppendUint32(nil, uint32(len(idx)))
	for _, i := range idx {
		b = binary.LittleEndian.AppendUint32(b, i)
	}
	return string(b)
}

func TestEvict(t *testing.T) {
	rt := newRuntime(t)
	m := watModule(t, rt, "script")
	require.True(t, wasmhost.Executable(wasmhost.KindEvictor))
	inst := instance(t, m, "evict", wasmhost.Limits{})
	ctx := context.Background()
	auto := []byte("auto")
	elem := func(p string) *record.View {
		return &record.View{Flags: record.FlagPayload | record.FlagTimestamp, Timestamp: 1, Payload: []byte(p)}
	}

	f := wasmhost.NewEvictFrame()
	f.AddWindow(0, 10, auto, true)
	for _, p := range []string{"a", "x", "b", "x"} {
		f.AddElement(elem(p))
	}
	f.AddWindow(0, 10, nil, false)
	f.AddElement(elem("x"))
	f.AddElement(elem("y"))
	f.AddWindow(10, 20, auto, true)
	f.AddElementsEncoded(2, batchOf("x", "y").Records())
	f.AddWindow(20, 30, auto, true)
	require.Equal(t, 4, f.Len())
	got, err := inst.Evict(ctx, f)
	require.NoError(t, err)
	require.Equal(t, [][]uint32{{1, 3}, {}, {0}, {}}, got)

	f.Reset()
	f.AddWindow(0, 10, auto, true)
	f.AddElement(elem("y"))
	f.AddElement(elem("x"))
	got, err = inst.Evict(ctx, f)
	require.NoError(t, err)
	require.Equal(t, [][]uint32{{1}}, got)

	for _, tc := range []struct {
		name    string
		payload string // the window's key, which the guest echoes; "" emits nothing
		want    string
	}{
		{"not ascending", indexes(1, 0), "element indexes must be strictly ascending, but 0 follows 1"},
		{"repeated", indexes(1, 1), "strictly ascending, but 1 follows 1"},
		{"out of range", indexes(0, 2), "names element 2 of a window of 2"},
		{"length", indexes(0, 1)[:8], "8-byte payload for 2 indexes; want 12 bytes"},
		{"short", "\x01", "a 1-byte payload, shorter than its count"},
		{"missing", "", "evict call emitted 0 outputs for 1 windows"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inst := instance(t, m, "evict", wasmhost.Limits{})
			f := wasmhost.NewEvictFrame()
			f.AddWindow(0, 10, []byte(tc.payload), true)
			f.AddElement(elem("a"))
			f.AddElement(elem("b"))
			_, err := inst.Evict(ctx, f)
			ce := callErr(t, err)
			require.Equal(t, wasmhost.FailureABI, ce.Kind)
			require.Contains(t, ce.Message, tc.want)
		})
	}
}

// TestCallKindsRefused checks that a function is only given the calls its kind
// takes.
func TestCallKindsRefused(t *testing.T) {
	rt := newRuntime(t)
	m := watModule(t, rt, "script")
	ctx := context.Background()
	flat := instance(t, m, "flat", wasmhost.Limits{})
	_, err := flat.Trigger(ctx, wasmhost.NewTriggerFrame())
	require.ErrorContains(t, err, "trigger call for a flat_map function")
	_, err = flat.Evict(ctx, wasmhost.NewEvictFrame())
	require.ErrorContains(t, err, "evict call for a flat_map function")
	_, err = flat.Timer(ctx, batchOfRecs())
	require.ErrorContains(t, err, "timer call for a flat_map function")
	// State imports are INVALID in a flat_map, as in trigger and evict calls.
	var st wasmhost.MemoryState
	flat.SetKeyedState(&st)
	out, err := flat.Process(ctx, batchOfRecs(rec{key: "k", keyed: true, script: script{}.get(0, 0, "")}))
	require.NoError(t, err)
	_, log := callLog(t, out)
	log.expectCodes(-3)
	log.done()
}

// The frames' encodings are those of sdk/ABI.md §4.9 and §4.10.
func TestTriggerAndEvictFrameBytes(t *testing.T) {
	f := wasmhost.NewTriggerFrame()
	f.AddEvent(wasmhost.TriggerEventTime, -1, 2, 3, 4, []byte("k"), true)
	f.AddEvent(wasmhost.TriggerElements, 5, 6, 7, 8, nil, false)
	le := binary.LittleEndian
	want := le.AppendUint32(nil, 2)
	want = append(want, 1)
	for _, v := range []uint64{math.MaxUint64, 2, 3, 4} {
		want = le.AppendUint64(want, v)
	}
	want = append(le.AppendUint32(want, 1), 'k', 0)
	for _, v := range []uint64{5, 6, 7, 8} {
		want = le.AppendUint64(want, v)
	}
	want = le.AppendUint32(want, math.MaxUint32)
	require.Equal(t, want, wasmhost.FrameBytes(f))

	e := wasmhost.NewEvictFrame()
	e.AddWindow(1, 2, nil, false)
	e.AddWindow(3, 4, []byte("k"), true)
	v := record.View{Flags: record.FlagPayload, Payload: []byte("p")}
	e.AddElement(&v)
	want = le.AppendUint32(nil, 2)
	want = le.AppendUint64(le.AppendUint64(want, 1), 2)
	want = le.AppendUint32(le.AppendUint32(want, math.MaxUint32), 0)
	want = le.AppendUint64(le.AppendUint64(want, 3), 4)
	want = append(le.AppendUint32(want, 1), 'k')
	want = record.AppendView(le.AppendUint32(want, 1), &v)
	require.True(t, bytes.Equal(want, wasmhost.FrameBytes(e)), "%x\n%x", want, wasmhost.FrameBytes(e))
}
