//! Weir's streams example in Rust, with the Rust SDK (sdk/rust): the module every
//! SDK builds the same way (streams.wasm in Go, streams_rust.wasm here), whose
//! functions and indexes the conformance suite relies on.
//!
//!   0 fraud          co_process  transactions against broadcast rules
//!   1 match          map         an interval-join row of an order and its payment
//!   2 eager          trigger     fire at five elements, fire and purge at the end
//!   3 drop_negative  evictor     evict the elements with a negative "amount"
//!
//! Built as a cdylib example of the orders crate:
//! `cargo build --release --target wasm32-unknown-unknown --example streams`.

use weir::json::{self, Kind};
use weir::{
    BroadcastState, CoProcess, Context, Output, Record, Result, States, TriggerAction, TriggerEvent, TriggerEventKind,
    TriggerResult, Window,
};

/// fraud: the second input (broadcast) keeps the rules in the broadcast state
/// "rules", by rule id; the first input checks each transaction against every
/// rule, in rule-id order.
struct Fraud {
    rules: BroadcastState,
    /// The unquoted id of the current rule, reused from record to record.
    id: Vec<u8>,
}

/// Side output "clean": tag 1.
const CLEAN: u32 = 1;

impl CoProcess for Fraud {
    /// A transaction `{"id":..,"account":..,"amount":N}`: one main output
    /// `{"txn":id,"rule":"r","amount":N}` per rule whose max_amount is below
    /// the amount, or the record itself on "clean" when none is.
    fn process1(&mut self, r: &Record, ctx: &mut Context) -> Result<()> {
        let p = r.payload();
        let (amount_raw, amount) = match json::get(p, "amount") {
            Some((raw, Kind::Number)) => (raw, parse_f64(raw)),
            // Without a numeric amount no rule can match: the record is clean.
            _ => (&b"null"[..], None),
        };
        let txn = json::get(p, "id").map_or(&b"null"[..], |(raw, _)| raw);
        let mut matched = false;
        if let Some(amount) = amount {
            self.rules.for_each(ctx, |_, rule, ctx| {
                match (json::float(rule, "max_amount"), json::get(rule, "rule")) {
                    (Some(max), Some((id, Kind::String))) if max < amount => {
                        matched = true;
                        let b = ctx.emit().payload_mut();
                        b.extend_from_slice(b"{\"txn\":");
                        b.extend_from_slice(txn);
                        b.extend_from_slice(b",\"rule\":");
                        b.extend_from_slice(id);
                        b.extend_from_slice(b",\"amount\":");
                        b.extend_from_slice(amount_raw);
                        b.push(b'}');
                    }
                    _ => {}
                }
                Ok(true)
            })?;
        }
        if !matched {
            ctx.emit_to(CLEAN); // flags 0: the record itself
        }
        Ok(())
    }

    /// A rule: `{"rule":"id","max_amount":N}` stores the whole payload under
    /// the id, `{"rule":"id","delete":true}` deletes it; anything else is
    /// ignored, and so is a rule with an empty id (an empty sub-key cannot be
    /// deleted on its own).
    fn process2(&mut self, r: &Record, ctx: &mut Context) -> Result<()> {
        let p = r.payload();
        if !json::valid_object(p) {
            return Ok(());
        }
        self.id.clear();
        match json::get(p, "rule") {
            Some((raw, Kind::String)) if json::unquote_into(raw, &mut self.id) && !self.id.is_empty() => {}
            _ => return Ok(()),
        }
        if let Some((_, Kind::True)) = json::get(p, "delete") {
            return self.rules.remove(ctx, &self.id);
        }
        if let Some((_, Kind::Number)) = json::get(p, "max_amount") {
            return self.rules.put(ctx, &self.id, p);
        }
        Ok(())
    }
}

fn parse_f64(raw: &[u8]) -> Option<f64> {
    std::str::from_utf8(raw).ok()?.parse().ok()
}

/// The member `field` of the JSON object `obj`, as raw text, `null` when absent.
fn raw_or_null<'a>(obj: Option<&'a [u8]>, field: &str) -> &'a [u8] {
    obj.and_then(|o| json::get(o, field)).map_or(&b"null"[..], |(raw, _)| raw)
}

