//! Evictor functions (ABI §4.10; Flink's `Evictor.evictBefore`): elements that
//! leave a window before its function runs.

use crate::abi::{Frame, RC_OK};
use crate::window::each_window;
use crate::{Error, Record, Result, Window};

/// An evictor function (ABI §4.10), a window step's `evictor: {module,
/// function}`: for each window about to fire, the indexes of the elements to
/// remove from it (they leave the window's state). It has no state of its own.
pub trait Evictor {
    /// Receives the step's `config`, a JSON object (`{}` when none), before any window.
    fn open(&mut self, _config: &[u8]) -> Result<()> {
        Ok(())
    }
    /// Pushes onto `evicted` (empty on entry, its capacity reused) the indexes
    /// in `elements` of the elements to evict, in any order; the SDK sorts them
    /// and drops repeats. An index past the elements fails the call.
    fn evict(&mut self, window: &Window, elements: &[Record], evicted: &mut Vec<u32>) -> Result<()>;
    /// Runs when the task ends normally.
    fn close(&mut self) -> Result<()> {
        Ok(())
    }
}

impl<F: FnMut(&Window, &[Record], &mut Vec<u32>) -> Result<()>> Evictor for F {
    fn evict(&mut self, window: &Window, elements: &[Record], evicted: &mut Vec<u32>) -> Result<()> {
        self(window, elements, evicted)
    }
}

/// An evict call (ABI §4.10): one output per window, in window order, whose
/// payload is `u32 m` and `m` ascending `u32` indexes, all in one frame.
pub(crate) fn evictions(f: &mut dyn Evictor, input: &[u8], frame: &mut Frame, evicted: &mut Vec<u32>, payload: &mut Vec<u8>) -> i32 {
    frame.reset();
    let rc = each_window(input, |w, window, elements| {
        evicted.clear();
        if let Err(e) = f.evict(window, elements, evicted) {
            return crate::abi::fail(e);
        }
        evicted.sort_unstable();
        evicted.dedup();
        if let Some(&last) = evicted.last() {
            if last as usize >= elements.len() {
                return crate::abi::fail(Error::new(format!(
                    "weir: an evictor evicted element {} of a window of {} (ABI §4.10)",
                    last,
                    elements.len()
                )));
            }
        }
        payload.clear();
        payload.extend_from_slice(&(evicted.len() as u32).to_le_bytes());
        for i in evicted.iter() {
            payload.extend_from_slice(&i.to_le_bytes());
        }
        frame.append_payload(w, payload);
        RC_OK
    });
    if rc == RC_OK {
        frame.emit_always();
    }
    rc
}
