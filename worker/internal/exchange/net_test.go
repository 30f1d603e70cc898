package exchange

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/weir-streams/weir/internal/embednats"
	"github.com/weir-streams/weir/internal/record"
)

// natsURL starts a NATS server for the test and returns its client URL.
func natsURL(t testing.TB) string {
	t.Helper()
	ns, err := embednats.Start(embednats.Options{Dir: t.TempDir(), Port: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	return ns.ClientURL()
}

func natsURLB(b *testing.B) string { return natsURL(b) }

func connB(tb testing.TB, url string) *nats.Conn {
	nc, err := nats.Connect(url)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(nc.Close)
	return nc
}

// newNet returns a Net with its own two TCP connections: one worker process.
func newNet(t *testing.T, url string) *Net {
	t.Helper()
	conn := func() *nats.Conn {
		nc, err := nats.Connect(url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		return nc
	}
	return NewNet(conn(), conn(), 0, slog.Default())
}

// reader drains a gate in the background, checking each channel's order.
type reader struct {
	mu         sync.Mutex
	records    map[int][]string
	kinds      map[int][]Kind
	barriers   map[int]uint64 // the last barrier id per channel
	savepoints map[int]bool   // whether it was a savepoint's
	watermarks map[int]Buffer // the last watermark per channel
	maxQueue   int
	maxOver    int // the largest queued - credit seen; must stay ≤ 0
	err        error
}

func readGate(ctx context.Context, g *Gate, ends int, slow time.Duration) (*reader, chan struct{}) {
	r := &reader{records: map[int][]string{}, kinds: map[int][]Kind{}, barriers: map[int]uint64{}, savepoints: map[int]bool{}, watermarks: map[int]Buffer{}, maxOver: -1 << 30}
	done := make(chan struct{})
	go func() {
		defer close(done)
		ended := 0
		for ended < ends {
			q, c := g.Credit()
			r.mu.Lock()
			r.maxQueue = max(r.maxQueue, q)
			r.maxOver = max(r.maxOver, q-c)
			r.mu.Unlock()
			select {
			case b := <-g.C():
				r.mu.Lock()
				r.kinds[b.Channel] = append(r.kinds[b.Channel], b.Kind)
				if b.Kind == Barrier {
					r.barriers[b.Channel] = b.Checkpoint
					r.savepoints[b.Channel] = b.Savepoint
				}
				if b.Kind == Watermark {
					r.watermarks[b.Channel] = Buffer{Watermark: b.Watermark, Idle: b.Idle}
				}
				rd := b.Batch.Reader()
				var v record.View
				for b.Kind == Data && rd.Next(&v) {
					r.records[b.Channel] = append(r.records[b.Channel], string(v.Payload))
				}
				r.mu.Unlock()
				if b.Kind == EndOfPartition {
					ended++
				}
				g.Took(b)
				Release(b)
				if slow > 0 {
					time.Sleep(slow) // a slow reader, to build up backpressure
				}
			case err := <-g.Err():
				r.err = err
				return
			case <-ctx.Done():
				r.err = ctx.Err()
				return
			}
		}
	}()
	return r, done
}

func TestRemoteChannelsKeepOrderAndEvents(t *testing.T) {
	url := natsURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	recv := newNet(t, url)
	reg := NewRegistry(4)
	key := Key{"job", 3, 1, 0}
	g := reg.Gate(key, 2)
	if err := recv.Attach(g, []int{0, 1}); err != nil {
		t.Fatal(err)
	}
	defer reg.DropJob("job", 3)
	r, done := readGate(ctx, g, 2, 0)

	const n = 20000
	var wg sync.WaitGroup
	for ch := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stats := &Stats{}
			out, err := newNet(t, url).Dial(key, ch, stats)
			if err != nil {
				t.Error(err)
				return
			}
			defer out.Close()
			w, _ := NewWriter([]Output{out}, WriterOptions{Mode: PartitionGlobal, Channel: ch})
			for i := 0; i < n; i += 100 {
				var ps []string
				for j := i; j < i+100; j++ {
					ps = append(ps, fmt.Sprintf("c%d-%06d-%s", ch, j, strings.Repeat("x", 40)))
				}
				if err := w.Write(ctx, batch(ps...)); err != nil {
					t.Error(err)
					return
				}
			}
			if err := w.Broadcast(ctx, Marker, map[string]uint64{"src": uint64(ch)}); err != nil {
				t.Error(err)
			}
			if err := w.Barrier(ctx, 7, ch == 1); err != nil {
				t.Error(err)
			}
			if err := w.Watermark(ctx, -5_000_000_000_123+int64(ch), ch == 0); err != nil {
				t.Error(err)
			}
			if err := w.Broadcast(ctx, EndOfPartition, nil); err != nil {
				t.Error(err)
			}
			if err := w.Drain(ctx); err != nil {
				t.Error(err)
			}
			if stats.BytesOut.Load() == 0 {
				t.Error("no bytes counted out")
			}
		}()
	}
	wg.Wait()
	<-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	for ch := range 2 {
		got := r.records[ch]
		if len(got) != n {
			t.Fatalf("channel %d: %d of %d records", ch, len(got), n)
		}
		for j, p := range got {
			if want := fmt.Sprintf("c%d-%06d-", ch, j); !strings.HasPrefix(p, want) {
				t.Fatalf("channel %d record %d is %q, want %s...", ch, j, p[:12], want)
			}
		}
		k := r.kinds[ch]
		if k[len(k)-4] != Marker || k[len(k)-3] != Barrier || k[len(k)-2] != Watermark || k[len(k)-1] != EndOfPartition || r.barriers[ch] != 7 || r.savepoints[ch] != (ch == 1) {
			t.Fatalf("channel %d: events out of order: ...%v", ch, k[max(0, len(k)-4):])
		}
		if wm := r.watermarks[ch]; wm.Watermark != -5_000_000_000_123+int64(ch) || wm.Idle != (ch == 0) {
			t.Fatalf("channel %d: watermark arrived as (%d, idle %v)", ch, wm.Watermark, wm.Idle)
		}
	}
	if r.maxOver > 0 {
		t.Fatalf("queued buffers exceeded granted credit by %d", r.maxOver)
	}
}

func TestRemoteLargeRecordsTravelInFragments(t *testing.T) {
	url := natsURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	recv := newNet(t, url)
	reg := NewRegistry(2)
	key := Key{"job", 1, 0, 0}
	g := reg.Gate(key, 1)
	if err := recv.Attach(g, []int{0}); err != nil {
		t.Fatal(err)
	}
	defer reg.DropJob("job", 1)
	r, done := readGate(ctx, g, 1, 0)
	out, err := newNet(t, url).Dial(key, 0, &Stats{})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	w, _ := NewWriter([]Output{out}, WriterOptions{Mode: PartitionForward})
	huge := strings.Repeat("0123456789abcdef", 1<<16) // 1 MiB, over NATS's default max_payload
	if err := w.Write(ctx, batch("small", huge, "after")); err != nil {
		t.Fatal(err)
	}
	if err := w.Broadcast(ctx, EndOfPartition, nil); err != nil {
		t.Fatal(err)
	}
	if err := w.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	<-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	got := r.records[0]
	if len(got) != 3 || got[0] != "small" || got[1] != huge || got[2] != "after" {
		t.Fatalf("got %d records", len(got))
	}
}

func TestRemoteBackpressureBlocksTheSender(t *testing.T) {
	url := natsURL(t)
	recv := newNet(t, url)
	reg := NewRegistry(2)
	key := Key{"job", 1, 0, 0}
	g := reg.Gate(key, 1)
	if err := recv.Attach(g, []int{0}); err != nil {
		t.Fatal(err)
	}
	defer reg.DropJob("job", 1)
	out, err := newNet(t, url).Dial(key, 0, &Stats{})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	// Nobody reads: the sender may fill its credit and its own waiting room, no more.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	sent := 0
	for ; sent < 100; sent++ {
		b := NewBuffer()
		b.Batch.Append(&record.View{Flags: record.FlagPayload, Payload: []byte("p")})
		if err := out.Send(ctx, b); err != nil {
			break
		}
	}
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatal("the sender never blocked")
	}
	queued, credit := g.Credit()
	if queued > credit || queued > 2+floatingPerGate {
		t.Fatalf("queued %d buffers with credit %d", queued, credit)
	}
	if sent > queued+maxWaiting+1 {
		t.Fatalf("sent %d buffers while the receiver holds %d", sent, queued)
	}
	// Reading frees credit and the sender goes on.
	drain(t, g)
	b := NewBuffer()
	ctx2, cancel2 := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel2()
	if err := out.Send(ctx2, b); err != nil {
		t.Fatal(err)
	}
}

