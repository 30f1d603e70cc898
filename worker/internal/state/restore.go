package state

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// Restore creates a backend in opts.Dir (wiping it) from snapshots in store.
//
// With one handle of exactly opts.KeyGroups, the downloaded files are the
// database, and its immutable files stay shared with the store, so the next
// checkpoint is incremental (unless the handle is Full: a savepoint's files are
// its own, and the first checkpoint after it uploads everything, as Flink's
// no-claim mode). Otherwise (rescaling) each snapshot is opened read-only and
// the entries of the key groups in opts.KeyGroups are copied into a fresh
// database, their handles remapped through the registries; two handles must not
// both cover a key group of opts.KeyGroups. Key groups covered by no handle
// start empty.
//
// Operator state (key group OperatorKeyGroup) is taken from handles[i] only when
// keep(i) is true; keep nil keeps every handle's. Broadcast state (key group
// BroadcastKeyGroup) is taken from handles[0] alone: every subtask's copy is
// the same.
//
// Every file is checked against its handle's size and SHA-256 before any
// database is opened; a missing or different object is an error wrapping
// ErrCorrupt that names the object and the checkpoint.
func Restore(ctx context.Context, opts Options, store FileStore, handles []Handle, keep func(from int) bool) (*Backend, error) {
	opts.Defaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if keep == nil {
		keep = func(int) bool { return true }
	}
	for i := range handles {
		if err := handles[i].validate(opts.MaxParallelism); err != nil {
			return nil, err
		}
	}
	if err := checkOverlap(opts.KeyGroups, handles); err != nil {
		return nil, err
	}
	if err := wipe(&opts); err != nil {
		return nil, err
	}
	if len(handles) == 1 && handles[0].KeyGroups == opts.KeyGroups {
		return restoreInPlace(ctx, &opts, store, &handles[0], keep(0))
	}
	return restoreRescaled(ctx, &opts, store, handles, keep)
}

// checkOverlap refuses handles that both hold a key group the backend will own:
// one of the copies would silently win.
func checkOverlap(own Range, handles []Handle) error {
	for i := range handles {
		for j := i + 1; j < len(handles); j++ {
			a, c := handles[i].KeyGroups, handles[j].KeyGroups
			lo, hi := max(a.First, c.First, own.First), min(a.Last, c.Last, own.Last)
			if lo <= hi {
				return fmt.Errorf("state: checkpoints %d and %d both hold key groups [%d, %d]",
					handles[i].CheckpointID, handles[j].CheckpointID, lo, hi)
			}
		}
	}
	return nil
}

func restoreInPlace(ctx context.Context, opts *Options, store FileStore, h *Handle, keepOperator bool) (*Backend, error) {
	if err := download(ctx, opts.FS, store, h, opts.dbDir()); err != nil {
		return nil, err
	}
	b, err := openDB(opts)
	if err != nil {
		return nil, fmt.Errorf("restoring checkpoint %d: %w", h.CheckpointID, err)
	}
	if !keepOperator {
		if err := b.dropOperatorState(); err != nil {
			_ = b.Close()
			return nil, fmt.Errorf("restoring checkpoint %d: dropping operator state: %w", h.CheckpointID, err)
		}
	}
	if !h.Full {
		for _, f := range h.Files {
			if immutable(f.Name) {
				f.Uploaded = false
				b.files[f.Name] = f
			}
		}
	}
	return b, nil
}

// dropOperatorState deletes every operator-state entry. They are deleted one by
// one: key group 0xFFFF is the last, so a range deletion would need an end key
// above every possible key. Operator state is small.
func (b *Backend) dropOperatorState() error {
	start, _ := keyGroupSpan(OperatorKeyGroup, OperatorKeyGroup)
	it, err := b.db.NewIter(&pebble.IterOptions{LowerBound: start})
	if err != nil {
		return err
	}
	for ok := it.First(); ok; ok = it.Next() {
		if err := b.del(it.Key()); err != nil {
			_ = it.Close()
			return err
		}
	}
	if err := it.Close(); err != nil {
		return err
	}
	return b.Commit()
}

