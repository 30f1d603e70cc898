package state

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// handleFormat versions the Handle encoding.
const handleFormat = 1

// Handle describes one uploaded snapshot of a backend. It is JSON-serialisable;
// the control plane stores it opaquely and reference-counts its Objects.
type Handle struct {
	Format       int    `json:"format"`
	CheckpointID uint64 `json:"checkpoint_id"`
	// Instance names the database lineage whose files these are.
	Instance string `json:"instance"`
	// Full is set for a self-contained snapshot (a savepoint) that shares nothing.
	Full           bool            `json:"full,omitempty"`
	KeyGroups      Range           `json:"key_groups"`
	MaxParallelism int             `json:"max_parallelism"`
	Registry       []RegistryEntry `json:"registry"`
	Files          []FileRef       `json:"files"`
	// TotalBytes is the size of every file; UploadedBytes of those uploaded by
	// this snapshot.
	TotalBytes    int64 `json:"total_bytes"`
	UploadedBytes int64 `json:"uploaded_bytes"`
	// SyncPause is the synchronous part (Snapshot), AsyncDuration the
	// asynchronous part (Upload).
	SyncPause     time.Duration `json:"sync_pause_ns"`
	AsyncDuration time.Duration `json:"async_duration_ns"`
}

// FileRef is one file of a snapshot.
type FileRef struct {
	// Name is the file's name in the database directory.
	Name string `json:"name"`
	// Object is its name in the FileStore.
	Object string `json:"object"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	// Uploaded is set when this snapshot uploaded the object; otherwise it
	// shares one uploaded earlier.
	Uploaded bool `json:"uploaded"`
}

// Objects returns every object the snapshot references, uploaded or shared.
func (h Handle) Objects() []string {
	out := make([]string, len(h.Files))
	for i, f := range h.Files {
		out[i] = f.Object
	}
	return out
}

// validate checks a Handle that came from outside (the control plane's store)
// before anything is derived from it.
func (h *Handle) validate(maxP int) error {
	if h.Format != handleFormat {
		return fmt.Errorf("state: checkpoint %d: unknown handle format %d", h.CheckpointID, h.Format)
	}
	if h.MaxParallelism != maxP {
		return fmt.Errorf("state: checkpoint %d has max parallelism %d, the backend %d", h.CheckpointID, h.MaxParallelism, maxP)
	}
	if !h.KeyGroups.Valid(maxP) {
		return fmt.Errorf("state: checkpoint %d: invalid key-group range %v", h.CheckpointID, h.KeyGroups)
	}
	seen := make(map[string]bool, len(h.Files))
	for _, f := range h.Files {
		if !validFileName(f.Name) || seen[f.Name] {
			return fmt.Errorf("state: checkpoint %d: invalid or repeated file name %q", h.CheckpointID, f.Name)
		}
		seen[f.Name] = true
		if f.Object == "" || f.Size < 0 {
			return fmt.Errorf("state: checkpoint %d: file %q has no object or a negative size", h.CheckpointID, f.Name)
		}
		if b, err := hex.DecodeString(f.SHA256); err != nil || len(b) != sha256.Size {
			return fmt.Errorf("state: checkpoint %d: file %q has an invalid sha256 %q", h.CheckpointID, f.Name, f.SHA256)
		}
	}
	return nil
}

// validFileName accepts a bare file name: handles come from outside and their
// names become paths.
func validFileName(n string) bool {
	return n != "" && n != "." && n != ".." && !strings.ContainsAny(n, `/\`) && !strings.ContainsRune(n, 0)
}

// immutable reports whether a file of a Pebble checkpoint never changes once
// written, so that later snapshots of the same database can share its object.
// The MANIFEST, OPTIONS and marker files are rewritten or renamed; they are
// uploaded with every snapshot.
func immutable(name string) bool {
	return strings.HasSuffix(name, ".sst") || strings.HasSuffix(name, ".blob")
}

// UploadOptions configure Pending.Upload.
type UploadOptions struct {
	// Prefix starts every object name, e.g. "job/<id>/".
	Prefix string
	// Full makes a self-contained snapshot (a savepoint): every file is uploaded
	// under Prefix and nothing is shared with other snapshots.
	Full bool
}

// Pending is a snapshot taken by Snapshot and not yet uploaded. Its methods may
// be called from a goroutine other than the task's, one at a time.
type Pending struct {
	b         *Backend
	id        uint64
	flushed   <-chan struct{}
	syncPause time.Duration
	registry  []RegistryEntry
	dir       string

	// mu serialises the capture (by Upload, or by a blocked Commit on the task
	// goroutine) with Abort and Upload.
	mu       sync.Mutex
	captured bool  // guarded by mu: the files are in dir
	released bool  // guarded by mu: dir is gone; the Pending is spent
	err      error // guarded by mu: the capture's error
	// done is set once the capture has run (or will never be needed), so that
	// the task's Commit can check it without the lock.
	done atomic.Bool
}

// SyncPause is how long Snapshot held the task.
func (p *Pending) SyncPause() time.Duration { return p.syncPause }

// CheckpointID is the checkpoint the snapshot belongs to.
func (p *Pending) CheckpointID() uint64 { return p.id }

// Snapshot is the synchronous part of a checkpoint, called at the barrier: it
// commits the open batch and rotates the memtable, whose flush then runs in the
// background. Everything committed so far, and nothing after, will be in the
// snapshot. It does not wait for a flush, except to finish the capture of the
// previous snapshot if no upload has done it yet (captures must happen in
// barrier order, and that one's flush is usually long done).
func (b *Backend) Snapshot(checkpointID uint64) (*Pending, error) {
	if b.closed {
		return nil, ErrClosed
	}
	// Object names carry the checkpoint id: a repeated id would overwrite the
	// files of an earlier snapshot that a handle may still describe.
	if checkpointID <= b.lastCheckpoint {
		return nil, fmt.Errorf("state: snapshot for checkpoint %d after one for checkpoint %d: ids must increase", checkpointID, b.lastCheckpoint)
	}
	start := time.Now()
	if p := b.pending; p != nil {
		if !p.done.Load() {
			if err := p.capture(nil); err != nil {
				b.opts.Logger.Warn("capturing the previous snapshot failed", "checkpoint", p.id, "err", err)
			}
			b.stats.blocked.Add(int64(time.Since(start)))
			b.stats.blocks.Add(1)
		}
		b.pending = nil
	}
	if err := b.Commit(); err != nil {
		return nil, fmt.Errorf("snapshotting checkpoint %d: %w", checkpointID, err)
	}
	// The new memtable's capacity bounds what may be written before the
	// capture. Pebble grows memtables from 256 KiB to MemTableSize, so it is
	// measured, not assumed: the rotation is the only thing that adds a
	// memtable between the two readings (the task is the only writer), and a
	// flush finishing in between only makes the estimate smaller, which is safe.
	before := b.db.Metrics().MemTable.Size
	flushed, err := b.db.AsyncFlush()
	if err != nil {
		return nil, fmt.Errorf("snapshotting checkpoint %d: rotating the memtable: %w", checkpointID, err)
	}
	after := b.db.Metrics().MemTable.Size
	capacity := min(uint64(minMemTableSize), b.opts.MemTableSize)
	if after > before {
		capacity = max(capacity, after-before)
	}
	// Half the capacity, less a margin for Pebble's empty-memtable footprint,
	// keeps the batch under Pebble's large-batch threshold too (a large batch
	// is queued for flushing as a memtable of its own).
	const margin = 16 << 10
	b.guardLimit = 0
	if c := min(capacity, b.opts.MemTableSize) / 2; c > margin {
		b.guardLimit = c - margin
	}
	b.sinceRotation = 0

	p := &Pending{
		b:        b,
		id:       checkpointID,
		flushed:  flushed,
		registry: b.reg.list(),
		dir:      filepath.Join(b.opts.captureDir(), strconv.FormatUint(checkpointID, 10)+"-"+strconv.FormatInt(time.Now().UnixNano(), 36)),
	}
	b.pending = p
	b.lastCheckpoint = checkpointID
	p.syncPause = time.Since(start)
	b.stats.snapshots.Add(1)
	b.stats.lastSyncPause.Store(int64(p.syncPause))
	return p, nil
}

// capture waits for the snapshot's memtable to be flushed and links the
// database's files into p.dir. A nil ctx waits without limit (the task's
// blocked Commit must not give up: it would let post-barrier writes into the
// snapshot).
func (p *Pending) capture(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	// Captured is checked first: a capture that happened is good news for a
	// blocked Commit even if the files have been uploaded and released since.
	if p.captured || p.err != nil {
		return p.err
	}
	if p.released {
		return errors.New("state: snapshot aborted")
	}
	b := p.b
	var done <-chan struct{} // nil: wait without limit
	if ctx != nil {
		done = ctx.Done()
	}
	select {
	case <-p.flushed:
	case <-done:
		return fmt.Errorf("waiting for the flush of checkpoint %d: %w", p.id, ctx.Err())
	case <-b.closing:
		p.err = fmt.Errorf("capturing checkpoint %d: %w", p.id, ErrClosed)
		p.done.Store(true)
		return p.err
	}
	b.closeMu.RLock()
	defer b.closeMu.RUnlock()
	defer p.done.Store(true)
	if b.closed {
		p.err = fmt.Errorf("capturing checkpoint %d: %w", p.id, ErrClosed)
		return p.err
	}
	if err := b.opts.FS.MkdirAll(b.opts.captureDir(), 0o755); err != nil {
		p.err = fmt.Errorf("capturing checkpoint %d: %w", p.id, err)
		return p.err
	}
	if err := b.db.Checkpoint(p.dir); err != nil {
		_ = b.opts.FS.RemoveAll(p.dir)
		p.err = fmt.Errorf("capturing checkpoint %d: %w", p.id, err)
		return p.err
	}
	p.captured = true
	return nil
}

// Abort gives up the snapshot (the checkpoint was declined): it releases the
// captured files, and the task's writes no longer wait for a capture.
func (p *Pending) Abort() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.releaseLocked()
}

func (p *Pending) releaseLocked() {
	if p.released {
		return
	}
	p.released = true
	p.done.Store(true)
	if p.captured {
		_ = p.b.opts.FS.RemoveAll(p.dir)
	}
}

// Upload is the asynchronous part of a checkpoint. It waits for the snapshot's
// flush, captures the database's files and uploads to store those it does not
// have yet (all of them when opt.Full), computing each file's SHA-256. The
// captured files are removed whether or not it succeeds, and a Pending is
// uploaded at most once: after a failure the checkpoint is declined. Concurrent
// uploads of several Pendings are allowed (they may both upload a new file).
func (p *Pending) Upload(ctx context.Context, store FileStore, opt UploadOptions) (Handle, error) {
	start := time.Now()
	err := p.capture(ctx)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.released {
		return Handle{}, fmt.Errorf("state: checkpoint %d already uploaded or aborted", p.id)
	}
	// Whatever happens, the Pending is spent: a failed upload releases its
	// files and the task's commits stop waiting for its capture.
	defer p.releaseLocked()
	if err != nil {
		return Handle{}, err
	}

	b := p.b
	names, err := b.opts.FS.List(p.dir)
	if err != nil {
		return Handle{}, fmt.Errorf("uploading checkpoint %d: listing %s: %w", p.id, p.dir, err)
	}
	sort.Strings(names)
	h := Handle{
		Format:         handleFormat,
		CheckpointID:   p.id,
		Instance:       b.instance,
		Full:           opt.Full,
		KeyGroups:      b.opts.KeyGroups,
		MaxParallelism: b.opts.MaxParallelism,
		Registry:       p.registry,
		SyncPause:      p.syncPause,
	}
	var fresh []FileRef
	for _, name := range names {
		ref, err := p.uploadFile(ctx, store, opt, name)
		if err != nil {
			return Handle{}, fmt.Errorf("uploading checkpoint %d: %w", p.id, err)
		}
		h.Files = append(h.Files, ref)
		h.TotalBytes += ref.Size
		if ref.Uploaded {
			h.UploadedBytes += ref.Size
			if !opt.Full && immutable(name) {
				fresh = append(fresh, ref)
			}
		}
	}
	// Only now are the new files shareable: a failed upload must not leave
	// references to objects that may be incomplete.
	b.filesMu.Lock()
	for _, ref := range fresh {
		ref.Uploaded = false
		b.files[ref.Name] = ref
	}
	b.filesMu.Unlock()
	h.AsyncDuration = time.Since(start)
	return h, nil
}

// uploadFile uploads one captured file, or references the object of an
// immutable file this lineage uploaded before and the store still has.
func (p *Pending) uploadFile(ctx context.Context, store FileStore, opt UploadOptions, name string) (FileRef, error) {
	b := p.b
	if !opt.Full && immutable(name) {
		b.filesMu.Lock()
		ref, ok := b.files[name]
		b.filesMu.Unlock()
		if ok {
			has, err := store.Has(ctx, ref.Object)
			if err != nil {
				return FileRef{}, err
			}
			if has {
				return ref, nil
			}
			// The object is gone (e.g. collected after an aborted checkpoint
			// that uploaded it): upload it again below, under the same name.
		}
	}
	var object string
	switch {
	case opt.Full:
		object = fmt.Sprintf("%sfull/%s/%d/%s", opt.Prefix, b.instance, p.id, name)
	case immutable(name):
		object = fmt.Sprintf("%sshared/%s/%s", opt.Prefix, b.instance, name)
	default:
		object = fmt.Sprintf("%sprivate/%s/%d/%s", opt.Prefix, b.instance, p.id, name)
	}
	f, err := b.opts.FS.Open(filepath.Join(p.dir, name))
	if err != nil {
		return FileRef{}, fmt.Errorf("opening %s: %w", name, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return FileRef{}, fmt.Errorf("inspecting %s: %w", name, err)
	}
	hash := sha256.New()
	cr := &countingReader{r: io.TeeReader(f, hash)}
	if err := store.Put(ctx, object, cr); err != nil {
		return FileRef{}, fmt.Errorf("storing %s as %q: %w", name, object, err)
	}
	if cr.n != info.Size() {
		// The hash and size describe what was read; a store that stopped
		// early has a truncated object.
		return FileRef{}, fmt.Errorf("storing %s as %q: the store read %d of %d bytes", name, object, cr.n, info.Size())
	}
	return FileRef{Name: name, Object: object, Size: cr.n, SHA256: hex.EncodeToString(hash.Sum(nil)), Uploaded: true}, nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
