//go:build !wasip1

package weir

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
)

// Tests of the trigger and evict calls (ABI §4.9, §4.10).

// triggerFrame builds a trigger call's input.
type triggerFrame struct{ b []byte }

func newTriggerFrame(count uint32) *triggerFrame {
	return &triggerFrame{b: binary.LittleEndian.AppendUint32(nil, count)}
}

// event appends one event; a nil key makes it a window of a non-keyed stream.
func (f *triggerFrame) event(kind byte, start, end, time int64, count uint64, key *string) *triggerFrame {
	f.b = append(f.b, kind)
	f.b = binary.LittleEndian.AppendUint64(f.b, uint64(start))
	f.b = binary.LittleEndian.AppendUint64(f.b, uint64(end))
	f.b = binary.LittleEndian.AppendUint64(f.b, uint64(time))
	f.b = binary.LittleEndian.AppendUint64(f.b, count)
	if key == nil {
		f.b = binary.LittleEndian.AppendUint32(f.b, noAccumulator)
	} else {
		f.b = binary.LittleEndian.AppendUint32(f.b, uint32(len(*key)))
		f.b = append(f.b, *key...)
	}
	return f
}

// triggerPayload is an answer as the ABI encodes it.
func triggerPayload(action byte, timers ...int64) string {
	b := []byte{action}
	for _, t := range timers {
		b = binary.LittleEndian.AppendUint64(b, uint64(t))
	}
	return string(b)
}

func TestTriggerCalls(t *testing.T) {
	h := useTestRegistry(t)
	var seen []string
	Trigger("t", func(ev *TriggerEvent, res *TriggerResult) error {
		seen = append(seen, fmt.Sprintf("%d [%d,%d) %q/%v t=%d n=%d", ev.Kind, ev.Window.Start, ev.Window.End, ev.Window.Key, ev.Window.Keyed, ev.Time, ev.Count))
		if res.EventTimer() != NoTimer || res.ProcessingTimer() != NoTimer || res.Action != Continue {
			return errors.New("result not reset")
		}
		switch ev.Kind {
		case ElementsAdded:
			if ev.Count >= 2 {
				res.Action = Fire
			}
			res.RegisterEventTimer(ev.Window.End - 1)
		case EventTimeTimer:
			res.Action = FireAndPurge
		case ProcessingTimeTimer:
			res.Action = Purge
			res.RegisterProcessingTimer(ev.Time + 10)
			res.RegisterEventTimer(7)
		}
		if ev.Window.Keyed && len(ev.Window.Key) == 0 {
			res.RegisterEventTimer(8)
			res.RegisterEventTimer(NoTimer) // takes the timer back
		}
		return nil
	})
	in := newTriggerFrame(4).
		event(0, 0, 100, 5, 1, str("k")).
		event(0, math.MinInt64, math.MaxInt64, 6, 2, nil).
		event(1, 0, 100, 99, 3, str("")).
		event(2, 0, 100, 50, 3, str("k")).b
	if rc := call(t, callTrigger, 0, in); rc != rcOK {
		t.Fatalf("rc %d %q", rc, h.errors)
	}
	want := []string{
		`0 [0,100) "k"/true t=5 n=1`,
		`0 [-9223372036854775808,9223372036854775807) ""/false t=6 n=2`,
		`1 [0,100) ""/true t=99 n=3`,
		`2 [0,100) "k"/true t=50 n=3`,
	}
	if fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Fatalf("events\n got %q\nwant %q", seen, want)
	}
	if len(h.frames) != 1 {
		t.Fatalf("%d frames, want one emit", len(h.frames))
	}
	outs := decodeOutputFrame(t, h.frames[0])
	payloads := []string{
		triggerPayload(0, 99),
		triggerPayload(1, math.MaxInt64-1),
		triggerPayload(3, NoTimer),
		triggerPayload(2, 7, 60),
	}
	if len(outs) != len(payloads) {
		t.Fatalf("%d outputs", len(outs))
	}
	for i, o := range outs {
		if o.Parent != uint32(i) || o.Tag != 0 || o.Flags != flagPayload || o.Payload != payloads[i] {
			t.Errorf("output %d: %+v, want payload %x", i, o, payloads[i])
		}
	}
	// An empty call emits nothing.
	h.reset()
	if rc := call(t, callTrigger, 0, newTriggerFrame(0).b); rc != rcOK || len(h.frames) != 0 {
		t.Fatalf("empty: rc %d frames %q", rc, h.frames)
	}
}

