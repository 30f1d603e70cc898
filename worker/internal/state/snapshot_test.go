package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// fill writes n keys to a value, a map and a list state, spread over the key
// groups of b, plus operator state.
func fill(t testing.TB, b *Backend, n int, tag string) {
	t.Helper()
	v := register(t, b, "op", "v", Value, 0)
	m := register(t, b, "op", "m", Map, 0)
	l := register(t, b, "op", "l", List, 0)
	o := register(t, b, "src", "offsets", List, 0)
	r := b.opts.KeyGroups
	for i := range n {
		kg := r.First + i%(r.Last-r.First+1)
		key := fmt.Appendf(nil, "key-%d", i)
		must(t, b.Put(v, kg, key, nil, nil, fmt.Appendf(nil, "%s-v%d", tag, i)))
		must(t, b.Put(m, kg, key, []byte("ns"), []byte("a"), fmt.Appendf(nil, "%s-ma%d", tag, i)))
		must(t, b.Put(m, kg, key, []byte("ns"), []byte("b"), fmt.Appendf(nil, "%s-mb%d", tag, i)))
		must(t, b.Append(l, kg, key, nil, fmt.Appendf(nil, "%s-l%d", tag, i)))
		if i%100 == 99 {
			must(t, b.Commit())
		}
	}
	must(t, b.Append(o, OperatorKeyGroup, nil, nil, []byte(tag)))
}

func TestSnapshotRestoresTheStateAtTheBarrier(t *testing.T) {
	store := NewMemStore()
	b := openTest(t, testOptions(nil))
	fill(t, b, 1000, "pre")
	want := dump(t, b) // includes the open batch, which Snapshot commits
	p, err := b.Snapshot(1)
	must(t, err)
	fill(t, b, 1200, "post")
	must(t, b.Commit())
	h, err := p.Upload(context.Background(), store, UploadOptions{Prefix: "job/1/"})
	must(t, err)

	r := restoreTest(t, testOptions(nil), store, []Handle{h}, nil)
	equalMaps(t, "restored", dump(t, r), want)

	if got := h.Objects(); len(got) != len(h.Files) || len(got) == 0 {
		t.Fatalf("Objects() = %v for %d files", got, len(h.Files))
	}
	for _, o := range h.Objects() {
		if !strings.HasPrefix(o, "job/1/") {
			t.Fatalf("object %q outside the prefix", o)
		}
	}
	if h.TotalBytes <= 0 || h.UploadedBytes != h.TotalBytes || h.SyncPause <= 0 || h.AsyncDuration <= 0 {
		t.Fatalf("handle figures: %+v", h)
	}
	// The control plane stores handles as JSON.
	data, err := json.Marshal(h)
	must(t, err)
	var back Handle
	must(t, json.Unmarshal(data, &back))
	if !reflect.DeepEqual(back, h) {
		t.Fatalf("JSON round trip changed the handle:\n%+v\n%+v", back, h)
	}
}

// TestNoPostBarrierWriteReachesTheSnapshot writes far more than a memtable after
// the barrier and before the upload. Without the guard, Pebble flushes those
// writes before the capture and they leak into the snapshot; the subtest with
// the guard switched off shows that the test would see it.
func TestNoPostBarrierWriteReachesTheSnapshot(t *testing.T) {
	for _, c := range []struct {
		name       string
		noGuard    bool
		concurrent bool
	}{
		{"guarded", false, false},
		{"guarded-concurrent-upload", false, true},
		{"unguarded-leaks", true, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			store := NewMemStore()
			opts := testOptions(nil)
			opts.MemTableSize = minMemTableSize
			b := openTest(t, opts)
			b.noGuard = c.noGuard
			fill(t, b, 2000, "pre")
			want := dump(t, b)
			p, err := b.Snapshot(1)
			must(t, err)

			var wg sync.WaitGroup
			var h Handle
			var uerr error
			upload := func() { h, uerr = p.Upload(context.Background(), store, UploadOptions{}) }
			if c.concurrent {
				wg.Go(upload)
			}
			// About 20 memtables' worth of post-barrier writes.
			v := register(t, b, "op", "v", Value, 0)
			val := make([]byte, 100)
			for i := range 20000 {
				must(t, b.Put(v, i%128, fmt.Appendf(nil, "post-%d", i), nil, nil, val))
				if i%50 == 49 {
					must(t, b.Commit())
				}
			}
			must(t, b.Commit())
			if c.noGuard {
				// Whether Pebble has flushed the post-barrier memtables by the
				// time of the capture is a race; flush as a full memtable would.
				must(t, b.db.Flush())
			}
			if c.concurrent {
				wg.Wait()
			} else {
				upload()
			}
			must(t, uerr)

			r := restoreTest(t, testOptions(nil), store, []Handle{h}, nil)
			got := dump(t, r)
			if c.noGuard {
				if maps.Equal(got, want) {
					t.Fatal("no post-barrier write leaked without the guard: the test proves nothing")
				}
				return
			}
			equalMaps(t, "restored", got, want)
			if !c.concurrent && b.Stats().CommitBlocks == 0 {
				t.Fatal("the guard never blocked a commit")
			}
		})
	}
}

