package state

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// Backend is the keyed state of one subtask, in one Pebble database. The task
// goroutine owns it: no method is safe for concurrent use, except Stats and the
// methods of a Pending (see doc.go).
type Backend struct {
	opts     Options
	db       *pebble.DB
	instance string // names this database's files in the store; new on Open and Restore

	// The open batch. Reads go through it, so they see its writes.
	batch      *pebble.Batch
	batchBytes uint64 // conservative memtable footprint of the open batch
	openIters  int
	// getIter serves Get: one iterator over the batch per open batch, refreshed
	// to see the batch's new writes, because Batch.Get allocates two internal
	// iterators on every call. Closed by Commit (it pins the database state
	// of its creation, which only Commit changes).
	getIter     *pebble.Iterator
	getIterOpts pebble.IterOptions

	keyBuf []byte // the encoded key of the current call
	valBuf []byte // the encoded value of the current call

	reg      registry
	seq      uint64 // the last list element id handed out
	seqDirty bool

	cleanupCursor []byte // where CleanupExpired resumes; nil = the start

	// The snapshot guard (see doc.go and Snapshot). pending is the latest
	// snapshot not yet captured, nil once it is.
	pending       *Pending
	sinceRotation uint64 // bytes committed since pending's memtable rotation
	guardLimit    uint64 // what may be committed before the capture
	// lastCheckpoint is the id of the last Snapshot; ids must increase.
	lastCheckpoint uint64
	// noGuard switches the guard off, for the test that shows it is needed.
	noGuard bool

	// closeMu is held for reading by captures (which run Pebble's Checkpoint,
	// possibly on an upload goroutine) and for writing by Close, so that Close
	// waits for them and they never touch a closed database.
	closeMu sync.RWMutex
	closed  bool // guarded by closeMu
	// closing is closed by Close, so that a capture waiting for a flush that
	// will never come (Pebble drops unflushed memtables on Close) gives up.
	closing chan struct{}

	// filesMu guards files: the objects of this lineage already in the store,
	// by local file name. Only immutable files (sstables, blob files) are here.
	filesMu sync.Mutex
	files   map[string]FileRef

	stats stats
}

type stats struct {
	snapshots      atomic.Uint64
	lastSyncPause  atomic.Int64
	blocked        atomic.Int64
	blocks         atomic.Uint64
	expiredDeleted atomic.Uint64
}

// Stats are the backend's counters. Safe to read from any goroutine.
type Stats struct {
	// Snapshots counts calls of Snapshot that succeeded.
	Snapshots uint64
	// LastSyncPause is the synchronous part of the last snapshot.
	LastSyncPause time.Duration
	// CommitBlocked is the total time Commit and Snapshot waited for the capture
	// of a snapshot, and CommitBlocks how many times they did.
	CommitBlocked time.Duration
	CommitBlocks  uint64
	// ExpiredDeleted counts entries deleted because their TTL had passed.
	ExpiredDeleted uint64
}

// Stats returns the backend's counters.
func (b *Backend) Stats() Stats {
	return Stats{
		Snapshots:      b.stats.snapshots.Load(),
		LastSyncPause:  time.Duration(b.stats.lastSyncPause.Load()),
		CommitBlocked:  time.Duration(b.stats.blocked.Load()),
		CommitBlocks:   b.stats.blocks.Load(),
		ExpiredDeleted: b.stats.expiredDeleted.Load(),
	}
}

// Errors of the hot path are values, so that returning one does not allocate.
var (
	// ErrClosed is returned by every call on a closed Backend.
	ErrClosed        = errors.New("state: backend closed")
	errNotRegistered = errors.New("state: state not registered (zero State)")
	errKeyGroup      = errors.New("state: key group not owned by this backend")
	errKindMismatch  = errors.New("state: operation not valid for this kind of state")
	errSubKey        = errors.New("state: sub-key not valid for this kind of state")
	errOpenIterators = errors.New("state: Commit with iterators open")
	errCorruptValue  = errors.New("state: malformed stored value")
)

// Open creates a fresh, empty backend in opts.Dir, wiping what was there.
func Open(opts Options) (*Backend, error) {
	opts.Defaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if err := wipe(&opts); err != nil {
		return nil, err
	}
	return openDB(&opts)
}

// wipe empties opts.Dir: what a previous run left is a cache at best and
// unknown at worst.
func wipe(opts *Options) error {
	if err := opts.FS.RemoveAll(opts.Dir); err != nil {
		return fmt.Errorf("wiping state directory %s: %w", opts.Dir, err)
	}
	if err := opts.FS.MkdirAll(opts.Dir, 0o755); err != nil {
		return fmt.Errorf("creating state directory %s: %w", opts.Dir, err)
	}
	return nil
}

