package exchange

import (
	"context"
	"fmt"

	"github.com/weir-streams/weir/internal/record"
)

// BufferSize is the size at which a partially filled buffer is sent downstream.
const BufferSize = 32 << 10

// Partitioning names how a Writer spreads records over the downstream subtasks.
type Partitioning int

const (
	// PartitionForward sends every record to the downstream subtask with the
	// writer's own index (both sides have the same parallelism).
	PartitionForward Partitioning = iota
	// PartitionRebalance sends records round-robin to every downstream subtask.
	PartitionRebalance
)

// Writer is the output side of one subtask for one edge. It fills one buffer per
// downstream subtask and sends it when it is full or when Flush is called (the task
// calls Flush when its buffer timeout passes). It belongs to one goroutine.
type Writer struct {
	gates   []*Gate
	cur     []*Buffer
	mode    Partitioning
	channel int
	next    int
	// pending says some buffer holds unsent records.
	pending bool
}

// NewWriter returns a writer for the subtask with index channel onto gates, one per
// downstream subtask.
func NewWriter(gates []*Gate, mode Partitioning, channel int) (*Writer, error) {
	if mode == PartitionForward && channel >= len(gates) {
		return nil, fmt.Errorf("forward edge from subtask %d to %d subtasks", channel, len(gates))
	}
	w := &Writer{gates: gates, cur: make([]*Buffer, len(gates)), mode: mode, channel: channel, next: channel % len(gates)}
	for i := range w.cur {
		w.cur[i] = w.newBuffer()
	}
	return w, nil
}

func (w *Writer) newBuffer() *Buffer {
	b := NewBuffer()
	b.Channel = w.channel
	return b
}

// Write partitions the records of b.
func (w *Writer) Write(ctx context.Context, b *record.Batch) error {
	if b.Len() == 0 {
		return nil
	}
	w.pending = true
	if w.mode == PartitionForward {
		t := w.channel
		w.cur[t].Batch.AppendEncoded(b.Records(), b.Len())
		if w.cur[t].Batch.Size() >= BufferSize {
			return w.send(ctx, t)
		}
		return nil
	}
	r := b.Reader()
	var v record.View
	for r.Next(&v) {
		t := w.next
		w.next++
		if w.next == len(w.gates) {
			w.next = 0
		}
		w.cur[t].Batch.Append(&v)
		if w.cur[t].Batch.Size() >= BufferSize {
			if err := w.send(ctx, t); err != nil {
				return err
			}
		}
	}
	return r.Err()
}

func (w *Writer) send(ctx context.Context, t int) error {
	b := w.cur[t]
	w.cur[t] = w.newBuffer()
	return w.gates[t].Send(ctx, b)
}

// Flush sends every buffer that holds records.
func (w *Writer) Flush(ctx context.Context) error {
	if !w.pending {
		return nil
	}
	for t := range w.cur {
		if w.cur[t].Batch.Len() > 0 {
			if err := w.send(ctx, t); err != nil {
				return err
			}
		}
	}
	w.pending = false
	return nil
}

// Broadcast flushes and then sends an event to every downstream subtask, so that it
// follows every record written before it.
func (w *Writer) Broadcast(ctx context.Context, kind Kind, positions map[string]uint64) error {
	if err := w.Flush(ctx); err != nil {
		return err
	}
	for _, g := range w.gates {
		b := &Buffer{Kind: kind, Channel: w.channel, Positions: positions}
		if err := g.Send(ctx, b); err != nil {
			return err
		}
	}
	return nil
}

// Close returns the writer's empty buffers to the pool.
func (w *Writer) Close() {
	for _, b := range w.cur {
		if b != nil {
			Release(b)
		}
	}
	w.cur = nil
}
