package checkpoint

import (
	"encoding/json"
	"maps"
	"slices"
	"time"
)

// TaskSnapshot is one subtask's acknowledgement of a checkpoint: where its state
// went and what it cost. The coordinator never looks inside Handle.
type TaskSnapshot struct {
	// Task is the subtask, "vertex[i]".
	Task string `json:"task"`
	// Handle is the worker's state-backend handle as JSON, opaque here.
	Handle json.RawMessage `json:"handle,omitempty"`
	// Objects names every Object Store object Handle references, including ones
	// uploaded by earlier checkpoints and shared with this one. The coordinator
	// counts references by these names to know when an object may be deleted.
	Objects []string `json:"objects,omitempty"`
	// Positions are a source subtask's input positions (e.g. stream sequence per
	// partition), keyed so that no two source subtasks use the same key.
	Positions map[string]uint64 `json:"positions,omitempty"`
	// Size is the full state size; Uploaded the bytes this checkpoint uploaded.
	Size     int64 `json:"size"`
	Uploaded int64 `json:"uploaded"`
	// Alignment is how long the task waited for barriers on all inputs, SyncPause
	// how long processing stopped for the synchronous part of the snapshot,
	// AsyncDuration how long the asynchronous upload took.
	Alignment     time.Duration `json:"alignment"`
	SyncPause     time.Duration `json:"sync_pause"`
	AsyncDuration time.Duration `json:"async_duration"`
}

// clone deep-copies s so that the coordinator never shares slices or maps with
// its caller.
func (s TaskSnapshot) clone() TaskSnapshot {
	s.Handle = slices.Clone(s.Handle)
	s.Objects = slices.Clone(s.Objects)
	s.Positions = maps.Clone(s.Positions)
	return s
}

// Metadata is a completed checkpoint or savepoint as committed: everything a
// restore needs. It is a stored format; fields may be added, never changed.
type Metadata struct {
	JobID string `json:"job_id"`
	ID    uint64 `json:"id"`
	// Savepoint is the savepoint's id, "" for a checkpoint.
	Savepoint      string                  `json:"savepoint,omitempty"`
	Triggered      time.Time               `json:"triggered"`
	Completed      time.Time               `json:"completed"`
	MaxParallelism int                     `json:"max_parallelism,omitempty"`
	Tasks          map[string]TaskSnapshot `json:"tasks"`
}

// clone deep-copies m, so that what the coordinator hands out and what it keeps
// never share a map or slice.
func (m Metadata) clone() Metadata {
	tasks := make(map[string]TaskSnapshot, len(m.Tasks))
	for k, t := range m.Tasks {
		tasks[k] = t.clone()
	}
	m.Tasks = tasks
	return m
}

// Positions merges the source positions of every task. Source subtasks own
// disjoint keys; should two report one key anyway, the smaller position wins, so
// that a restore replays records rather than skips them.
func (m *Metadata) Positions() map[string]uint64 {
	out := map[string]uint64{}
	for _, t := range m.Tasks {
		for k, v := range t.Positions {
			if old, ok := out[k]; !ok || v < old {
				out[k] = v
			}
		}
	}
	return out
}

// Objects returns the union of the objects every task references, sorted.
func (m *Metadata) Objects() []string {
	seen := map[string]bool{}
	for _, t := range m.Tasks {
		for _, o := range t.Objects {
			seen[o] = true
		}
	}
	return slices.Sorted(maps.Keys(seen))
}

// Size is the sum of the tasks' state sizes.
func (m *Metadata) Size() int64 {
	var n int64
	for _, t := range m.Tasks {
		n += t.Size
	}
	return n
}
