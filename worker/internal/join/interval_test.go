package join

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"testing"

	"github.com/weir-streams/weir/internal/record"
)

// The scenarios follow Flink's IntervalJoinOperatorTest; every expectation is
// written by hand.

func TestIntervalInner(t *testing.T) {
	h := intervalHarness(t, IntervalConfig{Lower: -2, Upper: 3})
	h.send(0, rec{"k", 10, `{"a":10}`})
	h.send(1, rec{"k", 12, "b12"}, rec{"k", 7, "b7"}, rec{"k", 8, "b8"}, rec{"k", 13, "b13"}, rec{"k", 14, "b14"})
	expect(t, "rights against left 10 in [8, 13]", h.take(),
		row("k", 12, `{"left":{"a":10},"right":"b12"}`),
		row("k", 10, `{"left":{"a":10},"right":"b8"}`),
		row("k", 13, `{"left":{"a":10},"right":"b13"}`))
	h.send(0, rec{"k", 11, "a11"}, rec{"other", 11, "x"})
	expect(t, "left 11 against the buffered rights in [9, 14], in arrival order", h.take(),
		row("k", 12, `{"left":"a11","right":"b12"}`),
		row("k", 13, `{"left":"a11","right":"b13"}`),
		row("k", 14, `{"left":"a11","right":"b14"}`))
	// Removal: left at ts+Upper+1 (14, 15), right at ts-Lower+1 (10, 11, 15,
	// 16, 17).
	h.advance(16)
	expect(t, "inner joins emit nothing on removal", h.take())
	if !h.stored("k") {
		t.Fatal("right 14 is live until watermark 17, but k has no state")
	}
	if h.stored("other") {
		t.Fatal("left 11 of other should be gone at watermark 16")
	}
	// The default cleanup bucket is the interval's width, 5: right 14's
	// removal time 17 rounds up to 20.
	h.advance(19)
	if !h.stored("k") {
		t.Fatal("right 14 is removed before its bucket's timer at 20")
	}
	h.advance(20)
	if h.stored("k") || h.timers() != 0 {
		t.Fatalf("state left after every element's removal (timers %d)", h.timers())
	}
	if p := h.op.Stats().Pairs.Load(); p != 6 {
		t.Fatalf("Pairs = %d, want 6", p)
	}
}

func TestIntervalFullOuter(t *testing.T) {
	h := intervalHarness(t, IntervalConfig{Lower: 0, Upper: 5, Kind: FullOuter, CleanupBucket: 1})
	h.send(0, rec{"k", 10, "a10"}, rec{"k", 20, "a20"})
	h.send(1, rec{"k", 12, "b12"}, rec{"k", 30, "b30"}, rec{"k", 3, "b3"})
	expect(t, "12 joins 10", h.take(), row("k", 12, `{"left":"a10","right":"b12"}`))
	h.advance(12)
	expect(t, "right 3 is removed at 4, unmatched", h.take(), row("k", 3, `{"left":null,"right":"b3"}`))
	h.advance(25)
	expect(t, "left 10 and right 12 matched", h.take())
	h.advance(26)
	expect(t, "left 20 is removed at 26, unmatched", h.take(), row("k", 20, `{"left":"a20","right":null}`))
	h.advance(1000)
	expect(t, "right 30 at 31", h.take(), row("k", 30, `{"left":null,"right":"b30"}`))
	if h.stored("k") || h.timers() != 0 {
		t.Fatal("state left after every element's removal")
	}
	if n := h.op.Stats().OuterRows.Load(); n != 3 {
		t.Fatalf("OuterRows = %d, want 3", n)
	}
}

func TestIntervalLeftAndRightOuter(t *testing.T) {
	for _, c := range []struct {
		kind Kind
		want []string
	}{
		{LeftOuter, []string{row("k", 20, `{"left":"a20","right":null}`)}},
		{RightOuter, []string{row("k", 3, `{"left":null,"right":"b3"}`)}},
	} {
		h := intervalHarness(t, IntervalConfig{Lower: 0, Upper: 5, Kind: c.kind, CleanupBucket: 1})
		h.send(1, rec{"k", 3, "b3"}, rec{"k", 12, "b12"})
		h.send(0, rec{"k", 10, "a10"}, rec{"k", 20, "a20"})
		expect(t, "pair", h.take(), row("k", 12, `{"left":"a10","right":"b12"}`))
		h.advance(100)
		expect(t, "outer rows", h.take(), c.want...)
	}
}

