// Allocation-free JSON field access, the same scanner as the Go SDK's
// (sdk/go/json.go): RFC 8259 checked strictly from the start of the document up
// to and including the member found and the `,` or `}` after it, nothing after.

import { Record } from "./record";

/** The kind of a JSON value; Invalid (0) means none was found. */
export enum JSONKind {
  Invalid = 0,
  String = 1,
  Number = 2,
  Object = 3,
  Array = 4,
  True = 5,
  False = 6,
  Null = 7,
}

/** The deepest nesting of objects and arrays accepted, the top-level object included. */
export const MAX_JSON_DEPTH = 1000;

/**
 * JSONField finds one top-level member of JSON objects. Make one per field, at
 * start-up (it encodes the name once), and call `find(rec)` per record: it
 * allocates nothing and sets `kind`, `start` and `end` (offsets of the value's
 * text in the payload).
 *
 * Member names are compared after unescaping (`"am\u006funt"` is `amount`); if
 * a name repeats, the first member wins. find fails (returns false, kind
 * Invalid) when the document is not an object, lacks the member, or is
 * malformed before the member ends. UTF-8 is not validated.
 */
// @ts-ignore: decorator
@unmanaged
export class JSONField {
  private namePtr: usize;
  private nameLen: i32;
  /** The kind of the value last found. */
  kind: JSONKind;
  /** Where the value's text starts and ends, relative to the document. */
  start: i32;
  end: i32;
  /** The document last searched, and its length. */
  dataPtr: usize;
  dataLen: i32;
  /** Set by asInt(). */
  intValue: i64;
  /** Set by asFloat(). */
  floatValue: f64;

  constructor(name: string) {
    this.namePtr = 0;
    this.nameLen = 0;
    this.kind = JSONKind.Invalid;
    this.start = 0;
    this.end = 0;
    this.dataPtr = 0;
    this.dataLen = 0;
    this.intValue = 0;
    this.floatValue = 0;
    this.setName(name);
  }

  /** The member's name. */
  get name(): string {
    return String.UTF8.decodeUnsafe(this.namePtr, <usize>this.nameLen);
  }

  /** Makes this field find another member (an open hook may, from the config). */
  setName(name: string): void {
    const n = String.UTF8.byteLength(name);
    // At least 16 bytes, zero past the name: names up to 16 bytes are compared
    // as two words (see nameEquals).
    const size = max(<usize>n, 16);
    this.namePtr = this.namePtr == 0 ? heap.alloc(size) : heap.realloc(this.namePtr, size);
    memory.fill(this.namePtr, 0, size);
    String.UTF8.encodeUnsafe(changetype<usize>(name), name.length, this.namePtr);
    this.nameLen = n;
  }

  /** Finds the member in the record's payload. */
  @inline find(rec: Record): bool {
    return this.findRaw(rec.payloadPtr, rec.payloadLen);
  }

  /** Finds the member in a. */
  findBytes(a: Uint8Array): bool {
    return this.findRaw(a.dataStart, a.byteLength);
  }

  /** Finds the member in the n bytes at address ptr. */
  findRaw(ptr: usize, n: i32): bool {
    this.dataPtr = ptr;
    this.dataLen = n;
    const r = findMember(ptr, n, this.namePtr, this.nameLen);
    if (r < 0) {
      this.kind = JSONKind.Invalid;
      return false;
    }
    this.kind = <JSONKind>foundKind;
    this.start = foundStart;
    this.end = foundEnd;
    return true;
  }

  /** The address of the value's text. */
  @inline get valuePtr(): usize {
    return this.dataPtr + <usize>this.start;
  }

  /** The length of the value's text. */
  @inline get valueLen(): i32 {
    return this.end - this.start;
  }

  /**
   * If the value found is an integer that fits an i64 (an optional `-` and
   * digits, no leading zeros, fraction or exponent), sets intValue and
   * returns true.
   */
  asInt(): bool {
    if (this.kind != JSONKind.Number) return false;
    if (!parseIntFast(this.valuePtr, this.valueLen, this.dataLen - this.start)) return false;
    this.intValue = parsedInt;
    return true;
  }

