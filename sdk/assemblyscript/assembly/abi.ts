// The exports of a Weir UDF module (sdk/ABI.md §1, §3, §4). Your entry file
// re-exports them with
//
//   export * from "@weir-streams/sdk/abi";

import { hostEmit } from "./host";
import { failed, failOnce, reportFailure } from "./log";
import { Buffer } from "./buffer";
import { appendKept, appendKey, Collector, frame, frameCount, Output, resetFrame, sealFrame } from "./output";
import { decodeRecord, FLAG_PAYLOAD, inputBuffer, Record, setInputBuffer } from "./record";
import {
  describe, Elements, Evictions, FilterFn, FlatMapFn, KeySelectorFn, KIND_AGGREGATE, KIND_CO_PROCESS, KIND_EVICTOR,
  KIND_FILTER, KIND_FLAT_MAP, KIND_KEY_SELECTOR, KIND_MAP, KIND_PROCESS, KIND_REDUCE, KIND_TIMESTAMP, KIND_TRIGGER,
  KIND_WINDOW_PROCESS, MapFn, ProcessFn, registry, seal, Timer, Timestamped, TriggerEvent, TriggerEventKind, TriggerResult, Udf,
  Window,
} from "./registry";
import { Context, ValueState } from "./state";
import { jsonValidObject } from "./json";

// Return codes of weir_call.
const RC_OK = 0;
const RC_ERROR = 1;
const RC_UNKNOWN_FN = 2;
const RC_UNSUPPORTED = 3;
const RC_MALFORMED = 4;

// Call kinds.
const CALL_OPEN = 1;
const CALL_PROCESS = 2;
const CALL_PROCESS2 = 3;
const CALL_TIMER = 4;
const CALL_WINDOW = 5;
const CALL_CLOSE = 6;
const CALL_AGGREGATE = 7;
const CALL_TRIGGER = 8;
const CALL_EVICT = 9;

/** The ABI version this SDK implements. */
export function weir_abi_version(): i32 {
  return 1;
}

/**
 * Replaces the input buffer by one of size bytes. The old one is dropped first
 * (the host no longer uses it) and the new one is held by a global, so the
 * collector keeps it. A size the heap cannot satisfy traps (AssemblyScript's
 * allocator aborts), which the ABI allows.
 */
export function weir_alloc(size: i32): i32 {
  if (size < 0) return 0;
  setInputBuffer(null);
  const b = new ArrayBuffer(max(size, 1));
  setInputBuffer(b);
  return <i32>changetype<usize>(b);
}

let description: ArrayBuffer | null = null;

/** Returns (ptr << 32) | len of the description JSON. */
export function weir_describe(): i64 {
  seal();
  let d = description;
  if (d === null) {
    d = String.UTF8.encode(describe());
    description = d;
  }
  return (<i64>changetype<usize>(d) << 32) | <i64>d.byteLength;
}

