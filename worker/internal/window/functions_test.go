package window

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"testing"

	"github.com/weir-streams/weir/internal/record"
	"github.com/weir-streams/weir/wasmhost"
)

// fakeCount answers aggregate calls the way a user count aggregate would, by
// reading the frame as sdk/ABI.md §4.5 lays it out: the accumulator is a u64.
// It counts calls, so that tests can check calls are batched.
type fakeCount struct{ calls int }

func (f *fakeCount) Aggregate(_ context.Context, fr *wasmhost.AggregateFrame) ([][]byte, error) {
	f.calls++
	b := wasmhost.FrameBytes(fr)
	op, groups := binary.LittleEndian.Uint32(b), binary.LittleEndian.Uint32(b[4:])
	b = b[8:]
	readAcc := func() (uint64, bool) {
		n := binary.LittleEndian.Uint32(b)
		b = b[4:]
		if n == math.MaxUint32 {
			return 0, false
		}
		v := binary.LittleEndian.Uint64(b[:n])
		b = b[n:]
		return v, true
	}
	var out [][]byte
	for range groups {
		acc, has := readAcc()
		if op == 1 && !has {
			acc = 0
		}
		switch op {
		case 1:
			n := binary.LittleEndian.Uint32(b)
			b = b[4:]
			var v record.View
			for range n {
				used, err := record.DecodeInto(b, &v)
				if err != nil {
					return nil, err
				}
				b = b[used:]
				acc++
			}
		case 2:
			n := binary.LittleEndian.Uint32(b)
			b = b[4:]
			for range n {
				other, _ := readAcc()
				acc += other
			}
		case 3:
			out = append(out, fmt.Appendf(nil, `%d`, acc))
			continue
		}
		out = append(out, binary.LittleEndian.AppendUint64(nil, acc))
	}
	if len(b) != 0 {
		return nil, fmt.Errorf("%d bytes after the last group", len(b))
	}
	return out, nil
}

// fakeWindow answers window calls as a window process function would: for each
// window, one result in the built-in aggregates' format, whose count is the
// number of elements or, with an aggregate, the one element's payload.
type fakeWindow struct {
	fromAggregate bool
	out           record.Batch
}

func (f *fakeWindow) Window(_ context.Context, fr *wasmhost.WindowFrame) (*record.Batch, error) {
	f.out.Reset()
	b := wasmhost.FrameBytes(fr)
	n := binary.LittleEndian.Uint32(b)
	b = b[4:]
	for range n {
		start, end := int64(binary.LittleEndian.Uint64(b)), int64(binary.LittleEndian.Uint64(b[8:]))
		kl := binary.LittleEndian.Uint32(b[16:])
		b = b[20:]
		var key []byte
		if kl != math.MaxUint32 {
			key, b = b[:kl], b[kl:]
		}
		elems := binary.LittleEndian.Uint32(b)
		b = b[4:]
		count := fmt.Sprint(elems)
		var v record.View
		for range elems {
			used, err := record.DecodeInto(b, &v)
			if err != nil {
				return nil, err
			}
			b = b[used:]
			if f.fromAggregate {
				count = string(v.Payload)
			}
		}
		p := fmt.Appendf(nil, `{"key":%s,"window_start":%d,"window_end":%d,"count":%s}`, key, start, end, count)
		f.out.Append(&record.View{Flags: record.FlagKey | record.FlagTimestamp | record.FlagPayload, Key: key, Timestamp: end - 1, Payload: p})
	}
	return &f.out, nil
}

// TestUserFunctionsAgainstOracle runs the oracle scenarios with user functions
// in place of the built-in count: an aggregate with a process function, and a
// process function alone over the windows' elements.
func TestUserFunctionsAgainstOracle(t *testing.T) {
	for _, c := range []struct {
		name string
		fns  func() *Functions
	}{
		{"aggregate+process", func() *Functions {
			return &Functions{Aggregate: &fakeCount{}, Process: &fakeWindow{fromAggregate: true}}
		}},
		{"process", func() *Functions { return &Functions{Process: &fakeWindow{}} }},
	} {
		t.Run(c.name, func(t *testing.T) {
			runOracle(t, func(cfg Config) Config {
				cfg.Functions = c.fns()
				cfg.Aggregate = countAgg{} // the harness reads results under "count"
				return cfg
			}, 6)
		})
	}
}

// TestUserAggregateBatchesCalls checks that a batch of records costs one add
// call, not one per record or window.
func TestUserAggregateBatchesCalls(t *testing.T) {
	agg := &fakeCount{}
	h := newHarness(t, Config{Kind: Sliding, Size: 10, Slide: 2, Keyed: true, Aggregate: countAgg{},
		Functions: &Functions{Aggregate: agg, Process: &fakeWindow{fromAggregate: true}}})
	var recs []rec
	for i := range 200 {
		recs = append(recs, rec{fmt.Sprint("k", i%7), int64(i % 50)})
	}
	h.send(recs...)
	if agg.calls != 1 {
		t.Fatalf("%d aggregate calls for one batch", agg.calls)
	}
	agg.calls = 0
	h.watermark(100)
	// Every window of every key fires in one Advance: one merge call, one result call.
	if agg.calls != 2 || len(h.out) == 0 {
		t.Fatalf("%d aggregate calls to fire %d windows", agg.calls, len(h.out))
	}
}
