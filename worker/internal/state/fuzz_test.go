package state

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// Keys come back from snapshots on restore: decoding must never panic, and
// what it accepts must encode back to the same bytes.
func FuzzDecodeKey(f *testing.F) {
	f.Add(appendKey(nil, 5, 1, 2, []byte("key"), []byte("ns"), []byte("sub")))
	f.Add(appendKey(nil, OperatorKeyGroup, 1, 1, nil, nil, nil))
	f.Add([]byte{0, 1, 0, 1, 0, 1, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, k []byte) {
		d, ok := decodeKey(k)
		if !ok {
			return
		}
		if again := appendKey(nil, d.kg, d.op, d.st, d.key, d.ns, d.sub); !bytes.Equal(again, k) {
			t.Fatalf("decode(%x) re-encodes as %x", k, again)
		}
	})
}

func FuzzDecodeValue(f *testing.F) {
	s := State{op: 1, st: 1, kind: Value, ttl: time.Minute}
	f.Add(encodeValue(nil, s, []byte("v"), 1))
	f.Add(encodeValue(nil, State{op: 1, st: 1, kind: Value}, []byte("v"), 1))
	f.Add([]byte{7})
	f.Fuzz(func(t *testing.T, v []byte) {
		payload, _, ok := decodeValue(s, v, 0)
		if ok && len(payload) > len(v) {
			t.Fatalf("payload longer than the value")
		}
	})
}

// Handles come from the control plane's store.
func FuzzHandleValidate(f *testing.F) {
	good, _ := json.Marshal(Handle{Format: handleFormat, MaxParallelism: 128, KeyGroups: Range{0, 127},
		Files: []FileRef{{Name: "000004.sst", Object: "o", Size: 1, SHA256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}}})
	f.Add(good)
	f.Add([]byte(`{"format":1,"files":[{"name":"../x"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var h Handle
		if json.Unmarshal(data, &h) != nil {
			return
		}
		if h.validate(128) == nil {
			for _, file := range h.Files {
				if !validFileName(file.Name) {
					t.Fatalf("accepted file name %q", file.Name)
				}
			}
		}
	})
}
