package weir

import (
	"errors"
	"strconv"
)

// Task is the context of the subtask running the module (ABI §4.3).
type Task struct {
	JobID          string
	JobName        string
	Step           string // the step's id in the job spec
	Subtask        int    // this subtask's index, from 0
	Parallelism    int    // the step's number of subtasks
	MaxParallelism int    // the job's number of key groups
	// Attempt is the job's execution attempt: 1 for the first run, one more
	// after every restart. Results must not depend on it for exactly-once output
	// to mean anything; it is for diagnostics and tests.
	Attempt int
}

// task caches what TaskInfo read: it does not change during an instance's life.
var (
	task       Task
	taskCached bool
)

// TaskInfo returns the subtask's context through weir.task_info, asking the host
// once and caching the answer. It may be called from OnOpen and every call after
// it (not from package initialisation, where the host may not know it yet).
// A member the host leaves out is the zero value.
func TaskInfo() (Task, error) {
	if taskCached {
		return task, nil
	}
	buf := make([]byte, 256)
	for {
		n := hostTaskInfo(buf)
		if n < 0 {
			return Task{}, errors.New("weir: reading task info: the host returned code " + strconv.Itoa(int(n)))
		}
		if int(n) <= len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, n)
	}
	t, err := parseTask(buf)
	if err != nil {
		return Task{}, err
	}
	task, taskCached = t, true
	return task, nil
}

// parseTask reads the members of ABI §4.3 from the JSON object b.
func parseTask(b []byte) (Task, error) {
	if !validJSONObject(b) {
		return Task{}, errors.New("weir: reading task info: the host sent " + strconv.Quote(string(b)) + ", not a JSON object")
	}
	var t Task
	for _, m := range [...]struct {
		name string
		s    *string
	}{{"job_id", &t.JobID}, {"job_name", &t.JobName}, {"step", &t.Step}} {
		if _, kind, ok := JSONGet(b, m.name); ok && kind != KindNull {
			v, ok := JSONString(b, m.name)
			if !ok {
				return Task{}, errors.New("weir: reading task info: " + m.name + " is not a string")
			}
			*m.s = string(v)
		}
	}
	for _, m := range [...]struct {
		name string
		n    *int
	}{{"subtask", &t.Subtask}, {"parallelism", &t.Parallelism}, {"max_parallelism", &t.MaxParallelism}, {"attempt", &t.Attempt}} {
		if _, kind, ok := JSONGet(b, m.name); ok && kind != KindNull {
			v, ok := JSONInt(b, m.name)
			if !ok {
				return Task{}, errors.New("weir: reading task info: " + m.name + " is not an integer")
			}
			*m.n = int(v)
		}
	}
	return t, nil
}
