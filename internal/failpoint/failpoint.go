// Package failpoint injects failures at named places of the runtime, for the
// fault-tolerance tests: the UDF call, the synchronous part of a snapshot, its
// upload, and the control plane between committing a checkpoint and notifying the
// tasks of it.
//
// Failpoints are set with the environment variable WEIR_FAILPOINTS, a comma
// separated list of name@attempt: the failpoint name fires in execution attempt
// attempt of every job, once per process, and only after that attempt has
// completed two checkpoints (so that the attempt made progress and the restore
// after it has something to restore).
// An unset variable costs one boolean test per check. This is for tests only:
// never set it in production.
package failpoint

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
)

// Names of the failpoints.
const (
	UDF          = "udf"          // a task's UDF call, before it runs
	SnapshotSync = "snapshot"     // the synchronous part of a task's snapshot
	Upload       = "upload"       // a task's snapshot upload
	AfterCommit  = "after-commit" // the control plane, after a checkpoint's commit and before its notification
)

var (
	once   sync.Once
	armed  map[string]uint64 // name -> attempt
	mu     sync.Mutex
	fired  = map[string]bool{}
	active bool
)

func load() {
	armed = map[string]uint64{}
	for _, f := range strings.Split(os.Getenv("WEIR_FAILPOINTS"), ",") {
		name, at, ok := strings.Cut(strings.TrimSpace(f), "@")
		if !ok {
			continue
		}
		n, err := strconv.ParseUint(at, 10, 64)
		if err != nil {
			continue
		}
		armed[name] = n
	}
	active = len(armed) > 0
}

// minCompleted is how many checkpoints an attempt completes before a failpoint
// fires in it.
const minCompleted = 2

// Error is the failure a failpoint injects.
type Error struct {
	Name    string
	Attempt uint64
}

func (e *Error) Error() string {
	return fmt.Sprintf("failpoint %s fired in attempt %d", e.Name, e.Attempt)
}

// Check returns an *Error the first time failpoint name is reached in attempt
// once completed checkpoints of that attempt are known complete, and nil
// otherwise.
func Check(name string, attempt uint64, completed int64) error {
	once.Do(load)
	if !active || completed < minCompleted {
		return nil
	}
	if at, ok := armed[name]; !ok || at != attempt {
		return nil
	}
	mu.Lock()
	defer mu.Unlock()
	if fired[name] {
		return nil
	}
	fired[name] = true
	return &Error{Name: name, Attempt: attempt}
}
