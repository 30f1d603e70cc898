//! Native tests of the timer, window and aggregate calls (ABI §4.4–4.6) through
//! the dispatcher, as the host makes them: a call kind, a function index and an
//! input frame in; a return code and the frames given to `weir.emit` out.

use crate::abi::{dispatch, Frame, Scratch};
use crate::host::{CLOCKS, EMITTED, LAST_ERROR, TIMER_CALLS, TIMER_RC};
use crate::state_tests::{install, uninstall};
use crate::{
    Aggregate, Collector, Context, Error, Extracted, Module, Output, Record, Result, StateKind, States, TimeDomain, Timer,
    TriggerAction, TriggerEvent, TriggerResult, Window,
};
use std::cell::Cell;
use std::rc::Rc;

const OPEN: i32 = 1;
const PROCESS: i32 = 2;
const PROCESS2: i32 = 3;
const TIMER: i32 = 4;
const WINDOW: i32 = 5;
const CLOSE: i32 = 6;
const AGGREGATE: i32 = 7;
const TRIGGER: i32 = 8;
const EVICT: i32 = 9;

const NONE: u32 = 0xFFFF_FFFF;

/// A module and the buffers `weir_call` reuses from call to call.
pub(crate) struct Harness {
    module: Module,
    frame: Frame,
    out: Output,
    scratch: Scratch,
}

/// One output of an emitted frame.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Out {
    pub(crate) parent: u32,
    pub(crate) tag: u32,
    pub(crate) flags: u8,
    pub(crate) payload: String,
}

/// A main output with flags PAYLOAD alone, as aggregate, window and timer
/// outputs are here.
pub(crate) fn out(parent: u32, payload: &str) -> Out {
    Out { parent, tag: 0, flags: 0x04, payload: payload.to_string() }
}

impl Harness {
    pub(crate) fn new<F: FnOnce(&mut Module)>(register: F) -> Harness {
        let mut module = Module { functions: Vec::new() };
        register(&mut module);
        Harness { module, frame: Frame { buf: Vec::new(), count: 0 }, out: Output::new(), scratch: Scratch::default() }
    }

    /// Makes call `kind` of function `f`; returns its code and the outputs of
    /// every frame it emitted, in order.
    pub(crate) fn call(&mut self, kind: i32, f: i32, input: &[u8]) -> (i32, Vec<Out>) {
        let (rc, frames) = self.call_raw(kind, f, input);
        (rc, frames.iter().flat_map(|f| parse_outputs(f)).collect())
    }

    /// Makes call `kind` of function `f`; returns its code and the frames it
    /// emitted, as bytes.
    pub(crate) fn call_raw(&mut self, kind: i32, f: i32, input: &[u8]) -> (i32, Vec<Vec<u8>>) {
        EMITTED.with(|e| e.borrow_mut().clear());
        let rc = dispatch(&mut self.module.functions, kind, f, input, &mut self.frame, &mut self.out, &mut self.scratch);
        (rc, EMITTED.with(|e| std::mem::take(&mut *e.borrow_mut())))
    }
}

fn u32_at(b: &[u8], off: usize) -> u32 {
    u32::from_le_bytes([b[off], b[off + 1], b[off + 2], b[off + 3]])
}

/// The outputs of an output frame (ABI §5); it must be well formed.
fn parse_outputs(b: &[u8]) -> Vec<Out> {
    let n = u32_at(b, 0);
    let mut off = 4;
    let mut v = Vec::new();
    for _ in 0..n {
        let (parent, tag, flags) = (u32_at(b, off), u32_at(b, off + 4), b[off + 8]);
        off += 9;
        assert_eq!(flags & 0xF0, 0, "reserved flags in output {}", v.len());
        if flags & 0x01 != 0 {
            off += 4 + u32_at(b, off) as usize;
        }
        if flags & 0x02 != 0 {
            off += 8;
        }
        let mut payload = String::new();
        if flags & 0x04 != 0 {
            let n = u32_at(b, off) as usize;
            payload = String::from_utf8_lossy(&b[off + 4..off + 4 + n]).into_owned();
            off += 4 + n;
        }
        if flags & 0x08 != 0 {
            let h = u32_at(b, off);
            off += 4;
            for _ in 0..2 * h {
                off += 4 + u32_at(b, off) as usize;
            }
        }
        v.push(Out { parent, tag, flags, payload });
    }
    assert_eq!(off, b.len(), "bytes after the last output");
    v
}

