package watermark

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

var t0 = time.Unix(1_700_000_000, 0)

func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

// gstep is one call of a generator scenario. Only "tick" returns something;
// its expectation is checked, and so is Current afterwards.
type gstep struct {
	op      string // "obs" or "tick"
	r       int    // reader
	ts      int64  // the batch's largest timestamp ("obs")
	now     int    // ms after t0
	want    Status
	changed bool
}

func obs(r int, ts int64, now int) gstep { return gstep{op: "obs", r: r, ts: ts, now: now} }
func tick(now int, wm int64, idle, changed bool) gstep {
	return gstep{op: "tick", now: now, want: Status{wm, idle}, changed: changed}
}

func TestGeneratorScenarios(t *testing.T) {
	for _, c := range []struct {
		name    string
		readers int
		s       Strategy
		steps   []gstep
	}{
		{"bounded out-of-orderness", 1, Strategy{MaxOutOfOrderness: time.Second}, []gstep{
			tick(0, Min, false, false),
			obs(0, 5000, 100), tick(200, 3999, false, true),
			obs(0, 4500, 300), tick(400, 3999, false, false), // an out-of-order record does not move it
			obs(0, 7000, 500), tick(600, 5999, false, true),
			tick(800, 5999, false, false),
		}},
		{"monotonous", 1, Strategy{}, []gstep{
			obs(0, 10, 0), tick(0, 9, false, true),
			obs(0, 10, 1), tick(200, 9, false, false),
			obs(0, 11, 2), tick(400, 10, false, true),
		}},
		{"several readers: the minimum", 3, Strategy{MaxOutOfOrderness: 10 * time.Millisecond}, []gstep{
			obs(0, 100, 0), obs(1, 300, 0), obs(2, 200, 0), tick(200, 89, false, true),
			obs(0, 500, 300), tick(400, 189, false, true),
			obs(2, 400, 500), tick(600, 289, false, true),
			obs(1, 250, 700), tick(800, 289, false, false), // reader 1 went back: ignored
		}},
		{"a reader without records holds back until the idle timeout", 2, Strategy{IdleTimeout: time.Second}, []gstep{
			obs(0, 100, 0), tick(200, Min, false, false),
			obs(0, 200, 900), tick(999, Min, false, false),
			tick(1000, 199, false, true), // reader 1 idle, counted from NewGenerator
			obs(0, 300, 1100), tick(1200, 299, false, true),
		}},
		{"idle, then active again behind the clock: no going backwards", 2, Strategy{IdleTimeout: time.Second}, []gstep{
			obs(0, 100, 0), obs(1, 100, 0), tick(200, 99, false, true),
			obs(0, 2000, 1500), tick(1500, 1999, false, true), // reader 1 idle since 1000
			obs(1, 10, 1600), tick(1600, 1999, false, false), // reader 1 active, at 9: the output stays
			obs(0, 3000, 1700), obs(1, 2500, 1700), tick(1800, 2499, false, true),
			tick(2699, 2499, false, false),
			tick(2700, 2499, true, true), // both idle: idle, keeping the watermark
			tick(2900, 2499, true, false),
			obs(1, 100, 3000), tick(3000, 2499, false, true), // active again, behind: active, same watermark
		}},
		{"zero readers: idle", 0, Strategy{IdleTimeout: time.Second}, []gstep{
			tick(0, Min, true, false),
			tick(5000, Min, true, false),
		}},
		{"idle timeout 0 never idles", 1, Strategy{}, []gstep{
			obs(0, 10, 0), tick(1_000_000_000, 9, false, true),
		}},
		{"no overflow near Min", 2, Strategy{MaxOutOfOrderness: time.Hour}, []gstep{
			obs(0, Min+5, 0), obs(1, Min, 0), tick(0, Min, false, false),
			obs(1, Min+3_600_001, 0), tick(1, Min, false, false),
			obs(1, Min+3_600_002, 0), obs(0, 0, 0), tick(2, Min+1, false, true),
		}},
		{"end of input at Max", 1, Strategy{MaxOutOfOrderness: time.Second}, []gstep{
			obs(0, Max, 0), tick(0, Max-1001, false, true),
		}},
		{"a negative bound counts as 0", 1, Strategy{MaxOutOfOrderness: -time.Second}, []gstep{
			obs(0, Max, 0), tick(0, Max-1, false, true),
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			g := NewGenerator(c.readers, c.s, t0)
			if want := (Status{Min, c.readers == 0}); g.Current() != want {
				t.Fatalf("initial Current = %+v; want %+v", g.Current(), want)
			}
			for i, s := range c.steps {
				switch s.op {
				case "obs":
					g.Observe(s.r, s.ts, at(s.now))
				case "tick":
					got, changed := g.Tick(at(s.now))
					if got != s.want || changed != s.changed {
						t.Fatalf("step %d: Tick(%d) = %+v, %v; want %+v, %v", i, s.now, got, changed, s.want, s.changed)
					}
					if g.Current() != got {
						t.Fatalf("step %d: Current = %+v after Tick returned %+v", i, g.Current(), got)
					}
				}
			}
		})
	}
}

