package timestamp

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/weir-streams/weir/internal/record"
)

func batchOf(payloads ...string) *record.Batch {
	var b record.Batch
	for i, p := range payloads {
		b.Append(&record.View{Flags: record.FlagKey | record.FlagPayload | record.FlagTimestamp, Key: []byte(fmt.Sprint(i)), Timestamp: -1, Payload: []byte(p)})
	}
	return &b
}

func TestJSONField(t *testing.T) {
	for _, c := range []struct {
		payload string
		want    int64
		ok      bool
	}{
		{`{"ts":1700000000123}`, 1700000000123, true},
		{`{"a":{"ts":5},"ts":-42}`, -42, true},
		{`{"ts":1e3}`, 1000, true},
		{`{"ts":1500.0}`, 1500, true},
		{`{"ts":1.5}`, 0, false},
		{`{"ts":"2023-11-14T22:13:20.123Z"}`, 1700000000123, true},
		{`{"ts":"2023-11-14T23:13:20+01:00"}`, 1700000000000, true},
		{`{"ts":"yesterday"}`, 0, false},
		{`{"ts":null}`, 0, false},
		{`{"ts":true}`, 0, false},
		{`{"other":1}`, 0, false},
		{`{"ts":99999999999999999999}`, 0, false},
		{`{"ts":-9223372036854775808}`, math.MinInt64, true},
		{`[{"ts":1}]`, 0, false},
		{`{"ts":1`, 0, false},
		{``, 0, false},
	} {
		got, ok := jsonTimestamp([]byte(c.payload), []string{"ts"})
		if ok != c.ok || ok && got != c.want {
			t.Errorf("%s: got %d, %v; want %d, %v", c.payload, got, ok, c.want, c.ok)
		}
	}
}

func TestProcessKeepsRecordsAndDropsInvalid(t *testing.T) {
	op := NewJSONField("ts")
	out, err := op.Process(context.Background(), batchOf(`{"ts":30}`, `{"x":1}`, `{"ts":10}`))
	if err != nil {
		t.Fatal(err)
	}
	var v record.View
	r := out.Reader()
	var got []string
	for r.Next(&v) {
		got = append(got, fmt.Sprintf("%s@%d:%s", v.Key, v.Timestamp, v.Payload))
	}
	if want := []string{`0@30:{"ts":30}`, `2@10:{"ts":10}`}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if op.MaxTimestamp() != 30 || op.Stats().Invalid.Load() != 1 {
		t.Fatalf("max %d, invalid %d", op.MaxTimestamp(), op.Stats().Invalid.Load())
	}
	if out, _ := op.Process(context.Background(), batchOf()); out.Len() != 0 || op.MaxTimestamp() != math.MinInt64 {
		t.Fatal("an empty batch has no max timestamp")
	}
}

func TestIngestion(t *testing.T) {
	op := NewIngestion(func() time.Time { return time.UnixMilli(777) })
	out, _ := op.Process(context.Background(), batchOf(`not json`))
	var v record.View
	if r := out.Reader(); !r.Next(&v) || v.Timestamp != 777 {
		t.Fatalf("ingestion time: %d", v.Timestamp)
	}
}

func TestNoAllocsPerRecord(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race; make unit runs the Alloc tests again without it")
	}
	op := NewJSONField("ts")
	b := batchOf(`{"user":"u1","ts":1700000000123,"amount":12.5}`, `{"ts":"2023-11-14T22:13:20.123Z"}`)
	_, _ = op.Process(context.Background(), b)
	if n := testing.AllocsPerRun(100, func() { _, _ = op.Process(context.Background(), b) }); n != 0 {
		t.Fatalf("%v allocations per batch", n)
	}
}

func FuzzJSONTimestamp(f *testing.F) {
	f.Add([]byte(`{"ts":12}`))
	f.Add([]byte(`{"ts":"2023-11-14T22:13:20Z"}`))
	f.Fuzz(func(t *testing.T, p []byte) { _, _ = jsonTimestamp(p, []string{"ts"}) })
}

func BenchmarkJSONField(b *testing.B) {
	op := NewJSONField("ts")
	var in record.Batch
	for i := range 512 {
		in.Append(&record.View{Flags: record.FlagPayload, Payload: fmt.Appendf(nil, `{"auction":%d,"bidder":%d,"price":%d,"ts":%d}`, i, i*7, 100+i, 1700000000000+i)})
	}
	b.ReportAllocs()
	b.SetBytes(int64(in.Size()))
	for b.Loop() {
		_, _ = op.Process(context.Background(), &in)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*512), "ns/record")
}
