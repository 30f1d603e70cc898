package state

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestValueStateReadsItsWrites(t *testing.T) {
	b := openTest(t, testOptions(nil))
	s := register(t, b, "op1", "count", Value, 0)
	key, ns := []byte("k"), []byte("w1")

	if _, ok, err := b.Get(s, 3, key, ns, nil, nil); err != nil || ok {
		t.Fatalf("Get on empty state = %v, %v", ok, err)
	}
	must(t, b.Put(s, 3, key, ns, nil, []byte("v1")))
	// Not committed yet: the open batch answers.
	got, ok, err := b.Get(s, 3, key, ns, nil, nil)
	if err != nil || !ok || string(got) != "v1" {
		t.Fatalf("Get before Commit = %q, %v, %v", got, ok, err)
	}
	must(t, b.Commit())
	must(t, b.Put(s, 3, key, ns, nil, []byte("v2")))
	if got, _, _ := b.Get(s, 3, key, ns, nil, nil); string(got) != "v2" {
		t.Fatalf("Get after overwrite = %q", got)
	}
	// Same key, other namespace, key group or state: separate entries.
	s2 := register(t, b, "op1", "other", Value, 0)
	for _, c := range []struct {
		s  State
		kg int
		ns string
	}{{s, 3, "w2"}, {s, 4, "w1"}, {s2, 3, "w1"}} {
		if _, ok, _ := b.Get(c.s, c.kg, key, []byte(c.ns), nil, nil); ok {
			t.Fatalf("entry leaked to %+v", c)
		}
	}
	must(t, b.Delete(s, 3, key, ns, nil))
	if _, ok, _ := b.Get(s, 3, key, ns, nil, nil); ok {
		t.Fatal("Get after Delete found the value")
	}
	must(t, b.Commit())
	if _, ok, _ := b.Get(s, 3, key, ns, nil, nil); ok {
		t.Fatal("Get after committed Delete found the value")
	}
}

func TestReducingAndAggregatingAreStoredLikeValue(t *testing.T) {
	b := openTest(t, testOptions(nil))
	for _, kind := range []Kind{Reducing, Aggregating} {
		s := register(t, b, "op", kind.String(), kind, 0)
		must(t, b.Put(s, 1, []byte("k"), nil, nil, []byte("acc")))
		if got, ok, err := b.Get(s, 1, []byte("k"), nil, nil, nil); err != nil || !ok || string(got) != "acc" {
			t.Fatalf("%s: Get = %q, %v, %v", kind, got, ok, err)
		}
		if err := b.Put(s, 1, []byte("k"), nil, []byte("sub"), []byte("x")); !errors.Is(err, errSubKey) {
			t.Fatalf("%s: Put with a sub-key = %v, want errSubKey", kind, err)
		}
	}
}

func collect(t *testing.T, b *Backend, s State, kg int, key, ns []byte) (subs, vals []string) {
	t.Helper()
	it := b.Iterator(s, kg, key, ns)
	for sub, val, ok := it.Next(); ok; sub, val, ok = it.Next() {
		subs = append(subs, string(sub))
		vals = append(vals, string(val))
	}
	must(t, it.Close())
	return subs, vals
}

func TestMapStateIteratesInKeyOrder(t *testing.T) {
	b := openTest(t, testOptions(nil))
	m := register(t, b, "op", "m", Map, 0)
	key := []byte("user")
	for _, k := range []string{"b", "a", "c", "aa"} {
		must(t, b.Put(m, 7, key, nil, []byte(k), []byte("v"+k)))
	}
	must(t, b.Commit())
	// A neighbour with a key that extends ours must not show up.
	must(t, b.Put(m, 7, []byte("user2"), nil, []byte("z"), []byte("x")))
	subs, vals := collect(t, b, m, 7, key, nil)
	if fmt.Sprint(subs) != "[a aa b c]" || fmt.Sprint(vals) != "[va vaa vb vc]" {
		t.Fatalf("iteration = %v %v", subs, vals)
	}
	if got, ok, _ := b.Get(m, 7, key, nil, []byte("aa"), nil); !ok || string(got) != "vaa" {
		t.Fatalf("Get(aa) = %q, %v", got, ok)
	}
	must(t, b.Delete(m, 7, key, nil, []byte("aa")))
	if subs, _ := collect(t, b, m, 7, key, nil); fmt.Sprint(subs) != "[a b c]" {
		t.Fatalf("after deleting aa: %v", subs)
	}
	must(t, b.Delete(m, 7, key, nil, nil))
	if subs, _ := collect(t, b, m, 7, key, nil); len(subs) != 0 {
		t.Fatalf("after deleting the map: %v", subs)
	}
	if subs, _ := collect(t, b, m, 7, []byte("user2"), nil); fmt.Sprint(subs) != "[z]" {
		t.Fatalf("deleting a map touched its neighbour: %v", subs)
	}
	if err := b.Put(m, 7, key, nil, nil, []byte("v")); !errors.Is(err, errSubKey) {
		t.Fatalf("Put of an empty map key = %v, want errSubKey", err)
	}
}