// tstep is one call of a tracker scenario and what it must return.
type tstep struct {
	op      string // "wm", "idle", "active", "end"
	c       int
	wm      int64
	want    Status
	changed bool
}

func wm(c int, w int64, out int64, idle, changed bool) tstep {
	return tstep{op: "wm", c: c, wm: w, want: Status{out, idle}, changed: changed}
}
func idle(c int, out int64, idle, changed bool) tstep {
	return tstep{op: "idle", c: c, want: Status{out, idle}, changed: changed}
}
func active(c int, out int64, idle, changed bool) tstep {
	return tstep{op: "active", c: c, want: Status{out, idle}, changed: changed}
}
func end(c int, out int64, idle, changed bool) tstep {
	return tstep{op: "end", c: c, want: Status{out, idle}, changed: changed}
}

func (s tstep) apply(tr *Tracker) (Status, bool) {
	switch s.op {
	case "wm":
		return tr.Watermark(s.c, s.wm)
	case "idle":
		return tr.Idle(s.c, true)
	case "active":
		return tr.Idle(s.c, false)
	case "end":
		return tr.End(s.c)
	}
	panic("unknown step " + s.op)
}

func TestTrackerScenarios(t *testing.T) {
	for _, c := range []struct {
		name     string
		channels int
		steps    []tstep
	}{
		{"min of several inputs", 3, []tstep{
			wm(0, 10, Min, false, false),
			wm(1, 20, Min, false, false),
			wm(2, 5, 5, false, true),
			wm(2, 30, 10, false, true),
			wm(0, 25, 20, false, true),
			wm(1, 40, 25, false, true),
		}},
		{"a lagging input holds the output back", 2, []tstep{
			wm(0, 100, Min, false, false),
			wm(1, 1, 1, false, true),
			wm(0, 200, 1, false, false),
			wm(0, 300, 1, false, false),
			wm(1, 2, 2, false, true),
			wm(1, 500, 300, false, true),
		}},
		{"per-channel regression ignored", 2, []tstep{
			wm(0, 50, Min, false, false),
			wm(1, 60, 50, false, true),
			wm(0, 40, 50, false, false),
			wm(0, 50, 50, false, false),
			wm(0, 55, 55, false, true),
		}},
		{"inputs that fall quiet after their last records: the clock moves to the largest", 3, []tstep{
			wm(0, 10, Min, false, false), wm(1, 20, Min, false, false), // channel 2 has sent nothing
			idle(0, Min, false, false),
			idle(1, Min, false, false),
			idle(2, 20, true, true),
			wm(2, 5, 20, false, true), // back behind the clock: not aligned
		}},
		{"an idle input is excluded", 3, []tstep{
			wm(0, 10, Min, false, false), wm(1, 20, Min, false, false), wm(2, 5, 5, false, true),
			idle(2, 10, false, true),
			idle(2, 10, false, false), // no news
			idle(0, 20, false, true),
			wm(1, 30, 30, false, true),
		}},
		{"idle to active: unaligned until it catches up", 2, []tstep{
			wm(0, 10, Min, false, false), wm(1, 5, 5, false, true),
			idle(1, 10, false, true),
			wm(0, 50, 50, false, true),
			active(1, 50, false, false), // at 5, behind 50: not aligned
			wm(0, 80, 80, false, true),  // so it does not hold the output back
			wm(1, 20, 80, false, false), // still behind
			wm(1, 90, 80, false, false), // caught up: aligned from now on
			wm(0, 100, 90, false, true),
			wm(0, 120, 90, false, false),
		}},
		{"a watermark makes an idle channel active", 2, []tstep{
			wm(0, 10, Min, false, false), wm(1, 10, 10, false, true),
			idle(1, 10, false, false),
			wm(0, 30, 30, false, true),
			wm(1, 5, 30, false, false), // active again at 10, behind: unaligned
			wm(0, 40, 40, false, true),
			wm(1, 40, 40, false, false), // aligned
			wm(0, 50, 40, false, false),
		}},
		{"active again ahead of the clock is aligned at once", 2, []tstep{
			wm(0, 10, Min, false, false), wm(1, 100, 10, false, true),
			idle(1, 10, false, false),
			active(1, 10, false, false),
			wm(0, 200, 100, false, true),
		}},
		{"all idle, then one active", 2, []tstep{
			wm(0, 10, Min, false, false), wm(1, 10, 10, false, true),
			idle(0, 10, false, false),
			idle(1, 10, true, true),
			idle(1, 10, true, false),
			wm(0, 5, 10, false, true), // the regression is ignored, but the channel is active again
		}},
		{"all idle, then active by a watermark", 2, []tstep{
			wm(0, 10, Min, false, false), wm(1, 10, 10, false, true),
			idle(0, 10, false, false),
			idle(1, 10, true, true),
			wm(1, 12, 12, false, true),
			active(0, 12, false, false), // at 10, behind: unaligned
			wm(1, 15, 15, false, true),
		}},
		{"all idle, then active behind", 1, []tstep{
			wm(0, 10, 10, false, true),
			idle(0, 10, true, true),
			active(0, 10, false, true),
		}},
		{"ended channels count as Max", 3, []tstep{
			wm(0, 10, Min, false, false), wm(1, 20, Min, false, false),
			end(2, 10, false, true),
			end(2, 10, false, false),   // ending twice changes nothing
			wm(2, 5, 10, false, false), // nor does a watermark after the end
			idle(2, 10, false, false),
			end(0, 20, false, true),
			end(1, Max, false, true),
		}},
		{"an idle channel's end releases the output", 2, []tstep{
			wm(0, 10, Min, false, false), wm(1, 20, 10, false, true),
			idle(0, 20, false, true),
			idle(1, 20, true, true),
			end(1, Max, false, true),
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			tr := NewTracker(c.channels)
			if tr.Current() != (Status{Min, false}) {
				t.Fatalf("initial Current = %+v", tr.Current())
			}
			for i, s := range c.steps {
				got, changed := s.apply(tr)
				if got != s.want || changed != s.changed {
					t.Fatalf("step %d (%s c%d %d): got %+v, %v; want %+v, %v", i, s.op, s.c, s.wm, got, changed, s.want, s.changed)
				}
				if tr.Current() != got {
					t.Fatalf("step %d: Current = %+v after %+v", i, tr.Current(), got)
				}
			}
		})
	}
}

