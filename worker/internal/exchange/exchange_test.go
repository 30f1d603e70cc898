package exchange

import (
	"context"
	"testing"

	"github.com/weir-streams/weir/internal/record"
)

func batch(payloads ...string) *record.Batch {
	var b record.Batch
	b.Reset()
	for _, p := range payloads {
		v := record.View{Flags: record.FlagPayload, Payload: []byte(p)}
		b.Append(&v)
	}
	return &b
}

func drain(t *testing.T, g *Gate) (data []string, kinds []Kind) {
	t.Helper()
	for {
		select {
		case b := <-g.C():
			kinds = append(kinds, b.Kind)
			r := b.Batch.Reader()
			var v record.View
			for r.Next(&v) {
				data = append(data, string(v.Payload))
			}
		default:
			return data, kinds
		}
	}
}

func TestRebalanceRoundRobinAndEvents(t *testing.T) {
	reg := NewRegistry(8)
	ctx := context.Background()
	gates := []*Gate{reg.Gate(Key{"j", 1, 0, 0}, 1), reg.Gate(Key{"j", 1, 0, 1}, 1)}
	w, err := NewWriter(gates, PartitionRebalance, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(ctx, batch("a", "b", "c")); err != nil {
		t.Fatal(err)
	}
	// Nothing is sent before a flush or a full buffer.
	if d, _ := drain(t, gates[0]); len(d) != 0 {
		t.Fatalf("sent before flush: %v", d)
	}
	if err := w.Broadcast(ctx, Marker, map[string]uint64{"s": 7}); err != nil {
		t.Fatal(err)
	}
	d0, k0 := drain(t, gates[0])
	d1, k1 := drain(t, gates[1])
	if len(d0) != 2 || d0[0] != "a" || d0[1] != "c" || len(d1) != 1 || d1[0] != "b" {
		t.Fatalf("round robin: %v %v", d0, d1)
	}
	if k0[len(k0)-1] != Marker || k1[len(k1)-1] != Marker || k0[0] != Data {
		t.Fatalf("a marker must follow the records it covers: %v %v", k0, k1)
	}
	if reg.Gate(Key{"j", 1, 0, 0}, 1) != gates[0] {
		t.Fatal("the registry must hand out the same gate for the same key")
	}
}

func TestForwardAndFullBuffers(t *testing.T) {
	reg := NewRegistry(64)
	ctx := context.Background()
	gates := []*Gate{reg.Gate(Key{"j", 1, 0, 0}, 2), reg.Gate(Key{"j", 1, 0, 1}, 2)}
	w, err := NewWriter(gates, PartitionForward, 1)
	if err != nil {
		t.Fatal(err)
	}
	big := make([]byte, 1000)
	var ps []string
	for range 40 {
		ps = append(ps, string(big))
	}
	if err := w.Write(ctx, batch(ps...)); err != nil {
		t.Fatal(err)
	}
	d, _ := drain(t, gates[1])
	if len(d) != 40 {
		t.Fatalf("a full buffer is sent without a flush: got %d records", len(d))
	}
	if d, _ := drain(t, gates[0]); len(d) != 0 {
		t.Fatal("forward wrote to another subtask")
	}
	if _, err := NewWriter(gates, PartitionForward, 2); err == nil {
		t.Fatal("forward from a subtask without a peer must fail")
	}
}

func TestBackpressureHonoursCancel(t *testing.T) {
	reg := NewRegistry(1)
	g := reg.Gate(Key{"j", 1, 0, 0}, 1)
	ctx, cancel := context.WithCancel(context.Background())
	if err := g.Send(ctx, NewBuffer()); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := g.Send(ctx, NewBuffer()); err == nil {
		t.Fatal("a full gate must block until the context ends")
	}
}
