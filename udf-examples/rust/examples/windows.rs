//! Weir's window and timer examples in Rust, with the Rust SDK (sdk/rust): the
//! twins of udf-examples/go/windows, function for function and byte for byte.
//!
//!   session_stats  aggregate            clicks and distinct pages of a session
//!   top3           window_process       the three highest prices of a window
//!   timeout        process with timers  a key idle for a second after its last record
//!   sum_price      aggregate            the sum of "price", as {"sum":N}
//!   event_time     timestamp_extractor  time from "ts", punctuation from "watermark"
//!
//! Built as a cdylib example of the orders crate:
//! `cargo build --release --target wasm32-unknown-unknown --example windows`.

use weir::json::{self, Kind};
use weir::{Aggregate, Collector, Context, Extracted, Process, Record, Result, States, Timer, ValueState, Window};

/// session_stats: clicks (u64), then the distinct pages, each a u32 length and
/// its bytes, in byte order (the Go example's encoding). The accumulator is
/// edited in place, in the buffer the SDK reuses from group to group, and the
/// page is unquoted into a buffer kept here: adding a record allocates nothing
/// once they have grown.
struct SessionStats {
    page: Vec<u8>,
}

fn bad_acc() -> weir::Error {
    weir::Error::new("session_stats: malformed accumulator")
}

/// The clicks of an accumulator, once its pages are checked to fill it exactly.
fn clicks(acc: &[u8]) -> Result<u64> {
    if acc.len() < 8 {
        return Err(bad_acc());
    }
    let mut off = 8;
    while off < acc.len() {
        off = next_page(acc, off).ok_or_else(bad_acc)?.1;
    }
    let mut a = [0u8; 8];
    a.copy_from_slice(&acc[..8]);
    Ok(u64::from_le_bytes(a))
}

/// The page at `off` of an accumulator and the offset after it.
fn next_page(acc: &[u8], off: usize) -> Option<(&[u8], usize)> {
    let n = acc.get(off..off + 4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)?;
    let page = acc.get(off + 4..(off + 4).checked_add(n)?)?;
    Some((page, off + 4 + n))
}

fn pages(acc: &[u8]) -> usize {
    let (mut n, mut off) = (0, 8);
    while let Some((_, next)) = next_page(acc, off) {
        n += 1;
        off = next;
    }
    n
}

/// Adds `page` to the sorted set of a checked accumulator, in place.
fn add_page(acc: &mut Vec<u8>, page: &[u8]) {
    let mut at = 8;
    while let Some((p, next)) = next_page(acc, at) {
        match p.cmp(page) {
            std::cmp::Ordering::Less => at = next,
            std::cmp::Ordering::Equal => return,
            std::cmp::Ordering::Greater => break,
        }
    }
    let (old, k) = (acc.len(), 4 + page.len());
    acc.resize(old + k, 0);
    acc.copy_within(at..old, at + k);
    acc[at..at + 4].copy_from_slice(&(page.len() as u32).to_le_bytes());
    acc[at + 4..at + k].copy_from_slice(page);
}

impl Aggregate for SessionStats {
    fn create(&mut self, acc: &mut Vec<u8>) -> Result<()> {
        acc.extend_from_slice(&0u64.to_le_bytes());
        Ok(())
    }
    fn add(&mut self, acc: &mut Vec<u8>, input: &Record) -> Result<()> {
        // A record without a string "page" counts as a click on page "" (as in Go).
        self.page.clear();
        if let Some((raw, Kind::String)) = json::get(input.payload(), "page") {
            if !json::unquote_into(raw, &mut self.page) {
                self.page.clear();
            }
        }
        let n = clicks(acc)? + 1;
        acc[..8].copy_from_slice(&n.to_le_bytes());
        add_page(acc, &self.page);
        Ok(())
    }
    fn merge(&mut self, acc: &mut Vec<u8>, other: &[u8]) -> Result<()> {
        let n = clicks(acc)?.wrapping_add(clicks(other)?);
        acc[..8].copy_from_slice(&n.to_le_bytes());
        let mut off = 8;
        while let Some((page, next)) = next_page(other, off) {
            add_page(acc, page);
            off = next;
        }
        Ok(())
    }
    fn result(&mut self, acc: &[u8], out: &mut Vec<u8>) -> Result<()> {
        let n = clicks(acc)?;
        out.extend_from_slice(b"{\"clicks\":");
        json::append_i64(out, n as i64);
        out.extend_from_slice(b",\"pages\":");
        json::append_i64(out, pages(acc) as i64);
        out.push(b'}');
        Ok(())
    }
}