// openDB opens (or creates) the database in opts.dbDir() and loads its metadata.
func openDB(opts *Options) (*Backend, error) {
	cache := opts.Cache
	if cache == nil {
		cache = pebble.NewCache(privateCacheSize)
		// The database takes its own reference; ours goes when Open returns.
		defer cache.Unref()
	}
	db, err := pebble.Open(opts.dbDir(), opts.pebbleOptions(cache, false))
	if err != nil {
		return nil, fmt.Errorf("opening state database in %s: %w", opts.dbDir(), err)
	}
	var id [8]byte
	_, _ = rand.Read(id[:]) // crypto/rand.Read never fails (Go 1.24+)
	b := &Backend{
		opts:     *opts,
		db:       db,
		instance: hex.EncodeToString(id[:]),
		batch:    db.NewIndexedBatch(),
		reg:      newRegistry(),
		files:    make(map[string]FileRef),
		closing:  make(chan struct{}),
	}
	if err := b.loadMeta(); err != nil {
		_ = db.Close()
		return nil, err
	}
	return b, nil
}

// loadMeta reads the registry and the list sequence from the database.
func (b *Backend) loadMeta() error {
	reg, seq, err := readMeta(b.db)
	if err != nil {
		return err
	}
	b.reg, b.seq = reg, seq
	return nil
}

type reader interface {
	NewIter(*pebble.IterOptions) (*pebble.Iterator, error)
	Get([]byte) ([]byte, io.Closer, error)
}

// readMeta reads the handle registry and list sequence stored in r.
func readMeta(r reader) (registry, uint64, error) {
	reg := newRegistry()
	lo := appendKey(nil, metaKeyGroup, 0, metaRegistry, nil, nil, nil)[:headerLen]
	hi := appendKey(nil, metaKeyGroup, 0, metaRegistry+1, nil, nil, nil)[:headerLen]
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return reg, 0, fmt.Errorf("reading the state registry: %w", err)
	}
	for ok := it.First(); ok; ok = it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			_ = it.Close()
			return reg, 0, fmt.Errorf("reading the state registry: %w", err)
		}
		e, err := decodeRegistryEntry(it.Key(), v)
		if err == nil {
			err = reg.add(e)
		}
		if err != nil {
			_ = it.Close()
			return reg, 0, fmt.Errorf("reading the state registry: %w", err)
		}
	}
	if err := it.Close(); err != nil {
		return reg, 0, fmt.Errorf("reading the state registry: %w", err)
	}
	var seq uint64
	v, closer, err := r.Get(sequenceKey)
	switch {
	case errors.Is(err, pebble.ErrNotFound):
	case err != nil:
		return reg, 0, fmt.Errorf("reading the list sequence: %w", err)
	default:
		if len(v) != 8 {
			_ = closer.Close()
			return reg, 0, fmt.Errorf("state: malformed list sequence %x", v)
		}
		seq = binary.BigEndian.Uint64(v)
		_ = closer.Close()
	}
	return reg, seq, nil
}

// Close closes the database, waiting for captures in progress. Pendings not yet
// captured fail. The directory is left as is (the next Open wipes it). Close is
// idempotent.
func (b *Backend) Close() error {
	if b.closed {
		return nil
	}
	close(b.closing)
	b.closeMu.Lock()
	defer b.closeMu.Unlock()
	b.closed = true
	var errs []error
	if b.openIters > 0 {
		errs = append(errs, fmt.Errorf("state: closing with %d iterators open", b.openIters))
	}
	if err := b.closeGetIter(); err != nil {
		errs = append(errs, err)
	}
	if err := b.batch.Close(); err != nil {
		errs = append(errs, fmt.Errorf("closing the open batch: %w", err))
	}
	if err := b.db.Close(); err != nil {
		errs = append(errs, fmt.Errorf("closing the state database: %w", err))
	}
	return errors.Join(errs...)
}

// Register returns the State named name of operator, registering it on first
// use. A state restored from a snapshot keeps its handles; registering it again
// with another kind is an error, with another TTL changes the TTL.
func (b *Backend) Register(operator, name string, kind Kind, ttl time.Duration) (State, error) {
	if b.closed {
		return State{}, ErrClosed
	}
	if operator == "" || name == "" {
		return State{}, fmt.Errorf("state: registering %q/%q: operator id and state name must not be empty", operator, name)
	}
	if !kind.valid() {
		return State{}, fmt.Errorf("state: registering %q/%q: invalid kind %d", operator, name, kind)
	}
	if ttl < 0 {
		return State{}, fmt.Errorf("state: registering %q/%q: negative TTL %v", operator, name, ttl)
	}
	e, changed, err := b.reg.assign(operator, name, kind, ttl)
	if err != nil {
		return State{}, err
	}
	if changed {
		if err := b.set(registryKey(e), encodeRegistryValue(e)); err != nil {
			return State{}, fmt.Errorf("registering %q/%q: %w", operator, name, err)
		}
	}
	return e.state(), nil
}

