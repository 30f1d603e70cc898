package exchange

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
)

// Net carries a worker's channels to and from other processes over core NATS, with
// credit-based flow control: a receiver grants its senders room for a number of
// frames, a sender sends only what it has credit for, and so NATS never holds more
// for a receiver than it can take and never drops for a slow consumer.
//
// Bulk frames go over the data connection, credit grants over a separate credit
// connection, so that grants are never stuck behind data. Net is safe for
// concurrent use.
type Net struct {
	data, credit *nats.Conn
	logger       *slog.Logger

	// budget is how many frames the receivers of this worker may have granted at
	// once; it keeps what the server may queue for the data connection under the
	// server's max_pending.
	budget int

	mu       sync.Mutex
	reserved int // frames of budget held by attached gates; guarded by mu
}

// DefaultCreditBudget keeps outstanding credit per data connection at 768 frames.
// A frame carries at most 64 KiB, and in practice one 32 KiB buffer: 24 MiB, at
// worst 48 MiB, under nats-server's default max_pending of 64 MiB.
const DefaultCreditBudget = 768

// NewNet returns a Net over the two connections, which the caller owns and closes
// after every gate and writer of the worker is closed.
func NewNet(data, credit *nats.Conn, budget int, logger *slog.Logger) *Net {
	if budget <= 0 {
		budget = DefaultCreditBudget
	}
	return &Net{data: data, credit: credit, budget: budget, logger: logger}
}

// retryInterval is how often a receiver repeats its grants to senders whose hello
// has not arrived: a fresh subscription takes a moment to reach every server of a
// cluster, and until it has, messages to it are dropped.
const retryInterval = 50 * time.Millisecond

// refreshInterval is how often a receiver repeats every channel's grant total,
// which heals a grant lost in a route reconnection.
const refreshInterval = time.Second

// Attach connects the upstream channels listed in remote (their subtask indexes)
// to g through NATS: it subscribes to g's data subject and grants every such
// channel its initial credit, repeating the grant until the sender's hello arrives.
func (n *Net) Attach(g *Gate, remote []int) error {
	if len(remote) == 0 {
		return nil
	}
	per := g.perChannel
	want := per*len(remote) + g.floating
	n.mu.Lock()
	free := n.budget - n.reserved
	if want > free {
		// Shrink to what is left: one frame per channel at the least.
		per = max(1, (free-g.floating)/len(remote))
		want = per*len(remote) + g.floating
		if want > free {
			want = per * len(remote)
		}
	}
	if want > free {
		n.mu.Unlock()
		return fmt.Errorf("exchange %s: %d remote channels need more credit than the worker has left (%d of %d frames)", g.key, len(remote), free, n.budget)
	}
	n.reserved += want
	n.mu.Unlock()

	in := &inbound{net: n, gate: g, key: g.key, reserved: want, chans: make([]*inChannel, g.channels), stop: make(chan struct{})}
	in.floatFree = want - per*len(remote)
	for _, c := range remote {
		if c < 0 || c >= g.channels {
			n.release(want)
			return fmt.Errorf("exchange %s: remote channel %d out of range", g.key, c)
		}
		in.chans[c] = &inChannel{in: in, from: c, expect: 1, granted: uint64(per), creditSubject: creditSubject(g.key, c)}
	}
	sub, err := n.data.Subscribe(dataSubject(g.key), in.onFrame)
	if err != nil {
		n.release(want)
		return fmt.Errorf("exchange %s: subscribing: %w", g.key, err)
	}
	// Credit bounds what arrives; the client-side limits must never drop first.
	_ = sub.SetPendingLimits(-1, -1)
	in.sub = sub
	g.mu.Lock()
	g.remote = in
	g.mu.Unlock()
	in.wg.Add(1)
	go in.regrant()
	return nil
}

func (n *Net) release(frames int) {
	n.mu.Lock()
	n.reserved -= frames
	n.mu.Unlock()
}

// inbound is the NATS side of one gate.
type inbound struct {
	net      *Net
	gate     *Gate
	key      Key
	sub      *nats.Subscription
	reserved int
	stop     chan struct{}
	wg       sync.WaitGroup

	mu        sync.Mutex
	chans     []*inChannel // nil for local channels; fields guarded by mu
	floatFree int          // guarded by mu
	closed    bool         // guarded by mu
	grantBuf  []byte       // guarded by mu
}

// inChannel is one remote upstream channel of a gate. Its fields are guarded by
// the inbound's mu.
type inChannel struct {
	in            *inbound
	from          int
	creditSubject string
	hello         bool
	expect        uint64 // next sequence number
	granted       uint64 // total frames granted
	received      uint64 // total frames received
	consumed      uint64 // total frames whose room is free again (taken, or fragments)
	floatingHeld  int    // floating credit the channel holds
	backlog       int    // the sender's last reported backlog
	partial       []byte // a buffer being reassembled from fragments
}

