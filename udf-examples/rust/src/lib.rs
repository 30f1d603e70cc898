//! Weir's example order functions in Rust, with the Rust SDK (sdk/rust). The twin of
//! udf-examples/go/orders: for the functions below, the same batch gives byte for
//! byte the same output frame (udf-examples/README.md defines them).
//!
//!   enrich    map     scale the integer member "amount" by 100 in place
//!   positive  filter  keep records whose "amount" is a number > 0
//!   identity  map     copy the payload
//!   fail      map     copy the payload; fail the call on a negative amount
//!   split     flat_map  one output per string of the array "words"
//!   customer  key_selector  key: the string or number member "customer", as written

use weir::json::{self, Kind};
use weir::{Collector, Error, Map, Module, Output, Record, Result};

fn register(m: &mut Module) {
    m.map("enrich", Enrich { field: b"amount".to_vec(), factor: 100 });
    m.filter("positive", |r: &Record| -> Result<bool> {
        Ok(matches!(json::get(r.payload(), "amount"), Some((raw, Kind::Number)) if sign(raw) > 0))
    });
    m.map("identity", |r: &Record, out: &mut Output| -> Result<()> {
        out.set_payload(r.payload());
        Ok(())
    });
    m.map("fail", |r: &Record, out: &mut Output| -> Result<()> {
        if let Some((raw, Kind::Number)) = json::get(r.payload(), "amount") {
            if sign(raw) < 0 {
                return Err(Error::new("amount must not be negative"));
            }
        }
        out.set_payload(r.payload());
        Ok(())
    });
    m.flat_map("split", |r: &Record, c: &mut Collector| -> Result<()> {
        if let Some((raw, Kind::Array)) = json::get(r.payload(), "words") {
            json::array_each(raw, |elem, kind| {
                if kind == Kind::String {
                    c.emit_payload(elem); // the element's JSON text, quotes included
                }
                true
            });
        }
        Ok(())
    });
    m.key_selector("customer", customer);
}

weir::export!(register);

/// customer keys an order by its customer: the JSON text of the top-level member
/// "customer" when it is a string or a number, quotes and escapes as written, else
/// `null`. For a string without escapes and for an integer, that is the key the
/// built-in `key_by: {json_field: customer}` gives; the built-in also canonicalises
/// escapes and numbers, which this does not.
fn customer(r: &Record, key: &mut Vec<u8>) -> Result<()> {
    match json::get(r.payload(), "customer") {
        Some((raw, Kind::String)) | Some((raw, Kind::Number)) => key.extend_from_slice(raw),
        _ => key.extend_from_slice(b"null"),
    }
    Ok(())
}

/// enrich: multiplies an integer member in place, rewriting only that number's text.
struct Enrich {
    field: Vec<u8>,
    factor: i64,
}

impl Map for Enrich {
    /// Config (all optional): "field" (default "amount"), "factor" (an integer,
    /// default 100); any other member is an error.
    fn open(&mut self, config: &[u8]) -> Result<()> {
        let mut err = None;
        json::object_each(config, |name, value, kind| {
            let mut n = Vec::new();
            json::unquote_into(name, &mut n);
            match (&n[..], kind) {
                (_, Kind::Null) if n == b"field" || n == b"factor" => {}
                (b"field", Kind::String) => {
                    let mut f = Vec::new();
                    json::unquote_into(value, &mut f);
                    if f.is_empty() {
                        err = Some("enrich: config field must not be empty");
                        return false;
                    }
                    self.field = f;
                }
                (b"factor", Kind::Number) => match json::parse_int(value) {
                    Some(v) => self.factor = v,
                    None => {
                        err = Some("enrich: config factor must be an integer");
                        return false;
                    }
                },
                (b"field", _) => {
                    err = Some("enrich: config field must be a string");
                    return false;
                }
                (b"factor", _) => {
                    err = Some("enrich: config factor must be an integer");
                    return false;
                }
                _ => {
                    err = Some("enrich: config has an unknown member (known: field, factor)");
                    return false;
                }
            }
            true
        });
        match err {
            Some(e) => Err(Error::new(e)),
            None => Ok(()),
        }
    }

    fn map(&mut self, r: &Record, out: &mut Output) -> Result<()> {
        let p = r.payload();
        if let Some((start, end, Kind::Number)) = json::span(p, &self.field) {
            if let Some(m) = json::parse_int(&p[start..end]).and_then(|n| n.checked_mul(self.factor)) {
                let b = out.payload_mut();
                b.extend_from_slice(&p[..start]);
                json::append_i64(b, m);
                b.extend_from_slice(&p[end..]);
            }
        }
        Ok(()) // an untouched output: the record passes unchanged
    }
}

/// The sign of the JSON number text `raw`: zero when every digit before its
/// exponent is 0.
fn sign(raw: &[u8]) -> i32 {
    let s = if raw[0] == b'-' { -1 } else { 1 };
    for &c in raw {
        if c == b'e' || c == b'E' {
            break;
        }
        if (b'1'..=b'9').contains(&c) {
            return s;
        }
    }
    0
}
