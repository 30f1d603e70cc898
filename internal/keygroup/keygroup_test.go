package keygroup

import (
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
	"strings"
	"testing"
)

// refMurmur3 is MurmurHash3_x86_32 transcribed from Appleby's reference
// (SMHasher, MurmurHash3.cpp) as plainly as possible, to check the library
// against something written independently of it.
func refMurmur3(seed uint32, data []byte) uint32 {
	const c1, c2 = 0xcc9e2d51, 0x1b873593
	h := seed
	nblocks := len(data) / 4
	for i := 0; i < nblocks; i++ {
		k := binary.LittleEndian.Uint32(data[4*i:])
		k *= c1
		k = bits.RotateLeft32(k, 15)
		k *= c2
		h ^= k
		h = bits.RotateLeft32(h, 13)
		h = h*5 + 0xe6546b64
	}
	tail := data[4*nblocks:]
	var k uint32
	switch len(tail) {
	case 3:
		k ^= uint32(tail[2]) << 16
		fallthrough
	case 2:
		k ^= uint32(tail[1]) << 8
		fallthrough
	case 1:
		k ^= uint32(tail[0])
		k *= c1
		k = bits.RotateLeft32(k, 15)
		k *= c2
		h ^= k
	}
	h ^= uint32(len(data))
	h ^= h >> 16
	h *= 0x85ebca6b
	h ^= h >> 13
	h *= 0xc2b2ae35
	h ^= h >> 16
	return h
}

// Published MurmurHash3_x86_32 vectors with seed 0, the seed key groups use.
var seed0Vectors = []struct {
	in   string
	want uint32
}{
	{"", 0x00000000},
	{"\x00\x00\x00\x00", 0x2362f9de},
	{"hello", 0x248bfa47},
	{"foo", 0xf6a5c420},
	{"test", 0xba6bd213},
}

// Published vectors with other seeds: they exercise every tail length.
var seededVectors = []struct {
	seed uint32
	in   string
	want uint32
}{
	{1, "", 0x514e28b7},
	{0xffffffff, "", 0x81f16f39},
	{0x9747b28c, "aaaa", 0x5a97808a},
	{0x9747b28c, "aaa", 0x283e0130},
	{0x9747b28c, "aa", 0x5d211726},
	{0x9747b28c, "a", 0x7fa09ea6},
	{0x9747b28c, "abcd", 0xf0478627},
	{0x9747b28c, "abc", 0xc84a62dd},
	{0x9747b28c, "ab", 0x74875592},
	{0x9747b28c, "Hello, world!", 0x24884cba},
	{0x9747b28c, "The quick brown fox jumps over the lazy dog", 0x2fa826cd},
}

func TestHashVectors(t *testing.T) {
	for _, v := range seed0Vectors {
		if got := Hash([]byte(v.in)); got != v.want {
			t.Errorf("Hash(%q) = %#08x, want %#08x", v.in, got, v.want)
		}
		if got := refMurmur3(0, []byte(v.in)); got != v.want {
			t.Errorf("reference(%q) = %#08x, want %#08x", v.in, got, v.want)
		}
	}
	for _, v := range seededVectors {
		if got := refMurmur3(v.seed, []byte(v.in)); got != v.want {
			t.Errorf("reference(%#x, %q) = %#08x, want %#08x", v.seed, v.in, got, v.want)
		}
	}
}

func TestHashMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, 200)
	for n := 0; n <= len(buf); n++ {
		for range 20 {
			for i := range buf[:n] {
				buf[i] = byte(rng.Uint32())
			}
			if got, want := Hash(buf[:n]), refMurmur3(0, buf[:n]); got != want {
				t.Fatalf("Hash(%x) = %#08x, reference %#08x", buf[:n], got, want)
			}
		}
	}
}

// TestOfVectors fixes key groups of a few keys, derived by hand from the
// vectors above (maxP = 128 takes the low seven bits; the others are worked out
// in the comments).
func TestOfVectors(t *testing.T) {
	cases := []struct {
		key  string
		maxP int
		want int
	}{
		{"", 128, 0},
		{"hello", 128, 0x47},       // 0x248bfa47 & 0x7f
		{"foo", 128, 0x20},         // 0xf6a5c420 & 0x7f
		{"test", 128, 0x13},        // 0xba6bd213 & 0x7f
		{"hello", 32768, 0x7a47},   // 0x248bfa47 & 0x7fff
		{"hello", 1, 0},            // one key group
		{"hello", 10, 1},           // 613153351 = 61315335*10 + 1
		{"foo", 1000, 784},         // 4138058784 = 4138058*1000 + 784
		{"\x00\x00\x00\x00", 7, 5}, // 0x2362f9de = 593689054 = 84812722*7 + 0
	}
	// The last one as worked out: 84812722*7 = 593689054, remainder 0.
	cases[len(cases)-1].want = 0
	for _, c := range cases {
		if got := Of([]byte(c.key), c.maxP); got != c.want {
			t.Errorf("Of(%q, %d) = %d, want %d", c.key, c.maxP, got, c.want)
		}
	}
}

