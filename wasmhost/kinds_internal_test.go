package wasmhost

import (
	"encoding/binary"
	"math"
	"strings"
	"testing"

	"github.com/weir-streams/weir/internal/record"
)

func TestStateDescriptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    Function
		want string // "" for a valid description
	}{
		{"broadcast in co_process", Function{Name: "co", Kind: KindCoProcess, State: []StateDescriptor{{Name: "rules", Kind: StateBroadcast}, {Name: "v", Kind: StateValue, TTLms: 5}}}, ""},
		{"keyed state in co_process", Function{Name: "co", Kind: KindCoProcess, State: []StateDescriptor{{Name: "l", Kind: StateList}}}, ""},
		{"broadcast in process", Function{Name: "p", Kind: KindProcess, State: []StateDescriptor{{Name: "rules", Kind: StateBroadcast}}},
			`function "p": state "rules" is of kind "broadcast", which only a co_process function can declare`},
		{"broadcast in map", Function{Name: "m", Kind: KindMap, State: []StateDescriptor{{Name: "b", Kind: StateBroadcast}}},
			`function "m": state "b" is of kind "broadcast"`},
		{"broadcast with ttl", Function{Name: "co", Kind: KindCoProcess, State: []StateDescriptor{{Name: "rules", Kind: StateBroadcast, TTLms: 1000}}},
			`function "co": broadcast state "rules" has ttl_ms 1000; broadcast state has no expiry`},
		{"unknown kind", Function{Name: "co", Kind: KindCoProcess, State: []StateDescriptor{{Name: "x", Kind: "set"}}},
			`state "x" has unknown kind "set"`},
	} {
		d := Description{ABIVersion: ABIVersion, Functions: []Function{tc.f}}
		err := d.validate()
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	for _, k := range knownKinds {
		if !Executable(k) {
			t.Errorf("kind %s is not executable", k)
		}
	}
	if Executable("join") {
		t.Error("an unknown kind is executable")
	}
}

// sideFrame is an output frame of one output with flags 0 per (index, tag).
func sideFrame(outs ...[2]uint32) []byte {
	b := binary.LittleEndian.AppendUint32(nil, uint32(len(outs)))
	for _, o := range outs {
		b = binary.LittleEndian.AppendUint32(b, o[0])
		b = binary.LittleEndian.AppendUint32(b, o[1])
		b = append(b, 0)
	}
	return b
}

// TestWindowSideOutputs: a window call's side outputs inherit from their window
// like its main outputs, and must set their payload too.
func TestWindowSideOutputs(t *testing.T) {
	f := NewWindowFrame()
	f.Add(0, 10, []byte("k"), true, &record.Batch{})
	inst := &Instance{fn: &Function{Name: "w", Kind: KindWindowProcess, SideOutputs: []string{"s"}}}
	inst.initSideOutputs()
	inst.out.Reset()
	inst.windows = f.meta
	frame := binary.LittleEndian.AppendUint32(nil, 1)
	frame = binary.LittleEndian.AppendUint32(frame, 0)
	frame = binary.LittleEndian.AppendUint32(frame, 1)
	frame = record.AppendView(frame, &record.View{Flags: record.FlagPayload, Payload: []byte("p")})
	if err := inst.onEmit(frame); err != nil {
		t.Fatal(err)
	}
	r := inst.SideOutput(1).Reader()
	var v record.View
	if !r.Next(&v) || string(v.Key) != "k" || v.Timestamp != 9 || string(v.Payload) != "p" || inst.out.Len() != 0 {
		t.Fatalf("side output %+v, %d main outputs", v, inst.out.Len())
	}
	if err := inst.onEmit(sideFrame([2]uint32{0, 1})); err == nil || !strings.Contains(err.Error(), "must set its payload") {
		t.Fatalf("a window side output without payload: %v", err)
	}
}

