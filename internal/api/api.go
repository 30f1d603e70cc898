package api

import (
	"context"
	"encoding/json"
	"time"

	"github.com/weir-streams/weir/internal/jobgraph"
)

// ControlPlane is the service workers call (gRPC: service Control).
type ControlPlane interface {
	// RegisterWorker announces a worker and its slots; the worker is then addressable
	// through the Worker it passes.
	RegisterWorker(ctx context.Context, req RegisterWorker, w Worker) error
	// UnregisterWorker says a worker is shutting down; its tasks are lost.
	UnregisterWorker(ctx context.Context, workerID string) error
	// ReportTaskState reports a subtask's state transition.
	ReportTaskState(ctx context.Context, report TaskState) error
	// ReportProgress reports how far a sink subtask has durably written each source.
	ReportProgress(ctx context.Context, report Progress) error
	// Heartbeat proves the worker alive and carries its task metrics.
	Heartbeat(ctx context.Context, hb Heartbeat) error
	// AckCheckpoint acknowledges (or declines) a checkpoint for one subtask.
	AckCheckpoint(ctx context.Context, ack CheckpointAck) error
}

// Worker is the service the control plane calls (gRPC: service Worker).
type Worker interface {
	// DeployTask starts a subtask; it returns once the task is accepted.
	DeployTask(ctx context.Context, desc jobgraph.TaskDescriptor) error
	// StopJob stops every subtask of one job attempt on the worker. Graceful stops
	// let sources end their streams so that every record read reaches the sinks and
	// its progress is reported; otherwise tasks are canceled at once.
	StopJob(ctx context.Context, jobID string, attempt uint64, graceful bool) error
	// Checkpoint hands a checkpoint event to the worker's subtasks of one job
	// attempt: a trigger reaches its source subtasks, a completion or an abort
	// every subtask.
	Checkpoint(ctx context.Context, ev CheckpointEvent) error
}

// Checkpoint event kinds.
const (
	CheckpointTrigger  = "trigger"
	CheckpointComplete = "complete"
	CheckpointAbort    = "abort"
)

// CheckpointEvent is a checkpoint's trigger, completion or abort (DESIGN §5).
type CheckpointEvent struct {
	JobID   string `json:"job_id"`
	Attempt uint64 `json:"attempt"`
	ID      uint64 `json:"id"`
	Kind    string `json:"kind"`
	// Timestamp is when the coordinator triggered the checkpoint.
	Timestamp time.Time `json:"timestamp"`
	// Savepoint asks for a self-contained snapshot, its files under
	// jobgraph.SavepointPrefix(JobID, ID).
	Savepoint bool `json:"savepoint,omitempty"`
	// Stop marks a stop-with-savepoint: on the trigger the sources stop reading
	// after the barrier; on completion they end, and exactly-once sinks commit
	// (a plain savepoint's completion commits nothing).
	Stop bool `json:"stop,omitempty"`
	// Drain, with Stop, makes the sources advance event time to its end (a
	// watermark of math.MaxInt64) after their last record and before the
	// barrier, so that every open window fires within the savepoint.
	Drain bool `json:"drain,omitempty"`
}

// CheckpointAck is one subtask's part of a checkpoint: its state handle and
// figures, or the reason it declined.
type CheckpointAck struct {
	Task jobgraph.TaskID `json:"task"`
	ID   uint64          `json:"id"`
	// Declined, when not empty, is why the subtask could not take its snapshot;
	// the checkpoint is then aborted.
	Declined string `json:"declined,omitempty"`
	// Handle is the subtask's state snapshot in the state backend's format; the
	// control plane stores it and hands it back on restore without reading it.
	Handle json.RawMessage `json:"handle,omitempty"`
	// Objects names every Object Store object Handle references.
	Objects []string `json:"objects,omitempty"`
	// Positions are the source positions of a source subtask at the barrier.
	Positions map[string]uint64 `json:"positions,omitempty"`
	// Size is the state's size in bytes; Uploaded what this checkpoint uploaded.
	Size     int64 `json:"size"`
	Uploaded int64 `json:"uploaded"`
	// Alignment is the time from the first barrier to the last on the subtask's
	// inputs; SyncPause the time the subtask stopped processing to snapshot;
	// Async the time its upload took.
	Alignment time.Duration `json:"alignment"`
	SyncPause time.Duration `json:"sync_pause"`
	Async     time.Duration `json:"async"`
}

// ProtocolVersion names the control↔worker protocol; a control plane refuses
// workers that speak another.
const ProtocolVersion = "weir/1"

