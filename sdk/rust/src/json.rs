//! JSON field access without allocation.
//!
//! The scanner follows RFC 8259 strictly from the start of the document up to and
//! including the member it returns and the `,` or `}` after it (nested values,
//! escapes, number syntax, nesting up to [`MAX_DEPTH`] levels); it does not read the
//! rest. Member names are compared after unescaping (`"am\u006funt"` is `amount`).
//! If a name repeats, the first member wins. UTF-8 is not validated.

/// The deepest nesting of objects and arrays accepted, the top-level one included.
pub const MAX_DEPTH: usize = 1000;

/// The kind of a JSON value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    String,
    Number,
    Object,
    Array,
    True,
    False,
    Null,
}

fn kind_of(c: u8) -> Kind {
    match c {
        b'"' => Kind::String,
        b'{' => Kind::Object,
        b'[' => Kind::Array,
        b't' => Kind::True,
        b'f' => Kind::False,
        b'n' => Kind::Null,
        _ => Kind::Number,
    }
}

/// Where the value of the first top-level member called `field` of the object in
/// `data` is (`data[start..end]`) and its kind; `None` when `data` is not an object,
/// has no such member, or is malformed up to it.
pub fn span(data: &[u8], field: &[u8]) -> Option<(usize, usize, Kind)> {
    let d = data;
    let mut i = ws(d, 0);
    if i >= d.len() || d[i] != b'{' {
        return None;
    }
    i = ws(d, i + 1);
    loop {
        if i >= d.len() || d[i] != b'"' {
            return None; // also {}
        }
        let ks = i;
        i = skip_string(d, i)?;
        let matched = name_equals(&d[ks + 1..i - 1], field);
        i = ws(d, i);
        if i >= d.len() || d[i] != b':' {
            return None;
        }
        let vs = ws(d, i + 1);
        let ve = skip_value(d, vs, 2)?;
        i = ws(d, ve);
        if i >= d.len() || (d[i] != b',' && d[i] != b'}') {
            return None;
        }
        if matched {
            return Some((vs, ve, kind_of(d[vs])));
        }
        if d[i] == b'}' {
            return None;
        }
        i = ws(d, i + 1);
    }
}

/// The raw text of the first top-level member called `field`, and its kind.
pub fn get<'a>(data: &'a [u8], field: &str) -> Option<(&'a [u8], Kind)> {
    let (s, e, k) = span(data, field.as_bytes())?;
    Some((&data[s..e], k))
}

/// The top-level member `field` as an `i64`, if it is an integer that fits.
pub fn int(data: &[u8], field: &str) -> Option<i64> {
    match get(data, field) {
        Some((raw, Kind::Number)) => parse_int(raw),
        _ => None,
    }
}

/// The top-level member `field` as an `f64`, if it is a number.
pub fn float(data: &[u8], field: &str) -> Option<f64> {
    match get(data, field) {
        Some((raw, Kind::Number)) => core::str::from_utf8(raw).ok()?.parse().ok(),
        _ => None,
    }
}

/// The text of a JSON number that is an integer: `-`? digits, no leading zeros,
/// no fraction or exponent, fitting an `i64` (`-0` is 0).
pub fn parse_int(raw: &[u8]) -> Option<i64> {
    let neg = raw.first() == Some(&b'-');
    let digits = if neg { &raw[1..] } else { raw };
    if digits.is_empty() || digits.len() > 19 || (digits[0] == b'0' && digits.len() > 1) {
        return None;
    }
    let mut u: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        u = u * 10 + (c - b'0') as u64;
    }
    if neg {
        if u > 1 << 63 {
            return None;
        }
        return Some((u as i64).wrapping_neg());
    }
    if u > i64::MAX as u64 {
        return None;
    }
    Some(u as i64)
}

/// Appends the contents of the JSON string `raw` (quotes included), unescaped, to
/// `dst`; false when `raw` is not a string. A lone UTF-16 surrogate becomes U+FFFD.
pub fn unquote_into(raw: &[u8], dst: &mut Vec<u8>) -> bool {
    if raw.len() < 2 || raw[0] != b'"' || skip_string(raw, 0) != Some(raw.len()) {
        return false;
    }
    let body = &raw[1..raw.len() - 1];
    let mut i = 0;
    while i < body.len() {
        if body[i] != b'\\' {
            dst.push(body[i]);
            i += 1;
            continue;
        }
        let (r, next) = unescape(body, i);
        i = next;
        let mut b = [0u8; 4];
        dst.extend_from_slice(char::from_u32(r).unwrap_or('\u{FFFD}').encode_utf8(&mut b).as_bytes());
    }
    true
}

/// Whether `data` is exactly one JSON value, whitespace around it allowed.
pub fn valid(data: &[u8]) -> bool {
    match skip_value(data, ws(data, 0), 1) {
        Some(i) => ws(data, i) == data.len(),
        None => false,
    }
}

