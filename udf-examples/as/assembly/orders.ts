// The order functions in AssemblyScript: the same operations as
// udf-examples/go/orders, byte for byte (udf-examples/README.md defines them).
//
// Build (udf-examples/Makefile does): asc --config asconfig.json -o orders_as.wasm

import {
  Buffer, Collector, fail, JSONArray, JSONField, JSONKind, JSONMembers, Output, Record,
  registerFilter, registerFlatMap, registerKeySelector, registerMap,
} from "@weir-streams/sdk";

export * from "@weir-streams/sdk/abi";

// ---------------------------------------------------------------- enrich

const field = new JSONField("amount");
let factor: i64 = 100;

/**
 * openEnrich reads the step's config: `field` (a non-empty string, default
 * "amount") and `factor` (an integer, default 100). A null member keeps the
 * default; any other member is an error, as in the Go module (whose
 * encoding/json matches member names case-insensitively).
 */
function openEnrich(config: Uint8Array): void {
  let name = "amount";
  let f: i64 = 100;
  const it = new JSONMembers(config.dataStart, config.byteLength);
  while (it.next()) {
    const key = it.name();
    if (equalFold(key, "field")) {
      if (it.kind == JSONKind.Null) continue;
      const s = it.stringValue();
      if (s === null) {
        fail("enrich: reading config: json: cannot unmarshal " + it.raw() + " into Go struct field enrichConfig.field of type string");
        return;
      }
      name = s;
    } else if (equalFold(key, "factor")) {
      if (it.kind == JSONKind.Null) continue;
      if (!it.asInt()) {
        fail("enrich: reading config: json: cannot unmarshal " + it.raw() + " into Go struct field enrichConfig.factor of type int64");
        return;
      }
      f = it.intValue();
    } else {
      fail("enrich: reading config: json: unknown field \"" + key + "\"");
      return;
    }
  }
  if (name.length == 0) {
    fail("enrich: config field must not be empty");
    return;
  }
  field.setName(name);
  factor = f;
}

/**
 * equalFold reports whether key is name (lower-case ASCII) but for the case of
 * ASCII letters: encoding/json's Unicode folding gives the same answer for
 * "field" and "factor", whose letters have no non-ASCII fold.
 */
function equalFold(key: string, name: string): bool {
  if (key.length != name.length) return false;
  for (let i = 0; i < key.length; i++) {
    let c = key.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) c += 0x20;
    if (c != name.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * enrich multiplies an integer member by factor, rewriting only that number's
 * text; whatever does not qualify passes unchanged (flags 0). It allocates
 * nothing.
 */
function enrich(rec: Record, out: Output): void {
  const fld = field;
  if (!fld.find(rec) || !fld.asInt()) return;
  const n = fld.intValue;
  const m = n * factor;
  // Overflow: the product does not divide back. n = -1 overflows only with
  // factor = MIN, and dividing by it then would trap, so it goes first.
  if (n == -1) {
    if (factor == i64.MIN_VALUE) return;
  } else if (n != 0 && m / n != factor) {
    return;
  }
  const b = out.payload();
  b.appendRaw(rec.payloadPtr, fld.start);
  b.appendInt(m);
  b.appendRaw(rec.payloadPtr + <usize>fld.end, rec.payloadLen - fld.end);
}

// ---------------------------------------------------------------- positive

const amount = new JSONField("amount");

/** Keeps records whose amount is a number greater than zero, decided on its text. */
function positive(rec: Record): bool {
  return amount.find(rec) && amount.kind == JSONKind.Number && sign(amount.valuePtr, amount.valueLen) > 0;
}

/** -1, 0 or 1 for the JSON number text at p: zero when every digit before the exponent is 0. */
function sign(p: usize, n: i32): i32 {
  const s = load<u8>(p) == 0x2d ? -1 : 1;
  for (let i = 0; i < n; i++) {
    const c = load<u8>(p + <usize>i);
    if (c == 0x65 || c == 0x45) break;
    if (c >= 0x31 && c <= 0x39) return s;
  }
  return 0;
}

// ---------------------------------------------------------------- identity, split, fail

/** identity copies its input's payload. */
function identity(rec: Record, out: Output): void {
  out.setPayloadRaw(rec.payloadPtr, rec.payloadLen);
}

const words = new JSONField("words");
const elems = new JSONArray();

/** split emits each string of the array member "words" as its raw JSON text. */
function split(rec: Record, c: Collector): void {
  if (!words.find(rec) || words.kind != JSONKind.Array) return;
  elems.reset(words.valuePtr, words.valueLen);
  while (elems.next()) {
    if (elems.kind == JSONKind.String) c.emitPayloadRaw(elems.valuePtr, elems.valueLen);
  }
}

/** fail rejects a batch holding a negative amount and copies the records otherwise. */
function failNegative(rec: Record, out: Output): void {
  if (amount.find(rec) && amount.kind == JSONKind.Number && sign(amount.valuePtr, amount.valueLen) < 0) {
    fail("amount must not be negative");
    return;
  }
  identity(rec, out);
}

/** panicky aborts on an amount of 13 (as the Go module panics) and copies the other records. */
function panicky(rec: Record, out: Output): void {
  if (amount.find(rec) && amount.asInt() && amount.intValue == 13) throw new Error("udf panic: boom");
  identity(rec, out);
}

// ---------------------------------------------------------------- customer

const customerField = new JSONField("customer");

/**
 * customer keys an order by its customer: the JSON text of the top-level member
 * "customer" when it is a string or a number, quotes and escapes as written, else
 * null. For a string without escapes and for an integer, that is the key the
 * built-in `key_by: {json_field: customer}` gives; the built-in also canonicalises
 * escapes and numbers, which this does not. It allocates nothing.
 */
function customer(rec: Record, key: Buffer): void {
  const f = customerField;
  if (f.find(rec) && (f.kind == JSONKind.String || f.kind == JSONKind.Number)) key.appendRaw(f.valuePtr, f.valueLen);
  else key.appendString("null");
}

// ---------------------------------------------------------------- registration
// Top-level code runs in order at instantiation: register after the globals the
// functions use are initialised. Registration order fixes the indexes.
registerMap("enrich", enrich).onOpen(openEnrich);
registerFilter("positive", positive);
registerMap("identity", identity);
registerFlatMap("split", split);
registerMap("fail", failNegative);
registerMap("panic", panicky);
registerKeySelector("customer", customer);
