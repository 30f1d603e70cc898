// Outputs and the output frame (sdk/ABI.md §5) the SDK hands to weir.emit once
// per batch.

import { Buffer } from "./buffer";
import { failOnce } from "./log";
import { FLAG_HEADERS, FLAG_KEY, FLAG_PAYLOAD, FLAG_TIMESTAMP } from "./record";

/** The output frame of the current batch: u32 count, then the outputs. Reused. */
export const frame = new Buffer(64 << 10);
export let frameCount: u32 = 0;

export function resetFrame(): void {
  frame.reset();
  frame.appendU32(0);
  frameCount = 0;
}

/** Writes the count into the frame and returns it complete. */
export function sealFrame(): void {
  store<u32>(frame.dataStart, frameCount);
}

/** Appends an output that is its parent record unchanged (flags 0). */
// @ts-ignore: decorator
@inline export function appendKept(parent: u32): void {
  const p = frame.reserve(9);
  store<u32>(p, parent);
  store<u32>(p, 0, 4);
  store<u8>(p, 0, 8);
  frame.advance(9);
  frameCount++;
}

/**
 * Appends a key_selector's output: the key alone (flags KEY), everything else
 * inherited from input record parent.
 */
export function appendKey(parent: u32, key: Buffer): void {
  const n = key.length;
  const p = frame.reserve(13 + n);
  store<u32>(p, parent);
  store<u32>(p, 0, 4);
  store<u8>(p, FLAG_KEY, 8);
  store<u32>(p, <u32>n, 9);
  memory.copy(p + 13, key.dataStart, <usize>n);
  frame.advance(13 + n);
  frameCount++;
}

/**
 * Output is one output record. Every field you do not set is inherited from the
 * input record it derives from: an Output left alone is its input unchanged.
 * The SDK reuses Outputs, so never keep one past your function's return.
 */
// @ts-ignore: decorator
@unmanaged
export class Output {
  parent: u32 = 0;
  tag: u32 = 0;
  flags: u8 = 0;
  private keyBuf: Buffer = new Buffer(64);
  private ts: i64 = 0;
  private payloadBuf: Buffer = new Buffer(1024);
  private headerBuf: Buffer = new Buffer(64);
  private headerCount: u32 = 0;

  /** Starts a fresh output deriving from input record parent, to output tag. */
  @inline begin(parent: u32, tag: u32): void {
    this.parent = parent;
    this.tag = tag;
    this.flags = 0;
  }

  /**
   * The output's payload buffer, emptied, to append the new payload into
   * (`appendRaw`, `appendString`, `appendInt`...); calling it sets the payload.
   * Reused from record to record, so building a payload allocates nothing once
   * the buffer has grown to the largest payload.
   */
  @inline payload(): Buffer {
    this.flags |= FLAG_PAYLOAD;
    this.payloadBuf.reset();
    return this.payloadBuf;
  }

  /** Sets the payload to a copy of data. */
  setPayload(data: Uint8Array): void {
    this.payload().appendBytes(data);
  }

  /** Sets the payload to the UTF-8 encoding of s. */
  setPayloadString(s: string): void {
    this.payload().appendString(s);
  }

  /** Sets the payload to a copy of the n bytes at address ptr. */
  setPayloadRaw(ptr: usize, n: i32): void {
    this.payload().appendRaw(ptr, n);
  }

  /** Sets the key to a copy of data. */
  setKey(data: Uint8Array): void {
    this.flags |= FLAG_KEY;
    this.keyBuf.reset();
    this.keyBuf.appendBytes(data);
  }

  /** Sets the key to the UTF-8 encoding of s. */
  setKeyString(s: string): void {
    this.flags |= FLAG_KEY;
    this.keyBuf.reset();
    this.keyBuf.appendString(s);
  }

  /** Sets the event time, in milliseconds since the Unix epoch. */
  setTimestamp(ms: i64): void {
    this.flags |= FLAG_TIMESTAMP;
    this.ts = ms;
  }

  /**
   * Adds a header. The first call replaces all inherited headers: an output
   * either inherits its input's headers or carries only those added.
   */
  addHeader(name: string, value: string): void {
    this.startHeaders();
    const b = this.headerBuf;
    const at = b.length;
    b.appendU32(0);
    b.appendString(name);
    store<u32>(b.dataStart + <usize>at, <u32>(b.length - at - 4));
    const at2 = b.length;
    b.appendU32(0);
    b.appendString(value);
    store<u32>(b.dataStart + <usize>at2, <u32>(b.length - at2 - 4));
    this.headerCount++;
  }

