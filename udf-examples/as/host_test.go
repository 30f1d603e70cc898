// Package as_test runs the AssemblyScript SDK's two-input, broadcast-state,
// trigger and evictor calls (sdk/ABI.md §4.7–4.10) through a small host written
// from the ABI page with raw wazero: streams_as.wasm (the `streams` example every
// SDK builds) and testdata/streamtest_as.wasm (the SDK's API). Weir's own host
// does not run these kinds yet; the host here keeps broadcast state per
// subtask, keyed state per key, and answers INVALID where §4.7 and §4.8 say so.
//
// The modules are built by `make examples` into build/wasm; WEIR_TEST_WASM_DIR
// points elsewhere.
package as_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

const (
	callOpen     = 1
	callProcess  = 2
	callProcess2 = 3
	callTimer    = 4
	callWindow   = 5
	callTrigger  = 8
	callEvict    = 9

	rcOK          = 0
	rcError       = 1
	rcUnsupported = 3
	rcMalformed   = 4

	flagKey       = 0x01
	flagTimestamp = 0x02
	flagPayload   = 0x04

	invalid     = -3
	unsupported = -2
)

// ---------------------------------------------------------------- the host

// host is the fake host of one instance: the state and timer imports act for
// the records of the current call, as sdk/ABI.md §4.2, §4.4, §4.7 and §4.8 say.
type host struct {
	// broadcastInput makes the second input broadcast: keyed state and timers
	// are INVALID in process2.
	broadcastInput bool
	broadcastState map[uint32]bool // state numbers of kind broadcast

	kind   int32    // the current call's kind
	keys   []string // the keys of the current call's records
	keyed  map[string][]byte
	shared map[uint32]map[string][]byte // broadcast state by number

	watermark, now int64
	calls          []string // timer import calls of the current call
	frames         [][]byte
	errMsg         *string

	mod            api.Module
	alloc, call    api.Function
	buf, cap       uint32
	desc           description
	stderr         bytes.Buffer
	functionByName map[string]int32
}

type description struct {
	ABIVersion int    `json:"abi_version"`
	SDK        string `json:"sdk"`
	Functions  []struct {
		Name        string   `json:"name"`
		Kind        string   `json:"kind"`
		Index       int32    `json:"index"`
		SideOutputs []string `json:"side_outputs"`
		State       []struct {
			Name  string `json:"name"`
			Kind  string `json:"kind"`
			TTLms int64  `json:"ttl_ms"`
		} `json:"state"`
	} `json:"functions"`
}

func wasmPath(t testing.TB, name string) string {
	t.Helper()
	dir := os.Getenv("WEIR_TEST_WASM_DIR")
	if dir == "" {
		dir = filepath.Join("..", "..", "build", "wasm")
	}
	p := filepath.Join(dir, name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("%s is missing: run `make examples` (or `make -C udf-examples`) first", p)
	}
	return p
}

func read(mod api.Module, ptr, n uint32) []byte {
	b, ok := mod.Memory().Read(ptr, n)
	if !ok {
		panic(fmt.Sprintf("guest passed [%d, +%d) outside its memory", ptr, n))
	}
	return bytes.Clone(b)
}

