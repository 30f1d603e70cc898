// Package window is the window operator: tumbling, sliding and session
// windows over event time or processing time, tumbling and sliding count
// windows and global windows, with allowed lateness, a side output for late
// records, triggers, evictors, and an aggregate or a window process function
// applied to each window (Flink's WindowOperator and EvictingWindowOperator).
//
// The operator is a deterministic state machine driven by these inputs:
// Process (a batch of records), Advance (a clock reaching a time: the watermark
// in event time, the wall clock in processing time), AdvanceDomain (either
// clock, for triggers of the other domain) and Flush (before a checkpoint's
// snapshot). It reads no clock itself: processing time comes from Config.Now.
// Everything it keeps is in the state backend (windows) and package timer
// (timers), so a restore from a snapshot gives the results the operator would
// have given.
//
// # Time windows with their default trigger
//
// State. Every key's windows live in one value of the subtask's state backend:
// the list of its open windows, each with its accumulator. Sliding windows are
// kept as panes (slices of gcd(size, slide)), so a record touches one pane and
// state and work grow with the slide, not with size/slide; a window's result
// merges its panes when it fires. Tumbling windows are panes of one window.
// Session windows are merged as records arrive (windows that overlap or touch
// become one, so records exactly gap apart share a session). A write-back cache
// in front of the backend holds the keys in use; Flush writes what changed, and
// the worker calls it before every snapshot, so a checkpoint holds exactly the
// windows of the records before its barrier.
//
// Firing. Windows fire from timers (package timer): a window [start, end) fires
// when its clock reaches end-1, and its result is a record keyed like its input,
// with timestamp end-1. A sliding window's pane registers the first window it
// belongs to; each firing registers the key's next window while panes remain,
// so a key holds one pending firing at a time. With allowed lateness L, a window's
// state is kept until the clock reaches end-1+L; a record for a window already
// fired but within L updates it and re-emits its result once per batch. A record
// whose every window is past its lateness is late: it goes to the late side
// output when one is configured, and is counted either way.
//
// # Triggers, evictors, count and global windows
//
// Count windows (TumblingCount, SlidingCount), Global windows, and time
// windows with a Config.Trigger or a Config.Evictor take the trigger path
// (triggered.go): each window is kept whole (no panes) with its contents and
// its trigger's state (count, next continuous firing). Sessions there merge as
// on the time windows' path, and merging merges the contents, the count
// triggers' counts, the continuous triggers' next firings and the timers
// (Flink's Trigger.onMerge); a custom trigger cannot merge (the ABI has no
// merge event), so sessions take none. Count and global windows are one window
// per key, [math.MinInt64, math.MaxInt64); TumblingCount(size) is a purging
// count trigger of size, SlidingCount(size, slide) a count trigger of slide with
// a count evictor of size, Global never fires unless a trigger says so. A
// Config.Trigger or Config.Evictor replaces the window's own.
//
// Contents. A window with a built-in aggregate and no evictor keeps an
// accumulator. With an evictor, or with user functions, it keeps its elements
// and the aggregate is computed when it fires, over the elements the evictor
// leaves (a user aggregate gets all fired windows of a call in one add call).
//
// Triggers. Built-in triggers react to every record: a count trigger of 3
// fires exactly after the third record of its window, with the contents up to
// it. An event-time trigger fires at end-1 and at once for a record within the
// allowed lateness of a window past end-1; continuous triggers fire when their
// clock passes a multiple of the interval (once per Advance, however far the
// clock jumps) and, in event time, at end-1; Purging turns every fire into
// fire and purge. A custom trigger (Functions.Trigger, sdk/ABI.md §4.9) is
// called once per input batch with one ElementsAdded event per window the
// batch added to, and once per round of its fired timers; its timers are the
// window's. A timer any trigger registers at or before its clock fires in a
// later round of the same Advance, or at the end of the same Process call
// (not at the clock's next move, so that results do not depend on when that
// comes, or on a restore). Fire without contents outputs nothing. Whatever
// the trigger, a time window's state goes once its clock reaches end-1+L; count
// and global windows never end.
//
// Evictors run when a window fires, before its function, and evicted elements
// leave the window (Flink's evictBefore). A custom evictor (Functions.Evictor,
// §4.10) gets every window that fired in one Process or Advance call in one
// call; a window that fires again in the same call first has the earlier
// eviction applied, which takes another call.
//
// Results. A built-in aggregate's result is a JSON object: "key" (keyed
// windows), "window_start" and "window_end" (time windows only), and the
// aggregate's value under its name. A time window's result has timestamp end-1;
// a count or global window's has the largest timestamp of the fired contents,
// or none when no element had one.
//
// Hot path. Per record: no allocation, no lock, no user function call. Custom
// triggers, evictors and user aggregates are called per batch, per round of
// timers, or per call's fires.
package window