// TestSideOutputsAllocs: side outputs, like main outputs, cost no allocation per
// record once their batches have grown.
func TestSideOutputsAllocs(t *testing.T) {
	var in record.Batch
	in.Reset()
	var outs [][2]uint32
	for k := uint32(0); k < 256; k++ {
		v := record.View{Flags: record.FlagPayload | record.FlagKey, Key: []byte("key"), Payload: []byte("payload")}
		in.Append(&v)
		outs = append(outs, [2]uint32{k, 0}, [2]uint32{k, 1 + k%2})
	}
	// The last outputs name the first records again, as a guest emitting its side
	// outputs after its main ones does.
	outs = append(outs, [2]uint32{0, 2}, [2]uint32{1, 1})
	frame := sideFrame(outs...)
	inst := &Instance{fn: &Function{Name: "f", Kind: KindFlatMap, SideOutputs: []string{"a", "b"}}}
	inst.initSideOutputs()
	run := func() {
		inst.out.Reset()
		inst.clearSideOutputs()
		inst.parents.reset(&in)
		if err := inst.onEmit(frame); err != nil {
			t.Fatal(err)
		}
	}
	run()
	if allocs := testing.AllocsPerRun(20, run); allocs != 0 {
		t.Errorf("%v allocations per call", allocs)
	}
	if inst.out.Len() != 256 || inst.side[0].Len() != 129 || inst.side[1].Len() != 129 {
		t.Errorf("%d main, %d and %d side outputs", inst.out.Len(), inst.side[0].Len(), inst.side[1].Len())
	}
}

// FuzzTriggerEmit feeds arbitrary output frames to a trigger call's decoder: it
// must refuse them or accept exactly well-formed actions, never panic.
func FuzzTriggerEmit(f *testing.F) {
	good := binary.LittleEndian.AppendUint32(nil, 1)
	good = binary.LittleEndian.AppendUint32(good, 0)
	good = binary.LittleEndian.AppendUint32(good, 0)
	good = record.AppendView(good, &record.View{Flags: record.FlagPayload, Payload: make([]byte, 17)})
	f.Add(good)
	f.Fuzz(func(t *testing.T, frame []byte) {
		inst := &Instance{fn: &Function{Name: "t", Kind: KindTrigger}, emitMode: emitTrigger, trigEvents: 2}
		if err := inst.onEmit(frame); err != nil {
			return
		}
		if len(inst.trigOut) > 2 {
			t.Fatalf("%d actions for 2 events", len(inst.trigOut))
		}
		for _, a := range inst.trigOut {
			if a.Result > TriggerFireAndPurge {
				t.Fatalf("accepted action %d", a.Result)
			}
		}
	})
}

// FuzzEvictEmit does the same for an evict call's decoder.
func FuzzEvictEmit(f *testing.F) {
	good := binary.LittleEndian.AppendUint32(nil, 1)
	good = binary.LittleEndian.AppendUint32(good, 0)
	good = binary.LittleEndian.AppendUint32(good, 0)
	payload := binary.LittleEndian.AppendUint32(nil, 2)
	payload = binary.LittleEndian.AppendUint32(payload, 0)
	payload = binary.LittleEndian.AppendUint32(payload, 2)
	good = record.AppendView(good, &record.View{Flags: record.FlagPayload, Payload: payload})
	f.Add(good)
	f.Fuzz(func(t *testing.T, frame []byte) {
		sizes := []uint32{3, 0}
		inst := &Instance{fn: &Function{Name: "e", Kind: KindEvictor}, emitMode: emitEvict, evSizes: sizes}
		if err := inst.onEmit(frame); err != nil {
			return
		}
		if len(inst.evOut) > len(sizes) {
			t.Fatalf("%d outputs for %d windows", len(inst.evOut), len(sizes))
		}
		for w, span := range inst.evOut {
			idx := inst.evArena[span[0]:span[1]]
			for k, e := range idx {
				if e >= sizes[w] || k > 0 && e <= idx[k-1] {
					t.Fatalf("window %d: accepted indexes %v", w, idx)
				}
			}
		}
	})
}

// TestWindowFrameSetTimestamp: outputs of a count or global window inherit the
// timestamp its records give, not the end of a window that has none.
func TestWindowFrameSetTimestamp(t *testing.T) {
	f := NewWindowFrame()
	var b record.Batch
	b.Reset()
	f.Add(math.MinInt64, math.MaxInt64, []byte("k"), true, &b)
	if m := f.meta[0]; m.Timestamp != math.MaxInt64-1 || m.Flags&record.FlagTimestamp == 0 {
		t.Fatalf("default inheritance %+v", m)
	}
	f.SetTimestamp(42, true)
	f.Add(math.MinInt64, math.MaxInt64, nil, false, &b)
	f.SetTimestamp(0, false)
	if m := f.meta[0]; m.Timestamp != 42 || m.Flags&record.FlagTimestamp == 0 || string(m.Key) != "k" {
		t.Fatalf("first window inherits %+v", m)
	}
	if m := f.meta[1]; m.Flags&record.FlagTimestamp != 0 {
		t.Fatalf("second window inherits a timestamp: %+v", m)
	}
}
