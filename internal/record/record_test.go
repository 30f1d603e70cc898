package record

import (
	"bytes"
	"errors"
	"testing"
)

func sampleViews() []View {
	var hdr []byte
	hdr = AppendHeader(hdr, "a", "1")
	hdr = AppendHeader(hdr, "a", "2")
	return []View{
		{Flags: FlagPayload, Payload: []byte{}},
		{Flags: FlagPayload | FlagTimestamp, Payload: []byte(`{"x":1}`), Timestamp: -5},
		{Flags: FlagKey | FlagPayload | FlagTimestamp | FlagHeaders, Key: []byte("k"), Payload: []byte{0, 1, 2}, Timestamp: 1 << 50, Headers: hdr, HeaderCount: 2},
		{Flags: 0},
	}
}

func TestRoundTrip(t *testing.T) {
	var b Batch
	b.Reset()
	in := sampleViews()
	size := HeaderSize
	for i := range in {
		b.Append(&in[i])
		size += EncodedLen(&in[i])
	}
	if b.Size() != size {
		t.Fatalf("size %d, want %d", b.Size(), size)
	}
	r := b.Reader()
	var v View
	i := 0
	for r.Next(&v) {
		w := in[i]
		if v.Flags != w.Flags || !bytes.Equal(v.Key, w.Key) || v.Timestamp != w.Timestamp ||
			!bytes.Equal(v.Payload, w.Payload) || !bytes.Equal(v.Headers, w.Headers) || v.HeaderCount != w.HeaderCount {
			t.Fatalf("record %d: got %+v, want %+v", i, v, w)
		}
		i++
	}
	if err := r.Err(); err != nil || i != len(in) {
		t.Fatalf("read %d records, err %v", i, err)
	}
	var names, values []string
	_ = in[2].ForEachHeader(func(n, v []byte) error {
		names, values = append(names, string(n)), append(values, string(v))
		return nil
	})
	if len(names) != 2 || values[1] != "2" {
		t.Fatalf("headers %v %v", names, values)
	}
}

func TestMalformed(t *testing.T) {
	for name, b := range map[string][]byte{
		"empty":          {},
		"reserved flag":  {0x10},
		"short key len":  {byte(FlagKey), 1, 0},
		"key overrun":    {byte(FlagKey), 9, 0, 0, 0, 'a'},
		"short ts":       {byte(FlagTimestamp), 1, 2, 3},
		"header overrun": {byte(FlagHeaders), 1, 0, 0, 0, 5, 0, 0, 0},
	} {
		if _, _, err := Decode(b); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err %v, want ErrMalformed", name, err)
		}
	}
	r := NewReader([]byte{2, 0, 0, 0, byte(FlagPayload), 0, 0, 0, 0})
	var v View
	for r.Next(&v) {
	}
	if !errors.Is(r.Err(), ErrMalformed) {
		t.Fatalf("a count beyond the records: %v", r.Err())
	}
	r = NewReader([]byte{0, 0, 0, 0, 7})
	for r.Next(&v) {
	}
	if r.Err() == nil {
		t.Fatal("trailing bytes not reported")
	}
}

func FuzzDecode(f *testing.F) {
	var b Batch
	b.Reset()
	for _, v := range sampleViews() {
		b.Append(&v)
	}
	f.Add(b.Bytes())
	f.Fuzz(func(t *testing.T, frame []byte) {
		r := NewReader(frame)
		var out Batch
		out.Reset()
		var v View
		n := 0
		for r.Next(&v) {
			out.Append(&v)
			n++
		}
		if r.Err() == nil && !bytes.Equal(out.Bytes()[HeaderSize:], frame[HeaderSize:]) {
			t.Fatalf("re-encoding a valid frame changed it")
		}
	})
}

func BenchmarkDecode(b *testing.B) {
	var batch Batch
	batch.Reset()
	v := View{Flags: FlagPayload | FlagTimestamp, Payload: make([]byte, 60), Timestamp: 1}
	for range 1024 {
		batch.Append(&v)
	}
	frame := batch.Bytes()
	b.ReportAllocs()
	for b.Loop() {
		r := NewReader(frame)
		for r.Next(&v) {
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*1024), "ns/record")
}
