package connector

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/weir-streams/weir/internal/embednats"
	"github.com/weir-streams/weir/internal/record"
	"github.com/weir-streams/weir/internal/spec"
)

func setup(t *testing.T) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	ns, err := embednats.Start(embednats.Options{Dir: t.TempDir(), Port: -1})
	require.NoError(t, err)
	t.Cleanup(ns.Shutdown)
	nc, err := embednats.Connect(ns, "test")
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	return nc, js
}

// readN runs a source until it has handed on n records, then stops it.
func readN(t *testing.T, s *Source, n int) ([]string, uint64) {
	t.Helper()
	stop, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- s.Run(stop, context.Background()) }()
	var got []string
	var last uint64
	timeout := time.After(30 * time.Second)
	for len(got) < n {
		select {
		case b, ok := <-s.C():
			if !ok {
				t.Fatalf("source ended early: %v", <-errc)
			}
			r := b.Batch.Reader()
			var v record.View
			for r.Next(&v) {
				require.True(t, v.HasTimestamp())
				got = append(got, string(v.Payload))
			}
			last = b.LastSeq
		case <-timeout:
			t.Fatalf("read %d of %d records", len(got), n)
		}
	}
	cancel()
	for range s.C() {
	}
	require.NoError(t, <-errc)
	return got, last
}

func TestSourceStartPositions(t *testing.T) {
	_, js := setup(t)
	ctx := context.Background()
	_, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}})
	require.NoError(t, err)
	for i := 1; i <= 10; i++ {
		_, err := js.Publish(ctx, "s."+strconv.Itoa(i%2), fmt.Appendf(nil, "m%d", i))
		require.NoError(t, err)
	}
	got, last := readN(t, NewSource(js, spec.JetStreamSource{Stream: "S"}, 0), 10)
	require.Equal(t, "m1", got[0])
	require.Equal(t, uint64(10), last)

	got, _ = readN(t, NewSource(js, spec.JetStreamSource{Stream: "S", Start: spec.StartPosition{Kind: spec.StartSequence, Sequence: 8}}, 0), 3)
	require.Equal(t, []string{"m8", "m9", "m10"}, got)

	got, _ = readN(t, NewSource(js, spec.JetStreamSource{Stream: "S"}, 7), 3)
	require.Equal(t, []string{"m8", "m9", "m10"}, got, "a resumed source starts after its position")

	got, _ = readN(t, NewSource(js, spec.JetStreamSource{Stream: "S", Subjects: []string{"s.0"}}, 0), 5)
	require.Equal(t, "m2", got[0], "subjects filter the stream")
}

func TestSourceRefusesLostRecords(t *testing.T) {
	_, js := setup(t)
	ctx := context.Background()
	st, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "S", Subjects: []string{"s"}})
	require.NoError(t, err)
	for i := 0; i < 5; i++ {
		_, err := js.Publish(ctx, "s", []byte("x"))
		require.NoError(t, err)
	}
	require.NoError(t, st.Purge(ctx, jetstream.WithPurgeSequence(4)))
	s := NewSource(js, spec.JetStreamSource{Stream: "S"}, 1)
	err = s.Run(ctx, ctx)
	require.ErrorContains(t, err, "records 2..3 are gone")

	err = NewSource(js, spec.JetStreamSource{Stream: "NOPE"}, 0).Run(ctx, ctx)
	require.ErrorContains(t, err, `source stream "NOPE" does not exist`)
}

func TestSink(t *testing.T) {
	nc, js := setup(t)
	ctx := context.Background()
	_, err := NewSink(ctx, nc, "nowhere")
	require.ErrorContains(t, err, `sink subject "nowhere" is not captured by any stream`)

	st, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "OUT", Subjects: []string{"out"}})
	require.NoError(t, err)
	s, err := NewSink(ctx, nc, "out")
	require.NoError(t, err)
	var b record.Batch
	b.Reset()
	hdr := record.AppendHeader(nil, "Trace", "t1")
	hdr = record.AppendHeader(hdr, "Nats-Msg-Id", "dup")
	v := record.View{Flags: record.FlagKey | record.FlagTimestamp | record.FlagPayload | record.FlagHeaders,
		Key: []byte(`"u1"`), Timestamp: 1234, Payload: []byte("p1"), Headers: hdr, HeaderCount: 2}
	b.Append(&v)
	v = record.View{Flags: record.FlagPayload, Payload: []byte("p2")}
	b.Append(&v)
	require.NoError(t, s.Write(ctx, &b))
	require.NoError(t, s.Sync(ctx))
	m, err := st.GetMsg(ctx, 1)
	require.NoError(t, err)
	require.Equal(t, "p1", string(m.Data))
	require.Equal(t, `"u1"`, m.Header.Get(HeaderKey))
	require.Equal(t, "1234", m.Header.Get(HeaderTimestamp))
	require.Equal(t, "t1", m.Header.Get("Trace"))
	require.Empty(t, m.Header.Get("Nats-Msg-Id"), "a source's Nats-* headers must not steer the sink")
	m, err = st.GetMsg(ctx, 2)
	require.NoError(t, err)
	require.Equal(t, "p2", string(m.Data))
	require.Empty(t, m.Header.Get(HeaderKey))
}