// newHost instantiates module with WASI and the fake weir module.
func newHost(t testing.TB, module string) *host {
	t.Helper()
	ctx := context.Background()
	r := wazero.NewRuntime(ctx)
	t.Cleanup(func() { r.Close(ctx) })
	wasi_snapshot_preview1.MustInstantiate(ctx, r)
	h := &host{keyed: map[string][]byte{}, shared: map[uint32]map[string][]byte{}, broadcastState: map[uint32]bool{},
		watermark: math.MinInt64, now: 1_700_000_000_000}
	i32, i64 := api.ValueTypeI32, api.ValueTypeI64
	b := r.NewHostModuleBuilder("weir")
	fn := func(name string, params, results []api.ValueType, f api.GoModuleFunc) {
		b.NewFunctionBuilder().WithGoModuleFunction(f, params, results).Export(name)
	}
	fn("emit", []api.ValueType{i32, i32}, nil, func(_ context.Context, mod api.Module, s []uint64) {
		h.frames = append(h.frames, read(mod, api.DecodeU32(s[0]), api.DecodeU32(s[1])))
	})
	fn("error", []api.ValueType{i32, i32}, nil, func(_ context.Context, mod api.Module, s []uint64) {
		msg := string(read(mod, api.DecodeU32(s[0]), api.DecodeU32(s[1])))
		h.errMsg = &msg
	})
	fn("log", []api.ValueType{i32, i32, i32}, nil, func(context.Context, api.Module, []uint64) {})
	fn("task_info", []api.ValueType{i32, i32}, []api.ValueType{i32}, func(_ context.Context, _ api.Module, s []uint64) {
		s[0] = api.EncodeI32(unsupported)
	})
	fn("state_append", []api.ValueType{i32, i32, i32, i32}, []api.ValueType{i32}, func(_ context.Context, _ api.Module, s []uint64) {
		s[0] = api.EncodeI32(invalid)
	})
	fn("state_get", []api.ValueType{i32, i32, i32, i32, i32, i32}, []api.ValueType{i32}, func(_ context.Context, mod api.Module, s []uint64) {
		st, rec := api.DecodeU32(s[0]), api.DecodeU32(s[1])
		sub := string(read(mod, api.DecodeU32(s[2]), api.DecodeU32(s[3])))
		m, key, rc := h.stateOf(st, rec, false)
		if rc != 0 {
			s[0] = api.EncodeI32(rc)
			return
		}
		v, ok := m[key+sub]
		switch {
		case !ok:
			s[0] = api.EncodeI32(-1)
		case uint32(len(v)) > api.DecodeU32(s[5]):
			s[0] = api.EncodeI32(int32(len(v)))
		default:
			mod.Memory().Write(api.DecodeU32(s[4]), v)
			s[0] = api.EncodeI32(int32(len(v)))
		}
	})
	fn("state_put", []api.ValueType{i32, i32, i32, i32, i32, i32}, []api.ValueType{i32}, func(_ context.Context, mod api.Module, s []uint64) {
		st, rec := api.DecodeU32(s[0]), api.DecodeU32(s[1])
		m, key, rc := h.stateOf(st, rec, true)
		if rc == 0 {
			m[key+string(read(mod, api.DecodeU32(s[2]), api.DecodeU32(s[3])))] = read(mod, api.DecodeU32(s[4]), api.DecodeU32(s[5]))
		}
		s[0] = api.EncodeI32(rc)
	})
	fn("state_delete", []api.ValueType{i32, i32, i32, i32}, []api.ValueType{i32}, func(_ context.Context, mod api.Module, s []uint64) {
		st, rec := api.DecodeU32(s[0]), api.DecodeU32(s[1])
		sub := string(read(mod, api.DecodeU32(s[2]), api.DecodeU32(s[3])))
		m, key, rc := h.stateOf(st, rec, true)
		if rc == 0 {
			for k := range m {
				if k == key+sub || (sub == "" && strings.HasPrefix(k, key)) {
					delete(m, k)
				}
			}
		}
		s[0] = api.EncodeI32(rc)
	})
	fn("state_iter", []api.ValueType{i32, i32, i32, i32, i32}, []api.ValueType{i32}, func(_ context.Context, mod api.Module, s []uint64) {
		st, rec, cursor := api.DecodeU32(s[0]), api.DecodeU32(s[1]), api.DecodeU32(s[2])
		m, key, rc := h.stateOf(st, rec, false)
		if rc != 0 || !h.broadcastState[st] {
			s[0] = api.EncodeI32(invalid) // the test modules iterate broadcast state only
			return
		}
		var subs []string
		for k := range m {
			subs = append(subs, strings.TrimPrefix(k, key))
		}
		slices.Sort(subs)
		if int(cursor) >= len(subs) {
			s[0] = api.EncodeI32(-1)
			return
		}
		sub := subs[cursor]
		e := []byte{flagKey | flagPayload}
		e = lenBytes(e, sub)
		e = lenBytes(e, string(m[key+sub]))
		if uint32(len(e)) <= api.DecodeU32(s[4]) {
			mod.Memory().Write(api.DecodeU32(s[3]), e)
		}
		s[0] = api.EncodeI32(int32(len(e)))
	})
	timer := func(name string) {
		fn(name, []api.ValueType{i32, i32, i64}, []api.ValueType{i32}, func(_ context.Context, _ api.Module, s []uint64) {
			rec := api.DecodeU32(s[1])
			if !h.keyedAllowed(rec) {
				s[0] = api.EncodeI32(invalid)
				return
			}
			h.calls = append(h.calls, fmt.Sprintf("%s %d %s %d", name, api.DecodeI32(s[0]), h.keys[rec], int64(s[2])))
			s[0] = 0
		})
	}
	timer("timer_register")
	timer("timer_delete")
	fn("current_watermark", nil, []api.ValueType{i64}, func(_ context.Context, _ api.Module, s []uint64) { s[0] = api.EncodeI64(h.watermark) })
	fn("current_time", nil, []api.ValueType{i64}, func(_ context.Context, _ api.Module, s []uint64) { s[0] = api.EncodeI64(h.now) })
	if _, err := b.Instantiate(ctx); err != nil {
		t.Fatal(err)
	}

	bin, err := os.ReadFile(wasmPath(t, module))
	if err != nil {
		t.Fatal(err)
	}
	cfg := wazero.NewModuleConfig().WithName("").WithStartFunctions("_initialize").WithStderr(&h.stderr)
	h.mod, err = r.InstantiateWithConfig(ctx, bin, cfg)
	if err != nil {
		t.Fatalf("instantiating %s: %v (stderr %s)", module, err, h.stderr.Bytes())
	}
	h.alloc, h.call = h.mod.ExportedFunction("weir_alloc"), h.mod.ExportedFunction("weir_call")
	res, err := h.mod.ExportedFunction("weir_describe").Call(ctx)
	if err != nil {
		t.Fatal(err)
	}
	raw := read(h.mod, uint32(res[0]>>32), uint32(res[0]))
	if err := json.Unmarshal(raw, &h.desc); err != nil {
		t.Fatalf("description %q: %v", raw, err)
	}
	h.functionByName = map[string]int32{}
	for _, f := range h.desc.Functions {
		h.functionByName[f.Name] = f.Index
		for i, s := range f.State {
			if s.Kind == "broadcast" {
				h.broadcastState[uint32(i)] = true // the test modules have one function with state
			}
		}
	}
	return h
}