func restoreRescaled(ctx context.Context, opts *Options, store FileStore, handles []Handle, keep func(int) bool) (*Backend, error) {
	b, err := openDB(opts)
	if err != nil {
		return nil, err
	}
	for i := range handles {
		h := &handles[i]
		overlaps := h.KeyGroups.First <= opts.KeyGroups.Last && opts.KeyGroups.First <= h.KeyGroups.Last
		if !overlaps && !keep(i) && i > 0 {
			continue // nothing to take from it: do not download it
		}
		if err := b.copyFrom(ctx, store, h, i, keep(i), i == 0); err != nil {
			_ = b.Close()
			return nil, err
		}
	}
	return b, nil
}

// copyFrom copies what the backend owns of one snapshot into its database.
func (b *Backend) copyFrom(ctx context.Context, store FileStore, h *Handle, i int, keepOperator, keepBroadcast bool) error {
	dir := filepath.Join(b.opts.restoreDir(), strconv.Itoa(i))
	defer func() { _ = b.opts.FS.RemoveAll(dir) }()
	if err := download(ctx, b.opts.FS, store, h, dir); err != nil {
		return err
	}
	cache := b.opts.Cache
	if cache == nil {
		cache = pebble.NewCache(privateCacheSize)
		defer cache.Unref()
	}
	src, err := pebble.Open(dir, b.opts.pebbleOptions(cache, true))
	if err != nil {
		return fmt.Errorf("restoring checkpoint %d: opening snapshot %d: %w", h.CheckpointID, i, err)
	}
	defer src.Close()
	srcReg, srcSeq, err := readMeta(src)
	if err != nil {
		return fmt.Errorf("restoring checkpoint %d: %w", h.CheckpointID, err)
	}
	// Every state of the source gets a handle here, even one without entries
	// in the key groups copied, so that handles do not depend on data.
	remap := make(map[uint32]State, len(srcReg.byHandle))
	for hk, e := range srcReg.byHandle {
		s, err := b.Register(e.Operator, e.Name, e.Kind, e.TTL)
		if err != nil {
			return fmt.Errorf("restoring checkpoint %d: %w", h.CheckpointID, err)
		}
		remap[hk] = s
	}
	// A list element id must stay above every id handed out by any source.
	if srcSeq > b.seq {
		b.seq, b.seqDirty = srcSeq, true
	}
	if err := b.Commit(); err != nil {
		return fmt.Errorf("restoring checkpoint %d: %w", h.CheckpointID, err)
	}

	if lo, hi := max(h.KeyGroups.First, b.opts.KeyGroups.First), min(h.KeyGroups.Last, b.opts.KeyGroups.Last); lo <= hi {
		if err := b.copySpan(src, remap, h, lo, hi); err != nil {
			return err
		}
	}
	if keepBroadcast {
		if err := b.copySpan(src, remap, h, BroadcastKeyGroup, BroadcastKeyGroup); err != nil {
			return err
		}
	}
	if keepOperator {
		if err := b.copySpan(src, remap, h, OperatorKeyGroup, OperatorKeyGroup); err != nil {
			return err
		}
	}
	return nil
}

// copyBatchBytes is how much a restore writes per batch.
const copyBatchBytes = 4 << 20

