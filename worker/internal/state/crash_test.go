package state

import (
	"context"
	"encoding/binary"
	"fmt"
	"maps"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// crashModel is the test's own account of the state: value and map entries
// keyed as dump names them.
type crashModel map[string]string

// TestCrashRestoresEveryUploadedSnapshot interleaves writes, snapshots and
// uploads (some concurrent with the writes) on a crashable file system, clones
// the file system as a crash would leave it at random points, and checks that
// every snapshot whose Upload returned restores, on the crashed file system,
// exactly the state at its barrier. Some crashes are followed by a failover: the
// run continues from the newest uploaded snapshot on the crashed file system.
func TestCrashRestoresEveryUploadedSnapshot(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 7))
	ctx := context.Background()
	store := NewMemStore()

	fs := vfs.NewCrashableMem()
	newOpts := func(fs vfs.FS) Options {
		opts := testOptions(fs)
		opts.MemTableSize = minMemTableSize
		return opts
	}
	b, err := Open(newOpts(fs))
	must(t, err)
	defer func() { _ = b.Close() }()
	states := func(b *Backend) (State, State) {
		return register(t, b, "op", "v", Value, 0), register(t, b, "op", "m", Map, 0)
	}
	v, m := states(b)

	model := crashModel{}
	type done struct {
		h    Handle
		want crashModel
	}
	type inFlight struct {
		p    *Pending
		want crashModel
	}
	var (
		mu       sync.Mutex
		uploaded []done
		pending  []inFlight
		wg       sync.WaitGroup
		nextID   uint64
	)
	upload := func(f inFlight) {
		h, err := f.p.Upload(ctx, store, UploadOptions{Prefix: "job/"})
		if err != nil {
			t.Errorf("Upload of checkpoint %d: %v", f.p.id, err)
			return
		}
		mu.Lock()
		uploaded = append(uploaded, done{h, f.want})
		mu.Unlock()
	}
	verify := func(fs vfs.FS, d done) *Backend {
		r, err := Restore(ctx, newOpts(fs), store, []Handle{d.h}, nil)
		if err != nil {
			t.Fatalf("restoring checkpoint %d: %v", d.h.CheckpointID, err)
		}
		equalMaps(t, fmt.Sprintf("checkpoint %d", d.h.CheckpointID), dump(t, r), d.want)
		return r
	}

	const steps = 3000
	val := make([]byte, 64)
	for step := range steps {
		switch x := rng.IntN(1000); {
		case x < 880: // a write
			i := rng.IntN(2000)
			kg := i % 128
			key := fmt.Appendf(nil, "k%d", i)
			binary.BigEndian.PutUint64(val, rng.Uint64())
			switch rng.IntN(4) {
			case 0, 1:
				must(t, b.Put(v, kg, key, nil, nil, val))
				model[entryName("op", "v", kg, key, nil, nil)] = string(val)
			case 2:
				sub := fmt.Appendf(nil, "s%d", rng.IntN(3))
				must(t, b.Put(m, kg, key, nil, sub, val))
				model[entryName("op", "m", kg, key, nil, sub)] = string(val)
			case 3:
				must(t, b.Delete(v, kg, key, nil, nil))
				delete(model, entryName("op", "v", kg, key, nil, nil))
			}
			if rng.IntN(20) == 0 {
				must(t, b.Commit())
			}
		case x < 940: // a barrier
			nextID++
			p, err := b.Snapshot(nextID)
			must(t, err)
			pending = append(pending, inFlight{p, maps.Clone(model)})
		case x < 985: // an upload, in the background or not
			if len(pending) == 0 {
				continue
			}
			k := rng.IntN(len(pending))
			f := pending[k]
			pending = append(pending[:k], pending[k+1:]...)
			if rng.IntN(2) == 0 {
				wg.Go(func() { upload(f) })
			} else {
				upload(f)
			}
		case x < 990: // a declined checkpoint
			if len(pending) > 0 {
				pending[0].p.Abort()
				pending = pending[1:]
			}
		default: // a crash
			crashed := fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: rng.IntN(101), RNG: rng})
			mu.Lock()
			snap := append([]done(nil), uploaded...)
			mu.Unlock()
			if len(snap) == 0 {
				continue
			}
			// The newest and one other uploaded snapshot restore on the crashed
			// file system (all of them are checked at the end).
			newest := snap[0]
			for _, d := range snap {
				if d.h.CheckpointID > newest.h.CheckpointID {
					newest = d
				}
			}
			must(t, verify(crashed, snap[rng.IntN(len(snap))]).Close())
			r := verify(crashed, newest)
			if rng.IntN(2) == 0 {
				must(t, r.Close())
				continue
			}
			// Failover: the old backend is gone; carry on from the restored one.
			wg.Wait()
			for _, f := range pending {
				f.p.Abort()
			}
			pending = nil
			must(t, b.Close())
			b, fs, model = r, crashed, maps.Clone(newest.want)
			v, m = states(b)
			t.Logf("step %d: failed over to checkpoint %d", step, newest.h.CheckpointID)
		}
	}
	wg.Wait()
	for _, f := range pending {
		f.p.Abort()
	}
	if len(uploaded) < 5 {
		t.Fatalf("only %d snapshots uploaded", len(uploaded))
	}
	final := vfs.NewMem()
	for _, d := range uploaded {
		must(t, verify(final, d).Close())
	}
	t.Logf("%d snapshots uploaded and verified; %d commits blocked for %v", len(uploaded), b.Stats().CommitBlocks, b.Stats().CommitBlocked)
}