// keyedAllowed says whether keyed state and timers act in the current call for record rec.
func (h *host) keyedAllowed(rec uint32) bool {
	if int(rec) >= len(h.keys) {
		return false
	}
	switch h.kind {
	case callProcess, callTimer:
		return true
	case callProcess2:
		return !h.broadcastInput
	}
	return false
}

// stateOf returns the map behind state st for record rec and the prefix of its
// entries there, or a return code.
func (h *host) stateOf(st, rec uint32, write bool) (map[string][]byte, string, int32) {
	if h.broadcastState[st] {
		if int(rec) >= len(h.keys) || (h.kind != callProcess && h.kind != callProcess2 && h.kind != callTimer) ||
			(write && h.kind != callProcess2) {
			return nil, "", invalid
		}
		m := h.shared[st]
		if m == nil {
			m = map[string][]byte{}
			h.shared[st] = m
		}
		return m, "", 0
	}
	if !h.keyedAllowed(rec) {
		return nil, "", invalid
	}
	return h.keyed, fmt.Sprintf("%d/%s/", st, h.keys[rec]), 0
}

type result struct {
	rc     int32
	frames [][]byte
	errMsg *string
}

// do runs one weir_call; keys are the keys of the input's records, for the state imports.
func (h *host) do(t testing.TB, kind, fn int32, input []byte, keys ...string) result {
	t.Helper()
	ctx := context.Background()
	if uint32(len(input)) > h.cap || h.buf == 0 {
		res, err := h.alloc.Call(ctx, uint64(max(len(input), 1<<16)))
		if err != nil || res[0] == 0 {
			t.Fatalf("weir_alloc: %v", err)
		}
		h.buf, h.cap = uint32(res[0]), uint32(max(len(input), 1<<16))
	}
	h.mod.Memory().Write(h.buf, input)
	h.kind, h.keys, h.calls, h.frames, h.errMsg = kind, keys, nil, nil, nil
	res, err := h.call.Call(ctx, uint64(kind), uint64(fn), uint64(h.buf), uint64(len(input)))
	if err != nil {
		t.Fatalf("weir_call(%d, %d): %v (stderr %s)", kind, fn, err, h.stderr.Bytes())
	}
	return result{rc: api.DecodeI32(res[0]), frames: h.frames, errMsg: h.errMsg}
}

// ok runs a call that must succeed with at most one emit and returns its outputs.
func (h *host) ok(t testing.TB, kind, fn int32, input []byte, keys ...string) []output {
	t.Helper()
	res := h.do(t, kind, fn, input, keys...)
	if res.rc != rcOK {
		t.Fatalf("weir_call(%d, %d) = %d (error %s), want 0", kind, fn, res.rc, deref(res.errMsg))
	}
	switch len(res.frames) {
	case 0:
		return nil
	case 1:
		return decodeOutputs(t, res.frames[0])
	}
	t.Fatalf("weir_call(%d, %d): %d emits, want at most 1", kind, fn, len(res.frames))
	return nil
}

// fails runs a call that must fail with rc, emitting nothing, and returns its message.
func (h *host) fails(t testing.TB, rc, kind, fn int32, input []byte, keys ...string) string {
	t.Helper()
	res := h.do(t, kind, fn, input, keys...)
	if res.rc != rc || len(res.frames) != 0 {
		t.Errorf("weir_call(%d, %d, %x): rc %d (error %s), %d frames; want %d and none", kind, fn, input, res.rc,
			deref(res.errMsg), len(res.frames), rc)
	}
	return deref(res.errMsg)
}

