//! Native tests of the process and reduce kinds over a fake host that keeps
//! state as ABI §4.2 describes it.

use crate::abi::{run_batch, Scratch};
use crate::host::{TestHost, LAST_ERROR, TEST_HOST};
use crate::state::parse_task_info;
use crate::{Context, Error, Function, Process, Record, Reduce, Result, StateKind, States};
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

/// The fake host's store, shared with the test through an Rc.
#[derive(Default)]
pub(crate) struct Store {
    kinds: Vec<StateKind>,
    pub(crate) keys: Vec<Vec<u8>>, // the keys of the current batch's records
    pub(crate) vals: BTreeMap<(u32, Vec<u8>, Vec<u8>), Vec<u8>>,
    lists: HashMap<(u32, Vec<u8>), Vec<Vec<u8>>>,
    calls: usize,
    task_info: Vec<u8>,
    /// Set while the call reads a broadcast input (`process2`, ABI §4.7): keyed
    /// state is INVALID and broadcast state writable, as the host has it.
    pub(crate) broadcast_input: bool,
}

struct Fake(Rc<RefCell<Store>>);

fn value_like(k: StateKind) -> bool {
    matches!(k, StateKind::Value | StateKind::Reducing | StateKind::Aggregating)
}

impl Store {
    /// The key a state call acts for: the record's, or none (empty) for a
    /// broadcast state, which uses the map row of ABI §4.2 for all keys.
    fn target(&mut self, state: u32, record: u32, ok: fn(StateKind) -> bool) -> Option<Vec<u8>> {
        self.calls += 1;
        let k = *self.kinds.get(state as usize)?;
        let k = if k == StateKind::Broadcast { StateKind::Map } else { k };
        if !ok(k) {
            return None;
        }
        let key = self.keys.get(record as usize).cloned()?;
        match self.kinds[state as usize] {
            StateKind::Broadcast => Some(Vec::new()),
            _ if self.broadcast_input => None,
            _ => Some(key),
        }
    }
    /// Whether a write to `state` is refused: broadcast state outside a
    /// broadcast input (ABI §4.8).
    fn read_only(&self, state: u32) -> bool {
        self.kinds.get(state as usize) == Some(&StateKind::Broadcast) && !self.broadcast_input
    }
    /// The kind of `state`, broadcast state being a map to the state calls.
    fn kind(&self, state: u32) -> StateKind {
        match self.kinds[state as usize] {
            StateKind::Broadcast => StateKind::Map,
            k => k,
        }
    }
}

fn write_out(v: &[u8], out: &mut [u8]) -> i32 {
    if v.len() <= out.len() {
        out[..v.len()].copy_from_slice(v);
    }
    v.len() as i32
}

fn field(b: &mut Vec<u8>, f: &[u8]) {
    b.extend_from_slice(&(f.len() as u32).to_le_bytes());
    b.extend_from_slice(f);
}

impl TestHost for Fake {
    fn state_get(&mut self, state: u32, record: u32, sub: &[u8], out: &mut [u8]) -> i32 {
        let mut s = self.0.borrow_mut();
        let key = match s.target(state, record, |k| value_like(k) || k == StateKind::Map) {
            Some(k) => k,
            None => return -3,
        };
        match s.vals.get(&(state, key, sub.to_vec())) {
            Some(v) => write_out(v, out),
            None => -1,
        }
    }
    fn state_put(&mut self, state: u32, record: u32, sub: &[u8], val: &[u8]) -> i32 {
        let mut s = self.0.borrow_mut();
        let key = match s.target(state, record, |k| value_like(k) || k == StateKind::Map) {
            Some(k) => k,
            None => return -3,
        };
        if (!sub.is_empty() && s.kind(state) != StateKind::Map) || s.read_only(state) {
            return -3;
        }
        s.vals.insert((state, key, sub.to_vec()), val.to_vec());
        0
    }
    fn state_append(&mut self, state: u32, record: u32, val: &[u8]) -> i32 {
        let mut s = self.0.borrow_mut();
        let key = match s.target(state, record, |k| k == StateKind::List) {
            Some(k) => k,
            None => return -3,
        };
        s.lists.entry((state, key)).or_default().push(val.to_vec());
        0
    }
    fn state_delete(&mut self, state: u32, record: u32, sub: &[u8]) -> i32 {
        let mut s = self.0.borrow_mut();
        let key = match s.target(state, record, |_| true) {
            Some(k) => k,
            None => return -3,
        };
        if s.read_only(state) {
            return -3;
        }
        match s.kind(state) {
            StateKind::List => {
                s.lists.remove(&(state, key));
            }
            StateKind::Map if !sub.is_empty() => {
                s.vals.remove(&(state, key, sub.to_vec()));
            }
            _ => s.vals.retain(|k, _| !(k.0 == state && k.1 == key)),
        }
        0
    }
    fn state_iter(&mut self, state: u32, record: u32, cursor: u32, out: &mut [u8]) -> i32 {
        let mut s = self.0.borrow_mut();
        let key = match s.target(state, record, |k| k == StateKind::List || k == StateKind::Map) {
            Some(k) => k,
            None => return -3,
        };
        let mut e = Vec::new();
        if s.kind(state) == StateKind::List {
            match s.lists.get(&(state, key)).and_then(|l| l.get(cursor as usize)) {
                Some(v) => {
                    e.push(0x04);
                    field(&mut e, v);
                }
                None => return -1,
            }
        } else {
            let entry = s.vals.iter().filter(|(k, _)| k.0 == state && k.1 == key).nth(cursor as usize);
            match entry {
                Some((k, v)) => {
                    e.push(0x05);
                    field(&mut e, &k.2);
                    field(&mut e, v);
                }
                None => return -1,
            }
        }
        write_out(&e, out)
    }
    fn task_info(&mut self, out: &mut [u8]) -> i32 {
        let mut s = self.0.borrow_mut();
        s.calls += 1;
        let info = s.task_info.clone();
        write_out(&info, out)
    }
}

