package checkpoint

import "time"

// Action is something the coordinator asks its caller to do. The concrete types
// are Trigger, Commit, Notify, Abort, Discard, FailJob and Ignored; the caller
// carries them out in the order returned.
type Action interface{ action() }

// Trigger asks the caller to inject barrier ID at every source subtask.
type Trigger struct {
	ID uint64
	// Savepoint is the savepoint's id, "" for a periodic checkpoint.
	Savepoint string
	Timestamp time.Time
}

// Commit asks the caller to write Meta durably: a checkpoint to the checkpoint
// store (Store.Commit), a savepoint (Meta.Savepoint set) to its savepoint record.
// The caller then reports the outcome with Committed or CommitFailed.
type Commit struct {
	Meta Metadata
}

// Notify tells every task of the current attempt that checkpoint ID completed and
// subsumes every earlier one, so that, e.g., exactly-once sinks publish what they
// held for it and for any earlier checkpoint that failed. For a savepoint Savepoint is set: tasks release its pending work but
// commit no side effects (as Flink since FLIP-193) and do not base later
// incremental snapshots on it, because recovery never restores a savepoint.
type Notify struct {
	ID        uint64
	Savepoint string
}

// Abort tells the tasks to drop their pending work for checkpoint ID. Objects they
// already uploaded for it stay: a later snapshot of the same task may reuse them.
type Abort struct {
	ID     uint64
	Reason string
}

// Discard asks the caller to delete checkpoint Checkpoint's metadata from the
// store and the listed objects, which nothing retained or pending references any
// more. Objects may be empty: everything the checkpoint used is still shared.
type Discard struct {
	Checkpoint uint64
	Objects    []string
}

// FailJob asks the caller to fail the job: too many checkpoints failed in a row.
type FailJob struct {
	Reason string
}

// Ignored reports an input that changed nothing (an ack for an unknown, finished
// or already acknowledged checkpoint, say); the caller logs it and does nothing
// else.
type Ignored struct {
	// Input names the call: "ack", "decline", "committed" or "commit failed".
	Input  string
	ID     uint64
	Task   string
	Reason string
}

func (Trigger) action() {}
func (Commit) action()  {}
func (Notify) action()  {}
func (Abort) action()   {}
func (Discard) action() {}
func (FailJob) action() {}
func (Ignored) action() {}
