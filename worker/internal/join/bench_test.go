package join

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/weir-streams/weir/internal/record"
	"github.com/weir-streams/weir/worker/internal/state"
)

// cpuTime is the process's user plus system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// feed is an in-process generator of a two-input keyed stream: event i is of
// key i/2 mod keys, left when i is even and right when odd; its timestamp
// advances one ms every perMS events, up to jitter ms out of order. Events
// come in batches of 2×half: the lefts of a range of events, then its rights.
type feed struct {
	keys         [][]byte
	perMS        int64
	jitter       int64
	payload      []byte
	left, right  record.Batch
	half, issued int
}

func newFeed(keys int, perMS, jitter int64) *feed {
	f := &feed{keys: make([][]byte, keys), perMS: perMS, jitter: jitter, half: 512}
	for k := range f.keys {
		f.keys[k] = strconv.AppendInt([]byte("user-"), int64(k), 10)
	}
	return f
}

// next fills the two batches with the next n events at most; it returns the
// event time reached.
func (f *feed) next(n int) int64 {
	f.left.Reset()
	f.right.Reset()
	var ts int64
	for j := 0; j < n; j++ {
		i := int64(f.issued)
		f.issued++
		ts = i/f.perMS - (i*7919)%(f.jitter+1)
		p := append(f.payload[:0], `{"id":`...)
		p = strconv.AppendInt(p, i, 10)
		p = append(p, `,"price":`...)
		p = strconv.AppendInt(p, 100+i%900, 10)
		p = append(p, '}')
		f.payload = p
		v := record.View{Flags: record.FlagKey | record.FlagTimestamp | record.FlagPayload, Key: f.keys[(i/2)%int64(len(f.keys))], Timestamp: ts, Payload: p}
		if i%2 == 0 {
			f.left.Append(&v)
		} else {
			f.right.Append(&v)
		}
	}
	return int64(f.issued) / f.perMS
}

// BenchmarkIntervalJoin joins 100,000 live keys (an event per key and side
// every 500 ms of event time, 400 events per ms) within ±1 s, with Pebble state
// on disk: batches of 512 lefts then 512 rights, up to 100 ms out of order, a
// watermark 200 ms behind after every batch, a commit after every call and a
// checkpoint (flush, snapshot, upload) every 1,000,000 events. Each key holds
// a few live elements per side; each event matches about two. The stream is run for
// 2,000,000 events before the timer starts, so the figures are the steady
// state. It reports events per CPU-second (the process's, uploads included)
// and per second.
func BenchmarkIntervalJoin(b *testing.B) {
	// The default cleanup bucket (the interval's width) against a quarter of
	// it: removal timers are most of the cost, and finer buckets mean more of
	// them per element.
	for _, bucket := range []int64{0, 500} {
		b.Run(fmt.Sprintf("bucket=%d", bucket), func(b *testing.B) {
			cfg := IntervalConfig{Operator: "join", MaxParallelism: 128, Lower: -1000, Upper: 1000, CleanupBucket: bucket}
			benchJoin(b, newFeed(100_000, 400, 100), 200, 2_000_000, func(be *state.Backend) (*Operator, error) { return NewInterval(cfg, be) })
		})
	}
}

// BenchmarkWindowJoin is the same feed over 10,000 keys, 50 events per ms
// (an event per key and side every 400 ms), into 1 s tumbling windows and 2 s
// windows sliding by 500 ms.
func BenchmarkWindowJoin(b *testing.B) {
	for _, c := range []struct {
		name string
		cfg  WindowConfig
	}{
		{"tumbling", WindowConfig{Kind: Tumbling, Size: 1000}},
		{"sliding", WindowConfig{Kind: Sliding, Size: 2000, Slide: 500}},
		{"session", WindowConfig{Kind: Session, Gap: 300}},
	} {
		b.Run(c.name, func(b *testing.B) {
			cfg := c.cfg
			cfg.Operator, cfg.MaxParallelism = "join", 128
			benchJoin(b, newFeed(10_000, 50, 100), 200, 200_000, func(be *state.Backend) (*Operator, error) { return NewWindow(cfg, be) })
		})
	}
}

// ckptEvery is the number of events between checkpoints: counted in events,
// not wall time, so that every run pays for the same number of flushes.
const ckptEvery = 1_000_000

func benchJoin(b *testing.B, f *feed, lag int64, warmup int, mk func(*state.Backend) (*Operator, error)) {
	be, err := state.Open(state.Options{Dir: b.TempDir(), MaxParallelism: 128, KeyGroups: state.Range{First: 0, Last: 127}})
	if err != nil {
		b.Fatal(err)
	}
	defer be.Close()
	op, err := mk(be)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	store := state.NewMemStore()
	var uploads sync.WaitGroup
	var ckpt uint64
	sinceCkpt := 0
	results := 0
	step := func(n int) {
		now := f.next(n)
		for input, in := range []*record.Batch{&f.left, &f.right} {
			out, err := op.Process(ctx, input, in)
			if err != nil {
				b.Fatal(err)
			}
			results += out.Len()
			if err := be.Commit(); err != nil {
				b.Fatal(err)
			}
		}
		out, err := op.Advance(ctx, now-lag)
		if err != nil {
			b.Fatal(err)
		}
		results += out.Len()
		if err := be.Commit(); err != nil {
			b.Fatal(err)
		}
		if sinceCkpt += n; sinceCkpt >= ckptEvery {
			sinceCkpt = 0
			if err := op.Flush(); err != nil {
				b.Fatal(err)
			}
			ckpt++
			p, err := be.Snapshot(ckpt)
			if err != nil {
				b.Fatal(err)
			}
			uploads.Add(1)
			go func() {
				defer uploads.Done()
				if _, err := p.Upload(context.Background(), store, state.UploadOptions{Prefix: "bench/"}); err != nil {
					b.Error(err)
				}
			}()
		}
	}
	for done := 0; done < warmup; done += 2 * f.half {
		step(2 * f.half)
	}
	uploads.Wait()
	ckpt0 := ckpt
	results = 0
	b.ReportAllocs()
	b.ResetTimer()
	cpu0, wall0 := cpuTime(), time.Now()
	for i := 0; i < b.N; i += 2 * f.half {
		step(min(2*f.half, b.N-i))
	}
	uploads.Wait()
	cpu, wall := cpuTime()-cpu0, time.Since(wall0)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/cpu.Seconds(), "events/cpu-s")
	b.ReportMetric(float64(b.N)/wall.Seconds(), "events/s")
	b.ReportMetric(float64(ckpt-ckpt0), "checkpoints")
	b.ReportMetric(float64(results)/float64(b.N), "results/event")
	elems := 0
	for _, ks := range op.cache {
		elems += len(ks.elems)
	}
	b.ReportMetric(float64(len(op.cache)), "cached-keys")
	b.ReportMetric(float64(elems)/float64(max(1, len(op.cache))), "elements/key")
}
