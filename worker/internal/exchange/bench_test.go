package exchange

import (
	"bufio"
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"runtime/pprof"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"go.uber.org/goleak"

	"github.com/weir-streams/weir/internal/record"
)

// The exchange benchmarks run the receiving side in a second process, as between
// two workers: the test binary started again with WEIR_BENCH_ROLE set.

// benchResult is what the receiving process reports.
type benchResult struct {
	Records uint64  `json:"records"`
	Bytes   uint64  `json:"bytes"`
	DoneNs  int64   `json:"done_ns"` // wall clock when the last record arrived
	P50Ms   float64 `json:"p50_ms"`
	P99Ms   float64 `json:"p99_ms"`
}

func TestMain(m *testing.M) {
	if f := os.Getenv("WEIR_BENCH_RECV_PROFILE"); f != "" && os.Getenv("WEIR_BENCH_ROLE") != "" {
		out, err := os.Create(f + "." + os.Getenv("WEIR_BENCH_ROLE"))
		if err == nil && pprof.StartCPUProfile(out) == nil {
			defer pprof.StopCPUProfile()
		}
	}
	switch os.Getenv("WEIR_BENCH_ROLE") {
	case "recv-exchange":
		benchReceiveExchange()
		return
	case "recv-raw":
		benchReceiveRaw()
		return
	}
	pprof.StopCPUProfile()
	// Every goroutine the package starts (credit re-grants, publishers) must end
	// with its gate or output.
	goleak.VerifyTestMain(m)
}

func envInt(name string) int {
	n, _ := strconv.Atoi(os.Getenv(name))
	return n
}

func benchConn() *nats.Conn {
	nc, err := nats.Connect(os.Getenv("WEIR_BENCH_URL"))
	if err != nil {
		panic(err)
	}
	return nc
}

func report(r benchResult) {
	_ = json.NewEncoder(os.Stdout).Encode(r)
}

// benchReceiveExchange drains the gates of WEIR_BENCH_SUBTASKS downstream subtasks
// fed by one remote upstream subtask, until each got its end of partition.
func benchReceiveExchange() {
	net := NewNet(benchConn(), benchConn(), envInt("WEIR_BENCH_BUDGET"), slog.Default())
	reg := NewRegistry(cmp.Or(envInt("WEIR_BENCH_PER_CHANNEL"), 16))
	subtasks := envInt("WEIR_BENCH_SUBTASKS")
	latency := os.Getenv("WEIR_BENCH_LATENCY") != ""
	var records, bytes atomic.Uint64
	// Latencies go into a histogram of 10 µs buckets up to 1 s (the last bucket
	// takes the rest): storing millions of samples would itself stall the process.
	const bucket, buckets = 10 * time.Microsecond, 100_000
	var mu sync.Mutex
	hist := make([]uint64, buckets)
	var wg sync.WaitGroup
	for i := range subtasks {
		g := reg.Gate(Key{"bench", 1, 0, i}, 1)
		if err := net.Attach(g, []int{0}); err != nil {
			panic(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			var v record.View
			local := make([]uint64, buckets)
			for b := range g.C() {
				if b.Kind == EndOfPartition {
					break
				}
				if b.Kind == Data {
					records.Add(uint64(b.Batch.Len()))
					bytes.Add(uint64(b.Batch.Size()))
					if latency {
						now := time.Now().UnixNano()
						r := b.Batch.Reader()
						for r.Next(&v) {
							local[min(buckets-1, int(time.Duration(now-v.Timestamp)/bucket))]++
						}
					}
				}
				g.Took(b)
				Release(b)
			}
			mu.Lock()
			for i, n := range local {
				hist[i] += n
			}
			mu.Unlock()
		}()
	}
	fmt.Println("ready")
	wg.Wait()
	res := benchResult{Records: records.Load(), Bytes: bytes.Load(), DoneNs: time.Now().UnixNano()}
	var total uint64
	for _, n := range hist {
		total += n
	}
	var seen uint64
	for i, n := range hist {
		ms := float64(time.Duration(i+1)*bucket) / 1e6 // the bucket's upper bound
		if seen < total/2 && seen+n >= total/2 {
			res.P50Ms = ms
		}
		if seen < total*99/100 && seen+n >= total*99/100 {
			res.P99Ms = ms
		}
		seen += n
	}
	report(res)
}

// benchReceiveRaw counts core NATS messages on bench.raw until WEIR_BENCH_BYTES.
func benchReceiveRaw() {
	nc := benchConn()
	want := uint64(envInt("WEIR_BENCH_BYTES"))
	var got, msgs atomic.Uint64
	done := make(chan struct{})
	sub, err := nc.Subscribe("bench.raw", func(m *nats.Msg) {
		msgs.Add(1)
		if got.Add(uint64(len(m.Data))) >= want {
			select {
			case <-done:
			default:
				close(done)
			}
		}
	})
	if err != nil {
		panic(err)
	}
	_ = sub.SetPendingLimits(-1, -1)
	_ = nc.Flush()
	fmt.Println("ready")
	<-done
	report(benchResult{Records: msgs.Load(), Bytes: got.Load(), DoneNs: time.Now().UnixNano()})
}

// startReceiver starts the receiving process and waits until it is ready.
func startReceiver(b *testing.B, url, role string, env ...string) (wait func() benchResult) {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), append([]string{"WEIR_BENCH_ROLE=" + role, "WEIR_BENCH_URL=" + url}, env...)...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	if !sc.Scan() || sc.Text() != "ready" {
		b.Fatalf("receiver did not start: %q", sc.Text())
	}
	return func() benchResult {
		var r benchResult
		if !sc.Scan() {
			b.Fatal("receiver reported nothing")
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			b.Fatal(err)
		}
		_ = cmd.Wait()
		return r
	}
}

