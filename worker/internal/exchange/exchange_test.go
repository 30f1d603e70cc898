package exchange

import (
	"context"
	"slices"
	"testing"

	"github.com/weir-streams/weir/internal/keygroup"
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

func keyed(keys ...string) *record.Batch {
	var b record.Batch
	b.Reset()
	for _, k := range keys {
		v := record.View{Flags: record.FlagPayload | record.FlagKey, Key: []byte(k), Payload: []byte(k)}
		b.Append(&v)
	}
	return &b
}

// drain takes what is queued in g, giving back each buffer's room.
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
			g.Took(b)
			Release(b)
		default:
			return data, kinds
		}
	}
}

func outputs(gates []*Gate) []Output {
	out := make([]Output, len(gates))
	for i, g := range gates {
		out[i] = g
	}
	return out
}

func localGates(reg *Registry, n, channels int) []*Gate {
	gates := make([]*Gate, n)
	for i := range gates {
		gates[i] = reg.Gate(Key{"j", 1, 0, i}, channels)
	}
	return gates
}

func TestRebalanceRoundRobinAndEvents(t *testing.T) {
	reg := NewRegistry(8)
	ctx := context.Background()
	gates := localGates(reg, 2, 1)
	w, err := NewWriter(outputs(gates), WriterOptions{Mode: PartitionRebalance})
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
	gates := localGates(reg, 2, 2)
	w, err := NewWriter(outputs(gates), WriterOptions{Mode: PartitionForward, Channel: 1})
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
	if _, err := NewWriter(outputs(gates), WriterOptions{Mode: PartitionForward, Channel: 2}); err == nil {
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

// keyGroups places keys as tasks do (internal/keygroup).
func keyGroups(maxP int) KeyGroupFunc {
	return func(key []byte) int { return keygroup.Of(key, maxP) }
}

// TestPartitionerDistribution writes the same records through every partitioner
// and checks where each record went.
func TestPartitionerDistribution(t *testing.T) {
	ctx := context.Background()
	var keys []string
	for i := range 1000 {
		keys = append(keys, string(rune('a'+i%26))+string(rune('a'+i/26%26))+string(rune('0'+i%10)))
	}
	const maxP = 128
	group := keyGroups(maxP)
	cases := []struct {
		name  string
		opts  WriterOptions
		n     int
		check func(t *testing.T, got [][]string)
	}{
		{"forward", WriterOptions{Mode: PartitionForward, Channel: 2}, 4, func(t *testing.T, got [][]string) {
			if len(got[2]) != len(keys) || len(got[0])+len(got[1])+len(got[3]) != 0 {
				t.Fatalf("forward: %d %d %d %d", len(got[0]), len(got[1]), len(got[2]), len(got[3]))
			}
		}},
		{"rebalance", WriterOptions{Mode: PartitionRebalance, Channel: 1}, 4, func(t *testing.T, got [][]string) {
			for i, g := range got {
				if len(g) != 250 {
					t.Fatalf("rebalance: subtask %d got %d of 1000", i, len(g))
				}
			}
			if got[1][0] != keys[0] {
				t.Fatal("rebalance starts at the writer's own index")
			}
		}},
		{"rescale-up", WriterOptions{Mode: PartitionRescale, Channel: 1, Upstream: 2}, 4, func(t *testing.T, got [][]string) {
			if len(got[0])+len(got[1]) != 0 || len(got[2]) != 500 || len(got[3]) != 500 {
				t.Fatalf("rescale 2→4 from subtask 1: %d %d %d %d", len(got[0]), len(got[1]), len(got[2]), len(got[3]))
			}
		}},
		{"rescale-down", WriterOptions{Mode: PartitionRescale, Channel: 3, Upstream: 4}, 2, func(t *testing.T, got [][]string) {
			if len(got[0]) != 0 || len(got[1]) != 1000 {
				t.Fatalf("rescale 4→2 from subtask 3: %d %d", len(got[0]), len(got[1]))
			}
		}},
		{"hash", WriterOptions{Mode: PartitionHash, MaxParallelism: maxP, KeyGroup: group}, 3, func(t *testing.T, got [][]string) {
			total := 0
			for i, g := range got {
				total += len(g)
				for _, k := range g {
					if want := group([]byte(k)) * 3 / maxP; want != i {
						t.Fatalf("hash: key %q at subtask %d, its key group belongs to %d", k, i, want)
					}
				}
				if len(g) < 200 {
					t.Fatalf("hash: subtask %d got only %d of 1000", i, len(g))
				}
			}
			if total != len(keys) {
				t.Fatalf("hash: %d of %d records", total, len(keys))
			}
		}},
		{"broadcast", WriterOptions{Mode: PartitionBroadcast}, 3, func(t *testing.T, got [][]string) {
			for i, g := range got {
				if !slices.Equal(g, keys) {
					t.Fatalf("broadcast: subtask %d got %d records", i, len(g))
				}
			}
		}},
		{"global", WriterOptions{Mode: PartitionGlobal, Channel: 2}, 3, func(t *testing.T, got [][]string) {
			if !slices.Equal(got[0], keys) || len(got[1])+len(got[2]) != 0 {
				t.Fatalf("global: %d %d %d", len(got[0]), len(got[1]), len(got[2]))
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			reg := NewRegistry(64)
			gates := localGates(reg, c.n, 4)
			w, err := NewWriter(outputs(gates), c.opts)
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Write(ctx, keyed(keys...)); err != nil {
				t.Fatal(err)
			}
			if err := w.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			got := make([][]string, c.n)
			for i, g := range gates {
				got[i], _ = drain(t, g)
			}
			c.check(t, got)
		})
	}
}

func TestRescaleTargets(t *testing.T) {
	for _, c := range []struct {
		i, n, m int
		want    []int
	}{
		{0, 2, 4, []int{0, 1}}, {1, 2, 4, []int{2, 3}}, {0, 4, 2, []int{0}}, {1, 4, 2, []int{0}},
		{2, 4, 2, []int{1}}, {3, 4, 2, []int{1}}, {0, 3, 3, []int{0}}, {2, 3, 5, []int{3, 4}},
	} {
		if got := RescaleTargets(c.i, c.n, c.m); !slices.Equal(got, c.want) {
			t.Errorf("RescaleTargets(%d, %d, %d) = %v, want %v", c.i, c.n, c.m, got, c.want)
		}
	}
}

// BenchmarkWriterHash partitions 100-byte keyed records by key group onto local
// gates, the work a task does per record before the network.
func BenchmarkWriterHash(b *testing.B) {
	reg := NewRegistry(1 << 16)
	gates := localGates(reg, 4, 1)
	w, err := NewWriter(outputs(gates), WriterOptions{Mode: PartitionHash, MaxParallelism: 128, KeyGroup: keyGroups(128)})
	if err != nil {
		b.Fatal(err)
	}
	batch := benchRecords(1000)
	ctx := context.Background()
	b.ReportAllocs()
	b.SetBytes(int64(batch.Size()))
	for b.Loop() {
		if err := w.Write(ctx, batch); err != nil {
			b.Fatal(err)
		}
		for _, g := range gates {
			drainQuiet(g)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch.Len()), "ns/record")
}

func drainQuiet(g *Gate) {
	for {
		select {
		case b := <-g.C():
			g.Took(b)
			Release(b)
		default:
			return
		}
	}
}
