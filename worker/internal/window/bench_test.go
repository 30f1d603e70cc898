package window

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/weir-streams/weir/internal/record"
	"github.com/weir-streams/weir/wasmhost"
	"github.com/weir-streams/weir/worker/internal/state"
)

// cpuTime is the process's user plus system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkSlidingWindowCount feeds a keyed sliding count (size 10 s, slide 2 s,
// 10,000 keys) from an in-process generator through the operator with Pebble
// state on disk: batches of 1,024 JSON records, event time advancing 20 µs per
// record (10 records per key and pane), a watermark 1 s behind after every
// batch, and a checkpoint (flush, snapshot, upload) every 10 s of wall time.
// It reports events per second and per CPU-second (the process's, uploads
// included).
func BenchmarkSlidingWindowCount(b *testing.B) {
	benchWindow(b, Config{Kind: Sliding, Size: 10_000, Slide: 2_000}, "count", "")
}

// BenchmarkTumblingWindowSum is the same feed into a 10 s tumbling sum of a JSON
// field, with the built-in aggregate (builtin) and with the Go example's
// sum_price aggregate function in Wasm (wasm), in the same run: their ratio is
// what a user aggregate costs.
func BenchmarkTumblingWindowSum(b *testing.B) {
	b.Run("builtin", func(b *testing.B) {
		benchWindow(b, Config{Kind: Tumbling, Size: 10_000}, "sum", "price")
	})
	b.Run("wasm", func(b *testing.B) {
		benchWindow(b, Config{Kind: Tumbling, Size: 10_000, Functions: &Functions{Aggregate: wasmFunction(b, "sum_price")}}, "", "")
	})
}

// BenchmarkCountWindow is the same feed into a tumbling count window of 50
// records per key with the built-in count (count), and, in the same run, into
// the 10 s tumbling time window of the same count, which also holds 50 records
// per key (time): count reports its events/cpu-s as a ratio to time's
// (ratio-to-time).
func BenchmarkCountWindow(b *testing.B) {
	var timeRate float64
	b.Run("time", func(b *testing.B) {
		timeRate = benchWindow(b, Config{Kind: Tumbling, Size: 10_000}, "count", "")
	})
	b.Run("count", func(b *testing.B) {
		rate := benchWindow(b, Config{Kind: TumblingCount, Size: 50}, "count", "")
		if timeRate > 0 {
			b.ReportMetric(rate/timeRate, "ratio-to-time")
		}
	})
}

// wasmFunction instantiates function fn of the Go windows example, built by
// `make examples` into build/wasm (or WEIR_TEST_WASM_DIR).
func wasmFunction(b *testing.B, fn string) *wasmhost.Instance {
	dir := os.Getenv("WEIR_TEST_WASM_DIR")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "build", "wasm")
	}
	bin, err := os.ReadFile(filepath.Join(dir, "windows.wasm"))
	if err != nil {
		b.Fatalf("%v: build the example modules first (make examples)", err)
	}
	ctx := context.Background()
	rt, err := wasmhost.NewRuntime(ctx, wasmhost.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { rt.Close(ctx) })
	m, err := rt.Load(ctx, "windows", bin)
	if err != nil {
		b.Fatal(err)
	}
	inst, err := m.Instantiate(ctx, fn, wasmhost.Limits{}, nil)
	if err != nil {
		b.Fatal(err)
	}
	if err := inst.Open(ctx, nil); err != nil {
		b.Fatal(err)
	}
	return inst
}

// appendBid appends the generator's JSON record without fmt, which would
// allocate: allocs/op are the operator's.
func appendBid(dst []byte, auction, bidder, price int, ts int64) []byte {
	dst = append(dst, `{"auction":`...)
	dst = strconv.AppendInt(dst, int64(auction), 10)
	dst = append(dst, `,"bidder":`...)
	dst = strconv.AppendInt(dst, int64(bidder), 10)
	dst = append(dst, `,"price":`...)
	dst = strconv.AppendInt(dst, int64(price), 10)
	dst = append(dst, `,"ts":`...)
	dst = strconv.AppendInt(dst, ts, 10)
	return append(dst, '}')
}

// benchWindow runs the feed and returns its events per CPU-second.
func benchWindow(b *testing.B, cfg Config, agg, field string) float64 {
	const keys, batch = 10_000, 1024
	be, err := state.Open(state.Options{Dir: b.TempDir(), MaxParallelism: 128, KeyGroups: state.Range{First: 0, Last: 127}})
	if err != nil {
		b.Fatal(err)
	}
	defer be.Close()
	cfg.Operator, cfg.MaxParallelism, cfg.Keyed = "win", 128, true
	if agg != "" {
		if cfg.Aggregate, err = Builtin(agg, field); err != nil {
			b.Fatal(err)
		}
	}
	op, err := New(cfg, be)
	if err != nil {
		b.Fatal(err)
	}
	keyBytes := make([][]byte, keys)
	for k := range keyBytes {
		keyBytes[k] = fmt.Appendf(nil, `"bidder-%d"`, k)
	}
	store := state.NewMemStore()
	var uploads sync.WaitGroup
	var ckpt uint64
	lastCkpt := time.Now()
	var in record.Batch
	payload := make([]byte, 0, 128)
	results := 0
	b.ReportAllocs()
	b.ResetTimer()
	cpu0, wall0 := cpuTime(), time.Now()
	for i := 0; i < b.N; {
		in.Reset()
		for j := 0; j < batch && i < b.N; j, i = j+1, i+1 {
			ts := int64(i) / 50
			payload = appendBid(payload[:0], i%977, i%keys, 100+i%900, ts)
			in.Append(&record.View{Flags: record.FlagKey | record.FlagTimestamp | record.FlagPayload, Key: keyBytes[i%keys], Timestamp: ts, Payload: payload})
		}
		fired, err := op.Process(context.Background(), &in)
		if err != nil {
			b.Fatal(err)
		}
		results += fired.Len()
		out, err := op.Advance(context.Background(), int64(i)/50-1000)
		if err != nil {
			b.Fatal(err)
		}
		results += out.Len()
		if err := be.Commit(); err != nil {
			b.Fatal(err)
		}
		if time.Since(lastCkpt) >= 10*time.Second {
			lastCkpt = time.Now()
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
	uploads.Wait()
	cpu, wall := cpuTime()-cpu0, time.Since(wall0)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/cpu.Seconds(), "events/cpu-s")
	b.ReportMetric(float64(b.N)/wall.Seconds(), "events/s")
	b.ReportMetric(float64(ckpt), "checkpoints")
	b.ReportMetric(float64(results), "results")
	return float64(b.N) / cpu.Seconds()
}
