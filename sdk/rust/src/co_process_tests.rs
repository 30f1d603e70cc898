//! Native tests of co_process functions (ABI §4.7) and broadcast state (§4.8)
//! through the dispatcher, over the fake host of state_tests.

use crate::abi::write_description;
use crate::call_tests::{batch, fired, last_error, out, rec, text, timer_calls, Harness, Out};
use crate::state_tests::{install, uninstall};
use crate::{CoProcess, Context, Module, Record, Result, StateKind, States, Timer};

const PROCESS: i32 = 2;
const PROCESS2: i32 = 3;
const TIMER: i32 = 4;

/// An output to side output `tag` with flags PAYLOAD alone.
fn side(parent: u32, tag: u32, payload: &str) -> Out {
    Out { parent, tag, flags: 0x04, payload: payload.to_string() }
}

/// Both inputs keyed: each handler counts the records of the key in one shared
/// value state; the first input reports on the main output, the second on side
/// output 1, and a second-input record "t" registers an event timer at its time.
fn keyed_module() -> Harness {
    Harness::new(|m| {
        let mut states = States::new();
        let count = states.value("count", 0);
        let bump = move |ctx: &mut Context| -> Result<i64> {
            let n = count.get_i64(ctx)?.unwrap_or(0) + 1;
            count.put_i64(ctx, n)?;
            Ok(n)
        };
        let i = m.co_process_with_timers(
            "join",
            states,
            (
                move |r: &Record, ctx: &mut Context| -> Result<()> {
                    let n = bump(ctx)?;
                    let s = format!("1:{}:{}", text(r.key().unwrap_or(b"")), n);
                    ctx.emit_payload(s.as_bytes());
                    Ok(())
                },
                move |r: &Record, ctx: &mut Context| -> Result<()> {
                    let n = bump(ctx)?;
                    if r.payload() == b"t" {
                        ctx.register_event_timer(r.timestamp().unwrap_or(0))?;
                    }
                    ctx.emit_to(1).set_payload(format!("2:{}", n).as_bytes());
                    Ok(())
                },
            ),
            move |t: &Timer, ctx: &mut Context| -> Result<()> {
                let n = count.get_i64(ctx)?.unwrap_or(0);
                ctx.emit_payload(format!("t:{}:{}", text(t.key), n).as_bytes());
                Ok(())
            },
        );
        m.side_outputs(i, &["second"]);
    })
}

#[test]
fn both_inputs_share_keyed_state_and_timers() {
    let store = install(&[StateKind::Value]);
    let mut h = keyed_module();
    store.borrow_mut().keys = vec![b"a".to_vec(), b"b".to_vec(), b"a".to_vec()];
    let first = batch(&[rec(Some("a"), None, b"x"), rec(Some("b"), None, b"x"), rec(Some("a"), None, b"x")]);
    let (rc, got) = h.call(PROCESS, 0, &first);
    assert_eq!(rc, 0, "{}", last_error());
    assert_eq!(got, vec![out(0, "1:a:1"), out(1, "1:b:1"), out(2, "1:a:2")]);

    store.borrow_mut().keys = vec![b"b".to_vec(), b"a".to_vec()];
    timer_calls();
    let second = batch(&[rec(Some("b"), Some(50), b"t"), rec(Some("a"), None, b"x")]);
    let (rc, got) = h.call(PROCESS2, 0, &second);
    assert_eq!(rc, 0, "{}", last_error());
    assert_eq!(got, vec![side(0, 1, "2:2"), side(1, 1, "2:3")]);
    assert_eq!(timer_calls(), vec![(true, 0, 0, 50)]);

    store.borrow_mut().keys = vec![b"b".to_vec()];
    let (rc, got) = h.call(TIMER, 0, &batch(&[fired("b", 50, 0)]));
    assert_eq!((rc, got), (0, vec![out(0, "t:b:2")]));
    uninstall();
}

#[test]
fn a_failing_handler_emits_nothing() {
    let _store = install(&[]);
    let mut h = Harness::new(|m| {
        m.co_process(
            "fails",
            States::new(),
            (
                |_: &Record, ctx: &mut Context| -> Result<()> {
                    ctx.emit_payload(b"first");
                    Ok(())
                },
                |r: &Record, ctx: &mut Context| -> Result<()> {
                    ctx.emit_payload(b"before");
                    if r.payload() == b"bad" {
                        return Err("fails: bad record".into());
                    }
                    Ok(())
                },
            ),
        );
    });
    let (rc, got) = h.call(PROCESS2, 0, &batch(&[rec(None, None, b"ok"), rec(None, None, b"bad")]));
    assert_eq!((rc, got, last_error()), (1, vec![], "fails: bad record".to_string()));
    // Without timers a timer call is refused; a process call still runs.
    assert_eq!(h.call(TIMER, 0, &batch(&[fired("k", 1, 0)])).0, 3);
    assert_eq!(h.call(PROCESS, 0, &batch(&[rec(None, None, b"x")])), (0, vec![out(0, "first")]));
    uninstall();
}

/// A broadcast co_process in the style of the streams example: the second input
/// writes rules ("+id=value", "-id", "clear"), the first reads them all; a
/// first-input record "write" tries to write them, a second-input record
/// "keyed" tries keyed state.
struct Rules {
    rules: crate::BroadcastState,
    seen: crate::ValueState,
}

