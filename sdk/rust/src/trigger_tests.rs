//! Native tests of trigger (ABI §4.9) and evictor (§4.10) calls through the
//! dispatcher: frames in, the exact frames given to `weir.emit` out.

use crate::call_tests::{bytes, last_error, prec, rec, text, win, Harness};
use crate::{Record, Result, TriggerAction, TriggerEvent, TriggerResult, Window};
use std::cell::RefCell;
use std::rc::Rc;

const TRIGGER: i32 = 8;
const EVICT: i32 = 9;
const NONE: u32 = 0xFFFF_FFFF;

/// A trigger frame: (event, start, end, time, count, key or None).
fn events(ev: &[(u8, i64, i64, i64, u64, Option<&str>)]) -> Vec<u8> {
    let mut b = (ev.len() as u32).to_le_bytes().to_vec();
    for (kind, start, end, time, count, key) in ev {
        b.push(*kind);
        for v in [*start, *end, *time, *count as i64] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        match key {
            Some(k) => bytes(&mut b, k.as_bytes()),
            None => b.extend_from_slice(&NONE.to_le_bytes()),
        }
    }
    b
}

/// The output frame of a trigger or evict call: one PAYLOAD-only main output
/// per input, `input_index` its position.
fn answers(payloads: &[Vec<u8>]) -> Vec<u8> {
    let mut b = (payloads.len() as u32).to_le_bytes().to_vec();
    for (i, p) in payloads.iter().enumerate() {
        b.extend_from_slice(&(i as u32).to_le_bytes());
        b.extend_from_slice(&0u32.to_le_bytes());
        b.push(0x04);
        bytes(&mut b, p);
    }
    b
}

/// A trigger payload: the action, then each timer (ABI §4.9).
fn action(a: u8, timers: &[i64]) -> Vec<u8> {
    let mut b = vec![a];
    for t in timers {
        b.extend_from_slice(&t.to_le_bytes());
    }
    b
}

/// A trigger that logs the events it gets and answers by count: 0 continue,
/// 1 fire with an event timer at end - 1, 2 purge with a processing timer, 3
/// fire and purge with both; a count of 99 fails.
fn logging_trigger() -> (Harness, Rc<RefCell<Vec<String>>>) {
    let log = Rc::new(RefCell::new(Vec::new()));
    let l = log.clone();
    let h = Harness::new(move |m| {
        m.trigger("log", move |e: &TriggerEvent| -> Result<TriggerResult> {
            let w = &e.window;
            l.borrow_mut().push(format!("{:?} {}..{} {:?} t={} n={}", e.kind, w.start, w.end, w.key.map(text), e.time, e.count));
            Ok(match e.count {
                0 => TriggerAction::Continue.into(),
                1 => TriggerResult::new(TriggerAction::Fire).with_event_timer(w.end - 1),
                2 => TriggerResult::new(TriggerAction::Purge).with_processing_timer(500),
                99 => return Err("log: 99 elements".into()),
                _ => TriggerResult::new(TriggerAction::FireAndPurge).with_event_timer(7).with_processing_timer(8),
            })
        });
    });
    (h, log)
}

#[test]
fn trigger_answers_each_event_in_one_frame() {
    let (mut h, log) = logging_trigger();
    let input = events(&[
        (0, 0, 10, 4, 1, Some("k")),
        (1, 0, 10, 9, 0, Some("")),
        (2, i64::MIN, i64::MAX, 1234, 2, None),
        (0, 10, 20, 15, 3, Some("k")),
    ]);
    let (rc, frames) = h.call_raw(TRIGGER, 0, &input);
    assert_eq!(rc, 0, "{}", last_error());
    let want = answers(&[
        action(1, &[9]),
        action(0, &[i64::MIN]),
        action(2, &[i64::MIN, 500]),
        action(3, &[7, 8]),
    ]);
    assert_eq!(frames, vec![want]);
    assert_eq!(
        *log.borrow(),
        vec![
            r#"Elements 0..10 Some("k") t=4 n=1"#.to_string(),
            r#"EventTimer 0..10 Some("") t=9 n=0"#.to_string(),
            format!("ProcessingTimer {}..{} None t=1234 n=2", i64::MIN, i64::MAX),
            r#"Elements 10..20 Some("k") t=15 n=3"#.to_string(),
        ]
    );
    // No event: an empty answer.
    assert_eq!(h.call_raw(TRIGGER, 0, &events(&[])), (0, vec![answers(&[])]));
}

