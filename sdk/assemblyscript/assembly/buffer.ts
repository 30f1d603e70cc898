/**
 * Buffer is a growable byte buffer that is reused: reset() empties it without
 * freeing its memory, so a buffer filled once per record allocates only while
 * it grows to the largest size it ever holds.
 *
 * It is @unmanaged, as are Record, Output, Collector and the JSON classes: the
 * garbage collector neither tracks nor frees them, so functions that only use
 * them need none of the incremental runtime's bookkeeping (a shadow-stack frame
 * per call holding every managed reference), which on the per-record path costs
 * more than the work itself. Their memory comes from the heap directly and lives
 * as long as the instance: make them once, at start-up.
 */
// @ts-ignore: decorator
@unmanaged
export class Buffer {
  private ptr: usize;
  private cap: i32;
  /** The number of bytes in the buffer. */
  length: i32;

  constructor(capacity: i32 = 256) {
    this.cap = max(capacity, 16);
    this.ptr = heap.alloc(<usize>this.cap);
    this.length = 0;
  }

  /** The address of the first byte; valid until the buffer next grows. */
  @inline get dataStart(): usize {
    return this.ptr;
  }

  /** Empties the buffer, keeping its memory. */
  @inline reset(): void {
    this.length = 0;
  }

  /**
   * Makes room for n more bytes and returns the address where they go; the
   * caller writes them and then calls advance(n).
   */
  @inline reserve(n: i32): usize {
    const need = this.length + n;
    if (need > this.cap) this.grow(need);
    return this.ptr + <usize>this.length;
  }

  @inline advance(n: i32): void {
    this.length += n;
  }

  /** The number of bytes the buffer holds without growing. */
  @inline get capacity(): i32 {
    return this.cap;
  }

  /**
   * Empties the buffer and makes its capacity at least n, for a writer that
   * fills it from dataStart (the host, for state reads) and then sets length.
   */
  ensureCapacity(n: i32): void {
    this.length = 0;
    if (n > this.cap) this.grow(n);
  }

  private grow(need: i32): void {
    let cap = this.cap;
    while (cap < need) cap = cap < (1 << 30) ? cap << 1 : need;
    this.ptr = heap.realloc(this.ptr, <usize>cap);
    this.cap = cap;
  }

  /** Appends n bytes from address ptr. */
  @inline appendRaw(ptr: usize, n: i32): void {
    const p = this.reserve(n);
    memory.copy(p, ptr, <usize>n);
    this.length += n;
  }

  /** Appends the bytes of a. */
  appendBytes(a: Uint8Array): void {
    this.appendRaw(a.dataStart, a.byteLength);
  }

  /** Appends the UTF-8 encoding of s. */
  appendString(s: string): void {
    // At most three bytes per UTF-16 unit.
    const p = this.reserve(s.length * 3);
    this.length += <i32>String.UTF8.encodeUnsafe(changetype<usize>(s), s.length, p);
  }

  @inline appendByte(b: u8): void {
    const p = this.reserve(1);
    store<u8>(p, b);
    this.length++;
  }

  @inline appendU32(v: u32): void {
    const p = this.reserve(4);
    store<u32>(p, v);
    this.length += 4;
  }

  @inline appendI64(v: i64): void {
    const p = this.reserve(8);
    store<i64>(p, v);
    this.length += 8;
  }

  /** Appends v in decimal: "-" for negatives, no leading zeros. */
  appendInt(v: i64): void {
    const u: u64 = v < 0 ? <u64>(-v) : <u64>v; // -MIN_VALUE wraps to itself, read unsigned
    const p = this.reserve(21);
    const s = <i32>(<u64>v >> 63); // 1 for the minus sign
    store<u8>(p, 45); // '-', overwritten by the digits when v >= 0
    if (u < 100000000) {
      // Up to eight digits without a loop (the host counts loop iterations),
      // as the Go example does: two numbers of four digits in the 32-bit halves,
      // four of two digits in the 16-bit quarters, eight digits in the bytes.
      const w = u | 1;
      const t = ((64 - <i32>clz(w)) * 1233) >> 12;
      const nd = w < pow10(t) ? t : t + 1;
      let x = (u / 10000) | ((u % 10000) << 32);
      let q = ((x * 5243) >> 19) & 0x0000007f0000007f;
      x = q | ((x - q * 100) << 16);
      q = ((x * 103) >> 10) & 0x000f000f000f000f;
      x = q | ((x - q * 10) << 8);
      x = (x + 0x3030303030303030) >> (<u64>(8 * (8 - nd)));
      store<u64>(p + <usize>s, x);
      this.length += s + nd;
      return;
    }
    let digits = 1;
    for (let t = u; t >= 10; t /= 10) digits++;
    let q = p + <usize>(s + digits);
    let r = u;
    do {
      q--;
      store<u8>(q, <u8>(48 + r % 10));
      r /= 10;
    } while (r != 0);
    this.length += s + digits;
  }

  /** A copy of the contents. */
  toBytes(): Uint8Array {
    const a = new Uint8Array(this.length);
    memory.copy(a.dataStart, this.ptr, <usize>this.length);
    return a;
  }

  /** The contents decoded as UTF-8. */
  toString(): string {
    return String.UTF8.decodeUnsafe(this.ptr, <usize>this.length);
  }
}

/** 10^t for t in 0..8. */
// @ts-ignore: decorator
@inline function pow10(t: i32): u64 {
  return load<u64>(POW10 + (<usize>t << 3));
}

const POW10 = memory.data<u64>([1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000]);