/// match: `{"left":order|null,"right":payment|null}` to
/// `{"order":id,"ordered":N,"paid":N|null,"underpaid":bool}`.
fn match_row(r: &Record, out: &mut Output) -> Result<()> {
    let p = r.payload();
    let object = |field: &str| match json::get(p, field) {
        Some((raw, Kind::Object)) => Some(raw),
        _ => None,
    };
    let (left, right) = (object("left"), object("right"));
    let order = if left.is_some() { raw_or_null(left, "order_id") } else { raw_or_null(right, "order_id") };
    // A missing amount compares as NaN: never below another.
    let amount = |o: &[u8]| json::float(o, "amount").unwrap_or(f64::NAN);
    let underpaid = match (left, right) {
        (None, _) => false,
        (Some(_), None) => true,
        (Some(l), Some(r)) => amount(r) < amount(l),
    };
    let b = out.payload_mut();
    b.extend_from_slice(b"{\"order\":");
    b.extend_from_slice(order);
    b.extend_from_slice(b",\"ordered\":");
    b.extend_from_slice(raw_or_null(left, "amount"));
    b.extend_from_slice(b",\"paid\":");
    b.extend_from_slice(raw_or_null(right, "amount"));
    b.extend_from_slice(if underpaid { b",\"underpaid\":true}" } else { b",\"underpaid\":false}" });
    Ok(())
}

/// eager: fire once a window holds five elements, with an event-time timer at
/// its last millisecond, which fires and purges it. Every answer is the 9-byte
/// form (action and event-time timer, none being the smallest i64).
fn eager(e: &TriggerEvent) -> Result<TriggerResult> {
    let last = e.window.end.wrapping_sub(1);
    Ok(match e.kind {
        TriggerEventKind::Elements => {
            let a = if e.count >= 5 { TriggerAction::Fire } else { TriggerAction::Continue };
            TriggerResult::new(a).with_event_timer(last)
        }
        TriggerEventKind::EventTimer if e.time >= last => TriggerAction::FireAndPurge.into(),
        TriggerEventKind::EventTimer | TriggerEventKind::ProcessingTimer => TriggerAction::Continue.into(),
    })
}

/// drop_negative: evict the elements whose "amount" is a number below zero.
fn drop_negative(_: &Window, elements: &[Record], evicted: &mut Vec<u32>) -> Result<()> {
    for e in elements {
        if let Some(a) = json::float(e.payload(), "amount") {
            if a < 0.0 {
                evicted.push(e.index());
            }
        }
    }
    Ok(())
}

fn register(m: &mut weir::Module) {
    let mut states = States::new();
    let rules = states.broadcast("rules");
    let fraud = m.co_process("fraud", states, Fraud { rules, id: Vec::new() }); // index 0
    m.side_outputs(fraud, &["clean"]);
    m.map("match", match_row); // index 1
    m.trigger("eager", eager); // index 2
    m.evictor("drop_negative", drop_negative); // index 3
}

weir::export!(register);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eager_answers() {
        let w = |key| Window { start: 0, end: 10, key };
        let ev = |kind, time, count| TriggerEvent { kind, window: w(None), time, count };
        let r = |e: TriggerEvent| eager(&e).unwrap();
        assert_eq!(r(ev(TriggerEventKind::Elements, 3, 4)), TriggerResult::new(TriggerAction::Continue).with_event_timer(9));
        assert_eq!(r(ev(TriggerEventKind::Elements, 3, 5)), TriggerResult::new(TriggerAction::Fire).with_event_timer(9));
        assert_eq!(r(ev(TriggerEventKind::EventTimer, 9, 5)), TriggerAction::FireAndPurge.into());
        assert_eq!(r(ev(TriggerEventKind::EventTimer, 8, 5)), TriggerAction::Continue.into());
        assert_eq!(r(ev(TriggerEventKind::ProcessingTimer, 9, 5)), TriggerAction::Continue.into());
    }
}