// trackerOracle recomputes the tracker's output from the whole history of
// calls at every step, the slow way.
type trackerOracle struct {
	n       int
	history []tstep
}

type oracleChan struct {
	wm                   int64
	idle, aligned, ended bool
}

// replay returns the output after every call of the history, and each
// channel's state after the last.
func (o *trackerOracle) replay() ([]Status, []oracleChan) {
	chans := make([]oracleChan, o.n)
	for i := range chans {
		chans[i] = oracleChan{wm: Min, aligned: true}
	}
	out := Status{Watermark: Min}
	var outs []Status
	for _, s := range o.history {
		ch := &chans[s.c]
		if !ch.ended {
			switch s.op {
			case "wm":
				if ch.idle {
					ch.idle = false
					ch.aligned = ch.wm >= out.Watermark
				}
				if s.wm > ch.wm {
					ch.wm = s.wm
				}
				if ch.wm >= out.Watermark {
					ch.aligned = true
				}
			case "idle":
				ch.idle, ch.aligned = true, false
			case "active":
				if ch.idle {
					ch.idle = false
					ch.aligned = ch.wm >= out.Watermark
				}
			case "end":
				*ch = oracleChan{wm: Max, aligned: true, ended: true}
			}
		}
		anyActive, m, anyAligned := false, Max, false
		for _, c := range chans {
			if c.idle {
				continue
			}
			anyActive = true
			if c.aligned {
				anyAligned = true
				m = min(m, c.wm)
			}
		}
		out.Idle = !anyActive
		if anyAligned && m > out.Watermark {
			out.Watermark = m
		}
		if !anyActive { // every channel idle: up to the largest channel watermark
			for _, c := range chans {
				out.Watermark = max(out.Watermark, c.wm)
			}
		}
		outs = append(outs, out)
	}
	return outs, chans
}