pub(crate) fn bytes(b: &mut Vec<u8>, f: &[u8]) {
    b.extend_from_slice(&(f.len() as u32).to_le_bytes());
    b.extend_from_slice(f);
}

/// A record (ABI §5) with PAYLOAD, and KEY and TIMESTAMP when given.
pub(crate) fn rec(key: Option<&str>, ts: Option<i64>, payload: &[u8]) -> Vec<u8> {
    let flags = 0x04 | key.map_or(0, |_| 0x01) | ts.map_or(0, |_| 0x02);
    let mut b = vec![flags];
    if let Some(k) = key {
        bytes(&mut b, k.as_bytes());
    }
    if let Some(t) = ts {
        b.extend_from_slice(&t.to_le_bytes());
    }
    bytes(&mut b, payload);
    b
}

/// A record with payload `p` and only that.
pub(crate) fn prec(p: &str) -> Vec<u8> {
    rec(None, None, p.as_bytes())
}

/// A batch frame: u32 count, then the records.
pub(crate) fn batch(records: &[Vec<u8>]) -> Vec<u8> {
    let mut b = (records.len() as u32).to_le_bytes().to_vec();
    for r in records {
        b.extend_from_slice(r);
    }
    b
}

/// An aggregate frame (ABI §4.5). A group is its accumulator (None: 0xFFFFFFFF)
/// and its items: encoded records for add, accumulators for merge, nothing for
/// result.
fn agg(op: u32, groups: &[(Option<&str>, Vec<Vec<u8>>)]) -> Vec<u8> {
    let mut b = op.to_le_bytes().to_vec();
    b.extend_from_slice(&(groups.len() as u32).to_le_bytes());
    for (acc, items) in groups {
        match acc {
            Some(a) => bytes(&mut b, a.as_bytes()),
            None => b.extend_from_slice(&NONE.to_le_bytes()),
        }
        match op {
            1 => b.extend_from_slice(&batch(items)),
            2 => {
                b.extend_from_slice(&(items.len() as u32).to_le_bytes());
                for it in items {
                    bytes(&mut b, it);
                }
            }
            _ => {}
        }
    }
    b
}

/// A windows frame (ABI §4.6): (start, end, key or None, elements).
pub(crate) fn win(windows: &[(i64, i64, Option<&str>, Vec<Vec<u8>>)]) -> Vec<u8> {
    let mut b = (windows.len() as u32).to_le_bytes().to_vec();
    for (start, end, key, elements) in windows {
        b.extend_from_slice(&start.to_le_bytes());
        b.extend_from_slice(&end.to_le_bytes());
        match key {
            Some(k) => bytes(&mut b, k.as_bytes()),
            None => b.extend_from_slice(&NONE.to_le_bytes()),
        }
        b.extend_from_slice(&batch(elements));
    }
    b
}

/// A fired timer as the host sends it: KEY, TIMESTAMP = its time, PAYLOAD = its domain.
pub(crate) fn fired(key: &str, time: i64, domain: u8) -> Vec<u8> {
    rec(Some(key), Some(time), &[domain])
}

pub(crate) fn last_error() -> String {
    LAST_ERROR.with(|e| e.borrow().clone())
}

pub(crate) fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// An aggregate that spells out what it was asked: create gives "<", add
/// appends the payload, merge appends "+" and the other accumulator, result
/// is "=" and the accumulator. It counts its creates; a payload "bad" fails.
struct Trace {
    creates: Rc<Cell<u32>>,
}