// onFrame handles one frame. NATS calls it from one goroutine per subscription, so
// frames of a channel are handled in order.
func (in *inbound) onFrame(msg *nats.Msg) {
	h, payload, err := parseFrameHeader(msg.Data)
	if err != nil {
		in.gate.fail(err)
		return
	}
	in.mu.Lock()
	if in.closed {
		in.mu.Unlock()
		return
	}
	if h.from < 0 || h.from >= len(in.chans) || in.chans[h.from] == nil {
		in.mu.Unlock()
		in.gate.fail(fmt.Errorf("frame from channel %d, which is not a remote channel of this gate", h.from))
		return
	}
	c := in.chans[h.from]
	if h.kind == kindHello {
		c.hello = true
		in.grantLocked(c)
		in.mu.Unlock()
		return
	}
	var failure error
	switch {
	case !c.hello:
		failure = fmt.Errorf("channel %d sent frame %d before its handshake", c.from, h.seq)
	case h.seq != c.expect:
		failure = fmt.Errorf("channel %d lost frames: expected sequence %d, got %d", c.from, c.expect, h.seq)
	case c.received >= c.granted:
		failure = fmt.Errorf("channel %d sent frame %d without credit (granted %d)", c.from, h.seq, c.granted)
	}
	if failure != nil {
		in.closed = true
		in.mu.Unlock()
		in.gate.fail(failure)
		return
	}
	c.expect++
	c.received++
	c.backlog = h.backlog
	if h.backlog > 0 && in.floatFree > 0 {
		// Floating credit goes where the senders say buffers wait.
		give := min(h.backlog, in.floatFree)
		in.floatFree -= give
		c.floatingHeld += give
		c.granted += uint64(give)
		in.grantLocked(c)
	}
	if h.more {
		c.partial = append(c.partial, payload...)
		// A fragment is not queued for the reader: its credit returns at once.
		in.tookLocked(c)
		in.mu.Unlock()
		return
	}
	if c.partial != nil {
		payload = append(c.partial, payload...)
		c.partial = nil
	}
	in.mu.Unlock()
	// msg.Data is this subscription's own copy (nats.go allocates one per message):
	// the batch adopts it instead of copying it once more.

	b := NewBuffer()
	b.Kind, b.Channel, b.in = h.kind, h.from, c
	switch h.kind {
	case Data:
		err = b.Batch.Adopt(payload)
	case Marker:
		err = json.Unmarshal(payload, &b.Positions)
	case Watermark:
		if len(payload) != 9 {
			err = fmt.Errorf("watermark of %d bytes, want 9", len(payload))
			break
		}
		b.Watermark = int64(binary.LittleEndian.Uint64(payload))
		b.Idle = payload[8]&watermarkIdle != 0
	case Barrier, EndOfPartition:
		switch len(payload) {
		case 9:
			b.Savepoint = payload[8]&barrierSavepoint != 0
			b.Checkpoint = binary.LittleEndian.Uint64(payload)
		case 8:
			b.Checkpoint = binary.LittleEndian.Uint64(payload)
		case 0:
			if h.kind == Barrier {
				err = errors.New("barrier without its checkpoint id")
			}
		default:
			err = fmt.Errorf("%s of %d bytes, want 8", h.kind, len(payload))
		}
	}
	if err != nil {
		Release(b)
		in.gate.fail(fmt.Errorf("channel %d frame %d: %w", c.from, h.seq, err))
		return
	}
	select {
	case in.gate.ch <- b:
	default:
		Release(b)
		in.gate.fail(fmt.Errorf("channel %d frame %d found the gate full: credit accounting is broken", c.from, h.seq))
	}
}

// took returns the credit of a buffer the reader took from the gate.
func (c *inChannel) took() {
	in := c.in
	in.mu.Lock()
	in.tookLocked(c)
	in.mu.Unlock()
}

func (in *inbound) tookLocked(c *inChannel) {
	c.consumed++
	if c.floatingHeld > 0 && c.backlog == 0 {
		// The sender has nothing waiting: the floating credit goes back to the pool.
		c.floatingHeld--
		in.floatFree++
		return
	}
	c.granted++
	in.grantLocked(c)
}

func (in *inbound) grantLocked(c *inChannel) {
	if in.closed {
		return
	}
	in.grantBuf = appendGrant(in.grantBuf[:0], in.key.Subtask, c.granted, c.hello)
	if err := in.net.credit.Publish(c.creditSubject, in.grantBuf); err != nil {
		in.net.logger.Warn("granting credit", "gate", in.key.String(), "channel", c.from, "err", err)
	}
}

