//! Timers, aggregate functions, window process functions and timestamp
//! extractors (ABI §4, §4.4–4.6).

use crate::abi::{read_record, Collector, Frame, Output, Record, RC_MALFORMED, RC_OK, RC_UNSUPPORTED};
use crate::state::Context;
use crate::{host, Error, Result};

/// The clock a timer follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeDomain {
    /// Fires when the watermark reaches the timer's time.
    EventTime = 0,
    /// Fires when the wall clock reaches it.
    ProcessingTime = 1,
}

/// A fired timer, as [`crate::Process::on_timer`] gets it.
#[derive(Debug)]
pub struct Timer<'a> {
    /// The timer's time, ms; outputs inherit it as their timestamp.
    pub time: i64,
    pub domain: TimeDomain,
    /// The key it was registered for.
    pub key: &'a [u8],
}

impl<'f> Context<'f> {
    fn timer(&self, register: bool, domain: TimeDomain, ms: i64) -> Result<()> {
        let rc = if register {
            host::timer_register(domain as i32, self.record, ms)
        } else {
            host::timer_delete(domain as i32, self.record, ms)
        };
        match rc {
            0 => Ok(()),
            -2 => Err(Error::new("weir: the host has no timers (UNSUPPORTED)")),
            _ => Err(Error::new("weir: the host refused the timer call as invalid (INVALID)")),
        }
    }
    /// Registers a timer for the current key that fires when the watermark
    /// reaches `ms`; registering one that exists changes nothing.
    pub fn register_event_timer(&mut self, ms: i64) -> Result<()> {
        self.timer(true, TimeDomain::EventTime, ms)
    }
    /// Registers a timer that fires when the wall clock reaches `ms`.
    pub fn register_processing_timer(&mut self, ms: i64) -> Result<()> {
        self.timer(true, TimeDomain::ProcessingTime, ms)
    }
    /// Deletes the current key's event-time timer at `ms`, if any.
    pub fn delete_event_timer(&mut self, ms: i64) -> Result<()> {
        self.timer(false, TimeDomain::EventTime, ms)
    }
    /// Deletes the current key's processing-time timer at `ms`, if any.
    pub fn delete_processing_timer(&mut self, ms: i64) -> Result<()> {
        self.timer(false, TimeDomain::ProcessingTime, ms)
    }
    /// The task's event-time clock (`i64::MIN` before the first watermark).
    pub fn current_watermark(&self) -> i64 {
        host::current_watermark()
    }
    /// The wall clock, ms since the Unix epoch.
    pub fn current_processing_time(&self) -> i64 {
        host::current_time()
    }
}

/// A process function with an on-timer callback, as
/// [`crate::Module::process_with_timers`] registers it.
pub(crate) struct WithTimers<P, T> {
    pub(crate) f: P,
    pub(crate) on_timer: T,
}

impl<P: crate::Process, T: FnMut(&Timer, &mut Context) -> Result<()>> crate::Process for WithTimers<P, T> {
    fn open(&mut self, config: &[u8]) -> Result<()> {
        self.f.open(config)
    }
    fn process(&mut self, input: &Record, ctx: &mut Context) -> Result<()> {
        self.f.process(input, ctx)
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

/// An aggregate function (ABI §4.5; Flink's `AggregateFunction`): accumulators
/// the host stores per window and key. Each method rewrites `acc` in place.
pub trait Aggregate {
    fn open(&mut self, _config: &[u8]) -> Result<()> {
        Ok(())
    }
    /// Writes a fresh accumulator into `acc` (empty on entry).
    fn create(&mut self, acc: &mut Vec<u8>) -> Result<()>;
    /// Folds a record into `acc`.
    fn add(&mut self, acc: &mut Vec<u8>, input: &Record) -> Result<()>;
    /// Folds another accumulator into `acc`.
    fn merge(&mut self, acc: &mut Vec<u8>, other: &[u8]) -> Result<()>;
    /// Writes the window's result into `out` (empty on entry).
    fn result(&mut self, acc: &[u8], out: &mut Vec<u8>) -> Result<()>;
    fn close(&mut self) -> Result<()> {
        Ok(())
    }
}

/// A fired window: `[start, end)` ms, and its key (`None` for a non-keyed stream).
#[derive(Debug)]
pub struct Window<'a> {
    pub start: i64,
    pub end: i64,
    pub key: Option<&'a [u8]>,
}

/// A window process function (ABI §4.6): every element of a fired window (one,
/// the aggregate's result, when the step has an aggregate function). Outputs
/// inherit the window's key and `end - 1` as timestamp; set their payload.
pub trait WindowProcess {
    fn open(&mut self, _config: &[u8]) -> Result<()> {
        Ok(())
    }
    fn process(&mut self, window: &Window, elements: &[Record], out: &mut Collector) -> Result<()>;
    fn close(&mut self) -> Result<()> {
        Ok(())
    }
}

impl<F: FnMut(&Window, &[Record], &mut Collector) -> Result<()>> WindowProcess for F {
    fn process(&mut self, window: &Window, elements: &[Record], out: &mut Collector) -> Result<()> {
        self(window, elements, out)
    }
}

/// What a [`TimestampExtractor`] says of a record.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Extracted {
    /// The record's event time; `None` drops the record (the host counts it).
    pub time: Option<i64>,
    /// A watermark after the record (a punctuation), for `punctuated: true`.
    pub watermark: Option<i64>,
}