/// top3: the window's three highest prices; ties go to the smaller item.
fn top3(w: &Window, elements: &[Record], out: &mut Collector) -> Result<()> {
    let mut items: Vec<(&[u8], i64)> = Vec::new();
    for e in elements {
        if let (Some((name, _)), Some(price)) = (json::get(e.payload(), "item"), json::int(e.payload(), "price")) {
            items.push((name, price));
        }
    }
    items.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let p = out.emit().payload_mut();
    p.extend_from_slice(b"{\"window_start\":");
    json::append_i64(p, w.start);
    p.extend_from_slice(b",\"window_end\":");
    json::append_i64(p, w.end);
    p.extend_from_slice(b",\"top\":[");
    for (i, (name, price)) in items.iter().take(3).enumerate() {
        if i > 0 {
            p.push(b',');
        }
        p.extend_from_slice(b"{\"item\":");
        p.extend_from_slice(name);
        p.extend_from_slice(b",\"price\":");
        json::append_i64(p, *price);
        p.push(b'}');
    }
    p.extend_from_slice(b"]}");
    Ok(())
}

/// timeout: each key's latest record time in "last", and an event-time timer a
/// second later; a timer still matching it reports the key idle.
struct Timeout {
    last: ValueState,
}

impl Process for Timeout {
    fn process(&mut self, r: &Record, ctx: &mut Context) -> Result<()> {
        let ts = r.timestamp().ok_or_else(|| weir::Error::new("timeout: a record without a timestamp"))?;
        self.last.put_i64(ctx, ts)?;
        ctx.register_event_timer(ts + 1000)
    }
    fn has_timers(&self) -> bool {
        true
    }
    fn on_timer(&mut self, t: &Timer, ctx: &mut Context) -> Result<()> {
        let ts = match self.last.get_i64(ctx)? {
            Some(ts) if t.time == ts + 1000 => ts,
            _ => return Ok(()), // a later record moved the deadline
        };
        let key = t.key.to_vec();
        let p = ctx.emit().payload_mut();
        p.extend_from_slice(b"{\"key\":");
        p.extend_from_slice(&key);
        p.extend_from_slice(b",\"idle_since\":");
        json::append_i64(p, ts);
        p.push(b'}');
        Ok(())
    }
}

/// sum_price: the sum, an i64 in eight bytes.
struct SumPrice;

fn sum_of(acc: &[u8]) -> i64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&acc[..8]);
    i64::from_le_bytes(a)
}

impl Aggregate for SumPrice {
    fn create(&mut self, acc: &mut Vec<u8>) -> Result<()> {
        acc.extend_from_slice(&0i64.to_le_bytes());
        Ok(())
    }
    fn add(&mut self, acc: &mut Vec<u8>, input: &Record) -> Result<()> {
        if let Some(p) = json::int(input.payload(), "price") {
            let s = sum_of(acc).wrapping_add(p);
            acc[..8].copy_from_slice(&s.to_le_bytes());
        }
        Ok(())
    }
    fn merge(&mut self, acc: &mut Vec<u8>, other: &[u8]) -> Result<()> {
        let s = sum_of(acc).wrapping_add(sum_of(other));
        acc[..8].copy_from_slice(&s.to_le_bytes());
        Ok(())
    }
    fn result(&mut self, acc: &[u8], out: &mut Vec<u8>) -> Result<()> {
        out.extend_from_slice(b"{\"sum\":");
        json::append_i64(out, sum_of(acc));
        out.push(b'}');
        Ok(())
    }
}

/// event_time: the time from "ts" (a record without it is dropped), a
/// punctuation from "watermark".
fn event_time(r: &Record) -> Result<Extracted> {
    Ok(Extracted { time: json::int(r.payload(), "ts"), watermark: json::int(r.payload(), "watermark") })
}

fn register(m: &mut weir::Module) {
    m.aggregate("session_stats", SessionStats { page: Vec::new() }); // index 0
    m.window_process("top3", top3); // index 1
    let mut states = States::new();
    let last = states.value("last", 0);
    m.process("timeout", states, Timeout { last }); // index 2
    m.aggregate("sum_price", SumPrice); // index 3
    m.timestamp_extractor("event_time", event_time); // index 4
}

weir::export!(register);

#[cfg(test)]
mod tests {
    use super::*;

    fn acc_of(clicks: u64, pages: &[&str]) -> Vec<u8> {
        let mut a = clicks.to_le_bytes().to_vec();
        for p in pages {
            a.extend_from_slice(&(p.len() as u32).to_le_bytes());
            a.extend_from_slice(p.as_bytes());
        }
        a
    }

    #[test]
    fn pages_stay_sorted_and_distinct() {
        let mut acc = acc_of(0, &[]);
        for p in ["/b", "/a", "/c", "/a", "", "/b"] {
            add_page(&mut acc, p.as_bytes());
        }
        assert_eq!(acc, acc_of(0, &["", "/a", "/b", "/c"]));
        let mut s = SessionStats { page: Vec::new() };
        let mut other = acc_of(2, &["/a", "/d"]);
        s.merge(&mut acc, &other).unwrap();
        assert_eq!(acc, acc_of(2, &["", "/a", "/b", "/c", "/d"]));
        let mut out = Vec::new();
        s.result(&acc, &mut out).unwrap();
        assert_eq!(out, br#"{"clicks":2,"pages":5}"#.to_vec());
        // A malformed accumulator is an error, not a trap.
        other.push(9);
        assert!(s.merge(&mut acc, &other).is_err());
        assert!(s.result(&[1, 2], &mut out).is_err());
    }
}
