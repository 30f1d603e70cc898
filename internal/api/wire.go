package api

import (
	"time"

	"github.com/weir-streams/weir/internal/api/pb"
	"github.com/weir-streams/weir/internal/jobgraph"
)

// This file converts between the Go types of this package and their gRPC messages
// (package pb), for the control plane's server and the worker's client.

// TaskIDToPB converts a task id to its message.
func TaskIDToPB(t jobgraph.TaskID) *pb.TaskID {
	return &pb.TaskID{JobId: t.JobID, Attempt: t.Attempt, Vertex: t.Vertex, Subtask: int32(t.Subtask)}
}

// TaskIDFromPB converts a task id message.
func TaskIDFromPB(t *pb.TaskID) jobgraph.TaskID {
	if t == nil {
		return jobgraph.TaskID{}
	}
	return jobgraph.TaskID{JobID: t.JobId, Attempt: t.Attempt, Vertex: t.Vertex, Subtask: int(t.Subtask)}
}

// TaskStateToPB converts a task state report to its message.
func TaskStateToPB(s TaskState) *pb.TaskState {
	out := &pb.TaskState{Task: TaskIDToPB(s.Task), State: s.State}
	if f := s.Failure; f != nil {
		out.Failure = &pb.Failure{TimeUnixMs: f.Time.UnixMilli(), Task: f.Task, Kind: f.Kind, Message: f.Message, Stack: f.Stack, Checkpoint: f.Checkpoint}
	}
	return out
}

// TaskStateFromPB converts a task state message from the worker workerID.
func TaskStateFromPB(workerID string, s *pb.TaskState) TaskState {
	out := TaskState{Task: TaskIDFromPB(s.GetTask()), WorkerID: workerID, State: s.GetState()}
	if f := s.GetFailure(); f != nil {
		out.Failure = &Failure{Time: time.UnixMilli(f.TimeUnixMs).UTC(), Task: f.Task, Kind: f.Kind, Message: f.Message, Stack: f.Stack, Checkpoint: f.Checkpoint}
	}
	return out
}

// ProgressToPB converts a progress report to its message.
func ProgressToPB(p Progress) *pb.Progress {
	return &pb.Progress{Task: TaskIDToPB(p.Task), Positions: p.Positions}
}

// ProgressFromPB converts a progress message.
func ProgressFromPB(p *pb.Progress) Progress {
	return Progress{Task: TaskIDFromPB(p.GetTask()), Positions: p.GetPositions()}
}

// HeartbeatToPB converts a heartbeat to its message.
func HeartbeatToPB(hb Heartbeat) *pb.Heartbeat {
	out := &pb.Heartbeat{MemoryBytes: hb.MemoryBytes, Tasks: make([]*pb.TaskMetrics, len(hb.Tasks))}
	for i, t := range hb.Tasks {
		out.Tasks[i] = &pb.TaskMetrics{
			Task: TaskIDToPB(t.Task), RecordsIn: t.RecordsIn, RecordsOut: t.RecordsOut,
			BytesIn: t.BytesIn, BytesOut: t.BytesOut, ExchangeBytesOut: t.ExchangeBytesOut,
			BuffersInFlight: int32(t.BuffersInFlight), Backpressure: t.Backpressure, Busy: t.Busy,
			CreditViolations: t.CreditViolations,
			InputQueued:      int32(t.InputQueued), InputCredit: int32(t.InputCredit),
			WasmCallNanos: t.WasmCallNanos, WasmMemoryBytes: t.WasmMemoryBytes,
			KeyedNull: t.KeyedNull, HasWatermark: t.HasWatermark, Watermark: t.Watermark, WatermarkIdle: t.WatermarkIdle,
			LateRecords: t.LateRecords, InvalidTimestamps: t.InvalidTimestamps,
		}
	}
	return out
}

// HeartbeatFromPB converts a heartbeat message from the worker workerID.
func HeartbeatFromPB(workerID string, hb *pb.Heartbeat) Heartbeat {
	out := Heartbeat{WorkerID: workerID, MemoryBytes: hb.GetMemoryBytes(), Tasks: make([]TaskMetrics, len(hb.GetTasks()))}
	for i, t := range hb.GetTasks() {
		out.Tasks[i] = TaskMetrics{
			Task: TaskIDFromPB(t.Task), RecordsIn: t.RecordsIn, RecordsOut: t.RecordsOut,
			BytesIn: t.BytesIn, BytesOut: t.BytesOut, ExchangeBytesOut: t.ExchangeBytesOut,
			BuffersInFlight: int(t.BuffersInFlight), Backpressure: t.Backpressure, Busy: t.Busy,
			CreditViolations: t.CreditViolations,
			InputQueued:      int(t.InputQueued), InputCredit: int(t.InputCredit),
			WasmCallNanos: t.WasmCallNanos, WasmMemoryBytes: t.WasmMemoryBytes,
			KeyedNull: t.KeyedNull, HasWatermark: t.HasWatermark, Watermark: t.Watermark, WatermarkIdle: t.WatermarkIdle,
			LateRecords: t.LateRecords, InvalidTimestamps: t.InvalidTimestamps,
		}
	}
	return out
}

// CheckpointEventToPB converts a checkpoint event to its message.
func CheckpointEventToPB(ev CheckpointEvent) *pb.CheckpointEvent {
	return &pb.CheckpointEvent{JobId: ev.JobID, Attempt: ev.Attempt, CheckpointId: ev.ID, Kind: ev.Kind,
		TimestampUnixMs: ev.Timestamp.UnixMilli(), Savepoint: ev.Savepoint, Stop: ev.Stop, Drain: ev.Drain}
}

// CheckpointEventFromPB converts a checkpoint event message.
func CheckpointEventFromPB(m *pb.CheckpointEvent) CheckpointEvent {
	return CheckpointEvent{JobID: m.GetJobId(), Attempt: m.GetAttempt(), ID: m.GetCheckpointId(), Kind: m.GetKind(),
		Timestamp: time.UnixMilli(m.GetTimestampUnixMs()).UTC(), Savepoint: m.GetSavepoint(), Stop: m.GetStop(), Drain: m.GetDrain()}
}
