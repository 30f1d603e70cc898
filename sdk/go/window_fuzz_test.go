//go:build !wasip1

package weir

import (
	"encoding/binary"
	"testing"
)

// Fuzz targets for the decoders of the timer, window and aggregate frames: any
// input gives code 0 or 4 (never a panic), and an accepted one a well-formed
// output frame with the outputs the ABI requires.

// fuzzHost registers one function of each of the three call kinds and returns
// the frames the SDK emits.
func fuzzHost(t *testing.T) *host {
	h := useTestRegistry(t)
	useFakeTimers(t)
	Aggregate("agg", sumAgg())
	Reduce("r", func(acc, v []byte) ([]byte, error) { return append(acc, v...), nil })
	WindowProcess("w", func(w *Window, elements []*Record, out *Collector) error {
		for _, e := range elements {
			out.EmitPayload(e.Payload())
		}
		return nil
	})
	Process("p", func(*Record, *Context) error { return nil }, OnTimer(func(tm *Timer, ctx *Context) error {
		ctx.EmitPayload(tm.Key)
		return ctx.RegisterEventTimer(tm.Time)
	}))
	return h
}

func FuzzAggregateFrame(f *testing.F) {
	add := newAggFrame(1, 2)
	add.acc(nil).records("1", "2")
	add.acc(str("5")).records()
	merge := newAggFrame(2, 1)
	merge.acc(str("3")).accs("4", "")
	res := newAggFrame(3, 2)
	res.acc(str("1")).acc(str(""))
	for _, b := range [][]byte{add.b, merge.b, res.b, newAggFrame(1, 0).b, nil} {
		f.Add(b, false)
		f.Add(b, true)
	}
	f.Fuzz(func(t *testing.T, in []byte, reduce bool) {
		h := fuzzHost(t)
		fn := int32(0)
		if reduce {
			fn = 1
		}
		rc := call(t, callAggregate, fn, in)
		if rc != rcOK && rc != rcMalformedInput {
			t.Fatalf("code %d", rc)
		}
		if rc != rcOK {
			if len(h.frames) != 0 {
				t.Fatalf("code %d with output", rc)
			}
			return
		}
		groups := binary.LittleEndian.Uint32(in[4:])
		if groups == 0 {
			if len(h.frames) != 0 {
				t.Fatal("output for no group")
			}
			return
		}
		outs := decodeOutputFrame(t, h.frames[0])
		if len(outs) != int(groups) {
			t.Fatalf("%d outputs for %d groups", len(outs), groups)
		}
		for g, o := range outs {
			if o.Parent != uint32(g) || o.Tag != 0 || o.Flags != flagPayload {
				t.Fatalf("output %d: %+v", g, o)
			}
		}
	})
}

func FuzzWindowFrame(f *testing.F) {
	f.Add(newWindowFrame(2).window(0, 10, str("k"), testRecord{Flags: flagPayload | flagKey, Key: "x", Payload: "p"}).
		window(-5, 5, nil, testRecord{Flags: flagPayload | flagHeaders, Payload: "q", Headers: [][2]string{{"a", "b"}}}).b)
	f.Add(newWindowFrame(1).window(0, 1, str("")).b)
	f.Add([]byte(nil))
	f.Fuzz(func(t *testing.T, in []byte) {
		h := fuzzHost(t)
		rc := call(t, callWindow, 2, in)
		if rc != rcOK && rc != rcMalformedInput {
			t.Fatalf("code %d", rc)
		}
		if rc != rcOK && len(h.frames) != 0 {
			t.Fatalf("code %d with output", rc)
		}
		if rc == rcOK && len(h.frames) == 1 {
			count := binary.LittleEndian.Uint32(in)
			for _, o := range decodeOutputFrame(t, h.frames[0]) {
				if o.Parent >= count || o.Flags != flagPayload {
					t.Fatalf("output %+v of %d windows", o, count)
				}
			}
		}
	})
}

func FuzzTimerFrame(f *testing.F) {
	f.Add(firedTimers(testRecord{Key: "a", Timestamp: 1, Payload: "\x00"}, testRecord{Key: "", Timestamp: -1, Payload: "\x01"}))
	f.Add(batchFrame(testRecord{Flags: flagKey | flagTimestamp | flagPayload | flagHeaders, Key: "a", Payload: "\x00"}))
	f.Add([]byte(nil))
	f.Fuzz(func(t *testing.T, in []byte) {
		h := fuzzHost(t)
		rc := call(t, callTimer, 3, in)
		if rc != rcOK && rc != rcMalformedInput {
			t.Fatalf("code %d", rc)
		}
		if rc != rcOK && len(h.frames) != 0 {
			t.Fatalf("code %d with output", rc)
		}
		if rc == rcOK && len(h.frames) == 1 {
			if outs := decodeOutputFrame(t, h.frames[0]); len(outs) != int(binary.LittleEndian.Uint32(in)) {
				t.Fatalf("%d outputs for %d timers", len(outs), binary.LittleEndian.Uint32(in))
			}
		}
	})
}