  /** Adds a header whose value is a copy of bytes. */
  addHeaderBytes(name: string, value: Uint8Array): void {
    this.startHeaders();
    const b = this.headerBuf;
    const at = b.length;
    b.appendU32(0);
    b.appendString(name);
    store<u32>(b.dataStart + <usize>at, <u32>(b.length - at - 4));
    b.appendU32(value.byteLength);
    b.appendBytes(value);
    this.headerCount++;
  }

  /** Drops every header: the output has none, not even inherited ones. */
  clearHeaders(): void {
    this.flags |= FLAG_HEADERS;
    this.headerBuf.reset();
    this.headerCount = 0;
  }

  private startHeaders(): void {
    if ((this.flags & FLAG_HEADERS) == 0) this.clearHeaders();
  }

  /** Appends the output to the frame. */
  finish(): void {
    const flags = this.flags;
    if (flags == 0) {
      const p = frame.reserve(9);
      store<u32>(p, this.parent);
      store<u32>(p, this.tag, 4);
      store<u8>(p, 0, 8);
      frame.advance(9);
      frameCount++;
      return;
    }
    frame.appendU32(this.parent);
    frame.appendU32(this.tag);
    frame.appendByte(flags);
    if ((flags & FLAG_KEY) != 0) {
      frame.appendU32(<u32>this.keyBuf.length);
      frame.appendRaw(this.keyBuf.dataStart, this.keyBuf.length);
    }
    if ((flags & FLAG_TIMESTAMP) != 0) frame.appendI64(this.ts);
    if ((flags & FLAG_PAYLOAD) != 0) {
      const n = this.payloadBuf.length;
      const p = frame.reserve(4 + n);
      store<u32>(p, <u32>n);
      memory.copy(p + 4, this.payloadBuf.dataStart, <usize>n);
      frame.advance(4 + n);
    }
    if ((flags & FLAG_HEADERS) != 0) {
      frame.appendU32(this.headerCount);
      frame.appendRaw(this.headerBuf.dataStart, this.headerBuf.length);
    }
    frameCount++;
  }
}

/**
 * Collector receives the outputs of a flat_map function: any number per input
 * record, each deriving from it (inheriting what it does not set).
 */
// @ts-ignore: decorator
@unmanaged
export class Collector {
  private out: Output = new Output();
  private pending: bool = false;
  parent: u32 = 0;
  /**
   * Set by the SDK for a window_process call, whose outputs must carry a payload
   * (sdk/ABI.md §4.6): one without fails the call with a message saying so.
   */
  needPayload: bool = false;

  /** Starts a new output on the main output and returns it. */
  emit(): Output {
    return this.emitTo(0);
  }

  /**
   * Starts a new output on output tag (0 the main output, i + 1 the function's
   * i-th side output) and returns it. The previous output is finished first.
   */
  emitTo(tag: u32): Output {
    this.flush();
    this.out.begin(this.parent, tag);
    this.pending = true;
    return this.out;
  }

  /** Emits an output on the main output with a copy of data as its payload. */
  emitPayload(data: Uint8Array): void {
    this.emit().setPayload(data);
  }

  /** Emits an output on the main output with the UTF-8 encoding of s as its payload. */
  emitPayloadString(s: string): void {
    this.emit().setPayloadString(s);
  }

  /** Emits an output on the main output with a copy of the n bytes at ptr as its payload. */
  emitPayloadRaw(ptr: usize, n: i32): void {
    this.emit().setPayloadRaw(ptr, n);
  }

  /** Finishes the pending output, if any. Called by the SDK after each record. */
  flush(): void {
    if (this.pending) {
      if (this.needPayload && (this.out.flags & FLAG_PAYLOAD) == 0) {
        failOnce("weir: a window_process output must set a payload (sdk/ABI.md §4.6)");
      }
      this.out.finish();
      this.pending = false;
    }
  }

  /** Starts the outputs of the input record parent. */
  start(parent: u32): void {
    this.parent = parent;
    this.pending = false;
  }
}