impl Aggregate for Trace {
    fn create(&mut self, acc: &mut Vec<u8>) -> Result<()> {
        assert!(acc.is_empty(), "create gets an empty accumulator");
        self.creates.set(self.creates.get() + 1);
        acc.push(b'<');
        Ok(())
    }
    fn add(&mut self, acc: &mut Vec<u8>, input: &Record) -> Result<()> {
        if input.payload() == b"bad" {
            return Err(Error::new("trace: bad record"));
        }
        acc.extend_from_slice(input.payload());
        Ok(())
    }
    fn merge(&mut self, acc: &mut Vec<u8>, other: &[u8]) -> Result<()> {
        acc.push(b'+');
        acc.extend_from_slice(other);
        Ok(())
    }
    fn result(&mut self, acc: &[u8], out: &mut Vec<u8>) -> Result<()> {
        assert!(out.is_empty(), "result gets an empty output");
        out.push(b'=');
        out.extend_from_slice(acc);
        Ok(())
    }
}

fn trace_module() -> (Harness, Rc<Cell<u32>>) {
    let creates = Rc::new(Cell::new(0));
    let c = creates.clone();
    let h = Harness::new(move |m| {
        m.aggregate("trace", Trace { creates: c });
    });
    (h, creates)
}

#[test]
fn aggregate_add_with_several_groups() {
    let (mut h, creates) = trace_module();
    let input = agg(
        1,
        &[
            (None, vec![prec("a"), prec("b")]), // no accumulator yet: created, then both added
            (Some(""), vec![prec("c")]),        // an empty accumulator is one: no create
            (Some("[x"), vec![]),               // no records: unchanged
            (None, vec![]),                     // none and no records: a fresh one
            (Some("y"), vec![rec(Some("k"), Some(5), b"z"), prec("")]),
        ],
    );
    let (rc, got) = h.call(AGGREGATE, 0, &input);
    assert_eq!(rc, 0);
    assert_eq!(got, vec![out(0, "<ab"), out(1, "c"), out(2, "[x"), out(3, "<"), out(4, "yz")]);
    assert_eq!(creates.get(), 2);
}

#[test]
fn aggregate_merge_and_result_with_several_groups() {
    let (mut h, creates) = trace_module();
    let input = agg(
        2,
        &[
            (Some("p"), vec![b"q".to_vec(), Vec::new(), b"r".to_vec()]),
            (Some(""), vec![]),
            (Some(""), vec![Vec::new()]),
        ],
    );
    let (rc, got) = h.call(AGGREGATE, 0, &input);
    assert_eq!(rc, 0);
    assert_eq!(got, vec![out(0, "p+q++r"), out(1, ""), out(2, "+")]);
    let (rc, got) = h.call(AGGREGATE, 0, &agg(3, &[(Some("<ab"), vec![]), (Some(""), vec![]), (Some("z"), vec![])]));
    assert_eq!(rc, 0);
    assert_eq!(got, vec![out(0, "=<ab"), out(1, "="), out(2, "=z")]);
    assert_eq!(creates.get(), 0);
    // No group: an empty answer.
    let (rc, got) = h.call(AGGREGATE, 0, &agg(3, &[]));
    assert_eq!((rc, got), (0, vec![]));
}

#[test]
fn aggregate_failure_emits_nothing() {
    let (mut h, _) = trace_module();
    let input = agg(1, &[(None, vec![prec("a")]), (None, vec![prec("b"), prec("bad")])]);
    let (rc, got) = h.call(AGGREGATE, 0, &input);
    assert_eq!((rc, got), (1, vec![]));
    assert_eq!(last_error(), "trace: bad record");
}

