// Keyed state (sdk/ABI.md §4.2), the context of process functions, and task
// info (§4.3).

import { Buffer } from "./buffer";
import { fail, failOnce } from "./log";
import { Collector, Output } from "./output";
import {
  hostCurrentTime, hostCurrentWatermark, hostStateAppend, hostStateDelete, hostStateGet, hostStateIter, hostStatePut,
  hostTaskInfo, hostTimerDelete, hostTimerRegister,
} from "./host";
import { JSONField, JSONKind, jsonValidObject } from "./json";

export const STATE_VALUE = 0;
export const STATE_LIST = 1;
export const STATE_MAP = 2;
export const STATE_REDUCING = 3;
export const STATE_AGGREGATING = 4;
export const STATE_BROADCAST = 5;

const ABSENT = -1;
const UNSUPPORTED = -2;
const INVALID = -3;

/**
 * Context is what a process function gets besides the record: its outputs (each
 * derives from the current record, so keeps its key) and access to the keyed
 * state of the record's key. Reused from record to record.
 */
// @ts-ignore: decorator
@unmanaged
export class Context {
  /** The current record's index in the batch. */
  index: u32 = 0;
  /** The function being run, to refuse another function's state handles. */
  fn: i32 = -1;
  /** Whether a process call is running. */
  active: bool = false;
  /**
   * Which input the current record comes from: 1 (a process call), 2 (process2
   * of a co_process function), 0 in a timer call.
   */
  input: i32 = 0;
  /** How many state iterations are running (each has a buffer of its own). */
  depth: i32 = 0;
  out: Collector = new Collector();

  /** Starts a new output on the main output (finishing the previous one). */
  emit(): Output {
    return this.out.emit();
  }
  /** Starts a new output on output tag (i + 1 for the i-th side output). */
  emitTo(tag: u32): Output {
    return this.out.emitTo(tag);
  }
  emitPayload(data: Uint8Array): void {
    this.out.emitPayload(data);
  }
  emitPayloadString(s: string): void {
    this.out.emitPayloadString(s);
  }
  emitPayloadRaw(ptr: usize, n: i32): void {
    this.out.emitPayloadRaw(ptr, n);
  }

  /**
   * Registers a timer for the current record's (or fired timer's) key that fires
   * when the watermark reaches ms (sdk/ABI.md §4.4). Fails the call when the host
   * refuses it.
   */
  registerEventTimer(ms: i64): void {
    this.timer(true, 0, ms);
  }
  /** Registers a timer that fires when the wall clock reaches ms. */
  registerProcessingTimer(ms: i64): void {
    this.timer(true, 1, ms);
  }
  /** Deletes the current key's event-time timer at ms, if any. */
  deleteEventTimer(ms: i64): void {
    this.timer(false, 0, ms);
  }
  /** Deletes the current key's processing-time timer at ms, if any. */
  deleteProcessingTimer(ms: i64): void {
    this.timer(false, 1, ms);
  }
  /** The task's event-time clock (i64.MIN_VALUE before the first watermark). */
  currentWatermark(): i64 {
    return hostCurrentWatermark();
  }
  /** The wall clock, ms since the Unix epoch. */
  currentProcessingTime(): i64 {
    return hostCurrentTime();
  }

  private timer(register: bool, domain: i32, ms: i64): void {
    const rc = register ? hostTimerRegister(domain, this.index, ms) : hostTimerDelete(domain, this.index, ms);
    if (rc == -2) fail("weir: the host has no timers (UNSUPPORTED)");
    else if (rc != 0) fail("weir: the host refused the timer call as invalid (INVALID)");
  }
}

/** One entry of a list (sub-key empty) or map, handed to forEach callbacks. */
// @ts-ignore: decorator
@unmanaged
export class StateEntry {
  subPtr: usize = 0;
  subLen: i32 = 0;
  valuePtr: usize = 0;
  valueLen: i32 = 0;

  /** The sub-key decoded as UTF-8. Allocates. */
  subString(): string {
    return String.UTF8.decodeUnsafe(this.subPtr, <usize>this.subLen);
  }
  /** The value decoded as UTF-8. Allocates. */
  valueString(): string {
    return String.UTF8.decodeUnsafe(this.valuePtr, <usize>this.valueLen);
  }
}

/**
 * A callback of forEach: return true to go on, false to stop. It may emit and use
 * other state through ctx; the entry is valid until it returns.
 */
export type EntryFn = (ctx: Context, entry: StateEntry) => bool;

// One buffer and entry per nesting level of forEach.
const MAX_ITER_DEPTH = 4;
const iterBufs: StaticArray<usize> = new StaticArray<usize>(MAX_ITER_DEPTH);
const iterEntries: StaticArray<usize> = new StaticArray<usize>(MAX_ITER_DEPTH);