/** The dispatcher. */
export function weir_call(callKind: i32, fn: i32, inPtr: i32, inLen: i32): i32 {
  seal();
  // The input must lie inside the input buffer (the host never passes anything else).
  const ptr = <usize><u32>inPtr;
  if (inLen < 0) return RC_MALFORMED;
  if (inLen > 0) {
    const b = inputBuffer;
    if (b === null) return RC_MALFORMED;
    const base = changetype<usize>(b);
    if (ptr < base || ptr - base > <usize>b.byteLength || <usize>inLen > <usize>b.byteLength - (ptr - base)) return RC_MALFORMED;
  }
  if (fn < 0 || fn >= registry.length) return RC_UNKNOWN_FN;
  const f = unchecked(registry[fn]);
  switch (callKind) {
    case CALL_OPEN: {
      if (!jsonValidObject(ptr, inLen)) return RC_MALFORMED;
      const open = f.openFn;
      if (open === null) return RC_OK;
      // A copy: the input buffer is reused by later calls and the hook may keep it.
      const config = new Uint8Array(inLen);
      memory.copy(config.dataStart, ptr, <usize>inLen);
      open(config);
      return result();
    }
    case CALL_PROCESS:
      if (f.kind == KIND_AGGREGATE || f.kind == KIND_WINDOW_PROCESS || f.kind == KIND_TRIGGER || f.kind == KIND_EVICTOR)
        return RC_UNSUPPORTED;
      return process(f, ptr, inLen);
    case CALL_PROCESS2:
      if (f.kind != KIND_CO_PROCESS) return RC_UNSUPPORTED;
      return process(f, ptr, inLen, 2);
    case CALL_TIMER:
      return timers(f, ptr, inLen);
    case CALL_AGGREGATE:
      return aggregates(f, ptr, inLen);
    case CALL_WINDOW:
      return windows(f, ptr, inLen);
    case CALL_TRIGGER:
      return triggers(f, ptr, inLen);
    case CALL_EVICT:
      return evicts(f, ptr, inLen);
    case CALL_CLOSE: {
      if (inLen != 0) return RC_MALFORMED;
      const close = f.closeFn;
      if (close === null) return RC_OK;
      close();
      return result();
    }
  }
  // 0 and anything above 9 are no call kind at all.
  return RC_UNSUPPORTED;
}

function result(): i32 {
  if (!failed()) return RC_OK;
  reportFailure();
  return RC_ERROR;
}

// The current record, map output and flat_map collector, reused for every record.
const rec = new Record();
const out = new Output();
const coll = new Collector();
// A key_selector's key, reused for every record.
const key = new Buffer(64);

/**
 * Runs f over one batch of its input (1, or 2 for the process2 call of a
 * co_process function) and emits all its outputs at once, or nothing on failure.
 */
function process(f: Udf, p: usize, n: i32, input: i32 = 1): i32 {
  if (n < 4) return RC_MALFORMED;
  const count = load<u32>(p);
  // Every record takes at least its flags byte: a larger count cannot be honest.
  if (<u64>count > <u64>(n - 4)) return RC_MALFORMED;
  resetFrame();
  const end = p + <usize>n;
  let rc: i32;
  if (f.kind == KIND_MAP) rc = processMap(f.mapFn!, p + 4, end, count);
  else if (f.kind == KIND_FILTER) rc = processFilter(f.filterFn!, p + 4, end, count);
  else if (f.kind == KIND_FLAT_MAP) rc = processFlatMap(f.flatMapFn!, p + 4, end, count);
  else if (f.kind == KIND_PROCESS) rc = processKeyed(f, f.processFn!, 1, p + 4, end, count);
  else if (f.kind == KIND_CO_PROCESS) rc = processKeyed(f, input == 2 ? f.process2Fn! : f.processFn!, input, p + 4, end, count);
  else if (f.kind == KIND_REDUCE) rc = processReduce(f, p + 4, end, count);
  else if (f.kind == KIND_TIMESTAMP) rc = processTimestamps(f, p + 4, end, count);
  else if (f.kind == KIND_KEY_SELECTOR) rc = processKeySelector(f.keySelectorFn!, p + 4, end, count);
  else rc = RC_UNSUPPORTED;
  if (rc == RC_OK && frameCount > 0) {
    sealFrame();
    hostEmit(frame.dataStart, <u32>frame.length);
  }
  return rc;
}

function processMap(fn: MapFn, p: usize, end: usize, count: u32): i32 {
  for (let i: u32 = 0; i < count; i++) {
    p = decodeRecord(p, end, rec);
    if (p == 0) return RC_MALFORMED;
    rec.index = <i32>i;
    out.begin(i, 0);
    fn(rec, out);
    if (failed()) return result();
    out.finish();
  }
  return p == end ? RC_OK : RC_MALFORMED;
}

function processFilter(fn: FilterFn, p: usize, end: usize, count: u32): i32 {
  for (let i: u32 = 0; i < count; i++) {
    p = decodeRecord(p, end, rec);
    if (p == 0) return RC_MALFORMED;
    rec.index = <i32>i;
    const keep = fn(rec);
    if (failed()) return result();
    if (keep) appendKept(i);
  }
  return p == end ? RC_OK : RC_MALFORMED;
}

