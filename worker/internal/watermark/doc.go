// Package watermark holds the two event-time clocks of a task, as deterministic
// state machines: they start no goroutine and read no clock (the caller passes
// the time). Neither is safe for concurrent use; each belongs to the one task
// goroutine that drives it.
//
// A watermark W says no record with a timestamp at or below W is expected.
// Timestamps and watermarks are int64 milliseconds since the Unix epoch; Min is
// the watermark before any, Max the end of event time. A Status pairs a
// watermark with idleness: an idle input holds nothing back and sends nothing.
//
// Generator is a source task's watermark over its readers (one per stream
// partition it owns):
//
//   - A reader's watermark is the largest timestamp it handed over (Observe),
//     less the bound of out-of-orderness and 1 ms (Flink's
//     BoundedOutOfOrdernessWatermarks; a bound of 0 is the monotonous
//     strategy, a negative one counts as 0). A reader that has handed nothing
//     over is at Min. The subtraction saturates at Min.
//   - With an idle timeout, a reader that hands nothing over for that long
//     (counted from its last Observe, or from NewGenerator) is idle and no
//     longer holds the task back; its next Observe makes it active again.
//   - Tick's watermark is the minimum over the active readers, and never goes
//     backwards: a reader back from idleness behind it does not lower it. When
//     every reader is idle, or there is none, the status is idle and keeps its
//     watermark. Tick reports a change only when the watermark rose or the
//     idleness flipped; only then does the caller send the status.
//   - With the punctuated strategy, a reader's watermark is instead the
//     largest punctuation its records carried (Punctuate); Observe still
//     marks it active.
//
// Tracker is an input task's clock over its input channels (Flink's
// StatusWatermarkValve):
//
//   - Every channel starts active at Min, aligned; the output is {Min, false}.
//   - A channel's watermark only rises: a lower one is ignored. A watermark
//     also makes an idle channel active.
//   - An idle channel is out of the minimum. A channel that becomes active
//     again is unaligned if its watermark is behind the output, and joins the
//     minimum only once its watermark reaches the output.
//   - The output watermark is the minimum over the active aligned channels,
//     and is reported (changed) only when it rises. With every channel idle
//     the output is idle, once; a channel becoming active makes it active.
//   - When the last active channel goes idle, the output first moves up to the
//     largest watermark any channel reached, as Flink's valve does: inputs that
//     fall quiet after their last records do not hold those records' windows
//     back.
//   - An ended channel holds nothing back: it counts as an active channel at
//     Max and ignores what follows. When all have ended the output is Max.
package watermark