function stateFail(op: string, name: string, why: string): void {
  failOnce("weir: " + op + ' state "' + name + '": ' + why);
}

function codeFail(op: string, name: string, code: i32): void {
  stateFail(op, name, code == UNSUPPORTED ? "the host does not support keyed state (UNSUPPORTED)"
    : code == INVALID ? "the host refused the call as invalid (INVALID)"
    : "unexpected return code " + code.toString());
}

function broadcastFail(op: string, name: string, code: i32): void {
  if (code == INVALID) {
    stateFail(op, name, "the host refused the call as invalid (INVALID): broadcast state is written only while "
      + "processing the broadcast input (process2, sdk/ABI.md §4.8)");
  } else if (code == UNSUPPORTED) {
    stateFail(op, name, "the host does not support broadcast state (UNSUPPORTED)");
  } else {
    codeFail(op, name, code);
  }
}

/**
 * StateHandle is what every state handle has: its number in its function, its
 * name, and a buffer its reads land in (reused, so valid until the next call on
 * the handle).
 */
// @ts-ignore: decorator
@unmanaged
export class StateHandle {
  readonly fn: i32;
  readonly index: u32;
  readonly kind: i32;
  readonly ttlMs: u64;
  readonly namePtr: usize;
  /** What the last get read, when found is true. */
  value: Buffer = new Buffer(64);
  /** Whether the last get found a value. */
  found: bool = false;

  constructor(fn: i32, index: u32, kind: i32, ttlMs: u64, name: string) {
    this.fn = fn;
    this.index = index;
    this.kind = kind;
    this.ttlMs = ttlMs;
    // Unmanaged objects cannot hold managed references: the name lives in the
    // names array of the registry, and this keeps its address.
    this.namePtr = changetype<usize>(name);
  }

  /** The state's name. */
  get name(): string {
    return changetype<string>(this.namePtr);
  }

  /** Checks that ctx is a process call of the function that declared this state. */
  protected usable(ctx: Context, op: string): bool {
    if (!ctx.active || ctx.fn != this.fn) {
      stateFail(op, this.name, "the state belongs to another function, or there is no process call");
      return false;
    }
    return true;
  }

  /**
   * Reads the entry for sub into value: grows the buffer and reads again when the
   * value does not fit (ABI §4.2). Returns whether it was found; false and a
   * failure on an error.
   */
  protected read(ctx: Context, op: string, sub: usize, subLen: i32): bool {
    this.found = false;
    if (!this.usable(ctx, op)) return false;
    const b = this.value;
    b.ensureCapacity(64);
    while (true) {
      const n = hostStateGet(this.index, ctx.index, sub, <u32>subLen, b.dataStart, <u32>b.capacity);
      if (n == ABSENT) return false;
      if (n < 0) {
        codeFail(op, this.name, n);
        return false;
      }
      if (n <= b.capacity) {
        b.advance(n);
        this.found = true;
        return true;
      }
      b.ensureCapacity(n);
    }
    return false;
  }

  protected check(op: string, code: i32): bool {
    if (code == 0) return true;
    if (this.kind == STATE_BROADCAST) broadcastFail(op, this.name, code);
    else codeFail(op, this.name, code);
    return false;
  }

  protected write(ctx: Context, sub: usize, subLen: i32, ptr: usize, n: i32): bool {
    if (!this.usable(ctx, "writing")) return false;
    return this.check("writing", hostStatePut(this.index, ctx.index, sub, <u32>subLen, ptr, <u32>n));
  }

  protected del(ctx: Context, op: string, sub: usize, subLen: i32): bool {
    if (!this.usable(ctx, op)) return false;
    return this.check(op, hostStateDelete(this.index, ctx.index, sub, <u32>subLen));
  }

  /** Clears the current key's value, list or whole map. */
  clear(ctx: Context): bool {
    return this.del(ctx, "clearing", 0, 0);
  }