// check validates the arguments common to every hot-path call.
func (b *Backend) check(s State, kg int, key, ns []byte) error {
	if b.closed {
		return ErrClosed
	}
	if s.op == 0 {
		return errNotRegistered
	}
	if kg != OperatorKeyGroup && kg != BroadcastKeyGroup && !b.opts.KeyGroups.Contains(kg) {
		return errKeyGroup
	}
	return checkLens(key, ns)
}

// checkSub validates a sub-key for a point access (Get, Put).
func checkSub(s State, sub []byte) error {
	switch {
	case s.kind.valueLike():
		if len(sub) != 0 {
			return errSubKey
		}
	case s.kind == Map:
		// An empty map key would be indistinguishable from "the whole map" in
		// Delete; the SDKs encode map keys, never as empty bytes.
		if len(sub) == 0 {
			return errSubKey
		}
	case s.kind == List:
		if len(sub) != 8 {
			return errSubKey
		}
	}
	return nil
}

// Get appends to dst[:0] the value at (key, ns, sub) of state s in key group kg.
// It sees the writes of the open batch and never returns an expired entry. With
// room in dst it does not allocate.
func (b *Backend) Get(s State, kg int, key, ns, sub, dst []byte) (val []byte, ok bool, err error) {
	if err := b.check(s, kg, key, ns); err != nil {
		return dst[:0], false, err
	}
	if err := checkSub(s, sub); err != nil {
		return dst[:0], false, err
	}
	b.keyBuf = appendKey(b.keyBuf[:0], kg, s.op, s.st, key, ns, sub)
	if b.getIter == nil {
		it, err := b.batch.NewIter(&b.getIterOpts)
		if err != nil {
			return dst[:0], false, fmt.Errorf("reading state: %w", err)
		}
		b.getIter = it
	} else {
		b.getIter.SetOptions(&b.getIterOpts) // sees the batch's writes since
	}
	it := b.getIter
	if !it.SeekPrefixGE(b.keyBuf) || !bytes.Equal(it.Key(), b.keyBuf) {
		if err := it.Error(); err != nil {
			return dst[:0], false, fmt.Errorf("reading state: %w", err)
		}
		return dst[:0], false, nil
	}
	v, err := it.ValueAndErr()
	if err != nil {
		return dst[:0], false, fmt.Errorf("reading state: %w", err)
	}
	payload, expired, good := decodeValue(s, v, b.nowFor(s))
	if !good {
		return dst[:0], false, errCorruptValue
	}
	if expired {
		return dst[:0], false, b.expire(b.keyBuf)
	}
	return append(dst[:0], payload...), true, nil
}

// closeGetIter closes the iterator of Get, before the batch is applied.
func (b *Backend) closeGetIter() error {
	if b.getIter == nil {
		return nil
	}
	err := b.getIter.Close()
	b.getIter = nil
	if err != nil {
		return fmt.Errorf("closing the read iterator: %w", err)
	}
	return nil
}

// Put writes val at (key, ns, sub): the value of a value-like state (sub empty),
// a map entry (sub the map key), or a list element (sub an element id from Iter).
func (b *Backend) Put(s State, kg int, key, ns, sub, val []byte) error {
	if err := b.check(s, kg, key, ns); err != nil {
		return err
	}
	if err := checkSub(s, sub); err != nil {
		return err
	}
	b.keyBuf = appendKey(b.keyBuf[:0], kg, s.op, s.st, key, ns, sub)
	b.valBuf = encodeValue(b.valBuf[:0], s, val, b.nowFor(s))
	return b.set(b.keyBuf, b.valBuf)
}

// Append adds val at the end of the list at (key, ns). It costs one write: the
// element's sub-key is a per-backend sequence number, so elements iterate in
// insertion order.
func (b *Backend) Append(s State, kg int, key, ns, val []byte) error {
	if err := b.check(s, kg, key, ns); err != nil {
		return err
	}
	if s.kind != List {
		return errKindMismatch
	}
	b.seq++
	b.seqDirty = true
	var sub [8]byte
	binary.BigEndian.PutUint64(sub[:], b.seq)
	b.keyBuf = appendKey(b.keyBuf[:0], kg, s.op, s.st, key, ns, sub[:])
	b.valBuf = encodeValue(b.valBuf[:0], s, val, b.nowFor(s))
	return b.set(b.keyBuf, b.valBuf)
}