func TestTriggerErrors(t *testing.T) {
	h := useTestRegistry(t)
	Trigger("t", func(ev *TriggerEvent, res *TriggerResult) error {
		switch ev.Time {
		case 1:
			return errors.New("boom")
		case 2:
			res.Action = 4
		}
		return nil
	})
	good := newTriggerFrame(1).event(0, 0, 10, 0, 1, str("k")).b
	u32 := func(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
	for _, c := range []struct {
		name string
		in   []byte
	}{
		{"empty input", nil},
		{"short count", []byte{1}},
		{"count past the end", u32(1)},
		{"event 3", newTriggerFrame(1).event(3, 0, 10, 0, 1, nil).b},
		{"truncated key", good[:len(good)-1]},
		{"trailing byte", append(good[:len(good):len(good)], 0)},
		{"key past the end", append(newTriggerFrame(1).event(0, 0, 10, 0, 1, nil).b[:len(good)-5], 0xFF, 0, 0, 0, 0)},
		{"second event truncated", append(newTriggerFrame(2).event(0, 0, 10, 0, 1, nil).b, make([]byte, 36)...)},
	} {
		h.reset()
		if rc := call(t, callTrigger, 0, c.in); rc != rcMalformedInput || len(h.frames) != 0 {
			t.Errorf("%s: rc %d, frames %q", c.name, rc, h.frames)
		}
	}
	for _, c := range []struct {
		time int64
		want string
	}{
		{1, "boom"},
		{2, "a trigger's action must be Continue, Fire, Purge or FireAndPurge (ABI §4.9)"},
	} {
		h.reset()
		in := newTriggerFrame(2).event(0, 0, 10, 0, 1, nil).event(0, 0, 10, c.time, 1, nil).b
		if rc := call(t, callTrigger, 0, in); rc != rcError || len(h.frames) != 0 || h.errors[0] != c.want {
			t.Errorf("time %d: rc %d, frames %q, errors %q", c.time, rc, h.frames, h.errors)
		}
	}
}

func TestTriggerResultZero(t *testing.T) {
	var r TriggerResult
	if r.Action != Continue || r.EventTimer() != NoTimer || r.ProcessingTimer() != NoTimer {
		t.Fatalf("zero result %+v", r)
	}
	r.RegisterProcessingTimer(0)
	if r.ProcessingTimer() != 0 || r.EventTimer() != NoTimer {
		t.Fatalf("timer at 0: %+v", r)
	}
}

func TestTriggerAllocatesNothing(t *testing.T) {
	useTestRegistry(t)
	Trigger("t", func(ev *TriggerEvent, res *TriggerResult) error {
		res.Action = Fire
		res.RegisterEventTimer(ev.Window.End)
		return nil
	})
	in := newTriggerFrame(2).event(0, 0, 10, 0, 1, str("k")).event(1, 0, 10, 9, 1, nil).b
	testEmit = func([]byte) {}
	call(t, callTrigger, 0, in)
	if n := testing.AllocsPerRun(100, func() { call(t, callTrigger, 0, in) }); n != 0 {
		t.Fatalf("%.1f allocations per call", n)
	}
}

// evictPayload is an evictor's answer as the ABI encodes it.
func evictAnswer(idx ...uint32) string {
	b := binary.LittleEndian.AppendUint32(nil, uint32(len(idx)))
	for _, i := range idx {
		b = binary.LittleEndian.AppendUint32(b, i)
	}
	return string(b)
}

func TestEvictorCalls(t *testing.T) {
	h := useTestRegistry(t)
	var seen []string
	record := true
	Evictor("e", func(w *Window, elements []*Record, evict []int) ([]int, error) {
		if record {
			seen = append(seen, fmt.Sprintf("[%d,%d) %q/%v n=%d", w.Start, w.End, w.Key, w.Keyed, len(elements)))
		}
		for i, e := range elements {
			if bytes.HasPrefix(e.Payload(), []byte("-")) {
				evict = append(evict, i)
			}
		}
		return evict, nil
	})
	el := func(p string) testRecord {
		return testRecord{Flags: flagPayload | flagTimestamp, Timestamp: 1, Payload: p}
	}
	many := make([]testRecord, 100)
	var manyIdx []uint32
	for i := range many {
		many[i] = el(strings.Repeat("-", i%2))
		if i%2 == 1 {
			manyIdx = append(manyIdx, uint32(i))
		}
	}
	in := newWindowFrame(4).
		window(0, 10, str("k"), el("1"), el("-2"), el("3"), el("-4")).
		window(0, 10, nil).
		window(5, 15, str(""), el("x")).
		window(0, 20, str("m"), many...).b
	if rc := call(t, callEvict, 0, in); rc != rcOK {
		t.Fatalf("rc %d %q", rc, h.errors)
	}
	if want := `["[0,10) \"k\"/true n=4" "[0,10) \"\"/false n=0" "[5,15) \"\"/true n=1" "[0,20) \"m\"/true n=100"]`; fmt.Sprintf("%q", seen) != want {
		t.Fatalf("windows %q, want %s", seen, want)
	}
	outs := decodeOutputFrame(t, h.frames[0])
	want := []string{evictAnswer(1, 3), evictAnswer(), evictAnswer(), evictAnswer(manyIdx...)}
	if len(outs) != len(want) {
		t.Fatalf("%d outputs", len(outs))
	}
	for i, o := range outs {
		if o.Parent != uint32(i) || o.Tag != 0 || o.Flags != flagPayload || o.Payload != want[i] {
			t.Errorf("output %d: %+v, want %x", i, o, want[i])
		}
	}
	// The buffers grew; a second call allocates nothing.
	testEmit, record = func([]byte) {}, false
	if n := testing.AllocsPerRun(50, func() { call(t, callEvict, 0, in) }); n != 0 {
		t.Errorf("%.1f allocations per call", n)
	}
}

func TestEvictorErrors(t *testing.T) {
	h := useTestRegistry(t)
	var answer []int
	Evictor("e", func(_ *Window, _ []*Record, evict []int) ([]int, error) {
		if answer == nil {
			return nil, errors.New("boom")
		}
		return append(evict, answer...), nil
	})
	in := newWindowFrame(1).window(0, 10, nil, testRecord{Flags: flagPayload, Payload: "a"}, testRecord{Flags: flagPayload, Payload: "b"}).b
	for _, c := range []struct {
		answer []int
		want   string
	}{
		{nil, "boom"},
		{[]int{1, 0}, `evictor "e": index 0 after 1: indexes must be ascending, without repeats (ABI §4.10)`},
		{[]int{1, 1}, `evictor "e": index 1 after 1: indexes must be ascending, without repeats (ABI §4.10)`},
		{[]int{2}, `evictor "e": index 2 out of range for 2 elements`},
		{[]int{-1}, `evictor "e": index -1 out of range for 2 elements`},
	} {
		h.reset()
		answer = c.answer
		if rc := call(t, callEvict, 0, in); rc != rcError || len(h.frames) != 0 || h.errors[0] != c.want {
			t.Errorf("%v: rc %d, frames %q, errors %q, want %q", c.answer, rc, h.frames, h.errors, c.want)
		}
	}
	answer = []int{}
	for _, c := range []struct {
		name string
		in   []byte
	}{
		{"empty input", nil},
		{"count past the end", binary.LittleEndian.AppendUint32(nil, 1)},
		{"truncated element", in[:len(in)-1]},
		{"trailing byte", append(in[:len(in):len(in)], 0)},
		{"reserved flag", append(newWindowFrame(1).window(0, 1, nil).b[:24], 1, 0, 0, 0, 0x10)},
	} {
		h.reset()
		if rc := call(t, callEvict, 0, c.in); rc != rcMalformedInput || len(h.frames) != 0 {
			t.Errorf("%s: rc %d, frames %q", c.name, rc, h.frames)
		}
	}
}

func FuzzTriggerFrame(f *testing.F) {
	f.Add(newTriggerFrame(2).event(0, 0, 10, 3, 1, str("k")).event(2, math.MinInt64, math.MaxInt64, 4, 0, nil).b)
	f.Add([]byte(nil))
	f.Fuzz(func(t *testing.T, in []byte) {
		h := useTestRegistry(t)
		Trigger("t", func(ev *TriggerEvent, res *TriggerResult) error {
			res.Action = TriggerAction(ev.Count % 4)
			if ev.Kind == ProcessingTimeTimer {
				res.RegisterProcessingTimer(ev.Time)
			}
			return nil
		})
		rc := call(t, callTrigger, 0, in)
		if rc != rcOK && rc != rcMalformedInput {
			t.Fatalf("code %d", rc)
		}
		if rc != rcOK {
			if len(h.frames) != 0 {
				t.Fatalf("code %d with output", rc)
			}
			return
		}
		count := binary.LittleEndian.Uint32(in)
		if count == 0 {
			if len(h.frames) != 0 {
				t.Fatal("output for no event")
			}
			return
		}
		outs := decodeOutputFrame(t, h.frames[0])
		if len(outs) != int(count) {
			t.Fatalf("%d outputs for %d events", len(outs), count)
		}
		for i, o := range outs {
			if o.Parent != uint32(i) || o.Tag != 0 || o.Flags != flagPayload || len(o.Payload) != 9 && len(o.Payload) != 17 || o.Payload[0] > 3 {
				t.Fatalf("output %d: %+v", i, o)
			}
		}
	})
}

func FuzzEvictorFrame(f *testing.F) {
	f.Add(newWindowFrame(2).window(0, 10, str("k"), testRecord{Flags: flagPayload, Payload: "-1"}, testRecord{Flags: flagPayload, Payload: "2"}).
		window(-5, 5, nil, testRecord{Flags: flagPayload | flagHeaders, Payload: "-q", Headers: [][2]string{{"a", "b"}}}).b)
	f.Add([]byte(nil))
	f.Fuzz(func(t *testing.T, in []byte) {
		h := useTestRegistry(t)
		Evictor("e", func(_ *Window, elements []*Record, evict []int) ([]int, error) {
			for i, e := range elements {
				if bytes.HasPrefix(e.Payload(), []byte("-")) {
					evict = append(evict, i)
				}
			}
			return evict, nil
		})
		rc := call(t, callEvict, 0, in)
		if rc != rcOK && rc != rcMalformedInput {
			t.Fatalf("code %d", rc)
		}
		if rc != rcOK && len(h.frames) != 0 {
			t.Fatalf("code %d with output", rc)
		}
		if rc == rcOK && len(h.frames) == 1 {
			count := binary.LittleEndian.Uint32(in)
			outs := decodeOutputFrame(t, h.frames[0])
			if len(outs) != int(count) {
				t.Fatalf("%d outputs for %d windows", len(outs), count)
			}
			for i, o := range outs {
				p := []byte(o.Payload)
				if o.Parent != uint32(i) || o.Flags != flagPayload || len(p) < 4 || len(p) != 4+4*int(binary.LittleEndian.Uint32(p)) {
					t.Fatalf("output %d: %+v", i, o)
				}
			}
		}
	})
}