  /**
   * Calls fn with each element of a list (in insertion order) or entry of a map
   * (in byte order of the sub-keys), following the cursor protocol of state_iter:
   * an entry that does not fit grows the buffer and is read again.
   */
  protected each(ctx: Context, fn: EntryFn): bool {
    if (!this.usable(ctx, "iterating")) return false;
    const d = ctx.depth;
    if (d == MAX_ITER_DEPTH) {
      stateFail("iterating", this.name, "state iterations nested too deep");
      return false;
    }
    if (unchecked(iterBufs[d]) == 0) {
      unchecked(iterBufs[d] = changetype<usize>(new Buffer(256)));
      unchecked(iterEntries[d] = changetype<usize>(new StateEntry()));
    }
    const b = changetype<Buffer>(unchecked(iterBufs[d]));
    const e = changetype<StateEntry>(unchecked(iterEntries[d]));
    ctx.depth = d + 1;
    let ok = true;
    let cursor: u32 = 0;
    while (true) {
      const n = hostStateIter(this.index, ctx.index, cursor, b.dataStart, <u32>b.capacity);
      if (n == ABSENT) break;
      if (n < 0) {
        codeFail("iterating", this.name, n);
        ok = false;
        break;
      }
      if (n > b.capacity) {
        b.ensureCapacity(n);
        continue;
      }
      if (!decodeEntry(b.dataStart, n, e)) {
        stateFail("iterating", this.name, "the host sent a malformed entry");
        ok = false;
        break;
      }
      if (!fn(ctx, e)) break;
      cursor++;
    }
    ctx.depth = d;
    return ok;
  }
}

/** Splits an entry of state_iter: a record frame with PAYLOAD and, for a map, KEY. */
function decodeEntry(p: usize, n: i32, e: StateEntry): bool {
  const end = p + <usize>n;
  if (n < 1) return false;
  const flags = load<u8>(p);
  if ((flags & ~(0x01 | 0x04)) != 0) return false;
  p++;
  e.subPtr = p;
  e.subLen = 0;
  if (flags & 0x01) {
    if (end - p < 4) return false;
    const len = load<u32>(p);
    if (<usize>len > end - p - 4) return false;
    e.subPtr = p + 4;
    e.subLen = <i32>len;
    p += 4 + <usize>len;
  }
  e.valuePtr = p;
  e.valueLen = 0;
  if (flags & 0x04) {
    if (end - p < 4) return false;
    const len = load<u32>(p);
    if (<usize>len > end - p - 4) return false;
    e.valuePtr = p + 4;
    e.valueLen = <i32>len;
    p += 4 + <usize>len;
  }
  return p == end;
}

/** A value per key (kinds value, reducing, aggregating). */
// @ts-ignore: decorator
@unmanaged
export class ValueState extends StateHandle {
  /** Reads the current key's value into `value`; whether there is one (also in `found`). */
  get(ctx: Context): bool {
    return this.read(ctx, "reading", 0, 0);
  }
  /** Sets the current key's value to a copy of the n bytes at ptr. */
  putRaw(ctx: Context, ptr: usize, n: i32): bool {
    return this.write(ctx, 0, 0, ptr, n);
  }
  put(ctx: Context, v: Uint8Array): bool {
    return this.write(ctx, 0, 0, v.dataStart, v.byteLength);
  }
  putBuffer(ctx: Context, v: Buffer): bool {
    return this.write(ctx, 0, 0, v.dataStart, v.length);
  }
  /**
   * The value as an i64 stored by putI64 (8 bytes, little endian), or dflt when
   * the key has none (found is false then). A value of another length fails the
   * call.
   */
  getI64(ctx: Context, dflt: i64 = 0): i64 {
    if (!this.read(ctx, "reading", 0, 0)) return dflt;
    if (this.value.length != 8) {
      this.found = false;
      stateFail("reading", this.name, "the value is " + this.value.length.toString() + " bytes, not an 8-byte little-endian i64");
      return dflt;
    }
    return load<i64>(this.value.dataStart);
  }
  putI64(ctx: Context, v: i64): bool {
    store<i64>(scratch8, v);
    return this.write(ctx, 0, 0, scratch8, 8);
  }
}

const scratch8 = memory.data(8);

/** A list of values per key. */
// @ts-ignore: decorator
@unmanaged
export class ListState extends StateHandle {
  appendRaw(ctx: Context, ptr: usize, n: i32): bool {
    if (!this.usable(ctx, "appending to")) return false;
    return this.check("appending to", hostStateAppend(this.index, ctx.index, ptr, <u32>n));
  }
  append(ctx: Context, v: Uint8Array): bool {
    return this.appendRaw(ctx, v.dataStart, v.byteLength);
  }
  appendString(ctx: Context, s: string): bool {
    const b = String.UTF8.encode(s);
    return this.appendRaw(ctx, changetype<usize>(b), b.byteLength);
  }
  /** Calls fn with each element, in insertion order, until it returns false. */
  forEach(ctx: Context, fn: EntryFn): bool {
    return this.each(ctx, fn);
  }
}