function processFlatMap(fn: FlatMapFn, p: usize, end: usize, count: u32): i32 {
  for (let i: u32 = 0; i < count; i++) {
    p = decodeRecord(p, end, rec);
    if (p == 0) return RC_MALFORMED;
    rec.index = <i32>i;
    coll.start(i);
    fn(rec, coll);
    if (failed()) return result();
    coll.flush();
  }
  return p == end ? RC_OK : RC_MALFORMED;
}

function processKeySelector(fn: KeySelectorFn, p: usize, end: usize, count: u32): i32 {
  for (let i: u32 = 0; i < count; i++) {
    p = decodeRecord(p, end, rec);
    if (p == 0) return RC_MALFORMED;
    rec.index = <i32>i;
    key.reset();
    fn(rec, key);
    if (failed()) return result();
    appendKey(i, key);
  }
  return p == end ? RC_OK : RC_MALFORMED;
}

// The context of process and reduce functions, reused for every record.
const ctx = new Context();

/** The records of a process function's batch, or of either input of a co_process function. */
function processKeyed(f: Udf, fn: ProcessFn, input: i32, p: usize, end: usize, count: u32): i32 {
  ctx.fn = f.index;
  ctx.active = true;
  ctx.input = input;
  ctx.depth = 0;
  let rc = RC_OK;
  for (let i: u32 = 0; i < count; i++) {
    p = decodeRecord(p, end, rec);
    if (p == 0) {
      rc = RC_MALFORMED;
      break;
    }
    rec.index = <i32>i;
    ctx.index = i;
    ctx.out.start(i);
    fn(rec, ctx);
    if (failed()) {
      rc = result();
      break;
    }
    ctx.out.flush();
  }
  ctx.active = false;
  if (rc == RC_OK && p != end) rc = RC_MALFORMED;
  return rc;
}

/**
 * The loop of sdk/ABI.md §4.1: for each record, the key's running value (state
 * 0) combined with the payload, or the payload when there is none, stored back
 * and emitted as the record's output. State reads see the writes of earlier
 * records of the batch, so records of one key chain.
 */
function processReduce(f: Udf, p: usize, end: usize, count: u32): i32 {
  const fn = f.reduceFn!;
  const st = changetype<ValueState>(unchecked(f.states[0]));
  const acc = st.value;
  ctx.fn = f.index;
  ctx.active = true;
  ctx.input = 1;
  let rc = RC_OK;
  for (let i: u32 = 0; i < count; i++) {
    p = decodeRecord(p, end, rec);
    if (p == 0) {
      rc = RC_MALFORMED;
      break;
    }
    rec.index = <i32>i;
    ctx.index = i;
    if (st.get(ctx)) {
      fn(acc, rec);
    } else if (!failed()) {
      acc.reset();
      acc.appendRaw(rec.payloadPtr, rec.payloadLen);
    }
    if (!failed()) st.putBuffer(ctx, acc);
    if (failed()) {
      rc = result();
      break;
    }
    ctx.out.start(i);
    ctx.out.emitPayloadRaw(acc.dataStart, acc.length);
    ctx.out.flush();
  }
  ctx.active = false;
  if (rc == RC_OK && p != end) rc = RC_MALFORMED;
  return rc;
}

// ---- Timers, aggregates, windows and timestamp extractors (sdk/ABI.md §4.4-4.6)

const timer = new Timer();

