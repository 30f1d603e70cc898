package state

import (
	"testing"
)

func BenchmarkStateGet(b *testing.B) {
	be := openTest(b, testOptions(nil))
	s := register(b, be, "op", "v", Value, 0)
	key := []byte("key")
	must(b, be.Put(s, 5, key, nil, nil, []byte("value")))
	must(b, be.Commit())
	dst := make([]byte, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		dst, _, _ = be.Get(s, 5, key, nil, nil, dst)
	}
}
