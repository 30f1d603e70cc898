package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"
)

const benchRecords = 200_000

// rawRelay copies every message of stream in to subject out with an ordered
// consumer and asynchronous publishes, doing nothing else: the baseline.
func rawRelay(t testing.TB, s *standalone, in, out string, n int) time.Duration {
	ctx := context.Background()
	st, err := s.js.Stream(ctx, in)
	require.NoError(t, err)
	cons, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	require.NoError(t, err)
	js, err := jetstream.New(s.nc, jetstream.WithPublishAsyncMaxPending(4096))
	require.NoError(t, err)
	start := time.Now()
	it, err := cons.Messages()
	require.NoError(t, err)
	defer it.Stop()
	for i := 0; i < n; i++ {
		m, err := it.Next()
		require.NoError(t, err)
		for {
			_, err := js.PublishAsync(out, m.Data())
			if errors.Is(err, jetstream.ErrTooManyStalledMsgs) {
				<-js.PublishAsyncComplete()
				continue
			}
			require.NoError(t, err)
			break
		}
	}
	<-js.PublishAsyncComplete()
	return time.Since(start)
}

// BenchmarkIdentityVsRelay measures JetStream -> identity map -> JetStream in
// standalone against a raw relay of the same messages on the same server, and
// reports the throughput ratio (target >= 0.8). The machine is shared and noisy,
// so the two alternate over three rounds, each on fresh streams, and the medians
// are compared.
func BenchmarkIdentityVsRelay(b *testing.B) {
	const rounds = 3
	for _, mod := range []struct{ name, file string }{{"wat", "identity_wat.wasm"}, {"go", "orders.wasm"}} {
		b.Run(mod.name, func(b *testing.B) {
			for b.Loop() {
				s := startStandalone(b, b.TempDir(), "--sync", "interval")
				s.upload("ident", mod.file)
				var relays, weirs []time.Duration
				for r := range rounds {
					in, relayOut, weirOut := fmt.Sprintf("IN%d", r), fmt.Sprintf("RELAY%d", r), fmt.Sprintf("WEIR%d", r)
					s.stream(in, fmt.Sprintf("in%d", r))
					s.stream(relayOut, fmt.Sprintf("relay%d", r))
					s.stream(weirOut, fmt.Sprintf("weir%d", r))
					s.publish(fmt.Sprintf("in%d", r), orderPayloads(0, benchRecords))
					relays = append(relays, rawRelay(b, s, in, fmt.Sprintf("relay%d", r), benchRecords))

					id := s.submit(fmt.Sprintf(`name: bench%d
pipeline:
  - id: src
    source: { jetstream: { stream: %s } }
  - id: ident
    map: { module: ident, function: identity }
  - id: out
    sink: { jetstream: { subject: weir%d } }
`, r, in, r))
					s.waitStatus(id, "RUNNING", time.Minute)
					start := time.Now()
					s.waitCount(weirOut, benchRecords, 5*time.Minute)
					weirs = append(weirs, time.Since(start))
					b.Logf("round %d: relay %s, weir %s", r, relays[r].Round(time.Millisecond), weirs[r].Round(time.Millisecond))
					_, err := s.client.CancelJob(context.Background(), id)
					require.NoError(b, err)
				}
				slices.Sort(relays)
				slices.Sort(weirs)
				relay, weir := relays[rounds/2], weirs[rounds/2]
				b.ReportMetric(float64(benchRecords)/relay.Seconds(), "relay-records/s")
				b.ReportMetric(float64(benchRecords)/weir.Seconds(), "weir-records/s")
				b.ReportMetric(relay.Seconds()/weir.Seconds(), "ratio")
				s.stop()
			}
		})
	}
}

// BenchmarkCheckpointOverhead measures the keyed count job (source, key_by, a Go
// process UDF with value state, sink) in standalone with checkpoints every second
// against the same job without checkpointing, on the same records, and reports
// the throughput ratio (target >= 0.9). Two variants: the at-least-once sink, so
// that only the cost of snapshots and barriers shows, and the exactly-once sink,
// which also keeps every output in state until its checkpoint completes. The
// runs alternate over three rounds and the medians are compared.
func BenchmarkCheckpointOverhead(b *testing.B) {
	// The exactly-once sink publishes a second after the records at most (the
	// interval), which weighs on short runs: WEIR_BENCH_RECORDS sets more.
	const rounds, keys = 3, 10_000
	n := 200_000
	if v, err := strconv.Atoi(os.Getenv("WEIR_BENCH_RECORDS")); err == nil && v > 0 {
		n = v
	}
	subjects, payloads := countEvents(0, n, keys)
	job := func(name, in, out, checkpointing, delivery string) string {
		return fmt.Sprintf(`name: %s
parallelism: 2
%spipeline:
  - id: events
    source: { jetstream: { stream: %s, subjects: ["%s.*"], partitions: { count: 3, token: 2 } } }
  - id: by-key
    key_by: { json_field: key }
  - id: count
    process: { module: counter, function: count }
  - id: out
    sink: { jetstream: { subject: %s }, delivery: %s }
`, name, checkpointing, in, strings.ToLower(in), out, delivery)
	}
	for _, delivery := range []string{"at_least_once", "exactly_once"} {
		b.Run(delivery, func(b *testing.B) {
			for b.Loop() {
				s := startStandalone(b, b.TempDir(), "--sync", "interval")
				s.upload("counter", "counter.wasm")
				run := func(r int, ckpt bool) time.Duration {
					tag := fmt.Sprintf("R%d%v", r, ckpt)
					in, out := "IN"+tag, "out"+strings.ToLower(tag)
					_, err := s.js.CreateStream(context.Background(), jetstream.StreamConfig{Name: in, Subjects: []string{strings.ToLower(in) + ".*"}})
					require.NoError(b, err)
					s.stream("OUT"+tag, out)
					subj := make([]string, n)
					for i := range subjects {
						subj[i] = strings.ToLower(in) + subjects[i][len("cnt"):]
					}
					s.publishTo(subj, payloads)
					cp, dl := "", "at_least_once"
					if ckpt {
						cp, dl = "checkpointing: { interval: 1s }\n", delivery
					}
					id := s.submit(job("bench"+tag, in, out, cp, dl))
					s.waitStatus(id, "RUNNING", time.Minute)
					start := time.Now()
					s.waitCount("OUT"+tag, uint64(n), 10*time.Minute)
					d := time.Since(start)
					_, err = s.client.CancelJob(context.Background(), id)
					require.NoError(b, err)
					return d
				}
				var with, without []time.Duration
				for r := range rounds {
					without = append(without, run(r, false))
					with = append(with, run(r, true))
					b.Logf("round %d: without checkpoints %s, with %s", r, without[r].Round(time.Millisecond), with[r].Round(time.Millisecond))
				}
				slices.Sort(with)
				slices.Sort(without)
				b.ReportMetric(float64(n)/without[rounds/2].Seconds(), "plain-records/s")
				b.ReportMetric(float64(n)/with[rounds/2].Seconds(), "checkpointed-records/s")
				b.ReportMetric(without[rounds/2].Seconds()/with[rounds/2].Seconds(), "ratio")
				s.stop()
			}
		})
	}
}