func TestListStateKeepsInsertionOrder(t *testing.T) {
	b := openTest(t, testOptions(nil))
	l := register(t, b, "op", "l", List, 0)
	key, ns := []byte("k"), []byte("window")
	for i := range 5 {
		must(t, b.Append(l, 2, key, ns, []byte{byte('a' + i)}))
		if i == 2 {
			must(t, b.Commit())
		}
	}
	other := []byte("k2")
	must(t, b.Append(l, 2, other, ns, []byte("x")))
	_, vals := collect(t, b, l, 2, key, ns)
	if fmt.Sprint(vals) != "[a b c d e]" {
		t.Fatalf("list = %v", vals)
	}
	// Element ids from the iterator address single elements.
	it := b.Iterator(l, 2, key, ns)
	var ids [][]byte
	for sub, _, ok := it.Next(); ok; sub, _, ok = it.Next() {
		ids = append(ids, bytes.Clone(sub))
	}
	must(t, it.Close())
	must(t, b.Put(l, 2, key, ns, ids[1], []byte("B")))
	must(t, b.Delete(l, 2, key, ns, ids[3]))
	must(t, b.Commit())
	if _, vals := collect(t, b, l, 2, key, ns); fmt.Sprint(vals) != "[a B c e]" {
		t.Fatalf("list after Put and Delete of elements = %v", vals)
	}
	must(t, b.Delete(l, 2, key, ns, nil))
	if _, vals := collect(t, b, l, 2, key, ns); len(vals) != 0 {
		t.Fatalf("list after Delete = %v", vals)
	}
	if _, vals := collect(t, b, l, 2, other, ns); fmt.Sprint(vals) != "[x]" {
		t.Fatalf("other list = %v", vals)
	}
	v := register(t, b, "op", "v", Value, 0)
	if err := b.Append(v, 2, key, ns, []byte("x")); !errors.Is(err, errKindMismatch) {
		t.Fatalf("Append to a value state = %v", err)
	}
}

func TestOperatorState(t *testing.T) {
	b := openTest(t, testOptions(nil))
	l := register(t, b, "src", "offsets", List, 0)
	must(t, b.Append(l, OperatorKeyGroup, nil, nil, []byte("p0:10")))
	must(t, b.Append(l, OperatorKeyGroup, nil, nil, []byte("p1:20")))
	must(t, b.Commit())
	if _, vals := collect(t, b, l, OperatorKeyGroup, nil, nil); fmt.Sprint(vals) != "[p0:10 p1:20]" {
		t.Fatalf("operator list = %v", vals)
	}
}

func TestHotPathRejectsBadArguments(t *testing.T) {
	opts := testOptions(nil)
	opts.KeyGroups = Range{10, 20}
	b := openTest(t, opts)
	s := register(t, b, "op", "v", Value, 0)
	if err := b.Put(s, 9, []byte("k"), nil, nil, nil); !errors.Is(err, errKeyGroup) {
		t.Errorf("Put outside the key groups = %v", err)
	}
	if err := b.Put(State{}, 10, []byte("k"), nil, nil, nil); !errors.Is(err, errNotRegistered) {
		t.Errorf("Put to the zero State = %v", err)
	}
	if _, err := b.Register("op", "v", Map, 0); err == nil {
		t.Error("re-registering with another kind succeeded")
	}
	if _, err := b.Register("", "v", Map, 0); err == nil {
		t.Error("registering an empty operator id succeeded")
	}
	it := b.Iterator(s, 10, []byte("k"), nil)
	if err := b.Commit(); !errors.Is(err, errOpenIterators) {
		t.Errorf("Commit with an open iterator = %v", err)
	}
	must(t, it.Close())
	must(t, b.Close())
	if err := b.Put(s, 10, []byte("k"), nil, nil, nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Put after Close = %v", err)
	}
}