// rawSender publishes hand-made frames after a proper handshake.
func rawSender(t *testing.T, url string, key Key) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	acked := make(chan struct{})
	var once sync.Once
	_, err = nc.Subscribe(creditSubject(key, 0), func(m *nats.Msg) {
		_, _, seen, _ := parseGrant(m.Data)
		if seen {
			once.Do(func() { close(acked) })
			return
		}
		_ = nc.Publish(dataSubject(key), appendFrameHeader(nil, frameHeader{kind: kindHello}))
	})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-acked:
	case <-time.After(10 * time.Second):
		t.Fatal("no handshake")
	}
	return nc
}

func dataFrame(seq uint64) []byte {
	var b record.Batch
	b.Append(&record.View{Flags: record.FlagPayload, Payload: []byte("x")})
	return append(appendFrameHeader(nil, frameHeader{kind: Data, seq: seq}), b.Bytes()...)
}

// remoteGate returns a gate with one remote channel and a raw sender that has
// shaken hands with it.
func remoteGate(t *testing.T, perChannel int) (*Gate, *nats.Conn, Key) {
	t.Helper()
	url := natsURL(t)
	recv := newNet(t, url)
	reg := NewRegistry(perChannel)
	key := Key{"job", 1, 0, 0}
	g := reg.Gate(key, 1)
	if err := recv.Attach(g, []int{0}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reg.DropJob("job", 1) })
	return g, rawSender(t, url, key), key
}

