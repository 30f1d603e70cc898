package timestamp

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"regexp"
	"strings"
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

func TestJSONTimestamp(t *testing.T) {
	for _, c := range []struct {
		name, payload string
		want          int64
		ok            bool
	}{
		{"integer ms", `{"ts":1700000000123}`, 1700000000123, true},
		{"top level only; negative", `{"a":{"ts":5},"ts":-42}`, -42, true},
		{"whitespace around", " \n{ \"ts\" : 7 }\t", 7, true},
		{"zero", `{"ts":0}`, 0, true},
		{"negative zero", `{"ts":-0}`, 0, true},
		{"exponent", `{"ts":1e3}`, 1000, true},
		{"upper-case exponent with sign", `{"ts":1E+3}`, 1000, true},
		{"integral fraction", `{"ts":1500.0}`, 1500, true},
		{"fraction and exponent", `{"ts":1.5e3}`, 1500, true},
		{"negative exponent, integral", `{"ts":15000e-1}`, 1500, true},
		{"negative exponent, not integral", `{"ts":1500e-3}`, 0, false},
		{"fraction", `{"ts":1.5}`, 0, false},
		{"tiny fraction", `{"ts":1700000000000.000001}`, 0, false},
		{"exact above 2^53", `{"ts":9007199254740993.0}`, 9007199254740993, true},
		{"max int64", `{"ts":9223372036854775807}`, math.MaxInt64, true},
		{"max int64 with exponent", `{"ts":9.223372036854775807e18}`, math.MaxInt64, true},
		{"min int64", `{"ts":-9223372036854775808}`, math.MinInt64, true},
		{"above max int64", `{"ts":9223372036854775808}`, 0, false},
		{"below min int64", `{"ts":-9223372036854775809}`, 0, false},
		{"huge", `{"ts":99999999999999999999}`, 0, false},
		{"huge exponent", `{"ts":1e999999999999}`, 0, false},
		{"zero with a huge exponent", `{"ts":0e999999999999}`, 0, true},
		{"tiny exponent", `{"ts":1e-999999999999}`, 0, false},
		{"RFC 3339 with ms", `{"ts":"2023-11-14T22:13:20.123Z"}`, 1700000000123, true},
		{"RFC 3339 without fraction", `{"ts":"2023-11-14T22:13:20Z"}`, 1700000000000, true},
		{"RFC 3339 with offset", `{"ts":"2023-11-14T23:13:20+01:00"}`, 1700000000000, true},
		{"RFC 3339 with a half-hour offset", `{"ts":"2023-11-15T03:43:20.5+05:30"}`, 1700000000500, true},
		{"RFC 3339 with escapes", `{"ts":"2023-11-14T22:13:20\u002E123Z"}`, 1700000000123, true},
		{"string not a time", `{"ts":"yesterday"}`, 0, false},
		{"numeric string", `{"ts":"1700000000000"}`, 0, false},
		{"long string", `{"ts":"` + string(bytes.Repeat([]byte{'x'}, 100)) + `"}`, 0, false},
		{"null", `{"ts":null}`, 0, false},
		{"boolean", `{"ts":true}`, 0, false},
		{"object", `{"ts":{"ms":1}}`, 0, false},
		{"array", `{"ts":[1]}`, 0, false},
		{"missing member", `{"other":1}`, 0, false},
		{"empty object", `{}`, 0, false},
		{"array payload", `[{"ts":1}]`, 0, false},
		{"number payload", `12`, 0, false},
		{"string payload", `"ts"`, 0, false},
		{"truncated JSON", `{"ts":1`, 0, false},
		{"trailing garbage", `{"ts":1}x`, 0, false},
		{"invalid JSON", `{"ts":01}`, 0, false},
		{"empty payload", ``, 0, false},
	} {
		scratch := make([]byte, maxTimeLen)
		got, ok := jsonTimestamp([]byte(c.payload), []string{"ts"}, scratch)
		if ok != c.ok || ok && got != c.want {
			t.Errorf("%s: %s: got %d, %v; want %d, %v", c.name, c.payload, got, ok, c.want, c.ok)
		}
	}
}

