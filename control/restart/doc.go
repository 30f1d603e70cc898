// Package restart implements the restart strategies of a job (DESIGN §5,
// "Failover"; the job spec's restart key): after each failure of a job, whether
// the job restarts and how long the job master waits first.
//
// A Policy is a deterministic state machine with no I/O and no clock of its own:
// the job master passes the time of each event, so scripted scenarios
// (testdata/*.script, checked against *.golden; `go test -rewrite` rewrites them)
// pin its behaviour down exactly.
//
// The strategies, after Flink's:
//
//   - none: no failure is restarted; the job fails.
//   - fixed_delay {attempts, delay}: the first attempts failures of the job's life
//     are restarted after delay each; the next one fails the job.
//   - exponential_delay {initial, max, multiplier, reset_after}: every failure is
//     restarted; the first after initial, each next one after the previous delay
//     times multiplier, at most max. Once the job has been running without a
//     failure for reset_after (since the last Running call), the next delay is
//     initial again. Flink's optional jitter is left out, so delays are exact.
//   - failure_rate {max_failures, interval, delay}: a failure is restarted after
//     delay unless max_failures restarts already happened within the interval
//     before it (a restart at time t counts for a failure at now while
//     now - t < interval); then it fails the job.
//
// The job master calls Failure for each failure of the job (a task failure or a
// lost worker, counted once however many tasks it takes down) and Running when
// the restarted job runs again (all its tasks RUNNING). A Policy belongs to one
// job master: it is not safe for concurrent use.
package restart
