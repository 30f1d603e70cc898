//go:build !wasip1

package weir

import (
	"encoding/json"
	"strconv"
	"testing"
)

// A typical 62-byte order record.
var benchPayload = []byte(`{"id":12345,"customer":"c-42","amount":1999,"currency":"EUR"}`)

func BenchmarkJSONInt(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchPayload)))
	for b.Loop() {
		if n, ok := JSONInt(benchPayload, "amount"); !ok || n != 1999 {
			b.Fatal(n, ok)
		}
	}
}

func BenchmarkJSONGetAfterNested(b *testing.B) {
	doc := []byte(`{"meta":{"tags":["a","b\"c"],"n":{"x":[1,2,{"y":null}]}},"note":"a \u00e9 b","amount":12.5}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		if _, _, ok := JSONGet(doc, "amount"); !ok {
			b.Fatal("not found")
		}
	}
}

func BenchmarkJSONReplace(b *testing.B) {
	dst := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		dst, _ = JSONReplace(dst[:0], benchPayload, "amount", []byte("199900"))
	}
}

// The baselines: the same field read with encoding/json.
func BenchmarkStdJSONStruct(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		var v struct{ Amount int64 }
		if err := json.Unmarshal(benchPayload, &v); err != nil || v.Amount != 1999 {
			b.Fatal(err)
		}
	}
}

func BenchmarkStdJSONMap(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		var v map[string]any
		if err := json.Unmarshal(benchPayload, &v); err != nil || v["amount"] != 1999.0 {
			b.Fatal(err)
		}
	}
}

// benchBatch is a batch of n copies of benchPayload, each with a key and a timestamp.
func benchBatch(n int) []byte {
	recs := make([]testRecord, n)
	for i := range recs {
		recs[i] = testRecord{Flags: flagKey | flagTimestamp | flagPayload, Key: "c-42", Timestamp: int64(i), Payload: string(benchPayload)}
	}
	return batchFrame(recs...)
}

// benchProcess measures one process call per op over a batch of 100 records,
// through the same path the wasm exports take, and reports the cost per record.
func benchProcess(b *testing.B, fn int32) {
	const n = 100
	in := benchBatch(n)
	emitted := 0
	testEmit = func(f []byte) { emitted += len(f) }
	if rc := call(b, callProcess, fn, in); rc != rcOK {
		b.Fatal(rc)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if rc := dispatch(callProcess, fn, input[:len(in)]); rc != rcOK {
			b.Fatal(rc)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/record")
}

func BenchmarkProcessMap(b *testing.B) {
	useTestRegistry(b)
	Map("enrich", func(in *Record, out *Output) error {
		p := in.Payload()
		start, end, kind, ok := JSONSpan(p, "amount")
		if !ok || kind != KindNumber {
			return nil
		}
		v, ok := JSONParseInt(p[start:end])
		if !ok {
			return nil
		}
		buf := append(out.Buffer(), p[:start]...)
		buf = strconv.AppendInt(buf, v*100, 10)
		out.SetPayload(append(buf, p[end:]...))
		return nil
	})
	benchProcess(b, 0)
}

func BenchmarkProcessFilter(b *testing.B) {
	useTestRegistry(b)
	Filter("positive", func(in *Record) (bool, error) {
		n, ok := JSONInt(in.Payload(), "amount")
		return ok && n > 0, nil
	})
	benchProcess(b, 0)
}

func BenchmarkProcessFlatMap(b *testing.B) {
	useTestRegistry(b)
	FlatMap("twice", func(in *Record, c *Collector) error {
		c.EmitPayload(in.Payload())
		o := c.Emit()
		o.SetKey([]byte("k"))
		for n, v := range in.Headers() {
			o.AddHeader(n, v)
		}
		return nil
	})
	benchProcess(b, 0)
}

func BenchmarkRecordHeaders(b *testing.B) {
	frame := batchFrame(testRecord{Flags: flagPayload | flagHeaders,
		Headers: [][2]string{{"a", "1"}, {"b", "2"}, {"trace", "xyz"}}})
	var br batchReader
	var r Record
	br.reset(frame)
	br.read(&r)
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		for range r.Headers() {
			n++
		}
		if v, ok := r.Header("trace"); !ok || len(v) != 3 || n != 3 {
			b.Fatal("headers")
		}
	}
}