  /** If the value found is a number, sets floatValue to it and returns true. Allocates. */
  asFloat(): bool {
    if (this.kind != JSONKind.Number) return false;
    this.floatValue = parseFloat(String.UTF8.decodeUnsafe(this.valuePtr, <usize>this.valueLen));
    return true;
  }

  /** The value's raw text (a string's quotes and escapes included). Allocates. */
  raw(): string {
    return String.UTF8.decodeUnsafe(this.valuePtr, <usize>this.valueLen);
  }

  /** The value if it is a string, unescaped; else null. Allocates. */
  stringValue(): string | null {
    if (this.kind != JSONKind.String) return null;
    return unquote(this.valuePtr, this.valueLen);
  }
}

/**
 * JSONMembers iterates over the members of a JSON object, checking each as
 * JSONField does; `ok` tells, once next() returns false, whether the object was
 * well formed to its end.
 */
// @ts-ignore: decorator
@unmanaged
export class JSONMembers {
  private d: usize = 0;
  private n: i32 = 0;
  private i: i32 = 0;
  private done: bool = true;
  ok: bool = false;
  nameStart: i32 = 0;
  nameEnd: i32 = 0;
  kind: JSONKind = JSONKind.Invalid;
  start: i32 = 0;
  end: i32 = 0;

  constructor(ptr: usize, n: i32) {
    this.reset(ptr, n);
  }

  reset(ptr: usize, n: i32): void {
    this.d = ptr;
    this.n = n;
    this.ok = false;
    this.done = false;
    let i = skipWS(ptr, n, 0);
    if (i >= n || load<u8>(ptr + <usize>i) != 0x7b) {
      this.done = true;
      return;
    }
    i = skipWS(ptr, n, i + 1);
    if (i < n && load<u8>(ptr + <usize>i) == 0x7d) {
      this.done = true;
      this.ok = true;
      return;
    }
    this.i = i;
  }

  next(): bool {
    if (this.done) return false;
    const d = this.d, n = this.n, i = this.i;
    if (i >= n || load<u8>(d + <usize>i) != 0x22) {
      this.done = true;
      return false;
    }
    const after = scanMember(d, n, i, 0, 0);
    if (after < 0) {
      this.done = true;
      return false;
    }
    this.nameStart = i + 1;
    this.nameEnd = nameEnd - 1;
    this.kind = <JSONKind>foundKind;
    this.start = foundStart;
    this.end = foundEnd;
    if (load<u8>(d + <usize>after) == 0x7d) {
      this.done = true;
      this.ok = true;
    } else {
      this.i = skipWS(d, n, after + 1);
    }
    return true;
  }

  /** Reports whether the current member's name, unescaped, is name. */
  nameIs(name: string): bool {
    const b = String.UTF8.encode(name);
    return keyEquals(this.d + <usize>this.nameStart, this.nameEnd - this.nameStart, changetype<usize>(b), b.byteLength);
  }

  /** The current member's name, unescaped. Allocates. */
  name(): string {
    return unquote(this.d + <usize>this.nameStart - 1, this.nameEnd - this.nameStart + 2)!;
  }

  /** The current member's value as raw text. Allocates. */
  raw(): string {
    return String.UTF8.decodeUnsafe(this.d + <usize>this.start, <usize>(this.end - this.start));
  }

  /** The current value, if it is a string, unescaped; else null. Allocates. */
  stringValue(): string | null {
    if (this.kind != JSONKind.String) return null;
    return unquote(this.d + <usize>this.start, this.end - this.start);
  }

  /** The current value if it is an integer fitting an i64 (see JSONField.asInt). */
  intValue(): i64 {
    return parsedInt;
  }

  /** Parses the current value as JSONField.asInt does; the result is in intValue(). */
  asInt(): bool {
    return this.kind == JSONKind.Number && parseInt64(this.d + <usize>this.start, this.end - this.start);
  }
}