// regrant repeats grants: often while some sender's hello is missing, then rarely.
func (in *inbound) regrant() {
	defer in.wg.Done()
	t := time.NewTicker(retryInterval)
	defer t.Stop()
	last := time.Now()
	for {
		select {
		case <-in.stop:
			return
		case <-t.C:
		}
		in.mu.Lock()
		waiting := false
		for _, c := range in.chans {
			if c != nil && !c.hello {
				waiting = true
			}
		}
		if waiting || time.Since(last) >= refreshInterval {
			for _, c := range in.chans {
				if c != nil {
					in.grantLocked(c)
				}
			}
			last = time.Now()
		}
		in.mu.Unlock()
	}
}

// Credit is, summed over the gate's remote channels, the frames received and not
// yet taken (queued) and the room the receiver has granted beyond what was taken
// (window). Flow control promises queued ≤ window on every channel: a sender
// never sends without credit.
func (g *Gate) Credit() (queued, window int) {
	g.mu.Lock()
	in := g.remote
	g.mu.Unlock()
	if in == nil {
		return 0, 0
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	for _, c := range in.chans {
		if c != nil {
			queued += int(c.received - c.consumed)
			window += int(c.granted - c.consumed)
		}
	}
	return queued, window
}

func (in *inbound) close() {
	in.mu.Lock()
	if in.closed && in.sub == nil {
		in.mu.Unlock()
		return
	}
	in.closed = true
	sub := in.sub
	in.sub = nil
	in.mu.Unlock()
	close(in.stop)
	if sub != nil {
		_ = sub.Unsubscribe()
	}
	in.wg.Wait()
	in.net.release(in.reserved)
}

// Dial returns the channel from upstream subtask from to the downstream subtask k
// in another process. Its Send blocks while the receiver has granted no credit
// and maxWaiting buffers already wait.
func (n *Net) Dial(k Key, from int, stats *Stats) (*RemoteOutput, error) {
	o := &RemoteOutput{net: n, key: k, from: from, subject: dataSubject(k), stats: stats,
		work: make(chan struct{}, 1), space: make(chan struct{}, 1), done: make(chan struct{})}
	sub, err := n.credit.Subscribe(creditSubject(k, from), o.onGrant)
	if err != nil {
		return nil, fmt.Errorf("exchange %s: subscribing to credit: %w", k, err)
	}
	o.sub = sub
	go o.publish()
	return o, nil
}

// Stats are a task's exchange counters, shared by its outputs.
type Stats struct {
	// BytesOut counts frame bytes sent to other processes.
	BytesOut atomic.Uint64
	// Waiting counts buffers that wait for credit, over all outputs.
	Waiting atomic.Int64
}

// maxWaiting is how many buffers a remote output holds, waiting for credit or for
// its publisher, before Send blocks the task.
const maxWaiting = 8

// RemoteOutput is an Output to a subtask in another process. The task's goroutine
// queues buffers (Send); the output's own publisher goroutine frames them and
// publishes them as credit allows, so that encoding records and writing to the
// socket overlap.
type RemoteOutput struct {
	net     *Net
	key     Key
	from    int
	subject string
	sub     *nats.Subscription
	stats   *Stats
	work    chan struct{} // wakes the publisher: credit or a buffer arrived
	space   chan struct{} // wakes Send and Drain: the queue shrank or an error
	done    chan struct{} // closed when the publisher returns

	mu         sync.Mutex
	granted    uint64    // total frames granted; guarded by mu
	sent       uint64    // total frames framed for sending (= last sequence number); guarded by mu
	acked      bool      // the receiver saw our hello; guarded by mu
	queue      []*Buffer // waiting to be published; guarded by mu
	offset     int       // bytes of queue[0]'s payload already framed; guarded by mu
	publishing bool      // the publisher holds a frame it has not published yet; guarded by mu
	closed     bool      // guarded by mu
	err        error     // guarded by mu

	hello []byte // scratch for hello frames; used by onGrant only
	frame []byte // scratch for data frames; used by the publisher only
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// Send implements Output.
func (o *RemoteOutput) Send(ctx context.Context, b *Buffer) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.err != nil {
		Release(b)
		return o.err
	}
	o.queue = append(o.queue, b)
	o.stats.Waiting.Add(1)
	signal(o.work)
	for len(o.queue) > maxWaiting && o.err == nil {
		o.mu.Unlock()
		select {
		case <-o.space:
		case <-ctx.Done():
			o.mu.Lock()
			return ctx.Err()
		}
		o.mu.Lock()
	}
	return o.err
}

func (o *RemoteOutput) onGrant(msg *nats.Msg) {
	_, total, helloSeen, err := parseGrant(msg.Data)
	if err != nil {
		o.net.logger.Warn("bad credit grant", "channel", o.key.String(), "err", err)
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if total > o.granted {
		o.granted = total
	}
	switch {
	case helloSeen:
		o.acked = true
	case !o.acked && !o.closed:
		// No data frame goes out before the hello is acknowledged, so the hello
		// cannot overtake one.
		o.hello = appendFrameHeader(o.hello[:0], frameHeader{kind: kindHello, from: o.from})
		if err := o.net.data.Publish(o.subject, o.hello); err != nil && o.err == nil {
			o.err = fmt.Errorf("exchange %s: publishing: %w", o.key, err)
			signal(o.space)
		}
	}
	signal(o.work)
}

// publish is the output's publisher goroutine: it frames queued buffers while
// there is credit and publishes each frame outside the lock.
func (o *RemoteOutput) publish() {
	defer close(o.done)
	o.mu.Lock()
	for {
		for !o.closed && o.err == nil && !(o.acked && len(o.queue) > 0 && o.sent < o.granted) {
			o.mu.Unlock()
			<-o.work
			o.mu.Lock()
		}
		if o.closed || o.err != nil {
			o.mu.Unlock()
			return
		}
		b := o.queue[0]
		payload := o.payloadLocked(b)
		rest := payload[o.offset:]
		more := len(rest) > MaxFramePayload
		if more {
			rest = rest[:MaxFramePayload]
		}
		o.sent++
		o.frame = appendFrameHeader(o.frame[:0], frameHeader{kind: b.Kind, more: more, from: o.from, seq: o.sent, backlog: len(o.queue) - 1})
		o.frame = append(o.frame, rest...)
		if more {
			o.offset += len(rest)
		} else {
			o.offset = 0
			o.queue[0] = nil
			o.queue = o.queue[1:]
		}
		o.publishing = true
		o.mu.Unlock()

		err := o.net.data.Publish(o.subject, o.frame)
		o.stats.BytesOut.Add(uint64(len(o.frame)))
		if !more {
			Release(b)
			o.stats.Waiting.Add(-1)
		}

		o.mu.Lock()
		o.publishing = false
		if err != nil && o.err == nil {
			o.err = fmt.Errorf("exchange %s: publishing: %w", o.key, err)
		}
		signal(o.space)
	}
}

func (o *RemoteOutput) payloadLocked(b *Buffer) []byte {
	switch b.Kind {
	case Data:
		return b.Batch.Bytes()
	case Marker:
		if b.encoded == nil {
			// Markers are rare (twice a second): JSON keeps them readable.
			b.encoded, _ = json.Marshal(b.Positions)
		}
		return b.encoded
	case Barrier, EndOfPartition:
		if b.encoded == nil && b.Checkpoint != 0 {
			b.encoded = binary.LittleEndian.AppendUint64(nil, b.Checkpoint)
			if b.Savepoint {
				b.encoded = append(b.encoded, barrierSavepoint)
			}
		}
		return b.encoded
	case Watermark:
		if b.encoded == nil {
			b.encoded = binary.LittleEndian.AppendUint64(make([]byte, 0, 9), uint64(b.Watermark))
			var flags byte
			if b.Idle {
				flags = watermarkIdle
			}
			b.encoded = append(b.encoded, flags)
		}
		return b.encoded
	}
	return nil
}

// barrierSavepoint, in the byte after a barrier's id, marks a savepoint's.
const barrierSavepoint = 0x01

// watermarkIdle, in the byte after a watermark's time, marks an idle status.
const watermarkIdle = 0x01

// flushTimeout bounds the wait for the NATS server to take a drained output's data.
const flushTimeout = 30 * time.Second

// Drain waits until every buffer sent so far has been published, which needs the
// receiver's credit, and the connection has handed it to the server: a task calls
// it after its end of partition.
func (o *RemoteOutput) Drain(ctx context.Context) error {
	o.mu.Lock()
	for (len(o.queue) > 0 || o.publishing) && o.err == nil {
		o.mu.Unlock()
		select {
		case <-o.space:
		case <-ctx.Done():
			return ctx.Err()
		}
		o.mu.Lock()
	}
	err := o.err
	o.mu.Unlock()
	if err != nil {
		return err
	}
	fctx, cancel := context.WithTimeout(ctx, flushTimeout)
	defer cancel()
	return o.net.data.FlushWithContext(fctx)
}

// Close ends the output's credit subscription and its publisher, and drops what
// still waits.
func (o *RemoteOutput) Close() {
	if o.sub != nil {
		_ = o.sub.Unsubscribe()
	}
	o.mu.Lock()
	o.closed = true
	if o.err == nil {
		o.err = errClosed
	}
	o.mu.Unlock()
	signal(o.work)
	<-o.done
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, b := range o.queue {
		Release(b)
		o.stats.Waiting.Add(-1)
	}
	o.queue = nil
	signal(o.space)
}