/** A map from sub-keys to values per key. */
// @ts-ignore: decorator
@unmanaged
export class MapState extends StateHandle {
  /** Reads the entry for the sub-key at subPtr into `value`; whether it exists. */
  getRaw(ctx: Context, subPtr: usize, subLen: i32): bool {
    return this.read(ctx, "reading", subPtr, subLen);
  }
  getString(ctx: Context, sub: string): bool {
    const b = String.UTF8.encode(sub);
    return this.read(ctx, "reading", changetype<usize>(b), b.byteLength);
  }
  putRaw(ctx: Context, subPtr: usize, subLen: i32, ptr: usize, n: i32): bool {
    return this.write(ctx, subPtr, subLen, ptr, n);
  }
  putString(ctx: Context, sub: string, v: string): bool {
    const s = String.UTF8.encode(sub);
    const b = String.UTF8.encode(v);
    return this.write(ctx, changetype<usize>(s), s.byteLength, changetype<usize>(b), b.byteLength);
  }
  /**
   * Deletes the entry for a sub-key. The empty sub-key is refused: to the host
   * it means the whole map (ABI §4.2); clear() clears the map.
   */
  deleteRaw(ctx: Context, subPtr: usize, subLen: i32): bool {
    if (subLen == 0) {
      stateFail("deleting from", this.name, "an empty sub-key cannot be deleted on its own (it would clear the whole map; use clear)");
      return false;
    }
    return this.del(ctx, "deleting from", subPtr, subLen);
  }
  deleteString(ctx: Context, sub: string): bool {
    const s = String.UTF8.encode(sub);
    return this.deleteRaw(ctx, changetype<usize>(s), s.byteLength);
  }
  /** Calls fn with each entry, in byte order of the sub-keys, until it returns false. */
  forEach(ctx: Context, fn: EntryFn): bool {
    return this.each(ctx, fn);
  }
}

/**
 * A broadcast state (sdk/ABI.md §4.8): a map from sub-keys to values shared by
 * every key of the subtask, declared by a co_process function with
 * `.broadcastState(name)`. Read it (`getRaw`, `getString`, `forEach`) in any call
 * of the function; write it (`putRaw`, `putString`, `deleteRaw`, `deleteString`,
 * `clear`) only in its process2 handler, while the broadcast input is processed:
 * elsewhere the host answers INVALID and the SDK fails the call saying so.
 * Entries come in byte order of their sub-keys.
 */
// @ts-ignore: decorator
@unmanaged
export class BroadcastState extends MapState {}

/** The subtask's context (ABI §4.3). */
export class TaskInfo {
  jobId: string = "";
  jobName: string = "";
  /** The step's id in the job spec. */
  step: string = "";
  subtask: i64 = 0;
  parallelism: i64 = 0;
  maxParallelism: i64 = 0;
  /** 1 for the first run, one more after every restart; for diagnostics. */
  attempt: i64 = 0;
}

let taskInfoCache: TaskInfo | null = null;

/**
 * The subtask's context through weir.task_info, asked once and cached. Call it
 * from an open hook or later. On an error it fails the call and returns null.
 */
export function taskInfo(): TaskInfo | null {
  const cached = taskInfoCache;
  if (cached !== null) return cached;
  let b = new Buffer(256);
  let n = hostTaskInfo(b.dataStart, <u32>b.capacity);
  if (n > b.capacity) {
    b.ensureCapacity(n);
    n = hostTaskInfo(b.dataStart, <u32>b.capacity);
  }
  if (n < 0 || n > b.capacity) {
    failOnce("weir: reading task info: the host returned code " + n.toString());
    return null;
  }
  const p = b.dataStart;
  if (!jsonValidObject(p, n)) {
    failOnce("weir: reading task info: the host sent something else than a JSON object");
    return null;
  }
  const t = new TaskInfo();
  const f = new JSONField("job_id");
  const names = ["job_id", "job_name", "step"];
  for (let i = 0; i < names.length; i++) {
    f.setName(names[i]);
    if (!f.findRaw(p, n) || f.kind == JSONKind.Null) continue;
    const s = f.stringValue();
    if (s === null) {
      failOnce("weir: reading task info: " + names[i] + " is not a string");
      return null;
    }
    if (i == 0) t.jobId = s;
    else if (i == 1) t.jobName = s;
    else t.step = s;
  }
  const ints = ["subtask", "parallelism", "max_parallelism", "attempt"];
  for (let i = 0; i < ints.length; i++) {
    f.setName(ints[i]);
    if (!f.findRaw(p, n) || f.kind == JSONKind.Null) continue;
    if (!f.asInt()) {
      failOnce("weir: reading task info: " + ints[i] + " is not an integer");
      return null;
    }
    if (i == 0) t.subtask = f.intValue;
    else if (i == 1) t.parallelism = f.intValue;
    else if (i == 2) t.maxParallelism = f.intValue;
    else t.attempt = f.intValue;
  }
  taskInfoCache = t;
  return t;
}
