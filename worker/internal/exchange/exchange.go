package exchange

import (
	"context"
	"fmt"
	"sync"

	"github.com/weir-streams/weir/internal/record"
)

// Kind says what a Buffer carries.
type Kind uint8

const (
	// Data carries a batch of records.
	Data Kind = iota
	// Marker carries progress positions: every record of those sources up to those
	// sequences is ahead of the marker on this channel.
	Marker
	// EndOfPartition says the channel carries nothing more.
	EndOfPartition
)

// Buffer is one unit on a channel.
type Buffer struct {
	Kind Kind
	// Channel is the index of the upstream subtask that sent it.
	Channel int
	Batch   record.Batch
	// Positions is the payload of a Marker: source step id -> stream sequence.
	Positions map[string]uint64
}

// bufferPool recycles data buffers: a buffer's batch memory is reused by the next
// writer once the reader has processed it.
var bufferPool = sync.Pool{New: func() any { return new(Buffer) }}

// NewBuffer returns an empty data buffer from the pool.
func NewBuffer() *Buffer {
	b := bufferPool.Get().(*Buffer)
	b.Kind = Data
	b.Positions = nil
	b.Batch.Reset()
	return b
}

// Release returns b to the pool; its owner must not use it afterwards.
func Release(b *Buffer) { bufferPool.Put(b) }

// Gate is a bounded queue of buffers from the upstream subtasks of one edge.
type Gate struct {
	ch       chan *Buffer
	channels int
}

// Channels is the number of upstream subtasks writing into the gate.
func (g *Gate) Channels() int { return g.channels }

// Send queues b, blocking while the gate is full (backpressure) or until ctx ends.
func (g *Gate) Send(ctx context.Context, b *Buffer) error {
	select {
	case g.ch <- b:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// C is the channel the gate's reader receives from.
func (g *Gate) C() <-chan *Buffer { return g.ch }

// Key names a gate.
type Key struct {
	JobID   string
	Attempt uint64
	Edge    int
	Subtask int
}

func (k Key) String() string {
	return fmt.Sprintf("%s/%d/edge-%d[%d]", k.JobID, k.Attempt, k.Edge, k.Subtask)
}

// Registry hands out the gates of one worker. It is safe for concurrent use.
type Registry struct {
	// BuffersPerChannel is the queue capacity granted to each upstream channel.
	buffersPerChannel int

	mu    sync.Mutex
	gates map[Key]*Gate // guarded by mu
}

// NewRegistry returns a registry whose gates hold buffersPerChannel buffers for each
// upstream channel.
func NewRegistry(buffersPerChannel int) *Registry {
	return &Registry{buffersPerChannel: max(1, buffersPerChannel), gates: map[Key]*Gate{}}
}

// Gate returns the gate for k, creating it for channels upstream subtasks.
func (r *Registry) Gate(k Key, channels int) *Gate {
	r.mu.Lock()
	defer r.mu.Unlock()
	g, ok := r.gates[k]
	if !ok {
		g = &Gate{ch: make(chan *Buffer, channels*r.buffersPerChannel), channels: channels}
		r.gates[k] = g
	}
	return g
}

// DropJob forgets every gate of one job attempt.
func (r *Registry) DropJob(jobID string, attempt uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for k := range r.gates {
		if k.JobID == jobID && k.Attempt == attempt {
			delete(r.gates, k)
		}
	}
}
