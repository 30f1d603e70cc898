package conformance_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/weir-streams/weir/wasmhost"
)

// BenchmarkEnrich runs the same 100-record batches of order records through each
// language's enrich, one wazero call per batch, as a worker does (wasmhost: the
// copy of the batch into guest memory, the call, the decoding of the output
// frame). It reports records/s on one core and, once the Go module has run in the
// same invocation, the speed relative to Go.
func BenchmarkEnrich(b *testing.B) {
	in := make([]rec, 100)
	for i := range in {
		in[i] = rec{HasTS: true, TS: 1_700_000_000_000 + int64(i),
			Payload: fmt.Sprintf(`{"id":%d,"customer":"c-42","amount":%d,"currency":"EUR"}`, 10000+i, 1000+i)}
	}
	batch := batchOf(in)
	var goNS float64
	for _, lang := range languages {
		b.Run(lang.name, func(b *testing.B) {
			inst := open(b, lang, "enrich", "{}")
			ctx := context.Background()
			out, err := inst.Process(ctx, batch)
			if err != nil || out.Len() != len(in) {
				b.Fatalf("%v, %d outputs", err, out.Len())
			}
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cpuTime()
			for b.Loop() {
				if _, err := inst.Process(ctx, batch); err != nil {
					b.Fatal(err)
				}
			}
			// CPU time as well as wall time: on a machine shared with other work
			// the wall time varies by a factor of two from run to run, the CPU
			// time this process spent much less.
			records := float64(b.N * len(in))
			cpuNS := float64((cpuTime() - cpu0).Nanoseconds()) / records
			ns := float64(b.Elapsed().Nanoseconds()) / records
			b.ReportMetric(ns, "ns/record")
			b.ReportMetric(cpuNS, "cpu-ns/record")
			b.ReportMetric(1e9/cpuNS, "records/cpu-s")
			if lang.name == "go" {
				goNS = cpuNS
			} else if goNS > 0 {
				b.ReportMetric(goNS/cpuNS, "x-go")
			}
		})
	}
}

// BenchmarkInstantiate measures a new instance of each module (what a subtask
// pays at start: wazero's instantiation, _initialize if any, and the first call
// that makes the SDK register its functions) and reports the module's size.
func BenchmarkInstantiate(b *testing.B) {
	for _, lang := range languages {
		b.Run(lang.name, func(b *testing.B) {
			m := load(b, lang)
			ctx := context.Background()
			fi, err := os.Stat(filepath.Join(wasmDir(), lang.module))
			if err != nil {
				b.Fatal(err)
			}
			var total time.Duration
			for b.Loop() {
				start := time.Now()
				inst, err := m.Instantiate(ctx, "enrich", wasmhost.Limits{}, nil)
				if err != nil {
					b.Fatal(err)
				}
				if err := inst.Open(ctx, []byte("{}")); err != nil {
					b.Fatal(err)
				}
				total += time.Since(start)
				inst.Close(ctx, false)
			}
			b.ReportMetric(float64(total.Microseconds())/float64(b.N), "µs/instance")
			b.ReportMetric(float64(fi.Size()), "module-bytes")
		})
	}
}

// cpuTime is the user and system CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
