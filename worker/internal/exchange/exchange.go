package exchange

import (
	"context"
	"errors"
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
	// EndOfPartition says the channel carries nothing more. Its Checkpoint, when
	// not 0, is the stop-with-savepoint the end follows: the savepoint completed
	// before the sources ended.
	EndOfPartition
	// Barrier is checkpoint barrier Checkpoint: every record before it belongs to
	// the checkpoint's snapshot, every record after it to the next (DESIGN §5).
	// Its value 4 follows the wire's hello (3).
	Barrier Kind = 4
	// Watermark carries the sender's event-time status: its Watermark (no record
	// with a timestamp at or below it follows on this channel) and whether it is
	// Idle (it holds no downstream clock back until it sends again).
	Watermark Kind = 5
)

func (k Kind) String() string {
	switch k {
	case Data:
		return "data"
	case Marker:
		return "marker"
	case EndOfPartition:
		return "end-of-partition"
	case Barrier:
		return "barrier"
	case Watermark:
		return "watermark"
	}
	return fmt.Sprintf("kind-%d", uint8(k))
}

// Buffer is one unit on a channel.
type Buffer struct {
	Kind Kind
	// Channel is the index of the upstream subtask that sent it.
	Channel int
	// Input is the reader's own mark: which of its gates the buffer came
	// from, for a task with several. The exchange leaves it 0.
	Input int
	Batch record.Batch
	// Positions is the payload of a Marker: source step id -> stream sequence.
	Positions map[string]uint64
	// Checkpoint is the id of a Barrier, or of the stop-with-savepoint an
	// EndOfPartition follows.
	Checkpoint uint64
	// Savepoint marks a Barrier of a savepoint.
	Savepoint bool
	// Watermark and Idle are the payload of a Watermark buffer.
	Watermark int64
	Idle      bool

	// in is the remote channel the buffer arrived on; nil for a local one.
	in *inChannel
	// encoded is a marker's positions as sent over NATS.
	encoded []byte
}

// bufferPool recycles data buffers: a buffer's batch memory is reused by the next
// writer once the reader has processed it.
var bufferPool = sync.Pool{New: func() any { return new(Buffer) }}

// NewBuffer returns an empty data buffer from the pool.
func NewBuffer() *Buffer {
	b := bufferPool.Get().(*Buffer)
	b.Kind = Data
	b.Positions = nil
	b.Checkpoint = 0
	b.Savepoint = false
	b.Watermark, b.Idle = 0, false
	b.Channel, b.Input = 0, 0
	b.in = nil
	b.encoded = nil
	b.Batch.Reset()
	return b
}

// Release returns b to the pool; its owner must not use it afterwards.
func Release(b *Buffer) { bufferPool.Put(b) }

// Output is one channel of a writer: the way to one downstream subtask, in this
// process (a *Gate) or in another one (a remote channel over NATS). Send blocks
// while the receiver has no room (backpressure) and takes ownership of b.
type Output interface {
	Send(ctx context.Context, b *Buffer) error
}

// Gate is the input side of one subtask for one edge: a bounded FIFO queue that
// every upstream subtask of that edge writes into, directly when it runs in this
// process and through a NATS subscription (see Net.Attach) otherwise.
//
// Room is accounted per channel so that no channel starves another: a local writer
// has its own localSlots, and remote channels may only send as many buffers as the
// gate granted them credit for; ch has room for all of that at once, so a delivery
// from NATS never blocks. Per-channel room is what lets a reader hold back the
// buffers of one channel (aligning checkpoint barriers) while the others go on.
type Gate struct {
	key        Key
	ch         chan *Buffer
	localSlots []chan struct{} // by upstream channel
	channels   int
	// perChannel is the room, in buffers, each upstream channel gets.
	perChannel int
	// floating is the room shared by the remote channels that report a backlog.
	floating int

	errOnce sync.Once
	errc    chan error // receives the first remote channel failure

	mu     sync.Mutex
	remote *inbound // guarded by mu; set by Net.Attach
}

// Channels is the number of upstream subtasks writing into the gate.
func (g *Gate) Channels() int { return g.channels }

// Send queues b from a writer in this process, blocking while the local share of
// the gate is full (backpressure) or until ctx ends.
func (g *Gate) Send(ctx context.Context, b *Buffer) error {
	select {
	case g.localSlots[b.Channel] <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	b.in = nil
	g.ch <- b // never blocks: ch has room for every local slot
	return nil
}

// C is the channel the gate's reader receives from. The reader must call Took for
// every buffer it receives, before it releases it.
func (g *Gate) C() <-chan *Buffer { return g.ch }

// Took gives back the room b held: a local slot, or credit to its remote sender.
func (g *Gate) Took(b *Buffer) {
	if b.in == nil {
		<-g.localSlots[b.Channel]
		return
	}
	b.in.took()
}

// Err receives the first failure of a remote channel of the gate: a gap in its
// sequence numbers, a frame it had no credit for, a malformed frame. The reader
// fails its task on it.
func (g *Gate) Err() <-chan error { return g.errc }

func (g *Gate) fail(err error) {
	g.errOnce.Do(func() { g.errc <- fmt.Errorf("exchange %s: %w", g.key, err) })
}

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
	// buffersPerChannel is the queue capacity granted to each upstream channel.
	buffersPerChannel int

	mu    sync.Mutex
	gates map[Key]*Gate // guarded by mu
}

// floatingPerGate is the room a gate shares among remote channels with a backlog.
const floatingPerGate = 8

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
		per := r.buffersPerChannel
		local := channels * per
		g = &Gate{
			key: k,
			// Room for every local slot plus every credit remote channels can hold.
			ch:         make(chan *Buffer, 2*local+floatingPerGate),
			localSlots: make([]chan struct{}, channels),
			channels:   channels,
			perChannel: per,
			floating:   floatingPerGate,
			errc:       make(chan error, 1),
		}
		for c := range g.localSlots {
			g.localSlots[c] = make(chan struct{}, per)
		}
		r.gates[k] = g
	}
	return g
}

// DropJob forgets every gate of one job attempt and ends their NATS subscriptions.
func (r *Registry) DropJob(jobID string, attempt uint64) {
	r.mu.Lock()
	var drop []*Gate
	for k, g := range r.gates {
		if k.JobID == jobID && k.Attempt == attempt {
			delete(r.gates, k)
			drop = append(drop, g)
		}
	}
	r.mu.Unlock()
	for _, g := range drop {
		g.mu.Lock()
		in := g.remote
		g.remote = nil
		g.mu.Unlock()
		if in != nil {
			in.close()
		}
	}
}

var errClosed = errors.New("exchange: closed")
