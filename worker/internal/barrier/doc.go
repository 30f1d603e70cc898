// Package barrier aligns checkpoint barriers across the input channels of a
// subtask (DESIGN §5, asynchronous barrier snapshots).
//
// An Aligner is a plain state machine: the task tells it which barrier or end of
// partition arrived on which channel, and it answers what to do — hold a channel
// back, take the snapshot and forward the barrier, or abort a checkpoint that a
// newer barrier overtook. It does no I/O, keeps no clock and is owned by the task
// goroutine.
//
// In exactly-once mode a channel that delivered barrier n is blocked: the task
// keeps its later buffers aside until every open channel has delivered n, so the
// snapshot reflects every record before the barrier on every channel and none
// after it. In at-least-once mode nothing is blocked; the snapshot is taken when
// the last channel delivers the barrier, and may include records after it, which
// are processed again after a restore.
//
// A channel that ended counts as having delivered every later barrier. A barrier
// older than the one being aligned, or than the last snapshot, is stale and
// ignored; a newer one aborts the checkpoint being aligned (it can no longer
// complete on this subtask) and starts aligning the new one.
package barrier
