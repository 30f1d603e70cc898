package window

import (
	"bytes"
	"encoding/binary"
	"math"
	"slices"
	"strings"
	"testing"
)

func TestTriggerFrameLayout(t *testing.T) {
	got := AppendTriggerFrame(nil, []TriggerEvent{
		{Kind: ElementsAdded, Start: 0, End: 10, Time: 7, Count: 3, Key: []byte(`"a"`), Keyed: true},
		{Kind: ProcessingTimeTimer, Start: math.MinInt64, End: math.MaxInt64, Time: 5, Count: 0},
	})
	var want []byte
	le := binary.LittleEndian
	want = le.AppendUint32(want, 2)
	want = append(want, 0)
	for _, v := range []int64{0, 10, 7, 3} {
		want = le.AppendUint64(want, uint64(v))
	}
	want = le.AppendUint32(want, 3)
	want = append(want, `"a"`...)
	want = append(want, 2)
	for _, v := range []uint64{1 << 63, 1<<63 - 1, 5, 0} {
		want = le.AppendUint64(want, v)
	}
	want = le.AppendUint32(want, math.MaxUint32)
	if !bytes.Equal(got, want) {
		t.Fatalf("frame\n got %x\nwant %x", got, want)
	}
}

func TestParseTriggerResult(t *testing.T) {
	le := binary.LittleEndian
	full := le.AppendUint64(le.AppendUint64([]byte{3}, 42), 1<<63)
	for _, c := range []struct {
		in   []byte
		want TriggerResult
		err  string
	}{
		{[]byte{0}, TriggerResult{Action: Continue}, ""},
		{le.AppendUint64([]byte{1}, 1<<63), TriggerResult{Action: Fire}, ""},
		{full, TriggerResult{Action: FireAndPurge, EventTimer: 42, HasEventTimer: true}, ""},
		{le.AppendUint64(le.AppendUint64([]byte{2}, 1<<63), 9), TriggerResult{Action: Purge, ProcTimer: 9, HasProcTimer: true}, ""},
		{nil, TriggerResult{}, "malformed trigger result of 0 bytes"},
		{[]byte{4}, TriggerResult{}, "malformed trigger result of 1 bytes"},
		{full[:5], TriggerResult{}, "malformed trigger result of 5 bytes"},
	} {
		got, err := ParseTriggerResult(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Fatalf("%x: error %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Fatalf("%x: %+v %v, want %+v", c.in, got, err, c.want)
		}
	}
}

func TestEvictFrameAndResult(t *testing.T) {
	le := binary.LittleEndian
	got := AppendEvictFrame(nil, []EvictWindow{{Start: 1, End: 2, Key: []byte("k"), Keyed: true, N: 1, Elements: []byte{0x04, 0, 0, 0, 0}}, {Start: 3, End: 4}})
	want := le.AppendUint32(nil, 2)
	want = le.AppendUint64(le.AppendUint64(want, 1), 2)
	want = append(le.AppendUint32(want, 1), 'k')
	want = append(le.AppendUint32(want, 1), 0x04, 0, 0, 0, 0)
	want = le.AppendUint64(le.AppendUint64(want, 3), 4)
	want = le.AppendUint32(le.AppendUint32(want, math.MaxUint32), 0)
	if !bytes.Equal(got, want) {
		t.Fatalf("frame\n got %x\nwant %x", got, want)
	}
	res := le.AppendUint32(le.AppendUint32(le.AppendUint32(nil, 2), 0), 3)
	if idx, err := ParseEvictResult(res, 4); err != nil || !slices.Equal(idx, []uint32{0, 3}) {
		t.Fatalf("%v %v", idx, err)
	}
	for _, bad := range [][]byte{nil, res[:11], res, le.AppendUint32(le.AppendUint32(le.AppendUint32(nil, 2), 1), 1)} {
		if _, err := ParseEvictResult(bad, 3); err == nil {
			t.Fatalf("%x accepted", bad)
		}
	}
}

func FuzzParseTriggerResult(f *testing.F) {
	f.Add([]byte{1})
	f.Add(binary.LittleEndian.AppendUint64([]byte{3}, 7))
	f.Fuzz(func(t *testing.T, p []byte) {
		r, err := ParseTriggerResult(p)
		if err == nil && (r.Action > FireAndPurge || len(p) != 1 && len(p) != 9 && len(p) != 17) {
			t.Fatalf("%x accepted as %+v", p, r)
		}
	})
}

func FuzzParseEvictResult(f *testing.F) {
	f.Add(binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(nil, 1), 2), 3)
	f.Fuzz(func(t *testing.T, p []byte, n int) {
		idx, err := ParseEvictResult(p, n)
		if err != nil {
			return
		}
		for i, k := range idx {
			if int(k) >= n || i > 0 && k <= idx[i-1] {
				t.Fatalf("%x (n %d) accepted as %v", p, n, idx)
			}
		}
	})
}

func TestNewRejectsBadTriggersAndEvictors(t *testing.T) {
	for _, c := range []struct {
		cfg Config
		err string
	}{
		{Config{Kind: TumblingCount}, "count window size 0 must be positive"},
		{Config{Kind: SlidingCount, Size: 3}, "count window size 3 and slide 0 must be positive"},
		{Config{Kind: Global, Trigger: &Trigger{Kind: CountTrigger}}, "count trigger of 0 records"},
		{Config{Kind: Global, Trigger: &Trigger{Kind: ContinuousEventTimeTrigger}}, "continuous trigger interval 0ms must be positive"},
		{Config{Kind: Global, Trigger: &Trigger{Kind: CustomTrigger}}, "custom trigger without Functions.Trigger"},
		{Config{Kind: Global, Evictor: &Evictor{Kind: CustomEvictor}}, "custom evictor without Functions.Evictor"},
		{Config{Kind: Global, Evictor: &Evictor{Kind: TimeEvictor, Size: -1}}, "time evictor size -1ms must not be negative"},
		{Config{Kind: Global, Trigger: &Trigger{Kind: 99}}, "unknown trigger kind 99"},
		{Config{Kind: Session, Gap: 5, Trigger: &Trigger{Kind: CustomTrigger}}, "session windows take no custom trigger"},
		{Config{Kind: Tumbling, Size: 0, Trigger: &Trigger{Kind: CountTrigger, N: 2}}, "size 0ms and slide 0ms must be positive"},
	} {
		c.cfg.Aggregate = countAgg{}
		b := newHarness(t, Config{Kind: Tumbling, Size: 1}).b
		_, err := New(c.cfg, b)
		if err == nil || !strings.Contains(err.Error(), c.err) {
			t.Fatalf("%+v: error %v, want %q", c.cfg, err, c.err)
		}
	}
}
