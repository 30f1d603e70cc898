package wasmhost

import (
	"testing"

	"github.com/weir-streams/weir/internal/record"
)

func TestParentCursor(t *testing.T) {
	var b record.Batch
	b.Reset()
	for _, p := range []string{"a", "b", "c", "d"} {
		v := record.View{Flags: record.FlagPayload, Payload: []byte(p)}
		b.Append(&v)
	}
	var c parentCursor
	c.reset(&b)
	for _, tc := range []struct {
		idx  uint32
		want string
	}{{0, "a"}, {0, "a"}, {2, "c"}, {3, "d"}, {1, "b"}, {3, "d"}, {0, "a"}} {
		v, err := c.get(tc.idx)
		if err != nil || string(v.Payload) != tc.want {
			t.Fatalf("get(%d) = %q, %v; want %q", tc.idx, v.Payload, err, tc.want)
		}
	}
	if _, err := c.get(4); err == nil {
		t.Fatal("an index past the batch must be an error")
	}
	c.reset(&b)
	if v, _ := c.get(1); string(v.Payload) != "b" {
		t.Fatal("reset must start over")
	}
}