// wantGateFailure waits for g to fail with an error containing want.
func wantGateFailure(t *testing.T, g *Gate, want, what string) {
	t.Helper()
	select {
	case err := <-g.Err():
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("unexpected error: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("%s went unnoticed", what)
	}
}

func TestRemoteGapFailsTheGate(t *testing.T) {
	g, nc, key := remoteGate(t, 4)
	_ = nc.Publish(dataSubject(key), dataFrame(1))
	_ = nc.Publish(dataSubject(key), dataFrame(3))
	wantGateFailure(t, g, "expected sequence 2, got 3", "a sequence gap")
}

func TestRemoteFrameWithoutCreditFailsTheGate(t *testing.T) {
	g, nc, key := remoteGate(t, 2)
	for seq := uint64(1); seq <= 2+floatingPerGate+2; seq++ {
		_ = nc.Publish(dataSubject(key), dataFrame(seq))
	}
	wantGateFailure(t, g, "without credit", "a frame without credit")
}

func TestCreditBudgetIsEnforced(t *testing.T) {
	url := natsURL(t)
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	n := NewNet(nc, nc, 10, slog.Default())
	reg := NewRegistry(4)
	g1 := reg.Gate(Key{"j", 1, 0, 0}, 2)
	if err := n.Attach(g1, []int{0, 1}); err != nil { // 2*4 + floating 4 > 10: shrinks
		t.Fatal(err)
	}
	g2 := reg.Gate(Key{"j", 1, 0, 1}, 8)
	if err := n.Attach(g2, []int{0, 1, 2, 3, 4, 5, 6, 7}); err == nil {
		t.Fatal("a gate beyond the worker's credit budget must be refused")
	}
	reg.DropJob("j", 1)
	if n.reserved != 0 {
		t.Fatalf("dropping the gates left %d frames reserved", n.reserved)
	}
}