// Delete removes the entry at (key, ns, sub); with sub empty on a map or list
// state, the whole map or list (one range deletion).
func (b *Backend) Delete(s State, kg int, key, ns, sub []byte) error {
	if err := b.check(s, kg, key, ns); err != nil {
		return err
	}
	b.keyBuf = appendKey(b.keyBuf[:0], kg, s.op, s.st, key, ns, sub)
	if len(sub) > 0 || s.kind.valueLike() {
		return b.del(b.keyBuf)
	}
	end, ok := prefixEnd(b.valBuf[:0], b.keyBuf)
	b.valBuf = end
	if !ok {
		// Only a prefix of all 0xFF bytes has no successor, and the length
		// fields of a key under 4 GiB are never 0xFFFFFFFF together with an
		// all-0xFF key. Refuse rather than delete too much.
		return errSubKey
	}
	b.batchBytes += entryCost(len(b.keyBuf), len(end))
	if err := b.batch.DeleteRange(b.keyBuf, end, nil); err != nil {
		return fmt.Errorf("deleting state: %w", err)
	}
	return nil
}

// entryOverhead bounds what Pebble's memtable spends on an entry beside its key
// and value: a skiplist node of the largest height, the 8-byte trailer and
// alignment (arenaskl.MaxNodeSize is about 200 bytes).
const entryOverhead = 256

func entryCost(k, v int) uint64 { return uint64(k) + uint64(v) + entryOverhead }

func (b *Backend) set(k, v []byte) error {
	b.batchBytes += entryCost(len(k), len(v))
	if err := b.batch.Set(k, v, nil); err != nil {
		return fmt.Errorf("writing state: %w", err)
	}
	return nil
}

func (b *Backend) del(k []byte) error {
	b.batchBytes += entryCost(len(k), 0)
	if err := b.batch.Delete(k, nil); err != nil {
		return fmt.Errorf("deleting state: %w", err)
	}
	return nil
}

// expire deletes an entry found expired on read (Flink's lazy cleanup).
func (b *Backend) expire(k []byte) error {
	b.stats.expiredDeleted.Add(1)
	return b.del(k)
}

func (b *Backend) nowNanos() int64 { return b.opts.Now().UnixNano() }

// nowFor is the TTL clock's reading when s has a TTL, else 0: only TTL states
// look at it, and the clock is not free on the per-record path.
func (b *Backend) nowFor(s State) int64 {
	if s.ttl == 0 {
		return 0
	}
	return b.nowNanos()
}

// Commit applies the open batch. The task calls it once per record batch.
// Iterators must be closed first. While a snapshot waits for its capture, a
// Commit that would write more than the memtable can take without flushing
// blocks until the capture is done (it performs the capture itself if no
// upload has started it); see doc.go.
func (b *Backend) Commit() error {
	if b.closed {
		return ErrClosed
	}
	if b.openIters > 0 {
		return errOpenIterators
	}
	if b.seqDirty {
		var v [8]byte
		binary.BigEndian.PutUint64(v[:], b.seq)
		if err := b.set(sequenceKey, v[:]); err != nil {
			return err
		}
		b.seqDirty = false
	}
	if err := b.closeGetIter(); err != nil {
		return err
	}
	if b.batch.Empty() {
		return nil
	}
	b.guard(b.batchBytes)
	if err := b.db.Apply(b.batch, pebble.NoSync); err != nil {
		return fmt.Errorf("committing state: %w", err)
	}
	b.batch.Reset()
	b.batchBytes = 0
	return nil
}

// guard lets n more bytes into the database, first waiting for the capture of
// the pending snapshot if they could make Pebble flush post-barrier writes
// before it.
func (b *Backend) guard(n uint64) {
	p := b.pending
	if p == nil || b.noGuard {
		return
	}
	if p.done.Load() {
		b.pending = nil
		return
	}
	if b.sinceRotation+n <= b.guardLimit {
		b.sinceRotation += n
		return
	}
	start := time.Now()
	// An error here is the snapshot's, reported by its Upload; the task's
	// writes go on.
	if err := p.capture(nil); err != nil {
		b.opts.Logger.Warn("capturing a snapshot for a blocked commit failed", "checkpoint", p.id, "err", err)
	}
	b.stats.blocked.Add(int64(time.Since(start)))
	b.stats.blocks.Add(1)
	b.pending = nil
}

// KeyGroups is the range of key groups the backend owns.
func (b *Backend) KeyGroups() Range { return b.opts.KeyGroups }
