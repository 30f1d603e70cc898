package window

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/weir-streams/weir/internal/record"
	"github.com/weir-streams/weir/worker/internal/state"
)

// result is one emitted window result, decoded.
type result struct {
	Key   string
	Start int64
	End   int64
	Count int64
}

func (r result) String() string { return fmt.Sprintf("%s[%d,%d)=%d", r.Key, r.Start, r.End, r.Count) }

type harness struct {
	t    testing.TB
	b    *state.Backend
	cfg  Config
	op   *Operator
	out  []result
	late []string
	// raw collects results as formatRaw strings into rawOut instead (the
	// trigger path's scenarios).
	raw    bool
	rawOut []string
}

func newHarness(t testing.TB, cfg Config) *harness {
	t.Helper()
	b, err := state.Open(state.Options{Dir: "/state", FS: vfs.NewMem(), MaxParallelism: 128, KeyGroups: state.Range{First: 0, Last: 127}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	cfg.Operator, cfg.MaxParallelism = "win", 128
	if cfg.Aggregate == nil {
		cfg.Aggregate = countAgg{}
	}
	h := &harness{t: t, b: b, cfg: cfg}
	h.restart()
	return h
}

// restart writes the operator's cache to the backend and replaces the operator
// by a new one over the same backend, as a restore from a checkpoint taken now
// would; the new operator's clock is then moved to where the old one was.
func (h *harness) restart() {
	h.t.Helper()
	clock, other := int64(math.MinInt64), int64(math.MinInt64)
	if h.op != nil {
		if err := h.op.Flush(); err != nil {
			h.t.Fatal(err)
		}
		if err := h.b.Commit(); err != nil {
			h.t.Fatal(err)
		}
		clock = h.op.Clock()
		other = h.op.ClockIn(1 - h.op.domain)
	}
	op, err := New(h.cfg, h.b)
	if err != nil {
		h.t.Fatal(err)
	}
	h.op = op
	if clock != math.MinInt64 {
		h.collect(h.op.Advance(context.Background(), clock))
	}
	if other != math.MinInt64 {
		h.collect(h.op.AdvanceDomain(context.Background(), 1-h.op.domain, other))
	}
}

func (h *harness) collect(b *record.Batch, err error) {
	h.t.Helper()
	if err != nil {
		h.t.Fatal(err)
	}
	r := b.Reader()
	var v record.View
	for r.Next(&v) {
		if h.raw {
			h.rawOut = append(h.rawOut, formatRaw(h.t, h.cfg.Aggregate.Name(), &v))
			continue
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(v.Payload, &m); err != nil {
			h.t.Fatalf("result %q: %v", v.Payload, err)
		}
		var res result
		res.Key = string(m["key"])
		_ = json.Unmarshal(m["window_start"], &res.Start)
		_ = json.Unmarshal(m["window_end"], &res.End)
		_ = json.Unmarshal(m[h.cfg.Aggregate.Name()], &res.Count)
		if v.Timestamp != res.End-1 {
			h.t.Fatalf("result %s has timestamp %d, want %d", v.Payload, v.Timestamp, res.End-1)
		}
		if h.cfg.Keyed && string(v.Key) != res.Key {
			h.t.Fatalf("result %s keyed %q", v.Payload, v.Key)
		}
		h.out = append(h.out, res)
	}
}

type rec struct {
	key string
	ts  int64
}

// send processes one batch of records.
func (h *harness) send(recs ...rec) {
	h.t.Helper()
	var b record.Batch
	for _, r := range recs {
		k := []byte(`"` + r.key + `"`)
		b.Append(&record.View{Flags: record.FlagKey | record.FlagTimestamp | record.FlagPayload, Key: k, Timestamp: r.ts, Payload: []byte(`{"v":1}`)})
	}
	h.collect(h.op.Process(context.Background(), &b))
	lr := h.op.Late().Reader()
	var v record.View
	for lr.Next(&v) {
		h.late = append(h.late, fmt.Sprintf("%s@%d", strings.Trim(string(v.Key), `"`), v.Timestamp))
	}
}

func (h *harness) watermark(w int64) {
	h.t.Helper()
	h.collect(h.op.Advance(context.Background(), w))
}

// take returns the results so far in emission order and forgets them.
func (h *harness) take() []string {
	var s []string
	for _, r := range h.out {
		s = append(s, r.String())
	}
	h.out = nil
	return s
}

func expect(t *testing.T, step string, got []string, want ...string) {
	t.Helper()
	if !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
		t.Fatalf("%s:\n got %v\nwant %v", step, got, want)
	}
}

// The scenarios below follow the situations Flink's WindowOperatorTest covers;
// every expectation is written by hand.

func TestTumblingCount(t *testing.T) {
	h := newHarness(t, Config{Kind: Tumbling, Size: 10, Keyed: true})
	h.send(rec{"a", 3}, rec{"b", 1}, rec{"a", 12}, rec{"a", 9})
	h.watermark(8)
	expect(t, "before the end", h.take())
	h.watermark(9)
	// Timers of one time fire in key-group order: "b" hashes before "a".
	expect(t, "end-1 reached", h.take(), `"b"[0,10)=1`, `"a"[0,10)=2`)
	h.send(rec{"a", 5}) // late: lateness 0
	expect(t, "late record", h.take())
	h.watermark(100)
	expect(t, "second window", h.take(), `"a"[10,20)=1`)
	if got := h.op.Stats().Late.Load(); got != 1 {
		t.Fatalf("late count %d, want 1", got)
	}
	if h.op.timers.Len(0) != 0 || len(h.op.cache["\"a\""].wins) != 0 {
		t.Fatalf("state left after every window fired: %d timers, windows %v", h.op.timers.Len(0), h.op.cache["\"a\""].wins)
	}
}

func TestNegativeTimestamps(t *testing.T) {
	h := newHarness(t, Config{Kind: Tumbling, Size: 10, Keyed: true})
	h.send(rec{"a", -1}, rec{"a", -10}, rec{"a", -11}, rec{"a", 0})
	h.watermark(0)
	expect(t, "windows before zero", h.take(), `"a"[-20,-10)=1`, `"a"[-10,0)=2`)
}

func TestLatenessRefiresAndSideOutput(t *testing.T) {
	h := newHarness(t, Config{Kind: Tumbling, Size: 10, Keyed: true, AllowedLateness: 5, LateOutput: true})
	h.send(rec{"a", 1}, rec{"a", 2})
	h.watermark(9)
	expect(t, "on time", h.take(), `"a"[0,10)=2`)
	h.send(rec{"a", 3}, rec{"a", 4}) // within lateness: one update per batch
	expect(t, "late within lateness", h.take(), `"a"[0,10)=4`)
	h.watermark(13)
	h.send(rec{"a", 5})
	expect(t, "still within lateness", h.take(), `"a"[0,10)=5`)
	h.watermark(14) // 9 + 5: the window's state goes
	h.send(rec{"a", 6})
	expect(t, "past lateness", h.take())
	expect(t, "side output", h.late, "a@6")
}

func TestSlidingCount(t *testing.T) {
	h := newHarness(t, Config{Kind: Sliding, Size: 10, Slide: 5, Keyed: true})
	h.send(rec{"a", 1}, rec{"a", 6}, rec{"a", 11})
	h.watermark(4)
	expect(t, "window [-5,5)", h.take(), `"a"[-5,5)=1`)
	h.watermark(14)
	expect(t, "two more", h.take(), `"a"[0,10)=2`, `"a"[5,15)=2`)
	h.watermark(30)
	expect(t, "the rest", h.take(), `"a"[10,20)=1`)
}

func TestSlidingNotMultiple(t *testing.T) {
	// Size 10, slide 4: panes of 2; windows start at multiples of 4.
	h := newHarness(t, Config{Kind: Sliding, Size: 10, Slide: 4, Keyed: true})
	h.send(rec{"a", 7})
	h.watermark(100)
	expect(t, "every window holding 7", h.take(), `"a"[0,10)=1`, `"a"[4,14)=1`)
}

func TestSessionBridgeAndExactGap(t *testing.T) {
	h := newHarness(t, Config{Kind: Session, Gap: 5, Keyed: true})
	h.send(rec{"a", 0}, rec{"a", 10})
	h.send(rec{"a", 5})              // [5,10) touches [0,5) and [10,15): one session
	h.send(rec{"b", 0}, rec{"b", 5}) // exactly gap apart: one session
	h.send(rec{"c", 0}, rec{"c", 6}) // more than gap apart: two
	h.watermark(100)
	got := h.take()
	sort.Strings(got)
	expect(t, "sessions", got, `"a"[0,15)=3`, `"b"[0,10)=2`, `"c"[0,5)=1`, `"c"[6,11)=1`)
}

func TestSessionMergeUnderLateness(t *testing.T) {
	h := newHarness(t, Config{Kind: Session, Gap: 3, Keyed: true, AllowedLateness: 10})
	h.send(rec{"a", 0}, rec{"a", 8})
	h.watermark(10)
	expect(t, "both fired", h.take(), `"a"[0,3)=1`, `"a"[8,11)=1`)
	// Within lateness, 4 bridges [0,3) and... not [8,11): [4,7) touches only [0,3)?
	// No: [4,7) does not touch [0,3) (3 < 4). It makes [4,7), fired at once.
	h.send(rec{"a", 4})
	expect(t, "late session of its own", h.take(), `"a"[4,7)=1`)
	// 5 gives [5,8): touches [4,7) and [8,11): merged [4,11) already past the clock.
	h.send(rec{"a", 5})
	expect(t, "late bridge", h.take(), `"a"[4,11)=3`)
	h.send(rec{"a", 11}) // [11,14) touches [4,11): [4,14) is ahead of the clock
	expect(t, "merged ahead", h.take())
	h.watermark(13)
	expect(t, "fires at its new end", h.take(), `"a"[4,14)=4`)
	h.watermark(100)
	expect(t, "nothing more", h.take())
}

func TestNonKeyedAndBuiltins(t *testing.T) {
	for _, c := range []struct {
		agg, field string
		vals       []string
		want       string
	}{
		{"sum", "v", []string{"1", "2", "-4"}, `"sum":-1`},
		{"sum", "v", []string{"1", "2.5"}, `"sum":3.5`},
		{"sum", "v", []string{"9223372036854775807", "1"}, `"sum":9.223372036854776e+18`},
		{"sum", "v", []string{`"x"`, "null"}, `"sum":null`},
		{"min", "v", []string{"3", "-2", "7.5"}, `"min":-2`},
		{"max", "v", []string{"3", "-2", "7.5"}, `"max":7.5`},
		{"avg", "v", []string{"1", "2"}, `"avg":1.5`},
		{"avg", "v", []string{"2", "2", `"no"`}, `"avg":2.0`},
		{"count", "", []string{"1", `"no"`}, `"count":2`},
	} {
		agg, err := Builtin(c.agg, c.field)
		if err != nil {
			t.Fatal(err)
		}
		h := newHarness(t, Config{Kind: Tumbling, Size: 10, Aggregate: agg})
		var b record.Batch
		for i, v := range c.vals {
			b.Append(&record.View{Flags: record.FlagKey | record.FlagTimestamp | record.FlagPayload, Key: []byte(fmt.Sprint(i)), Timestamp: int64(i), Payload: []byte(`{"v":` + v + `}`)})
		}
		if _, err := h.op.Process(context.Background(), &b); err != nil {
			t.Fatal(err)
		}
		out, err := h.op.Advance(context.Background(), 100)
		if err != nil {
			t.Fatal(err)
		}
		var v record.View
		r := out.Reader()
		if !r.Next(&v) || v.HasKey() {
			t.Fatalf("%s: no non-keyed result", c.agg)
		}
		if want := `{"window_start":0,"window_end":10,` + c.want + `}`; string(v.Payload) != want {
			t.Fatalf("%s over %v: %s, want %s", c.agg, c.vals, v.Payload, want)
		}
	}
}

// oracle is a brute-force model of event-time windows with lateness: it keeps
// every accepted record and recomputes windows from scratch, with none of the
// operator's panes, timers, cache or state encoding.
type oracle struct {
	kind                   Kind
	size, slide, gap, late int64
	wm                     int64
	recs                   map[string][]int64 // accepted records by key (tumbling, sliding)
	sessions               map[string][]*osession
	fired                  map[string]bool // "key/end" of pane windows fired
	out                    []result
}

type osession struct {
	start, end int64
	n          int64
	fired      bool
}

func newOracle(kind Kind, size, slide, gap, late int64) *oracle {
	if kind == Tumbling {
		slide = size
	}
	return &oracle{kind: kind, size: size, slide: slide, gap: gap, late: late, wm: math.MinInt64,
		recs: map[string][]int64{}, sessions: map[string][]*osession{}, fired: map[string]bool{}}
}

// windowsOf lists the ends of the windows that hold ts: windows start at
// multiples of the slide, as Flink's sliding windows do.
func (o *oracle) windowsOf(ts int64) []int64 {
	var ends []int64
	for s := floorDiv(ts, o.slide) * o.slide; s > ts-o.size; s -= o.slide {
		ends = append(ends, s+o.size)
	}
	return ends
}

func (o *oracle) count(key string, end int64) int64 {
	var n int64
	for _, ts := range o.recs[key] {
		if ts >= end-o.size && ts < end {
			n++
		}
	}
	return n
}

// batch processes records, then emits the windows they changed that had fired.
func (o *oracle) batch(recs []rec) {
	type kw struct {
		k string
		e int64
	}
	var refire []kw
	var srefire []*osession
	for _, r := range recs {
		if o.kind == Session {
			ss := o.sessions[r.key]
			m := &osession{start: r.ts, end: r.ts + o.gap, n: 1}
			var keep []*osession
			for _, s := range ss {
				if s.start <= m.end && s.end >= m.start {
					m.start, m.end, m.n = min(m.start, s.start), max(m.end, s.end), m.n+s.n
					continue
				}
				keep = append(keep, s)
			}
			if m.end-1+o.late <= o.wm {
				continue // late: nothing changes
			}
			o.sessions[r.key] = append(keep, m)
			if m.end-1 <= o.wm {
				m.fired = true
				srefire = append(srefire, m)
			}
			continue
		}
		ends := o.windowsOf(r.ts)
		accepted := false
		for _, e := range ends {
			if e-1+o.late > o.wm {
				accepted = true
			}
		}
		if !accepted {
			continue
		}
		o.recs[r.key] = append(o.recs[r.key], r.ts)
		for _, e := range ends {
			if e-1 <= o.wm && e-1+o.late > o.wm && !slices.Contains(refire, kw{r.key, e}) {
				refire = append(refire, kw{r.key, e})
			}
		}
	}
	for _, w := range refire {
		o.out = append(o.out, result{Key: `"` + w.k + `"`, Start: w.e - o.size, End: w.e, Count: o.count(w.k, w.e)})
	}
	for k, ss := range o.sessions {
		for _, s := range ss {
			if slices.Contains(srefire, s) {
				o.out = append(o.out, result{Key: `"` + k + `"`, Start: s.start, End: s.end, Count: s.n})
			}
		}
	}
}

func (o *oracle) watermark(w int64) {
	if w <= o.wm {
		return
	}
	prev := o.wm
	o.wm = w
	if o.kind == Session {
		for k, ss := range o.sessions {
			var keep []*osession
			for _, s := range ss {
				if s.end-1 > prev && s.end-1 <= w {
					o.out = append(o.out, result{Key: `"` + k + `"`, Start: s.start, End: s.end, Count: s.n})
				}
				if s.end-1+o.late > w {
					keep = append(keep, s)
				}
			}
			o.sessions[k] = keep
		}
		return
	}
	for k, recs := range o.recs {
		ends := map[int64]bool{}
		for _, ts := range recs {
			for _, e := range o.windowsOf(ts) {
				if e-1 > prev && e-1 <= w {
					ends[e] = true
				}
			}
		}
		for e := range ends {
			o.out = append(o.out, result{Key: `"` + k + `"`, Start: e - o.size, End: e, Count: o.count(k, e)})
		}
		// Records whose every window is past its lateness can go.
		o.recs[k] = slices.DeleteFunc(recs, func(ts int64) bool {
			for _, e := range o.windowsOf(ts) {
				if e-1+o.late > w {
					return false
				}
			}
			return true
		})
	}
}

func sortedResults(rs []result) []string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = r.String()
	}
	sort.Strings(s)
	return s
}