pub(crate) fn install(kinds: &[StateKind]) -> Rc<RefCell<Store>> {
    let store = Rc::new(RefCell::new(Store { kinds: kinds.to_vec(), ..Store::default() }));
    TEST_HOST.with(|h| *h.borrow_mut() = Some(Box::new(Fake(store.clone()))));
    store
}

pub(crate) fn uninstall() {
    TEST_HOST.with(|h| *h.borrow_mut() = None);
}

/// A batch of keyed records (key, payload), whose keys the store learns.
fn batch(store: &Rc<RefCell<Store>>, recs: &[(&str, &str)]) -> Vec<u8> {
    let mut b = (recs.len() as u32).to_le_bytes().to_vec();
    store.borrow_mut().keys = recs.iter().map(|r| r.0.as_bytes().to_vec()).collect();
    for (k, p) in recs {
        b.push(0x05);
        field(&mut b, k.as_bytes());
        field(&mut b, p.as_bytes());
    }
    b
}

/// The outputs of a frame as (parent, tag, payload); every output must set only
/// the payload.
fn outputs(frame: &[u8]) -> Vec<(u32, u32, String)> {
    let u32at = |i: usize| u32::from_le_bytes([frame[i], frame[i + 1], frame[i + 2], frame[i + 3]]);
    let n = u32at(0);
    let mut i = 4;
    let mut v = Vec::new();
    for _ in 0..n {
        let (parent, tag, flags) = (u32at(i), u32at(i + 4), frame[i + 8]);
        assert_eq!(flags, 0x04, "output {} sets flags {:#x}", v.len(), flags);
        let len = u32at(i + 9) as usize;
        v.push((parent, tag, String::from_utf8_lossy(&frame[i + 13..i + 13 + len]).into_owned()));
        i += 13 + len;
    }
    assert_eq!(i, frame.len(), "bytes after the last output");
    v
}

fn last_error() -> String {
    LAST_ERROR.with(|e| e.borrow().clone())
}

fn process_fn<P: Process + 'static>(p: P) -> Function {
    Function::Process(Box::new(p))
}

