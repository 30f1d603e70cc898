package jobgraph

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/weir-streams/weir/internal/spec"
)

// Partitionings of an edge (DESIGN §2), after Flink's partitioners.
const (
	// Forward sends subtask i's records to downstream subtask i (equal parallelism).
	Forward = "forward"
	// Rebalance spreads records round-robin over every downstream subtask.
	Rebalance = "rebalance"
	// Rescale spreads records round-robin over a local subset of the downstream
	// subtasks, so that each upstream subtask talks to few downstream ones.
	Rescale = "rescale"
	// Hash sends a record to the subtask owning its key's key group (DESIGN §5).
	Hash = "hash"
	// Broadcast sends every record to every downstream subtask.
	Broadcast = "broadcast"
	// Global sends every record to downstream subtask 0.
	Global = "global"
)

// JobGraph is a job after chaining: vertices run as parallel subtasks, each subtask
// one goroutine that passes batches through its chained steps by function call.
type JobGraph struct {
	Vertices []Vertex `json:"vertices"`
	Edges    []Edge   `json:"edges"`
}

// Vertex is a chain of steps with one parallelism.
type Vertex struct {
	// ID is the id of the chain's first step.
	ID          string      `json:"id"`
	Name        string      `json:"name"`
	Parallelism int         `json:"parallelism"`
	Steps       []spec.Step `json:"steps"`
}

// Edge connects the last step of one vertex to the first step of another.
type Edge struct {
	ID           int    `json:"id"`
	From         string `json:"from"`
	To           string `json:"to"`
	Partitioning string `json:"partitioning"`
	// Tag names the side output of From the edge carries; "" for its main
	// output. TagStep is the step of From's chain that declares it.
	Tag     string `json:"tag,omitempty"`
	TagStep string `json:"tag_step,omitempty"`
	// Input is which input of To's first step the edge feeds: 0, or for a
	// union, join or co_process step the index in its inputs.
	Input int `json:"input,omitempty"`
}

// Vertex returns the vertex with id, or nil.
func (g *JobGraph) Vertex(id string) *Vertex {
	for i := range g.Vertices {
		if g.Vertices[i].ID == id {
			return &g.Vertices[i]
		}
	}
	return nil
}

// MaxParallelism is the largest vertex parallelism: the slots a job needs with slot sharing.
func (g *JobGraph) MaxParallelism() int {
	n := 0
	for _, v := range g.Vertices {
		n = max(n, v.Parallelism)
	}
	return n
}

// TaskID names one subtask of one execution attempt of a job.
type TaskID struct {
	JobID   string `json:"job_id"`
	Attempt uint64 `json:"attempt"`
	Vertex  string `json:"vertex"`
	Subtask int    `json:"subtask"`
}

func (t TaskID) String() string {
	return fmt.Sprintf("%s/%d/%s[%d]", t.JobID, t.Attempt, t.Vertex, t.Subtask)
}

// TaskDescriptor is everything a worker needs to run one subtask.
type TaskDescriptor struct {
	Task TaskID `json:"task"`
	// JobName is the job's name, for the UDFs' task info.
	JobName     string `json:"job_name"`
	Parallelism int    `json:"parallelism"`
	// MaxParallelism is the job's number of key groups (DESIGN §5).
	MaxParallelism int         `json:"max_parallelism"`
	Steps          []spec.Step `json:"steps"`
	// Inputs are the edges this subtask reads, with the upstream parallelism.
	Inputs []Gate `json:"inputs,omitempty"`
	// Outputs are the edges this subtask writes, with the downstream parallelism.
	Outputs       []Gate        `json:"outputs,omitempty"`
	BufferTimeout time.Duration `json:"buffer_timeout"`
	// ResumeAfter, for a source subtask, is the stream sequence every record up to
	// which has reached the sinks (or, with checkpointing, the restored
	// checkpoint's position); the source starts after it. 0 = the spec's start.
	ResumeAfter map[string]uint64 `json:"resume_after,omitempty"`
	// Checkpointing is set when the job takes checkpoints.
	Checkpointing *Checkpointing `json:"checkpointing,omitempty"`
	// Restore is the state the subtask starts from; nil starts empty.
	Restore *Restore `json:"restore,omitempty"`
}

// Checkpointing is what a subtask needs to know of the job's checkpoints.
type Checkpointing struct {
	// ExactlyOnce aligns barriers; otherwise they are not aligned (at least once).
	ExactlyOnce bool `json:"exactly_once"`
}

// Restore names the snapshots a subtask restores its state from.
type Restore struct {
	// CheckpointID is the checkpoint (or savepoint's checkpoint) restored.
	CheckpointID uint64 `json:"checkpoint_id"`
	// Handles are the state handles, as the workers made them, of the subtasks
	// of the snapshot whose key groups overlap this subtask's, or whose operator
	// state this subtask takes over.
	Handles []json.RawMessage `json:"handles,omitempty"`
	// KeepOperatorState says, per handle, whether this subtask takes over that
	// snapshot's operator (non-keyed) state, such as an exactly-once sink's
	// records waiting for their commit.
	KeepOperatorState []bool `json:"keep_operator_state,omitempty"`
	// SinksCommitted says the snapshot's exactly-once sink records were published
	// already (the job stopped with this savepoint): they are dropped, not
	// published again.
	SinksCommitted bool `json:"sinks_committed,omitempty"`
	// Foreign says the snapshot is another job's retained checkpoint: the
	// subtask shares none of its files (its first checkpoint uploads in full),
	// so that nothing this job deletes is the other job's.
	Foreign bool `json:"foreign,omitempty"`
}

// Gate is one side of an edge as seen by a subtask.
type Gate struct {
	Edge         int    `json:"edge"`
	Peer         string `json:"peer"` // the vertex at the other end
	PeerParallel int    `json:"peer_parallelism"`
	Partitioning string `json:"partitioning"`
	// PeerWorkers names the worker of each peer subtask, by index; a peer on
	// another worker is reached over NATS. Empty means every peer is local.
	PeerWorkers []string `json:"peer_workers,omitempty"`
	// Tag names the side output the edge carries; "" for the main output;
	// TagStep is the step declaring it.
	Tag     string `json:"tag,omitempty"`
	TagStep string `json:"tag_step,omitempty"`
	// Input is which input of the reading step the edge feeds (Edge.Input).
	Input int `json:"input,omitempty"`
}

// StatePrefix starts the Object Store names of the files of a job's checkpoints.
func StatePrefix(jobID string) string { return "state/" + jobID + "/" }

// SavepointPrefix starts the Object Store names of the files of the savepoint a
// job took as checkpoint id: self-contained, apart from its checkpoints'.
func SavepointPrefix(jobID string, id uint64) string {
	return "savepoints/" + jobID + "/" + strconv.FormatUint(id, 10) + "/"
}