func TestIntervalNegativeBounds(t *testing.T) {
	// Rights 2 to 5 ms before the left.
	h := intervalHarness(t, IntervalConfig{Lower: -5, Upper: -2, Kind: LeftOuter, CleanupBucket: 1})
	h.send(1, rec{"k", 4, "b4"}, rec{"k", 5, "b5"}, rec{"k", 8, "b8"}, rec{"k", 9, "b9"})
	h.send(0, rec{"k", 10, "a10"}, rec{"k", 12, "a12"})
	expect(t, "pairs", h.take(),
		row("k", 10, `{"left":"a10","right":"b5"}`),
		row("k", 10, `{"left":"a10","right":"b8"}`),
		row("k", 12, `{"left":"a12","right":"b8"}`),
		row("k", 12, `{"left":"a12","right":"b9"}`))
	// A right is removed at ts+6, a left at ts-1: at 100 everything is gone.
	h.advance(100)
	expect(t, "every left matched", h.take())
	if h.stored("k") || h.timers() != 0 {
		t.Fatal("state left")
	}
	// A left at the watermark can only match rights already buffered (at
	// most 98): it is joined, and not kept.
	h.send(1, rec{"k", 100, "b100"}, rec{"k", 97, "b97"})
	if h.op.Stats().Late.Load() != 1 {
		t.Fatal("right 97 below watermark 100 is not late")
	}
	h.send(0, rec{"k", 100, "a100"}, rec{"k", 103, "a103"})
	expect(t, "left 100 matches nothing, left 103 matches right 100", h.take(),
		row("k", 100, `{"left":"a100","right":null}`),
		row("k", 103, `{"left":"a103","right":"b100"}`))
	h.advance(105)
	if !h.stored("k") {
		t.Fatal("right 100 lives until 106")
	}
	h.advance(106)
	expect(t, "nothing more", h.take())
	if h.stored("k") || h.timers() != 0 {
		t.Fatal("state left")
	}
}

func TestIntervalLateAndNoTimestamp(t *testing.T) {
	h := intervalHarness(t, IntervalConfig{Lower: -10, Upper: 10, Kind: FullOuter})
	h.advance(100)
	h.send(0, rec{"k", 99, "late"}, rec{"k", 100, "a100"})
	h.send(1, rec{"k", 50, "late"}, rec{"k", 105, "b105"})
	var b record.Batch
	b.Append(&record.View{Flags: record.FlagKey | record.FlagPayload, Key: []byte("k"), Payload: []byte("x")})
	h.collect(h.op.Process(context.Background(), 1, &b))
	expect(t, "only the timely join", h.take(), row("k", 105, `{"left":"a100","right":"b105"}`))
	if l, n := h.op.Stats().Late.Load(), h.op.Stats().NoTimestamp.Load(); l != 2 || n != 1 {
		t.Fatalf("Late %d, NoTimestamp %d; want 2, 1", l, n)
	}
	if _, err := h.op.Process(context.Background(), 2, &b); err == nil {
		t.Fatal("input 2 accepted")
	}
}

// TestIntervalRestore checkpoints with buffered elements and restores: the
// watermark comes back with the state, so lateness and removal go on exactly,
// and a lower watermark from the worker changes nothing.
func TestIntervalRestore(t *testing.T) {
	h := intervalHarness(t, IntervalConfig{Lower: -2, Upper: 3, Kind: LeftOuter, CleanupBucket: 1})
	h.send(0, rec{"k", 10, "a10"}, rec{"k", 20, "a20"})
	h.advance(9)
	h.restore()
	h.advance(5)
	h.send(1, rec{"k", 8, "b8"}, rec{"k", 12, "b12"})
	expect(t, "right 8 is late, 12 joins the restored left", h.take(), row("k", 12, `{"left":"a10","right":"b12"}`))
	h.restore()
	h.advance(24)
	expect(t, "left 20 unmatched", h.take(), row("k", 20, `{"left":"a20","right":null}`))
	if h.stored("k") || h.timers() != 0 {
		t.Fatal("state left")
	}
	// An operator over a restored backend starts where the snapshot was, even
	// before any Advance.
	h.restore()
	if h.op.Watermark() != 24 {
		t.Fatalf("watermark %d after restore, want 24", h.op.Watermark())
	}
}

func TestIntervalConfigErrors(t *testing.T) {
	h := intervalHarness(t, IntervalConfig{})
	for _, cfg := range []IntervalConfig{
		{MaxParallelism: 128},
		{Operator: "x"},
		{Operator: "x", MaxParallelism: 128, Lower: 3, Upper: 2},
		{Operator: "x", MaxParallelism: 128, Kind: 9},
		{Operator: "x", MaxParallelism: 128, CleanupBucket: -1},
	} {
		if _, err := NewInterval(cfg, h.b); err == nil {
			t.Errorf("%+v accepted", cfg)
		}
	}
	for _, cfg := range []WindowConfig{
		{Operator: "x", MaxParallelism: 128},
		{Operator: "x", MaxParallelism: 128, Kind: Sliding, Size: 10, Slide: 11},
		{Operator: "x", MaxParallelism: 128, Kind: Session},
		{Operator: "x", MaxParallelism: 128, Kind: 7, Size: 1},
	} {
		if _, err := NewWindow(cfg, h.b); err == nil {
			t.Errorf("%+v accepted", cfg)
		}
	}
}

// TestAppendString checks the JSON string encoder against encoding/json.
func TestAppendString(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"a", "\"", "\\", "\n", "\r", "\t", "\x00", "\x1f", "<", ">", "&", "é", "\u2028", "\u2029", "\xff", "\xe2\x80", "€", "😀"}
	for range 2000 {
		var s string
		for range rng.IntN(8) {
			s += alphabet[rng.IntN(len(alphabet))]
		}
		want, _ := json.Marshal(s)
		if got := appendString(nil, []byte(s)); string(got) != string(want) {
			t.Fatalf("%q: got %s, want %s", s, got, want)
		}
	}
}
