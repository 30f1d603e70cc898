package checkpoint

import "time"

// Status is where a checkpoint is in its life.
type Status string

// Statuses, as Flink's REST API names them.
const (
	InProgress Status = "IN_PROGRESS"
	Completed  Status = "COMPLETED"
	// Failed: timed out, declined by a task or not committed; counts towards
	// tolerable_failures unless it was a savepoint.
	Failed Status = "FAILED"
	// Aborted: dropped without fault of its own (the job was suspended, or a newer
	// checkpoint completed first); never counts as a failure.
	Aborted Status = "ABORTED"
)

// historySize is how many checkpoints and restores History keeps.
const historySize = 50

// Stats describe one checkpoint for GET /jobs/{id}/checkpoints.
type Stats struct {
	ID        uint64    `json:"id"`
	Savepoint string    `json:"savepoint,omitempty"`
	Status    Status    `json:"status"`
	Triggered time.Time `json:"triggered"`
	// Ended and Duration are zero while the checkpoint is in progress.
	Ended    time.Time     `json:"ended,omitzero"`
	Duration time.Duration `json:"duration"`
	// Size and Uploaded sum the acknowledgements received so far.
	Size     int64          `json:"size"`
	Uploaded int64          `json:"uploaded"`
	Acked    int            `json:"acked"`
	Expected int            `json:"expected"`
	Failure  string         `json:"failure,omitempty"`
	Subtasks []SubtaskStats `json:"subtasks,omitempty"`
}

// SubtaskStats is one acknowledgement's cost.
type SubtaskStats struct {
	Task      string        `json:"task"`
	Alignment time.Duration `json:"alignment"`
	Sync      time.Duration `json:"sync"`
	Async     time.Duration `json:"async"`
	Size      int64         `json:"size"`
}

// Restore records that an attempt of the job started from checkpoint Checkpoint
// (0: from nothing) at Time.
type Restore struct {
	Checkpoint uint64    `json:"checkpoint"`
	Time       time.Time `json:"time"`
}

// Counts are totals over the coordinator's life, not only what History keeps.
type Counts struct {
	InProgress int `json:"in_progress"`
	Completed  int `json:"completed"`
	Failed     int `json:"failed"`
	Aborted    int `json:"aborted"`
	Restored   int `json:"restored"`
}

// History is the coordinator's report: the last 50 checkpoints (oldest first), the
// last 50 restores and the totals.
type History struct {
	Counts      Counts    `json:"counts"`
	Checkpoints []Stats   `json:"checkpoints"`
	Restores    []Restore `json:"restores"`
}
