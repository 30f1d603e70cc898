//go:build !wasip1

package weir

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"unsafe"
)

func TestDescribe(t *testing.T) {
	useTestRegistry(t)
	Map("enrich", func(*Record, *Output) error { return nil })
	Filter("positive", func(*Record) (bool, error) { return true, nil }, SideOutputs("rejected", `we"ird`))
	FlatMap("split.v2-x", func(*Record, *Collector) error { return nil })
	d := describe()
	want := `{"abi_version":1,"sdk":"go/` + Version + `","functions":[` +
		`{"name":"enrich","kind":"map","index":0,"side_outputs":[],"state":[]},` +
		`{"name":"positive","kind":"filter","index":1,"side_outputs":["rejected","we\"ird"],"state":[]},` +
		`{"name":"split.v2-x","kind":"flat_map","index":2,"side_outputs":[],"state":[]}]}`
	if string(d) != want {
		t.Errorf("description\n got %s\nwant %s", d, want)
	}
	if !json.Valid(d) {
		t.Errorf("description is not valid JSON")
	}
	if &describe()[0] != &d[0] {
		t.Errorf("description rebuilt")
	}
	mustPanic(t, "late registration", func() { Map("late", func(*Record, *Output) error { return nil }) })
}

func TestRegistrationEndsAtFirstCall(t *testing.T) {
	useTestRegistry(t)
	Map("a", func(*Record, *Output) error { return nil })
	call(t, callClose, 0, nil)
	mustPanic(t, "registration after a call", func() { Map("b", func(*Record, *Output) error { return nil }) })
}

func TestRegisterRejects(t *testing.T) {
	useTestRegistry(t)
	noop := func(*Record, *Output) error { return nil }
	Map("a", noop)
	long := make([]byte, 129)
	for i := range long {
		long[i] = 'x'
	}
	for name, f := range map[string]func(){
		"duplicate":    func() { Map("a", noop) },
		"empty name":   func() { Map("", noop) },
		"bad char":     func() { Map("a b", noop) },
		"too long":     func() { Map(string(long), noop) },
		"nil function": func() { Map("b", nil) },
		"empty side":   func() { FlatMap("c", func(*Record, *Collector) error { return nil }, SideOutputs("")) },
	} {
		mustPanic(t, name, f)
	}
	Map(string(long[:128]), noop) // 128 is fine
}

func mustPanic(t *testing.T, name string, f func()) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Errorf("%s: no panic", name)
		}
	}()
	f()
}

func TestReturnCodes(t *testing.T) {
	h := useTestRegistry(t)
	var opened []byte
	closed := 0
	Map("m", func(*Record, *Output) error { return nil },
		OnOpen(func(c []byte) error { opened = c; return nil }),
		OnClose(func() error { closed++; return nil }))
	Filter("f", func(*Record) (bool, error) { return true, nil },
		OnOpen(func([]byte) error { return errors.New("bad config: factor") }),
		OnClose(func() error { return errors.New("") }))

	cases := []struct {
		name     string
		kind, fn int32
		in       []byte
		want     int32
	}{
		{"open", callOpen, 0, []byte(` {"factor": 2} `), rcOK},
		{"process", callProcess, 0, payloads("x"), rcOK},
		{"close", callClose, 0, nil, rcOK},
		{"unknown fn", callProcess, 2, payloads("x"), rcUnknownFn},
		{"negative fn", callProcess, -1, payloads("x"), rcUnknownFn},
		{"unknown fn wins over bad kind", 9, 7, nil, rcUnknownFn},
		{"kind 0", 0, 0, nil, rcUnsupported},
		{"kind 7", 7, 0, nil, rcUnsupported},
		{"process2", callProcess2, 0, payloads("x"), rcUnsupported},
		{"timer", callTimer, 0, nil, rcUnsupported},
		{"window", callWindow, 0, nil, rcUnsupported},
		{"open with empty config", callOpen, 0, nil, rcMalformedInput},
		{"open with an array", callOpen, 0, []byte(`[]`), rcMalformedInput},
		{"open with bad JSON", callOpen, 0, []byte(`{"a":}`), rcMalformedInput},
		{"open with two values", callOpen, 0, []byte(`{} {}`), rcMalformedInput},
		{"close with input", callClose, 0, []byte{0}, rcMalformedInput},
		{"process truncated", callProcess, 0, payloads("x")[:6], rcMalformedInput},
		{"process empty input", callProcess, 0, nil, rcMalformedInput},
		{"open error", callOpen, 1, []byte(`{}`), rcError},
		{"close error without text", callClose, 1, nil, rcError},
	}
	for _, c := range cases {
		if got := call(t, c.kind, c.fn, c.in); got != c.want {
			t.Errorf("%s: got %d, want %d", c.name, got, c.want)
		}
	}
	if string(opened) != ` {"factor": 2} ` {
		t.Errorf("open saw %q", opened)
	}
	if &opened[0] == &input[0] {
		t.Errorf("open config aliases the input buffer")
	}
	if closed != 1 {
		t.Errorf("close ran %d times", closed)
	}
	if want := []string{"bad config: factor", "error without a message"}; !reflect.DeepEqual(h.errors, want) {
		t.Errorf("errors %q, want %q", h.errors, want)
	}
}

