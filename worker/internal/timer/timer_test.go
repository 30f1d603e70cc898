package timer

import (
	"fmt"
	"slices"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/weir-streams/weir/worker/internal/state"
)

func open(t *testing.T) *state.Backend {
	t.Helper()
	b, err := state.Open(state.Options{Dir: "/state", FS: vfs.NewMem(), MaxParallelism: 128, KeyGroups: state.Range{First: 0, Last: 127}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

func drain(t *testing.T, s *Service, d Domain, upTo int64) []string {
	t.Helper()
	var got []string
	for {
		tm, ok, err := s.Pop(d, upTo)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return got
		}
		got = append(got, fmt.Sprintf("%d/%d/%s/%s", tm.Time, tm.KeyGroup, tm.Key, tm.Namespace))
	}
}

func TestOrderDedupDeleteAndReload(t *testing.T) {
	b := open(t)
	s, err := New(b, "op")
	if err != nil {
		t.Fatal(err)
	}
	reg := func(d Domain, kg int, key, ns string, at int64) {
		t.Helper()
		if err := s.Register(d, kg, []byte(key), []byte(ns), at); err != nil {
			t.Fatal(err)
		}
	}
	reg(EventTime, 5, "b", "x", 20)
	reg(EventTime, 3, "a", "x", 20)
	reg(EventTime, 3, "a", "x", 20) // a duplicate: one timer
	reg(EventTime, 1, "c", "", -7)
	reg(EventTime, 1, "c", "", 30)
	reg(ProcessingTime, 1, "c", "", 10)
	if err := s.Delete(EventTime, 1, []byte("c"), nil, 30); err != nil {
		t.Fatal(err)
	}
	if s.Len(EventTime) != 3 || s.Len(ProcessingTime) != 1 {
		t.Fatalf("Len: %d event, %d processing", s.Len(EventTime), s.Len(ProcessingTime))
	}
	if got := drain(t, s, EventTime, -8); len(got) != 0 {
		t.Fatalf("fired early: %v", got)
	}
	if got, want := drain(t, s, EventTime, -7), []string{"-7/1/c/"}; !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	// A new service over the same backend sees what is left, as after a restore.
	s, err = New(b, "op")
	if err != nil {
		t.Fatal(err)
	}
	if next, ok := s.Next(EventTime); !ok || next != 20 {
		t.Fatalf("Next = %d, %v", next, ok)
	}
	if got, want := drain(t, s, EventTime, 100), []string{"20/3/a/x", "20/5/b/x"}; !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v (time, then key group order; the deleted timer never fires)", got, want)
	}
	if got, want := drain(t, s, ProcessingTime, 10), []string{"10/1/c/"}; !slices.Equal(got, want) {
		t.Fatalf("processing time: got %v, want %v", got, want)
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	if s, err = New(b, "op"); err != nil || s.Len(EventTime)+s.Len(ProcessingTime) != 0 {
		t.Fatalf("fired timers came back: %v", err)
	}
}
