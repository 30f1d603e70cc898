package worker

import (
	"reflect"
	"testing"
)

// TestAlignMarkers scripts marker arrivals on three channels.
func TestAlignMarkers(t *testing.T) {
	latest := make([]map[string]uint64, 3)
	closed := make([]bool, 3)
	step := func(ch int, pos map[string]uint64) (map[string]uint64, bool) {
		latest[ch] = pos
		return alignMarkers(latest, closed)
	}
	if _, ok := step(0, map[string]uint64{"s": 10}); ok {
		t.Fatal("aligned with two channels still silent")
	}
	if _, ok := step(2, map[string]uint64{"s": 12}); ok {
		t.Fatal("aligned with one channel still silent")
	}
	got, ok := step(1, map[string]uint64{"s": 11})
	if !ok || !reflect.DeepEqual(got, map[string]uint64{"s": 10}) {
		t.Fatalf("got %v %v, want the smallest position 10", got, ok)
	}
	got, _ = step(0, map[string]uint64{"s": 20})
	if got["s"] != 11 {
		t.Fatalf("got %v, want 11", got)
	}
	// A channel that ended no longer holds the alignment back.
	closed[1] = true
	got, _ = alignMarkers(latest, closed)
	if got["s"] != 12 {
		t.Fatalf("got %v after channel 1 ended, want 12", got)
	}
	closed[0], closed[2] = true, true
	if _, ok := alignMarkers(latest, closed); ok {
		t.Fatal("no open channel: nothing to align")
	}
}

// TestAlignMarkersKeepsEndedPartitions: a partition only a channel that has ended
// carried keeps its last position; it is not dropped from the aligned marker.
func TestAlignMarkersKeepsEndedPartitions(t *testing.T) {
	latest := []map[string]uint64{
		{"src[0]": 7, "src[1]": 3},
		nil,
		{"src[1]": 5, "src[2]": 9},
	}
	closed := []bool{true, false, false}
	if _, ok := alignMarkers(latest, closed); ok {
		t.Fatal("aligned while an open channel is silent")
	}
	latest[1] = map[string]uint64{"src[1]": 4, "src[2]": 8}
	got, ok := alignMarkers(latest, closed)
	want := map[string]uint64{"src[0]": 7, "src[1]": 4, "src[2]": 8}
	if !ok || !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v %v, want %v", got, ok, want)
	}
}
