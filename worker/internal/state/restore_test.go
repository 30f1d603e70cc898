package state

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/weir-streams/weir/internal/keygroup"
)

const rescaleMaxP = 128

// keyedData writes n keys, each to the key group keygroup.Of gives it, into the
// backends that own them (one per subtask of len(bs)), plus one operator-state
// element per subtask. It returns what each key's value is.
func keyedData(t *testing.T, bs []*Backend, n int) map[string]string {
	t.Helper()
	want := make(map[string]string)
	for i, b := range bs {
		o := register(t, b, "src", "offsets", List, 0)
		must(t, b.Append(o, OperatorKeyGroup, nil, nil, fmt.Appendf(nil, "subtask-%d", i)))
		// The same broadcast state on every subtask.
		r := register(t, b, "rules", "rules", Map, 0)
		for k := range 3 {
			must(t, b.Put(r, BroadcastKeyGroup, nil, nil, fmt.Appendf(nil, "rule-%d", k), fmt.Appendf(nil, "max-%d", k)))
		}
		// Registered in another order in each backend, so the handles differ
		// and the restore must remap them.
		if i%2 == 0 {
			register(t, b, "op", "v", Value, 0)
			register(t, b, "op", "m", Map, 0)
		} else {
			register(t, b, "op", "m", Map, 0)
			register(t, b, "op", "v", Value, 0)
		}
	}
	for i := range n {
		key := fmt.Appendf(nil, `"user-%d"`, i)
		kg := keygroup.Of(key, rescaleMaxP)
		b := bs[keygroup.Subtask(kg, rescaleMaxP, len(bs))]
		v := register(t, b, "op", "v", Value, 0)
		m := register(t, b, "op", "m", Map, 0)
		val := fmt.Sprintf("value-%d", i)
		must(t, b.Put(v, kg, key, nil, nil, []byte(val)))
		must(t, b.Put(m, kg, key, []byte("ns"), []byte("x"), []byte(val)))
		want[string(key)] = val
	}
	for _, b := range bs {
		must(t, b.Commit())
	}
	return want
}

func subtaskOptions(i, p int) Options {
	first, last := keygroup.Range(i, rescaleMaxP, p)
	opts := testOptions(nil)
	opts.MaxParallelism = rescaleMaxP
	opts.KeyGroups = Range{first, last}
	return opts
}

