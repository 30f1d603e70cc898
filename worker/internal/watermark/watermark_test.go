package watermark

import (
	"math/rand/v2"
	"testing"
	"time"
)

var t0 = time.Unix(1_700_000_000, 0)

func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

// step is one call of a scripted scenario and what it must return.
type step struct {
	op      string // "obs", "tick" (Generator); "wm", "idle", "active", "end" (Tracker)
	ch      int
	v       int64 // a timestamp or watermark
	now     int   // ms after t0
	want    Status
	changed bool
}

func TestGeneratorScenarios(t *testing.T) {
	for _, c := range []struct {
		name    string
		readers int
		s       Strategy
		steps   []step
	}{
		{"bounded out-of-orderness", 1, Strategy{MaxOutOfOrderness: time.Second}, []step{
			{op: "tick", now: 0, want: Status{Min, false}},
			{op: "obs", v: 5000}, {op: "tick", now: 200, want: Status{3999, false}, changed: true},
			{op: "obs", v: 4500}, {op: "tick", now: 400, want: Status{3999, false}}, // a late-ish record does not move it
			{op: "obs", v: 7000}, {op: "tick", now: 600, want: Status{5999, false}, changed: true},
		}},
		{"monotonous", 1, Strategy{}, []step{
			{op: "obs", v: 10}, {op: "tick", want: Status{9, false}, changed: true},
		}},
		{"min over readers; one without records holds back", 2, Strategy{}, []step{
			{op: "obs", ch: 0, v: 100}, {op: "tick", now: 10, want: Status{Min, false}},
			{op: "obs", ch: 1, v: 50}, {op: "tick", now: 20, want: Status{49, false}, changed: true},
			{op: "obs", ch: 1, v: 500}, {op: "tick", now: 30, want: Status{99, false}, changed: true},
		}},
		{"idle timeout releases a silent reader, which comes back without going backwards", 2, Strategy{IdleTimeout: time.Second}, []step{
			{op: "obs", ch: 0, v: 100, now: 0}, {op: "tick", now: 999, want: Status{Min, false}},
			{op: "obs", ch: 0, v: 2000, now: 1500}, {op: "tick", now: 1500, want: Status{1999, false}, changed: true}, // reader 1 idle since 1000
			{op: "obs", ch: 1, v: 10, now: 1600}, {op: "tick", now: 1600, want: Status{1999, false}},
			{op: "tick", now: 2599, want: Status{1999, false}},               // reader 0 idle since 2500; reader 1 (at 9) is behind the clock
			{op: "tick", now: 2600, want: Status{1999, true}, changed: true}, // reader 1 idle too
		}},
		{"all idle, then active again", 1, Strategy{IdleTimeout: 100 * time.Millisecond}, []step{
			{op: "obs", v: 10, now: 0}, {op: "tick", now: 50, want: Status{9, false}, changed: true},
			{op: "tick", now: 150, want: Status{9, true}, changed: true},
			{op: "tick", now: 250, want: Status{9, true}},
			{op: "obs", v: 5, now: 300}, {op: "tick", now: 300, want: Status{9, false}, changed: true},
		}},
		{"no readers: idle from the start", 0, Strategy{}, []step{
			{op: "tick", want: Status{Min, true}},
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			g := NewGenerator(c.readers, c.s, t0)
			for i, s := range c.steps {
				switch s.op {
				case "obs":
					g.Observe(s.ch, s.v, at(s.now))
				case "tick":
					got, changed := g.Tick(at(s.now))
					if got != s.want || changed != s.changed {
						t.Fatalf("step %d: Tick = %+v, %v; want %+v, %v", i, got, changed, s.want, s.changed)
					}
				}
			}
		})
	}
}

