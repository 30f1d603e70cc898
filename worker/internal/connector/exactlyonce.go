package connector

import (
	"context"
	"encoding/binary"
	"fmt"
	"strconv"

	"github.com/weir-streams/weir/internal/record"
	"github.com/weir-streams/weir/worker/internal/state"
)

// ExactlyOnceSink is a two-phase-commit sink (DESIGN §5, Flink's
// TwoPhaseCommitSinkFunction): it keeps the records of each checkpoint interval in
// the subtask's operator state and publishes them only once a checkpoint that
// covers them completes, each with a message id fixed when the record was first
// kept. A failure after the checkpoint restores the kept records, and publishing
// them again is harmless because the stream drops a message id it has seen within
// its duplicate window (the control plane checks that window at submit).
//
// Kept records are batches, one state entry per batch written (the job's id, then
// the batch frame), under a sub-key
// that orders them for publishing: the subtask that first kept them, the
// execution attempt, the interval's label and the batch's number. The label of
// the records after barrier n is n+1, so those a checkpoint c covers are exactly
// those labelled c or less. Ids embed all four and the record's index, so they
// never repeat across attempts, intervals or rescaling.
//
// It belongs to the task goroutine.
type ExactlyOnceSink struct {
	sink    *Sink
	b       *state.Backend
	st      state.State
	jobID   string
	subtask int
	attempt uint64

	label uint64 // label of the records being kept now
	batch uint32 // number of the next batch in this interval
	sub   []byte
	val   []byte
	frame record.Batch

	// published is the newest checkpoint whose batches were published; inflight
	// are the sub-keys of published batches not yet known acknowledged.
	published uint64
	inflight  [][]byte
}

// pendingState is the name of the operator state holding kept records.
const pendingState = "pending"

// NewExactlyOnceSink returns a sink that keeps records in b under the step's
// operator state until their checkpoint completes. restored is the id of the
// checkpoint the subtask restored (0 for none): the records it kept belong to a
// completed checkpoint and are published by Recover.
func NewExactlyOnceSink(sink *Sink, b *state.Backend, stepID, jobID string, subtask int, attempt, restored uint64) (*ExactlyOnceSink, error) {
	st, err := b.Register(stepID, pendingState, state.Map, 0)
	if err != nil {
		return nil, fmt.Errorf("registering the sink's pending records: %w", err)
	}
	return &ExactlyOnceSink{sink: sink, b: b, st: st, jobID: jobID, subtask: subtask, attempt: attempt, label: restored + 1}, nil
}

// pendingKey is the sub-key of one kept batch.
func pendingKey(dst []byte, subtask int, attempt, label uint64, batch uint32) []byte {
	dst = binary.BigEndian.AppendUint16(dst, uint16(subtask))
	dst = binary.BigEndian.AppendUint64(dst, attempt)
	dst = binary.BigEndian.AppendUint64(dst, label)
	return binary.BigEndian.AppendUint32(dst, batch)
}

const pendingKeySize = 2 + 8 + 8 + 4

// Write keeps the records of b for the current interval. The backend's batch
// commit makes them part of the next snapshot.
func (s *ExactlyOnceSink) Write(b *record.Batch) error {
	if b.Len() == 0 {
		return nil
	}
	s.sub = pendingKey(s.sub[:0], s.subtask, s.attempt, s.label, s.batch)
	s.batch++
	// The value leads with the job's id: a job restored from another job's
	// savepoint or checkpoint publishes the kept records under their first ids.
	s.val = append(append(append(s.val[:0], byte(len(s.jobID))), s.jobID...), b.Bytes()...)
	if err := s.b.Put(s.st, state.OperatorKeyGroup, nil, nil, s.sub, s.val); err != nil {
		return fmt.Errorf("keeping records for checkpoint: %w", err)
	}
	return nil
}

// Barrier starts the interval after checkpoint id's barrier.
func (s *ExactlyOnceSink) Barrier(id uint64) {
	s.label, s.batch = id+1, 0
}