#[test]
fn reduce_answers_aggregate_calls() {
    let mut h = Harness::new(|m| {
        m.reduce("join", |acc: &mut Vec<u8>, v: &[u8]| -> Result<()> {
            acc.push(b',');
            acc.extend_from_slice(v);
            Ok(())
        });
    });
    // add: with no accumulator the first payload is the accumulator.
    let add = agg(
        1,
        &[
            (None, vec![prec("1"), prec("2"), prec("3")]),
            (Some("0"), vec![prec("4")]),
            (Some(""), vec![prec("5")]),
            (None, vec![prec("")]),
        ],
    );
    let (rc, got) = h.call(AGGREGATE, 0, &add);
    assert_eq!(rc, 0);
    assert_eq!(got, vec![out(0, "1,2,3"), out(1, "0,4"), out(2, ",5"), out(3, "")]);
    // merge folds the accumulators with the same function.
    let merge = agg(2, &[(Some("a"), vec![b"b".to_vec(), b"c".to_vec()]), (Some("d"), vec![])]);
    let (rc, got) = h.call(AGGREGATE, 0, &merge);
    assert_eq!(rc, 0);
    assert_eq!(got, vec![out(0, "a,b,c"), out(1, "d")]);
    // result is the accumulator as it is.
    let (rc, got) = h.call(AGGREGATE, 0, &agg(3, &[(Some("x,y"), vec![]), (Some(""), vec![])]));
    assert_eq!(rc, 0);
    assert_eq!(got, vec![out(0, "x,y"), out(1, "")]);
    // The same function still answers process calls (ABI §4.1), here without a
    // host's state: the SDK reports it.
    let (rc, _) = h.call(PROCESS, 0, &batch(&[rec(Some("k"), None, b"1")]));
    assert_eq!(rc, 1);
    assert!(last_error().contains("UNSUPPORTED"), "{}", last_error());
}

#[test]
fn malformed_aggregate_frames() {
    let good = agg(1, &[(Some("a"), vec![prec("b")])]);
    let mut trailing = good.clone();
    trailing.push(0);
    let mut reserved = agg(1, &[(None, vec![prec("b")])]);
    let flags_at = 8 + 4 + 4;
    reserved[flags_at] |= 0x10;
    let mut merge_none = agg(2, &[(Some("a"), vec![b"b".to_vec()])]);
    let n = merge_none.len();
    merge_none[n - 5..n - 1].copy_from_slice(&NONE.to_le_bytes());
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("op only", 1u32.to_le_bytes().to_vec()),
        ("op 0", agg(0, &[])),
        ("op 4", agg(4, &[])),
        ("more groups than bytes", {
            let mut b = agg(3, &[]);
            b[4..8].copy_from_slice(&1000u32.to_le_bytes());
            b
        }),
        ("a group missing", {
            let mut b = agg(3, &[(Some("a"), vec![])]);
            b[4..8].copy_from_slice(&2u32.to_le_bytes());
            b
        }),
        ("accumulator past the end", good[..10].to_vec()),
        ("no record count", agg(1, &[(Some("a"), vec![])])[..13].to_vec()),
        ("a record missing", good[..good.len() - 6].to_vec()),
        ("payload past the end", good[..good.len() - 1].to_vec()),
        ("reserved record flags", reserved),
        ("no accumulator to merge into", agg(2, &[(None, vec![])])),
        ("no accumulator for a result", agg(3, &[(None, vec![])])),
        ("an accumulator to merge that is none", merge_none),
        ("an accumulator to merge past the end", agg(2, &[(Some("a"), vec![b"bc".to_vec()])])[..21].to_vec()),
        ("trailing bytes", trailing),
    ];
    let (mut h, _) = trace_module();
    let mut r = Harness::new(|m| {
        m.reduce("keep", |_: &mut Vec<u8>, _: &[u8]| -> Result<()> { Ok(()) });
    });
    assert_eq!(h.call(AGGREGATE, 0, &good), (0, vec![out(0, "ab")]));
    for (name, input) in &cases {
        assert_eq!(h.call(AGGREGATE, 0, input), (4, vec![]), "aggregate: {}", name);
        assert_eq!(r.call(AGGREGATE, 0, input), (4, vec![]), "reduce: {}", name);
    }
}

