package join

import "testing"

// The scenarios follow Flink's WindowJoinITCase shapes; every expectation is
// written by hand.

func TestWindowTumbling(t *testing.T) {
	h := windowHarness(t, WindowConfig{Kind: Tumbling, Size: 10})
	h.send(0, rec{"k", 1, "a1"})
	h.send(1, rec{"k", 3, "b3"}, rec{"k", 12, "b12"})
	h.send(0, rec{"k", 5, `{"a":5}`})
	h.send(1, rec{"k", 4, "b4"})
	h.advance(8)
	expect(t, "before the end", h.take())
	h.advance(9)
	expect(t, "window [0,10), left-major in arrival order", h.take(),
		row("k", 9, `{"left":"a1","right":"b3"}`),
		row("k", 9, `{"left":"a1","right":"b4"}`),
		row("k", 9, `{"left":{"a":5},"right":"b3"}`),
		row("k", 9, `{"left":{"a":5},"right":"b4"}`))
	h.send(1, rec{"k", 8, "late"}, rec{"k", 9, "late"})
	if n := h.op.Stats().Late.Load(); n != 2 {
		t.Fatalf("Late = %d, want 2", n)
	}
	h.advance(19)
	expect(t, "window [10,20) has no left", h.take())
	if h.stored("k") || h.timers() != 0 {
		t.Fatalf("state left (%d timers)", h.timers())
	}
}

func TestWindowSliding(t *testing.T) {
	h := windowHarness(t, WindowConfig{Kind: Sliding, Size: 10, Slide: 5})
	h.send(0, rec{"k", 3, "a3"}, rec{"k", 12, "a12"})
	h.send(1, rec{"k", 7, "b7"}, rec{"k", 13, "b13"})
	h.advance(4)
	expect(t, "[-5,5) has no right", h.take())
	h.advance(9)
	expect(t, "[0,10)", h.take(), row("k", 9, `{"left":"a3","right":"b7"}`))
	h.restore()
	h.advance(14)
	expect(t, "[5,15)", h.take(),
		row("k", 14, `{"left":"a12","right":"b7"}`),
		row("k", 14, `{"left":"a12","right":"b13"}`))
	h.send(1, rec{"k", 6, "late"})
	h.send(0, rec{"k", 11, "a11"}) // [5,15) fired, [10,20) not
	if n := h.op.Stats().Late.Load(); n != 1 {
		t.Fatalf("Late = %d, want 1", n)
	}
	h.advance(19)
	expect(t, "[10,20)", h.take(),
		row("k", 19, `{"left":"a12","right":"b13"}`),
		row("k", 19, `{"left":"a11","right":"b13"}`))
	if h.stored("k") || h.timers() != 0 {
		t.Fatalf("state left (%d timers)", h.timers())
	}
}

func TestWindowSession(t *testing.T) {
	h := windowHarness(t, WindowConfig{Kind: Session, Gap: 5})
	h.send(0, rec{"k", 1, "a1"}, rec{"k", 20, "a20"})
	h.send(1, rec{"k", 4, "b4"}, rec{"k", 30, "b30"}, rec{"k", 24, "b24"})
	h.restore()
	// Sessions [1,9), [20,29), [30,35); right 26 bridges the last two.
	h.send(1, rec{"k", 26, "b26"})
	h.advance(8)
	expect(t, "[1,9)", h.take(), row("k", 8, `{"left":"a1","right":"b4"}`))
	h.advance(33)
	expect(t, "the bridged session is open", h.take())
	h.advance(34)
	expect(t, "[20,35)", h.take(),
		row("k", 34, `{"left":"a20","right":"b30"}`),
		row("k", 34, `{"left":"a20","right":"b24"}`),
		row("k", 34, `{"left":"a20","right":"b26"}`))
	h.send(1, rec{"k", 2, "late"})
	if n := h.op.Stats().Late.Load(); n != 1 {
		t.Fatalf("Late = %d, want 1", n)
	}
	if h.stored("k") || h.timers() != 0 {
		t.Fatalf("state left (%d timers)", h.timers())
	}
}