/** A timer call: the process function's callback per fired timer. */
function timers(f: Udf, p: usize, n: i32): i32 {
  const fn = f.timerFn;
  if ((f.kind != KIND_PROCESS && f.kind != KIND_CO_PROCESS) || fn === null) return RC_UNSUPPORTED;
  if (n < 4) return RC_MALFORMED;
  const count = load<u32>(p);
  if (<u64>count > <u64>(n - 4)) return RC_MALFORMED;
  resetFrame();
  const end = p + <usize>n;
  p += 4;
  ctx.fn = f.index;
  ctx.active = true;
  ctx.input = 0;
  ctx.depth = 0;
  let rc = RC_OK;
  for (let i: u32 = 0; i < count; i++) {
    p = decodeRecord(p, end, rec);
    if (p == 0 || !rec.hasTimestamp || rec.payloadLen != 1 || load<u8>(rec.payloadPtr) > 1) {
      rc = RC_MALFORMED;
      break;
    }
    timer.time = rec.timestamp;
    timer.domain = <i32>load<u8>(rec.payloadPtr);
    timer.keyPtr = rec.keyPtr;
    timer.keyLen = rec.keyLen;
    ctx.index = i;
    ctx.out.start(i);
    fn(timer, ctx);
    if (failed()) {
      rc = result();
      break;
    }
    ctx.out.flush();
  }
  ctx.active = false;
  if (rc == RC_OK && p != end) rc = RC_MALFORMED;
  if (rc == RC_OK) emitFrame();
  return rc;
}

function emitFrame(): void {
  if (frameCount > 0) {
    sealFrame();
    hostEmit(frame.dataStart, <u32>frame.length);
  }
}

const acc = new Buffer(256);
const res = new Buffer(256);
const other = new Record();
const aggOut = new Output();

/** An aggregate call, for an aggregate or a reduce function. */
function aggregates(f: Udf, p: usize, n: i32): i32 {
  if (f.kind != KIND_AGGREGATE && f.kind != KIND_REDUCE) return RC_UNSUPPORTED;
  if (n < 8) return RC_MALFORMED;
  const end = p + <usize>n;
  const op = load<u32>(p);
  const groups = load<u32>(p, 4);
  if (op < 1 || op > 3 || <u64>groups > <u64>(n / 4)) return RC_MALFORMED;
  p += 8;
  resetFrame();
  for (let g: u32 = 0; g < groups; g++) {
    if (end - p < 4) return RC_MALFORMED;
    const al = load<u32>(p);
    p += 4;
    let has = al != 0xFFFFFFFF;
    acc.reset();
    if (has) {
      if (<usize>al > end - p) return RC_MALFORMED;
      acc.appendRaw(p, <i32>al);
      p += <usize>al;
    } else if (op != 1) {
      return RC_MALFORMED;
    }
    if (op == 1) {
      if (end - p < 4) return RC_MALFORMED;
      const count = load<u32>(p);
      p += 4;
      for (let i: u32 = 0; i < count; i++) {
        p = decodeRecord(p, end, rec);
        if (p == 0) return RC_MALFORMED;
        rec.index = <i32>i;
        if (f.kind == KIND_REDUCE) {
          if (!has) acc.appendRaw(rec.payloadPtr, rec.payloadLen);
          else f.reduceFn!(acc, rec);
        } else {
          if (!has) f.aggCreate!(acc);
          f.aggAdd!(acc, rec);
        }
        has = true;
        if (failed()) return result();
      }
      if (!has && f.kind == KIND_AGGREGATE) {
        f.aggCreate!(acc);
        if (failed()) return result();
      }
    } else if (op == 2) {
      if (end - p < 4) return RC_MALFORMED;
      const count = load<u32>(p);
      p += 4;
      for (let i: u32 = 0; i < count; i++) {
        if (end - p < 4) return RC_MALFORMED;
        const l = load<u32>(p);
        p += 4;
        if (l == 0xFFFFFFFF || <usize>l > end - p) return RC_MALFORMED;
        if (f.kind == KIND_REDUCE) {
          // The reduce function folds a record: the other accumulator is its payload.
          other.flags = FLAG_PAYLOAD;
          other.payloadPtr = p;
          other.payloadLen = <i32>l;
          f.reduceFn!(acc, other);
        } else {
          f.aggMerge!(acc, p, <i32>l);
        }
        p += <usize>l;
        if (failed()) return result();
      }
    } else if (f.kind == KIND_AGGREGATE) {
      res.reset();
      f.aggResult!(acc, res);
      if (failed()) return result();
      acc.reset();
      acc.appendRaw(res.dataStart, res.length);
    }
    aggOut.begin(g, 0);
    aggOut.setPayloadRaw(acc.dataStart, acc.length);
    aggOut.finish();
  }
  if (p != end) return RC_MALFORMED;
  sealFrame();
  hostEmit(frame.dataStart, <u32>frame.length);
  return RC_OK;
}

