package join

import (
	"context"
	"testing"

	"github.com/weir-streams/weir/internal/record"
)

// TestIntervalProcessAllocs checks that joining allocates nothing per record
// once the keys are cached, their buffers have grown and their removal timer
// is registered (timers are the timer service's: one per key and bucket).
func TestIntervalProcessAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	const bucket = 1 << 20
	h := intervalHarness(t, IntervalConfig{Lower: -1000, Upper: 1000, Kind: FullOuter, CleanupBucket: bucket})
	ctx := context.Background()
	keys := make([][]byte, 16)
	for k := range keys {
		keys[k] = []byte{'k', byte('a' + k)}
	}
	var l, r record.Batch
	fill := func(ts int64) {
		l.Reset()
		r.Reset()
		for _, k := range keys {
			l.Append(&record.View{Flags: record.FlagKey | record.FlagTimestamp | record.FlagPayload, Key: k, Timestamp: ts, Payload: []byte(`{"side":"left"}`)})
			r.Append(&record.View{Flags: record.FlagKey | record.FlagTimestamp | record.FlagPayload, Key: k, Timestamp: ts, Payload: []byte("right, not JSON")})
		}
	}
	ts := int64(0)
	run := func() {
		fill(ts)
		ts++
		if _, err := h.op.Process(ctx, 0, &l); err != nil {
			t.Fatal(err)
		}
		if _, err := h.op.Process(ctx, 1, &r); err != nil {
			t.Fatal(err)
		}
	}
	// Grow the buffers, then empty them (they keep their memory), then
	// register the keys' next bucket.
	for range 120 {
		run()
	}
	if _, err := h.op.Advance(ctx, 2*bucket); err != nil {
		t.Fatal(err)
	}
	ts = 2*bucket + 10
	run()
	if allocs := testing.AllocsPerRun(100, run); allocs != 0 {
		t.Fatalf("%.1f allocations per batch pair, want 0", allocs)
	}
	if h.op.Stats().Pairs.Load() == 0 {
		t.Fatal("nothing joined")
	}
}