// benchRecords fills a batch of 100-byte keyed records.
func benchRecords(n int) *record.Batch {
	var bt record.Batch
	payload := make([]byte, 80)
	key := make([]byte, 8)
	for i := range n {
		binary.LittleEndian.PutUint64(key, uint64(i))
		bt.Append(&record.View{Flags: record.FlagKey | record.FlagPayload | record.FlagTimestamp, Key: key, Payload: payload})
	}
	return &bt
}

// BenchmarkExchangeVsRawNATS sends records through a hash-partitioned exchange to
// two subtasks in another process, and the same bytes as 32 KiB core NATS messages
// in the same topology; it reports both rates and their ratio.
func BenchmarkExchangeVsRawNATS(b *testing.B) {
	url := natsURLB(b)
	const total = 2_000_000
	// The machine is shared and noisy: alternate the two, three rounds, and compare
	// the medians.
	const rounds = 3
	var exSecs, rawSecs []float64
	var bytes int
	for range rounds {
		var secs float64
		secs, bytes = exchangeRun(b, url, total)
		exSecs = append(exSecs, secs)
		rawSecs = append(rawSecs, rawRun(b, url, bytes))
	}
	slices.Sort(exSecs)
	slices.Sort(rawSecs)
	ex, raw := exSecs[rounds/2], rawSecs[rounds/2]
	b.ReportMetric(float64(total)/ex, "records/s")
	b.ReportMetric(float64(bytes)/ex/1e6, "MB/s")
	b.ReportMetric(float64(bytes)/raw/1e6, "raw-MB/s")
	b.ReportMetric(raw/ex, "ratio")
}

// rawRun publishes bytes as 32 KiB core NATS messages to a subscriber in another
// process and returns the seconds until the last arrived.
func rawRun(b *testing.B, url string, bytes int) float64 {
	wait := startReceiver(b, url, "recv-raw", "WEIR_BENCH_BYTES="+strconv.Itoa(bytes))
	pub := connB(b, url)
	defer pub.Close()
	msg := make([]byte, BufferSize)
	start := time.Now()
	for sent := 0; sent < bytes; sent += len(msg) {
		if err := pub.Publish("bench.raw", msg); err != nil {
			b.Fatal(err)
		}
	}
	_ = pub.Flush()
	raw := wait()
	return time.Duration(raw.DoneNs - start.UnixNano()).Seconds()
}