const win = new Window();
const elements = new Elements();

/** A window call: the window process function per fired window. */
function windows(f: Udf, p: usize, n: i32): i32 {
  if (f.kind != KIND_WINDOW_PROCESS) return RC_UNSUPPORTED;
  if (n < 4) return RC_MALFORMED;
  const end = p + <usize>n;
  const count = load<u32>(p);
  if (<u64>count > <u64>(n / 24)) return RC_MALFORMED;
  p += 4;
  resetFrame();
  elements.end = end;
  coll.needPayload = true;
  const rc = windowsLoop(f, p, end, count);
  coll.needPayload = false;
  if (rc == RC_OK) emitFrame();
  return rc;
}

function windowsLoop(f: Udf, p: usize, end: usize, count: u32): i32 {
  for (let w: u32 = 0; w < count; w++) {
    p = readWindow(p, end);
    if (p == 0) return RC_MALFORMED;
    coll.start(w);
    f.windowFn!(win, elements, coll);
    coll.flush();
    if (failed()) return result();
  }
  return p == end ? RC_OK : RC_MALFORMED;
}

/**
 * Reads one window of a windows frame (§4.6, §4.10) at p into win and elements
 * and returns the address after it, or 0 when it runs past end or an element is
 * malformed.
 */
function readWindow(p: usize, end: usize): usize {
  if (end - p < 20) return 0;
  win.start = load<i64>(p);
  win.end = load<i64>(p, 8);
  const kl = load<u32>(p, 16);
  p += 20;
  win.hasKey = kl != 0xFFFFFFFF;
  win.keyPtr = 0;
  win.keyLen = 0;
  if (win.hasKey) {
    if (<usize>kl > end - p) return 0;
    win.keyPtr = p;
    win.keyLen = <i32>kl;
    p += <usize>kl;
  }
  if (end - p < 4) return 0;
  const m = load<u32>(p);
  p += 4;
  if (<usize>m > end - p) return 0;
  elements.offsets.length = 0;
  for (let i: u32 = 0; i < m; i++) {
    elements.offsets.push(p);
    p = decodeRecord(p, end, rec);
    if (p == 0) return 0;
  }
  return p;
}

// ---- Triggers and evictors (sdk/ABI.md §4.9, §4.10)

const trigEvent = new TriggerEvent();
const trigResult = new TriggerResult();
const NO_TIMER: i64 = i64.MIN_VALUE;
// The smallest event: u8 event, i64 start, end and time, u64 count, u32 key_len.
const TRIGGER_EVENT_MIN: usize = 37;