#[test]
fn keyed_count_across_records_and_batches() {
    let store = install(&[StateKind::Value]);
    let mut states = States::new();
    let id = states.id;
    let count = states.value("count", 0);
    assert_eq!(states.decls.len(), 1);
    let mut f = process_fn(move |r: &Record, ctx: &mut Context| -> Result<()> {
        let n = count.get_i64(ctx)?.unwrap_or(0) + 1;
        count.put_i64(ctx, n)?;
        match r.payload() {
            b"quiet" => return Ok(()),
            b"twice" => ctx.emit_to(1).set_payload(b"side"),
            _ => {}
        }
        let o = ctx.emit();
        crate::json::append_i64(o.payload_mut(), n);
        Ok(())
    });
    let mut scratch = Scratch::default();
    let b = batch(&store, &[("a", "x"), ("b", "x"), ("a", "twice"), ("a", "quiet"), ("a", "x")]);
    let (rc, frame) = run_batch(&mut f, id, &b, &mut scratch);
    assert_eq!(rc, 0, "{}", last_error());
    let want = vec![
        (0, 0, "1".to_string()),
        (1, 0, "1".to_string()),
        (2, 1, "side".to_string()),
        (2, 0, "2".to_string()),
        (4, 0, "4".to_string()),
    ];
    assert_eq!(outputs(&frame), want);
    let b = batch(&store, &[("b", "x"), ("a", "x")]);
    let (rc, frame) = run_batch(&mut f, id, &b, &mut scratch);
    assert_eq!(rc, 0);
    assert_eq!(outputs(&frame), vec![(0, 0, "2".to_string()), (1, 0, "5".to_string())]);
    assert_eq!(store.borrow().vals[&(0, b"a".to_vec(), vec![])], 5i64.to_le_bytes().to_vec());
    uninstall();
}

#[test]
fn big_values_grow_the_buffer_once() {
    let store = install(&[StateKind::Value]);
    let mut states = States::new();
    let id = states.id;
    let v = states.value("v", 0);
    let big = "b".repeat(1000);
    let mut f = process_fn(move |r: &Record, ctx: &mut Context| -> Result<()> {
        let len = v.get(ctx)?.map_or(0, |x| x.len());
        ctx.emit_payload(len.to_string().as_bytes());
        let mut n = big.clone().into_bytes();
        n.extend_from_slice(r.payload());
        v.put(ctx, &n)
    });
    let mut scratch = Scratch::default();
    let b = batch(&store, &[("k", "1"), ("k", "22")]);
    let (rc, frame) = run_batch(&mut f, id, &b, &mut scratch);
    assert_eq!(rc, 0, "{}", last_error());
    assert_eq!(outputs(&frame), vec![(0, 0, "0".to_string()), (1, 0, "1001".to_string())]);
    // get (absent), put, get (1001 > 64: nothing written), get again, put.
    assert_eq!(store.borrow().calls, 5);
    run_batch(&mut f, id, &b, &mut scratch); // the 1002-byte value grows it once more
    store.borrow_mut().calls = 0;
    let (rc, _) = run_batch(&mut f, id, &batch(&store, &[("k", "22")]), &mut scratch);
    assert_eq!((rc, store.borrow().calls), (0, 2), "the grown buffer is kept");
    uninstall();
}

#[test]
fn list_and_map_state() {
    let store = install(&[StateKind::List, StateKind::Map]);
    let mut states = States::new();
    let id = states.id;
    let list = states.list("l", 0);
    let map = states.map("m", 60_000);
    let big = "x".repeat(200);
    let mut f = process_fn(move |r: &Record, ctx: &mut Context| -> Result<()> {
        let mut seen: Vec<String> = Vec::new();
        match r.payload() {
            b"fill" => {
                for v in ["one", big.as_str(), ""] {
                    list.append(ctx, v.as_bytes())?;
                }
                for (k, v) in [("b", "2"), ("a", big.as_str()), ("c", "3"), ("", "empty")] {
                    map.put(ctx, k.as_bytes(), v.as_bytes())?;
                }
            }
            b"read" => {
                list.for_each(ctx, |v, _| {
                    seen.push(format!("l={}", v.len()));
                    Ok(true)
                })?;
                // The callback may emit, and use other state.
                map.for_each(ctx, |sub, v, ctx| {
                    seen.push(format!("{}={}", String::from_utf8_lossy(sub), v.len()));
                    ctx.emit_to(1).set_payload(sub);
                    list.for_each(ctx, |_, _| Ok(false))?;
                    Ok(true)
                })?;
                assert_eq!(map.get(ctx, b"c")?, Some(&b"3"[..]));
                assert_eq!(map.get(ctx, b"zz")?, None);
            }
            b"stop" => map.for_each(ctx, |sub, _, _| {
                seen.push(String::from_utf8_lossy(sub).into_owned());
                Ok(false)
            })?,
            b"delete" => {
                map.remove(ctx, b"b")?;
                let e = map.remove(ctx, b"").unwrap_err();
                assert!(e.message().contains("use clear"), "{}", e);
                map.for_each(ctx, |sub, _, _| {
                    seen.push(String::from_utf8_lossy(sub).into_owned());
                    Ok(true)
                })?;
            }
            b"fail" => map.for_each(ctx, |_, _, _| Err(Error::new("stop here")))?,
            _ => {
                list.clear(ctx)?;
                map.clear(ctx)?;
                list.for_each(ctx, |_, _| Ok(seen.push("l".into()) == ()))?;
                map.for_each(ctx, |_, _, _| Ok(seen.push("m".into()) == ()))?;
            }
        }
        ctx.emit_payload(seen.join(",").as_bytes());
        Ok(())
    });
    let mut scratch = Scratch::default();
    let b = batch(&store, &[("k", "fill"), ("k", "read"), ("k", "stop"), ("k", "delete"), ("k", "clear")]);
    let (rc, frame) = run_batch(&mut f, id, &b, &mut scratch);
    assert_eq!(rc, 0, "{}", last_error());
    let got: Vec<(u32, String)> = outputs(&frame).into_iter().map(|o| (o.1, o.2)).collect();
    let s = |t: u32, v: &str| (t, v.to_string());
    assert_eq!(
        got,
        vec![
            s(0, ""),
            s(1, ""),
            s(1, "a"),
            s(1, "b"),
            s(1, "c"),
            s(0, "l=3,l=200,l=0,=5,a=200,b=1,c=1"),
            s(0, ""),
            s(0, ",a,c"),
            s(0, ""),
        ]
    );
    let (rc, _) = run_batch(&mut f, id, &batch(&store, &[("k", "fill"), ("k", "fail")]), &mut scratch);
    assert_eq!((rc, last_error()), (1, "stop here".to_string()));
    uninstall();
}