func (h *host) fn(t testing.TB, name, kind string) int32 {
	t.Helper()
	for _, f := range h.desc.Functions {
		if f.Name == name {
			if f.Kind != kind {
				t.Fatalf("%s is a %s, want %s", name, f.Kind, kind)
			}
			return f.Index
		}
	}
	t.Fatalf("no function %s", name)
	return 0
}

func deref(s *string) string {
	if s == nil {
		return "<none>"
	}
	return *s
}

// ---------------------------------------------------------------- frames

type record struct {
	Flags     byte
	Key       string
	Timestamp int64
	Payload   string
}

type output struct {
	Parent, Tag uint32
	record
}

func u32(b []byte, v uint32) []byte      { return binary.LittleEndian.AppendUint32(b, v) }
func i64(b []byte, v int64) []byte       { return binary.LittleEndian.AppendUint64(b, uint64(v)) }
func lenBytes(b []byte, s string) []byte { return append(u32(b, uint32(len(s))), s...) }

func appendRecord(b []byte, r record) []byte {
	b = append(b, r.Flags)
	if r.Flags&flagKey != 0 {
		b = lenBytes(b, r.Key)
	}
	if r.Flags&flagTimestamp != 0 {
		b = i64(b, r.Timestamp)
	}
	if r.Flags&flagPayload != 0 {
		b = lenBytes(b, r.Payload)
	}
	return b
}

// keyedBatch is a batch of records with key and payload, and their keys.
func keyedBatch(kv ...string) ([]byte, []string) {
	b := u32(nil, uint32(len(kv)/2))
	var keys []string
	for i := 0; i < len(kv); i += 2 {
		b = appendRecord(b, record{Flags: flagKey | flagPayload, Key: kv[i], Payload: kv[i+1]})
		keys = append(keys, kv[i])
	}
	return b, keys
}

func decodeOutputs(t testing.TB, b []byte) []output {
	t.Helper()
	p := b
	fail := func() { t.Fatalf("malformed output frame %q", b) }
	next := func(n int) []byte {
		if len(p) < n {
			fail()
		}
		v := p[:n]
		p = p[n:]
		return v
	}
	u := func() uint32 { return binary.LittleEndian.Uint32(next(4)) }
	n := u()
	var outs []output
	for range n {
		var o output
		o.Parent, o.Tag = u(), u()
		o.Flags = next(1)[0]
		if o.Flags&0xF8 != 0 {
			fail() // the test modules set no headers
		}
		if o.Flags&flagKey != 0 {
			o.Key = string(next(int(u())))
		}
		if o.Flags&flagTimestamp != 0 {
			o.Timestamp = int64(binary.LittleEndian.Uint64(next(8)))
		}
		if o.Flags&flagPayload != 0 {
			o.Payload = string(next(int(u())))
		}
		outs = append(outs, o)
	}
	if len(p) != 0 {
		fail()
	}
	return outs
}

// out is an output with flags PAYLOAD alone.
func out(parent, tag uint32, payload string) output {
	return output{Parent: parent, Tag: tag, record: record{Flags: flagPayload, Payload: payload}}
}

type triggerEvent struct {
	event      byte
	start, end int64
	time       int64
	count      uint64
	key        *string
}

func triggerFrame(evs ...triggerEvent) []byte {
	b := u32(nil, uint32(len(evs)))
	for _, e := range evs {
		b = append(b, e.event)
		b = i64(i64(i64(b, e.start), e.end), e.time)
		b = binary.LittleEndian.AppendUint64(b, e.count)
		if e.key == nil {
			b = u32(b, 0xFFFFFFFF)
		} else {
			b = lenBytes(b, *e.key)
		}
	}
	return b
}

type window struct {
	start, end int64
	key        *string
	elements   []string // payloads
}

func windowsFrame(ws ...window) []byte {
	b := u32(nil, uint32(len(ws)))
	for _, w := range ws {
		b = i64(i64(b, w.start), w.end)
		if w.key == nil {
			b = u32(b, 0xFFFFFFFF)
		} else {
			b = lenBytes(b, *w.key)
		}
		b = u32(b, uint32(len(w.elements)))
		for _, p := range w.elements {
			b = appendRecord(b, record{Flags: flagTimestamp | flagPayload, Timestamp: 1, Payload: p})
		}
	}
	return b
}

func str(s string) *string { return &s }

// triggerPayload is the 9-byte result (action, event timer), or 17 bytes with a processing timer.
func triggerPayload(action byte, eventTimer int64, procTimer ...int64) string {
	b := i64([]byte{action}, eventTimer)
	if len(procTimer) > 0 {
		b = i64(b, procTimer[0])
	}
	return string(b)
}

func evictPayload(idx ...uint32) string {
	b := u32(nil, uint32(len(idx)))
	for _, i := range idx {
		b = u32(b, i)
	}
	return string(b)
}
