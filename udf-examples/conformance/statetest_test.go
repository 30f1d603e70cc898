package conformance_test

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/weir-streams/weir/wasmhost"
)

// The keyed-state API of the SDKs whose own tests cannot reach a host's state
// (C, AssemblyScript), through Weir's host with a MemoryState: a module per SDK
// with the same two functions, probe and concat. (The Go and Rust SDKs test the
// same ground natively over fakes of the host.)
//
// probe (process; state 0 value "v", 1 list "l", 2 map "m"; side output
// "subkeys") takes a command as its payload and emits one main output:
//
//	fill      appends "one", 200 x, "" to l; puts m b=2, a=200 x, c=3, ""=empty;
//	          puts 1000 b in v; emits "ok"
//	read      "l<len>" for each element of l, "<sub>=<len>" for each entry of m
//	          (emitting the sub-key to "subkeys" and iterating l, stopping at
//	          its first element, inside the map's iteration), then "v=<len>" (-1
//	          if absent), ",c:<m[c]>", ",zz:-" when m has no zz; joined by ","
//	delete    deletes m[b], emits the sub-keys of m joined by ","
//	clear     clears l, m and v, emits "l<elements>,m<entries>,v-" (v+ if v is
//	          still there)
//	delempty  deletes the empty sub-key of m: the SDK refuses, the call fails
//	listget   reads l as a value: the host says INVALID, the call fails
//
// concat (reduce): the running value, ",", the payload.
var stateTestModules = []struct{ name, file string }{
	{"c", "testdata/statetest_c.wasm"},
	{"as", "testdata/statetest_as.wasm"},
}

func TestSDKKeyedState(t *testing.T) {
	keyed := func(key string, payloads ...string) []rec {
		var rs []rec
		for _, p := range payloads {
			rs = append(rs, rec{HasKey: true, Key: key, Payload: p})
		}
		return rs
	}
	payloadsOf := func(rs []rec) []string {
		var p []string
		for _, r := range rs {
			p = append(p, r.Payload)
		}
		return p
	}
	for _, m := range stateTestModules {
		t.Run(m.name, func(t *testing.T) {
			var st wasmhost.MemoryState
			inst := openKeyed(t, m.name, m.file, "probe", &st)
			in := append(keyed("k", "fill", "read", "delete"), keyed("other", "read")...)
			in = append(in, keyed("k", "clear")...)
			want := []string{"ok", "l3,l200,l0,=5,a=200,b=1,c=1,v=1000,c:3,zz:-", ",a,c", "v=-1,c:,zz:-", "l0,m0,v-"}
			if got := payloadsOf(process(t, m.name, inst, in)); !reflect.DeepEqual(got, want) {
				t.Errorf("\n got %q\nwant %q", got, want)
			}
			for cmd, msg := range map[string]string{
				"delempty": `weir: deleting from state "m": an empty sub-key cannot be deleted on its own`,
				"listget":  `weir: reading state "l": the host refused the call as invalid (INVALID)`,
			} {
				_, err := inst.Process(context.Background(), batchOf(keyed("k", cmd)))
				var ce *wasmhost.CallError
				if !errors.As(err, &ce) || ce.Kind != wasmhost.FailureError || len(ce.Message) < len(msg) || ce.Message[:len(msg)] != msg {
					t.Errorf("%s: got %v, want a CallError starting %q", cmd, err, msg)
				}
			}

			inst = openKeyed(t, m.name, m.file, "concat", &st)
			got := payloadsOf(process(t, m.name, inst, append(keyed("a", "1", "2"), keyed("b", "x", "")...)))
			if want := []string{"1", "1,2", "x", "x,"}; !reflect.DeepEqual(got, want) {
				t.Errorf("concat: got %q, want %q", got, want)
			}
			got = payloadsOf(process(t, m.name, inst, keyed("a", "3")))
			if want := []string{"1,2,3"}; !reflect.DeepEqual(got, want) {
				t.Errorf("concat, second batch: got %q, want %q", got, want)
			}
		})
	}
}
