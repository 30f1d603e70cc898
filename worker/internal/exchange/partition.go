package exchange

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

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
	// PartitionRescale sends records round-robin to the downstream subtasks local
	// to the writer's index: with n upstream and m downstream subtasks, upstream i
	// serves downstream [i*m/n, (i+1)*m/n), or i*m/n alone when that range is empty.
	PartitionRescale
	// PartitionHash sends a record to the subtask owning its key's key group.
	PartitionHash
	// PartitionBroadcast sends every record to every downstream subtask.
	PartitionBroadcast
	// PartitionGlobal sends every record to downstream subtask 0.
	PartitionGlobal
)

// KeyGroupFunc maps a record key to its key group, in [0, maxParallelism).
type KeyGroupFunc func(key []byte) int

// WriterOptions configure a Writer.
type WriterOptions struct {
	Mode Partitioning
	// Channel is the writing subtask's index.
	Channel int
	// Upstream is the writing vertex's parallelism (for rescale).
	Upstream int
	// MaxParallelism and KeyGroup place keys, for hash partitioning.
	MaxParallelism int
	KeyGroup       KeyGroupFunc
	// Blocked, when set, accumulates the nanoseconds Send blocked: backpressure.
	Blocked *atomic.Int64
}

// Writer is the output side of one subtask for one edge. It fills one buffer per
// downstream subtask and sends it when it is full or when Flush is called (the task
// calls Flush when its buffer timeout passes). It belongs to one goroutine.
type Writer struct {
	outs    []Output
	cur     []*Buffer
	opts    WriterOptions
	targets []int // rescale: the downstream subtasks this writer serves
	next    int
	// pending says some buffer holds unsent records.
	pending bool
}

// NewWriter returns a writer onto outs, one per downstream subtask.
func NewWriter(outs []Output, opts WriterOptions) (*Writer, error) {
	n := len(outs)
	if n == 0 {
		return nil, fmt.Errorf("writer for subtask %d has no downstream subtasks", opts.Channel)
	}
	switch opts.Mode {
	case PartitionForward:
		if opts.Channel >= n {
			return nil, fmt.Errorf("forward edge from subtask %d to %d subtasks", opts.Channel, n)
		}
	case PartitionHash:
		if opts.KeyGroup == nil || opts.MaxParallelism < n {
			return nil, fmt.Errorf("hash edge to %d subtasks needs a key group function and max parallelism ≥ %d (have %d)", n, n, opts.MaxParallelism)
		}
	case PartitionRescale:
		if opts.Upstream <= 0 || opts.Channel >= opts.Upstream {
			return nil, fmt.Errorf("rescale edge from subtask %d of %d", opts.Channel, opts.Upstream)
		}
	}
	w := &Writer{outs: outs, cur: make([]*Buffer, n), opts: opts}
	for i := range w.cur {
		w.cur[i] = w.newBuffer()
	}
	if opts.Mode == PartitionRescale {
		w.targets = RescaleTargets(opts.Channel, opts.Upstream, n)
	}
	w.next = opts.Channel % n
	return w, nil
}

// RescaleTargets returns the downstream subtasks upstream subtask i of n serves
// when a rescale edge leads to m subtasks.
func RescaleTargets(i, n, m int) []int {
	lo, hi := i*m/n, (i+1)*m/n
	if hi <= lo {
		return []int{lo}
	}
	out := make([]int, 0, hi-lo)
	for t := lo; t < hi; t++ {
		out = append(out, t)
	}
	return out
}

func (w *Writer) newBuffer() *Buffer {
	b := NewBuffer()
	b.Channel = w.opts.Channel
	return b
}