/// Whether `data` is exactly one JSON object, whitespace around it allowed.
pub fn valid_object(data: &[u8]) -> bool {
    let i = ws(data, 0);
    i < data.len() && data[i] == b'{' && valid(data)
}

/// Calls `f` with each element of the array `raw` and its kind until it returns
/// false; false when `raw` is not a well-formed array.
pub fn array_each<F: FnMut(&[u8], Kind) -> bool>(raw: &[u8], mut f: F) -> bool {
    if raw.first() != Some(&b'[') || skip_value(raw, 0, 1) != Some(raw.len()) {
        return false;
    }
    let mut i = ws(raw, 1);
    if raw[i] == b']' {
        return true;
    }
    loop {
        let end = skip_value(raw, i, 2).unwrap_or(raw.len());
        if !f(&raw[i..end], kind_of(raw[i])) {
            return true;
        }
        i = ws(raw, end);
        if raw[i] == b']' {
            return true;
        }
        i = ws(raw, i + 1);
    }
}

/// Calls `f` with each member of the object `raw` — its name's raw text (quotes
/// included), its value's raw text and kind — until it returns false; false when
/// `raw` is not a well-formed object (whitespace around it allowed).
pub fn object_each<F: FnMut(&[u8], &[u8], Kind) -> bool>(raw: &[u8], mut f: F) -> bool {
    let mut i = ws(raw, 0);
    if i >= raw.len() || raw[i] != b'{' || !valid(raw) {
        return false;
    }
    i = ws(raw, i + 1);
    if raw[i] == b'}' {
        return true;
    }
    loop {
        let ke = skip_string(raw, i).unwrap_or(raw.len());
        let vs = ws(raw, ws(raw, ke) + 1);
        let ve = skip_value(raw, vs, 2).unwrap_or(raw.len());
        if !f(&raw[i..ke], &raw[vs..ve], kind_of(raw[vs])) {
            return true;
        }
        i = ws(raw, ve);
        if raw[i] == b'}' {
            return true;
        }
        i = ws(raw, i + 1);
    }
}

/// Appends the decimal text of `v` to `dst`, as `v.to_string()` would, without
/// allocating beyond `dst`'s growth.
pub fn append_i64(dst: &mut Vec<u8>, v: i64) {
    let mut tmp = [0u8; 20];
    let mut u = v.unsigned_abs();
    let mut n = tmp.len();
    loop {
        n -= 1;
        tmp[n] = b'0' + (u % 10) as u8;
        u /= 10;
        if u == 0 {
            break;
        }
    }
    if v < 0 {
        dst.push(b'-');
    }
    dst.extend_from_slice(&tmp[n..]);
}

fn ws(d: &[u8], mut i: usize) -> usize {
    while i < d.len() && matches!(d[i], b' ' | b'\t' | b'\n' | b'\r') {
        i += 1;
    }
    i
}

fn hex4(b: &[u8]) -> Option<u32> {
    let mut v = 0u32;
    for &c in &b[..4] {
        let d = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            _ => return None,
        };
        v = v << 4 | d as u32;
    }
    Some(v)
}

/// The position after the string whose opening quote is `d[i]`.
fn skip_string(d: &[u8], mut i: usize) -> Option<usize> {
    i += 1;
    loop {
        while i < d.len() && d[i] >= 0x20 && d[i] != b'"' && d[i] != b'\\' {
            i += 1;
        }
        if i >= d.len() || d[i] < 0x20 {
            return None;
        }
        if d[i] == b'"' {
            return Some(i + 1);
        }
        if i + 1 >= d.len() {
            return None;
        }
        match d[i + 1] {
            b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => i += 2,
            b'u' => {
                if d.len() - i < 6 || hex4(&d[i + 2..]).is_none() {
                    return None;
                }
                i += 6
            }
            _ => return None,
        }
    }
}

fn skip_digits(d: &[u8], mut i: usize) -> usize {
    while i < d.len() && d[i].is_ascii_digit() {
        i += 1;
    }
    i
}

/// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
fn skip_number(d: &[u8], mut i: usize) -> Option<usize> {
    if i < d.len() && d[i] == b'-' {
        i += 1;
    }
    if i >= d.len() {
        return None;
    }
    match d[i] {
        b'0' => i += 1,
        b'1'..=b'9' => i = skip_digits(d, i + 1),
        _ => return None,
    }
    if i < d.len() && d[i] == b'.' {
        let j = skip_digits(d, i + 1);
        if j == i + 1 {
            return None;
        }
        i = j;
    }
    if i < d.len() && (d[i] == b'e' || d[i] == b'E') {
        i += 1;
        if i < d.len() && (d[i] == b'+' || d[i] == b'-') {
            i += 1;
        }
        let j = skip_digits(d, i);
        if j == i {
            return None;
        }
        i = j;
    }
    Some(i)
}

fn skip_literal(d: &[u8], i: usize, lit: &[u8]) -> Option<usize> {
    if d.len() - i >= lit.len() && &d[i..i + lit.len()] == lit {
        Some(i + lit.len())
    } else {
        None
    }
}

