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
//     {"key":K,"idle_since":T}, K the key as a JSON string (a key_by on a JSON
//     string field keys by its JSON text, which is written as it is).
//
// Build it with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -trimpath -ldflags=-s -o windows.wasm .
package main

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"slices"
	"strconv"
	"unicode/utf8"

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
// u32 length and its bytes, in byte order (the same bytes in every language's
// twin of this example). A click without a string "page" counts the empty page.
// Adding a click edits the accumulator in place: only a page not seen before
// makes it longer, so the usual click allocates nothing.
func newStats() []byte { return make([]byte, 8) }

var errStats = errors.New("session_stats: malformed accumulator")

func addClick(acc []byte, in *weir.Record) ([]byte, error) {
	if len(acc) < 8 {
		return nil, errStats
	}
	page, _ := weir.JSONString(in.Payload(), "page")
	binary.LittleEndian.PutUint64(acc, binary.LittleEndian.Uint64(acc)+1)
	return addPage(acc, page)
}

// addPage adds page to the set of acc, where it belongs in byte order.
func addPage(acc, page []byte) ([]byte, error) {
	if len(acc) < 8 {
		return nil, errStats
	}
	at := 8
	for at < len(acc) {
		p, next, ok := pageAt(acc, at)
		if !ok {
			return nil, errStats
		}
		switch c := bytes.Compare(page, p); {
		case c == 0:
			return acc, nil
		case c < 0:
			return insertPage(acc, at, page), nil
		}
		at = next
	}
	return insertPage(acc, at, page), nil
}

// pageAt reads the page of acc at offset at and the offset after it.
func pageAt(acc []byte, at int) (page []byte, next int, ok bool) {
	if len(acc)-at < 4 {
		return nil, 0, false
	}
	n := binary.LittleEndian.Uint32(acc[at:])
	if uint64(n) > uint64(len(acc)-at-4) {
		return nil, 0, false
	}
	next = at + 4 + int(n)
	return acc[at+4 : next], next, true
}

// insertPage inserts page, with its length, at offset at of acc.
func insertPage(acc []byte, at int, page []byte) []byte {
	out := make([]byte, 0, len(acc)+4+len(page))
	out = append(out, acc[:at]...)
	out = binary.LittleEndian.AppendUint32(out, uint32(len(page)))
	out = append(out, page...)
	return append(out, acc[at:]...)
}

func mergeStats(acc, other []byte) ([]byte, error) {
	if len(acc) < 8 || len(other) < 8 {
		return nil, errStats
	}
	binary.LittleEndian.PutUint64(acc, binary.LittleEndian.Uint64(acc)+binary.LittleEndian.Uint64(other))
	var err error
	for at := 8; at < len(other); {
		p, next, ok := pageAt(other, at)
		if !ok {
			return nil, errStats
		}
		if acc, err = addPage(acc, p); err != nil {
			return nil, err
		}
		at = next
	}
	return acc, nil
}

func statsResult(acc []byte) ([]byte, error) {
	if len(acc) < 8 {
		return nil, errStats
	}
	pages := 0
	for at := 8; at < len(acc); pages++ {
		_, next, ok := pageAt(acc, at)
		if !ok {
			return nil, errStats
		}
		at = next
	}
	out := strconv.AppendUint([]byte(`{"clicks":`), binary.LittleEndian.Uint64(acc), 10)
	out = append(out, `,"pages":`...)
	out = strconv.AppendInt(out, int64(pages), 10)
	return append(out, '}'), nil
}

type item struct {
	raw   []byte // the name's JSON text, quotes and escapes included, as written out
	name  []byte // the name, unescaped, as compared
	price int64
}

// items holds a window's priced items, reused from window to window.
var items []item

// top3 emits the window's three highest prices; ties go to the smaller name (in
// byte order of the unescaped names). Elements without a string "item" and an
// integer "price" are left out.
func top3(w *weir.Window, elements []*weir.Record, out *weir.Collector) error {
	items = items[:0]
	for _, e := range elements {
		raw, kind, ok := weir.JSONGet(e.Payload(), "item")
		price, ok2 := weir.JSONInt(e.Payload(), "price")
		if !ok || !ok2 || kind != weir.KindString {
			continue
		}
		name, ok := weir.JSONUnquote(raw)
		if !ok {
			continue
		}
		items = append(items, item{raw, name, price})
	}
	slices.SortFunc(items, func(a, b item) int {
		if a.price != b.price {
			return cmp.Compare(b.price, a.price)
		}
		return bytes.Compare(a.name, b.name)
	})
	o := out.Emit()
	p := strconv.AppendInt(append(o.Buffer(), `{"window_start":`...), w.Start, 10)
	p = strconv.AppendInt(append(p, `,"window_end":`...), w.End, 10)
	p = append(p, `,"top":[`...)
	for i, it := range items[:min(3, len(items))] {
		if i > 0 {
			p = append(p, ',')
		}
		p = append(append(p, `{"item":`...), it.raw...)
		p = strconv.AppendInt(append(p, `,"price":`...), it.price, 10)
		p = append(p, '}')
	}
	o.SetPayload(append(p, "]}"...))
	clear(items) // drop the views into the input
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
	o := ctx.Emit()
	p := appendKey(append(o.Buffer(), `{"key":`...), t.Key)
	p = strconv.AppendInt(append(p, `,"idle_since":`...), ts, 10)
	o.SetPayload(append(p, '}'))
	return nil
}

// appendKey appends the key as a JSON string: as it is when it is the JSON text
// of a string already (what a key_by on a JSON string field gives), else its
// bytes quoted, invalid UTF-8 as U+FFFD.
func appendKey(p, key []byte) []byte {
	if len(key) > 0 && key[0] == '"' && weir.JSONValid(key) {
		return append(p, key...)
	}
	const hex = "0123456789abcdef"
	p = append(p, '"')
	for _, r := range string(key) { // invalid UTF-8 reads as utf8.RuneError, U+FFFD
		switch {
		case r == '"' || r == '\\':
			p = append(p, '\\', byte(r))
		case r < 0x20:
			p = append(p, '\\', 'u', '0', '0', hex[r>>4], hex[r&0xF])
		default:
			p = utf8.AppendRune(p, r)
		}
	}
	return append(p, '"')
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
