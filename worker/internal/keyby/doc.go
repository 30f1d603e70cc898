// Package keyby is the built-in key_by step of a chain: `key_by: {json_field: f}`
// (DESIGN §5, "Keys and key groups"). It sets each record's key to the canonical
// JSON text of the payload's top-level member f, and passes the record on
// otherwise unchanged; the exchange writer after it sends the record to the
// subtask that owns the key's key group (internal/keygroup).
//
// A key_by with a key_selector function instead runs as a wasmhost.Instance of
// that function, which sets the keys the function returns (sdk/ABI.md §4).
//
// # Key bytes (a permanent format)
//
// Savepoints store keyed state by key group and key, so the key bytes of a value
// must never change. They are the member's value written as canonical JSON, after
// RFC 8785 (the JSON Canonicalization Scheme), with the departures marked below:
//
//   - A string keeps its quotes and is re-encoded: escapes are decoded, then the
//     string is written with `\"`, `\\`, `\b`, `\t`, `\n`, `\f`, `\r`, and `\u00xx`
//     (lowercase hex) for the other characters below U+0020; every other character,
//     `/` and U+007F included, is written as itself in UTF-8. So `"al\u0069ce"`
//     and `"alice"` are the same key, `"alice"`. Departure: an unpaired surrogate
//     escape (`"\ud800"`) and bytes that are not UTF-8 each become U+FFFD, as
//     encoding/json decodes them, where RFC 8785 refuses the input.
//   - A number is written in the shortest form of its exact decimal value, laid
//     out as ECMAScript's Number::toString lays out digits: `1.0`, `1e0` and
//     `10E-1` are `1`; `1e2` is `100`; `-0` is `0`; `1.5e-7` is `1.5e-7`; `1e21` is
//     `1e+21`; `0.000001` is `0.000001`. Departure: RFC 8785 first rounds the
//     number to an IEEE double; Weir keeps every digit written, so distinct
//     large integer ids (`12345678901234567891` and `...892`) stay distinct keys.
//     The two agree on every number written with at most 15 significant digits
//     whose magnitude lies within a double's normal range.
//   - true, false and null are written as such.
//
// # Records without a key
//
// A record gets the key `null` (the four bytes n u l l, the same key as a
// member whose value is null) when its payload is not valid JSON (RFC 8259, the
// whole payload, as encoding/json.Valid checks it: invalid UTF-8 inside strings
// passes), is not a JSON object, or has no such top-level member (Missing); or
// when the member's value is an object or an array, or a number whose exponent
// lies beyond ±999999999 (Invalid). Such records are never dropped and never fail
// the task: as with a Flink key selector that returns null, they all share one
// key. Stats counts them, for metrics.
//
// The member is a top-level one, found by its name after unescaping; when a name
// repeats, the first member counts. The payload is validated with encoding/json
// and the member found with github.com/buger/jsonparser, neither of which
// allocates.
//
// # Ownership
//
// An Operator belongs to its task's goroutine. Its Stats may be read from any
// goroutine. It allocates nothing per record once its buffers have grown to the
// largest batch and key seen.
package keyby
