package worker

import (
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/weir-streams/weir/wasmhost"
	"github.com/weir-streams/weir/worker/internal/state"
)

// TestBroadcastStateIgnoresKeys: a co_process function's broadcast state is
// one map for the subtask, whatever key the record named has, next to its
// keyed state; iteration sees it in sub-key order.
func TestBroadcastStateIgnoresKeys(t *testing.T) {
	b, err := state.Open(state.Options{Dir: "/state", FS: vfs.NewMem(), MaxParallelism: 128, KeyGroups: state.Range{First: 0, Last: 63}})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	fn := &wasmhost.Function{Name: "fraud", Kind: wasmhost.KindCoProcess, State: []wasmhost.StateDescriptor{
		{Name: "rules", Kind: wasmhost.StateBroadcast}, {Name: "seen", Kind: wasmhost.StateValue},
	}}
	ks, err := newKeyedState(b, "fraud", fn, 128)
	if err != nil {
		t.Fatal(err)
	}
	// Written for one record (a broadcast record has no key), read for keys of
	// every key group, those outside the subtask's range included.
	if err := ks.Put(0, nil, []byte("r2"), []byte("300")); err != nil {
		t.Fatal(err)
	}
	if err := ks.Put(0, []byte(`"x"`), []byte("r1"), []byte("100")); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"a1"`, `"zz"`, `7`, ``} {
		v, ok, err := ks.Get(0, []byte(key), []byte("r1"), nil)
		if err != nil || !ok || string(v) != "100" {
			t.Fatalf("rule r1 for key %s: %q %v %v", key, v, ok, err)
		}
		var subs []string
		for c := 0; ; c++ {
			sub, _, ok, err := ks.Iter(0, []byte(key), c)
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				break
			}
			subs = append(subs, string(sub))
		}
		if len(subs) != 2 || subs[0] != "r1" || subs[1] != "r2" {
			t.Fatalf("rules for key %s: %v", key, subs)
		}
	}
	// Keyed state stays the key's.
	if err := ks.Put(1, []byte(`"a1"`), nil, []byte("1")); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := ks.Get(1, []byte(`"a2"`), nil, nil); ok {
		t.Fatal("value state of one key seen by another")
	}
	if err := ks.Delete(0, []byte(`"q"`), []byte("r1")); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := ks.Get(0, nil, []byte("r1"), nil); ok {
		t.Fatal("a deleted rule is still there")
	}
}