func TestMapFilterFlatMap(t *testing.T) {
	h := useTestRegistry(t)
	Map("upper", func(in *Record, out *Output) error {
		p := in.Payload()
		if string(p) == "same" {
			return nil // inherit everything
		}
		b := out.Buffer()
		for _, c := range p {
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			b = append(b, c)
		}
		out.SetPayload(b)
		if v, ok := in.Header("k"); ok {
			out.SetKey(v)
		}
		return nil
	})
	Filter("nonempty", func(in *Record) (bool, error) { return len(in.Payload()) > 0, nil })
	FlatMap("chars", func(in *Record, c *Collector) error {
		for i := range in.Payload() {
			if i%2 == 0 {
				c.EmitPayload(in.Payload()[i : i+1])
			} else {
				o := c.EmitTo(1)
				o.SetTimestamp(int64(i))
				o.AddHeader([]byte("i"), in.Payload()[i:i+1])
			}
		}
		return nil
	}, SideOutputs("odd"))
	MapBytes("suffix", func(in *Record) ([]byte, error) {
		if len(in.Payload()) == 0 {
			return nil, nil
		}
		return append([]byte(string(in.Payload())), '!'), nil
	})

	in := batchFrame(
		testRecord{Flags: flagPayload, Payload: "abc"},
		testRecord{Flags: flagPayload | flagHeaders, Payload: "same", Headers: [][2]string{{"k", "K"}}},
		testRecord{Flags: flagPayload | flagHeaders, Payload: "", Headers: [][2]string{{"k", "K"}}},
	)
	run := func(fn int32) []testOutput {
		t.Helper()
		h.reset()
		if rc := call(t, callProcess, fn, in); rc != rcOK {
			t.Fatalf("fn %d: rc %d", fn, rc)
		}
		if len(h.frames) > 1 {
			t.Fatalf("fn %d: %d emits for one batch", fn, len(h.frames))
		}
		if len(h.frames) == 0 {
			return nil
		}
		return decodeOutputFrame(t, h.frames[0])
	}
	check := func(name string, got, want []testOutput) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", name, got, want)
		}
	}
	check("map", run(0), []testOutput{
		{0, 0, testRecord{Flags: flagPayload, Payload: "ABC"}},
		{1, 0, testRecord{}},
		{2, 0, testRecord{Flags: flagPayload | flagKey, Key: "K", Payload: ""}},
	})
	check("filter", run(1), []testOutput{{Parent: 0}, {Parent: 1}})
	check("flat_map", run(2), []testOutput{
		{0, 0, testRecord{Flags: flagPayload, Payload: "a"}},
		{0, 1, testRecord{Flags: flagTimestamp | flagHeaders, Timestamp: 1, Headers: [][2]string{{"i", "b"}}}},
		{0, 0, testRecord{Flags: flagPayload, Payload: "c"}},
		{1, 0, testRecord{Flags: flagPayload, Payload: "s"}},
		{1, 1, testRecord{Flags: flagTimestamp | flagHeaders, Timestamp: 1, Headers: [][2]string{{"i", "a"}}}},
		{1, 0, testRecord{Flags: flagPayload, Payload: "m"}},
		{1, 1, testRecord{Flags: flagTimestamp | flagHeaders, Timestamp: 3, Headers: [][2]string{{"i", "e"}}}},
	})
	check("map bytes", run(3), []testOutput{
		{0, 0, testRecord{Flags: flagPayload, Payload: "abc!"}},
		{1, 0, testRecord{Flags: flagPayload, Payload: "same!"}},
		{2, 0, testRecord{}},
	})

	// No outputs, no emit.
	h.reset()
	if rc := call(t, callProcess, 1, payloads("", "")); rc != rcOK || len(h.frames) != 0 {
		t.Errorf("filter dropping all: rc %d, %d emits", rc, len(h.frames))
	}
	if rc := call(t, callProcess, 0, payloads()); rc != rcOK || len(h.frames) != 0 {
		t.Errorf("empty batch: rc %d, %d emits", rc, len(h.frames))
	}
}

func TestProcessError(t *testing.T) {
	h := useTestRegistry(t)
	Map("fail", func(in *Record, out *Output) error {
		Log(LevelWarn, "looking at "+string(in.Payload()))
		if string(in.Payload()) == "bad" {
			return errors.New("bad record")
		}
		out.SetPayload(in.Payload())
		return nil
	})
	if rc := call(t, callProcess, 0, payloads("ok", "bad", "ok")); rc != rcError {
		t.Fatalf("rc %d", rc)
	}
	if len(h.frames) != 0 {
		t.Errorf("a failed batch emitted %d frames", len(h.frames))
	}
	if want := []string{"bad record"}; !reflect.DeepEqual(h.errors, want) {
		t.Errorf("errors %q", h.errors)
	}
	if want := []string{"warn: looking at ok", "warn: looking at bad"}; !reflect.DeepEqual(h.logs, want) {
		t.Errorf("logs %q", h.logs)
	}
}

func TestAllocAndInputAt(t *testing.T) {
	saved := input
	t.Cleanup(func() { input = saved })
	if alloc(-1) != nil {
		t.Errorf("negative size allocated")
	}
	for _, n := range []int32{0, 1, 8, 9, 4096} {
		b := alloc(n)
		if len(b) != max(int(n), 1) || &b[0] != &input[0] {
			t.Errorf("alloc(%d): len %d", n, len(b))
		}
	}
	base := uintptr(unsafe.Pointer(&input[0]))
	size := int32(len(input))
	for _, c := range []struct {
		ptr  uintptr
		n    int32
		ok   bool
		name string
	}{
		{base, size, true, "whole buffer"},
		{base + 10, 20, true, "inside"},
		{base + uintptr(size), 0, true, "empty at end"},
		{0, 0, true, "empty anywhere"},
		{base - 1, 4, false, "before"},
		{base + 1, size, false, "past the end"},
		{base + uintptr(size) + 1, 1, false, "after"},
		{base, -1, false, "negative length"},
	} {
		b, ok := inputAt(c.ptr, c.n)
		if ok != c.ok || (ok && len(b) != int(c.n)) {
			t.Errorf("%s: ok=%v len=%d", c.name, ok, len(b))
		}
	}
}
