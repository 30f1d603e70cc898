//go:build !wasip1

package weir

import (
	"bytes"
	"reflect"
	"testing"
)

func TestDecodeBatch(t *testing.T) {
	recs := []testRecord{
		{Flags: flagPayload, Payload: ""},
		{Flags: flagPayload | flagKey, Key: "k1", Payload: "p1"},
		{Flags: flagPayload | flagTimestamp, Timestamp: -5, Payload: "p2"},
		{Flags: flagKey | flagTimestamp | flagPayload | flagHeaders, Key: "", Timestamp: 1700000000000, Payload: `{"a":1}`,
			Headers: [][2]string{{"h", "1"}, {"", ""}, {"h", "2"}}},
		{Flags: flagPayload | flagHeaders, Payload: "x"},
	}
	frame := batchFrame(recs...)
	var br batchReader
	if err := br.reset(frame); err != nil {
		t.Fatal(err)
	}
	var r Record
	for i, want := range recs {
		more, err := br.read(&r)
		if !more || err != nil {
			t.Fatalf("record %d: more=%v err=%v", i, more, err)
		}
		if r.Index() != i {
			t.Errorf("record %d: index %d", i, r.Index())
		}
		if string(r.Payload()) != want.Payload {
			t.Errorf("record %d: payload %q, want %q", i, r.Payload(), want.Payload)
		}
		k, ok := r.Key()
		if ok != (want.Flags&flagKey != 0) || string(k) != want.Key {
			t.Errorf("record %d: key %q %v", i, k, ok)
		}
		ts, ok := r.Timestamp()
		if ok != (want.Flags&flagTimestamp != 0) || ts != want.Timestamp {
			t.Errorf("record %d: timestamp %d %v", i, ts, ok)
		}
		var hs [][2]string
		for n, v := range r.Headers() {
			hs = append(hs, [2]string{string(n), string(v)})
		}
		if !reflect.DeepEqual(hs, want.Headers) || r.NumHeaders() != len(want.Headers) {
			t.Errorf("record %d: headers %q, want %q", i, hs, want.Headers)
		}
	}
	if more, err := br.read(&r); more || err != nil {
		t.Fatalf("after the last record: more=%v err=%v", more, err)
	}
}

func TestRecordHeader(t *testing.T) {
	frame := batchFrame(testRecord{Flags: flagPayload | flagHeaders,
		Headers: [][2]string{{"a", "1"}, {"b", "2"}, {"a", "3"}}})
	var br batchReader
	var r Record
	if br.reset(frame) != nil {
		t.Fatal("reset")
	}
	if _, err := br.read(&r); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, want string
		ok         bool
	}{{"a", "1", true}, {"b", "2", true}, {"c", "", false}, {"", "", false}} {
		v, ok := r.Header(c.name)
		if string(v) != c.want || ok != c.ok {
			t.Errorf("Header(%q) = %q, %v; want %q, %v", c.name, v, ok, c.want, c.ok)
		}
	}
	// Stopping early works.
	n := 0
	for range r.Headers() {
		n++
		break
	}
	if n != 1 {
		t.Errorf("break did not stop the iteration")
	}
}

func TestDecodeBatchMalformed(t *testing.T) {
	valid := batchFrame(
		testRecord{Flags: flagKey | flagTimestamp | flagPayload | flagHeaders, Key: "key", Timestamp: 7, Payload: "payload",
			Headers: [][2]string{{"name", "value"}}},
		testRecord{Flags: flagPayload, Payload: "second"},
	)
	decodeAll := func(b []byte) error {
		var br batchReader
		if err := br.reset(b); err != nil {
			return err
		}
		var r Record
		for {
			more, err := br.read(&r)
			if err != nil || !more {
				return err
			}
		}
	}
	if err := decodeAll(valid); err != nil {
		t.Fatalf("valid frame: %v", err)
	}
	// Every truncation is detected.
	for n := 0; n < len(valid); n++ {
		if err := decodeAll(valid[:n]); err == nil {
			t.Errorf("frame truncated to %d bytes decoded", n)
		}
	}
	cases := map[string][]byte{
		"trailing byte":       append(bytes.Clone(valid), 0),
		"reserved flag":       batchFrame(testRecord{Flags: flagPayload | 0x10}),
		"count beyond frame":  {0xff, 0xff, 0xff, 0xff, 4, 0, 0, 0, 0},
		"key length too long": {1, 0, 0, 0, flagKey, 0xff, 0xff, 0xff, 0xff},
		"headers count huge":  {1, 0, 0, 0, flagHeaders, 0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0, 0, 0, 0, 0},
		"header value cut":    {1, 0, 0, 0, flagHeaders, 1, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 'a'},
	}
	for name, b := range cases {
		if err := decodeAll(b); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
	if err := decodeAll([]byte{0, 0, 0, 0}); err != nil {
		t.Errorf("empty batch: %v", err)
	}
}

func TestOutputFrame(t *testing.T) {
	var w frameWriter
	w.reset()
	var o Output
	o.reset(0)
	w.appendOutput(0, &o) // inherit everything
	o.reset(2)
	o.SetKey([]byte("k"))
	o.SetTimestamp(-1)
	o.Write([]byte("ab"))
	o.Write([]byte("c"))
	o.AddHeader([]byte("h"), []byte("v"))
	o.AddHeader([]byte("h"), []byte(""))
	w.appendOutput(3, &o)
	o.reset(0)
	o.ClearHeaders()
	o.SetPayload(nil)
	w.appendOutput(noParent, &o)
	got := decodeOutputFrame(t, w.bytes())
	want := []testOutput{
		{Parent: 0, Tag: 0, testRecord: testRecord{}},
		{Parent: 3, Tag: 2, testRecord: testRecord{Flags: flagKey | flagTimestamp | flagPayload | flagHeaders,
			Key: "k", Timestamp: -1, Payload: "abc", Headers: [][2]string{{"h", "v"}, {"h", ""}}}},
		{Parent: noParent, testRecord: testRecord{Flags: flagHeaders | flagPayload}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	// The writer starts afresh.
	w.reset()
	if got := decodeOutputFrame(t, w.bytes()); len(got) != 0 {
		t.Errorf("after reset: %+v", got)
	}
}

func TestOutputBufferReuse(t *testing.T) {
	var o Output
	o.reset(0)
	o.SetPayload(append(o.Buffer(), "hello world"...))
	o.reset(0)
	if p, set := o.Payload(); set || len(p) != 0 {
		t.Fatalf("after reset: %q %v", p, set)
	}
	allocs := testing.AllocsPerRun(100, func() {
		o.reset(0)
		b := append(o.Buffer(), "hello"...)
		o.SetPayload(b)
	})
	if allocs != 0 {
		t.Errorf("%v allocs per reuse", allocs)
	}
	if p, _ := o.Payload(); string(p) != "hello" {
		t.Errorf("payload %q", p)
	}
}
