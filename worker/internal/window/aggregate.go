package window

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"unsafe"

	"github.com/buger/jsonparser"
	"github.com/weir-streams/weir/internal/record"
)

// Aggregator folds records into an accumulator (Flink's AggregateFunction).
// Accumulators are bytes so that they can be stored as they are.
type Aggregator interface {
	// Name is the result's member name: count, sum, min, max, avg.
	Name() string
	// New appends a fresh accumulator to dst.
	New(dst []byte) []byte
	// Add folds record v into acc and returns it (possibly grown).
	Add(acc []byte, v *record.View) []byte
	// Merge folds src into dst and returns dst.
	Merge(dst, src []byte) []byte
	// AppendResult appends the accumulator's value as JSON.
	AppendResult(dst, acc []byte) []byte
}

// Builtin returns the built-in aggregate name over the JSON member field
// (ignored by count).
func Builtin(name, field string) (Aggregator, error) {
	path := []string{field}
	switch name {
	case "count":
		return countAgg{}, nil
	case "sum":
		return &numAgg{name: name, path: path, combine: sum}, nil
	case "min":
		return &numAgg{name: name, path: path, combine: minimum}, nil
	case "max":
		return &numAgg{name: name, path: path, combine: maximum}, nil
	case "avg":
		return avgAgg{path: path}, nil
	}
	return nil, fmt.Errorf("unknown built-in aggregate %q (count, sum, min, max, avg)", name)
}

type countAgg struct{}

func (countAgg) Name() string { return "count" }

func (countAgg) New(dst []byte) []byte { return binary.LittleEndian.AppendUint64(dst, 0) }

func (countAgg) Add(acc []byte, _ *record.View) []byte {
	binary.LittleEndian.PutUint64(acc, binary.LittleEndian.Uint64(acc)+1)
	return acc
}

func (countAgg) Merge(dst, src []byte) []byte {
	binary.LittleEndian.PutUint64(dst, binary.LittleEndian.Uint64(dst)+binary.LittleEndian.Uint64(src))
	return dst
}

func (countAgg) AppendResult(dst, acc []byte) []byte {
	return strconv.AppendUint(dst, binary.LittleEndian.Uint64(acc), 10)
}

// number is a JSON number: an integer while it fits int64 and was written
// without a fraction or exponent, a float otherwise.
type number struct {
	isFloat bool
	i       int64
	f       float64
}

func (n number) float() float64 {
	if n.isFloat {
		return n.f
	}
	return float64(n.i)
}

// fieldNumber reads member path of a JSON payload as a number; ok is false when
// the payload has no such member or it is not a number.
func fieldNumber(payload []byte, path []string) (number, bool) {
	v, typ, _, err := jsonparser.Get(payload, path...)
	if err != nil || typ != jsonparser.Number || len(v) == 0 {
		return number{}, false
	}
	if i, ok := parseInt(v); ok {
		return number{i: i}, true
	}
	f, err := strconv.ParseFloat(unsafe.String(&v[0], len(v)), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return number{}, false
	}
	return number{isFloat: true, f: f}, true
}

// parseInt parses an optionally negative run of decimal digits that fits int64.
func parseInt(v []byte) (int64, bool) {
	neg := v[0] == '-'
	if neg {
		v = v[1:]
	}
	if len(v) == 0 || len(v) > 19 {
		return 0, false
	}
	var n uint64
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	if neg {
		if n > 1<<63 {
			return 0, false
		}
		return -int64(n), true
	}
	if n > math.MaxInt64 {
		return 0, false
	}
	return int64(n), true
}

// A numeric accumulator: flags | i (i64) | f (f64).
const (
	numHas   = 0x01 // a value was folded in
	numFloat = 0x02 // the value is f, not i
	numSize  = 17
)

func loadNum(acc []byte) (number, bool) {
	return number{isFloat: acc[0]&numFloat != 0, i: int64(binary.LittleEndian.Uint64(acc[1:])), f: math.Float64frombits(binary.LittleEndian.Uint64(acc[9:]))}, acc[0]&numHas != 0
}