/**
 * JSONArray iterates over the elements of a JSON array given as its raw text
 * (for example a JSONField's value). It allocates nothing. reset() returns
 * false, and next() never true, if the text is not one well-formed array.
 */
// @ts-ignore: decorator
@unmanaged
export class JSONArray {
  private d: usize = 0;
  private n: i32 = 0;
  private i: i32 = 0;
  private done: bool = true;
  /** The current element's kind and text: offsets from the array's start. */
  kind: JSONKind = JSONKind.Invalid;
  start: i32 = 0;
  end: i32 = 0;

  reset(ptr: usize, n: i32): bool {
    this.d = ptr;
    this.n = n;
    this.done = true;
    if (n == 0 || load<u8>(ptr) != 0x5b || skipValue(ptr, n, 0, 1) != n) return false;
    const i = skipWS(ptr, n, 1);
    this.done = load<u8>(ptr + <usize>i) == 0x5d;
    this.i = i;
    return true;
  }

  /** Moves to the next element; false after the last. */
  next(): bool {
    if (this.done) return false;
    const d = this.d, n = this.n, i = this.i;
    const end = skipValue(d, n, i, 2);
    this.kind = kindOf(load<u8>(d + <usize>i));
    this.start = i;
    this.end = end;
    const j = skipWS(d, n, end);
    if (load<u8>(d + <usize>j) == 0x5d) this.done = true;
    else this.i = skipWS(d, n, j + 1);
    return true;
  }

  /** The address of the current element's text. */
  @inline get valuePtr(): usize {
    return this.d + <usize>this.start;
  }

  @inline get valueLen(): i32 {
    return this.end - this.start;
  }
}

/** Reports whether the n bytes at ptr are exactly one well-formed JSON value, with optional whitespace around it. */
export function jsonValid(ptr: usize, n: i32): bool {
  const i = skipValue(ptr, n, skipWS(ptr, n, 0), 1);
  return i >= 0 && skipWS(ptr, n, i) == n;
}

/** Reports whether the n bytes at ptr are exactly one JSON object. */
export function jsonValidObject(ptr: usize, n: i32): bool {
  const i = skipWS(ptr, n, 0);
  return i < n && load<u8>(ptr + <usize>i) == 0x7b && jsonValid(ptr, n);
}

// ---------------------------------------------------------------- the scanner
// Offsets are i32 from the document's address d; n is its length; -1 is failure.
// Results beyond the return value go through these globals (no allocation).

let foundStart: i32 = 0;
let foundEnd: i32 = 0;
let foundKind: i32 = 0;
let foundMatch: bool = false;
let nameEnd: i32 = 0;
let parsedInt: i64 = 0;

/** Finds member f (UTF-8, fn bytes at fp); returns 0 and sets found* or -1. */
function findMember(d: usize, n: i32, fp: usize, fn: i32): i32 {
  let i = skipWS(d, n, 0);
  if (i >= n || load<u8>(d + <usize>i) != 0x7b) return -1;
  i = skipWS(d, n, i + 1);
  while (true) {
    if (i >= n || load<u8>(d + <usize>i) != 0x22) return -1;
    const after = scanMember(d, n, i, fp, fn);
    if (after < 0) return -1;
    if (foundMatch) return 0;
    if (load<u8>(d + <usize>after) == 0x7d) return -1;
    i = skipWS(d, n, after + 1);
  }
  return -1;
}

/**
 * scanMember scans the member whose name's opening quote is at i, and the
 * whitespace after its value; returns the offset of the `,` or `}` after it, or
 * -1. Sets foundStart/End/Kind, nameEnd (just past the closing quote) and
 * foundMatch (whether the name, unescaped, is the fn bytes at fp).
 */