// benchWriter is a hash-partitioned writer onto two subtasks in the receiving
// process, over its own NATS connections. The caller closes it.
func benchWriter(b *testing.B, url string, stats *Stats, blocked *atomic.Int64) *Writer {
	net := NewNet(connB(b, url), connB(b, url), 0, slog.Default())
	outs := make([]Output, 2)
	for i := range outs {
		o, err := net.Dial(Key{"bench", 1, 0, i}, 0, stats)
		if err != nil {
			b.Fatal(err)
		}
		outs[i] = o
	}
	w, err := NewWriter(outs, WriterOptions{Mode: PartitionHash, MaxParallelism: 128, KeyGroup: keyGroups(128), Blocked: blocked})
	if err != nil {
		b.Fatal(err)
	}
	return w
}

// exchangeRun sends total records through a hash-partitioned exchange to two
// subtasks in another process as fast as it can; it returns the seconds until the
// last one arrived and the bytes sent.
func exchangeRun(b *testing.B, url string, total int) (float64, int) {
	batch := benchRecords(1000)
	ctx := context.Background()
	wait := startReceiver(b, url, "recv-exchange", "WEIR_BENCH_SUBTASKS=2")
	stats := &Stats{}
	var blocked atomic.Int64
	w := benchWriter(b, url, stats, &blocked)
	defer w.Close()
	start := time.Now()
	for sent := 0; sent < total; sent += batch.Len() {
		if err := w.Write(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Broadcast(ctx, EndOfPartition, nil); err != nil {
		b.Fatal(err)
	}
	if err := w.Drain(ctx); err != nil {
		b.Fatal(err)
	}
	res := wait()
	if res.Records != uint64(total) {
		b.Fatalf("exchange delivered %d of %d records", res.Records, total)
	}
	return time.Duration(res.DoneNs - start.UnixNano()).Seconds(), int(stats.BytesOut.Load())
}

// BenchmarkExchangeLatency sends timestamped records at a fixed rate through the
// exchange with a 10 ms buffer timeout and reports p50 and p99 latency. The rate
// is half the throughput measured just before (50% load), or WEIR_BENCH_RATE.
func BenchmarkExchangeLatency(b *testing.B) {
	url := natsURLB(b)
	rate := envInt("WEIR_BENCH_RATE")
	if rate <= 0 {
		secs, _ := exchangeRun(b, url, 1_000_000)
		rate = int(1_000_000 / secs / 2)
	}
	const seconds = 5
	wait := startReceiver(b, url, "recv-exchange", "WEIR_BENCH_SUBTASKS=2", "WEIR_BENCH_LATENCY=1")
	w := benchWriter(b, url, &Stats{}, nil)
	defer w.Close()
	ctx := context.Background()
	// Every millisecond, the records due at rate since the start, stamped with the
	// time they are written; buffers go out when full or at the 10 ms flush, as in
	// a task.
	var bt record.Batch
	payload := make([]byte, 80)
	key := make([]byte, 8)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	flush := time.NewTicker(10 * time.Millisecond)
	defer flush.Stop()
	start := time.Now()
	end := start.Add(seconds * time.Second)
	written := 0
	for time.Now().Before(end) {
		select {
		case <-tick.C:
			bt.Reset()
			now := time.Now()
			due := int(float64(rate) * now.Sub(start).Seconds())
			for ; written < due; written++ {
				binary.LittleEndian.PutUint64(key, uint64(written))
				bt.Append(&record.View{Flags: record.FlagKey | record.FlagPayload | record.FlagTimestamp, Key: key, Timestamp: now.UnixNano(), Payload: payload})
			}
			if err := w.Write(ctx, &bt); err != nil {
				b.Fatal(err)
			}
		case <-flush.C:
			if err := w.Flush(ctx); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := w.Broadcast(ctx, EndOfPartition, nil); err != nil {
		b.Fatal(err)
	}
	if err := w.Drain(ctx); err != nil {
		b.Fatal(err)
	}
	res := wait()
	b.ReportMetric(float64(rate), "target-records/s")
	b.ReportMetric(float64(res.Records)/seconds, "records/s")
	b.ReportMetric(res.P50Ms, "p50-ms")
	b.ReportMetric(res.P99Ms, "p99-ms")
}