// RegisterWorker is a worker's registration.
type RegisterWorker struct {
	WorkerID string `json:"worker_id"`
	Slots    int    `json:"slots"`
	Address  string `json:"address,omitempty"`
}

// Task execution states (DESIGN §2).
const (
	TaskCreated   = "CREATED"
	TaskDeploying = "DEPLOYING"
	TaskRunning   = "RUNNING"
	TaskFinished  = "FINISHED"
	TaskCanceled  = "CANCELED"
	TaskFailed    = "FAILED"
)

// TaskState is a subtask's state transition.
type TaskState struct {
	Task     jobgraph.TaskID `json:"task"`
	WorkerID string          `json:"worker_id"`
	State    string          `json:"state"`
	// Failure describes why a task FAILED.
	Failure *Failure `json:"failure,omitempty"`
}

// Failure is the cause of a task failure, as the exceptions API shows it.
type Failure struct {
	Time    time.Time `json:"time"`
	Task    string    `json:"task"`
	Kind    string    `json:"kind"`
	Message string    `json:"message"`
	Stack   string    `json:"stack,omitempty"`
	// Checkpoint is the checkpoint a failure of kind "restore_corrupt" could not
	// restore.
	Checkpoint uint64 `json:"checkpoint,omitempty"`
}

// FailureRestoreCorrupt is the kind of a failure to restore a checkpoint whose
// files are missing or corrupt: the job master falls back to an older one.
const FailureRestoreCorrupt = "restore_corrupt"

// Progress says that every record of the named sources up to the given stream
// sequences has been durably written by one sink subtask.
type Progress struct {
	Task      jobgraph.TaskID   `json:"task"`
	Positions map[string]uint64 `json:"positions"`
}

// Heartbeat carries a worker's liveness and metrics.
type Heartbeat struct {
	WorkerID string        `json:"worker_id"`
	Tasks    []TaskMetrics `json:"tasks"`
	// MemoryBytes is the worker's Go heap in use plus its Wasm instances' memory.
	MemoryBytes uint64 `json:"memory_bytes"`
}

// TaskMetrics are one subtask's counters.
type TaskMetrics struct {
	Task       jobgraph.TaskID `json:"task"`
	RecordsIn  uint64          `json:"records_in"`
	RecordsOut uint64          `json:"records_out"`
	// BytesIn and BytesOut count record bytes (framing included) read from the
	// task's inputs and written to its outputs.
	BytesIn  uint64 `json:"bytes_in"`
	BytesOut uint64 `json:"bytes_out"`
	// ExchangeBytesOut counts the bytes this subtask sent to other processes over NATS.
	ExchangeBytesOut uint64 `json:"exchange_bytes_out"`
	// BuffersInFlight is how many buffers the task has sent that receivers have not
	// taken yet.
	BuffersInFlight int `json:"buffers_in_flight"`
	// Backpressure is the share of the last heartbeat interval (0..1) the task spent
	// waiting for downstream capacity; Busy the share it spent processing.
	Backpressure float64 `json:"backpressure"`
	Busy         float64 `json:"busy"`
	// CreditViolations counts buffers queued beyond granted credit (always 0 unless
	// flow control is broken).
	CreditViolations uint64 `json:"credit_violations"`
	// InputQueued is how many buffers from other processes wait in the task's input
	// gates, and InputCredit how many such buffers the gates have room for (queued
	// plus outstanding credit): flow control keeps InputQueued ≤ InputCredit.
	InputQueued int `json:"input_queued"`
	InputCredit int `json:"input_credit"`
	// WasmCallNanos is the time the task's UDF instances have spent in guest calls;
	// WasmMemoryBytes the size of their linear memories.
	WasmCallNanos   uint64 `json:"wasm_call_nanos"`
	WasmMemoryBytes uint64 `json:"wasm_memory_bytes"`
	// KeyedNull counts records a key_by by JSON field keyed null because the
	// field was missing or unusable.
	KeyedNull uint64 `json:"keyed_null"`
	// HasWatermark says the task follows event time: Watermark is then its
	// event-time clock (ms) and WatermarkIdle whether all its inputs are idle.
	HasWatermark  bool  `json:"has_watermark,omitempty"`
	Watermark     int64 `json:"watermark,omitempty"`
	WatermarkIdle bool  `json:"watermark_idle,omitempty"`
	// LateRecords counts records that came after their windows' allowed
	// lateness (sent to the late side output, or dropped).
	LateRecords uint64 `json:"late_records,omitempty"`
	// InvalidTimestamps counts records dropped for want of a usable timestamp.
	InvalidTimestamps uint64 `json:"invalid_timestamps,omitempty"`
}
