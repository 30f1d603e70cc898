// The exports of a Weir UDF module (sdk/ABI.md §1, §3, §4). Your entry file
// re-exports them with
//
//   export * from "@weir-streams/sdk/abi";

import { hostEmit } from "./host";
import { failed, reportFailure } from "./log";
import { Buffer } from "./buffer";
import { appendKept, appendKey, Collector, frame, frameCount, Output, resetFrame, sealFrame } from "./output";
import { decodeRecord, inputBuffer, Record, setInputBuffer } from "./record";
import {
  describe, FilterFn, FlatMapFn, KeySelectorFn, KIND_FILTER, KIND_FLAT_MAP, KIND_MAP, KIND_PROCESS, KIND_REDUCE, MapFn,
  registry, seal, Udf,
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
const CALL_CLOSE = 6;

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
      return process(f, ptr, inLen);
    case CALL_CLOSE: {
      if (inLen != 0) return RC_MALFORMED;
      const close = f.closeFn;
      if (close === null) return RC_OK;
      close();
      return result();
    }
  }
  // process2, timer and window belong to kinds this SDK does not offer yet;
  // 0 and anything above 6 are no call kind at all.
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

/** Runs f over one batch and emits all its outputs at once, or nothing on failure. */
function process(f: Udf, p: usize, n: i32): i32 {
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
  else if (f.kind == KIND_PROCESS) rc = processKeyed(f, p + 4, end, count);
  else if (f.kind == KIND_REDUCE) rc = processReduce(f, p + 4, end, count);
  else rc = processKeySelector(f.keySelectorFn!, p + 4, end, count);
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

function processKeyed(f: Udf, p: usize, end: usize, count: u32): i32 {
  const fn = f.processFn!;
  ctx.fn = f.index;
  ctx.active = true;
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
