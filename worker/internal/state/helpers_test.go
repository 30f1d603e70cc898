package state

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// nats.go v1.55.0 starts this goroutine on the first async publish (the
		// Object Store's Put) and it reads the publisher's status channel
		// without waiting: when the connection closes first, cleanupReplySub
		// has set the channel to nil and the goroutine blocks on it forever.
		// An upstream race, not ours.
		goleak.IgnoreTopFunction("github.com/nats-io/nats.go/jetstream.(*jetStream).resetPendingAcksOnReconnect"))
}

// clock is an injected TTL clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Unix(1_700_000_000, 0)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// testOptions are options on a fresh in-memory file system owning key groups
// 0..127 of 128.
func testOptions(fs vfs.FS) Options {
	if fs == nil {
		fs = vfs.NewMem()
	}
	return Options{Dir: "/state", FS: fs, MaxParallelism: 128, KeyGroups: Range{0, 127}}
}

func openTest(t testing.TB, opts Options) *Backend {
	t.Helper()
	b, err := Open(opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

func restoreTest(t testing.TB, opts Options, store FileStore, hs []Handle, keep func(int) bool) *Backend {
	t.Helper()
	b, err := Restore(context.Background(), opts, store, hs, keep)
	if err != nil {
		t.Fatalf("Restore: %v", err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func register(t testing.TB, b *Backend, op, name string, kind Kind, ttl time.Duration) State {
	t.Helper()
	s, err := b.Register(op, name, kind, ttl)
	must(t, err)
	return s
}

func checkpoint(t testing.TB, b *Backend, store FileStore, id uint64, opt UploadOptions) Handle {
	t.Helper()
	p, err := b.Snapshot(id)
	must(t, err)
	h, err := p.Upload(context.Background(), store, opt)
	must(t, err)
	return h
}

// dump returns every live state entry of b (open batch included) as
// "operator/name/kg/key/ns/sub" -> payload, ignoring TTL.
func dump(t testing.TB, b *Backend) map[string]string {
	t.Helper()
	out := make(map[string]string)
	start, end := keyGroupSpan(0, OperatorKeyGroup)
	it, err := b.batch.NewIter(&pebble.IterOptions{LowerBound: start, UpperBound: end})
	must(t, err)
	defer it.Close()
	for ok := it.First(); ok; ok = it.Next() {
		d, good := decodeKey(it.Key())
		if !good {
			t.Fatalf("malformed key %x", it.Key())
		}
		if d.kg == metaKeyGroup {
			continue
		}
		e, found := b.reg.byHandle[handleKey(d.op, d.st)]
		if !found {
			t.Fatalf("key %x has unregistered handles", it.Key())
		}
		v, err := it.ValueAndErr()
		must(t, err)
		payload, _, good := decodeValue(State{}, v, 0)
		if !good {
			t.Fatalf("malformed value %x", v)
		}
		out[entryName(e.Operator, e.Name, d.kg, d.key, d.ns, d.sub)] = string(payload)
	}
	return out
}

func entryName(op, name string, kg int, key, ns, sub []byte) string {
	return fmt.Sprintf("%s/%s/%d/%q/%q/%x", op, name, kg, key, ns, sub)
}

func equalMaps(t testing.TB, what string, got, want map[string]string) {
	t.Helper()
	bad := 0
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			if bad < 5 {
				t.Errorf("%s: %s = %q (present %v), want %q", what, k, g, ok, v)
			}
			bad++
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok {
			if bad < 5 {
				t.Errorf("%s: unexpected %s = %q", what, k, v)
			}
			bad++
		}
	}
	if bad > 0 {
		t.Fatalf("%s: %d differences (%d entries, want %d)", what, bad, len(got), len(want))
	}
}