/// A window process function that describes what it gets.
fn describe_window(w: &Window, elements: &[Record], out: &mut Collector) -> Result<()> {
    if w.start < 0 {
        return Err(Error::new("describe: negative window"));
    }
    let mut s = format!("{}-{} key={:?} n={}", w.start, w.end, w.key.map(text), elements.len());
    for e in elements {
        s.push_str(&format!(
            " [{} {} {:?} {:?} h{}]",
            e.index(),
            text(e.payload()),
            e.key().map(text),
            e.timestamp(),
            e.num_headers()
        ));
    }
    out.emit().set_payload(s.as_bytes());
    if w.key == Some(&b"k"[..]) {
        out.emit_payload(b"second");
    }
    Ok(())
}

#[test]
fn window_calls_with_keyed_and_non_keyed_windows() {
    let mut h = Harness::new(|m| {
        m.window_process("describe", describe_window);
    });
    let mut with_headers = prec("y");
    with_headers[0] |= 0x08;
    with_headers.extend_from_slice(&1u32.to_le_bytes());
    bytes(&mut with_headers, b"h");
    bytes(&mut with_headers, b"v");
    let input = win(&[
        (0, 10, Some("k"), vec![rec(Some("r"), Some(3), b"x"), with_headers.clone()]),
        (10, 20, None, vec![rec(None, Some(15), b"z")]),
        (20, 30, Some(""), vec![]),
        (-5, 0, None, vec![]),
    ]);
    // The last window fails: nothing of the call is emitted.
    let (rc, got) = h.call(WINDOW, 0, &input);
    assert_eq!((rc, got), (1, vec![]));
    assert_eq!(last_error(), "describe: negative window");

    let input = win(&[
        (0, 10, Some("k"), vec![rec(Some("r"), Some(3), b"x"), with_headers]),
        (10, 20, None, vec![rec(None, Some(15), b"z")]),
        (20, 30, Some(""), vec![]),
    ]);
    let (rc, got) = h.call(WINDOW, 0, &input);
    assert_eq!(rc, 0);
    assert_eq!(
        got,
        vec![
            out(0, r#"0-10 key=Some("k") n=2 [0 x Some("r") Some(3) h0] [1 y None None h1]"#),
            out(0, "second"),
            out(1, "10-20 key=None n=1 [0 z None Some(15) h0]"),
            out(2, r#"20-30 key=Some("") n=0"#),
        ]
    );
    let (rc, got) = h.call(WINDOW, 0, &win(&[]));
    assert_eq!((rc, got), (0, vec![]));
}

#[test]
fn window_outputs_must_set_their_payload() {
    let mut h = Harness::new(|m| {
        m.window_process("keyless", |_: &Window, _: &[Record], out: &mut Collector| -> Result<()> {
            out.emit().set_payload(b"fine");
            out.emit().set_timestamp(1); // no payload
            Ok(())
        });
    });
    let (rc, got) = h.call(WINDOW, 0, &win(&[(0, 10, Some("k"), vec![])]));
    assert_eq!((rc, got), (1, vec![]));
    assert!(last_error().contains("must set its payload"), "{}", last_error());
}

#[test]
fn malformed_window_frames() {
    let good = win(&[(0, 10, Some("k"), vec![prec("x")])]);
    let mut trailing = good.clone();
    trailing.push(0);
    let mut reserved = good.clone();
    let flags_at = 4 + 16 + 4 + 1 + 4;
    reserved[flags_at] = 0x14;
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("no window", 1u32.to_le_bytes().to_vec()),
        ("more windows than bytes", {
            let mut b = good.clone();
            b[..4].copy_from_slice(&1000u32.to_le_bytes());
            b
        }),
        ("a window missing", {
            let mut b = win(&[(0, 10, None, vec![])]);
            b[..4].copy_from_slice(&2u32.to_le_bytes());
            b
        }),
        ("end past the end", good[..15].to_vec()),
        ("key past the end", good[..24].to_vec()),
        ("no element count", good[..26].to_vec()),
        ("an element missing", good[..29].to_vec()),
        ("payload past the end", good[..good.len() - 1].to_vec()),
        ("more elements than bytes", {
            let mut b = good.clone();
            b[25..29].copy_from_slice(&1000u32.to_le_bytes());
            b
        }),
        ("reserved element flags", reserved),
        ("trailing bytes", trailing),
    ];
    let mut h = Harness::new(|m| {
        m.window_process("describe", describe_window);
    });
    assert_eq!(h.call(WINDOW, 0, &good).0, 0);
    for (name, input) in &cases {
        assert_eq!(h.call(WINDOW, 0, input), (4, vec![]), "{}", name);
    }
}

/// The timeout pattern with every timer and clock call: each record stores its
/// time in "last" and registers an event timer at +10 and a processing timer at
/// +20 (a payload "del" deletes both again); a fired timer reports its key's
/// "last" and the clocks, records its time in "fired", and an event timer
/// registers the next one at +5.
fn timers_module() -> Harness {
    Harness::new(|m| {
        let mut states = States::new();
        let last = states.value("last", 0);
        let fired = states.value("fired", 0);
        m.process_with_timers(
            "timeout",
            states,
            move |r: &Record, ctx: &mut Context| -> Result<()> {
                let ts = r.timestamp().unwrap_or(0);
                last.put_i64(ctx, ts)?;
                ctx.register_event_timer(ts + 10)?;
                ctx.register_processing_timer(ts + 20)?;
                if r.payload() == b"del" {
                    ctx.delete_event_timer(ts + 10)?;
                    ctx.delete_processing_timer(ts + 20)?;
                }
                Ok(())
            },
            move |t: &Timer, ctx: &mut Context| -> Result<()> {
                let l = last.get_i64(ctx)?;
                fired.put_i64(ctx, t.time)?;
                let s = format!(
                    "{}:{}:{:?}:last={:?}:wm={}:now={}:at={}",
                    text(t.key),
                    t.time,
                    t.domain,
                    l,
                    ctx.current_watermark(),
                    ctx.current_processing_time(),
                    ctx.index()
                );
                ctx.emit().set_payload(s.as_bytes());
                if t.domain == TimeDomain::EventTime {
                    ctx.register_event_timer(t.time + 5)?;
                }
                Ok(())
            },
        );
    })
}

pub(crate) fn timer_calls() -> Vec<(bool, i32, u32, i64)> {
    TIMER_CALLS.with(|c| std::mem::take(&mut *c.borrow_mut()))
}

#[test]
fn timers_registered_deleted_and_fired() {
    let store = install(&[StateKind::Value, StateKind::Value]);
    let mut h = timers_module();
    TIMER_CALLS.with(|c| c.borrow_mut().clear());
    store.borrow_mut().keys = vec![b"a".to_vec(), b"b".to_vec(), b"a".to_vec()];
    let input = batch(&[rec(Some("a"), Some(100), b"x"), rec(Some("b"), Some(200), b"x"), rec(Some("a"), Some(300), b"del")]);
    assert_eq!(h.call(PROCESS, 0, &input), (0, vec![]));
    // (register?, domain, record, time): each for the key of its record.
    assert_eq!(
        timer_calls(),
        vec![
            (true, 0, 0, 110),
            (true, 1, 0, 120),
            (true, 0, 1, 210),
            (true, 1, 1, 220),
            (true, 0, 2, 310),
            (true, 1, 2, 320),
            (false, 0, 2, 310),
            (false, 1, 2, 320),
        ]
    );

    // A timer call: the state and timer calls act for fired timer i's key.
    store.borrow_mut().keys = vec![b"b".to_vec(), b"a".to_vec()];
    CLOCKS.with(|c| c.set((250, 999)));
    let (rc, got) = h.call(TIMER, 0, &batch(&[fired("b", 210, 0), fired("a", 320, 1)]));
    assert_eq!(rc, 0);
    assert_eq!(
        got,
        vec![
            out(0, "b:210:EventTime:last=Some(200):wm=250:now=999:at=0"),
            out(1, "a:320:ProcessingTime:last=Some(300):wm=250:now=999:at=1"),
        ]
    );
    assert_eq!(timer_calls(), vec![(true, 0, 0, 215)]);
    let vals = store.borrow().vals.clone();
    assert_eq!(vals.get(&(1, b"b".to_vec(), Vec::new())), Some(&210i64.to_le_bytes().to_vec()));
    assert_eq!(vals.get(&(1, b"a".to_vec(), Vec::new())), Some(&320i64.to_le_bytes().to_vec()));

    // Before the first watermark the clock is the smallest i64.
    store.borrow_mut().keys = vec![b"c".to_vec()];
    CLOCKS.with(|c| c.set((i64::MIN, 5)));
    let (rc, got) = h.call(TIMER, 0, &batch(&[fired("c", 1, 1)]));
    assert_eq!(rc, 0);
    assert_eq!(got, vec![out(0, &format!("c:1:ProcessingTime:last=None:wm={}:now=5:at=0", i64::MIN))]);
    uninstall();
}

#[test]
fn timer_import_errors_fail_the_call() {
    let store = install(&[StateKind::Value, StateKind::Value]);
    let mut h = timers_module();
    store.borrow_mut().keys = vec![b"a".to_vec()];
    for (rc, why) in [(-3, "INVALID"), (-2, "UNSUPPORTED")] {
        TIMER_RC.with(|r| r.set(rc));
        let (code, got) = h.call(PROCESS, 0, &batch(&[rec(Some("a"), Some(1), b"x")]));
        assert_eq!((code, got), (1, vec![]));
        assert!(last_error().contains(why), "{}", last_error());
    }
    TIMER_RC.with(|r| r.set(0));
    uninstall();
}

#[test]
fn malformed_timer_frames() {
    let store = install(&[StateKind::Value, StateKind::Value]);
    store.borrow_mut().keys = vec![b"a".to_vec(), b"a".to_vec()];
    let mut h = timers_module();
    let good = batch(&[fired("a", 5, 0)]);
    let mut trailing = good.clone();
    trailing.push(0);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("a timer missing", 1u32.to_le_bytes().to_vec()),
        ("more timers than bytes", {
            let mut b = good.clone();
            b[..4].copy_from_slice(&1000u32.to_le_bytes());
            b
        }),
        ("domain 2", batch(&[fired("a", 5, 2)])),
        ("an empty payload", batch(&[rec(Some("a"), Some(5), b"")])),
        ("a two-byte payload", batch(&[rec(Some("a"), Some(5), &[0, 0])])),
        ("no time", batch(&[rec(Some("a"), None, &[0])])),
        ("reserved flags", {
            let mut b = good.clone();
            b[4] |= 0x20;
            b
        }),
        ("truncated", good[..good.len() - 1].to_vec()),
        ("trailing bytes", trailing),
    ];
    assert_eq!(h.call(TIMER, 0, &good).0, 0);
    for (name, input) in &cases {
        assert_eq!(h.call(TIMER, 0, input), (4, vec![]), "{}", name);
    }
    uninstall();
}