// copySpan copies the entries of key groups first..last of src, rewriting their
// handles.
func (b *Backend) copySpan(src *pebble.DB, remap map[uint32]State, h *Handle, first, last int) error {
	start, end := keyGroupSpan(first, last)
	it, err := src.NewIter(&pebble.IterOptions{LowerBound: start, UpperBound: end})
	if err != nil {
		return fmt.Errorf("restoring checkpoint %d: %w", h.CheckpointID, err)
	}
	defer it.Close()
	batch := b.db.NewBatch()
	defer func() { _ = batch.Close() }()
	var key []byte
	for ok := it.First(); ok; ok = it.Next() {
		d, good := decodeKey(it.Key())
		if !good {
			return fmt.Errorf("%w: checkpoint %d holds a malformed key %x", ErrCorrupt, h.CheckpointID, it.Key())
		}
		s, found := remap[handleKey(d.op, d.st)]
		if !found {
			return fmt.Errorf("%w: checkpoint %d holds key %x of unregistered handles %d/%d", ErrCorrupt, h.CheckpointID, it.Key(), d.op, d.st)
		}
		v, err := it.ValueAndErr()
		if err != nil {
			return fmt.Errorf("restoring checkpoint %d: %w", h.CheckpointID, err)
		}
		key = appendKey(key[:0], d.kg, s.op, s.st, d.key, d.ns, d.sub)
		if err := batch.Set(key, v, nil); err != nil {
			return fmt.Errorf("restoring checkpoint %d: %w", h.CheckpointID, err)
		}
		if batch.Len() >= copyBatchBytes {
			if err := b.db.Apply(batch, pebble.NoSync); err != nil {
				return fmt.Errorf("restoring checkpoint %d: %w", h.CheckpointID, err)
			}
			batch.Reset()
		}
	}
	if err := it.Error(); err != nil {
		return fmt.Errorf("restoring checkpoint %d: %w", h.CheckpointID, err)
	}
	if err := b.db.Apply(batch, pebble.NoSync); err != nil {
		return fmt.Errorf("restoring checkpoint %d: %w", h.CheckpointID, err)
	}
	return nil
}

// download fetches every file of h into dir, checking sizes and digests. The
// files are not synced: local files are a cache, and a crash means another
// restore from the store into a wiped directory.
func download(ctx context.Context, fs vfs.FS, store FileStore, h *Handle, dir string) error {
	if err := fs.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("restoring checkpoint %d: %w", h.CheckpointID, err)
	}
	for _, f := range h.Files {
		if err := downloadFile(ctx, fs, store, h.CheckpointID, f, filepath.Join(dir, f.Name)); err != nil {
			return err
		}
	}
	return nil
}

func downloadFile(ctx context.Context, fs vfs.FS, store FileStore, ckpt uint64, f FileRef, path string) error {
	out, err := fs.Create(path, vfs.WriteCategoryUnspecified)
	if err != nil {
		return fmt.Errorf("restoring checkpoint %d: creating %s: %w", ckpt, path, err)
	}
	hash := sha256.New()
	// The hash goes first: io.Writer promises not to modify the buffer, but
	// Pebble's MemFS scrambles it after writing when built with invariants (as
	// under -race), to catch code that relies on that promise.
	w := &countingWriter{w: io.MultiWriter(hash, out)}
	err = store.Get(ctx, f.Object, w)
	if cerr := out.Close(); err == nil && cerr != nil {
		return fmt.Errorf("restoring checkpoint %d: writing %s: %w", ckpt, path, cerr)
	}
	switch {
	case errors.Is(err, ErrNotFound):
		return fmt.Errorf("%w: object %q of checkpoint %d is missing: %w", ErrCorrupt, f.Object, ckpt, err)
	case errors.Is(err, ErrCorrupt):
		return fmt.Errorf("object %q of checkpoint %d: %w", f.Object, ckpt, err)
	case err != nil:
		return fmt.Errorf("restoring checkpoint %d: downloading object %q: %w", ckpt, f.Object, err)
	}
	if w.n != f.Size {
		return fmt.Errorf("%w: object %q of checkpoint %d has %d bytes, want %d", ErrCorrupt, f.Object, ckpt, w.n, f.Size)
	}
	if got := hex.EncodeToString(hash.Sum(nil)); got != f.SHA256 {
		return fmt.Errorf("%w: object %q of checkpoint %d has sha256 %s, want %s", ErrCorrupt, f.Object, ckpt, got, f.SHA256)
	}
	return nil
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