// TestTrackerProperties drives trackers with random calls and compares them
// with the oracle after each: the same status and change, an output that
// never goes backwards, and that, whenever its watermark changes, is the
// minimum over the active aligned channels.
func TestTrackerProperties(t *testing.T) {
	ops := []string{"wm", "wm", "wm", "wm", "idle", "active", "end"}
	for seed := range uint64(500) {
		rng := rand.New(rand.NewPCG(seed, 7))
		n := 1 + rng.IntN(5)
		tr := NewTracker(n)
		o := &trackerOracle{n: n}
		last := tr.Current()
		for i := range 200 {
			s := tstep{op: ops[rng.IntN(len(ops))], c: rng.IntN(n), wm: int64(rng.IntN(1000)) - 100}
			if s.op == "end" && rng.IntN(8) != 0 {
				s.op = "wm" // ends are rare, or everything ends early
			}
			got, changed := s.apply(tr)
			o.history = append(o.history, s)
			outs, chans := o.replay()
			want := outs[len(outs)-1]
			ctx := fmt.Sprintf("seed %d step %d (%s c%d %d)", seed, i, s.op, s.c, s.wm)
			if got != want {
				t.Fatalf("%s: got %+v, oracle %+v", ctx, got, want)
			}
			if changed != (got != last) {
				t.Fatalf("%s: changed=%v but %+v -> %+v", ctx, changed, last, got)
			}
			if got.Watermark < last.Watermark {
				t.Fatalf("%s: went backwards from %d to %d", ctx, last.Watermark, got.Watermark)
			}
			if got.Watermark != last.Watermark {
				// A rise is the minimum over the active aligned channels, or, once
				// every channel is idle, the largest channel watermark.
				m, largest := Max, Min
				for _, c := range chans {
					largest = max(largest, c.wm)
					if !c.idle && c.aligned {
						m = min(m, c.wm)
					}
				}
				if got.Idle {
					m = largest
				}
				if got.Watermark != m {
					t.Fatalf("%s: changed to %d, want %d (min over active aligned channels, or the largest when all are idle)", ctx, got.Watermark, m)
				}
			}
			last = got
		}
	}
}

// TestGeneratorProperties compares a generator with a brute-force oracle that
// recomputes, at each Tick, every reader's watermark and idleness from the full
// list of observations: the output watermark is the largest, over all Ticks so
// far, of the minimum over the readers active at that Tick.
func TestGeneratorProperties(t *testing.T) {
	type observation struct {
		r   int
		ts  int64
		now int
	}
	for seed := range uint64(500) {
		rng := rand.New(rand.NewPCG(seed, 11))
		n := rng.IntN(4)
		bound := int64(rng.IntN(3)) * 50
		idleMS := rng.IntN(3) * 300
		s := Strategy{MaxOutOfOrderness: time.Duration(bound) * time.Millisecond, IdleTimeout: time.Duration(idleMS) * time.Millisecond}
		g := NewGenerator(n, s, t0)
		var obsv []observation
		best := Min
		last := g.Current()
		now := 0
		for i := range 200 {
			now += rng.IntN(150)
			if n > 0 && rng.IntN(3) != 0 {
				o := observation{r: rng.IntN(n), ts: int64(rng.IntN(2000)), now: now}
				obsv = append(obsv, o)
				g.Observe(o.r, o.ts, at(o.now))
				continue
			}
			got, changed := g.Tick(at(now))
			active, m := 0, Max
			for r := range n {
				maxTS, lastSeen := Min, 0
				for _, o := range obsv {
					if o.r == r {
						maxTS, lastSeen = max(maxTS, o.ts), o.now
					}
				}
				if idleMS > 0 && now-lastSeen >= idleMS {
					continue
				}
				active++
				w := Min
				if maxTS != Min {
					w = maxTS - bound - 1
				}
				m = min(m, w)
			}
			if active > 0 {
				best = max(best, m)
			}
			want := Status{Watermark: best, Idle: active == 0}
			ctx := fmt.Sprintf("seed %d step %d (readers %d, %+v)", seed, i, n, s)
			if got != want {
				t.Fatalf("%s: Tick = %+v, oracle %+v", ctx, got, want)
			}
			if changed != (got != last) {
				t.Fatalf("%s: changed=%v but %+v -> %+v", ctx, changed, last, got)
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
