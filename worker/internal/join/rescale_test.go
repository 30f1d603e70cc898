package join

import (
	"context"
	"fmt"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/weir-streams/weir/worker/internal/state"
)

// TestRestoreRescaled merges two subtasks whose watermarks differ into one:
// each key group keeps the lateness of the subtask it comes from, and the
// operator's watermark is the lower one.
func TestRestoreRescaled(t *testing.T) {
	ctx := context.Background()
	store := state.NewMemStore()
	cfg := IntervalConfig{Operator: "join", MaxParallelism: testMaxP, Lower: -10, Upper: 10, Kind: LeftOuter, CleanupBucket: 1}
	// A key of each half of the key groups.
	var keys [2]string
	for i := 0; keys[0] == "" || keys[1] == ""; i++ {
		k := fmt.Sprintf("key%d", i)
		keys[keygroupOf(k)*2/testMaxP] = k
	}
	var handles []state.Handle
	for half, wm := range []int64{100, 50} {
		opts := state.Options{Dir: "/state", FS: vfs.NewMem(), MaxParallelism: testMaxP,
			KeyGroups: state.Range{First: half * testMaxP / 2, Last: (half+1)*testMaxP/2 - 1}}
		b, err := state.Open(opts)
		if err != nil {
			t.Fatal(err)
		}
		op, err := NewInterval(cfg, b)
		if err != nil {
			t.Fatal(err)
		}
		h := &harness{t: t, b: b, op: op}
		h.advance(wm)
		h.send(0, rec{keys[half], wm + 5, fmt.Sprintf("a%d", half)})
		if err := op.Flush(); err != nil {
			t.Fatal(err)
		}
		p, err := b.Snapshot(1)
		if err != nil {
			t.Fatal(err)
		}
		hd, err := p.Upload(ctx, store, state.UploadOptions{Prefix: "ckpt/"})
		if err != nil {
			t.Fatal(err)
		}
		handles = append(handles, hd)
		_ = b.Close()
	}
	b, err := state.Restore(ctx, testOptions(), store, handles, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	op, err := NewInterval(cfg, b)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, b: b, op: op}
	if op.Watermark() != 50 {
		t.Fatalf("watermark %d, want the lower one, 50", op.Watermark())
	}
	h.send(1, rec{keys[0], 70, "late"}, rec{keys[1], 60, "b60"}, rec{keys[0], 100, "b100"})
	expect(t, "lateness per key group", h.take(),
		row(keys[1], 60, `{"left":"a1","right":"b60"}`),
		row(keys[0], 105, `{"left":"a0","right":"b100"}`))
	if op.Stats().Late.Load() != 1 {
		t.Fatalf("Late = %d, want 1", op.Stats().Late.Load())
	}
	h.advance(200)
	expect(t, "both lefts matched", h.take())
	if h.stored(keys[0]) || h.stored(keys[1]) || h.timers() != 0 {
		t.Fatal("state left")
	}
}
