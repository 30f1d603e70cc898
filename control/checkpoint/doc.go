// Package checkpoint is the checkpoint coordinator of a job (DESIGN §5,
// "Checkpoints"; Flink's CheckpointCoordinator) and the store of its metadata.
//
// # The coordinator
//
// A Coordinator is a deterministic state machine: it does no I/O, starts no
// goroutine and reads no clock. The job master passes the time into every call and
// carries out the Actions it returns, in order:
//
//   - Trigger: inject barrier ID at every source subtask.
//   - Commit: write the metadata durably (Store.Commit for a checkpoint, the
//     savepoint's record for a savepoint), then call Committed or CommitFailed.
//   - Notify: tell every task the checkpoint completed; it covers every earlier
//     checkpoint too, and checkpoint Notify ids only increase.
//   - Abort: tell the tasks to drop their pending work for a checkpoint.
//   - Discard: delete a checkpoint's metadata and the listed objects.
//   - FailJob: fail the job (too many checkpoints failed in a row).
//   - Ignored: log it; an input arrived that changes nothing.
//
// The life of a checkpoint: Tick (or TriggerSavepoint) triggers it; each expected
// subtask acknowledges it once with Ack, or Decline fails it; when every subtask
// has acked, the coordinator emits Commit and waits; Committed completes it. The
// set of expected subtasks is fixed at the trigger.
//
// Invariants and rules:
//
//   - Ids increase by one per trigger, checkpoints and savepoints alike, across
//     Suspend and Resume; New never reuses an id at or below a retained one.
//   - A checkpoint completes only when every expected subtask acked and the caller
//     reported the metadata committed. It fails when its Timeout passes before the
//     last ack, when a subtask declines it, or when the commit fails. Once Commit
//     is out, neither a timeout nor a decline can end it: the caller owns it.
//   - More consecutive failed checkpoints than TolerableFailures emit FailJob and
//     stop triggering until Resume; a completed checkpoint, and Resume, reset the
//     count. Savepoint failures never count, nor do aborts (Suspend, subsumption).
//   - A completed checkpoint subsumes pending older ones (they are aborted, never
//     restorable in preference to it), except savepoints and commits under way.
//   - The last Retain completed checkpoints are kept; the oldest is discarded
//     only once a newer one is committed, so a restorable checkpoint always
//     exists after the first.
//   - Objects are reference counted by name across the retained checkpoints and
//     the acks of pending checkpoints: a Discard lists only objects that none of
//     them references. Objects of a failed or aborted checkpoint are not deleted
//     when it ends, since the same subtask may reuse them in its next snapshot;
//     Orphans finds those never reused, once no task can upload any more (the job
//     master calls it at job end, or simply deletes the job's prefix then).
//   - Savepoints are self-contained: they ignore Interval, MinPause and
//     MaxConcurrent when triggered (but count as in flight for periodic
//     triggers), never join the retained set, never cause a Discard, and are
//     committed to the savepoint store only. Their Notify carries the savepoint
//     id: tasks release the work but commit no side effects on it.
//   - Suspend (failover, stop) aborts everything still collecting acks and stops
//     triggering; Resume starts the next attempt with its subtasks and records
//     which checkpoint it restored. A checkpoint committed after Suspend is
//     retained but notifies nobody: the tasks that made it are gone.
//
// A Coordinator belongs to one job master and is not safe for concurrent use.
//
// # The store
//
// Store keeps completed checkpoints and savepoint records in NATS JetStream (see
// Store for the keys). Every first write is a compare-and-set on "does not exist",
// so two control planes can never both commit one checkpoint id.
package checkpoint