function scanMember(d: usize, n: i32, i: i32, fp: usize, fn: i32): i32 {
  let j = plainEnd(d, n, i + 1);
  if (j < n && load<u8>(d + <usize>j) == 0x22) {
    foundMatch = j - i - 1 == fn && nameEquals(d + <usize>(i + 1), n - i - 1, fp, fn);
    j++;
  } else {
    j = skipString(d, n, i);
    if (j < 0) return -1;
    foundMatch = keyEquals(d + <usize>(i + 1), j - i - 2, fp, fn);
  }
  nameEnd = j;
  j = skipWS(d, n, j);
  if (j >= n || load<u8>(d + <usize>j) != 0x3a) return -1;
  const start = skipWS(d, n, j + 1);
  if (start >= n) return -1;
  const c = load<u8>(d + <usize>start);
  const end = skipValue(d, n, start, 2);
  if (end < 0) return -1;
  j = skipWS(d, n, end);
  if (j >= n) return -1;
  const e = load<u8>(d + <usize>j);
  if (e != 0x2c && e != 0x7d) return -1;
  foundStart = start;
  foundEnd = end;
  foundKind = kindOf(c);
  return j;
}

function kindOf(c: u8): JSONKind {
  switch (c) {
    case 0x22: return JSONKind.String;
    case 0x7b: return JSONKind.Object;
    case 0x5b: return JSONKind.Array;
    case 0x74: return JSONKind.True;
    case 0x66: return JSONKind.False;
    case 0x6e: return JSONKind.Null;
  }
  return JSONKind.Number;
}

// @ts-ignore: decorator
@inline function isWS(c: u8): bool {
  return c == 0x20 || c == 0x0a || c == 0x0d || c == 0x09;
}

// The host counts every loop iteration of a guest (sdk/ABI.md §8), and the
// scanner's loops run per byte: the common cases below (no whitespace, a short
// number, a short name) are decided without entering a loop.

// @ts-ignore: decorator
@inline function skipWS(d: usize, n: i32, i: i32): i32 {
  return i < n && load<u8>(d + <usize>i) > 0x20 ? i : skipWSLoop(d, n, i);
}

function skipWSLoop(d: usize, n: i32, i: i32): i32 {
  while (i < n && isWS(load<u8>(d + <usize>i))) i++;
  return i;
}

const LSB: u64 = 0x0101010101010101;
const MSB: u64 = 0x8080808080808080;

/**
 * The eight bytes of x (little endian) with the high bit set in each byte that is
 * not an ASCII digit; only the lowest mark counts (as in the Go SDK).
 */
// @ts-ignore: decorator
@inline function nonDigitBytes(x: u64): u64 {
  const t = ((x & (LSB * 0xf0)) ^ (LSB * 0x30)) | (((x + LSB * 0x06) & (LSB * 0xf0)) ^ (LSB * 0x30));
  return (((t & (LSB * 0x7f)) + LSB * 0x7f) | t) & MSB;
}

/** The n low bytes of a word set (n in 0..8). */
// @ts-ignore: decorator
@inline function lowBytes(n: i32): u64 {
  return n >= 8 ? <u64>-1 : (<u64>1 << (<u64>n << 3)) - 1;
}

/**
 * Reports whether the fn bytes at a (with avail bytes readable there) equal the
 * name at fp (zero-padded to at least 16 bytes).
 */
function nameEquals(a: usize, avail: i32, fp: usize, fn: i32): bool {
  if (fn <= 16 && avail >= 16) {
    const lo = lowBytes(fn), hi = lowBytes(fn - 8);
    return (((load<u64>(a) & lo) ^ load<u64>(fp)) | ((load<u64>(a, 8) & (fn > 8 ? hi : 0)) ^ load<u64>(fp, 8))) == 0;
  }
  return memory.compare(a, fp, <usize>fn) == 0;
}

