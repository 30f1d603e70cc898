// Command windows is Weir's example of windows and timers in Go (sdk/ABI.md
// §4.4–4.6):
//
//   - session_stats, an aggregate for a sessionized clickstream: the clicks of a
//     session window and the number of distinct pages they visited, as
//     {"clicks":N,"pages":M};
//   - top3, a window process function: the three most expensive items of a
//     window, as {"window_start":S,"window_end":E,"top":[{"item":..,"price":..},...]};
//   - sum_price, the sum of the records' integer "price", as {"sum":N}: what the
//     built-in aggregate {builtin: sum, field: price} computes, to compare the two;
//   - event_time, a timestamp extractor: the record's time from its "ts" member
//     (ms), and a punctuation from its "watermark" member when it has one;
//   - timeout, a process function with an event-time timer: a key that has no
//     record for a second after its last one is reported as
//     {"key":K,"idle_since":T} (K the key as it is: a key_by on a JSON field keys by its JSON text).
//
// Build it with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -trimpath -ldflags=-s -o windows.wasm .
package main

import (
	"encoding/binary"
	"errors"
	"slices"
	"strconv"

	weir "github.com/weir-streams/weir/sdk/go"
)

func init() {
	weir.Aggregate("session_stats", weir.AggregateFuncs{
		Create: newStats, Add: addClick, Merge: mergeStats, Result: statsResult,
	}) // index 0
	weir.WindowProcess("top3", top3)                                            // index 1
	weir.Process("timeout", timeout, weir.State(last), weir.OnTimer(onTimeout)) // index 2
	weir.Aggregate("sum_price", weir.AggregateFuncs{
		Create: func() []byte { return make([]byte, 8) }, Add: addPrice, Merge: mergeSums, Result: sumResult,
	}) // index 3
	weir.TimestampExtractor("event_time", eventTime) // index 4
}

// main is never called: the module is a reactor.
func main() {}

// A session's accumulator: clicks (u64), then the distinct pages seen, each as a
// u32 length and its bytes, in byte order.
func newStats() []byte { return make([]byte, 8) }

func addClick(acc []byte, in *weir.Record) ([]byte, error) {
	page, _ := weir.JSONString(in.Payload(), "page")
	binary.LittleEndian.PutUint64(acc, binary.LittleEndian.Uint64(acc)+1)
	return addPage(acc, page), nil
}

// pages lists the pages of an accumulator.
func pages(acc []byte) [][]byte {
	var ps [][]byte
	for b := acc[8:]; len(b) >= 4; {
		n := binary.LittleEndian.Uint32(b)
		ps = append(ps, b[4:4+n])
		b = b[4+n:]
	}
	return ps
}

// addPage adds page to the set of acc, keeping it sorted.
func addPage(acc, page []byte) []byte {
	ps := pages(acc)
	i, found := slices.BinarySearchFunc(ps, page, func(a, b []byte) int { return slices.Compare(a, b) })
	if found {
		return acc
	}
	ps = slices.Insert(ps, i, page)
	out := binary.LittleEndian.AppendUint64(make([]byte, 0, len(acc)+4+len(page)), binary.LittleEndian.Uint64(acc))
	for _, p := range ps {
		out = binary.LittleEndian.AppendUint32(out, uint32(len(p)))
		out = append(out, p...)
	}
	return out
}

func mergeStats(acc, other []byte) ([]byte, error) {
	if len(acc) < 8 || len(other) < 8 {
		return nil, errors.New("session_stats: malformed accumulator")
	}
	binary.LittleEndian.PutUint64(acc, binary.LittleEndian.Uint64(acc)+binary.LittleEndian.Uint64(other))
	for _, p := range pages(other) {
		acc = addPage(acc, p)
	}
	return acc, nil
}

func statsResult(acc []byte) ([]byte, error) {
	out := append([]byte(`{"clicks":`), strconv.FormatUint(binary.LittleEndian.Uint64(acc), 10)...)
	out = append(out, `,"pages":`...)
	out = strconv.AppendInt(out, int64(len(pages(acc))), 10)
	return append(out, '}'), nil
}

type item struct {
	name  []byte // its JSON text, quotes included
	price int64
}

// top3 emits the window's three highest prices; ties go to the smaller name.
func top3(w *weir.Window, elements []*weir.Record, out *weir.Collector) error {
	items := make([]item, 0, len(elements))
	for _, e := range elements {
		name, _, ok := weir.JSONGet(e.Payload(), "item")
		price, ok2 := weir.JSONInt(e.Payload(), "price")
		if ok && ok2 {
			items = append(items, item{name, price})
		}
	}
	slices.SortFunc(items, func(a, b item) int {
		if a.price != b.price {
			if a.price > b.price {
				return -1
			}
			return 1
		}
		return slices.Compare(a.name, b.name)
	})
	p := append([]byte(`{"window_start":`), strconv.FormatInt(w.Start, 10)...)
	p = append(p, `,"window_end":`...)
	p = strconv.AppendInt(p, w.End, 10)
	p = append(p, `,"top":[`...)
	for i, it := range items[:min(3, len(items))] {
		if i > 0 {
			p = append(p, ',')
		}
		p = append(p, `{"item":`...)
		p = append(p, it.name...)
		p = append(p, `,"price":`...)
		p = strconv.AppendInt(p, it.price, 10)
		p = append(p, '}')
	}
	p = append(p, "]}"...)
	out.Emit().SetPayload(p)
	return nil
}

// last is each key's latest record time (ms), an int64 in eight bytes.
var last = weir.NewValueState("last", 0)

func timeout(in *weir.Record, ctx *weir.Context) error {
	ts, ok := in.Timestamp()
	if !ok {
		return errors.New("timeout: a record without a timestamp")
	}
	if err := last.PutInt64(ctx, ts); err != nil {
		return err
	}
	return ctx.RegisterEventTimer(ts + 1000)
}

func onTimeout(t *weir.Timer, ctx *weir.Context) error {
	ts, ok, err := last.GetInt64(ctx)
	if err != nil || !ok || t.Time != ts+1000 {
		return err // a later record moved the deadline
	}
	p := append(append([]byte(`{"key":`), t.Key...), `,"idle_since":`...)
	p = strconv.AppendInt(p, ts, 10)
	ctx.Emit().SetPayload(append(p, '}'))
	return nil
}

// sum_price's accumulator is the sum, an int64 in eight bytes.
func addPrice(acc []byte, in *weir.Record) ([]byte, error) {
	if p, ok := weir.JSONInt(in.Payload(), "price"); ok {
		binary.LittleEndian.PutUint64(acc, binary.LittleEndian.Uint64(acc)+uint64(p))
	}
	return acc, nil
}

func mergeSums(acc, other []byte) ([]byte, error) {
	binary.LittleEndian.PutUint64(acc, binary.LittleEndian.Uint64(acc)+binary.LittleEndian.Uint64(other))
	return acc, nil
}

func sumResult(acc []byte) ([]byte, error) {
	return append(strconv.AppendInt([]byte(`{"sum":`), int64(binary.LittleEndian.Uint64(acc)), 10), '}'), nil
}

// eventTime reads "ts" as the record's time; a record without it is dropped. A
// "watermark" member is a punctuation (for timestamps: {udf: ..., punctuated: true}).
func eventTime(in *weir.Record, out *weir.TimestampResult) error {
	if ts, ok := weir.JSONInt(in.Payload(), "ts"); ok {
		out.SetTime(ts)
	}
	if wm, ok := weir.JSONInt(in.Payload(), "watermark"); ok {
		out.EmitWatermark(wm)
	}
	return nil
}