func storeNum(acc []byte, n number) {
	acc[0] = numHas
	if n.isFloat {
		acc[0] |= numFloat
	}
	binary.LittleEndian.PutUint64(acc[1:], uint64(n.i))
	binary.LittleEndian.PutUint64(acc[9:], math.Float64bits(n.f))
}

// numAgg is sum, min or max: combine folds a value into the current one.
type numAgg struct {
	name    string
	path    []string
	combine func(cur, v number) number
}

func (a *numAgg) Name() string { return a.name }

func (a *numAgg) New(dst []byte) []byte { return append(dst, make([]byte, numSize)...) }

func (a *numAgg) Add(acc []byte, v *record.View) []byte {
	n, ok := fieldNumber(v.Payload, a.path)
	if !ok {
		return acc
	}
	return a.fold(acc, n)
}

func (a *numAgg) fold(acc []byte, n number) []byte {
	if cur, has := loadNum(acc); has {
		n = a.combine(cur, n)
	}
	storeNum(acc, n)
	return acc
}

func (a *numAgg) Merge(dst, src []byte) []byte {
	if n, has := loadNum(src); has {
		return a.fold(dst, n)
	}
	return dst
}

func (a *numAgg) AppendResult(dst, acc []byte) []byte {
	n, has := loadNum(acc)
	if !has {
		return append(dst, "null"...)
	}
	return appendNumber(dst, n)
}

func appendNumber(dst []byte, n number) []byte {
	if !n.isFloat {
		return strconv.AppendInt(dst, n.i, 10)
	}
	return appendFloat(dst, n.f)
}

func appendFloat(dst []byte, f float64) []byte {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return append(dst, "null"...)
	}
	n := len(dst)
	dst = strconv.AppendFloat(dst, f, 'g', -1, 64)
	for _, c := range dst[n:] {
		if c == '.' || c == 'e' {
			return dst
		}
	}
	// A float reads as one: 2.0, not 2.
	return append(dst, ".0"...)
}

// sum adds; integers stay integers until the sum overflows int64.
func sum(cur, v number) number {
	if !cur.isFloat && !v.isFloat {
		s := cur.i + v.i
		if (s > cur.i) == (v.i > 0) {
			return number{i: s}
		}
	}
	return number{isFloat: true, f: cur.float() + v.float()}
}

// less compares two numbers exactly when both are integers.
func less(a, b number) bool {
	if !a.isFloat && !b.isFloat {
		return a.i < b.i
	}
	return a.float() < b.float()
}

func minimum(cur, v number) number {
	if less(v, cur) {
		return v
	}
	return cur
}

func maximum(cur, v number) number {
	if less(cur, v) {
		return v
	}
	return cur
}

// avgAgg: count (i64) | sum (f64).
type avgAgg struct{ path []string }

func (avgAgg) Name() string { return "avg" }

func (avgAgg) New(dst []byte) []byte { return append(dst, make([]byte, 16)...) }

func (a avgAgg) Add(acc []byte, v *record.View) []byte {
	n, ok := fieldNumber(v.Payload, a.path)
	if !ok {
		return acc
	}
	binary.LittleEndian.PutUint64(acc, binary.LittleEndian.Uint64(acc)+1)
	binary.LittleEndian.PutUint64(acc[8:], math.Float64bits(math.Float64frombits(binary.LittleEndian.Uint64(acc[8:]))+n.float()))
	return acc
}

func (avgAgg) Merge(dst, src []byte) []byte {
	binary.LittleEndian.PutUint64(dst, binary.LittleEndian.Uint64(dst)+binary.LittleEndian.Uint64(src))
	binary.LittleEndian.PutUint64(dst[8:], math.Float64bits(math.Float64frombits(binary.LittleEndian.Uint64(dst[8:]))+math.Float64frombits(binary.LittleEndian.Uint64(src[8:]))))
	return dst
}

func (avgAgg) AppendResult(dst, acc []byte) []byte {
	n := binary.LittleEndian.Uint64(acc)
	if n == 0 {
		return append(dst, "null"...)
	}
	return appendFloat(dst, math.Float64frombits(binary.LittleEndian.Uint64(acc[8:]))/float64(n))
}