/** The offset just past the value at i, or -1; depth is the nesting a container there would have. */
function skipValue(d: usize, n: i32, i: i32, depth: i32): i32 {
  if (i >= n) return -1;
  const c = load<u8>(d + <usize>i);
  switch (c) {
    case 0x22: return skipString(d, n, i);
    case 0x74: return skipLiteral(d, n, i, 0x65757274, 4); // "true"
    case 0x66: return skipLiteral(d, n, i, 0x736c6166, 5); // "false"
    case 0x6e: return skipLiteral(d, n, i, 0x6c6c756e, 4); // "null"
    case 0x7b: {
      if (depth > MAX_JSON_DEPTH) return -1;
      i = skipWS(d, n, i + 1);
      if (i < n && load<u8>(d + <usize>i) == 0x7d) return i + 1;
      while (true) {
        if (i >= n || load<u8>(d + <usize>i) != 0x22) return -1;
        i = skipString(d, n, i);
        if (i < 0) return -1;
        i = skipWS(d, n, i);
        if (i >= n || load<u8>(d + <usize>i) != 0x3a) return -1;
        i = skipValue(d, n, skipWS(d, n, i + 1), depth + 1);
        if (i < 0) return -1;
        i = skipWS(d, n, i);
        if (i >= n) return -1;
        const e = load<u8>(d + <usize>i);
        if (e == 0x7d) return i + 1;
        if (e != 0x2c) return -1;
        i = skipWS(d, n, i + 1);
      }
      return -1;
    }
    case 0x5b: {
      if (depth > MAX_JSON_DEPTH) return -1;
      i = skipWS(d, n, i + 1);
      if (i < n && load<u8>(d + <usize>i) == 0x5d) return i + 1;
      while (true) {
        i = skipValue(d, n, i, depth + 1);
        if (i < 0) return -1;
        i = skipWS(d, n, i);
        if (i >= n) return -1;
        const e = load<u8>(d + <usize>i);
        if (e == 0x5d) return i + 1;
        if (e != 0x2c) return -1;
        i = skipWS(d, n, i + 1);
      }
      return -1;
    }
  }
  if (c == 0x2d || (c >= 0x30 && c <= 0x39)) return skipNumber(d, n, i);
  return -1;
}

/** Checks the literal whose first four bytes, little endian, are word4 and whose length is len (4, or 5 for false). */
function skipLiteral(d: usize, n: i32, i: i32, word4: u32, len: i32): i32 {
  if (n - i < len) return -1;
  if (load<u32>(d + <usize>i) != word4) return -1;
  if (len == 5 && load<u8>(d + <usize>(i + 4)) != 0x65) return -1;
  return i + len;
}

/** -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
function skipNumber(d: usize, n: i32, i: i32): i32 {
  if (i < n && load<u8>(d + <usize>i) == 0x2d) i++;
  if (i >= n) return -1;
  let c = load<u8>(d + <usize>i);
  if (c == 0x30) i++;
  else if (c >= 0x31 && c <= 0x39) i = skipDigits(d, n, i + 1);
  else return -1;
  if (i < n && load<u8>(d + <usize>i) == 0x2e) {
    const j = skipDigits(d, n, i + 1);
    if (j == i + 1) return -1;
    i = j;
  }
  if (i < n) {
    c = load<u8>(d + <usize>i);
    if (c == 0x65 || c == 0x45) {
      i++;
      if (i < n) {
        c = load<u8>(d + <usize>i);
        if (c == 0x2b || c == 0x2d) i++;
      }
      const j = skipDigits(d, n, i);
      if (j == i) return -1;
      i = j;
    }
  }
  return i;
}

function skipDigits(d: usize, n: i32, i: i32): i32 {
  if (n - i >= 8) {
    const m = nonDigitBytes(load<u64>(d + <usize>i));
    if (m != 0) return i + <i32>(ctz(m) >> 3);
    i += 8;
  }
  while (i < n && <u32>(load<u8>(d + <usize>i) - 0x30) < 10) i++;
  return i;
}

/** The offset of the first byte at or after i that a string cannot hold as it is (quote, backslash, control), or n. */
function plainEnd(d: usize, n: i32, i: i32): i32 {
  // Eight bytes at a time while there is room.
  while (n - i >= 8) {
    const x = load<u64>(d + <usize>i);
    const q = x ^ 0x2222222222222222;
    const b = x ^ 0x5c5c5c5c5c5c5c5c;
    const m = ((x - 0x2020202020202020) & ~x | (q - 0x0101010101010101) & ~q | (b - 0x0101010101010101) & ~b) & 0x8080808080808080;
    if (m != 0) return i + <i32>(ctz(m) >> 3);
    i += 8;
  }
  while (i < n) {
    const c = load<u8>(d + <usize>i);
    if (c < 0x20 || c == 0x22 || c == 0x5c) return i;
    i++;
  }
  return n;
}