// Commit publishes every kept batch that checkpoint id covers and returns the
// number of records it published. It does not wait for the stream: the batches
// stay kept (and in every snapshot taken meanwhile, which is harmless, since a
// re-publish is dropped by the stream) until Reap finds every publish
// acknowledged and forgets them. The task goes on processing meanwhile.
func (s *ExactlyOnceSink) Commit(ctx context.Context, id uint64) (int, error) {
	if err := s.Reap(); err != nil {
		return 0, err
	}
	if id <= s.published {
		return 0, nil
	}
	n, err := s.settle(ctx, s.published, id, true)
	s.published = id
	return n, err
}

// Reap forgets the published batches once the stream has acknowledged every
// publish; it returns the first publish failure, which fails the task (a restore
// then publishes the batches again).
func (s *ExactlyOnceSink) Reap() error {
	if err := s.sink.Err(); err != nil {
		return err
	}
	if len(s.inflight) == 0 || s.sink.Pending() > 0 {
		return nil
	}
	for _, sub := range s.inflight {
		if err := s.b.Delete(s.st, state.OperatorKeyGroup, nil, nil, sub); err != nil {
			return fmt.Errorf("forgetting published records: %w", err)
		}
	}
	s.inflight = s.inflight[:0]
	return s.b.Commit()
}

// Flush waits until the stream has acknowledged every publish and forgets the
// published batches: the task calls it before it ends.
func (s *ExactlyOnceSink) Flush(ctx context.Context) error {
	if err := s.sink.Sync(ctx); err != nil {
		return err
	}
	return s.Reap()
}

// Drop forgets every kept batch that checkpoint id covers without publishing it:
// they were published already, by the job that took the restored savepoint.
func (s *ExactlyOnceSink) Drop(id uint64) error {
	if _, err := s.settle(context.Background(), 0, id, false); err != nil {
		return err
	}
	s.published = id
	return s.b.Commit()
}

// settle publishes (or, without publish, deletes) the kept batches labelled in
// (after, upTo]; published ones join inflight.
func (s *ExactlyOnceSink) settle(ctx context.Context, after, upTo uint64, publish bool) (int, error) {
	it := s.b.Iterator(s.st, state.OperatorKeyGroup, nil, nil)
	var done [][]byte
	n := 0
	for {
		sub, val, ok := it.Next()
		if !ok {
			break
		}
		if len(sub) != pendingKeySize {
			it.Close()
			return n, fmt.Errorf("kept records under a malformed key of %d bytes", len(sub))
		}
		if label := binary.BigEndian.Uint64(sub[10:]); label <= after || label > upTo {
			continue
		}
		if publish {
			if len(val) < 1 || len(val) < 1+int(val[0]) {
				it.Close()
				return n, fmt.Errorf("kept records are corrupt: %d bytes", len(val))
			}
			job := string(val[1 : 1+int(val[0])])
			if err := s.frame.SetFrame(val[1+int(val[0]):]); err != nil {
				it.Close()
				return n, fmt.Errorf("kept records are corrupt: %w", err)
			}
			if err := s.sink.WriteIDs(ctx, &s.frame, idBase(job, sub), 0); err != nil {
				it.Close()
				return n, err
			}
			n += s.frame.Len()
		}
		done = append(done, append([]byte(nil), sub...))
	}
	if err := it.Close(); err != nil {
		return n, fmt.Errorf("reading kept records: %w", err)
	}
	if publish {
		s.inflight = append(s.inflight, done...)
		return n, nil
	}
	for _, sub := range done {
		if err := s.b.Delete(s.st, state.OperatorKeyGroup, nil, nil, sub); err != nil {
			return n, fmt.Errorf("forgetting published records: %w", err)
		}
	}
	return n, nil
}

// idBase is the message id prefix of a kept batch: job, first subtask, attempt,
// label and batch number; the record's index in the batch follows.
func idBase(job string, sub []byte) string {
	return job + "." + strconv.FormatUint(uint64(binary.BigEndian.Uint16(sub)), 10) +
		"." + strconv.FormatUint(binary.BigEndian.Uint64(sub[2:]), 10) +
		"." + strconv.FormatUint(binary.BigEndian.Uint64(sub[10:]), 10) +
		"." + strconv.FormatUint(uint64(binary.BigEndian.Uint32(sub[18:])), 10) + "."
}