// Write partitions the records of b.
func (w *Writer) Write(ctx context.Context, b *record.Batch) error {
	if b.Len() == 0 {
		return nil
	}
	w.pending = true
	switch w.opts.Mode {
	case PartitionForward:
		return w.appendAll(ctx, w.opts.Channel, b)
	case PartitionGlobal:
		return w.appendAll(ctx, 0, b)
	case PartitionBroadcast:
		for t := range w.outs {
			if err := w.appendAll(ctx, t, b); err != nil {
				return err
			}
		}
		return nil
	}
	r := b.Reader()
	var v record.View
	n := len(w.outs)
	for r.Next(&v) {
		var t int
		switch w.opts.Mode {
		case PartitionHash:
			t = w.opts.KeyGroup(v.Key) * n / w.opts.MaxParallelism
		case PartitionRescale:
			t = w.targets[w.next%len(w.targets)]
			w.next++
		default: // rebalance
			t = w.next
			if w.next++; w.next == n {
				w.next = 0
			}
		}
		w.cur[t].Batch.AppendEncoded(r.Raw(), 1)
		if w.cur[t].Batch.Size() >= BufferSize {
			if err := w.send(ctx, t); err != nil {
				return err
			}
		}
	}
	return r.Err()
}

// appendAll appends every record of b to target t's buffer.
func (w *Writer) appendAll(ctx context.Context, t int, b *record.Batch) error {
	w.cur[t].Batch.AppendEncoded(b.Records(), b.Len())
	if w.cur[t].Batch.Size() >= BufferSize {
		return w.send(ctx, t)
	}
	return nil
}

func (w *Writer) send(ctx context.Context, t int) error {
	b := w.cur[t]
	w.cur[t] = w.newBuffer()
	return w.sendBuffer(ctx, t, b)
}

func (w *Writer) sendBuffer(ctx context.Context, t int, b *Buffer) error {
	if w.opts.Blocked == nil {
		return w.outs[t].Send(ctx, b)
	}
	start := time.Now()
	err := w.outs[t].Send(ctx, b)
	w.opts.Blocked.Add(int64(time.Since(start)))
	return err
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
	return w.toAll(ctx, func(b *Buffer) { b.Kind, b.Positions = kind, positions })
}

// Barrier flushes and then sends checkpoint barrier id to every downstream
// subtask, behind every record written before it.
// savepoint marks the barrier of a savepoint, whose snapshots are uploaded in
// full.
func (w *Writer) Barrier(ctx context.Context, id uint64, savepoint bool) error {
	return w.event(ctx, Barrier, id, savepoint)
}

// End flushes and then sends the end of partition to every downstream subtask;
// stopSavepoint, when not 0, is the stop-with-savepoint the end follows.
func (w *Writer) End(ctx context.Context, stopSavepoint uint64) error {
	return w.event(ctx, EndOfPartition, stopSavepoint, false)
}

// Watermark flushes and then sends the event-time status (wm, idle) to every
// downstream subtask, behind every record written before it: watermarks are
// broadcast whatever the edge's partitioning.
func (w *Writer) Watermark(ctx context.Context, wm int64, idle bool) error {
	return w.toAll(ctx, func(b *Buffer) { b.Kind, b.Watermark, b.Idle = Watermark, wm, idle })
}

func (w *Writer) event(ctx context.Context, kind Kind, id uint64, savepoint bool) error {
	return w.toAll(ctx, func(b *Buffer) { b.Kind, b.Checkpoint, b.Savepoint = kind, id, savepoint })
}

// toAll flushes and then sends one event buffer, filled in by fill, to every
// downstream subtask.
func (w *Writer) toAll(ctx context.Context, fill func(*Buffer)) error {
	if err := w.Flush(ctx); err != nil {
		return err
	}
	for t := range w.outs {
		b := NewBuffer()
		b.Channel = w.opts.Channel
		fill(b)
		if err := w.sendBuffer(ctx, t, b); err != nil {
			return err
		}
	}
	return nil
}

// Drain waits until every buffer sent has left this process (remote outputs hold
// buffers until the receiver grants credit).
func (w *Writer) Drain(ctx context.Context) error {
	for _, o := range w.outs {
		if d, ok := o.(interface{ Drain(context.Context) error }); ok {
			if err := d.Drain(ctx); err != nil {
				return err
			}
		}
	}
	return nil
}

// Close returns the writer's empty buffers to the pool and closes its remote outputs.
func (w *Writer) Close() {
	for _, b := range w.cur {
		if b != nil {
			Release(b)
		}
	}
	w.cur = nil
	for _, o := range w.outs {
		if c, ok := o.(interface{ Close() }); ok {
			c.Close()
		}
	}
}