/** The offset just past the string whose opening quote is at i, or -1. */
function skipString(d: usize, n: i32, i: i32): i32 {
  i++;
  while (true) {
    i = plainEnd(d, n, i);
    if (i >= n) return -1;
    const c = load<u8>(d + <usize>i);
    if (c == 0x22) return i + 1;
    if (c != 0x5c) return -1; // a control character
    if (i + 1 >= n) return -1;
    const e = load<u8>(d + <usize>(i + 1));
    if (e == 0x22 || e == 0x5c || e == 0x2f || e == 0x62 || e == 0x66 || e == 0x6e || e == 0x72 || e == 0x74) {
      i += 2;
    } else if (e == 0x75) {
      if (n - i < 6 || hex4(d + <usize>(i + 2)) < 0) return -1;
      i += 6;
    } else {
      return -1;
    }
  }
  return -1;
}

function hex4(p: usize): i32 {
  let r = 0;
  for (let k: usize = 0; k < 4; k++) {
    let c = <i32>load<u8>(p + k);
    if (c >= 0x30 && c <= 0x39) c -= 0x30;
    else if (c >= 0x61 && c <= 0x66) c -= 0x61 - 10;
    else if (c >= 0x41 && c <= 0x46) c -= 0x41 - 10;
    else return -1;
    r = (r << 4) | c;
  }
  return r;
}

let escEnd: i32 = 0;

/** Decodes the (valid) escape at body offset i; returns the code point and sets escEnd. */
function unescapeAt(b: usize, n: i32, i: i32): i32 {
  const c = load<u8>(b + <usize>(i + 1));
  escEnd = i + 2;
  switch (c) {
    case 0x62: return 0x08;
    case 0x66: return 0x0c;
    case 0x6e: return 0x0a;
    case 0x72: return 0x0d;
    case 0x74: return 0x09;
    case 0x75: {
      const r = hex4(b + <usize>(i + 2));
      i += 6;
      escEnd = i;
      if (r >= 0xd800 && r < 0xe000) {
        if (r < 0xdc00 && n - i >= 6 && load<u8>(b + <usize>i) == 0x5c && load<u8>(b + <usize>(i + 1)) == 0x75) {
          const r2 = hex4(b + <usize>(i + 2));
          if (r2 >= 0xdc00 && r2 < 0xe000) {
            escEnd = i + 6;
            return 0x10000 + ((r - 0xd800) << 10) + (r2 - 0xdc00);
          }
        }
        return 0xfffd;
      }
      return r;
    }
  }
  return <i32>c; // quote, backslash, slash
}

/** Writes the UTF-8 encoding of code point r at p; returns its length. */
function encodeRune(p: usize, r: i32): i32 {
  if (r < 0x80) {
    store<u8>(p, <u8>r);
    return 1;
  }
  if (r < 0x800) {
    store<u8>(p, <u8>(0xc0 | (r >> 6)));
    store<u8>(p, <u8>(0x80 | (r & 0x3f)), 1);
    return 2;
  }
  if (r < 0x10000) {
    store<u8>(p, <u8>(0xe0 | (r >> 12)));
    store<u8>(p, <u8>(0x80 | ((r >> 6) & 0x3f)), 1);
    store<u8>(p, <u8>(0x80 | (r & 0x3f)), 2);
    return 3;
  }
  store<u8>(p, <u8>(0xf0 | (r >> 18)));
  store<u8>(p, <u8>(0x80 | ((r >> 12) & 0x3f)), 1);
  store<u8>(p, <u8>(0x80 | ((r >> 6) & 0x3f)), 2);
  store<u8>(p, <u8>(0x80 | (r & 0x3f)), 3);
  return 4;
}