func TestSnapshotsUploadInAnyOrder(t *testing.T) {
	store := NewMemStore()
	opts := testOptions(nil)
	opts.MemTableSize = minMemTableSize
	b := openTest(t, opts)
	var pendings []*Pending
	var wants []map[string]string
	for i := range 3 {
		fill(t, b, 500*(i+1), fmt.Sprint("round", i))
		wants = append(wants, dump(t, b))
		p, err := b.Snapshot(uint64(i + 1))
		must(t, err)
		pendings = append(pendings, p)
	}
	for _, i := range []int{2, 0, 1} {
		h, err := pendings[i].Upload(context.Background(), store, UploadOptions{})
		must(t, err)
		r := restoreTest(t, testOptions(nil), store, []Handle{h}, nil)
		equalMaps(t, fmt.Sprint("checkpoint ", i+1), dump(t, r), wants[i])
		must(t, r.Close())
	}
	if _, err := pendings[0].Upload(context.Background(), store, UploadOptions{}); err == nil {
		t.Fatal("a second Upload of one snapshot succeeded")
	}
}

func captureDirEntries(t *testing.T, b *Backend) []string {
	t.Helper()
	names, err := b.opts.FS.List(b.opts.captureDir())
	if err != nil && !strings.Contains(err.Error(), "not exist") {
		t.Fatal(err)
	}
	return names
}

