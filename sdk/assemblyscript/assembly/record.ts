// Input records: views of the batch frame the host wrote into the input buffer
// (sdk/ABI.md §5).

/** Record flags (sdk/ABI.md §5). */
export const FLAG_KEY: u8 = 0x01;
export const FLAG_TIMESTAMP: u8 = 0x02;
export const FLAG_PAYLOAD: u8 = 0x04;
export const FLAG_HEADERS: u8 = 0x08;
const FLAG_RESERVED: u8 = 0xf0;

/**
 * The buffer weir_alloc last returned. Holding it in a global keeps the garbage
 * collector from freeing it while the host writes into it (sdk/ABI.md §3).
 */
export let inputBuffer: ArrayBuffer | null = null;

export function setInputBuffer(b: ArrayBuffer | null): void {
  inputBuffer = b;
}

/**
 * Record is one input record. The SDK reuses one Record for every record of a
 * batch: its fields and the views it returns are valid only until your
 * function returns. Copy what you keep.
 *
 * The fields are for reading; `payloadPtr`/`payloadLen` and `keyPtr`/`keyLen`
 * give allocation-free access (for `load<u8>`, `JSONField.findRaw`,
 * `Buffer.appendRaw`), the methods give views and strings (which allocate).
 */
// @ts-ignore: decorator
@unmanaged
export class Record {
  /** The record's index in its batch: what outputs name as their parent. */
  index: i32 = 0;
  flags: u8 = 0;
  keyPtr: usize = 0;
  keyLen: i32 = 0;
  /** Event time in milliseconds since the Unix epoch; 0 when absent. */
  timestamp: i64 = 0;
  payloadPtr: usize = 0;
  payloadLen: i32 = 0;
  headersPtr: usize = 0;
  /** The number of headers, repeated names included. */
  headerCount: i32 = 0;

  @inline get hasKey(): bool {
    return (this.flags & FLAG_KEY) != 0;
  }

  @inline get hasTimestamp(): bool {
    return (this.flags & FLAG_TIMESTAMP) != 0;
  }

  @inline get hasHeaders(): bool {
    return (this.flags & FLAG_HEADERS) != 0;
  }

  /** The payload, a view of the input buffer (an empty payload gives an empty array). */
  payload(): Uint8Array {
    return view(this.payloadPtr, this.payloadLen);
  }

  /** The payload decoded as UTF-8. */
  payloadString(): string {
    return String.UTF8.decodeUnsafe(this.payloadPtr, <usize>this.payloadLen);
  }

  /** The key, a view of the input buffer, or null when the record has none. */
  key(): Uint8Array | null {
    return this.hasKey ? view(this.keyPtr, this.keyLen) : null;
  }

  /** The key decoded as UTF-8, or null when the record has none. */
  keyString(): string | null {
    return this.hasKey ? String.UTF8.decodeUnsafe(this.keyPtr, <usize>this.keyLen) : null;
  }

  /** The value of the first header called name, or null. */
  header(name: string): Uint8Array | null {
    const i = this.findHeader(name);
    return i < 0 ? null : this.headerValue(i);
  }

  /** The value of the first header called name decoded as UTF-8, or null. */
  headerString(name: string): string | null {
    const i = this.findHeader(name);
    return i < 0 ? null : this.headerValueString(i);
  }

  /** The name of header i (0 <= i < headerCount). */
  headerName(i: i32): string {
    const p = this.headerAt(i);
    return String.UTF8.decodeUnsafe(p + 4, load<u32>(p));
  }

  /** The value of header i, a view of the input buffer. */
  headerValue(i: i32): Uint8Array {
    let p = this.headerAt(i);
    p += 4 + <usize>load<u32>(p);
    return view(p + 4, load<u32>(p));
  }

  /** The value of header i decoded as UTF-8. */
  headerValueString(i: i32): string {
    let p = this.headerAt(i);
    p += 4 + <usize>load<u32>(p);
    return String.UTF8.decodeUnsafe(p + 4, load<u32>(p));
  }

  /**
   * The headers in order, repeated names included, without allocating:
   * `const h = rec.headers(); while (h.next()) { h.nameString(), h.valueString() }`.
   * The iterator is the SDK's, reset by each call.
   */
  headers(): HeaderIter {
    headerIter.reset(this.headersPtr, this.headerCount);
    return headerIter;
  }

  /** The index of the first header called name, or -1. */
  findHeader(name: string): i32 {
    let p = this.headersPtr;
    for (let i = 0; i < this.headerCount; i++) {
      const n = load<u32>(p);
      if (equalsString(p + 4, n, name)) return i;
      p += 4 + <usize>n;
      p += 4 + <usize>load<u32>(p);
    }
    return -1;
  }