/** Reports whether the body of a string (bn bytes at b, escapes valid) unescapes to the sn bytes at s. */
function keyEquals(b: usize, bn: i32, s: usize, sn: i32): bool {
  if (bn == sn && memory.compare(b, s, <usize>bn) == 0) return true;
  const rune = memory.data(4);
  let j = 0;
  let i = 0;
  while (i < bn) {
    const c = load<u8>(b + <usize>i);
    if (c != 0x5c) {
      if (j >= sn || load<u8>(s + <usize>j) != c) return false;
      i++;
      j++;
      continue;
    }
    const r = unescapeAt(b, bn, i);
    i = escEnd;
    const k = encodeRune(rune, r);
    if (sn - j < k || memory.compare(rune, s + <usize>j, <usize>k) != 0) return false;
    j += k;
  }
  return j == sn;
}

/** Unescapes the string whose text (quotes included) is the n bytes at p; null if it is not one valid string. */
function unquote(p: usize, n: i32): string | null {
  if (n < 2 || load<u8>(p) != 0x22 || skipString(p, n, 0) != n) return null;
  const body = p + 1;
  const bn = n - 2;
  const out = new ArrayBuffer(bn); // unescaping never lengthens
  const o = changetype<usize>(out);
  let j = 0;
  let i = 0;
  while (i < bn) {
    const c = load<u8>(body + <usize>i);
    if (c != 0x5c) {
      store<u8>(o + <usize>j, c);
      i++;
      j++;
      continue;
    }
    const r = unescapeAt(body, bn, i);
    i = escEnd;
    j += encodeRune(o + <usize>j, r);
  }
  return String.UTF8.decodeUnsafe(o, <usize>j);
}

/**
 * parseIntFast is parseInt64 for text with avail bytes readable at p: one to
 * eight digits are parsed at once, without a loop, when eight bytes can be read.
 */
function parseIntFast(p: usize, n: i32, avail: i32): bool {
  if (<u32>(n - 1) < 8 && avail >= 8) {
    let x = load<u64>(p);
    if ((nonDigitBytes(x) & lowBytes(n)) == 0 && (load<u8>(p) != 0x30 || n == 1)) {
      // Right-align the digits (zeros shift in), then combine them pairwise:
      // 2 digits per 16 bits, 4 per 32, 8.
      x <<= <u64>(64 - 8 * n);
      x = ((x & (LSB * 0x0f)) * (10 * 256 + 1)) >> 8;
      x = ((x & 0x00ff00ff00ff00ff) * (100 * 65536 + 1)) >> 16;
      x = ((x & 0x0000ffff0000ffff) * (10000 * 4294967296 + 1)) >> 32;
      parsedInt = <i64>x;
      return true;
    }
  }
  return parseInt64(p, n);
}

/**
 * Parses the n bytes at p as JSON integer text fitting an i64 (an optional `-`
 * and digits without leading zeros; `-0` is 0); the result goes to parsedInt.
 */
export function parseInt64(p: usize, n: i32): bool {
  let neg = false;
  if (n > 0 && load<u8>(p) == 0x2d) {
    neg = true;
    p++;
    n--;
  }
  if (n == 0 || n > 19 || (load<u8>(p) == 0x30 && n > 1)) return false;
  let u: u64 = 0;
  for (let i = 0; i < n; i++) {
    const c = <u32>load<u8>(p + <usize>i) - 0x30;
    if (c >= 10) return false;
    u = u * 10 + <u64>c;
  }
  if (neg) {
    if (u > 0x8000000000000000) return false;
    parsedInt = -(<i64>u);
  } else {
    if (u > 0x7fffffffffffffff) return false;
    parsedInt = <i64>u;
  }
  return true;
}

/** The result of the last successful parseInt64. */
export function lastParsedInt(): i64 {
  return parsedInt;
}