// TestAgainstOracle drives the operator and the oracle with the same random
// out-of-order records and watermarks, restarting the operator from its state
// now and then, and compares their results after every step.
func TestAgainstOracle(t *testing.T) {
	runOracle(t, func(cfg Config) Config { return cfg }, 20)
}

// runOracle runs the oracle scenarios, with configure shaping each operator's
// configuration, over seeds random runs per shape.
func runOracle(t *testing.T, configure func(Config) Config, seeds uint64) {
	runOracleShapes(t, configure, seeds)
}

// runOracleShapes is runOracle where configure may skip a shape by returning
// the zero Config.
func runOracleShapes(t *testing.T, configure func(Config) Config, seeds uint64) {
	shapes := []struct {
		kind                   Kind
		size, slide, gap, late int64
	}{
		{Tumbling, 10, 0, 0, 0},
		{Tumbling, 10, 0, 0, 7},
		{Sliding, 10, 2, 0, 0},
		{Sliding, 12, 8, 0, 5},
		{Session, 0, 0, 4, 0},
		{Session, 0, 0, 3, 6},
	}
	for _, sh := range shapes {
		for seed := range seeds {
			t.Run(fmt.Sprintf("kind%d-%d-%d-%d-late%d-seed%d", sh.kind, sh.size, sh.slide, sh.gap, sh.late, seed), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(seed, 42))
				cfg := configure(Config{Kind: sh.kind, Size: sh.size, Slide: sh.slide, Gap: sh.gap, AllowedLateness: sh.late, Keyed: true})
				if cfg.Size == 0 && cfg.Gap == 0 {
					t.Skip("shape not configured")
				}
				h := newHarness(t, cfg)
				or := newOracle(sh.kind, sh.size, sh.slide, sh.gap, sh.late)
				now := int64(rng.IntN(20)) - 10
				wm := int64(math.MinInt64)
				var log []string // the steps so far, for a failure's message
				for step := range 300 {
					switch x := rng.IntN(10); {
					case x < 6:
						var recs []rec
						for range 1 + rng.IntN(4) {
							now += int64(rng.IntN(3))
							recs = append(recs, rec{key: string(rune('a' + rng.IntN(3))), ts: now - int64(rng.IntN(15))})
						}
						h.send(recs...)
						or.batch(recs)
						log = append(log, fmt.Sprint(recs))
					case x < 9:
						if w := now - int64(rng.IntN(8)); w > wm {
							wm = w
							h.watermark(w)
							or.watermark(w)
							log = append(log, fmt.Sprint("wm ", w))
						}
					default:
						h.restart()
						log = append(log, "restart")
					}
					got, want := sortedResults(h.out), sortedResults(or.out)
					if !slices.Equal(got, want) {
						t.Fatalf("step %d (clock %d):\n got %v\nwant %v\nlast steps: %v", step, wm, got, want, log[max(0, len(log)-8):])
					}
				}
				h.watermark(math.MaxInt64)
				or.watermark(math.MaxInt64)
				if got, want := sortedResults(h.out), sortedResults(or.out); !slices.Equal(got, want) {
					t.Fatalf("at the end:\n got %v\nwant %v", got, want)
				}
				if n := h.op.timers.Len(0); n != 0 {
					t.Fatalf("%d timers left after the end of time", n)
				}
			})
		}
	}
}

