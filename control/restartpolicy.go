package control

import (
	"github.com/weir-streams/weir/control/restart"
	"github.com/weir-streams/weir/internal/spec"
)

// newRestartPolicy returns the job's restart strategy (control/restart).
func newRestartPolicy(job *spec.Job) restartPolicy {
	if job == nil {
		return restart.New(spec.Restart{})
	}
	return restart.New(job.Restart)
}