  private headerAt(i: i32): usize {
    assert(i >= 0 && i < this.headerCount, "header index out of range");
    let p = this.headersPtr;
    for (let k = 0; k < i; k++) {
      p += 4 + <usize>load<u32>(p);
      p += 4 + <usize>load<u32>(p);
    }
    return p;
  }
}

/** HeaderIter walks a record's headers; see Record.headers(). */
// @ts-ignore: decorator
@unmanaged
export class HeaderIter {
  private p: usize = 0;
  private left: i32 = 0;
  /** The current header's name and value: addresses and lengths in the input. */
  namePtr: usize = 0;
  nameLen: i32 = 0;
  valuePtr: usize = 0;
  valueLen: i32 = 0;

  reset(p: usize, count: i32): void {
    this.p = p;
    this.left = count;
  }

  /** Moves to the next header; false after the last. */
  next(): bool {
    if (this.left <= 0) return false;
    this.left--;
    let p = this.p;
    this.nameLen = <i32>load<u32>(p);
    this.namePtr = p + 4;
    p += 4 + <usize>this.nameLen;
    this.valueLen = <i32>load<u32>(p);
    this.valuePtr = p + 4;
    this.p = p + 4 + <usize>this.valueLen;
    return true;
  }

  /** The current name decoded as UTF-8. */
  nameString(): string {
    return String.UTF8.decodeUnsafe(this.namePtr, <usize>this.nameLen);
  }

  /** The current value, a view of the input buffer. */
  value(): Uint8Array {
    return view(this.valuePtr, this.valueLen);
  }

  /** The current value decoded as UTF-8. */
  valueString(): string {
    return String.UTF8.decodeUnsafe(this.valuePtr, <usize>this.valueLen);
  }

  /** Reports whether the current name is name. */
  nameIs(name: string): bool {
    return equalsString(this.namePtr, <u32>this.nameLen, name);
  }
}

const headerIter = new HeaderIter();

/** A Uint8Array viewing n bytes of the input buffer at address ptr. */
export function view(ptr: usize, n: i32): Uint8Array {
  const b = inputBuffer;
  if (b === null || n == 0) return new Uint8Array(0);
  return Uint8Array.wrap(b, <i32>(ptr - changetype<usize>(b)), n);
}

/** Reports whether the n bytes at ptr are the UTF-8 encoding of s. */
export function equalsString(ptr: usize, n: u32, s: string): bool {
  // Plain ASCII names are compared without encoding s.
  const len = s.length;
  if (<u32>len == n) {
    let ascii = true;
    for (let i = 0; i < len; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) {
        ascii = false;
        break;
      }
      if (<u8>c != load<u8>(ptr + <usize>i)) return false;
    }
    if (ascii) return true;
  }
  if (<u32>String.UTF8.byteLength(s) != n) return false;
  const enc = String.UTF8.encode(s);
  return memory.compare(changetype<usize>(enc), ptr, <usize>n) == 0;
}

/**
 * decodeRecord decodes the record at address p, with end the end of the batch,
 * into r and returns the address just past it, or 0 if it is malformed.
 */
export function decodeRecord(p: usize, end: usize, r: Record): usize {
  if (p >= end) return 0;
  const flags = load<u8>(p);
  p++;
  if ((flags & FLAG_RESERVED) != 0) return 0;
  r.flags = flags;
  r.keyPtr = 0;
  r.keyLen = 0;
  r.timestamp = 0;
  r.payloadPtr = 0;
  r.payloadLen = 0;
  r.headersPtr = 0;
  r.headerCount = 0;
  if ((flags & FLAG_KEY) != 0) {
    if (end - p < 4) return 0;
    const n = load<u32>(p);
    p += 4;
    if (<usize>n > end - p) return 0;
    r.keyPtr = p;
    r.keyLen = <i32>n;
    p += <usize>n;
  }
  if ((flags & FLAG_TIMESTAMP) != 0) {
    if (end - p < 8) return 0;
    r.timestamp = load<i64>(p);
    p += 8;
  }
  if ((flags & FLAG_PAYLOAD) != 0) {
    if (end - p < 4) return 0;
    const n = load<u32>(p);
    p += 4;
    if (<usize>n > end - p) return 0;
    r.payloadPtr = p;
    r.payloadLen = <i32>n;
    p += <usize>n;
  } else {
    r.payloadPtr = p; // an empty payload, at a valid address
  }
  if ((flags & FLAG_HEADERS) != 0) {
    if (end - p < 4) return 0;
    const count = load<u32>(p);
    p += 4;
    // Each entry takes at least its two lengths.
    if (<u64>count > <u64>(end - p) / 8) return 0;
    r.headersPtr = p;
    for (let i: u32 = 0; i < count; i++) {
      for (let k = 0; k < 2; k++) {
        if (end - p < 4) return 0;
        const n = load<u32>(p);
        p += 4;
        if (<usize>n > end - p) return 0;
        p += <usize>n;
      }
    }
    r.headerCount = <i32>count;
  }
  return p;
}