func TestTTLExpiresLazily(t *testing.T) {
	clk := newClock()
	opts := testOptions(nil)
	opts.Now = clk.Now
	b := openTest(t, opts)
	v := register(t, b, "op", "v", Value, time.Minute)
	m := register(t, b, "op", "m", Map, time.Minute)
	l := register(t, b, "op", "l", List, time.Minute)
	key := []byte("k")

	must(t, b.Put(v, 1, key, nil, nil, []byte("old")))
	must(t, b.Put(m, 1, key, nil, []byte("a"), []byte("1")))
	must(t, b.Append(l, 1, key, nil, []byte("x")))
	must(t, b.Commit())
	clk.Advance(40 * time.Second)
	// Writes refresh the time (Flink: update on create and write); reads do not.
	must(t, b.Put(m, 1, key, nil, []byte("b"), []byte("2")))
	must(t, b.Append(l, 1, key, nil, []byte("y")))
	if _, ok, _ := b.Get(v, 1, key, nil, nil, nil); !ok {
		t.Fatal("value expired early")
	}
	must(t, b.Commit())
	clk.Advance(20 * time.Second) // the first writes are exactly a minute old
	if _, ok, _ := b.Get(v, 1, key, nil, nil, nil); ok {
		t.Fatal("expired value returned")
	}
	if subs, _ := collect(t, b, m, 1, key, nil); fmt.Sprint(subs) != "[b]" {
		t.Fatalf("map with an expired entry = %v", subs)
	}
	if _, vals := collect(t, b, l, 1, key, nil); fmt.Sprint(vals) != "[y]" {
		t.Fatalf("list with an expired element = %v", vals)
	}
	if got := b.Stats().ExpiredDeleted; got != 3 {
		t.Fatalf("ExpiredDeleted = %d, want 3", got)
	}
	must(t, b.Commit())
	// The reads deleted them: with the TTL switched off they stay gone.
	v0 := register(t, b, "op", "v", Value, 0)
	if _, ok, _ := b.Get(v0, 1, key, nil, nil, nil); ok {
		t.Fatal("expired value not deleted on read")
	}
}

func TestCleanupExpiredScansFromACursor(t *testing.T) {
	clk := newClock()
	opts := testOptions(nil)
	opts.Now = clk.Now
	b := openTest(t, opts)
	short := register(t, b, "op", "short", Value, time.Second)
	long := register(t, b, "op", "long", Value, time.Hour)
	forever := register(t, b, "op", "forever", Value, 0)
	const n = 500
	for i := range n {
		key := fmt.Appendf(nil, "k%d", i)
		kg := i % 128
		must(t, b.Put(short, kg, key, nil, nil, []byte("s")))
		must(t, b.Put(long, kg, key, nil, nil, []byte("l")))
		must(t, b.Put(forever, kg, key, nil, nil, []byte("f")))
	}
	must(t, b.Commit())
	clk.Advance(time.Minute)

	total := 0
	for range 100 {
		scanned, err := b.CleanupExpired(64)
		must(t, err)
		if scanned > 64 {
			t.Fatalf("scanned %d entries on a budget of 64", scanned)
		}
		must(t, b.Commit())
		total += scanned
		if total >= 3*n+10 {
			break
		}
	}
	if got := b.Stats().ExpiredDeleted; got != n {
		t.Fatalf("ExpiredDeleted = %d, want %d", got, n)
	}
	got := dump(t, b)
	if len(got) != 2*n {
		t.Fatalf("%d entries left, want %d", len(got), 2*n)
	}
	for k := range got {
		if bytes.Contains([]byte(k), []byte("/short/")) {
			t.Fatalf("expired entry %s survived", k)
		}
	}
}

func TestGetDoesNotAllocate(t *testing.T) {
	b := openTest(t, testOptions(nil))
	s := register(t, b, "op", "v", Value, time.Hour)
	key := []byte("key")
	must(t, b.Put(s, 5, key, nil, nil, []byte("value")))
	must(t, b.Commit())
	dst := make([]byte, 0, 64)
	allocs := testing.AllocsPerRun(1000, func() {
		var ok bool
		var err error
		dst, ok, err = b.Get(s, 5, key, nil, nil, dst)
		if !ok || err != nil {
			t.Fatal("Get failed")
		}
	})
	if allocs != 0 {
		t.Fatalf("Get allocates %.1f times per call", allocs)
	}
}

func TestRegisterKeepsRestoredHandles(t *testing.T) {
	store := NewMemStore()
	b := openTest(t, testOptions(nil))
	a := register(t, b, "op1", "a", Value, 0)
	c := register(t, b, "op2", "c", Map, 0)
	must(t, b.Put(a, 1, []byte("k"), nil, nil, []byte("va")))
	must(t, b.Put(c, 1, []byte("k"), nil, []byte("s"), []byte("vc")))
	h := checkpoint(t, b, store, 1, UploadOptions{Prefix: "job/"})
	must(t, b.Close())

	r := restoreTest(t, testOptions(nil), store, []Handle{h}, nil)
	// Another order, and a new state: the old ones keep their handles.
	d := register(t, r, "op3", "d", List, 0)
	c2 := register(t, r, "op2", "c", Map, 0)
	a2 := register(t, r, "op1", "a", Value, 0)
	if a2 != a || c2 != c {
		t.Fatalf("handles changed on restore: %+v %+v, want %+v %+v", a2, c2, a, c)
	}
	if d.op == a.op || d.op == c.op {
		t.Fatalf("new operator got a used handle: %+v", d)
	}
	if got, ok, _ := r.Get(a2, 1, []byte("k"), nil, nil, nil); !ok || string(got) != "va" {
		t.Fatalf("restored value = %q, %v", got, ok)
	}
	if len(h.Registry) != 2 {
		t.Fatalf("handle registry = %+v", h.Registry)
	}
}
