// Package state is the keyed state backend of a subtask (DESIGN §5): one Pebble
// database per subtask, checkpointed incrementally to a FileStore (the NATS
// JetStream Object Store in production).
//
// # Ownership
//
// A Backend belongs to its task goroutine and is not safe for concurrent use.
// The exceptions: Stats may be read from any goroutine, and a Pending (one
// snapshot) may be uploaded or aborted from another goroutine while the task
// keeps writing.
//
// # Key layout (a permanent format: savepoints depend on it)
//
//	key group (u16 BE) | operator handle (u16 BE) | state handle (u16 BE) |
//	u32 BE len | key bytes | u32 BE len | namespace bytes | sub-key bytes
//
// The sub-key is the remainder: empty for value-like states, the map key for
// map state, an 8-byte element id for list state. Keyed state uses key groups
// below 32768; OperatorKeyGroup (0xFFFF) holds operator (non-keyed) state, with
// any key (usually nil); BroadcastKeyGroup (0xFFFD) holds broadcast state, the
// same on every subtask, of which a restore takes one copy; 0xFFFE holds the backend's metadata: the registry of
// which (operator id, state name, kind, TTL) got which handles, and the list
// sequence. The metadata is in the database so that it travels in every
// snapshot. Handles are assigned on the first Register and kept by restores.
//
// A stored value is a flags byte, the write time (Unix ns, u64 BE) when the
// state has a TTL, then the payload.
//
// # Kinds
//
// Value holds one payload per (key, namespace). Reducing and Aggregating are
// stored exactly like Value: the guest SDK reads the accumulator, combines and
// writes it back; the backend never runs guest code. Map entries iterate in
// map-key byte order. List elements get ids from one per-backend sequence,
// persisted with the metadata, so Append is a single write and elements iterate
// in insertion order; Put and Delete accept an element id from Iter.Next.
// Delete with an empty sub-key on a map or list removes all of it (one range
// deletion).
//
// # Reads and writes
//
// Writes go into one reusable indexed batch; reads (Get, Iterator) see it.
// Commit applies the batch without the WAL: durability comes from checkpoints
// plus source replay, as Flink runs RocksDB. Options.Dir is wiped on Open and
// Restore for the same reason. Iterators must be closed before Commit.
//
// # TTL
//
// Flink's semantics: an entry's time is set when it is created or written (not
// when read), and an expired entry is never returned. Reads delete the expired
// entries they meet; CleanupExpired scans a bounded number of entries from a
// cursor and deletes the expired ones, because Pebble has no compaction filter.
//
// # Snapshots and the post-barrier invariant
//
// A snapshot must hold exactly the writes committed before its barrier. Snapshot
// (the synchronous part) commits the open batch and rotates the memtable; the
// rotated memtable is flushed in the background. Upload (the asynchronous part)
// waits for that flush, then captures the database's files with Pebble's
// Checkpoint (hard links), which sees whatever is in sstables at that moment.
// The post-barrier writes are in the new memtable, and they stay out of the
// capture as long as that memtable is neither full nor queued for a flush. So,
// while a snapshot is not captured, the backend counts the bytes committed since
// the rotation (key + value + 256 bytes of memtable overhead per entry, more
// than Pebble's own accounting), and a Commit that would pass half of the new
// memtable's measured capacity (at most MemTableSize/2; Pebble grows memtables
// from 256 KiB) blocks until the capture is done, performing it itself if no
// Upload has. The time blocked is Stats.CommitBlocked. Captures happen in
// barrier order: Snapshot first finishes the capture of the previous snapshot
// if needed. Upload removes the captured files when it returns; Abort releases
// them for a declined checkpoint. A Pending is spent by one Upload, successful
// or not, or by Abort; checkpoint ids passed to Snapshot must increase.
//
// The synchronous part does no I/O. It can still wait when Pebble stalls
// writes (memtables queued faster than they flush, or too many L0 files): then
// any commit would wait as well. The backend lets four memtables queue (Pebble's
// default is two) so that a barrier right after a burst of writes does not wait
// for the previous flush.
//
// # Incremental uploads
//
// sstables are immutable, so an sstable that this database lineage already
// uploaded (and the store still has) is referenced by later snapshots, not
// uploaded again; the MANIFEST, OPTIONS and marker files go with every snapshot.
// Object names carry a random instance id chosen at Open and Restore, so two
// databases (or two attempts restored from one checkpoint) never collide under
// one prefix. A Full upload (a savepoint) shares nothing. Every Handle lists all
// its objects (Objects) for the control plane's reference counting. Pebble's
// compactions rewrite files, and a rewritten file is new: how much an
// incremental checkpoint uploads depends on them, not only on the changes.
// Read-triggered compactions are off for that reason.
//
// # Restore
//
// Restore verifies every file's size and SHA-256 before opening anything
// (ErrCorrupt otherwise). The same key-group range reopens the snapshot as the
// database, still sharing its files; any other shape (rescaling) copies whole
// key-group ranges into a fresh database, remapping handles.
package state
