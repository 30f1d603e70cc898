// Package control is Weir's control plane: the REST API (the Dispatcher), the module
// registry, a job master per job (JobGraph to subtasks, scheduling onto slots, task
// state tracking, failure handling, progress saving) and the slot manager that
// tracks the workers.
//
// Everything that must survive a process lives in NATS JetStream (internal/meta): the
// module bytes in an Object Store by digest, module names, job records and job
// progress in a KV bucket written with compare-and-set on the entry's revision, so
// that two control processes can never both commit a change. A control plane that
// starts finds the jobs that were running and starts them again, resuming each
// source after the progress saved for it.
//
// Workers reach the control plane through api.ControlPlane, which Control implements;
// the control plane reaches them through the api.Worker each one registers. Worker
// reports are queued to the owning job master's goroutine: no callback into a worker
// happens while a report is being delivered.
package control