// TestAssignmentTables compares Subtask and Range with tables worked out by hand
// from the formulas of DESIGN §5.
func TestAssignmentTables(t *testing.T) {
	cases := []struct {
		maxP, p int
		ranges  [][2]int // per subtask
	}{
		{1, 1, [][2]int{{0, 0}}},
		{4, 3, [][2]int{{0, 1}, {2, 2}, {3, 3}}},
		{10, 3, [][2]int{{0, 3}, {4, 6}, {7, 9}}},
		{10, 4, [][2]int{{0, 2}, {3, 4}, {5, 7}, {8, 9}}},
		{128, 3, [][2]int{{0, 42}, {43, 85}, {86, 127}}},
		{128, 5, [][2]int{{0, 25}, {26, 51}, {52, 76}, {77, 102}, {103, 127}}},
		{7, 7, [][2]int{{0, 0}, {1, 1}, {2, 2}, {3, 3}, {4, 4}, {5, 5}, {6, 6}}},
		{32768, 1, [][2]int{{0, 32767}}},
		{32768, 3, [][2]int{{0, 10922}, {10923, 21845}, {21846, 32767}}},
	}
	for _, c := range cases {
		for i, r := range c.ranges {
			first, last := Range(i, c.maxP, c.p)
			if first != r[0] || last != r[1] {
				t.Errorf("Range(%d, %d, %d) = [%d, %d], want %v", i, c.maxP, c.p, first, last, r)
			}
			for kg := r[0]; kg <= r[1]; kg++ {
				if got := Subtask(kg, c.maxP, c.p); got != i {
					t.Errorf("Subtask(%d, %d, %d) = %d, want %d", kg, c.maxP, c.p, got, i)
				}
			}
		}
	}
}

// TestRangesPartitionKeyGroups checks, for every parallelism of several max
// parallelisms, that the ranges are non-empty, contiguous, disjoint and cover
// every key group, and that Range and Subtask agree.
func TestRangesPartitionKeyGroups(t *testing.T) {
	maxPs := []int{1, 2, 3, 7, 10, 64, 100, 128, 1000, 4096}
	if !testing.Short() {
		maxPs = append(maxPs, 32768)
	}
	for _, maxP := range maxPs {
		owner := make([]int, maxP)
		ps := make([]int, 0, maxP)
		for p := 1; p <= maxP; p++ {
			ps = append(ps, p)
		}
		if maxP == 32768 {
			ps = []int{1, 2, 3, 5, 127, 128, 129, 1000, 16383, 16384, 16385, 32767, 32768}
		}
		for _, p := range ps {
			next := 0
			for i := 0; i < p; i++ {
				first, last := Range(i, maxP, p)
				if first != next || last < first {
					t.Fatalf("maxP %d p %d: subtask %d owns [%d, %d], want a non-empty range from %d", maxP, p, i, first, last, next)
				}
				for kg := first; kg <= last; kg++ {
					owner[kg] = i
				}
				next = last + 1
			}
			if next != maxP {
				t.Fatalf("maxP %d p %d: ranges end at %d, want %d", maxP, p, next-1, maxP-1)
			}
			for kg := 0; kg < maxP; kg++ {
				if got := Subtask(kg, maxP, p); got != owner[kg] {
					t.Fatalf("maxP %d p %d: Subtask(%d) = %d, but Range gives it to %d", maxP, p, kg, got, owner[kg])
				}
			}
		}
	}
}

// TestSameKeySameSubtask: a key's subtask depends on nothing but the key, maxP
// and p, and lies in the range of that subtask.
func TestSameKeySameSubtask(t *testing.T) {
	keys := []string{"", `"alice"`, `"bob"`, "1", "null", "true", strings.Repeat("x", 1000), "\xff\x00"}
	for _, maxP := range []int{1, 3, 128, 32768} {
		for p := 1; p <= min(maxP, 200); p++ {
			for _, k := range keys {
				kg := Of([]byte(k), maxP)
				if kg < 0 || kg >= maxP {
					t.Fatalf("Of(%q, %d) = %d", k, maxP, kg)
				}
				s := SubtaskOf([]byte(k), maxP, p)
				if s2 := SubtaskOf([]byte(strings.Clone(k)), maxP, p); s != s2 {
					t.Fatalf("key %q: subtask %d then %d", k, s, s2)
				}
				if first, last := Range(s, maxP, p); kg < first || kg > last {
					t.Fatalf("key %q (group %d) goes to subtask %d, which owns [%d, %d]", k, kg, s, first, last)
				}
			}
		}
	}
}

func TestCheck(t *testing.T) {
	for _, c := range []struct {
		maxP, p int
		ok      bool
	}{
		{1, 1, true}, {128, 1, true}, {128, 128, true}, {32768, 32768, true},
		{0, 1, false}, {-1, 1, false}, {32769, 1, false}, {128, 0, false}, {128, 129, false}, {4, -1, false},
	} {
		if err := Check(c.maxP, c.p); (err == nil) != c.ok {
			t.Errorf("Check(%d, %d) = %v", c.maxP, c.p, err)
		}
	}
}

func BenchmarkSubtaskOf(b *testing.B) {
	key := []byte(`"customer-000042"`)
	b.ReportAllocs()
	s := 0
	for b.Loop() {
		s += SubtaskOf(key, 128, 7)
	}
	_ = s
}

func TestZeroAllocs(t *testing.T) {
	key := []byte(`"customer-000042"`)
	if n := testing.AllocsPerRun(100, func() { _, _ = Range(SubtaskOf(key, 128, 7), 128, 7) }); n != 0 {
		t.Fatalf("%v allocations per key", n)
	}
}
