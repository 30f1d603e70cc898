//! Two-input functions, `co_process` (ABI §4.7): Flink's `KeyedCoProcessFunction`
//! and, with a broadcast second input, its `KeyedBroadcastProcessFunction`.

use crate::state::Context;
use crate::{Record, Result, Timer};

/// A co_process function: records of the first input come to
/// [`CoProcess::process1`] (`process` calls), records of the second to
/// [`CoProcess::process2`] (`process2` calls), in the order their batches arrive.
/// Each gets a [`Context`] like a process function's: outputs that derive from
/// the record (main and declared side outputs), state and timers.
///
/// When both inputs are keyed, both handlers reach the keyed state and timers of
/// the record's key (the two inputs share one keyed state). When the second input
/// is broadcast, `process2` gets records without a key: there the keyed state and
/// timer calls fail (the host answers INVALID), and [`crate::BroadcastState`] is
/// writable, which it is nowhere else.
///
/// A pair of closures `(on_first, on_second)`, each `FnMut(&Record, &mut Context)
/// -> Result<()>`, is a `CoProcess`.
pub trait CoProcess {
    /// Receives the step's `config`, a JSON object (`{}` when none), before any record.
    fn open(&mut self, _config: &[u8]) -> Result<()> {
        Ok(())
    }
    /// Handles a record of the first input.
    fn process1(&mut self, input: &Record, ctx: &mut Context) -> Result<()>;
    /// Handles a record of the second input.
    fn process2(&mut self, input: &Record, ctx: &mut Context) -> Result<()>;
    /// Says that the function handles its timers in `on_timer` (ABI §4.4);
    /// without it a timer call is refused.
    fn has_timers(&self) -> bool {
        false
    }
    /// Handles a fired timer, as [`crate::Process::on_timer`] does.
    fn on_timer(&mut self, _timer: &Timer, _ctx: &mut Context) -> Result<()> {
        Ok(())
    }
    /// Runs when the task ends normally.
    fn close(&mut self) -> Result<()> {
        Ok(())
    }
}

impl<F1, F2> CoProcess for (F1, F2)
where
    F1: FnMut(&Record, &mut Context) -> Result<()>,
    F2: FnMut(&Record, &mut Context) -> Result<()>,
{
    fn process1(&mut self, input: &Record, ctx: &mut Context) -> Result<()> {
        (self.0)(input, ctx)
    }
    fn process2(&mut self, input: &Record, ctx: &mut Context) -> Result<()> {
        (self.1)(input, ctx)
    }
}

/// A co_process function with an on-timer callback, as
/// [`crate::Module::co_process_with_timers`] registers it.
pub(crate) struct CoWithTimers<C, T> {
    pub(crate) f: C,
    pub(crate) on_timer: T,
}

impl<C: CoProcess, T: FnMut(&Timer, &mut Context) -> Result<()>> CoProcess for CoWithTimers<C, T> {
    fn open(&mut self, config: &[u8]) -> Result<()> {
        self.f.open(config)
    }
    fn process1(&mut self, input: &Record, ctx: &mut Context) -> Result<()> {
        self.f.process1(input, ctx)
    }
    fn process2(&mut self, input: &Record, ctx: &mut Context) -> Result<()> {
        self.f.process2(input, ctx)
    }
    fn has_timers(&self) -> bool {
        true
    }
    fn on_timer(&mut self, timer: &Timer, ctx: &mut Context) -> Result<()> {
        (self.on_timer)(timer, ctx)
    }
    fn close(&mut self) -> Result<()> {
        self.f.close()
    }
}
