package control

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/weir-streams/weir/internal/spec"
)

// commitSlack is the time, beyond failure detection and the restart delay, that a
// restarted job may take to restore and re-publish the records of a completed
// checkpoint (DESIGN §5: exactly-once sinks).
const commitSlack = 30 * time.Second

// longestRestartDelay is the longest wait the job's restart strategy can put
// between a failure and the next attempt.
func longestRestartDelay(r spec.Restart) time.Duration {
	switch r.Strategy {
	case spec.RestartFixedDelay, spec.RestartFailureRate:
		return r.Delay
	case spec.RestartExponentialDelay:
		return r.Max
	}
	return 0
}

// checkExactlyOnceSinks refuses a job whose exactly-once sink writes to a stream
// whose duplicate window is too short: a completed checkpoint's records may be
// published again after a failure, up to heartbeat timeout + the longest restart
// delay + commitSlack later, and only the stream's de-duplication keeps that
// second publish from adding duplicates.
func (c *Control) checkExactlyOnceSinks(ctx context.Context, job *spec.Job) error {
	js, err := jetstream.New(c.nc)
	if err != nil {
		return fmt.Errorf("opening JetStream: %w", err)
	}
	need := c.opts.HeartbeatTimeout + longestRestartDelay(job.Restart) + commitSlack
	for i, s := range job.Steps {
		if s.Sink == nil || s.Sink.Delivery != spec.DeliveryExactlyOnce {
			continue
		}
		field := fmt.Sprintf("pipeline[%d].sink.delivery", i)
		name, err := js.StreamNameBySubject(ctx, s.Sink.Subject)
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			return invalid(field, s.Line, s.Column, "sink subject %q is not captured by any stream: create a stream whose subjects include it", s.Sink.Subject)
		}
		if err != nil {
			return fmt.Errorf("looking up the stream of sink subject %q: %w", s.Sink.Subject, err)
		}
		st, err := js.Stream(ctx, name)
		if err != nil {
			return fmt.Errorf("reading stream %s: %w", name, err)
		}
		if have := st.CachedInfo().Config.Duplicates; have < need {
			return invalid(field, s.Line, s.Column,
				"exactly_once needs stream %s to de-duplicate for at least %s (heartbeat timeout %s + longest restart delay %s + %s to restore and re-publish), but its duplicate_window is %s: raise it, or use delivery at_least_once",
				name, need, c.opts.HeartbeatTimeout, longestRestartDelay(job.Restart), commitSlack, have)
		}
	}
	return nil
}