#[test]
fn trigger_failure_emits_nothing() {
    let (mut h, _) = logging_trigger();
    let input = events(&[(0, 0, 10, 4, 1, Some("k")), (0, 0, 10, 4, 99, Some("k"))]);
    assert_eq!(h.call_raw(TRIGGER, 0, &input), (1, vec![]));
    assert_eq!(last_error(), "log: 99 elements");
}

#[test]
fn malformed_trigger_frames() {
    let good = events(&[(0, 0, 10, 4, 1, Some("k"))]);
    let mut trailing = good.clone();
    trailing.push(0);
    let mut kind3 = good.clone();
    kind3[4] = 3;
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("an event missing", 1u32.to_le_bytes().to_vec()),
        ("more events than bytes", {
            let mut b = good.clone();
            b[..4].copy_from_slice(&2u32.to_le_bytes());
            b
        }),
        ("event kind 3", kind3),
        ("no key length", good[..good.len() - 5].to_vec()),
        ("key past the end", good[..good.len() - 1].to_vec()),
        ("trailing bytes", trailing),
    ];
    let (mut h, _) = logging_trigger();
    assert_eq!(h.call_raw(TRIGGER, 0, &good).0, 0);
    for (name, input) in &cases {
        assert_eq!(h.call_raw(TRIGGER, 0, input), (4, vec![]), "{}", name);
    }
}

/// An evictor that evicts the elements whose payload starts with "-", naming
/// them out of order and twice; a window key "far" evicts past the end.
fn minus_evictor() -> Harness {
    Harness::new(|m| {
        m.evictor("minus", |w: &Window, elements: &[Record], evicted: &mut Vec<u32>| -> Result<()> {
            assert!(evicted.is_empty(), "evicted is empty on entry");
            for e in elements.iter().rev() {
                if e.payload().starts_with(b"-") {
                    evicted.push(e.index());
                    evicted.push(e.index());
                }
            }
            if w.key == Some(&b"far"[..]) {
                evicted.push(elements.len() as u32);
            }
            Ok(())
        });
    })
}

/// An evictor payload: u32 m, then the m indexes.
fn indexes(ix: &[u32]) -> Vec<u8> {
    let mut b = (ix.len() as u32).to_le_bytes().to_vec();
    for i in ix {
        b.extend_from_slice(&i.to_le_bytes());
    }
    b
}

#[test]
fn evictor_answers_sorted_indexes_per_window() {
    let mut h = minus_evictor();
    let input = win(&[
        (0, 10, Some("k"), vec![prec("-1"), prec("2"), rec(Some("r"), Some(3), b"-3"), prec("-4")]),
        (10, 20, None, vec![prec("5")]),
        (20, 30, Some(""), vec![]),
    ]);
    let (rc, frames) = h.call_raw(EVICT, 0, &input);
    assert_eq!(rc, 0, "{}", last_error());
    assert_eq!(frames, vec![answers(&[indexes(&[0, 2, 3]), indexes(&[]), indexes(&[])])]);
    assert_eq!(h.call_raw(EVICT, 0, &win(&[])), (0, vec![answers(&[])]));
}

#[test]
fn evictor_index_past_the_elements_fails() {
    let mut h = minus_evictor();
    let input = win(&[(0, 10, Some("k"), vec![prec("-1")]), (0, 10, Some("far"), vec![prec("-1"), prec("2")])]);
    assert_eq!(h.call_raw(EVICT, 0, &input), (1, vec![]));
    assert_eq!(last_error(), "weir: an evictor evicted element 2 of a window of 2 (ABI §4.10)");
}

#[test]
fn malformed_evict_frames() {
    let good = win(&[(0, 10, Some("k"), vec![prec("x")])]);
    let mut trailing = good.clone();
    trailing.push(0);
    let mut h = minus_evictor();
    assert_eq!(h.call_raw(EVICT, 0, &good).0, 0);
    for (name, input) in [
        ("empty", Vec::new()),
        ("key past the end", good[..24].to_vec()),
        ("payload past the end", good[..good.len() - 1].to_vec()),
        ("trailing bytes", trailing),
    ] {
        assert_eq!(h.call_raw(EVICT, 0, &input), (4, vec![]), "{}", name);
    }
}

#[test]
#[should_panic(expected = "no side outputs")]
fn triggers_have_no_side_outputs() {
    let mut m = crate::Module { functions: Vec::new() };
    let i = m.trigger("t", |_: &TriggerEvent| -> Result<TriggerResult> { Ok(TriggerAction::Fire.into()) });
    m.side_outputs(i, &["x"]);
}
