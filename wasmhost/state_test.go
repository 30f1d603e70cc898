package wasmhost_test

import (
	"context"
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/weir-streams/weir/internal/record"
	"github.com/weir-streams/weir/wasmhost"
)

// keyedBatch builds a batch whose records carry the given keys.
func keyedBatch(keys ...string) *record.Batch {
	var b record.Batch
	b.Reset()
	for _, k := range keys {
		v := record.View{Flags: record.FlagPayload | record.FlagKey, Key: []byte(k), Payload: []byte("p")}
		b.Append(&v)
	}
	return &b
}

func TestProcessValueStatePerKey(t *testing.T) {
	rt := newRuntime(t)
	m := load(t, rt, "testdata/counter.wasm")
	inst := instance(t, m, "count", wasmhost.Limits{})
	var st wasmhost.MemoryState
	inst.SetKeyedState(&st)

	counts := func(b *record.Batch) []uint64 {
		out, err := inst.Process(context.Background(), b)
		require.NoError(t, err)
		var got []uint64
		r := out.Reader()
		var v record.View
		for r.Next(&v) {
			got = append(got, binary.LittleEndian.Uint64(v.Payload))
		}
		return got
	}
	// Several records of one key in one batch see each other's writes.
	require.Equal(t, []uint64{1, 1, 2, 3, 1}, counts(keyedBatch("a", "b", "a", "a", "")))
	require.Equal(t, []uint64{4, 2, 2}, counts(keyedBatch("a", "b", "")))
}

func TestStateImportsCheckKindsAndIndexes(t *testing.T) {
	rt := newRuntime(t)
	m := load(t, rt, "testdata/counter.wasm")
	inst := instance(t, m, "codes", wasmhost.Limits{})
	var st wasmhost.MemoryState
	inst.SetKeyedState(&st)
	out, err := inst.Process(context.Background(), keyedBatch("k", "k"))
	require.NoError(t, err)
	r := out.Reader()
	var v record.View
	var got [][5]int32
	for r.Next(&v) {
		var c [5]int32
		for i := range c {
			c[i] = int32(binary.LittleEndian.Uint32(v.Payload[4*i:]))
		}
		got = append(got, c)
	}
	// A list element encodes as a record: flags (1) + u32 length (4) + "x" (1).
	require.Equal(t, [][5]int32{{-3, -3, -3, 0, 6}, {-3, -3, -3, 0, 6}}, got)
	n := 0
	for {
		_, _, ok, err := st.Iter(0, []byte("k"), n)
		require.NoError(t, err)
		if !ok {
			break
		}
		n++
	}
	require.Equal(t, 2, n, "both appends reached the list")
}

func TestStateImportsUnsupportedWithoutStore(t *testing.T) {
	rt := newRuntime(t)
	m := load(t, rt, "testdata/counter.wasm")
	inst := instance(t, m, "codes", wasmhost.Limits{})
	out, err := inst.Process(context.Background(), keyedBatch("k"))
	require.NoError(t, err)
	r := out.Reader()
	var v record.View
	require.True(t, r.Next(&v))
	for i := range 5 {
		require.Equal(t, int32(-2), int32(binary.LittleEndian.Uint32(v.Payload[4*i:])), "code %d", i)
	}
}
