package connector

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/weir-streams/weir/internal/record"
	"github.com/weir-streams/weir/internal/spec"
)

// maxBatchBytes is the batch size at which a source hands records on even while more
// are pending.
const maxBatchBytes = 32 << 10

// SourceBatch is a batch read from the stream with the sequence of its last record.
type SourceBatch struct {
	Batch   record.Batch
	LastSeq uint64
	// Reader is the index of the reader (Source) that read it, among those sharing
	// one output channel.
	Reader int
}

// Source reads a JetStream stream, or one partition of it. Run it with Run;
// receive batches from C.
type Source struct {
	js      jetstream.JetStream
	cfg     spec.JetStreamSource
	filters []string
	from    uint64 // resume after this sequence; 0 = the spec's start
	reader  int
	out     chan *SourceBatch
	owned   bool // out belongs to this source, which closes it
	free    chan *SourceBatch
}

// NewSource returns a source of cfg that resumes after sequence resumeAfter (0 = the
// configured start position).
func NewSource(js jetstream.JetStream, cfg spec.JetStreamSource, resumeAfter uint64) *Source {
	return &Source{js: js, cfg: cfg, filters: cfg.Subjects, from: resumeAfter, out: make(chan *SourceBatch, 4), owned: true, free: make(chan *SourceBatch, 8)}
}

// NewPartitionlessSource returns a source of the whole stream cfg that delivers
// into out like a partition source, as reader 0.
func NewPartitionlessSource(js jetstream.JetStream, cfg spec.JetStreamSource, resumeAfter uint64, out chan *SourceBatch) *Source {
	return &Source{js: js, cfg: cfg, filters: cfg.Subjects, from: resumeAfter, out: out, free: make(chan *SourceBatch, 8)}
}

// NewPartitionSource returns a source of partition p of cfg (which has
// partitions) that resumes after resumeAfter and delivers into out, shared with
// the other partitions' sources of a subtask; its batches carry reader. Run does
// not close out.
func NewPartitionSource(js jetstream.JetStream, cfg spec.JetStreamSource, p int, resumeAfter uint64, reader int, out chan *SourceBatch) *Source {
	return &Source{js: js, cfg: cfg, filters: cfg.PartitionFilters(p), from: resumeAfter, reader: reader, out: out, free: make(chan *SourceBatch, 4)}
}

// C delivers batches in stream order; a source made by NewSource closes it when
// Run returns.
func (s *Source) C() <-chan *SourceBatch { return s.out }

// Recycle hands a consumed batch back for reuse.
func (s *Source) Recycle(b *SourceBatch) {
	select {
	case s.free <- b:
	default:
	}
}

func (s *Source) batch() *SourceBatch {
	select {
	case b := <-s.free:
		b.Batch.Reset()
		b.LastSeq = 0
		b.Reader = s.reader
		return b
	default:
		b := &SourceBatch{Reader: s.reader}
		b.Batch.Reset()
		return b
	}
}

// Run reads until stop ends, handing batches on as they fill or when the source has
// caught up with the stream; the batch in progress is handed on before it returns.
// It returns nil after a stop, or the error that ended the read. Ending hard
// abandons any hand-over (the task is gone).
func (s *Source) Run(stop, hard context.Context) error {
	ctx := stop
	if s.owned {
		defer close(s.out)
	}
	stream, err := s.js.Stream(ctx, s.cfg.Stream)
	if err != nil {
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			return fmt.Errorf("source stream %q does not exist", s.cfg.Stream)
		}
		return fmt.Errorf("looking up source stream %q: %w", s.cfg.Stream, err)
	}
	occ := jetstream.OrderedConsumerConfig{FilterSubjects: s.filters}
	var want uint64 // first sequence the job needs, 0 = no requirement
	switch {
	case s.from > 0:
		want = s.from + 1
		occ.DeliverPolicy, occ.OptStartSeq = jetstream.DeliverByStartSequencePolicy, want
	case s.cfg.Start.Kind == spec.StartLatest:
		occ.DeliverPolicy = jetstream.DeliverNewPolicy
	case s.cfg.Start.Kind == spec.StartSequence:
		want = s.cfg.Start.Sequence
		occ.DeliverPolicy, occ.OptStartSeq = jetstream.DeliverByStartSequencePolicy, want
	case s.cfg.Start.Kind == spec.StartTime:
		t := s.cfg.Start.Time
		occ.DeliverPolicy, occ.OptStartTime = jetstream.DeliverByStartTimePolicy, &t
	default:
		occ.DeliverPolicy = jetstream.DeliverAllPolicy
	}
	if want > 0 {
		// An ordered consumer asked to start below the stream's first sequence
		// silently starts at the first message there is: refuse instead of losing data.
		info, err := stream.Info(ctx)
		if err != nil {
			return fmt.Errorf("reading source stream %q: %w", s.cfg.Stream, err)
		}
		// An empty stream that held messages starts after its last one: those
		// were purged too.
		if first := info.State.FirstSeq; want < first {
			return fmt.Errorf("source stream %q starts at sequence %d, but the job needs sequence %d: records %d..%d are gone (retention or purge)",
				s.cfg.Stream, first, want, want, first-1)
		}
	}
	cons, err := stream.OrderedConsumer(ctx, occ)
	if err != nil {
		return fmt.Errorf("creating ordered consumer on %q: %w", s.cfg.Stream, err)
	}
	it, err := cons.Messages()
	if err != nil {
		return fmt.Errorf("consuming %q: %w", s.cfg.Stream, err)
	}
	stopped := make(chan struct{})
	defer close(stopped)
	go func() {
		select {
		case <-ctx.Done():
			it.Stop()
		case <-stopped:
		}
	}()
	defer it.Stop()

	cur := s.batch()
	var hdr []byte
	for {
		msg, err := it.Next()
		if err != nil {
			if errors.Is(err, jetstream.ErrMsgIteratorClosed) || ctx.Err() != nil {
				if cur.Batch.Len() > 0 {
					select {
					case s.out <- cur:
					case <-hard.Done():
					}
				}
				return nil
			}
			return fmt.Errorf("reading %q: %w", s.cfg.Stream, err)
		}
		meta, err := msg.Metadata()
		if err != nil {
			return fmt.Errorf("reading %q: message metadata: %w", s.cfg.Stream, err)
		}
		v := record.View{
			Flags:     record.FlagPayload | record.FlagTimestamp,
			Payload:   msg.Data(),
			Timestamp: meta.Timestamp.UnixMilli(),
		}
		if h := msg.Headers(); len(h) > 0 {
			hdr = hdr[:0]
			n := uint32(0)
			for name, values := range h {
				for _, value := range values {
					hdr = record.AppendHeader(hdr, name, value)
					n++
				}
			}
			v.Flags |= record.FlagHeaders
			v.Headers, v.HeaderCount = hdr, n
		}
		cur.Batch.Append(&v)
		cur.LastSeq = meta.Sequence.Stream
		if cur.Batch.Size() >= maxBatchBytes || meta.NumPending == 0 {
			select {
			case s.out <- cur:
			case <-hard.Done():
				return nil
			}
			cur = s.batch()
		}
	}
}