/// A process function whose struct handles timers itself, as the windows
/// example's does.
struct OwnTimers;

impl crate::Process for OwnTimers {
    fn process(&mut self, _: &Record, _: &mut Context) -> Result<()> {
        Ok(())
    }
    fn has_timers(&self) -> bool {
        true
    }
    fn on_timer(&mut self, t: &Timer, ctx: &mut Context) -> Result<()> {
        ctx.emit_payload(t.key);
        Ok(())
    }
}

/// A module with one function of every kind, at these indices.
const KINDS: [&str; 15] = [
    "map",
    "filter",
    "flat_map",
    "key_selector",
    "process",
    "process_with_timers",
    "process_own_timers",
    "reduce",
    "aggregate",
    "window_process",
    "timestamp_extractor",
    "co_process",
    "co_process_with_timers",
    "trigger",
    "evictor",
];

fn every_kind() -> Harness {
    Harness::new(|m| {
        m.map("map", |_: &Record, _: &mut Output| -> Result<()> { Ok(()) });
        m.filter("filter", |_: &Record| -> Result<bool> { Ok(true) });
        m.flat_map("flat_map", |_: &Record, _: &mut Collector| -> Result<()> { Ok(()) });
        m.key_selector("key_selector", |_: &Record, _: &mut Vec<u8>| -> Result<()> { Ok(()) });
        m.process("process", States::new(), |_: &Record, _: &mut Context| -> Result<()> { Ok(()) });
        m.process_with_timers(
            "process_with_timers",
            States::new(),
            |_: &Record, _: &mut Context| -> Result<()> { Ok(()) },
            |_: &Timer, _: &mut Context| -> Result<()> { Ok(()) },
        );
        m.process("process_own_timers", States::new(), OwnTimers);
        m.reduce("reduce", |_: &mut Vec<u8>, _: &[u8]| -> Result<()> { Ok(()) });
        m.aggregate("aggregate", Trace { creates: Rc::new(Cell::new(0)) });
        m.window_process("window_process", describe_window);
        m.timestamp_extractor("timestamp_extractor", |_: &Record| -> Result<Extracted> { Ok(Extracted::default()) });
        let nothing = |_: &Record, _: &mut Context| -> Result<()> { Ok(()) };
        m.co_process("co_process", States::new(), (nothing, nothing));
        m.co_process_with_timers("co_process_with_timers", States::new(), (nothing, nothing), |_: &Timer, _: &mut Context| {
            Ok(())
        });
        m.trigger("trigger", |_: &TriggerEvent| -> Result<TriggerResult> { Ok(TriggerAction::Continue.into()) });
        m.evictor("evictor", |_: &Window, _: &[Record], _: &mut Vec<u32>| -> Result<()> { Ok(()) });
    })
}

