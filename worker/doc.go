// Package worker is Weir's TaskManager: it offers slots to the control plane, runs
// the subtasks deployed to it, one goroutine each, and hosts their UDFs in one
// wasmhost.Runtime shared by every subtask of the process.
//
// A subtask runs a chain of steps: it reads batches from a JetStream source or from
// its input gate, passes each batch through its chained operators by function call,
// and hands the result to a sink or to the partition writers of its output edges.
// Progress markers travel in band behind the records; a sink subtask that has
// received a marker on every input channel waits for its publishes to be acknowledged
// and then reports the marker's positions, which the control plane saves so that a
// restarted job resumes after them.
//
// The worker talks to the control plane only through api.ControlPlane and serves
// api.Worker; it never imports the control package.
package worker
