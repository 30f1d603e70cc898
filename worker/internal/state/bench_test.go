package state

import (
	"context"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// benchKey writes the key of entry i into dst.
func benchKey(dst []byte, i int) []byte {
	dst = append(dst[:0], "user-"...)
	return strconv.AppendInt(dst, int64(i), 10)
}

func BenchmarkStatePut(b *testing.B) {
	be := openTest(b, testOptions(nil))
	s := register(b, be, "op", "v", Value, 0)
	key := make([]byte, 0, 32)
	val := make([]byte, 100)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		key = benchKey(key, i)
		if err := be.Put(s, i%128, key, nil, nil, val); err != nil {
			b.Fatal(err)
		}
		// The task commits once per record batch.
		if i%256 == 255 {
			if err := be.Commit(); err != nil {
				b.Fatal(err)
			}
		}
		i++
	}
}

func BenchmarkStateGet(b *testing.B) {
	// A worker's shared block cache holds this state: the benchmark measures
	// the read path, not cache misses.
	cache := pebble.NewCache(256 << 20)
	defer cache.Unref()
	opts := testOptions(nil)
	opts.Cache = cache
	be := openTest(b, opts)
	s := register(b, be, "op", "v", Value, 0)
	const n = 100_000
	key := make([]byte, 0, 32)
	val := make([]byte, 100)
	for i := range n {
		key = benchKey(key, i)
		must(b, be.Put(s, i%128, key, nil, nil, val))
		if i%1000 == 999 {
			must(b, be.Commit())
		}
	}
	must(b, be.Commit())
	// Half the data in sstables, as in a running job, and an open batch.
	must(b, be.db.Flush())
	must(b, be.Put(s, 0, []byte("in-batch"), nil, nil, val))
	dst := make([]byte, 0, 128)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		key = benchKey(key, i%n)
		var ok bool
		var err error
		dst, ok, err = be.Get(s, (i%n)%128, key, nil, nil, dst)
		if err != nil || !ok {
			b.Fatalf("Get = %v, %v", ok, err)
		}
		i += 7919 // a stride across the key space
	}
}

// benchState opens a backend on disk holding about size bytes of keyed state
// (keys of 15 bytes, values of 100).
func benchState(b *testing.B, size int) (*Backend, int) {
	b.Helper()
	opts := testOptions(vfs.Default)
	opts.Dir = b.TempDir()
	be := openTest(b, opts)
	s := register(b, be, "op", "v", Value, 0)
	n := size / 128 // key + value + key layout + value header, roughly
	key := make([]byte, 0, 32)
	val := make([]byte, 100)
	// Random values: compression must not make the state smaller than stated.
	rng := rand.NewChaCha8([32]byte{1})
	for i := range n {
		key = benchKey(key, i)
		_, _ = rng.Read(val)
		must(b, be.Put(s, i%128, key, nil, nil, val))
		if i%1000 == 999 {
			must(b, be.Commit())
		}
	}
	must(b, be.Commit())
	return be, n
}

// changeFraction overwrites frac of the n keys.
func changeFraction(b *testing.B, be *Backend, n int, frac float64, rng *rand.Rand) {
	s := register(b, be, "op", "v", Value, 0)
	key := make([]byte, 0, 32)
	val := make([]byte, 100)
	for range int(float64(n) * frac) {
		i := rng.IntN(n)
		key = benchKey(key, i)
		must(b, be.Put(s, i%128, key, nil, nil, val))
	}
	must(b, be.Commit())
}

// benchCheckpoint measures checkpoints of size bytes of state. Before each, 1%
// of the keys change. With incremental, all checkpoints go to one store (so
// only new files are uploaded); otherwise each goes to an empty store.
func benchCheckpoint(b *testing.B, size int, incremental bool) {
	be, n := benchState(b, size)
	rng := rand.New(rand.NewPCG(2, 2))
	store := NewMemStore()
	if incremental {
		checkpoint(b, be, store, 1, UploadOptions{Prefix: "job/"})
	}
	var pause, total time.Duration
	var uploaded, all int64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		changeFraction(b, be, n, 0.01, rng)
		if !incremental {
			store = NewMemStore()
		}
		b.StartTimer()
		start := time.Now()
		p, err := be.Snapshot(uint64(i + 2))
		if err != nil {
			b.Fatal(err)
		}
		h, err := p.Upload(context.Background(), store, UploadOptions{Prefix: "job/"})
		if err != nil {
			b.Fatal(err)
		}
		total += time.Since(start)
		pause += p.SyncPause()
		uploaded += h.UploadedBytes
		all += h.TotalBytes
	}
	b.StopTimer()
	nb := float64(b.N)
	b.ReportMetric(float64(pause.Microseconds())/nb, "sync-pause-µs")
	b.ReportMetric(float64(total.Milliseconds())/nb, "checkpoint-ms")
	b.ReportMetric(float64(uploaded)/nb/(1<<20), "uploaded-MiB")
	b.ReportMetric(float64(all)/nb/(1<<20), "total-MiB")
}

func BenchmarkCheckpoint64MB(b *testing.B)            { benchCheckpoint(b, 64<<20, false) }
func BenchmarkCheckpoint64MBIncremental(b *testing.B) { benchCheckpoint(b, 64<<20, true) }

func BenchmarkCheckpoint1GB(b *testing.B) {
	if os.Getenv("WEIR_BENCH_STATE_GB") != "1" {
		b.Skip("set WEIR_BENCH_STATE_GB=1 to run the 1 GB checkpoint benchmarks")
	}
	benchCheckpoint(b, 1<<30, false)
}

func BenchmarkCheckpoint1GBIncremental(b *testing.B) {
	if os.Getenv("WEIR_BENCH_STATE_GB") != "1" {
		b.Skip("set WEIR_BENCH_STATE_GB=1 to run the 1 GB checkpoint benchmarks")
	}
	benchCheckpoint(b, 1<<30, true)
}