impl CoProcess for Rules {
    fn process1(&mut self, r: &Record, ctx: &mut Context) -> Result<()> {
        if r.payload() == b"write" {
            return self.rules.put(ctx, b"x", b"y");
        }
        if r.payload() == b"remove" {
            return self.rules.remove(ctx, b"x");
        }
        let mut all = Vec::new();
        self.rules.for_each(ctx, |sub, v, _| {
            all.push(format!("{}={}", text(sub), text(v)));
            Ok(true)
        })?;
        let b = self.rules.get(ctx, b"b")?.map(text);
        ctx.emit_payload(format!("{} b={:?}", all.join(","), b).as_bytes());
        Ok(())
    }
    fn process2(&mut self, r: &Record, ctx: &mut Context) -> Result<()> {
        let p = r.payload();
        match p.first() {
            Some(b'+') => {
                let eq = p.iter().position(|&c| c == b'=').ok_or("no =")?;
                self.rules.put(ctx, &p[1..eq], &p[eq + 1..])
            }
            Some(b'-') => self.rules.remove(ctx, &p[1..]),
            _ if p == b"clear" => self.rules.clear(ctx),
            _ if p == b"keyed" => self.seen.put_i64(ctx, 1),
            _ => Ok(()),
        }
    }
}

fn rules_module() -> Harness {
    Harness::new(|m| {
        let mut states = States::new();
        let rules = states.broadcast("rules");
        let seen = states.value("seen", 0);
        m.co_process("rules", states, Rules { rules, seen });
    })
}

#[test]
fn broadcast_state_written_by_the_second_input_read_by_the_first() {
    let store = install(&[StateKind::Broadcast, StateKind::Value]);
    let mut h = rules_module();
    let ops = ["+b=2", "+a=1", "+c=3", "+b=22", "-c", "ignored"];
    store.borrow_mut().keys = vec![Vec::new(); ops.len()];
    store.borrow_mut().broadcast_input = true;
    let second: Vec<Vec<u8>> = ops.iter().map(|o| rec(None, None, o.as_bytes())).collect();
    let (rc, got) = h.call(PROCESS2, 0, &batch(&second));
    assert_eq!((rc, got), (0, vec![]), "{}", last_error());

    // Read from any key's record, in byte order of the sub-keys.
    store.borrow_mut().broadcast_input = false;
    store.borrow_mut().keys = vec![b"k1".to_vec(), b"k2".to_vec()];
    let first = batch(&[rec(Some("k1"), None, b"read"), rec(Some("k2"), None, b"read")]);
    let (rc, got) = h.call(PROCESS, 0, &first);
    assert_eq!(rc, 0, "{}", last_error());
    assert_eq!(got, vec![out(0, r#"a=1,b=22 b=Some("22")"#), out(1, r#"a=1,b=22 b=Some("22")"#)]);

    store.borrow_mut().keys = vec![Vec::new()];
    store.borrow_mut().broadcast_input = true;
    assert_eq!(h.call(PROCESS2, 0, &batch(&[rec(None, None, b"clear")])), (0, vec![]));
    store.borrow_mut().broadcast_input = false;
    assert_eq!(h.call(PROCESS, 0, &batch(&[rec(Some("k"), None, b"read")])), (0, vec![out(0, " b=None")]));
    uninstall();
}

#[test]
fn broadcast_writes_outside_process2_and_keyed_state_inside_are_errors() {
    let store = install(&[StateKind::Broadcast, StateKind::Value]);
    let mut h = rules_module();
    store.borrow_mut().keys = vec![b"k".to_vec()];
    for (payload, op) in [("write", "writing"), ("remove", "deleting from")] {
        let (rc, got) = h.call(PROCESS, 0, &batch(&[rec(Some("k"), None, payload.as_bytes())]));
        assert_eq!((rc, got), (1, vec![]));
        assert_eq!(
            last_error(),
            format!(
                r#"weir: {} state "rules": the host refused the call as invalid (INVALID): broadcast state is writable only in process2, while reading the broadcast input (ABI §4.8)"#,
                op
            )
        );
    }
    store.borrow_mut().broadcast_input = true;
    let (rc, _) = h.call(PROCESS2, 0, &batch(&[rec(None, None, b"keyed")]));
    assert_eq!(rc, 1);
    assert_eq!(last_error(), r#"weir: writing state "seen": the host refused the call as invalid (INVALID)"#);
    let (rc, _) = h.call(PROCESS2, 0, &batch(&[rec(None, None, b"-")]));
    assert_eq!(rc, 1);
    assert!(last_error().contains("use clear"), "{}", last_error());
    assert!(store.borrow().vals.is_empty());
    uninstall();
}

#[test]
fn description_names_co_process_and_broadcast_state() {
    let mut m = Module { functions: Vec::new() };
    let mut states = States::new();
    let rules = states.broadcast("rules");
    let seen = states.value("seen", 1000);
    let i = m.co_process("fraud", states, Rules { rules, seen });
    m.side_outputs(i, &["clean"]);
    let mut d = Vec::new();
    write_description(&m, &mut d);
    assert_eq!(
        text(&d),
        format!(
            concat!(
                r#"{{"abi_version":1,"sdk":"rust/{}","functions":[{{"name":"fraud","kind":"co_process","index":0,"side_outputs":["clean"],"#,
                r#""state":[{{"name":"rules","kind":"broadcast","ttl_ms":0}},{{"name":"seen","kind":"value","ttl_ms":1000}}]}}]}}"#
            ),
            crate::VERSION
        )
    );
    assert!(crate::json::valid_object(&d));
}
