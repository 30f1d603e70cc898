package e2e

import (
	"context"
	"errors"
	"fmt"
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
// reports the throughput ratio (target >= 0.8).
func BenchmarkIdentityVsRelay(b *testing.B) {
	for _, mod := range []struct{ name, file string }{{"wat", "identity_wat.wasm"}, {"go", "orders.wasm"}} {
		b.Run(mod.name, func(b *testing.B) {
			for b.Loop() {
				s := startStandalone(b, b.TempDir(), "--sync", "interval")
				s.upload("ident", mod.file)
				s.stream("IN", "in")
				s.stream("RELAY", "relay")
				s.stream("WEIR", "weir")
				s.publish("in", orderPayloads(0, benchRecords))

				relay := rawRelay(b, s, "IN", "relay", benchRecords)

				id := s.submit(fmt.Sprintf(`name: bench
pipeline:
  - id: src
    source: { jetstream: { stream: IN } }
  - id: ident
    map: { module: ident, function: identity }
  - id: out
    sink: { jetstream: { subject: weir } }
`))
				s.waitStatus(id, "RUNNING", time.Minute)
				start := time.Now()
				s.waitCount("WEIR", benchRecords, 5*time.Minute)
				weir := time.Since(start)
				b.ReportMetric(float64(benchRecords)/relay.Seconds(), "relay-records/s")
				b.ReportMetric(float64(benchRecords)/weir.Seconds(), "weir-records/s")
				b.ReportMetric(relay.Seconds()/weir.Seconds(), "ratio")
				s.stop()
			}
		})
	}
}