func TestParseRFC3339(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"1970-01-01T00:00:00Z", 0, true},
		{"1970-01-01t00:00:00z", 0, true},
		{"1969-12-31T23:59:59.999Z", -1, true},
		{"1969-12-31T23:59:59.9999Z", -1, true}, // truncated toward the past
		{"0000-01-01T00:00:00Z", -62167219200000, true},
		{"9999-12-31T23:59:59.999999999Z", 253402300799999, true},
		{"2024-02-29T12:00:00Z", 1709208000000, true},
		{"2023-11-14T22:13:20.1Z", 1700000000100, true},
		{"2023-11-14T22:13:20.12Z", 1700000000120, true},
		{"2023-11-14T17:13:20-05:00", 1700000000000, true},
		{"2023-02-29T12:00:00Z", 0, false},
		{"1900-02-29T12:00:00Z", 0, false},
		{"2023-04-31T12:00:00Z", 0, false},
		{"2023-13-01T00:00:00Z", 0, false},
		{"2023-00-01T00:00:00Z", 0, false},
		{"2023-01-00T00:00:00Z", 0, false},
		{"2023-01-01T24:00:00Z", 0, false},
		{"2023-01-01T00:60:00Z", 0, false},
		{"2023-01-01T00:00:60Z", 0, false},
		{"2023-01-01T00:00:00", 0, false},
		{"2023-01-01T00:00:00.Z", 0, false},
		{"2023-01-01T00:00:00+0100", 0, false},
		{"2023-01-01T00:00:00+24:00", 0, false},
		{"2023-01-01T00:00:00+01:60", 0, false},
		{"2023-01-01 00:00:00Z", 0, false},
		{"2023-1-01T00:00:00Z", 0, false},
		{"2023-01-01T0:00:00Z", 0, false},
		{"2023-01-01T00:00:00,5Z", 0, false},
		{"+023-01-01T00:00:00Z", 0, false},
		{"2023-01-01T00:00:00ZZ", 0, false},
		{"", 0, false},
	} {
		got, ok := parseRFC3339([]byte(c.in))
		if ok != c.ok || ok && got != c.want {
			t.Errorf("%q: got %d, %v; want %d, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

// rfc3339 is RFC 3339's date-time grammar, which time.Parse reads more
// loosely (one-digit hours, a comma before the fraction, offsets of 60 minutes).
var rfc3339 = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d)$`)

// FuzzParseRFC3339 holds the parser to the grammar and to time.Parse: it reads
// only what the grammar allows; what time.Parse reads and the grammar allows,
// it reads to the same millisecond; and what it reads with upper-case letters,
// time.Parse reads too.
func FuzzParseRFC3339(f *testing.F) {
	for _, s := range []string{"2023-11-14T22:13:20.123Z", "2023-11-14T23:13:20+01:00", "1969-12-31T23:59:59.999999-00:30", "2024-02-29T00:00:00Z", "2023-11-14t22:13:20z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := parseRFC3339([]byte(s))
		grammar := rfc3339.MatchString(s)
		if ok && !grammar {
			t.Fatalf("%q: read as %d, but it is not RFC 3339", s, got)
		}
		ref, err := time.Parse(time.RFC3339Nano, s)
		if err == nil && grammar && (!ok || got != ref.UnixMilli()) {
			t.Fatalf("%q: got %d, %v; time.Parse %d", s, got, ok, ref.UnixMilli())
		}
		if ok && err != nil && !strings.ContainsAny(s, "tz") {
			t.Fatalf("%q: read as %d, but time.Parse: %v", s, got, err)
		}
	})
}

// FuzzParseMillis checks the number parser never panics and agrees with
// float64 arithmetic where that is exact.
func FuzzParseMillis(f *testing.F) {
	for _, s := range []string{"1", "-0", "1e3", "1.5", "15000e-1", "9223372036854775807", "1e999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := parseMillis([]byte(s))
		if ok && got > -1<<53 && got < 1<<53 {
			if g, err := fmt.Sscan(s, new(float64)); err != nil || g != 1 {
				t.Fatalf("%q: read as %d but is not a number", s, got)
			}
		}
	})
}

func FuzzJSONTimestamp(f *testing.F) {
	f.Add([]byte(`{"ts":12}`))
	f.Add([]byte(`{"ts":"2023-11-14T22:13:20Z"}`))
	f.Add([]byte(`{"ts":"2023-11-14T22:13:20\u002E1Z"}`))
	f.Add([]byte(`{"ts":1.5e3}`))
	f.Fuzz(func(t *testing.T, p []byte) { _, _ = jsonTimestamp(p, []string{"ts"}, make([]byte, maxTimeLen)) })
}

// FuzzProcess runs whole batches of arbitrary payloads: no panic, and every
// record is either kept with the flag set or counted as invalid.
func FuzzProcess(f *testing.F) {
	f.Add([]byte(`{"ts":12}`), []byte(`{"ts":"2023-11-14T22:13:20Z"}`))
	f.Add([]byte(`[]`), []byte(`{"ts":"\ud800"}`))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		op := NewJSONField("ts")
		out, err := op.Process(context.Background(), batchOf(string(a), string(b)))
		if err != nil {
			t.Fatal(err)
		}
		if out.Len()+int(op.Stats().Invalid.Load()) != 2 {
			t.Fatalf("%d kept, %d invalid of 2", out.Len(), op.Stats().Invalid.Load())
		}
		var v record.View
		for r := out.Reader(); r.Next(&v); {
			if !v.HasTimestamp() || v.Timestamp > op.MaxTimestamp() {
				t.Fatalf("record %+v, max %d", v, op.MaxTimestamp())
			}
		}
	})
}

func TestProcessKeepsOrderAndDropsInvalid(t *testing.T) {
	op := NewJSONField("ts")
	out, err := op.Process(context.Background(), batchOf(`{"ts":30}`, `{"x":1}`, `{"ts":10}`, `nope`, `{"ts":"1970-01-01T00:00:00.020Z"}`))
	if err != nil {
		t.Fatal(err)
	}
	var v record.View
	var got []string
	for r := out.Reader(); r.Next(&v); {
		got = append(got, fmt.Sprintf("%s@%d", v.Key, v.Timestamp))
	}
	if want := []string{"0@30", "2@10", "4@20"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if op.MaxTimestamp() != 30 || op.Stats().Invalid.Load() != 2 {
		t.Fatalf("max %d, invalid %d", op.MaxTimestamp(), op.Stats().Invalid.Load())
	}
	// Stats accumulate over batches.
	if _, err := op.Process(context.Background(), batchOf(`{}`, `{"ts":1}`)); err != nil {
		t.Fatal(err)
	}
	if op.MaxTimestamp() != 1 || op.Stats().Invalid.Load() != 3 {
		t.Fatalf("max %d, invalid %d", op.MaxTimestamp(), op.Stats().Invalid.Load())
	}
	if out, _ := op.Process(context.Background(), batchOf()); out.Len() != 0 || op.MaxTimestamp() != math.MinInt64 {
		t.Fatal("an empty batch has no max timestamp")
	}
	if out, _ := op.Process(context.Background(), batchOf(`{}`)); out.Len() != 0 || op.MaxTimestamp() != math.MinInt64 {
		t.Fatal("a batch with every record dropped has no max timestamp")
	}
}

// TestProcessPreservesRecords checks that the output is the input record for
// record, byte for byte, but for the timestamp: keys, headers, payloads, and
// with or without a timestamp before.
func TestProcessPreservesRecords(t *testing.T) {
	in := []record.View{
		{Flags: record.FlagPayload, Payload: []byte(`{"ts":1}`)},
		{Flags: record.FlagKey | record.FlagPayload | record.FlagTimestamp, Key: []byte{0, 0xff, 'k'}, Timestamp: 99, Payload: []byte("{\"ts\":2,\"x\":\"\xe2\x82\xac\"}")},
		{Flags: record.FlagKey | record.FlagPayload | record.FlagHeaders, Key: []byte{}, Payload: []byte(` {"ts": 3} `), Headers: record.AppendHeader(record.AppendHeader(nil, "a", "1"), "trace", "\x00\x01"), HeaderCount: 2},
	}
	var b record.Batch
	for i := range in {
		b.Append(&in[i])
	}
	before := bytes.Clone(b.Bytes())
	op := NewJSONField("ts")
	out, err := op.Process(context.Background(), &b)
	if err != nil {
		t.Fatal(err)
	}
	var want []byte
	for i, v := range in {
		v.Flags |= record.FlagTimestamp
		v.Timestamp = int64(i + 1)
		want = record.AppendView(want, &v)
	}
	if !bytes.Equal(out.Records(), want) {
		t.Fatalf("records\n%q\nwant\n%q", out.Records(), want)
	}
	if !bytes.Equal(b.Bytes(), before) {
		t.Fatal("the input batch changed")
	}
}

func TestIngestion(t *testing.T) {
	now := int64(777)
	op := NewIngestion(func() time.Time { return time.UnixMilli(now) })
	out, _ := op.Process(context.Background(), batchOf(`not json`, `{"ts":1}`))
	var got []int64
	var v record.View
	for r := out.Reader(); r.Next(&v); {
		got = append(got, v.Timestamp)
	}
	if fmt.Sprint(got) != "[777 777]" || op.MaxTimestamp() != 777 || op.Stats().Invalid.Load() != 0 {
		t.Fatalf("ingestion time: %v, max %d", got, op.MaxTimestamp())
	}
	now = 778
	if _, _ = op.Process(context.Background(), batchOf(`x`)); op.MaxTimestamp() != 778 {
		t.Fatalf("the clock is read per batch: %d", op.MaxTimestamp())
	}
}

func TestNoAllocsPerRecord(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race; make unit runs the Alloc tests again without it")
	}
	op := NewJSONField("ts")
	b := batchOf(
		`{"user":"u1","ts":1700000000123,"amount":12.5}`,
		`{"ts":"2023-11-14T22:13:20.123Z"}`,
		`{"ts":"2023-11-15T03:43:20+05:30"}`,
		`{"ts":"2023-11-14T22:13:20\u002E123Z"}`,
		`{"ts":1.5e3}`,
		`{"ts":1e999}`,
		`{"ts":"yesterday"}`,
		`{"ts":null}`,
		// Not `{"ts":1`: json.Valid allocates its SyntaxError for a payload
		// that is not JSON at all.
	)
	_, _ = op.Process(context.Background(), b)
	if n := testing.AllocsPerRun(100, func() { _, _ = op.Process(context.Background(), b) }); n != 0 {
		t.Fatalf("%v allocations per batch", n)
	}
}

func BenchmarkJSONField(b *testing.B) {
	for _, c := range []struct {
		name   string
		format string
	}{
		{"millis", `{"auction":%d,"bidder":%d,"price":%d,"ts":%d}`},
		{"rfc3339", `{"auction":%d,"bidder":%d,"price":%d,"ts":"%s"}`},
	} {
		b.Run(c.name, func(b *testing.B) {
			op := NewJSONField("ts")
			var in record.Batch
			for i := range 512 {
				var ts any = 1700000000000 + i
				if c.name == "rfc3339" {
					ts = time.UnixMilli(1700000000000 + int64(i)).UTC().Format(time.RFC3339Nano)
				}
				in.Append(&record.View{Flags: record.FlagPayload, Payload: fmt.Appendf(nil, c.format, i, i*7, 100+i, ts)})
			}
			b.ReportAllocs()
			b.SetBytes(int64(in.Size()))
			for b.Loop() {
				_, _ = op.Process(context.Background(), &in)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*512), "ns/record")
		})
	}
}