func TestTrackerScenarios(t *testing.T) {
	for _, c := range []struct {
		name     string
		channels int
		steps    []step
	}{
		{"min of several inputs", 3, []step{
			{op: "wm", ch: 0, v: 10, want: Status{Min, false}},
			{op: "wm", ch: 1, v: 20, want: Status{Min, false}},
			{op: "wm", ch: 2, v: 5, want: Status{5, false}, changed: true},
			{op: "wm", ch: 2, v: 30, want: Status{10, false}, changed: true},
			{op: "wm", ch: 0, v: 8, want: Status{10, false}}, // a channel's regression is ignored
			{op: "wm", ch: 0, v: 25, want: Status{20, false}, changed: true},
		}},
		{"an idle input does not hold back; back behind the clock it waits to catch up", 2, []step{
			{op: "wm", ch: 0, v: 10}, {op: "wm", ch: 1, v: 5, want: Status{5, false}, changed: true},
			{op: "idle", ch: 1, want: Status{10, false}, changed: true},
			{op: "wm", ch: 0, v: 50, want: Status{50, false}, changed: true},
			{op: "wm", ch: 1, v: 20, want: Status{50, false}}, // active again, behind: not aligned
			{op: "wm", ch: 0, v: 80, want: Status{80, false}, changed: true},
			{op: "wm", ch: 1, v: 90, want: Status{80, false}}, // caught up: aligned
			{op: "wm", ch: 0, v: 100, want: Status{90, false}, changed: true},
		}},
		{"all idle, then one active", 2, []step{
			{op: "wm", ch: 0, v: 10}, {op: "wm", ch: 1, v: 10, want: Status{10, false}, changed: true},
			{op: "idle", ch: 0, want: Status{10, false}},
			{op: "idle", ch: 1, want: Status{10, true}, changed: true},
			{op: "idle", ch: 1, want: Status{10, true}},
			{op: "wm", ch: 1, v: 12, want: Status{12, false}, changed: true},
		}},
		{"inputs that fall quiet after their last records: the clock moves to the largest", 3, []step{
			{op: "wm", ch: 0, v: 10, want: Status{Min, false}},
			{op: "wm", ch: 1, v: 20, want: Status{Min, false}}, // channel 2 has sent nothing
			{op: "idle", ch: 0, want: Status{Min, false}},
			{op: "idle", ch: 1, want: Status{Min, false}},
			{op: "idle", ch: 2, want: Status{20, true}, changed: true},
			{op: "wm", ch: 2, v: 5, want: Status{20, false}, changed: true}, // back behind the clock: not aligned
		}},
		{"ended channels hold nothing back", 2, []step{
			{op: "wm", ch: 0, v: 10},
			{op: "end", ch: 1, want: Status{10, false}, changed: true},
			{op: "end", ch: 0, want: Status{Max, false}, changed: true},
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			tr := NewTracker(c.channels)
			for i, s := range c.steps {
				var (
					got     Status
					changed bool
				)
				switch s.op {
				case "wm":
					got, changed = tr.Watermark(s.ch, s.v)
				case "idle":
					got, changed = tr.Idle(s.ch, true)
				case "end":
					got, changed = tr.End(s.ch)
				}
				if s.want == (Status{}) && !s.changed {
					continue // a step without an expectation
				}
				if got != s.want || changed != s.changed {
					t.Fatalf("step %d (%s ch %d %d): got %+v, %v; want %+v, %v", i, s.op, s.ch, s.v, got, changed, s.want, s.changed)
				}
			}
		})
	}
}

// TestTrackerProperties drives a tracker with random events and checks it against
// a brute-force model: the output never goes backwards, changes exactly when the
// model's does, and while channels only move forward and stay active it is the
// minimum over them.
func TestTrackerProperties(t *testing.T) {
	for seed := range uint64(200) {
		rng := rand.New(rand.NewPCG(seed, 1))
		n := 1 + rng.IntN(4)
		tr := NewTracker(n)
		wms := make([]int64, n)
		for i := range wms {
			wms[i] = Min
		}
		idle := make([]bool, n)
		last := tr.Current()
		everIdle := false
		for range 100 {
			c := rng.IntN(n)
			var got Status
			var changed bool
			if rng.IntN(6) == 0 {
				everIdle = true
				idle[c] = !idle[c]
				got, changed = tr.Idle(c, idle[c])
			} else {
				v := int64(rng.IntN(1000))
				if v > wms[c] {
					wms[c] = v
				}
				idle[c] = false
				got, changed = tr.Watermark(c, v)
			}
			if got.Watermark < last.Watermark {
				t.Fatalf("seed %d: went backwards from %d to %d", seed, last.Watermark, got.Watermark)
			}
			if changed != (got != last) {
				t.Fatalf("seed %d: changed=%v but %+v -> %+v", seed, changed, last, got)
			}
			allIdle := true
			for _, i := range idle {
				allIdle = allIdle && i
			}
			if got.Idle != allIdle {
				t.Fatalf("seed %d: idle %v, channels idle %v", seed, got.Idle, idle)
			}
			if !everIdle {
				m := int64(Max)
				for _, w := range wms {
					m = min(m, w)
				}
				if got.Watermark != m {
					t.Fatalf("seed %d: watermark %d, min over channels %d (%v)", seed, got.Watermark, m, wms)
				}
			}
			last = got
		}
	}
}

func TestGeneratorPunctuated(t *testing.T) {
	g := NewGenerator(2, Strategy{Punctuated: true}, t0)
	g.Observe(0, 5000, at(0))
	g.Observe(1, 7000, at(0))
	if st, changed := g.Tick(at(10)); st != (Status{Min, false}) || changed {
		t.Fatalf("timestamps alone move a punctuated watermark: %+v %v", st, changed)
	}
	g.Punctuate(0, 4000)
	g.Punctuate(1, 3000)
	if st, changed := g.Tick(at(20)); st != (Status{3000, false}) || !changed {
		t.Fatalf("after punctuations: %+v %v", st, changed)
	}
	g.Punctuate(1, 2000) // an older punctuation changes nothing
	if st, changed := g.Tick(at(30)); st != (Status{3000, false}) || changed {
		t.Fatalf("after an older punctuation: %+v %v", st, changed)
	}
}