/// A timestamp extractor: a source record's event time (ABI §4).
pub trait TimestampExtractor {
    fn open(&mut self, _config: &[u8]) -> Result<()> {
        Ok(())
    }
    fn extract(&mut self, input: &Record) -> Result<Extracted>;
    fn close(&mut self) -> Result<()> {
        Ok(())
    }
}

impl<F: FnMut(&Record) -> Result<Extracted>> TimestampExtractor for F {
    fn extract(&mut self, input: &Record) -> Result<Extracted> {
        self(input)
    }
}

pub(crate) fn u32_at(b: &[u8], off: usize) -> Option<u32> {
    b.get(off..off + 4).map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

pub(crate) fn i64_at(b: &[u8], off: usize) -> Option<i64> {
    b.get(off..off + 8).map(|s| {
        let mut a = [0u8; 8];
        a.copy_from_slice(s);
        i64::from_le_bytes(a)
    })
}

/// A length of 0xFFFFFFFF: no accumulator, no key.
pub(crate) const NONE: u32 = 0xFFFF_FFFF;

/// The folding an aggregate call needs, for aggregate and reduce functions.
pub(crate) enum Folder<'a> {
    Aggregate(&'a mut dyn Aggregate),
    Reduce(&'a mut dyn crate::Reduce),
}

/// An aggregate call (ABI §4.5).
pub(crate) fn aggregates(f: Folder, input: &[u8], frame: &mut Frame, acc: &mut Vec<u8>, res: &mut Vec<u8>) -> i32 {
    let mut f = f;
    let (op, groups) = match (u32_at(input, 0), u32_at(input, 4)) {
        (Some(o), Some(g)) => (o, g),
        _ => return RC_MALFORMED,
    };
    if !(1..=3).contains(&op) || groups as usize > input.len() / 4 {
        return RC_MALFORMED;
    }
    let mut off = 8;
    frame.reset();
    for g in 0..groups {
        let n = match u32_at(input, off) {
            Some(n) => n,
            None => return RC_MALFORMED,
        };
        off += 4;
        let mut has = n != NONE;
        acc.clear();
        if has {
            match input.get(off..off + n as usize) {
                Some(a) => acc.extend_from_slice(a),
                None => return RC_MALFORMED,
            }
            off += n as usize;
        } else if op != 1 {
            return RC_MALFORMED;
        }
        let r: Result<()> = match op {
            1 => {
                let count = match u32_at(input, off) {
                    Some(c) => c,
                    None => return RC_MALFORMED,
                };
                off += 4;
                let mut rest = &input[off..];
                let mut r = Ok(());
                for i in 0..count {
                    let (rec, next) = match read_record(rest, i) {
                        Some(x) => x,
                        None => return RC_MALFORMED,
                    };
                    rest = next;
                    r = match &mut f {
                        Folder::Reduce(_) if !has => {
                            acc.extend_from_slice(rec.payload());
                            Ok(())
                        }
                        Folder::Reduce(m) => m.reduce(acc, rec.payload()),
                        Folder::Aggregate(m) => {
                            if !has {
                                if let Err(e) = m.create(acc) {
                                    return crate::abi::fail(e);
                                }
                            }
                            m.add(acc, &rec)
                        }
                    };
                    has = true;
                    if r.is_err() {
                        break;
                    }
                }
                off = input.len() - rest.len();
                if r.is_ok() && !has {
                    if let Folder::Aggregate(m) = &mut f {
                        r = m.create(acc);
                    }
                }
                r
            }
            2 => {
                let count = match u32_at(input, off) {
                    Some(c) => c,
                    None => return RC_MALFORMED,
                };
                off += 4;
                let mut r = Ok(());
                for _ in 0..count {
                    let l = match u32_at(input, off) {
                        Some(l) if l != NONE => l as usize,
                        _ => return RC_MALFORMED,
                    };
                    let other = match input.get(off + 4..off + 4 + l) {
                        Some(o) => o,
                        None => return RC_MALFORMED,
                    };
                    off += 4 + l;
                    r = match &mut f {
                        Folder::Reduce(m) => m.reduce(acc, other),
                        Folder::Aggregate(m) => m.merge(acc, other),
                    };
                    if r.is_err() {
                        break;
                    }
                }
                r
            }
            _ => match &mut f {
                Folder::Reduce(_) => Ok(()),
                Folder::Aggregate(m) => {
                    res.clear();
                    let r = m.result(acc, res);
                    std::mem::swap(acc, res);
                    r
                }
            },
        };
        if let Err(e) = r {
            return crate::abi::fail(e);
        }
        frame.append_payload(g, acc);
    }
    if off != input.len() {
        return RC_MALFORMED;
    }
    frame.emit_always();
    RC_OK
}

/// Walks a windows frame (ABI §4.6; an evictor's, §4.10, is the same): `f` gets
/// each window's index, the window and its elements, and a code other than
/// `RC_OK` from it stops the walk and is returned. A malformed frame gives
/// `RC_MALFORMED`, possibly after `f` has seen the windows before the fault.
pub(crate) fn each_window<'a, F: FnMut(u32, &Window<'a>, &[Record<'a>]) -> i32>(input: &'a [u8], mut f: F) -> i32 {
    // A window takes at least 24 bytes: start, end, key length, element count.
    let count = match u32_at(input, 0) {
        Some(c) if c as usize <= input.len() / 24 => c,
        _ => return RC_MALFORMED,
    };
    let mut off = 4;
    let mut elements: Vec<Record> = Vec::new();
    for w in 0..count {
        let (start, end, kl) = match (i64_at(input, off), i64_at(input, off + 8), u32_at(input, off + 16)) {
            (Some(s), Some(e), Some(k)) => (s, e, k),
            _ => return RC_MALFORMED,
        };
        off += 20;
        let mut key = None;
        if kl != NONE {
            match input.get(off..off + kl as usize) {
                Some(k) => key = Some(k),
                None => return RC_MALFORMED,
            }
            off += kl as usize;
        }
        let n = match u32_at(input, off) {
            Some(n) if n as usize <= input.len() - off => n,
            _ => return RC_MALFORMED,
        };
        off += 4;
        elements.clear();
        let mut rest = &input[off..];
        for i in 0..n {
            match read_record(rest, i) {
                Some((r, next)) => {
                    elements.push(r);
                    rest = next;
                }
                None => return RC_MALFORMED,
            }
        }
        off = input.len() - rest.len();
        let rc = f(w, &Window { start, end, key }, &elements);
        if rc != RC_OK {
            return rc;
        }
    }
    if off != input.len() {
        return RC_MALFORMED;
    }
    RC_OK
}

/// A window call (ABI §4.6).
pub(crate) fn windows(f: &mut dyn WindowProcess, input: &[u8], frame: &mut Frame, out: &mut Output) -> i32 {
    frame.reset();
    let rc = each_window(input, |w, window, elements| {
        let mut c = Collector { frame: &mut *frame, parent: w, pending: false, no_payload: false, out: &mut *out };
        if let Err(e) = f.process(window, elements, &mut c) {
            return crate::abi::fail(e);
        }
        c.flush();
        if c.no_payload {
            return crate::abi::fail(Error::new("weir: a window_process output must set its payload (ABI §4.6)"));
        }
        RC_OK
    });
    if rc == RC_OK {
        frame.emit();
    }
    rc
}

/// The outputs of a timestamp extractor for one record (ABI §4).
pub(crate) fn extracted(frame: &mut Frame, parent: u32, e: Extracted) {
    frame.append_extracted(parent, e.time, e.watermark);
}

/// A timer call (ABI §4.4): the process function's callback per fired timer.
pub(crate) fn timers(
    f: &mut dyn crate::Process,
    states: u32,
    input: &[u8],
    frame: &mut Frame,
    out: &mut Output,
    scratch: &mut crate::abi::Scratch,
) -> i32 {
    if !f.has_timers() {
        return RC_UNSUPPORTED;
    }
    let mut on_timer = |t: &Timer, ctx: &mut Context| f.on_timer(t, ctx);
    fire_timers(&mut on_timer, states, input, frame, out, scratch)
}

/// A timer call (ABI §4.4) of a function that handles timers: `on_timer` per
/// fired timer, each with the context of the timer's key.
pub(crate) fn fire_timers(
    on_timer: &mut dyn FnMut(&Timer, &mut Context) -> Result<()>,
    states: u32,
    input: &[u8],
    frame: &mut Frame,
    out: &mut Output,
    scratch: &mut crate::abi::Scratch,
) -> i32 {
    let count = match u32_at(input, 0) {
        Some(c) if c as usize <= input.len() => c,
        _ => return RC_MALFORMED,
    };
    let mut rest = &input[4..];
    frame.reset();
    for i in 0..count {
        let (r, next) = match read_record(rest, i) {
            Some(x) => x,
            None => return RC_MALFORMED,
        };
        rest = next;
        let domain = match r.payload() {
            [0] => TimeDomain::EventTime,
            [1] => TimeDomain::ProcessingTime,
            _ => return RC_MALFORMED,
        };
        let (time, key) = match (r.timestamp(), r.key()) {
            (Some(t), Some(k)) => (t, k),
            (Some(t), None) => (t, &[][..]),
            _ => return RC_MALFORMED,
        };
        let t = Timer { time, domain, key };
        let mut ctx = scratch.context(&mut *frame, &mut *out, i, states);
        if let Err(e) = on_timer(&t, &mut ctx) {
            return crate::abi::fail(e);
        }
        ctx.out.flush();
    }
    if !rest.is_empty() {
        return RC_MALFORMED;
    }
    frame.emit();
    RC_OK
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(flags: u8, key: &[u8], ts: i64, payload: &[u8]) -> Vec<u8> {
        let mut b = vec![flags];
        if flags & 0x01 != 0 {
            b.extend_from_slice(&(key.len() as u32).to_le_bytes());
            b.extend_from_slice(key);
        }
        if flags & 0x02 != 0 {
            b.extend_from_slice(&ts.to_le_bytes());
        }
        if flags & 0x04 != 0 {
            b.extend_from_slice(&(payload.len() as u32).to_le_bytes());
            b.extend_from_slice(payload);
        }
        b
    }

    /// The outputs of a frame: (parent, flags, timestamp, payload).
    fn outputs(f: &Frame) -> Vec<(u32, u8, i64, Vec<u8>)> {
        let b = &f.buf[4..];
        let mut out = Vec::new();
        let mut off = 0;
        for _ in 0..f.count {
            let parent = u32_at(b, off).unwrap();
            let flags = b[off + 8];
            off += 9;
            let mut ts = 0;
            if flags & 0x01 != 0 {
                off += 4 + u32_at(b, off).unwrap() as usize;
            }
            if flags & 0x02 != 0 {
                ts = i64_at(b, off).unwrap();
                off += 8;
            }
            let mut p = Vec::new();
            if flags & 0x04 != 0 {
                let n = u32_at(b, off).unwrap() as usize;
                p = b[off + 4..off + 4 + n].to_vec();
                off += 4 + n;
            }
            out.push((parent, flags, ts, p));
        }
        out
    }

    fn frame() -> Frame {
        Frame { buf: Vec::new(), count: 0 }
    }

    struct Sum;
    impl Aggregate for Sum {
        fn create(&mut self, acc: &mut Vec<u8>) -> Result<()> {
            acc.extend_from_slice(b"0");
            Ok(())
        }
        fn add(&mut self, acc: &mut Vec<u8>, input: &Record) -> Result<()> {
            let n: i64 = std::str::from_utf8(acc).unwrap().parse::<i64>().unwrap()
                + std::str::from_utf8(input.payload()).unwrap().parse::<i64>().unwrap();
            acc.clear();
            acc.extend_from_slice(n.to_string().as_bytes());
            Ok(())
        }
        fn merge(&mut self, acc: &mut Vec<u8>, other: &[u8]) -> Result<()> {
            let n: i64 = std::str::from_utf8(acc).unwrap().parse::<i64>().unwrap()
                + std::str::from_utf8(other).unwrap().parse::<i64>().unwrap();
            acc.clear();
            acc.extend_from_slice(n.to_string().as_bytes());
            Ok(())
        }
        fn result(&mut self, acc: &[u8], out: &mut Vec<u8>) -> Result<()> {
            out.extend_from_slice(b"sum=");
            out.extend_from_slice(acc);
            Ok(())
        }
    }

    fn agg_frame(op: u32, groups: &[(Option<&[u8]>, Vec<Vec<u8>>)]) -> Vec<u8> {
        let mut b = op.to_le_bytes().to_vec();
        b.extend_from_slice(&(groups.len() as u32).to_le_bytes());
        for (acc, items) in groups {
            match acc {
                Some(a) => {
                    b.extend_from_slice(&(a.len() as u32).to_le_bytes());
                    b.extend_from_slice(a);
                }
                None => b.extend_from_slice(&NONE.to_le_bytes()),
            }
            if op != 3 {
                b.extend_from_slice(&(items.len() as u32).to_le_bytes());
                for it in items {
                    b.extend_from_slice(it);
                }
            }
        }
        b
    }

    #[test]
    fn aggregate_calls() {
        let (mut acc, mut res, mut f) = (Vec::new(), Vec::new(), frame());
        let mut sum = Sum;
        let add = agg_frame(1, &[(None, vec![record(4, b"", 0, b"1"), record(4, b"", 0, b"2")]), (Some(b"10"), vec![record(4, b"", 0, b"5")])]);
        assert_eq!(aggregates(Folder::Aggregate(&mut sum), &add, &mut f, &mut acc, &mut res), RC_OK);
        let got: Vec<Vec<u8>> = outputs(&f).into_iter().map(|o| o.3).collect();
        assert_eq!(got, vec![b"3".to_vec(), b"15".to_vec()]);
        let mut merge = agg_frame(2, &[(Some(b"3"), vec![])]);
        merge.truncate(merge.len() - 4);
        merge.extend_from_slice(&2u32.to_le_bytes());
        for a in [&b"4"[..], &b"5"[..]] {
            merge.extend_from_slice(&(a.len() as u32).to_le_bytes());
            merge.extend_from_slice(a);
        }
        assert_eq!(aggregates(Folder::Aggregate(&mut sum), &merge, &mut f, &mut acc, &mut res), RC_OK);
        assert_eq!(outputs(&f)[0].3, b"12".to_vec());
        let result = agg_frame(3, &[(Some(b"12"), vec![])]);
        assert_eq!(aggregates(Folder::Aggregate(&mut sum), &result, &mut f, &mut acc, &mut res), RC_OK);
        assert_eq!(outputs(&f)[0].3, b"sum=12".to_vec());
        assert_eq!(aggregates(Folder::Aggregate(&mut sum), &result[..result.len() - 1], &mut f, &mut acc, &mut res), RC_MALFORMED);
        // A reduce function: the first payload starts the accumulator.
        let mut max = |acc: &mut Vec<u8>, v: &[u8]| -> Result<()> {
            if v > &acc[..] {
                acc.clear();
                acc.extend_from_slice(v);
            }
            Ok(())
        };
        let add = agg_frame(1, &[(None, vec![record(4, b"", 0, b"b"), record(4, b"", 0, b"c"), record(4, b"", 0, b"a")])]);
        assert_eq!(aggregates(Folder::Reduce(&mut max), &add, &mut f, &mut acc, &mut res), RC_OK);
        assert_eq!(outputs(&f)[0].3, b"c".to_vec());
    }

    #[test]
    fn window_calls() {
        let mut b = 2u32.to_le_bytes().to_vec();
        b.extend_from_slice(&0i64.to_le_bytes());
        b.extend_from_slice(&10i64.to_le_bytes());
        b.extend_from_slice(&1u32.to_le_bytes());
        b.push(b'k');
        b.extend_from_slice(&2u32.to_le_bytes());
        b.extend_from_slice(&record(4, b"", 0, b"x"));
        b.extend_from_slice(&record(6, b"", 3, b"y"));
        b.extend_from_slice(&10i64.to_le_bytes());
        b.extend_from_slice(&20i64.to_le_bytes());
        b.extend_from_slice(&NONE.to_le_bytes());
        b.extend_from_slice(&0u32.to_le_bytes());
        let mut wp = |w: &Window, el: &[Record], out: &mut Collector| -> Result<()> {
            let last = el.last().map(|r| r.payload().to_vec()).unwrap_or_default();
            let s = format!("{}-{} {:?} n={} last={}", w.start, w.end, w.key, el.len(), String::from_utf8(last).unwrap());
            out.emit_payload(s.as_bytes());
            Ok(())
        };
        let (mut f, mut out) = (frame(), Output::new());
        assert_eq!(windows(&mut wp, &b, &mut f, &mut out), RC_OK);
        let got: Vec<(u32, String)> = outputs(&f).into_iter().map(|o| (o.0, String::from_utf8(o.3).unwrap())).collect();
        assert_eq!(got, vec![(0, "0-10 Some([107]) n=2 last=y".to_string()), (1, "10-20 None n=0 last=".to_string())]);
        assert_eq!(windows(&mut wp, &b[..b.len() - 1], &mut f, &mut out), RC_MALFORMED);
    }

    struct Timeout;
    impl crate::Process for Timeout {
        fn process(&mut self, input: &Record, ctx: &mut Context) -> Result<()> {
            ctx.register_event_timer(input.timestamp().unwrap() + 10)
        }
        fn has_timers(&self) -> bool {
            true
        }
        fn on_timer(&mut self, t: &Timer, ctx: &mut Context) -> Result<()> {
            let s = format!("{}@{}/{:?}/wm={}", String::from_utf8_lossy(t.key), t.time, t.domain, ctx.current_watermark());
            ctx.emit_payload(s.as_bytes());
            ctx.delete_processing_timer(ctx.current_processing_time())
        }
    }

    #[test]
    fn timer_calls() {
        let mut b = 2u32.to_le_bytes().to_vec();
        b.extend_from_slice(&record(7, b"a", 15, &[0]));
        b.extend_from_slice(&record(7, b"b", 3, &[1]));
        let (mut f, mut out, mut scratch) = (frame(), Output::new(), crate::abi::Scratch::default());
        host::TIMER_CALLS.with(|c| c.borrow_mut().clear());
        assert_eq!(timers(&mut Timeout, 0, &b, &mut f, &mut out, &mut scratch), RC_OK);
        let got: Vec<(u32, String)> = outputs(&f).into_iter().map(|o| (o.0, String::from_utf8(o.3).unwrap())).collect();
        assert_eq!(got, vec![(0, "a@15/EventTime/wm=7".to_string()), (1, "b@3/ProcessingTime/wm=7".to_string())]);
        assert_eq!(host::TIMER_CALLS.with(|c| c.borrow().clone()), vec![(false, 1, 0, 42), (false, 1, 1, 42)]);
        let mut plain = |_: &Record, _: &mut Context| -> Result<()> { Ok(()) };
        assert_eq!(timers(&mut plain, 0, &b, &mut f, &mut out, &mut scratch), RC_UNSUPPORTED);
        let mut bad = 1u32.to_le_bytes().to_vec();
        bad.extend_from_slice(&record(7, b"a", 1, &[5]));
        assert_eq!(timers(&mut Timeout, 0, &bad, &mut f, &mut out, &mut scratch), RC_MALFORMED);
    }

    #[test]
    fn extracted_outputs() {
        let mut f = frame();
        f.reset();
        extracted(&mut f, 0, Extracted { time: Some(5), watermark: None });
        extracted(&mut f, 1, Extracted { time: None, watermark: None });
        extracted(&mut f, 2, Extracted { time: Some(9), watermark: Some(7) });
        let got = outputs(&f);
        assert_eq!(got[0], (0, 0x02, 5, vec![]));
        assert_eq!(got[1], (1, 0x00, 0, vec![]));
        assert_eq!(got[2], (2, 0x06, 9, 7i64.to_le_bytes().to_vec()));
    }
}