/** A trigger call: the trigger function per event, one PAYLOAD output each, in one emit. */
function triggers(f: Udf, p: usize, n: i32): i32 {
  if (f.kind != KIND_TRIGGER) return RC_UNSUPPORTED;
  if (n < 4) return RC_MALFORMED;
  const end = p + <usize>n;
  const count = load<u32>(p);
  if (<u64>count > <u64>(<usize>(n - 4) / TRIGGER_EVENT_MIN)) return RC_MALFORMED;
  p += 4;
  resetFrame();
  const fn = f.triggerFn!;
  const ev = trigEvent, res = trigResult;
  for (let i: u32 = 0; i < count; i++) {
    if (end - p < TRIGGER_EVENT_MIN) return RC_MALFORMED;
    const kind = load<u8>(p);
    if (kind > 2) return RC_MALFORMED;
    ev.index = <i32>i;
    ev.kind = <TriggerEventKind>kind;
    ev.start = load<i64>(p, 1);
    ev.end = load<i64>(p, 9);
    ev.time = load<i64>(p, 17);
    ev.count = load<u64>(p, 25);
    const kl = load<u32>(p, 33);
    p += TRIGGER_EVENT_MIN;
    ev.hasKey = kl != 0xFFFFFFFF;
    ev.keyPtr = p;
    ev.keyLen = 0;
    if (ev.hasKey) {
      if (<usize>kl > end - p) return RC_MALFORMED;
      ev.keyLen = <i32>kl;
      p += <usize>kl;
    }
    res.reset();
    fn(ev, res);
    if (failed()) return result();
    const action = <u32>res.action;
    if (action > 3) {
      failOnce("weir: trigger " + f.name + ": action " + action.toString() + " is none of continue (0), fire (1), purge (2), fire and purge (3)");
      return result();
    }
    // input_index, tag 0, flags PAYLOAD, then a payload of 9 bytes (action, event
    // timer) or 17 (and the processing-time timer).
    const withProc = res.processingTimer != NO_TIMER;
    const pl = withProc ? 17 : 9;
    const o = frame.reserve(13 + pl);
    store<u32>(o, i);
    store<u32>(o, 0, 4);
    store<u8>(o, FLAG_PAYLOAD, 8);
    store<u32>(o, <u32>pl, 9);
    store<u8>(o, <u8>action, 13);
    store<i64>(o, res.eventTimer, 14);
    if (withProc) store<i64>(o, res.processingTimer, 22);
    frame.advance(13 + pl);
    frameCount++;
  }
  if (p != end) return RC_MALFORMED;
  emitFrame();
  return RC_OK;
}

const evictions = new Evictions();

/** An evict call: the evictor function per window, one output of ascending indexes each, in one emit. */
function evicts(f: Udf, p: usize, n: i32): i32 {
  if (f.kind != KIND_EVICTOR) return RC_UNSUPPORTED;
  if (n < 4) return RC_MALFORMED;
  const end = p + <usize>n;
  const count = load<u32>(p);
  // A window takes at least its bounds, key length and element count.
  if (<u64>count > <u64>(n / 24)) return RC_MALFORMED;
  p += 4;
  resetFrame();
  elements.end = end;
  const fn = f.evictorFn!;
  for (let w: u32 = 0; w < count; w++) {
    p = readWindow(p, end);
    if (p == 0) return RC_MALFORMED;
    const m = elements.count;
    evictions.reset(m);
    fn(win, elements, evictions);
    if (failed()) return result();
    const k = evictions.count;
    const o = frame.reserve(17 + 4 * k);
    store<u32>(o, w);
    store<u32>(o, 0, 4);
    store<u8>(o, FLAG_PAYLOAD, 8);
    store<u32>(o, <u32>(4 + 4 * k), 9);
    store<u32>(o, <u32>k, 13);
    let q = o + 17;
    const marks = evictions.marks.dataStart;
    for (let i = 0; i < m; i++) {
      if (load<u8>(marks + <usize>i) != 0) {
        store<u32>(q, <u32>i);
        q += 4;
      }
    }
    frame.advance(17 + 4 * k);
    frameCount++;
  }
  if (p != end) return RC_MALFORMED;
  emitFrame();
  return RC_OK;
}

const stamped = new Timestamped();
const stampOut = new Output();

/** A timestamp extractor over the count records of a batch. */
function processTimestamps(f: Udf, p: usize, end: usize, count: u32): i32 {
  const fn = f.timestampFn!;
  for (let i: u32 = 0; i < count; i++) {
    p = decodeRecord(p, end, rec);
    if (p == 0) return RC_MALFORMED;
    rec.index = <i32>i;
    stamped.hasTime = false;
    stamped.hasWatermark = false;
    fn(rec, stamped);
    if (failed()) return result();
    stampOut.begin(i, 0);
    if (stamped.hasTime) stampOut.setTimestamp(stamped.time);
    if (stamped.hasWatermark) {
      const b = stampOut.payload();
      store<i64>(b.reserve(8), stamped.watermark);
      b.advance(8);
    }
    stampOut.finish();
  }
  return p == end ? RC_OK : RC_MALFORMED;
}
