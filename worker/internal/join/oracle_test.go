package join

import (
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// The oracles are brute-force models of the joins' semantics (doc.go): they
// keep every accepted element and compute pairs and outer rows from scratch,
// with none of the operator's caches, buckets, timers or encodings.

type oelem struct {
	rec
	side    int
	matched bool
	removed bool
	ends    []int64 // window join: the windows it joined
}

type intervalOracle struct {
	cfg   IntervalConfig
	wm    int64
	elems []*oelem
	late  int
	out   []string
}

func (o *intervalOracle) removal(e *oelem) int64 {
	if e.side == 0 {
		return e.ts + o.cfg.Upper + 1
	}
	return e.ts - o.cfg.Lower + 1
}

func (o *intervalOracle) outer(e *oelem) {
	if !e.matched && o.cfg.Kind.outer(uint8(e.side)) {
		o.out = append(o.out, row(e.key, e.ts, pairPayload(e.payload, e.payload, e.side == 0, e.side == 1)))
	}
}

func (o *intervalOracle) add(side int, recs []rec) {
	for _, r := range recs {
		if r.ts < o.wm {
			o.late++
			continue
		}
		n := &oelem{rec: r, side: side}
		for _, e := range o.elems {
			if e.key != r.key || e.side == side {
				continue
			}
			a, b := e, n
			if side == 0 {
				a, b = n, e
			}
			if b.ts >= a.ts+o.cfg.Lower && b.ts <= a.ts+o.cfg.Upper {
				if e.removed {
					panic("oracle: a removed element matches")
				}
				o.out = append(o.out, row(r.key, max(a.ts, b.ts), pairPayload(a.payload, b.payload, true, true)))
				a.matched, b.matched = true, true
			}
		}
		if o.removal(n) <= o.wm {
			n.removed = true
			o.outer(n)
		}
		o.elems = append(o.elems, n)
	}
}

func (o *intervalOracle) advance(wm int64) {
	if wm <= o.wm {
		return
	}
	o.wm = wm
	for _, e := range o.elems {
		if t := o.removal(e); !e.removed && roundUp(t, o.cfg.CleanupBucket) <= wm {
			e.removed = true
			o.outer(e)
		}
	}
}

func roundUp(t, m int64) int64 { return ceilDiv(t, m) * m }

type windowOracle struct {
	cfg      WindowConfig
	wm       int64
	elems    []*oelem
	sessions map[string][]*osession
	late     int
	out      []string
}

type osession struct {
	start, end int64
	elems      []*oelem
}

// windowsOf lists the ends of the windows holding ts.
func (o *windowOracle) windowsOf(ts int64) []int64 {
	var ends []int64
	for s := floorDiv(ts, o.cfg.Slide) * o.cfg.Slide; s > ts-o.cfg.Size; s -= o.cfg.Slide {
		ends = append(ends, s+o.cfg.Size)
	}
	return ends
}

func (o *windowOracle) add(side int, recs []rec) {
	for _, r := range recs {
		n := &oelem{rec: r, side: side}
		if o.cfg.Kind == Session {
			m := &osession{start: r.ts, end: r.ts + o.cfg.Gap, elems: []*oelem{n}}
			var keep []*osession
			for _, s := range o.sessions[r.key] {
				if s.start <= m.end && s.end >= m.start {
					m.start, m.end = min(m.start, s.start), max(m.end, s.end)
					m.elems = append(m.elems, s.elems...)
					continue
				}
				keep = append(keep, s)
			}
			if m.end-1 <= o.wm {
				o.late++
				continue
			}
			o.sessions[r.key] = append(keep, m)
			continue
		}
		for _, e := range o.windowsOf(r.ts) {
			if e-1 > o.wm {
				n.ends = append(n.ends, e)
			}
		}
		if len(n.ends) == 0 {
			o.late++
			continue
		}
		o.elems = append(o.elems, n)
	}
}

func (o *windowOracle) pairs(key string, ts int64, elems []*oelem) {
	for _, l := range elems {
		for _, r := range elems {
			if l.side == 0 && r.side == 1 {
				o.out = append(o.out, row(key, ts, pairPayload(l.payload, r.payload, true, true)))
			}
		}
	}
}

func (o *windowOracle) advance(wm int64) {
	if wm <= o.wm {
		return
	}
	prev := o.wm
	o.wm = wm
	if o.cfg.Kind == Session {
		for k, ss := range o.sessions {
			o.sessions[k] = slices.DeleteFunc(ss, func(s *osession) bool {
				if s.end-1 <= wm {
					o.pairs(k, s.end-1, s.elems)
					return true
				}
				return false
			})
		}
		return
	}
	type kw struct {
		key string
		end int64
	}
	fire := map[kw][]*oelem{}
	for _, e := range o.elems {
		for _, end := range e.ends {
			if end-1 > prev && end-1 <= wm {
				fire[kw{e.key, end}] = append(fire[kw{e.key, end}], e)
			}
		}
	}
	for w, elems := range fire {
		o.pairs(w.key, w.end-1, elems)
	}
}

// oracleSeeds is the number of random scenarios per shape: restores are slow
// under the race detector, so CI runs a few; -oracle.seeds=100 runs more.
var oracleSeeds = flag.Int("oracle.seeds", 2, "random oracle scenarios per join shape")

// step is one move of a random scenario.
type step struct {
	side    int
	recs    []rec
	wm      int64
	restore bool
}

func (s step) String() string {
	switch {
	case s.restore:
		return "restore"
	case s.recs == nil:
		return fmt.Sprint("wm ", s.wm)
	}
	return fmt.Sprint(s.side, s.recs)
}

// scenario generates random batches of both inputs over a few keys with
// timestamps up to disorder behind the stream's progress, watermarks and
// restores; with late set, watermarks overtake the stream's disorder.
func scenario(seed uint64, n int, disorder int64, late bool) []step {
	rng := rand.New(rand.NewPCG(seed, 7))
	var steps []step
	now := int64(rng.IntN(40)) - 20
	id := 0
	for range n {
		switch x := rng.IntN(40); {
		case x < 24:
			s := step{side: rng.IntN(2)}
			for range 1 + rng.IntN(4) {
				now += int64(rng.IntN(3))
				id++
				p := fmt.Sprintf("p%d", id)
				if id%2 == 0 {
					p = fmt.Sprintf(`{"id":%d}`, id)
				}
				s.recs = append(s.recs, rec{key: fmt.Sprintf("k%d", rng.IntN(4)), ts: now - rng.Int64N(disorder+1), payload: p})
			}
			steps = append(steps, s)
		case x < 39:
			w := now - disorder
			if late {
				w = now - rng.Int64N(disorder+1)
			}
			steps = append(steps, step{wm: w})
		default:
			steps = append(steps, step{restore: true})
		}
	}
	return steps
}

type model interface {
	add(side int, recs []rec)
	advance(wm int64)
}

// run drives h and the oracle m through the steps, comparing the multisets of
// their results after every step, then ends time and checks that no state is
// left.
func run(t *testing.T, h *harness, m model, out *[]string, lateCount *int, steps []step) {
	t.Helper()
	keys := map[string]bool{}
	for i, s := range steps {
		switch {
		case s.restore:
			h.restore()
		case s.recs == nil:
			h.advance(s.wm)
			m.advance(s.wm)
		default:
			h.send(s.side, s.recs...)
			m.add(s.side, s.recs)
			for _, r := range s.recs {
				keys[r.key] = true
			}
		}
		if got, want := sorted(h.out), sorted(*out); !slices.Equal(got, want) {
			t.Fatalf("step %d:\n got %q\nwant %q\nsteps: %v", i, got, want, steps[max(0, i-10):i+1])
		}
	}
	h.advance(math.MaxInt64)
	m.advance(math.MaxInt64)
	if got, want := sorted(h.out), sorted(*out); !slices.Equal(got, want) {
		t.Fatalf("at the end of time:\n got %q\nwant %q", got, want)
	}
	if got := h.late + h.op.Stats().Late.Load(); got != uint64(*lateCount) {
		t.Fatalf("Late = %d, oracle %d", got, *lateCount)
	}
	for k := range keys {
		if h.stored(k) {
			t.Fatalf("state of %s left at the end of time", k)
		}
	}
	if n := h.timers(); n != 0 {
		t.Fatalf("%d timers left at the end of time", n)
	}
	if len(h.op.cache) != 0 {
		t.Fatalf("%d keys left in the cache", len(h.op.cache))
	}
}

func TestIntervalAgainstOracle(t *testing.T) {
	shapes := []IntervalConfig{
		{Lower: -5, Upper: 5, Kind: Inner},
		{Lower: 0, Upper: 0, Kind: LeftOuter},
		{Lower: 2, Upper: 8, Kind: RightOuter, CleanupBucket: 1},
		{Lower: -8, Upper: -3, Kind: FullOuter},
		{Lower: -3, Upper: 0, Kind: FullOuter, CleanupBucket: 7},
		{Lower: -20, Upper: 1, Kind: LeftOuter, CacheKeys: 1},
	}
	for _, cfg := range shapes {
		for _, late := range []bool{false, true} {
			for seed := range uint64(*oracleSeeds) {
				name := fmt.Sprintf("%d..%d-kind%d-bucket%d-cache%d-late%v-seed%d", cfg.Lower, cfg.Upper, cfg.Kind, cfg.CleanupBucket, cfg.CacheKeys, late, seed)
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					h := intervalHarness(t, cfg)
					o := &intervalOracle{cfg: h.op.interval, wm: math.MinInt64}
					run(t, h, o, &o.out, &o.late, scenario(seed, 250, 12, late))
				})
			}
		}
	}
}

func TestWindowAgainstOracle(t *testing.T) {
	shapes := []WindowConfig{
		{Kind: Tumbling, Size: 10},
		{Kind: Sliding, Size: 10, Slide: 3},
		{Kind: Sliding, Size: 12, Slide: 4, CacheKeys: 1},
		{Kind: Session, Gap: 4},
		{Kind: Session, Gap: 2, CacheKeys: 1},
	}
	for _, cfg := range shapes {
		for _, late := range []bool{false, true} {
			for seed := range uint64(*oracleSeeds) {
				name := fmt.Sprintf("kind%d-%d-%d-%d-cache%d-late%v-seed%d", cfg.Kind, cfg.Size, cfg.Slide, cfg.Gap, cfg.CacheKeys, late, seed)
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					h := windowHarness(t, cfg)
					o := &windowOracle{cfg: h.op.window, wm: math.MinInt64, sessions: map[string][]*osession{}}
					run(t, h, o, &o.out, &o.late, scenario(seed, 250, 12, late))
				})
			}
		}
	}
}
