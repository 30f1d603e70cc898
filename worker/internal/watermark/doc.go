// Package watermark holds the two event-time clocks of a task, as deterministic
// state machines that read no clock (the caller passes the time):
//
//   - Generator is a source task's watermark over its readers (one per stream
//     partition it owns). Each reader's watermark follows the largest timestamp
//     it handed over, less the bound of out-of-orderness and 1 ms (Flink's
//     BoundedOutOfOrdernessWatermarks; a bound of 0 is the monotonous strategy).
//     A reader that hands nothing over for the idle timeout is idle and stops
//     holding the task back; its next record makes it active again.
//   - Tracker is an input task's clock over its input channels (Flink's
//     StatusWatermarkValve): the minimum over the active channels' watermarks.
//
// A watermark W says no record with a timestamp at or below W is expected. Both
// clocks only move forward: a reader or channel that becomes active again behind
// the clock takes part in the minimum only once it has caught up. When every
// input is idle the status is idle. When a tracker's last active channel goes idle,
// its clock first moves up to the largest watermark any channel reached (as Flink's
// valve does), so that inputs that fall quiet after their last records do not hold
// those records' windows back.
package watermark
