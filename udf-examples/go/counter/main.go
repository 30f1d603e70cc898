// Command counter is Weir's example of keyed state in Go: a running count per key
// (count, a process function) and a running sum per key (sum, a reduce function).
//
// Build it with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -trimpath -ldflags=-s -o counter.wasm .
//
// udf-examples/README.md defines each function's output byte for byte; the Rust,
// C and AssemblyScript counter modules give the same count.
package main

import (
	"errors"
	"math/bits"
	"strconv"

	weir "github.com/weir-streams/weir/sdk/go"
)

// counts is the running count of each key, an int64 stored as eight bytes, little
// endian (weir.ValueState.PutInt64). Its name maps it in checkpoints: renaming it
// loses the counts.
var counts = weir.NewValueState("count", 0)

// attempt is the job's execution attempt, read once when the function opens.
var attempt int64

func init() {
	weir.Process("count", count, weir.State(counts), weir.OnOpen(readAttempt)) // index 0
	weir.Reduce("sum", sum)                                                    // index 1
}

// main is never called: the module is a reactor.
func main() {}

func readAttempt([]byte) error {
	t, err := weir.TaskInfo()
	if err != nil {
		return err
	}
	attempt = int64(t.Attempt)
	return nil
}

// count adds one to the count of the record's key (the key the step's key_by
// gave it) and emits {"key":K,"seq":S,"count":N,"attempt":A}: K the text of the
// payload's member key as written (null without one), S that of seq when it is
// a number (else null), N the count after this record.
func count(in *weir.Record, ctx *weir.Context) error {
	n, _, err := counts.GetInt64(ctx)
	if err != nil {
		return err
	}
	n++
	if err := counts.PutInt64(ctx, n); err != nil {
		return err
	}
	o := ctx.Emit()
	o.SetPayload(appendCount(o.Buffer(), in.Payload(), n, attempt))
	return nil
}

var null = []byte("null")

// appendCount appends count's output for payload p to b.
func appendCount(b, p []byte, n, attempt int64) []byte {
	key, _, ok := weir.JSONGet(p, "key")
	if !ok {
		key = null
	}
	seq, kind, ok := weir.JSONGet(p, "seq")
	if !ok || kind != weir.KindNumber {
		seq = null
	}
	b = append(b, `{"key":`...)
	b = append(b, key...)
	b = append(b, `,"seq":`...)
	b = append(b, seq...)
	b = append(b, `,"count":`...)
	b = strconv.AppendInt(b, n, 10)
	b = append(b, `,"attempt":`...)
	b = strconv.AppendInt(b, attempt, 10)
	return append(b, '}')
}

// sum adds the integer members amount of the running sum and the next record,
// and writes {"amount":<sum>} over the running sum's buffer. A key's first record
// is its running sum as it is (sdk/ABI.md §4.1), so the first output of a key
// repeats its payload.
func sum(acc, value []byte) ([]byte, error) {
	a, ok := weir.JSONInt(acc, "amount")
	if !ok {
		return nil, errors.New("sum: the running sum " + strconv.Quote(string(acc)) + " has no integer amount")
	}
	v, ok := weir.JSONInt(value, "amount")
	if !ok {
		return nil, errors.New("sum: the payload " + strconv.Quote(string(value)) + " has no integer amount")
	}
	s, ok := add64(a, v)
	if !ok {
		return nil, errors.New("sum: " + strconv.FormatInt(a, 10) + " + " + strconv.FormatInt(v, 10) + " overflows an int64")
	}
	b := append(acc[:0], `{"amount":`...)
	b = strconv.AppendInt(b, s, 10)
	return append(b, '}'), nil
}

// add64 returns a+b and whether it fits an int64.
func add64(a, b int64) (int64, bool) {
	s, _ := bits.Add64(uint64(a), uint64(b), 0)
	// Overflow happened when both operands have the same sign and the sum's differs.
	return int64(s), (a >= 0) != (b >= 0) || (int64(s) >= 0) == (a >= 0)
}
