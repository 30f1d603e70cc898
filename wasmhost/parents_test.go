package wasmhost

import (
	"encoding/binary"
	"testing"

	"github.com/weir-streams/weir/internal/record"
)

func TestParentCursor(t *testing.T) {
	var b record.Batch
	b.Reset()
	for _, p := range []string{"a", "b", "c", "d"} {
		v := record.View{Flags: record.FlagPayload, Payload: []byte(p)}
		b.Append(&v)
	}
	var c parentCursor
	c.reset(&b)
	for _, tc := range []struct {
		idx  uint32
		want string
	}{{0, "a"}, {0, "a"}, {2, "c"}, {3, "d"}, {1, "b"}, {3, "d"}, {0, "a"}} {
		v, err := c.get(tc.idx)
		if err != nil || string(v.Payload) != tc.want {
			t.Fatalf("get(%d) = %q, %v; want %q", tc.idx, v.Payload, err, tc.want)
		}
	}
	if _, err := c.get(4); err == nil {
		t.Fatal("an index past the batch must be an error")
	}
	c.reset(&b)
	if v, _ := c.get(1); string(v.Payload) != "b" {
		t.Fatal("reset must start over")
	}
}

// BenchmarkHostSide is the host's own work per record of an identity map, without
// the guest: copy the batch into guest memory, read the output frame back, find
// each parent, build the output batch. The figure is the host overhead per record.
func BenchmarkHostSide(b *testing.B) {
	const n = 1024
	var in record.Batch
	in.Reset()
	payload := []byte(`{"id":123,"amount":456,"user":"user-0789","ok":true}`)
	frame := binary.LittleEndian.AppendUint32(nil, n)
	for k := 0; k < n; k++ {
		v := record.View{Flags: record.FlagPayload | record.FlagTimestamp, Payload: payload, Timestamp: int64(k)}
		in.Append(&v)
		frame = binary.LittleEndian.AppendUint32(frame, uint32(k))
		frame = binary.LittleEndian.AppendUint32(frame, 0)
		out := record.View{Flags: record.FlagPayload, Payload: payload}
		frame = record.AppendView(frame, &out)
	}
	inst := &Instance{fn: &Function{Name: "identity", Kind: KindMap}}
	guestMemory := make([]byte, in.Size())
	b.ReportAllocs()
	for b.Loop() {
		inst.out.Reset()
		inst.parents.reset(&in)
		copy(guestMemory, in.Bytes())
		if err := inst.onEmit(frame); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/record")
}

// BenchmarkHostSideWithSideOutputs is BenchmarkHostSide for a flat_map that emits
// every record to its main output and one of two side outputs.
func BenchmarkHostSideWithSideOutputs(b *testing.B) {
	const n = 1024
	var in record.Batch
	in.Reset()
	payload := []byte(`{"id":123,"amount":456,"user":"user-0789","ok":true}`)
	frame := binary.LittleEndian.AppendUint32(nil, 2*n)
	for k := 0; k < n; k++ {
		v := record.View{Flags: record.FlagPayload | record.FlagTimestamp, Payload: payload, Timestamp: int64(k)}
		in.Append(&v)
		for _, tag := range []uint32{0, 1 + uint32(k%2)} {
			frame = binary.LittleEndian.AppendUint32(frame, uint32(k))
			frame = binary.LittleEndian.AppendUint32(frame, tag)
			out := record.View{Flags: record.FlagPayload, Payload: payload}
			frame = record.AppendView(frame, &out)
		}
	}
	inst := &Instance{fn: &Function{Name: "split", Kind: KindFlatMap, SideOutputs: []string{"odd", "even"}}}
	inst.initSideOutputs()
	b.ReportAllocs()
	for b.Loop() {
		inst.out.Reset()
		inst.clearSideOutputs()
		inst.parents.reset(&in)
		if err := inst.onEmit(frame); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/record")
}

// FuzzOnEmit feeds arbitrary output frames, as a hostile guest could, to the host's
// decoder: it must return an error or a well-formed batch, never panic.
func FuzzOnEmit(f *testing.F) {
	var in record.Batch
	in.Reset()
	v := record.View{Flags: record.FlagPayload | record.FlagTimestamp, Payload: []byte("x"), Timestamp: 1}
	in.Append(&v)
	in.Append(&v)
	good := binary.LittleEndian.AppendUint32(nil, 1)
	good = binary.LittleEndian.AppendUint32(good, 1)
	good = binary.LittleEndian.AppendUint32(good, 0)
	good = record.AppendView(good, &record.View{Flags: record.FlagPayload, Payload: []byte("y")})
	f.Add(good)
	f.Fuzz(func(t *testing.T, frame []byte) {
		inst := &Instance{fn: &Function{Name: "f", Kind: KindFlatMap, SideOutputs: []string{"side"}}}
		inst.out.Reset()
		inst.parents.reset(&in)
		if err := inst.onEmit(frame); err != nil {
			return
		}
		r := inst.out.Reader()
		var v record.View
		for r.Next(&v) {
		}
		if err := r.Err(); err != nil {
			t.Fatalf("accepted a frame but built a malformed batch: %v", err)
		}
	})
}
