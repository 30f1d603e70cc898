//go:build !wasip1

package weir

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestKeySelector(t *testing.T) {
	h := useTestRegistry(t)
	KeySelector("user", func(in *Record, key []byte) ([]byte, error) {
		raw, _, ok := JSONGet(in.Payload(), "user")
		if !ok {
			return append(key, "null"...), nil
		}
		if string(raw) == `"bad"` {
			return nil, errors.New("bad user")
		}
		return append(key, raw...), nil
	})
	KeySelector("alias", func(in *Record, _ []byte) ([]byte, error) {
		return in.Payload()[:1], nil // a view of the input is fine: the SDK copies it
	})
	longKey := strings.Repeat("k", 1000)
	KeySelector("long", func(in *Record, key []byte) ([]byte, error) {
		return append(key, longKey...), nil
	})
	if d := string(describe()); !strings.Contains(d, `{"name":"user","kind":"key_selector","index":0,"side_outputs":[],"state":[]}`) {
		t.Errorf("description %s", d)
	}

	in := batchFrame(
		testRecord{Flags: flagPayload, Payload: `{"user":"alice"}`},
		testRecord{Flags: flagPayload | flagKey | flagTimestamp, Key: "old", Timestamp: 7, Payload: `{"id":1}`},
		testRecord{Flags: flagPayload, Payload: `{"user":12}`},
	)
	h.reset()
	if rc := call(t, callProcess, 0, in); rc != rcOK || len(h.frames) != 1 {
		t.Fatalf("rc %d, %d emits", rc, len(h.frames))
	}
	want := []testOutput{
		{0, 0, testRecord{Flags: flagKey, Key: `"alice"`}},
		{1, 0, testRecord{Flags: flagKey, Key: "null"}},
		{2, 0, testRecord{Flags: flagKey, Key: "12"}},
	}
	if got := decodeOutputFrame(t, h.frames[0]); !reflect.DeepEqual(got, want) {
		t.Errorf("\n got %+v\nwant %+v", got, want)
	}

	h.reset()
	if rc := call(t, callProcess, 1, payloads("xy", "z")); rc != rcOK {
		t.Fatalf("alias: rc %d", rc)
	}
	want = []testOutput{{0, 0, testRecord{Flags: flagKey, Key: "x"}}, {1, 0, testRecord{Flags: flagKey, Key: "z"}}}
	if got := decodeOutputFrame(t, h.frames[0]); !reflect.DeepEqual(got, want) {
		t.Errorf("alias:\n got %+v\nwant %+v", got, want)
	}
	// The record after an aliasing key still reads its own input.
	h.reset()
	if rc := call(t, callProcess, 0, in); rc != rcOK || decodeOutputFrame(t, h.frames[0])[0].Key != `"alice"` {
		t.Fatalf("after alias: rc %d", rc)
	}

	// The key buffer grows once, then keys of that size cost nothing.
	long := payloads("a", "b", "c")
	call(t, callProcess, 2, long)
	testEmit = func([]byte) {} // the capturing host allocates; this one does not
	if n := testing.AllocsPerRun(20, func() { call(t, callProcess, 2, long) }); n != 0 {
		t.Errorf("%v allocations per batch", n)
	}
	testEmit = func(f []byte) { h.frames = append(h.frames, append([]byte(nil), f...)) }

	h.reset()
	if rc := call(t, callProcess, 0, payloads(`{"user":"bad"}`)); rc != rcError || len(h.frames) != 0 || h.errors[0] != "bad user" {
		t.Errorf("error: rc %d, %d emits, errors %q", rc, len(h.frames), h.errors)
	}
	useTestRegistry(t)
	mustPanic(t, "side outputs", func() {
		KeySelector("ks2", func(*Record, []byte) ([]byte, error) { return nil, nil }, SideOutputs("x"))
	})
}
