// Package join is the keyed two-input join operator: Flink's interval join
// (KeyedStream.intervalJoin) with inner and outer kinds, and the windowed join
// (DataStream.join().where().equalTo().window()) over tumbling, sliding and
// session event-time windows.
//
// # Contract
//
// The worker feeds an Operator with batches of its keyed inputs (Process with
// input 0, the left side, or 1, the right side) and with watermark advances
// (Advance, the minimum over both inputs). Records are joined by key bytes and
// ordered by their event timestamps (ms); a record without a timestamp is
// counted (Stats.NoTimestamp) and dropped. The operator is a deterministic
// state machine: it reads no clock, starts no goroutine and is owned by the
// task's goroutine; only Stats may be read from other goroutines. Batches it
// returns belong to it and are valid until its next call.
//
// Output records carry the join key, no headers and the payload
// {"left":L,"right":R}: a side's payload is embedded as is when it is valid
// JSON and as a JSON string otherwise, and is null for the missing side of an
// outer row.
//
// # Interval join
//
// Left a and right b of one key join when a.ts+Lower <= b.ts <= a.ts+Upper;
// the pair's timestamp is max(a.ts, b.ts). An arriving element joins the
// buffered elements of the other side (in their arrival order), then is
// buffered. An element whose timestamp is below the watermark is late: it is
// counted (Stats.Late) and dropped, as Flink drops it. So an element with
// ts == watermark is still joined, and the buffered elements it could match
// must still be there: a left element is removed once the watermark passes
// a.ts+Upper (watermark >= a.ts+Upper+1), a right one once it passes
// b.ts-Lower. An element that can match nothing in the future already on
// arrival (a negative Upper, say) joins the buffer and is not kept. With an
// outer kind, an element of the outer side that matched nothing is emitted
// with null for the other side when it is removed, with its own timestamp.
//
// Removal runs on event-time timers (package timer), one per key and cleanup
// bucket: an element's removal time is rounded up to a multiple of
// IntervalConfig.CleanupBucket, so a key holds one timer per bucket rather
// than one per element. Outer rows come out when their bucket's timer fires,
// at most CleanupBucket-1 ms of watermark after the earliest time they could.
//
// # Window join
//
// Both inputs are assigned to the key's event-time windows; when the watermark
// reaches a window's end-1, every left×right pair of the window is emitted
// (lefts in arrival order, then rights in arrival order), with timestamp
// end-1, and the window is cleared. An element is late, counted and dropped,
// when every window it belongs to has fired. Sliding windows keep each element
// once, until its last window fires; a key holds one pending firing timer, and
// each firing registers the next. Session windows are shared by both inputs
// and merge as in package window (windows that overlap or touch become one).
//
// # State
//
// Every key's buffered elements (and, for session windows, its sessions and,
// for sliding ones, its next firing) are one value of the subtask's state
// backend. A write-back cache holds the keys in use, bounded by CacheKeys;
// Flush writes what changed, and the worker calls it before every snapshot.
// Timers live in the backend too.
//
// Flush also stores the watermark in every key group the backend owns. A new
// Operator reads it back, so after a restore its Watermark is the restored one
// and lateness is judged per key group against what that key group had seen;
// this keeps a restore exact even when the worker re-establishes a lower
// watermark from its inputs, or none yet (math.MinInt64), and after
// rescaling, when key groups come from subtasks whose watermarks differed.
// Timers at or before the stored watermark had fired before the snapshot, so
// restored elements are exactly those still live.
package join