#[test]
fn call_kinds_a_function_does_not_take_return_3() {
    let mut h = every_kind();
    let empty_batch = batch(&[]);
    let no_windows = win(&[]);
    let no_groups = agg(3, &[]);
    let takes = |name: &str, kind: i32| -> bool {
        match kind {
            OPEN | CLOSE => true,
            PROCESS => !matches!(name, "aggregate" | "window_process" | "trigger" | "evictor"),
            PROCESS2 => name.starts_with("co_process"),
            TIMER => matches!(name, "process_with_timers" | "process_own_timers" | "co_process_with_timers"),
            WINDOW => name == "window_process",
            AGGREGATE => matches!(name, "reduce" | "aggregate"),
            TRIGGER => name == "trigger",
            EVICT => name == "evictor",
            _ => false,
        }
    };
    let no_events = 0u32.to_le_bytes();
    for (f, name) in KINDS.iter().enumerate() {
        for kind in [-1, 0, OPEN, PROCESS, PROCESS2, TIMER, WINDOW, CLOSE, AGGREGATE, TRIGGER, EVICT, 10, 100] {
            let input: &[u8] = match kind {
                OPEN => b"{}",
                PROCESS | PROCESS2 | TIMER => &empty_batch,
                WINDOW | EVICT => &no_windows,
                AGGREGATE => &no_groups,
                TRIGGER => &no_events,
                _ => b"",
            };
            let want = if takes(name, kind) { 0 } else { 3 };
            assert_eq!(h.call(kind, f as i32, input).0, want, "{} (fn {}), call kind {}", name, f, kind);
            // A call the function does not take is refused before its input is
            // read: 3, never 4.
            if want == 3 {
                assert_eq!(h.call(kind, f as i32, b"\xff\xff").0, 3, "{}, call kind {} with garbage", name, kind);
            } else if kind != CLOSE {
                assert_eq!(h.call(kind, f as i32, b"\xff\xff").0, 4, "{}, call kind {} with garbage", name, kind);
            }
        }
    }
    for f in [KINDS.len() as i32, -1, i32::MAX] {
        assert_eq!(h.call(PROCESS, f, &empty_batch).0, 2, "fn {}", f);
    }
    // The struct's own on_timer answers its timer calls.
    let (rc, got) = h.call(TIMER, 6, &batch(&[fired("k", 1, 0)]));
    assert_eq!((rc, got), (0, vec![out(0, "k")]));
}
