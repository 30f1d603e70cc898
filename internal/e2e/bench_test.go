package e2e

import (
	"context"
	"errors"
	"fmt"
	"slices"
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
