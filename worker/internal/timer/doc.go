// Package timer is the timer service of one operator of one subtask: event-time
// and processing-time timers per key and namespace, as Flink's
// InternalTimerService keeps them.
//
// A timer is (domain, time, key group, key, namespace); registering one that
// exists changes nothing. Timers live in the subtask's state backend (a map
// state per domain, in the key group of their key), so they are part of every
// checkpoint and savepoint and move with their key groups when a job is
// rescaled. An in-memory heap over them orders firing; New loads it from the
// backend, which after a restore holds the restored timers.
//
// Pop hands timers out in (time, key group, key, namespace) order, which makes
// firing deterministic. The service is owned by one goroutine (the task's) and
// is not safe for concurrent use; it reads no clock: the caller passes the time
// each domain has reached.
package timer