func TestCapturesAreAlwaysRemoved(t *testing.T) {
	store := NewMemStore()
	opts := testOptions(nil)
	opts.MemTableSize = minMemTableSize
	b := openTest(t, opts)
	fill(t, b, 100, "a")

	// Uploaded.
	checkpoint(t, b, store, 1, UploadOptions{})
	if names := captureDirEntries(t, b); len(names) != 0 {
		t.Fatalf("capture left after Upload: %v", names)
	}

	// Aborted before its capture: later commits no longer wait for one.
	p, err := b.Snapshot(2)
	must(t, err)
	p.Abort()
	fill(t, b, 5000, "b")
	must(t, b.Commit())
	if b.Stats().CommitBlocks != 0 {
		t.Fatalf("commits blocked for an aborted snapshot: %+v", b.Stats())
	}
	if _, err := p.Upload(context.Background(), store, UploadOptions{}); err == nil {
		t.Fatal("Upload after Abort succeeded")
	}

	// Captured by a blocked commit, then aborted.
	p, err = b.Snapshot(3)
	must(t, err)
	fill(t, b, 5000, "c")
	must(t, b.Commit())
	if b.Stats().CommitBlocks == 0 {
		t.Fatal("no commit blocked")
	}
	if names := captureDirEntries(t, b); len(names) != 1 {
		t.Fatalf("capture of checkpoint 3 = %v, want one directory", names)
	}
	p.Abort()
	if names := captureDirEntries(t, b); len(names) != 0 {
		t.Fatalf("capture left after Abort: %v", names)
	}

	// A failed upload removes the capture too.
	p, err = b.Snapshot(4)
	must(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	must(t, p.capture(nil))
	if _, err := p.Upload(ctx, store, UploadOptions{}); err == nil {
		t.Fatal("Upload with a cancelled context succeeded")
	}
	if names := captureDirEntries(t, b); len(names) != 0 {
		t.Fatalf("capture left after a failed Upload: %v", names)
	}
}

// changeSome overwrites about frac of the value state's keys.
func changeSome(t testing.TB, b *Backend, n int, frac float64, rng *rand.Rand) {
	t.Helper()
	v := register(t, b, "op", "v", Value, 0)
	r := b.opts.KeyGroups
	for range int(float64(n) * frac) {
		i := rng.IntN(n)
		kg := r.First + i%(r.Last-r.First+1)
		must(t, b.Put(v, kg, fmt.Appendf(nil, "key-%d", i), nil, nil, []byte("changed")))
	}
	must(t, b.Commit())
}

func TestIncrementalCheckpointsShareFiles(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	store := NewMemStore()
	// Pebble compacts L0 once it has two files here; whether that finishes
	// before a capture is a race, so this test keeps the files as flushed.
	// (The benchmarks measure with compactions on.)
	opts := testOptions(nil)
	opts.noAutoCompactions = true
	b := openTest(t, opts)
	const n = 8000
	fill(t, b, n, "base")
	h1 := checkpoint(t, b, store, 1, UploadOptions{Prefix: "job/"})

	changeSome(t, b, n, 0.01, rng)
	want2 := dump(t, b)
	h2 := checkpoint(t, b, store, 2, UploadOptions{Prefix: "job/"})
	if h2.UploadedBytes >= h2.TotalBytes {
		t.Fatalf("checkpoint 2 uploaded %d of %d bytes: not incremental", h2.UploadedBytes, h2.TotalBytes)
	}
	shared := sharedWith(h2, h1)
	if shared == 0 {
		t.Fatalf("checkpoint 2 shares no file with checkpoint 1: %+v", h2.Files)
	}
	t.Logf("checkpoint 1: %d bytes; checkpoint 2: %d of %d bytes uploaded, %d files shared",
		h1.TotalBytes, h2.UploadedBytes, h2.TotalBytes, shared)

	// After a restore, the next checkpoint still shares the restored files.
	ropts := opts
	ropts.FS = vfs.NewMem()
	r := restoreTest(t, ropts, store, []Handle{h2}, nil)
	equalMaps(t, "restored checkpoint 2", dump(t, r), want2)
	changeSome(t, r, n, 0.01, rng)
	want3 := dump(t, r)
	h3 := checkpoint(t, r, store, 3, UploadOptions{Prefix: "job/"})
	if sharedWith(h3, h2) == 0 || h3.UploadedBytes >= h3.TotalBytes {
		t.Fatalf("checkpoint 3 after a restore is not incremental: %d of %d bytes", h3.UploadedBytes, h3.TotalBytes)
	}
	r3 := restoreTest(t, testOptions(nil), store, []Handle{h3}, nil)
	equalMaps(t, "restored checkpoint 3", dump(t, r3), want3)

	// A savepoint shares nothing, and nothing shares its files.
	sp := checkpoint(t, r, store, 4, UploadOptions{Prefix: "savepoints/4/", Full: true})
	if sp.UploadedBytes != sp.TotalBytes || sharedWith(sp, h3) != 0 {
		t.Fatalf("savepoint is not self-contained: %+v", sp)
	}
	for _, o := range sp.Objects() {
		if !strings.HasPrefix(o, "savepoints/4/") {
			t.Fatalf("savepoint object %q outside its prefix", o)
		}
	}
	h5 := checkpoint(t, r, store, 5, UploadOptions{Prefix: "job/"})
	if sharedWith(h5, sp) != 0 {
		t.Fatal("a checkpoint shares a savepoint's files")
	}
}

// sharedWith counts the files of h that reference objects of earlier.
func sharedWith(h, earlier Handle) int {
	objs := make(map[string]bool)
	for _, o := range earlier.Objects() {
		objs[o] = true
	}
	n := 0
	for _, f := range h.Files {
		if !f.Uploaded && objs[f.Object] {
			n++
		}
	}
	return n
}

func TestUploadReuploadsASharedFileTheStoreLost(t *testing.T) {
	store := NewMemStore()
	b := openTest(t, testOptions(nil))
	fill(t, b, 1000, "a")
	h1 := checkpoint(t, b, store, 1, UploadOptions{})
	for _, f := range h1.Files {
		if immutable(f.Name) {
			must(t, store.Delete(context.Background(), f.Object))
		}
	}
	h2 := checkpoint(t, b, store, 2, UploadOptions{})
	r := restoreTest(t, testOptions(vfs.NewMem()), store, []Handle{h2}, nil)
	equalMaps(t, "restored", dump(t, r), dump(t, b))
}

func TestUploadAfterCloseFails(t *testing.T) {
	b, err := Open(testOptions(nil))
	must(t, err)
	fill(t, b, 100, "a")
	p, err := b.Snapshot(1)
	must(t, err)
	must(t, b.Close())
	if _, err := p.Upload(context.Background(), NewMemStore(), UploadOptions{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Upload after Close = %v, want ErrClosed", err)
	}
}

func TestSnapshotIDsMustIncrease(t *testing.T) {
	b := openTest(t, testOptions(nil))
	p, err := b.Snapshot(5)
	must(t, err)
	p.Abort()
	for _, id := range []uint64{5, 4} {
		if _, err := b.Snapshot(id); err == nil {
			t.Fatalf("Snapshot(%d) after Snapshot(5) succeeded", id)
		}
	}
}