// TestProcessingTime assigns records to windows by the clock when they arrive
// and fires them as the clock passes their ends, whatever their timestamps.
func TestProcessingTime(t *testing.T) {
	now := int64(1_000)
	h := newHarness(t, Config{Kind: Tumbling, Size: 100, Keyed: true, ProcessingTime: true,
		Now: func() time.Time { return time.UnixMilli(now) }})
	h.send(rec{"a", 5}, rec{"b", 999_999})
	now = 1_050
	h.send(rec{"a", -7})
	now = 1_120
	h.send(rec{"a", 0})
	h.watermark(1_098) // processing time reached by the clock, not a watermark
	expect(t, "before the end", h.take())
	h.watermark(1_099)
	got := h.take()
	sort.Strings(got)
	expect(t, "first window", got, `"a"[1000,1100)=2`, `"b"[1000,1100)=1`)
	h.watermark(1_199)
	expect(t, "second window", h.take(), `"a"[1100,1200)=1`)
	if h.op.Stats().Late.Load() != 0 {
		t.Fatal("processing time has no late records")
	}
}

// TestSmallCache runs the oracle scenarios with a cache of two keys, so that
// keys go to the backend and come back between batches.
func TestSmallCache(t *testing.T) {
	runOracle(t, func(cfg Config) Config { cfg.CacheKeys = 2; return cfg }, 4)
}