#[test]
fn state_errors_say_what_and_which() {
    uninstall();
    let mut states = States::new();
    let id = states.id;
    let v = states.value("v", 0);
    let mut f = process_fn(move |_: &Record, ctx: &mut Context| -> Result<()> { v.put_i64(ctx, 1) });
    let mut scratch = Scratch::default();
    let store = Rc::new(RefCell::new(Store::default()));
    let b = batch(&store, &[("k", "")]);
    let (rc, frame) = run_batch(&mut f, id, &b, &mut scratch);
    assert_eq!((rc, frame.len()), (1, 4), "nothing emitted");
    assert_eq!(last_error(), r#"weir: writing state "v": the host does not support keyed state (UNSUPPORTED)"#);

    let store = install(&[StateKind::List]);
    let (rc, _) = run_batch(&mut f, id, &batch(&store, &[("k", "")]), &mut scratch);
    assert_eq!(rc, 1);
    assert_eq!(last_error(), r#"weir: writing state "v": the host refused the call as invalid (INVALID)"#);

    let store = install(&[StateKind::Value]);
    store.borrow_mut().vals.insert((0, b"k".to_vec(), vec![]), b"abc".to_vec());
    let mut g = process_fn(move |_: &Record, ctx: &mut Context| -> Result<()> { v.get_i64(ctx).map(|_| ()) });
    let (rc, _) = run_batch(&mut g, id, &batch(&store, &[("k", "")]), &mut scratch);
    assert_eq!(rc, 1);
    assert_eq!(last_error(), r#"weir: reading state "v": the value is 3 bytes, not an 8-byte little-endian i64"#);
    uninstall();
}

#[test]
fn handles_of_another_function_are_refused() {
    let store = install(&[StateKind::Value]);
    let mut mine = States::new();
    let id = mine.id;
    mine.value("mine", 0);
    let mut theirs = States::new();
    let other = theirs.value("theirs", 0);
    let mut f = process_fn(move |_: &Record, ctx: &mut Context| -> Result<()> { other.put_i64(ctx, 1) });
    let (rc, _) = run_batch(&mut f, id, &batch(&store, &[("k", "")]), &mut Scratch::default());
    assert_eq!(rc, 1);
    assert_eq!(last_error(), r#"weir: writing state "theirs": the state belongs to another function's States"#);
    assert!(store.borrow().vals.is_empty());
    uninstall();
}

#[test]
#[should_panic(expected = "declared twice")]
fn state_names_are_unique() {
    let mut states = States::new();
    states.value("v", 0);
    states.list("v", 0);
}

struct Sum;

impl Reduce for Sum {
    fn reduce(&mut self, acc: &mut Vec<u8>, value: &[u8]) -> Result<()> {
        let a: i64 = std::str::from_utf8(acc).ok().and_then(|s| s.parse().ok()).ok_or("bad acc")?;
        let v: i64 = std::str::from_utf8(value)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| Error::new(format!("sum: payload {:?} is not a number", String::from_utf8_lossy(value))))?;
        acc.clear();
        crate::json::append_i64(acc, a + v);
        Ok(())
    }
}

#[test]
fn reduce_chains_within_and_across_batches() {
    let store = install(&[StateKind::Reducing]);
    let id = 0; // a reduce function's state has no States of the user's
    let mut f = Function::Reduce(Box::new(Sum));
    let mut scratch = Scratch::default();
    let pl = |frame: &[u8]| -> Vec<String> {
        outputs(frame)
            .into_iter()
            .enumerate()
            .map(|(i, o)| {
                assert_eq!((o.0, o.1), (i as u32, 0));
                o.2
            })
            .collect()
    };
    let (rc, frame) = run_batch(&mut f, id, &batch(&store, &[("a", "1"), ("b", "10"), ("a", "2"), ("a", "3")]), &mut scratch);
    assert_eq!(rc, 0, "{}", last_error());
    assert_eq!(pl(&frame), vec!["1", "10", "3", "6"]);
    let (rc, frame) = run_batch(&mut f, id, &batch(&store, &[("b", "5"), ("a", "4"), ("c", "junk")]), &mut scratch);
    assert_eq!(rc, 0);
    assert_eq!(pl(&frame), vec!["15", "10", "junk"]);
    let (rc, frame) = run_batch(&mut f, id, &batch(&store, &[("a", "x")]), &mut scratch);
    assert_eq!((rc, frame.len(), last_error()), (1, 4, r#"sum: payload "x" is not a number"#.to_string()));
    assert_eq!(store.borrow().vals[&(0, b"a".to_vec(), vec![])], b"10".to_vec());
    uninstall();
    let (rc, _) = run_batch(&mut f, id, &batch(&store, &[("a", "1")]), &mut scratch);
    assert_eq!(rc, 1);
    assert!(last_error().contains(r#"reading state "reduce""#), "{}", last_error());
}

#[test]
fn description_lists_state() {
    let mut m = crate::Module { functions: Vec::new() };
    let mut states = States::new();
    states.value("n", 0);
    states.map("seen", 5_400_000);
    m.process("count", states, |_: &Record, _: &mut Context| -> Result<()> { Ok(()) });
    m.reduce("sum", Sum);
    let d: Vec<String> = m
        .functions
        .iter()
        .map(|f| f.state.iter().map(|s| format!("{}:{}:{}", s.name, s.kind.name(), s.ttl_ms)).collect::<Vec<_>>().join(","))
        .collect();
    assert_eq!(d, vec!["n:value:0,seen:map:5400000", "reduce:reducing:0"]);
}

#[test]
#[should_panic(expected = "no side outputs")]
fn reduce_has_no_side_outputs() {
    let mut m = crate::Module { functions: Vec::new() };
    let i = m.reduce("sum", Sum);
    m.side_outputs(i, &["x"]);
}

#[test]
fn task_info_parses_and_refuses() {
    let info = br#"{"job_id":"j-1","job_name":"counts \"daily\"","step":"count","subtask":1,"parallelism":2,"max_parallelism":128,"attempt":3,"later":[1]}"#;
    let t = parse_task_info(info).unwrap();
    assert_eq!(
        (t.job_id.as_str(), t.job_name.as_str(), t.step.as_str(), t.subtask, t.parallelism, t.max_parallelism, t.attempt),
        ("j-1", "counts \"daily\"", "count", 1, 2, 128, 3)
    );
    assert_eq!(parse_task_info(b"{}").unwrap(), crate::TaskInfo::default());
    for (bad, msg) in [
        (&b"[1]"[..], "not a JSON object"),
        (&br#"{"attempt":"3"}"#[..], "attempt is not an integer"),
        (&br#"{"job_id":7}"#[..], "job_id is not a string"),
    ] {
        let e = parse_task_info(bad).unwrap_err();
        assert!(e.message().contains(msg), "{}", e);
    }
}

#[test]
fn task_info_is_asked_once_through_a_larger_buffer() {
    let store = install(&[]);
    let long = format!(r#"{{"attempt":4,"pad":"{}"}}"#, "z".repeat(300));
    store.borrow_mut().task_info = long.into_bytes();
    assert_eq!(crate::task_info().unwrap().attempt, 4);
    assert_eq!(crate::task_info().unwrap().attempt, 4);
    assert_eq!(store.borrow().calls, 2, "one call too small, one fitting, then the cache");
    uninstall();
}
