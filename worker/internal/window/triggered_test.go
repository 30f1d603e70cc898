package window

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/weir-streams/weir/internal/record"
	"github.com/weir-streams/weir/worker/internal/timer"
)

// formatRaw renders a result as key[start,end)=value@timestamp, leaving out
// what the record does not have: "a"=3@5 for a count window, @- for no
// timestamp.
func formatRaw(t testing.TB, agg string, v *record.View) string {
	t.Helper()
	var m map[string]json.RawMessage
	if len(v.Payload) > 0 && v.Payload[0] != '{' {
		// A user aggregate's result, as it is.
		m = map[string]json.RawMessage{"key": v.Key, agg: v.Payload}
	} else if err := json.Unmarshal(v.Payload, &m); err != nil {
		t.Fatalf("result %q: %v", v.Payload, err)
	}
	var sb strings.Builder
	sb.Write(m["key"])
	if s, ok := m["window_start"]; ok {
		fmt.Fprintf(&sb, "[%s,%s)", s, m["window_end"])
	}
	fmt.Fprintf(&sb, "=%s@", m[agg])
	if v.HasTimestamp() {
		fmt.Fprint(&sb, v.Timestamp)
	} else {
		sb.WriteString("-")
	}
	return sb.String()
}

func newRaw(t *testing.T, cfg Config) *harness {
	t.Helper()
	h := newHarness(t, cfg)
	h.raw = true
	return h
}

func (h *harness) takeRaw() []string {
	s := h.rawOut
	h.rawOut = nil
	return s
}

// sendV processes one batch of records of key k with timestamps ts and
// payloads {"v": value}; a timestamp of math.MinInt64 means none.
func (h *harness) sendV(recs ...vrec) {
	h.t.Helper()
	var b record.Batch
	for _, r := range recs {
		v := record.View{Flags: record.FlagPayload, Payload: fmt.Appendf(nil, `{"v":%d}`, r.v)}
		if r.key != "" {
			v.Flags |= record.FlagKey
			v.Key = []byte(`"` + r.key + `"`)
		}
		if r.ts != math.MinInt64 {
			v.Flags |= record.FlagTimestamp
			v.Timestamp = r.ts
		}
		b.Append(&v)
	}
	h.collect(h.op.Process(context.Background(), &b))
}

type vrec struct {
	key string
	ts  int64
	v   int
}

func (h *harness) advanceIn(d timer.Domain, t int64) {
	h.t.Helper()
	h.collect(h.op.AdvanceDomain(context.Background(), d, t))
}

