//! Trigger functions (ABI §4.9; Flink's `Trigger`): when a window fires.

use crate::abi::{Frame, RC_MALFORMED, RC_OK};
use crate::window::{i64_at, u32_at, NONE};
use crate::{Result, Window};

/// What happened to a window, as a trigger is told.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TriggerEventKind {
    /// Elements of one input batch went into the window (never one event per
    /// record); [`TriggerEvent::time`] is the largest of their timestamps.
    Elements = 0,
    /// An event-time timer of the window fired; `time` is the timer's.
    EventTimer = 1,
    /// A processing-time timer of the window fired; `time` is the timer's.
    ProcessingTimer = 2,
}

/// One event of a trigger call.
#[derive(Debug)]
pub struct TriggerEvent<'a> {
    pub kind: TriggerEventKind,
    /// The window, `[start, end)` ms, and its key (`None` for a non-keyed
    /// stream); a global window is `(i64::MIN, i64::MAX)`.
    pub window: Window<'a>,
    /// The largest timestamp among the elements added, or the timer's time.
    pub time: i64,
    /// The number of elements now in the window.
    pub count: u64,
}

/// What the window does after an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TriggerAction {
    /// Nothing.
    Continue = 0,
    /// Evaluates the window's function on its contents.
    Fire = 1,
    /// Clears the window's contents.
    Purge = 2,
    /// Fires, then clears.
    FireAndPurge = 3,
}

/// A trigger's answer to one event: an action, and timers to register for the
/// window and key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TriggerResult {
    pub action: TriggerAction,
    /// An event-time timer to register (ms); `Some(i64::MIN)` is none as well.
    pub event_timer: Option<i64>,
    /// A processing-time timer to register (ms); `Some(i64::MIN)` is none as well.
    pub processing_timer: Option<i64>,
}

impl TriggerResult {
    /// `action`, with no timer.
    pub fn new(action: TriggerAction) -> TriggerResult {
        TriggerResult { action, event_timer: None, processing_timer: None }
    }
    /// The same, registering an event-time timer at `ms`.
    pub fn with_event_timer(self, ms: i64) -> TriggerResult {
        TriggerResult { event_timer: Some(ms), ..self }
    }
    /// The same, registering a processing-time timer at `ms`.
    pub fn with_processing_timer(self, ms: i64) -> TriggerResult {
        TriggerResult { processing_timer: Some(ms), ..self }
    }
    /// The output payload of ABI §4.9: the action and the event-time timer
    /// (9 bytes), then the processing-time timer when there is one (17 bytes).
    /// A missing timer is written as the smallest i64.
    fn encode(&self, b: &mut [u8; 17]) -> usize {
        b[0] = self.action as u8;
        b[1..9].copy_from_slice(&self.event_timer.unwrap_or(i64::MIN).to_le_bytes());
        match self.processing_timer {
            Some(t) if t != i64::MIN => {
                b[9..17].copy_from_slice(&t.to_le_bytes());
                17
            }
            _ => 9,
        }
    }
}

impl From<TriggerAction> for TriggerResult {
    fn from(action: TriggerAction) -> TriggerResult {
        TriggerResult::new(action)
    }
}

/// A trigger function (ABI §4.9), a window step's `trigger: {module, function}`:
/// it replaces the window's default trigger and answers each event with a
/// [`TriggerResult`]. It has no state of its own (the state and timer imports
/// are not available in a trigger call); it decides from the event alone.
pub trait Trigger {
    /// Receives the step's `config`, a JSON object (`{}` when none), before any event.
    fn open(&mut self, _config: &[u8]) -> Result<()> {
        Ok(())
    }
    fn on_event(&mut self, event: &TriggerEvent) -> Result<TriggerResult>;
    /// Runs when the task ends normally.
    fn close(&mut self) -> Result<()> {
        Ok(())
    }
}

impl<F: FnMut(&TriggerEvent) -> Result<TriggerResult>> Trigger for F {
    fn on_event(&mut self, event: &TriggerEvent) -> Result<TriggerResult> {
        self(event)
    }
}

/// The smallest event: kind, start, end, time, count and a key length.
const MIN_EVENT: usize = 1 + 8 + 8 + 8 + 8 + 4;

/// A trigger call (ABI §4.9): one output per event, in event order, in one frame.
pub(crate) fn triggers(f: &mut dyn Trigger, input: &[u8], frame: &mut Frame) -> i32 {
    let count = match u32_at(input, 0) {
        Some(c) if c as usize <= input.len() / MIN_EVENT => c,
        _ => return RC_MALFORMED,
    };
    let mut off = 4;
    frame.reset();
    let mut payload = [0u8; 17];
    for i in 0..count {
        let kind = match input.get(off) {
            Some(0) => TriggerEventKind::Elements,
            Some(1) => TriggerEventKind::EventTimer,
            Some(2) => TriggerEventKind::ProcessingTimer,
            _ => return RC_MALFORMED,
        };
        let fields = (i64_at(input, off + 1), i64_at(input, off + 9), i64_at(input, off + 17), i64_at(input, off + 25));
        let kl = u32_at(input, off + 33);
        let (start, end, time, n, kl) = match (fields, kl) {
            ((Some(s), Some(e), Some(t), Some(n)), Some(kl)) => (s, e, t, n as u64, kl),
            _ => return RC_MALFORMED,
        };
        off += MIN_EVENT;
        let mut key = None;
        if kl != NONE {
            match input.get(off..off + kl as usize) {
                Some(k) => key = Some(k),
                None => return RC_MALFORMED,
            }
            off += kl as usize;
        }
        let event = TriggerEvent { kind, window: Window { start, end, key }, time, count: n };
        match f.on_event(&event) {
            Ok(r) => {
                let len = r.encode(&mut payload);
                frame.append_payload(i, &payload[..len]);
            }
            Err(e) => return crate::abi::fail(e),
        }
    }
    if off != input.len() {
        return RC_MALFORMED;
    }
    frame.emit_always();
    RC_OK
}
