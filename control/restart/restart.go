package restart

import (
	"time"

	"github.com/weir-streams/weir/internal/spec"
)

// Policy decides whether and when a failed job restarts.
type Policy interface {
	// Failure records a failure of the job at now and says whether the job
	// restarts, and after what delay. Once it has said no, the job is failed and
	// the policy is not asked again.
	Failure(now time.Time) (delay time.Duration, restart bool)
	// Running records that the job has been running since now, after its start
	// or a restart.
	Running(now time.Time)
	// Restarts is the number of restarts the policy has granted.
	Restarts() int
}

// New returns the policy of r, a restart strategy that passed spec validation
// (spec.Restart's defaults filled in). An unknown strategy restarts nothing.
func New(r spec.Restart) Policy {
	switch r.Strategy {
	case spec.RestartFixedDelay:
		return &fixedDelay{attempts: r.Attempts, delay: r.Delay}
	case spec.RestartExponentialDelay:
		return &exponentialDelay{initial: r.Initial, max: max(r.Max, r.Initial), multiplier: r.Multiplier, resetAfter: r.ResetAfter}
	case spec.RestartFailureRate:
		return &failureRate{maxFailures: r.MaxFailures, interval: r.Interval, delay: r.Delay}
	}
	return &none{}
}

// counter counts the restarts a policy granted.
type counter struct{ restarts int }

func (c *counter) Restarts() int { return c.restarts }

func (c *counter) grant(d time.Duration) (time.Duration, bool) {
	c.restarts++
	return d, true
}

type none struct{ counter }

func (*none) Failure(time.Time) (time.Duration, bool) { return 0, false }
func (*none) Running(time.Time)                       {}

type fixedDelay struct {
	counter
	attempts int
	delay    time.Duration
}

func (p *fixedDelay) Failure(time.Time) (time.Duration, bool) {
	if p.restarts >= p.attempts {
		return 0, false
	}
	return p.grant(p.delay)
}

func (p *fixedDelay) Running(time.Time) {}

type exponentialDelay struct {
	counter
	initial, max time.Duration
	multiplier   float64
	resetAfter   time.Duration

	next         time.Duration // the delay of the next restart; 0 before the first
	runningSince time.Time     // zero when the job is not running
}

func (p *exponentialDelay) Failure(now time.Time) (time.Duration, bool) {
	if p.next == 0 || !p.runningSince.IsZero() && now.Sub(p.runningSince) >= p.resetAfter {
		p.next = p.initial
	}
	p.runningSince = time.Time{}
	d := p.next
	// In floating point, so that a long run of failures saturates at max rather
	// than overflowing.
	p.next = time.Duration(min(float64(d)*p.multiplier, float64(p.max)))
	return p.grant(d)
}

func (p *exponentialDelay) Running(now time.Time) { p.runningSince = now }

type failureRate struct {
	counter
	maxFailures int
	interval    time.Duration
	delay       time.Duration
	// recent holds the times of the restarts granted within the interval before
	// the last failure, oldest first; never more than maxFailures.
	recent []time.Time
}

func (p *failureRate) Failure(now time.Time) (time.Duration, bool) {
	drop := 0
	for drop < len(p.recent) && now.Sub(p.recent[drop]) >= p.interval {
		drop++
	}
	p.recent = append(p.recent[:0], p.recent[drop:]...)
	if len(p.recent) >= p.maxFailures {
		return 0, false
	}
	p.recent = append(p.recent, now)
	return p.grant(p.delay)
}

func (p *failureRate) Running(time.Time) {}