func sumAgg(t *testing.T) Aggregator {
	a, err := Builtin("sum", "v")
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestCountTumbling(t *testing.T) {
	h := newRaw(t, Config{Kind: TumblingCount, Size: 3, Keyed: true})
	h.sendV(vrec{"a", 5, 1}, vrec{"a", 9, 1}, vrec{"b", 1, 1}, vrec{"a", 7, 1}, vrec{"a", 1, 1}, vrec{"b", 2, 1})
	expect(t, "third a", h.takeRaw(), `"a"=3@9`)
	h.restart()
	h.sendV(vrec{"b", math.MinInt64, 1}, vrec{"a", 2, 1})
	expect(t, "third b after a restart", h.takeRaw(), `"b"=3@2`)
	h.sendV(vrec{"a", math.MinInt64, 1})
	expect(t, "a purged at its last fire", h.takeRaw(), `"a"=3@2`)
	h.sendV(vrec{"c", math.MinInt64, 1}, vrec{"c", math.MinInt64, 1}, vrec{"c", math.MinInt64, 1})
	expect(t, "no timestamps", h.takeRaw(), `"c"=3@-`)
	h.watermark(math.MaxInt64)
	expect(t, "count windows ignore time", h.takeRaw())
	if n := h.op.timers.Len(timer.EventTime); n != 0 {
		t.Fatalf("%d timers for count windows", n)
	}
}

func TestCountTumblingNonKeyed(t *testing.T) {
	h := newRaw(t, Config{Kind: TumblingCount, Size: 2, Aggregate: sumAgg(t)})
	h.sendV(vrec{"a", 1, 1}, vrec{"b", 2, 2}, vrec{"c", 3, 3})
	expect(t, "all keys in one window", h.takeRaw(), `=3@2`)
	h.sendV(vrec{"d", 0, 4})
	expect(t, "second", h.takeRaw(), `=7@3`)
}

func TestCountSliding(t *testing.T) {
	h := newRaw(t, Config{Kind: SlidingCount, Size: 3, Slide: 2, Keyed: true, Aggregate: sumAgg(t)})
	for i := 1; i <= 7; i++ {
		h.sendV(vrec{"a", int64(10 * i), i})
		if i == 3 {
			h.restart()
		}
	}
	// Fires every 2 records with the last 3 (the first with 2).
	expect(t, "sliding", h.takeRaw(), `"a"=3@20`, `"a"=9@40`, `"a"=15@60`)
	h.sendV(vrec{"a", 80, 8}, vrec{"a", 90, 9}, vrec{"a", 100, 10}, vrec{"a", 110, 11})
	expect(t, "two fires in one batch", h.takeRaw(), `"a"=21@80`, `"a"=27@100`)
}

func TestGlobalWindows(t *testing.T) {
	h := newRaw(t, Config{Kind: Global, Keyed: true})
	h.sendV(vrec{"a", 1, 1}, vrec{"a", 2, 1})
	h.watermark(math.MaxInt64)
	expect(t, "never fires by default", h.takeRaw())

	h = newRaw(t, Config{Kind: Global, Keyed: true, Trigger: &Trigger{Kind: CountTrigger, N: 2}})
	h.sendV(vrec{"a", 1, 1}, vrec{"a", 5, 1}, vrec{"a", 3, 1})
	expect(t, "count 2", h.takeRaw(), `"a"=2@5`)
	h.restart()
	h.sendV(vrec{"a", 2, 1})
	expect(t, "not purged: contents stay", h.takeRaw(), `"a"=4@5`)
}

func TestEventTimeTriggerPurging(t *testing.T) {
	h := newRaw(t, Config{Kind: Tumbling, Size: 10, Keyed: true, AllowedLateness: 5,
		Trigger: &Trigger{Kind: EventTimeTrigger, Purging: true}})
	h.sendV(vrec{"a", 1, 1}, vrec{"a", 2, 1}, vrec{"a", 12, 1})
	h.watermark(9)
	expect(t, "fires at end-1", h.takeRaw(), `"a"[0,10)=2@9`)
	h.sendV(vrec{"a", 3, 1}, vrec{"a", 4, 1})
	expect(t, "each late record fires the purged window", h.takeRaw(), `"a"[0,10)=1@9`, `"a"[0,10)=1@9`)
	h.watermark(14)
	h.sendV(vrec{"a", 5, 1})
	expect(t, "past the lateness", h.takeRaw())
	if h.op.Stats().Late.Load() != 1 {
		t.Fatal("late record not counted")
	}
	h.watermark(100)
	expect(t, "second window", h.takeRaw(), `"a"[10,20)=1@19`)
	if n := h.op.timers.Len(timer.EventTime); n != 0 || len(h.op.cache[`"a"`].wins) != 0 {
		t.Fatalf("%d timers and %d windows left", n, len(h.op.cache[`"a"`].wins))
	}
}

func TestProcessingTimeTriggerOnEventTimeWindows(t *testing.T) {
	h := newRaw(t, Config{Kind: Tumbling, Size: 10, Keyed: true, Trigger: &Trigger{Kind: ProcessingTimeTrigger}})
	h.sendV(vrec{"a", 1, 1}, vrec{"a", 2, 1})
	h.watermark(50)
	expect(t, "the watermark does not fire it, and cleans it up", h.takeRaw())
	h.sendV(vrec{"a", 61, 1})
	h.advanceIn(timer.ProcessingTime, 68)
	expect(t, "before end-1", h.takeRaw())
	h.advanceIn(timer.ProcessingTime, 69)
	expect(t, "processing time reaches end-1", h.takeRaw(), `"a"[60,70)=1@69`)
}

func TestProcessingTimeWindowsPurgingTrigger(t *testing.T) {
	now := int64(1_000)
	h := newRaw(t, Config{Kind: Tumbling, Size: 100, Keyed: true, ProcessingTime: true,
		Trigger: &Trigger{Kind: ProcessingTimeTrigger, Purging: true}, Evictor: &Evictor{Kind: CountEvictor, N: 1}, Aggregate: sumAgg(t),
		Now: func() time.Time { return time.UnixMilli(now) }})
	h.sendV(vrec{"a", 5, 1}, vrec{"a", 6, 2})
	now = 1_150
	h.sendV(vrec{"a", 7, 3})
	h.watermark(1_099)
	expect(t, "first window, last element", h.takeRaw(), `"a"[1000,1100)=2@1099`)
	h.watermark(1_199)
	expect(t, "second", h.takeRaw(), `"a"[1100,1200)=3@1199`)
}

func TestCountTriggerOnTimeWindow(t *testing.T) {
	for _, purging := range []bool{false, true} {
		h := newRaw(t, Config{Kind: Tumbling, Size: 10, Keyed: true, Trigger: &Trigger{Kind: CountTrigger, N: 2, Purging: purging}})
		h.sendV(vrec{"a", 1, 1}, vrec{"a", 2, 1}, vrec{"a", 3, 1})
		h.restart()
		h.sendV(vrec{"a", 4, 1}, vrec{"a", 5, 1})
		h.watermark(9)
		if purging {
			expect(t, "purging", h.takeRaw(), `"a"[0,10)=2@9`, `"a"[0,10)=2@9`)
		} else {
			expect(t, "accumulating", h.takeRaw(), `"a"[0,10)=2@9`, `"a"[0,10)=4@9`)
		}
		if n := h.op.timers.Len(timer.EventTime); n != 0 || len(h.op.cache[`"a"`].wins) != 0 {
			t.Fatalf("purging %v: %d timers and %d windows left after the cleanup", purging, n, len(h.op.cache[`"a"`].wins))
		}
	}
}

func TestContinuousEventTimeTrigger(t *testing.T) {
	for _, purging := range []bool{false, true} {
		h := newRaw(t, Config{Kind: Tumbling, Size: 10, Keyed: true, Trigger: &Trigger{Kind: ContinuousEventTimeTrigger, Interval: 4, Purging: purging}})
		h.sendV(vrec{"a", 1, 1})
		h.watermark(3)
		expect(t, "before the first multiple", h.takeRaw())
		h.watermark(4)
		expect(t, "at 4", h.takeRaw(), `"a"[0,10)=1@9`)
		h.sendV(vrec{"a", 5, 1})
		h.restart()
		h.watermark(8)
		h.watermark(9)
		if purging {
			expect(t, "purging", h.takeRaw(), `"a"[0,10)=1@9`)
		} else {
			expect(t, "at 8 and at the end", h.takeRaw(), `"a"[0,10)=2@9`, `"a"[0,10)=2@9`)
		}
		h.watermark(100)
		expect(t, "nothing after the end", h.takeRaw())
		if n := h.op.timers.Len(timer.EventTime); n != 0 {
			t.Fatalf("%d timers left", n)
		}
	}
	// On a global window it fires as the watermark passes each multiple, once
	// per jump.
	h := newRaw(t, Config{Kind: Global, Keyed: true, Trigger: &Trigger{Kind: ContinuousEventTimeTrigger, Interval: 10}})
	h.sendV(vrec{"a", 3, 1})
	h.watermark(9)
	h.watermark(10)
	h.sendV(vrec{"a", 11, 1})
	h.watermark(55)
	h.watermark(59)
	h.watermark(60)
	expect(t, "global", h.takeRaw(), `"a"=1@3`, `"a"=2@11`, `"a"=2@11`)
}

func TestContinuousProcessingTimeTrigger(t *testing.T) {
	now := int64(1_050)
	h := newRaw(t, Config{Kind: Global, Keyed: true, Trigger: &Trigger{Kind: ContinuousProcessingTimeTrigger, Interval: 100, Purging: true},
		Now: func() time.Time { return time.UnixMilli(now) }})
	h.sendV(vrec{"a", 1, 1}, vrec{"a", 2, 1})
	h.advanceIn(timer.ProcessingTime, 1_099)
	expect(t, "before", h.takeRaw())
	h.advanceIn(timer.ProcessingTime, 1_100)
	expect(t, "at 1100", h.takeRaw(), `"a"=2@2`)
	now = 1_120
	h.sendV(vrec{"a", 3, 1})
	h.restart()
	h.advanceIn(timer.ProcessingTime, 1_450)
	expect(t, "once for a jump", h.takeRaw(), `"a"=1@3`)
	h.advanceIn(timer.ProcessingTime, 1_500)
	expect(t, "purged: nothing", h.takeRaw())
}

// fakeTrigger is a custom trigger: it fires a window once it holds Every
// elements, registers an event-time timer at the window's start + 5 on the
// first elements, and fires and purges on that timer. It records its events.
type fakeTrigger struct {
	every  uint64
	calls  int
	events []string
}

func (f *fakeTrigger) Trigger(_ context.Context, evs []TriggerEvent) ([]TriggerResult, error) {
	f.calls++
	out := make([]TriggerResult, len(evs))
	for i, e := range evs {
		f.events = append(f.events, fmt.Sprintf("%d %s %d n%d t%d", e.Kind, e.Key, e.Start, e.Count, e.Time))
		switch e.Kind {
		case ElementsAdded:
			if e.Count >= f.every {
				out[i].Action = Fire
			}
			out[i].EventTimer, out[i].HasEventTimer = e.Start+5, true
			if e.Start == math.MinInt64 {
				out[i].EventTimer = 5
			}
		case EventTimeTimer:
			out[i].Action = FireAndPurge
		}
	}
	return out, nil
}

func TestCustomTrigger(t *testing.T) {
	tr := &fakeTrigger{every: 2}
	h := newRaw(t, Config{Kind: Tumbling, Size: 10, Keyed: true, Trigger: &Trigger{Kind: CustomTrigger},
		Functions: &Functions{Trigger: tr}})
	h.sendV(vrec{"a", 1, 1}, vrec{"b", 2, 1}, vrec{"a", 3, 1}, vrec{"a", 12, 1})
	if tr.calls != 1 {
		t.Fatalf("%d trigger calls for one batch", tr.calls)
	}
	expect(t, "one event per window", tr.events, `0 "a" 0 n2 t3`, `0 "b" 0 n1 t2`, `0 "a" 10 n1 t12`)
	expect(t, "a fires on count", h.takeRaw(), `"a"[0,10)=2@9`)
	h.restart()
	h.watermark(5)
	// Timers of one time fire in key-group order: "b" hashes before "a".
	expect(t, "timer: fire and purge", h.takeRaw(), `"b"[0,10)=1@9`, `"a"[0,10)=2@9`)
	h.watermark(9)
	expect(t, "the default end-of-window fire is the trigger's to make", h.takeRaw())
	h.watermark(15)
	expect(t, "second window", h.takeRaw(), `"a"[10,20)=1@19`)
	if n := h.op.timers.Len(timer.EventTime); n != 1 {
		t.Fatalf("%d timers, want the [10,20) cleanup", n)
	}

	tr = &fakeTrigger{every: 3}
	h = newRaw(t, Config{Kind: Global, Trigger: &Trigger{Kind: CustomTrigger}, Functions: &Functions{Trigger: tr}})
	h.sendV(vrec{"a", 1, 1}, vrec{"b", 2, 1})
	h.sendV(vrec{"a", 3, 1})
	expect(t, "global, non-keyed", h.takeRaw(), `=3@3`)
	h.watermark(5)
	expect(t, "global timer", h.takeRaw(), `=3@3`)
	h.sendV(vrec{"a", 3, 1})
	// Purged; the trigger registers its timer at 5 again, at the clock: it
	// fires at the end of the batch.
	expect(t, "a timer at the clock", h.takeRaw(), `=1@3`)
	expect(t, "global events", tr.events[len(tr.events)-2:], `0  -9223372036854775808 n1 t3`, `1  -9223372036854775808 n1 t5`)
}

func TestCountEvictor(t *testing.T) {
	h := newRaw(t, Config{Kind: Tumbling, Size: 10, Keyed: true, Aggregate: sumAgg(t), Evictor: &Evictor{Kind: CountEvictor, N: 2}})
	h.sendV(vrec{"a", 1, 1}, vrec{"a", 2, 2})
	h.restart()
	h.sendV(vrec{"a", 3, 3})
	h.watermark(9)
	expect(t, "last two", h.takeRaw(), `"a"[0,10)=5@9`)
}

func TestTimeEvictor(t *testing.T) {
	h := newRaw(t, Config{Kind: Global, Keyed: true, Aggregate: sumAgg(t), Trigger: &Trigger{Kind: CountTrigger, N: 4},
		Evictor: &Evictor{Kind: TimeEvictor, Size: 3}})
	h.sendV(vrec{"a", 6, 1}, vrec{"a", 1, 2}, vrec{"a", math.MinInt64, 4}, vrec{"a", 4, 8})
	expect(t, "ts > 6-3, or none", h.takeRaw(), `"a"=13@6`)
	h.sendV(vrec{"a", 20, 16}, vrec{"a", 7, 32}, vrec{"a", 8, 64}, vrec{"a", 9, 128})
	// Contents 6, none, 4, 20, 7, 8, 9: the evictor keeps ts > 17 and none.
	expect(t, "evicted elements left the window", h.takeRaw(), `"a"=20@20`)
}

// fakeEvictor evicts the elements at even indexes.
type fakeEvictor struct {
	calls int
	seen  []int
}

func (f *fakeEvictor) Evict(_ context.Context, ws []EvictWindow) ([][]uint32, error) {
	f.calls++
	out := make([][]uint32, len(ws))
	for i, w := range ws {
		f.seen = append(f.seen, w.N)
		for k := 0; k < w.N; k += 2 {
			out[i] = append(out[i], uint32(k))
		}
	}
	return out, nil
}

func TestCustomEvictor(t *testing.T) {
	ev := &fakeEvictor{}
	h := newRaw(t, Config{Kind: Global, Keyed: true, Aggregate: sumAgg(t), Trigger: &Trigger{Kind: CountTrigger, N: 3},
		Evictor: &Evictor{Kind: CustomEvictor}, Functions: &Functions{Evictor: ev}})
	h.sendV(vrec{"a", 1, 1}, vrec{"a", 2, 2}, vrec{"a", 3, 4}, vrec{"b", 1, 1}, vrec{"b", 2, 2}, vrec{"b", 3, 4})
	if ev.calls != 1 {
		t.Fatalf("%d evict calls for windows firing once", ev.calls)
	}
	expect(t, "odd indexes kept", h.takeRaw(), `"a"=2@2`, `"b"=2@2`)
	// The window keeps 2; the count trigger fires after 32 with [2 8 16 32],
	// keeping 8 and 32, and after 256 with [8 32 64 128 256], keeping 32 and
	// 128. A second fire of a window in one call first applies the first
	// eviction: two calls.
	h.sendV(vrec{"a", 4, 8}, vrec{"a", 5, 16}, vrec{"a", 6, 32}, vrec{"a", 7, 64}, vrec{"a", 8, 128}, vrec{"a", 9, 256})
	expect(t, "evictions persist", h.takeRaw(), `"a"=40@6`, `"a"=160@8`)
	if ev.calls != 3 || !slices.Equal(ev.seen, []int{3, 3, 4, 5}) {
		t.Fatalf("%d calls, windows of %v", ev.calls, ev.seen)
	}
}

// TestTriggerPathAgainstOracle runs the time-window oracle scenarios without
// allowed lateness through the trigger path, where they must give the same
// results: an evictor that evicts nothing (windows keep their elements), and
// a purging event-time trigger (a purged window is never fired again without
// lateness); with the built-in count, and with user functions over elements.
func TestTriggerPathAgainstOracle(t *testing.T) {
	for _, c := range []struct {
		name string
		set  func(*Config)
	}{
		{"evictor", func(c *Config) { c.Evictor = &Evictor{Kind: CountEvictor, N: math.MaxUint32} }},
		{"purging", func(c *Config) { c.Trigger = &Trigger{Kind: EventTimeTrigger, Purging: true} }},
		{"evictor+aggregate+process", func(c *Config) {
			c.Evictor = &Evictor{Kind: TimeEvictor, Size: math.MaxInt64 / 4}
			c.Functions = &Functions{Aggregate: &fakeCount{}, Process: &fakeWindow{fromAggregate: true}}
		}},
		{"evictor+process", func(c *Config) {
			c.Evictor = &Evictor{Kind: CountEvictor, N: math.MaxUint32}
			c.Functions = &Functions{Process: &fakeWindow{}}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			runOracleShapes(t, func(cfg Config) Config {
				if cfg.AllowedLateness != 0 {
					return Config{}
				}
				c.set(&cfg)
				return cfg
			}, 6)
		})
	}
}

// countOracle is the brute-force model of count windows: every key's records
// in order, and the fires recomputed from them.
type countOracle struct {
	size, slide int
	recs        map[string][]int64
	out         []string
}

func (o *countOracle) add(r vrec) {
	rs := append(o.recs[r.key], r.ts)
	o.recs[r.key] = rs
	if o.slide == 0 && len(rs)%o.size == 0 || o.slide > 0 && len(rs)%o.slide == 0 {
		last := rs[max(0, len(rs)-o.size):]
		o.out = append(o.out, fmt.Sprintf(`"%s"=%d@%d`, r.key, len(last), slices.Max(last)))
	}
}

// TestCountWindowsAgainstOracle drives tumbling and sliding count windows
// with random keys, batches and restarts, against the brute-force model.
func TestCountWindowsAgainstOracle(t *testing.T) {
	for _, sh := range []struct{ size, slide int }{{1, 0}, {3, 0}, {5, 0}, {3, 1}, {4, 2}, {2, 3}, {5, 5}} {
		for _, fns := range []bool{false, true} {
			for seed := range uint64(6) {
				t.Run(fmt.Sprintf("size%d-slide%d-fns%v-seed%d", sh.size, sh.slide, fns, seed), func(t *testing.T) {
					rng := rand.New(rand.NewPCG(seed, 7))
					cfg := Config{Kind: TumblingCount, Size: int64(sh.size), Keyed: true, CacheKeys: 2 + int(seed%3)*100}
					if sh.slide > 0 {
						cfg.Kind, cfg.Slide = SlidingCount, int64(sh.slide)
					}
					if fns {
						cfg.Functions = &Functions{Aggregate: &fakeCount{}}
					}
					h := newRaw(t, cfg)
					or := &countOracle{size: sh.size, slide: sh.slide, recs: map[string][]int64{}}
					for step := range 200 {
						if rng.IntN(8) == 0 {
							h.restart()
							continue
						}
						var recs []vrec
						for range 1 + rng.IntN(6) {
							r := vrec{key: string(rune('a' + rng.IntN(4))), ts: int64(rng.IntN(100)), v: 1}
							recs = append(recs, r)
							or.add(r)
						}
						h.sendV(recs...)
						if got := h.rawOut; !slices.Equal(got, or.out) {
							t.Fatalf("step %d:\n got %v\nwant %v", step, h.rawOut, or.out)
						}
					}
				})
			}
		}
	}
}

// TestCountWindowNoAllocs checks that records of known keys cost no
// allocation on the count window's path, firing included.
func TestCountWindowNoAllocs(t *testing.T) {
	h := newRaw(t, Config{Kind: TumblingCount, Size: 3, Keyed: true})
	var b record.Batch
	for i := range 256 {
		b.Append(&record.View{Flags: record.FlagKey | record.FlagTimestamp | record.FlagPayload,
			Key: fmt.Appendf(nil, `"k%d"`, i%16), Timestamp: int64(i), Payload: []byte(`{"v":1}`)})
	}
	ctx := context.Background()
	for range 3 {
		if _, err := h.op.Process(ctx, &b); err != nil {
			t.Fatal(err)
		}
	}
	allocs := testing.AllocsPerRun(20, func() {
		out, err := h.op.Process(ctx, &b)
		if err != nil || out.Len() == 0 {
			t.Fatal(err, out.Len())
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per batch", allocs)
	}
}

// TestCountWindowUserFunctions checks that a user aggregate over count windows
// costs one add and one result call per batch, whatever fires, and that a
// window process function sees a global window's bounds and its elements.
func TestCountWindowUserFunctions(t *testing.T) {
	agg := &fakeCount{}
	h := newRaw(t, Config{Kind: TumblingCount, Size: 2, Keyed: true, Functions: &Functions{Aggregate: agg}})
	var recs []vrec
	for i := range 20 {
		recs = append(recs, vrec{fmt.Sprint("k", i%4), int64(i), 1})
	}
	h.sendV(recs...)
	if agg.calls != 2 || len(h.rawOut) != 8 {
		t.Fatalf("%d aggregate calls for %d fires", agg.calls, len(h.rawOut))
	}
	expect(t, "first", h.takeRaw()[:2], `"k0"=2@4`, `"k1"=2@5`)

	h = newRaw(t, Config{Kind: SlidingCount, Size: 3, Slide: 2, Keyed: true, Functions: &Functions{Process: &fakeWindow{}}})
	h.sendV(vrec{"a", 1, 1}, vrec{"a", 2, 1}, vrec{"a", 3, 1}, vrec{"a", 4, 1})
	expect(t, "process", h.takeRaw(), `"a"[-9223372036854775808,9223372036854775807)=2@9223372036854775806`,
		`"a"[-9223372036854775808,9223372036854775807)=3@9223372036854775806`)
}

// TestTriggerRestarts runs random scenarios through every trigger and evictor
// twice, once straight and once restarting the operator from its state now and
// then (with both clocks moving), and requires the same results.
func TestTriggerRestarts(t *testing.T) {
	for _, c := range []struct {
		name string
		cfg  Config
	}{
		{"event-time-purging-lateness", Config{Kind: Tumbling, Size: 10, AllowedLateness: 5, Trigger: &Trigger{Kind: EventTimeTrigger, Purging: true}}},
		{"sliding-count-trigger", Config{Kind: Sliding, Size: 10, Slide: 5, AllowedLateness: 3, Trigger: &Trigger{Kind: CountTrigger, N: 3}}},
		{"continuous-event-time", Config{Kind: Tumbling, Size: 10, Trigger: &Trigger{Kind: ContinuousEventTimeTrigger, Interval: 3}}},
		{"global-continuous-time-evictor", Config{Kind: Global, Trigger: &Trigger{Kind: ContinuousEventTimeTrigger, Interval: 7},
			Evictor: &Evictor{Kind: TimeEvictor, Size: 5}}},
		{"processing-time-trigger", Config{Kind: Tumbling, Size: 10, Trigger: &Trigger{Kind: ProcessingTimeTrigger, Purging: true}}},
		{"continuous-processing-time", Config{Kind: Global, Trigger: &Trigger{Kind: ContinuousProcessingTimeTrigger, Interval: 4}}},
		{"custom-trigger-evictor", Config{Kind: Global, Trigger: &Trigger{Kind: CustomTrigger}, Evictor: &Evictor{Kind: CustomEvictor},
			Functions: &Functions{Trigger: &fakeTrigger{every: 3}, Evictor: &fakeEvictor{}}}},
		{"custom-trigger-time-window", Config{Kind: Sliding, Size: 10, Slide: 5, AllowedLateness: 4, Trigger: &Trigger{Kind: CustomTrigger},
			Evictor: &Evictor{Kind: CountEvictor, N: 2}, Functions: &Functions{Trigger: &fakeTrigger{every: 2}}}},
		{"session-count-trigger", Config{Kind: Session, Gap: 4, AllowedLateness: 6, Trigger: &Trigger{Kind: CountTrigger, N: 3}}},
		{"session-continuous-evictor", Config{Kind: Session, Gap: 3, AllowedLateness: 2, Trigger: &Trigger{Kind: ContinuousEventTimeTrigger, Interval: 5},
			Evictor: &Evictor{Kind: CountEvictor, N: 2}}},
		{"session-event-time-purging", Config{Kind: Session, Gap: 3, AllowedLateness: 5, Trigger: &Trigger{Kind: EventTimeTrigger, Purging: true}}},
		{"sliding-count-user-aggregate", Config{Kind: SlidingCount, Size: 4, Slide: 3, Functions: &Functions{Aggregate: &fakeCount{}}}},
		{"tumbling-count-process", Config{Kind: TumblingCount, Size: 3, Functions: &Functions{Process: &fakeWindow{}}}},
	} {
		for seed := range uint64(8) {
			t.Run(fmt.Sprintf("%s-%d", c.name, seed), func(t *testing.T) {
				run := func(restarts bool) []string {
					rng := rand.New(rand.NewPCG(seed, 3))
					now := int64(0)
					cfg := c.cfg
					cfg.Keyed, cfg.CacheKeys = true, 2
					cfg.Now = func() time.Time { return time.UnixMilli(now) }
					if cfg.Functions == nil || cfg.Functions.Aggregate == nil {
						cfg.Aggregate = sumAgg(t)
					}
					h := newRaw(t, cfg)
					var out []string
					step := func() {
						got := h.takeRaw()
						slices.Sort(got)
						out = append(out, strings.Join(got, " "))
					}
					et, pt := int64(-5), int64(0)
					for range 150 {
						switch x := rng.IntN(10); {
						case x < 5:
							var recs []vrec
							for range 1 + rng.IntN(4) {
								et += int64(rng.IntN(3))
								recs = append(recs, vrec{string(rune('a' + rng.IntN(3))), et - int64(rng.IntN(12)), 1 + rng.IntN(9)})
							}
							h.sendV(recs...)
						case x < 7:
							h.watermark(et - int64(rng.IntN(6)))
						case x < 9:
							pt += int64(rng.IntN(6))
							now = pt
							h.advanceIn(timer.ProcessingTime, pt)
						default:
							if restarts {
								h.restart()
							}
						}
						step()
					}
					h.watermark(math.MaxInt64)
					step()
					return out
				}
				straight, restarted := run(false), run(true)
				for i := range straight {
					if straight[i] != restarted[i] {
						t.Fatalf("step %d: straight %q, with restarts %q", i, straight[i], restarted[i])
					}
				}
			})
		}
	}
}

// TestSessionTriggerMerge checks that merging sessions merges their contents,
// their count triggers' counts and their timers (Flink's Trigger.onMerge).
func TestSessionTriggerMerge(t *testing.T) {
	h := newRaw(t, Config{Kind: Session, Gap: 5, Keyed: true, Trigger: &Trigger{Kind: CountTrigger, N: 3, Purging: true}})
	h.sendV(vrec{"a", 0, 1}, vrec{"a", 10, 1})
	h.restart()
	h.sendV(vrec{"a", 5, 1})
	expect(t, "the bridge's counts add up", h.takeRaw(), `"a"[0,15)=3@14`)
	h.watermark(100)
	expect(t, "a count trigger does not fire at the end", h.takeRaw())
	if n := h.op.timers.Len(timer.EventTime); n != 0 {
		t.Fatalf("%d timers left", n)
	}

	h = newRaw(t, Config{Kind: Session, Gap: 5, Keyed: true, Aggregate: sumAgg(t), Evictor: &Evictor{Kind: TimeEvictor, Size: 6}})
	h.sendV(vrec{"a", 0, 1}, vrec{"a", 10, 2})
	h.sendV(vrec{"a", 5, 4}, vrec{"a", 20, 8})
	h.watermark(14)
	expect(t, "event-time trigger of the merged session, evicting ts <= 10-6", h.takeRaw(), `"a"[0,15)=6@14`)
	h.watermark(100)
	expect(t, "the other session", h.takeRaw(), `"a"[20,25)=8@24`)
	if n := h.op.timers.Len(timer.EventTime); n != 0 {
		t.Fatalf("%d timers left", n)
	}
}
