package join

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/weir-streams/weir/internal/keygroup"
	"github.com/weir-streams/weir/internal/record"
	"github.com/weir-streams/weir/worker/internal/state"
	"github.com/weir-streams/weir/worker/internal/timer"
)

const testMaxP = 128

func testOptions() state.Options {
	return state.Options{Dir: "/state", FS: vfs.NewMem(), MaxParallelism: testMaxP, KeyGroups: state.Range{First: 0, Last: testMaxP - 1}}
}

// harness drives an operator over a backend the way the worker does: a commit
// after every call, and checkpoints (Flush, Snapshot, Upload) from which it
// restores into a fresh backend and operator.
type harness struct {
	t     testing.TB
	mk    func(*state.Backend) (*Operator, error)
	b     *state.Backend
	op    *Operator
	store *state.MemStore
	ckpt  uint64
	out   []string
	// late counts the late elements of the operators replaced by restores.
	late uint64
}

func newHarness(t testing.TB, mk func(*state.Backend) (*Operator, error)) *harness {
	t.Helper()
	b, err := state.Open(testOptions())
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, mk: mk, b: b, store: state.NewMemStore()}
	t.Cleanup(func() { _ = h.b.Close() })
	if h.op, err = mk(b); err != nil {
		t.Fatal(err)
	}
	return h
}

func intervalHarness(t testing.TB, cfg IntervalConfig) *harness {
	cfg.Operator, cfg.MaxParallelism = "join", testMaxP
	return newHarness(t, func(b *state.Backend) (*Operator, error) { return NewInterval(cfg, b) })
}

func windowHarness(t testing.TB, cfg WindowConfig) *harness {
	cfg.Operator, cfg.MaxParallelism = "join", testMaxP
	return newHarness(t, func(b *state.Backend) (*Operator, error) { return NewWindow(cfg, b) })
}

// rec is an input record; payloads starting with '{' are JSON.
type rec struct {
	key     string
	ts      int64
	payload string
}

func (r rec) String() string { return fmt.Sprintf("%s@%d:%s", r.key, r.ts, r.payload) }

// send processes one batch of input (0 left, 1 right).
func (h *harness) send(input int, recs ...rec) {
	h.t.Helper()
	var b record.Batch
	b.Reset()
	for _, r := range recs {
		b.Append(&record.View{Flags: record.FlagKey | record.FlagTimestamp | record.FlagPayload, Key: []byte(r.key), Timestamp: r.ts, Payload: []byte(r.payload)})
	}
	h.collect(h.op.Process(context.Background(), input, &b))
}

func (h *harness) advance(wm int64) {
	h.t.Helper()
	h.collect(h.op.Advance(context.Background(), wm))
}

func (h *harness) collect(out *record.Batch, err error) {
	h.t.Helper()
	if err != nil {
		h.t.Fatal(err)
	}
	if err := h.b.Commit(); err != nil {
		h.t.Fatal(err)
	}
	r := out.Reader()
	var v record.View
	for r.Next(&v) {
		if v.Flags != record.FlagKey|record.FlagTimestamp|record.FlagPayload {
			h.t.Fatalf("result flags %#x", v.Flags)
		}
		h.out = append(h.out, row(string(v.Key), v.Timestamp, string(v.Payload)))
	}
	if err := r.Err(); err != nil {
		h.t.Fatal(err)
	}
}

func row(key string, ts int64, payload string) string {
	return fmt.Sprintf("%s@%d %s", key, ts, payload)
}

// take returns the results so far in emission order and forgets them.
func (h *harness) take() []string {
	s := h.out
	h.out = nil
	return s
}

// restore checkpoints the operator and replaces backend and operator by ones
// restored from the checkpoint, as a failover right after it would.
func (h *harness) restore() {
	h.t.Helper()
	ctx := context.Background()
	if err := h.op.Flush(); err != nil {
		h.t.Fatal(err)
	}
	h.ckpt++
	p, err := h.b.Snapshot(h.ckpt)
	if err != nil {
		h.t.Fatal(err)
	}
	hd, err := p.Upload(ctx, h.store, state.UploadOptions{Prefix: "ckpt/"})
	if err != nil {
		h.t.Fatal(err)
	}
	wm := h.op.Watermark()
	h.late += h.op.Stats().Late.Load()
	if err := h.b.Close(); err != nil {
		h.t.Fatal(err)
	}
	if h.b, err = state.Restore(ctx, testOptions(), h.store, []state.Handle{hd}, nil); err != nil {
		h.t.Fatal(err)
	}
	if h.op, err = h.mk(h.b); err != nil {
		h.t.Fatal(err)
	}
	if got := h.op.Watermark(); got != wm {
		h.t.Fatalf("restored watermark %d, want %d", got, wm)
	}
}

// stored reports whether the backend holds state for key after a Flush.
func (h *harness) stored(key string) bool {
	h.t.Helper()
	if err := h.op.Flush(); err != nil {
		h.t.Fatal(err)
	}
	kg := keygroupOf(key)
	_, ok, err := h.b.Get(h.op.st, kg, []byte(key), nil, nil, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	return ok
}

// timers is the number of timers the operator has registered.
func (h *harness) timers() int { return h.op.timers.Len(timer.EventTime) }

func expect(t *testing.T, step string, got []string, want ...string) {
	t.Helper()
	if !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
		t.Fatalf("%s:\n got %q\nwant %q", step, got, want)
	}
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	sort.Strings(s)
	return s
}

// jsonSide is how the result embeds a test payload.
func jsonSide(p string, present bool) string {
	switch {
	case !present:
		return "null"
	case strings.HasPrefix(p, "{"):
		return p
	}
	return `"` + p + `"`
}

func pairPayload(l, r string, lp, rp bool) string {
	return `{"left":` + jsonSide(l, lp) + `,"right":` + jsonSide(r, rp) + `}`
}

var minWM = int64(math.MinInt64)

func keygroupOf(key string) int { return keygroup.Of([]byte(key), testMaxP) }