func rescale(t *testing.T, from, to, n int) {
	store := NewMemStore()
	var srcs []*Backend
	for i := range from {
		srcs = append(srcs, openTest(t, subtaskOptions(i, from)))
	}
	want := keyedData(t, srcs, n)
	var handles []Handle
	for i, b := range srcs {
		handles = append(handles, checkpoint(t, b, store, 7, UploadOptions{Prefix: fmt.Sprintf("job/%d/", i)}))
	}

	seen := make(map[string]int)
	var operator []string
	for i := range to {
		opts := subtaskOptions(i, to)
		// Each new subtask is given the handles whose ranges overlap its own,
		// and takes the operator state of the first old subtask if it is the
		// first new one.
		var hs []Handle
		var idx []int
		for j, h := range handles {
			if h.KeyGroups.First <= opts.KeyGroups.Last && opts.KeyGroups.First <= h.KeyGroups.Last {
				hs = append(hs, h)
				idx = append(idx, j)
			}
		}
		r := restoreTest(t, opts, store, hs, func(k int) bool { return i == 0 && idx[k] == 0 })
		v := register(t, r, "op", "v", Value, 0)
		m := register(t, r, "op", "m", Map, 0)
		rules := register(t, r, "rules", "rules", Map, 0)
		for k := range 3 {
			got, ok, err := r.Get(rules, BroadcastKeyGroup, nil, nil, fmt.Appendf(nil, "rule-%d", k), nil)
			if err != nil || !ok || string(got) != fmt.Sprintf("max-%d", k) {
				t.Fatalf("subtask %d of %d: broadcast rule-%d = %q, %v, %v", i, to, k, got, ok, err)
			}
		}
		broadcast := 0
		for k, e := range dump(t, r) {
			parts := strings.Split(k, "/")
			if parts[0] == "src" {
				operator = append(operator, e)
				continue
			}
			if parts[0] == "rules" {
				broadcast++
				continue
			}
			if parts[1] == "v" {
				seen[strings.Trim(parts[3], `"\`)]++
			}
		}
		for key, val := range want {
			kg := keygroup.Of([]byte(key), rescaleMaxP)
			got, ok, err := r.Get(v, kg, []byte(key), nil, nil, nil)
			if !opts.KeyGroups.Contains(kg) {
				if !errors.Is(err, errKeyGroup) {
					t.Fatalf("subtask %d of %d answers for key group %d: %v", i, to, kg, err)
				}
				continue
			}
			if err != nil || !ok || string(got) != val {
				t.Fatalf("subtask %d of %d: %s = %q, %v, %v; want %q", i, to, key, got, ok, err, val)
			}
			if got, ok, _ := r.Get(m, kg, []byte(key), []byte("ns"), []byte("x"), nil); !ok || string(got) != val {
				t.Fatalf("subtask %d of %d: map entry of %s = %q, %v", i, to, key, got, ok)
			}
		}
		if broadcast != 3 {
			t.Fatalf("subtask %d of %d holds %d broadcast entries, want one copy of 3", i, to, broadcast)
		}
		must(t, r.Close())
	}
	if len(seen) != len(want) {
		t.Fatalf("%d keys restored, want %d", len(seen), len(want))
	}
	for key, c := range seen {
		if c != 1 {
			t.Fatalf("key %s restored %d times", key, c)
		}
	}
	if len(operator) != 1 || operator[0] != "subtask-0" {
		t.Fatalf("operator state after rescaling = %v, want [subtask-0]", operator)
	}
}

func TestRescaleTwoToOne(t *testing.T)   { rescale(t, 2, 1, 3000) }
func TestRescaleOneToThree(t *testing.T) { rescale(t, 1, 3, 3000) }
func TestRescaleThreeToTwo(t *testing.T) { rescale(t, 3, 2, 3000) }

func TestRescaledListsKeepOrderAndGrow(t *testing.T) {
	store := NewMemStore()
	var handles []Handle
	for i := range 2 {
		b := openTest(t, subtaskOptions(i, 2))
		l := register(t, b, "op", "l", List, 0)
		kg := b.opts.KeyGroups.First
		for j := range 3 {
			must(t, b.Append(l, kg, []byte("k"), nil, fmt.Appendf(nil, "%d-%d", i, j)))
		}
		handles = append(handles, checkpoint(t, b, store, 1, UploadOptions{}))
	}
	r := restoreTest(t, subtaskOptions(0, 1), store, handles, nil)
	l := register(t, r, "op", "l", List, 0)
	for i := range 2 {
		kg := handles[i].KeyGroups.First
		must(t, r.Append(l, kg, []byte("k"), nil, []byte("new")))
		it := r.Iterator(l, kg, []byte("k"), nil)
		var got []string
		for _, v, ok := it.Next(); ok; _, v, ok = it.Next() {
			got = append(got, string(v))
		}
		must(t, it.Close())
		if want := fmt.Sprintf("[%d-0 %d-1 %d-2 new]", i, i, i); fmt.Sprint(got) != want {
			t.Fatalf("list of old subtask %d = %v, want %s", i, got, want)
		}
	}
}

func TestRestoreRefusesCorruptOrMissingObjects(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name   string
		damage func(s *MemStore, object string)
		also   error
	}{
		{"flipped byte", func(s *MemStore, o string) { s.Corrupt(o, 100) }, nil},
		{"missing", func(s *MemStore, o string) { must(t, s.Delete(ctx, o)) }, ErrNotFound},
		{"truncated", func(s *MemStore, o string) {
			var buf strings.Builder
			must(t, s.Get(ctx, o, &buf))
			must(t, s.Put(ctx, o, strings.NewReader(buf.String()[:buf.Len()/2])))
		}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			store := NewMemStore()
			b := openTest(t, testOptions(nil))
			fill(t, b, 500, "x")
			h := checkpoint(t, b, store, 42, UploadOptions{Prefix: "job/"})
			var victim string
			for _, f := range h.Files {
				if immutable(f.Name) {
					victim = f.Object
				}
			}
			c.damage(store, victim)
			_, err := Restore(ctx, testOptions(nil), store, []Handle{h}, nil)
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Restore = %v, want ErrCorrupt", err)
			}
			if c.also != nil && !errors.Is(err, c.also) {
				t.Fatalf("Restore = %v, want it to wrap %v too", err, c.also)
			}
			if !strings.Contains(err.Error(), victim) || !strings.Contains(err.Error(), "checkpoint 42") {
				t.Fatalf("error %q does not name the object %q and the checkpoint", err, victim)
			}
		})
	}
}

func TestRestoreRefusesBadHandles(t *testing.T) {
	store := NewMemStore()
	b := openTest(t, testOptions(nil))
	fill(t, b, 10, "x")
	good := checkpoint(t, b, store, 1, UploadOptions{})
	for _, c := range []struct {
		name  string
		spoil func(h *Handle)
	}{
		{"max parallelism", func(h *Handle) { h.MaxParallelism = 256 }},
		{"format", func(h *Handle) { h.Format = 99 }},
		{"range", func(h *Handle) { h.KeyGroups = Range{5, 200} }},
		{"path in a file name", func(h *Handle) { h.Files[0].Name = "../../etc/passwd" }},
		{"sha256", func(h *Handle) { h.Files[0].SHA256 = "zz" }},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := good
			h.Files = append([]FileRef(nil), good.Files...)
			c.spoil(&h)
			if _, err := Restore(context.Background(), testOptions(nil), store, []Handle{h}, nil); err == nil {
				t.Fatal("Restore accepted the handle")
			}
		})
	}
	// Two handles holding the same key groups.
	if _, err := Restore(context.Background(), subtaskOptions(0, 2), store, []Handle{good, good}, nil); err == nil {
		t.Fatal("Restore accepted overlapping handles")
	}
}

// Same parallelism: each subtask reopens its own snapshot in place, and only
// subtask 0 keeps operator state.
func TestRescaleTwoToTwo(t *testing.T) { rescale(t, 2, 2, 1000) }