/// The position after the value at `d[i]`; `depth` is the nesting level an object
/// or array starting there would have.
fn skip_value(d: &[u8], mut i: usize, depth: usize) -> Option<usize> {
    if i >= d.len() {
        return None;
    }
    let close = match d[i] {
        b'"' => return skip_string(d, i),
        b't' => return skip_literal(d, i, b"true"),
        b'f' => return skip_literal(d, i, b"false"),
        b'n' => return skip_literal(d, i, b"null"),
        b'-' | b'0'..=b'9' => return skip_number(d, i),
        b'{' => b'}',
        b'[' => b']',
        _ => return None,
    };
    if depth > MAX_DEPTH {
        return None;
    }
    i = ws(d, i + 1);
    if i < d.len() && d[i] == close {
        return Some(i + 1);
    }
    loop {
        if close == b'}' {
            if i >= d.len() || d[i] != b'"' {
                return None;
            }
            i = ws(d, skip_string(d, i)?);
            if i >= d.len() || d[i] != b':' {
                return None;
            }
            i = ws(d, i + 1);
        }
        i = ws(d, skip_value(d, i, depth + 1)?);
        if i >= d.len() {
            return None;
        }
        if d[i] == close {
            return Some(i + 1);
        }
        if d[i] != b',' {
            return None;
        }
        i = ws(d, i + 1);
    }
}

/// The escape at `b[i]` (a backslash, checked): its code point and the position
/// after it. A surrogate pair is one code point, a lone surrogate U+FFFD.
fn unescape(b: &[u8], i: usize) -> (u32, usize) {
    match b[i + 1] {
        b'b' => (8, i + 2),
        b'f' => (12, i + 2),
        b'n' => (10, i + 2),
        b'r' => (13, i + 2),
        b't' => (9, i + 2),
        b'u' => {
            let r = hex4(&b[i + 2..]).unwrap_or(0xFFFD);
            let j = i + 6;
            if (0xD800..0xE000).contains(&r) {
                if r < 0xDC00 && b.len() - j >= 6 && b[j] == b'\\' && b[j + 1] == b'u' {
                    if let Some(r2) = hex4(&b[j + 2..]) {
                        if (0xDC00..0xE000).contains(&r2) {
                            return (0x10000 + ((r - 0xD800) << 10) + (r2 - 0xDC00), j + 6);
                        }
                    }
                }
                return (0xFFFD, j);
            }
            (r, j)
        }
        c => (c as u32, i + 2),
    }
}

/// Whether the string body `body` (escapes checked), unescaped, equals `name`.
fn name_equals(body: &[u8], name: &[u8]) -> bool {
    if body == name {
        return true;
    }
    let (mut i, mut j) = (0, 0);
    while i < body.len() {
        if body[i] != b'\\' {
            if j >= name.len() || name[j] != body[i] {
                return false;
            }
            i += 1;
            j += 1;
            continue;
        }
        let (r, next) = unescape(body, i);
        i = next;
        let mut b = [0u8; 4];
        let enc = char::from_u32(r).unwrap_or('\u{FFFD}').encode_utf8(&mut b).as_bytes();
        if name.len() - j < enc.len() || &name[j..j + enc.len()] != enc {
            return false;
        }
        j += enc.len();
    }
    j == name.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_span() {
        let cases: &[(&str, Option<&str>)] = &[
            (r#"{"id":1,"amount":12}"#, Some("12")),
            (r#" { "amount" : -7 , "x":1}"#, Some("-7")),
            (r#"{"am\u006funt":5}"#, Some("5")),
            (r#"{"amount":1,"amount":2}"#, Some("1")),
            (r#"{"amount":5}trailing"#, Some("5")),
            (r#"{"x":{"amount":5}}"#, None),
            (r#"{"amount":012}"#, None),
            (r#"{"amount":12"#, None),
            (r#"{"s":"\x","amount":1}"#, None),
            (r#"[{"amount":1}]"#, None),
            ("", None),
        ];
        for (doc, want) in cases {
            let got = get(doc.as_bytes(), "amount").map(|(raw, _)| core::str::from_utf8(raw).unwrap());
            assert_eq!(got, *want, "{}", doc);
        }
    }

    #[test]
    fn integers() {
        assert_eq!(parse_int(b"-0"), Some(0));
        assert_eq!(parse_int(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_int(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_int(b"9223372036854775808"), None);
        assert_eq!(parse_int(b"1.0"), None);
        assert_eq!(parse_int(b"01"), None);
        let mut b = Vec::new();
        append_i64(&mut b, i64::MIN);
        assert_eq!(b, b"-9223372036854775808");
    }

    #[test]
    fn unquote() {
        let mut b = Vec::new();
        assert!(unquote_into(br#""a\n\u00e9\ud83d\ude80\ud800""#, &mut b));
        assert_eq!(b, "a\n\u{e9}\u{1f680}\u{fffd}".as_bytes());
    }
}
