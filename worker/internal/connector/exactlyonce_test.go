package connector

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/weir-streams/weir/internal/record"
	"github.com/weir-streams/weir/worker/internal/state"
)

func batchOf(payloads ...string) *record.Batch {
	var b record.Batch
	b.Reset()
	for _, p := range payloads {
		v := record.View{Flags: record.FlagPayload, Payload: []byte(p)}
		b.Append(&v)
	}
	return &b
}

// streamPayloads reads every message of stream.
func streamPayloads(t *testing.T, js jetstream.JetStream, stream string) []string {
	t.Helper()
	ctx := context.Background()
	st, err := js.Stream(ctx, stream)
	require.NoError(t, err)
	info, err := st.Info(ctx)
	require.NoError(t, err)
	var out []string
	if info.State.Msgs == 0 {
		return nil
	}
	cons, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	require.NoError(t, err)
	msgs, err := cons.Fetch(int(info.State.Msgs), jetstream.FetchMaxWait(5*time.Second))
	require.NoError(t, err)
	for m := range msgs.Messages() {
		out = append(out, string(m.Data()))
	}
	return out
}

// TestExactlyOnceSinkCommitsPerCheckpoint keeps records until the checkpoint that
// covers them completes, publishes them once even when a restored copy publishes
// them again, and drops those a stopped job already published.
func TestExactlyOnceSinkCommitsPerCheckpoint(t *testing.T) {
	nc, js := setup(t)
	ctx := context.Background()
	_, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "OUT", Subjects: []string{"out"}, Duplicates: time.Minute})
	require.NoError(t, err)
	sink, err := NewSink(ctx, nc, "out")
	require.NoError(t, err)
	dir := t.TempDir()
	store := state.NewMemStore()
	opts := func(name string) state.Options {
		return state.Options{Dir: filepath.Join(dir, name), MaxParallelism: 8, KeyGroups: state.Range{First: 0, Last: 7}}
	}
	b, err := state.Open(opts("a"))
	require.NoError(t, err)
	eo, err := NewExactlyOnceSink(sink, b, "out", "job", 0, 1, 0)
	require.NoError(t, err)

	write := func(eo *ExactlyOnceSink, b *state.Backend, ps ...string) {
		require.NoError(t, eo.Write(batchOf(ps...)))
		require.NoError(t, b.Commit())
	}
	write(eo, b, "a", "b")
	eo.Barrier(1)
	p1, err := b.Snapshot(1)
	require.NoError(t, err)
	write(eo, b, "c")
	eo.Barrier(2)
	p2, err := b.Snapshot(2)
	require.NoError(t, err)
	write(eo, b, "d") // after barrier 2: belongs to checkpoint 3
	require.Empty(t, streamPayloads(t, js, "OUT"), "nothing is published before a checkpoint completes")

	h1, err := p1.Upload(ctx, store, state.UploadOptions{Prefix: "state/job/"})
	require.NoError(t, err)
	h2, err := p2.Upload(ctx, store, state.UploadOptions{Prefix: "state/job/"})
	require.NoError(t, err)
	_ = h1

	n, err := eo.Commit(ctx, 1)
	require.NoError(t, err)
	require.Equal(t, 2, n)
	require.NoError(t, eo.Flush(ctx))
	require.Equal(t, []string{"a", "b"}, streamPayloads(t, js, "OUT"))

	// Checkpoint 2 completes; the task dies before it forgets what it published.
	_, err = eo.Commit(ctx, 2)
	require.NoError(t, err)
	require.NoError(t, sink.Sync(ctx))
	require.Equal(t, []string{"a", "b", "c"}, streamPayloads(t, js, "OUT"))
	require.NoError(t, b.Close())

	// A restore of checkpoint 2 (which still holds all three: it was taken
	// before any commit) publishes them again under the same ids: the stream
	// drops them.
	rb, err := state.Restore(ctx, opts("b"), store, []state.Handle{h2}, func(int) bool { return true })
	require.NoError(t, err)
	defer rb.Close()
	reo, err := NewExactlyOnceSink(sink, rb, "out", "job", 0, 2, 2)
	require.NoError(t, err)
	n, err = reo.Commit(ctx, 2)
	require.NoError(t, err)
	require.Equal(t, 3, n)
	require.NoError(t, reo.Flush(ctx))
	require.Equal(t, []string{"a", "b", "c"}, streamPayloads(t, js, "OUT"), "the re-published records were duplicates")

	// "d" was never in a completed checkpoint: replay makes it again, now kept by
	// attempt 2 and published with checkpoint 3.
	write(reo, rb, "d")
	reo.Barrier(3)
	_, err = reo.Commit(ctx, 3)
	require.NoError(t, err)
	require.NoError(t, reo.Flush(ctx))
	require.Equal(t, []string{"a", "b", "c", "d"}, streamPayloads(t, js, "OUT"))

	// A restore from a savepoint whose job published its records drops them.
	rb2, err := state.Restore(ctx, opts("c"), store, []state.Handle{h2}, func(int) bool { return true })
	require.NoError(t, err)
	defer rb2.Close()
	deo, err := NewExactlyOnceSink(sink, rb2, "out", "job2", 0, 1, 2)
	require.NoError(t, err)
	require.NoError(t, deo.Drop(2))
	n, err = deo.Commit(ctx, 2)
	require.NoError(t, err)
	require.Zero(t, n)
	require.Len(t, streamPayloads(t, js, "OUT"), 4, "dropped records were published")
}
