// The registry of user functions and the module's description (sdk/ABI.md §2).

import { Buffer } from "./buffer";
import { failOnce } from "./log";
import { decodeRecord, Record, view } from "./record";
import { Collector, Output } from "./output";
import {
  BroadcastState, Context, ListState, MapState, STATE_AGGREGATING, STATE_BROADCAST, STATE_LIST, STATE_MAP, STATE_REDUCING,
  STATE_VALUE, StateHandle, ValueState,
} from "./state";

/** A map: exactly one output per input; `out` starts as the input unchanged. */
export type MapFn = (rec: Record, out: Output) => void;
/** A filter: true keeps the record unchanged. */
export type FilterFn = (rec: Record) => bool;
/** A flat_map: zero or more outputs per input through the collector. */
export type FlatMapFn = (rec: Record, c: Collector) => void;
/**
 * A key_selector: appends the record's key to `key`, empty on entry and reused
 * from record to record. The SDK emits one output per input with the KEY flag alone.
 */
export type KeySelectorFn = (rec: Record, key: Buffer) => void;
/**
 * A process function: a keyed per-record function that reads and writes the
 * keyed state of the record's key and emits zero or more outputs through ctx.
 */
export type ProcessFn = (rec: Record, ctx: Context) => void;
/**
 * A reduce function: acc holds the key's running value; leave the combination of
 * it and the record's payload in acc (reset it and append, or edit in place).
 */
export type ReduceFn = (acc: Buffer, rec: Record) => void;
/** An open hook: the step's config, a JSON object (`{}` when none). */
export type OpenFn = (config: Uint8Array) => void;
/** A close hook, run when the task ends normally. */
export type CloseFn = () => void;

export const KIND_MAP = 1;
export const KIND_FILTER = 2;
export const KIND_FLAT_MAP = 3;
export const KIND_KEY_SELECTOR = 4;
export const KIND_PROCESS = 5;
export const KIND_REDUCE = 6;
export const KIND_AGGREGATE = 7;
export const KIND_WINDOW_PROCESS = 8;
export const KIND_TIMESTAMP = 9;
export const KIND_CO_PROCESS = 10;
export const KIND_TRIGGER = 11;
export const KIND_EVICTOR = 12;

const KIND_NAMES = ["", "map", "filter", "flat_map", "key_selector", "process", "reduce", "aggregate", "window_process",
  "timestamp_extractor", "co_process", "trigger", "evictor"];

/** A process function's timer callback (sdk/ABI.md §4.4). */
export type TimerFn = (timer: Timer, ctx: Context) => void;
/** An aggregate's parts (§4.5): each rewrites acc (a fresh one is empty for create). */
export type AggCreateFn = (acc: Buffer) => void;
export type AggAddFn = (acc: Buffer, rec: Record) => void;
export type AggMergeFn = (acc: Buffer, otherPtr: usize, otherLen: i32) => void;
/** Appends the window's result to out (empty on entry). */
export type AggResultFn = (acc: Buffer, out: Buffer) => void;
/** A window process function (§4.6): the window, its elements, and the outputs. */
export type WindowFn = (w: Window, elements: Elements, out: Collector) => void;
/** A timestamp extractor (§4): sets the record's time on out, maybe a punctuation. */
export type TimestampFn = (rec: Record, out: Timestamped) => void;
/**
 * A trigger (§4.9): decides what happens to the event's window. `res` starts as
 * Continue with no timers for every event.
 */
export type TriggerFn = (ev: TriggerEvent, res: TriggerResult) => void;
/** An evictor (§4.10): marks the elements of the window to remove before it fires. */
export type EvictorFn = (w: Window, elements: Elements, evict: Evictions) => void;

/** A fired timer: its time (outputs inherit it), domain (0 event, 1 processing) and key. */
export class Timer {
  /** The timer's time, ms. */
  time: i64 = 0;
  /** 0 event time, 1 processing time. */
  domain: i32 = 0;
  /** The timer's key, in the input buffer (allocation-free access). */
  keyPtr: usize = 0;
  keyLen: i32 = 0;
  /** The key, a view of the input buffer, valid until the callback returns. */
  key(): Uint8Array {
    return view(this.keyPtr, this.keyLen);
  }
  /** The key decoded as UTF-8. Allocates. */
  keyString(): string {
    return String.UTF8.decodeUnsafe(this.keyPtr, <usize>this.keyLen);
  }
}

/** A fired window: [start, end) ms; hasKey false for a non-keyed stream. */
export class Window {
  /** The window's bounds, ms; end is exclusive. */
  start: i64 = 0;
  end: i64 = 0;
  /** False for a window of a non-keyed stream (which has no key at all). */
  hasKey: bool = false;
  /** The key, in the input buffer (allocation-free access). */
  keyPtr: usize = 0;
  keyLen: i32 = 0;
  /** The key, a view of the input buffer, or null for a non-keyed window. */
  key(): Uint8Array | null {
    return this.hasKey ? view(this.keyPtr, this.keyLen) : null;
  }
  /** The key decoded as UTF-8, or null for a non-keyed window. Allocates. */
  keyString(): string | null {
    return this.hasKey ? String.UTF8.decodeUnsafe(this.keyPtr, <usize>this.keyLen) : null;
  }
}

/** The elements of a fired window, in arrival order, read one at a time. */
export class Elements {
  offsets: usize[] = [];
  end: usize = 0;
  /** The number of elements. */
  get count(): i32 {
    return this.offsets.length;
  }
  /** Decodes element i into r. */
  read(i: i32, r: Record): void {
    decodeRecord(this.offsets[i], this.end, r);
    r.index = i;
  }
}

/** What a timestamp extractor says of one record. */
export class Timestamped {
  hasTime: bool = false;
  time: i64 = 0;
  hasWatermark: bool = false;
  watermark: i64 = 0;
  /** Gives the record its event time; a record without one is dropped. */
  setTime(ms: i64): void {
    this.hasTime = true;
    this.time = ms;
  }
  /** Emits a watermark after the record (timestamps: punctuated: true). */
  emitWatermark(ms: i64): void {
    if (!this.hasWatermark || ms > this.watermark) this.watermark = ms;
    this.hasWatermark = true;
  }
}
/** What a trigger sees (sdk/ABI.md §4.9): elements added to a window, or one of its timers. */
export enum TriggerEventKind {
  /** Elements of one input batch went into the window; `time` is their largest timestamp. */
  ElementsAdded = 0,
  /** An event-time timer of the window fired; `time` is its time. */
  EventTimer = 1,
  /** A processing-time timer of the window fired; `time` is its time. */
  ProcessingTimer = 2,
}

/** What a trigger decides for a window (sdk/ABI.md §4.9). */
export enum TriggerAction {
  Continue = 0,
  /** Evaluates the window's function on its contents. */
  Fire = 1,
  /** Clears the window's contents. */
  Purge = 2,
  FireAndPurge = 3,
}

/** The time that stands for "no timer" in a trigger's result: i64.MIN_VALUE. */
export const NO_TIMER: i64 = i64.MIN_VALUE;

/** One event of a trigger call. Reused from event to event: never keep it. */
// @ts-ignore: decorator
@unmanaged
export class TriggerEvent {
  /** The event's index in the call. */
  index: i32 = 0;
  kind: TriggerEventKind = TriggerEventKind.ElementsAdded;
  /** The window, ms, end exclusive; a global window is [i64.MIN_VALUE, i64.MAX_VALUE). */
  start: i64 = 0;
  end: i64 = 0;
  /** ElementsAdded: the largest timestamp among the elements added; a timer: its time. */
  time: i64 = 0;
  /** The number of elements now in the window. */
  count: u64 = 0;
  /** False for a window of a non-keyed stream. */
  hasKey: bool = false;
  /** The key, in the input buffer (allocation-free access). */
  keyPtr: usize = 0;
  keyLen: i32 = 0;
  /** The key, a view of the input buffer, or null for a non-keyed window. */
  key(): Uint8Array | null {
    return this.hasKey ? view(this.keyPtr, this.keyLen) : null;
  }
  /** The key decoded as UTF-8, or null for a non-keyed window. Allocates. */
  keyString(): string | null {
    return this.hasKey ? String.UTF8.decodeUnsafe(this.keyPtr, <usize>this.keyLen) : null;
  }
}

/**
 * A trigger's answer to one event: an action, and timers to register for the
 * window and key (NO_TIMER for none). The SDK encodes it as the ABI's 9-byte
 * payload (action, event-time timer), or 17 bytes when a processing-time timer
 * is set.
 */
// @ts-ignore: decorator
@unmanaged
export class TriggerResult {
  action: TriggerAction = TriggerAction.Continue;
  eventTimer: i64 = NO_TIMER;
  processingTimer: i64 = NO_TIMER;
  /** Asks for an event-time timer at ms for this window and key. */
  setEventTimer(ms: i64): void {
    this.eventTimer = ms;
  }
  /** Asks for a processing-time timer at ms for this window and key. */
  setProcessingTimer(ms: i64): void {
    this.processingTimer = ms;
  }
  reset(): void {
    this.action = TriggerAction.Continue;
    this.eventTimer = NO_TIMER;
    this.processingTimer = NO_TIMER;
  }
}

/**
 * The elements an evictor removes from one window, by index. Marking one twice
 * is marking it once; the SDK hands the host the indexes in ascending order.
 */
// @ts-ignore: decorator
@unmanaged
export class Evictions {
  /** One byte per element of the window: 1 to evict. Reused from window to window. */
  marks: Buffer = new Buffer(256);
  /** The number of elements marked. */
  count: i32 = 0;
  /** The number of elements in the window. */
  get size(): i32 {
    return this.marks.length;
  }
  reset(n: i32): void {
    const m = this.marks;
    m.reset();
    memory.fill(m.reserve(n), 0, <usize>n);
    m.advance(n);
    this.count = 0;
  }
  /** Marks element i (0 <= i < size) for eviction; an index out of range fails the call. */
  evict(i: i32): void {
    if (i < 0 || i >= this.marks.length) {
      failOnce("weir: evictor: element " + i.toString() + " out of range (the window has " + this.marks.length.toString() + ")");
      return;
    }
    const p = this.marks.dataStart + <usize>i;
    if (load<u8>(p) == 0) {
      store<u8>(p, 1);
      this.count++;
    }
  }
  /** Whether element i is marked. */
  evicted(i: i32): bool {
    return i >= 0 && i < this.marks.length && load<u8>(this.marks.dataStart + <usize>i) != 0;
  }
}

const STATE_KIND_NAMES = ["value", "list", "map", "reducing", "aggregating", "broadcast"];

/**
 * Udf is a registered function. Registration returns it so that options can be
 * chained: `registerMap("f", f).onOpen(openF).sideOutputs(["late"])`.
 */
export class Udf {
  readonly name: string;
  readonly kind: i32;
  readonly index: i32;
  mapFn: MapFn | null = null;
  filterFn: FilterFn | null = null;
  flatMapFn: FlatMapFn | null = null;
  keySelectorFn: KeySelectorFn | null = null;
  processFn: ProcessFn | null = null;
  reduceFn: ReduceFn | null = null;
  timerFn: TimerFn | null = null;
  aggCreate: AggCreateFn | null = null;
  aggAdd: AggAddFn | null = null;
  aggMerge: AggMergeFn | null = null;
  aggResult: AggResultFn | null = null;
  windowFn: WindowFn | null = null;
  timestampFn: TimestampFn | null = null;
  /** A co_process function's handler of its second input (call kind process2). */
  process2Fn: ProcessFn | null = null;
  triggerFn: TriggerFn | null = null;
  evictorFn: EvictorFn | null = null;
  /** The declared state, by number: handles (unmanaged, by address) and their names. */
  states: usize[] = [];
  stateNames: string[] = [];
  openFn: OpenFn | null = null;
  closeFn: CloseFn | null = null;
  outputs: string[] = [];

  constructor(name: string, kind: i32, index: i32) {
    this.name = name;
    this.kind = kind;
    this.index = index;
  }

  /** Runs fn with the step's config before any record. */
  onOpen(fn: OpenFn): Udf {
    checkOpen();
    this.openFn = fn;
    return this;
  }

  /** Gives a process or co_process function its timer callback (sdk/ABI.md §4.4, §4.7). */
  onTimer(fn: TimerFn): Udf {
    checkOpen();
    if (this.kind != KIND_PROCESS && this.kind != KIND_CO_PROCESS)
      abort("weir: " + this.name + ": only a process or co_process function has timers");
    this.timerFn = fn;
    return this;
  }

  /** Runs fn when the task ends normally. */
  onClose(fn: CloseFn): Udf {
    checkOpen();
    this.closeFn = fn;
    return this;
  }

  /**
   * Declares side outputs: names[i] is output tag i + 1. Key_selector, reduce,
   * trigger and evictor functions have none (their outputs are fixed by the ABI).
   */
  sideOutputs(names: string[]): Udf {
    checkOpen();
    const k = this.kind;
    if ((k == KIND_KEY_SELECTOR || k == KIND_REDUCE || k == KIND_TRIGGER || k == KIND_EVICTOR) && names.length > 0)
      abort("weir: " + this.name + ": a key_selector, reduce, trigger or evictor function has no side outputs");
    for (let i = 0; i < names.length; i++) {
      checkName(names[i], "side output");
      for (let j = 0; j < i; j++) {
        if (names[j] == names[i]) abort("weir: " + this.name + ": side output \"" + names[i] + "\" declared twice");
      }
    }
    this.outputs = names;
    return this;
  }

  /**
   * The output tag of side output name (i + 1 for names[i] of sideOutputs), for
   * `ctx.emitTo`; look it up once, at start-up. An undeclared name aborts.
   */
  tagOf(name: string): u32 {
    for (let i = 0; i < this.outputs.length; i++) {
      if (this.outputs[i] == name) return <u32>(i + 1);
    }
    abort("weir: " + this.name + ": no side output \"" + name + "\"");
    return 0;
  }

  /**
   * Declares the next state of a process function (state number i is the i-th
   * declared): name 1-128 characters of [A-Za-z0-9_.-], unique in the function
   * (it maps the state in checkpoints); ttlMs 0 for no expiry. Keep the handle
   * in a global.
   */
  valueState(name: string, ttlMs: u64 = 0): ValueState {
    return changetype<ValueState>(this.declare(name, STATE_VALUE, ttlMs));
  }
  reducingState(name: string, ttlMs: u64 = 0): ValueState {
    return changetype<ValueState>(this.declare(name, STATE_REDUCING, ttlMs));
  }
  aggregatingState(name: string, ttlMs: u64 = 0): ValueState {
    return changetype<ValueState>(this.declare(name, STATE_AGGREGATING, ttlMs));
  }
  listState(name: string, ttlMs: u64 = 0): ListState {
    return changetype<ListState>(this.declare(name, STATE_LIST, ttlMs));
  }
  mapState(name: string, ttlMs: u64 = 0): MapState {
    return changetype<MapState>(this.declare(name, STATE_MAP, ttlMs));
  }
  /**
   * Declares a broadcast state of a co_process function (sdk/ABI.md §4.8): a map
   * shared by every key of the subtask, written while processing the broadcast
   * (second) input and read everywhere. It has no TTL.
   */
  broadcastState(name: string): BroadcastState {
    checkOpen();
    if (this.kind != KIND_CO_PROCESS) abort("weir: " + this.name + ": only co_process functions declare broadcast state");
    return changetype<BroadcastState>(this.addState(name, STATE_BROADCAST, 0));
  }

  private declare(name: string, kind: i32, ttlMs: u64): usize {
    checkOpen();
    if (this.kind != KIND_PROCESS && this.kind != KIND_CO_PROCESS)
      abort("weir: " + this.name + ": only process and co_process functions declare state");
    return this.addState(name, kind, ttlMs);
  }

  addState(name: string, kind: i32, ttlMs: u64): usize {
    checkName(name, "state");
    for (let i = 0; i < this.stateNames.length; i++) {
      if (this.stateNames[i] == name) abort("weir: " + this.name + ": state \"" + name + "\" declared twice");
    }
    this.stateNames.push(name); // keeps the name alive for the unmanaged handle
    // Every kind is a StateHandle; the subclasses only add methods.
    const h = kind == STATE_LIST ? changetype<usize>(new ListState(this.index, this.states.length, kind, ttlMs, name))
      : kind == STATE_MAP ? changetype<usize>(new MapState(this.index, this.states.length, kind, ttlMs, name))
      : kind == STATE_BROADCAST ? changetype<usize>(new BroadcastState(this.index, this.states.length, kind, ttlMs, name))
      : changetype<usize>(new ValueState(this.index, this.states.length, kind, ttlMs, name));
    this.states.push(h);
    return h;
  }
}

export const registry: Udf[] = [];
let sealed = false;

/** Called by the first weir_describe or weir_call: the registry is fixed from then on. */
export function seal(): void {
  sealed = true;
}

function checkOpen(): void {
  assert(!sealed, "weir: functions must be registered at start-up (top-level code)");
}

function checkName(name: string, what: string): void {
  let ok = name.length >= 1 && name.length <= 128;
  for (let i = 0; ok && i < name.length; i++) {
    const c = name.charCodeAt(i);
    ok = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 95 || c == 46 || c == 45;
  }
  if (!ok) abort("weir: bad " + what + " name \"" + name + "\": want 1-128 characters of [A-Za-z0-9_.-]");
}

function add_(name: string, kind: i32): Udf {
  checkOpen();
  checkName(name, "function");
  for (let i = 0; i < registry.length; i++) {
    if (registry[i].name == name) abort("weir: function \"" + name + "\" registered twice");
  }
  const f = new Udf(name, kind, registry.length);
  registry.push(f);
  return f;
}

/** Registers a map function; its index is the number registered before it. */
export function registerMap(name: string, fn: MapFn): Udf {
  const f = add_(name, KIND_MAP);
  f.mapFn = fn;
  return f;
}

/** Registers a filter function. */
export function registerFilter(name: string, fn: FilterFn): Udf {
  const f = add_(name, KIND_FILTER);
  f.filterFn = fn;
  return f;
}

/** Registers a flat_map function. */
export function registerFlatMap(name: string, fn: FlatMapFn): Udf {
  const f = add_(name, KIND_FLAT_MAP);
  f.flatMapFn = fn;
  return f;
}

/**
 * Registers a key_selector function, the function of a `key_by: {module,
 * function}` step: for every input record the SDK emits exactly one output, in
 * order, with the KEY flag and nothing else (sdk/ABI.md §4).
 */
export function registerKeySelector(name: string, fn: KeySelectorFn): Udf {
  const f = add_(name, KIND_KEY_SELECTOR);
  f.keySelectorFn = fn;
  return f;
}

/**
 * Registers a process function (a step `process: {module, function}` after a
 * `key_by`). Declare its state on the returned handle:
 * `const counts = registerProcess("count", count).valueState("count")`.
 */
export function registerProcess(name: string, fn: ProcessFn): Udf {
  const f = add_(name, KIND_PROCESS);
  f.processFn = fn;
  return f;
}

/**
 * Registers a reduce function (sdk/ABI.md §4.1). The SDK declares its state
 * (state 0, kind reducing, named "reduce") and, for each record in order, makes
 * the key's running value the payload when there is none yet, else lets fn
 * combine; stores it and emits it as the record's one output.
 */
export function registerReduce(name: string, fn: ReduceFn): Udf {
  const f = add_(name, KIND_REDUCE);
  f.reduceFn = fn;
  f.addState("reduce", STATE_REDUCING, 0);
  return f;
}

/** Registers an aggregate function, a window step's `aggregate: {module, function}` (sdk/ABI.md §4.5). */
export function registerAggregate(name: string, create: AggCreateFn, add: AggAddFn, merge: AggMergeFn, result: AggResultFn): Udf {
  const f = add_(name, KIND_AGGREGATE);
  f.aggCreate = create;
  f.aggAdd = add;
  f.aggMerge = merge;
  f.aggResult = result;
  return f;
}

/** Registers a window process function (sdk/ABI.md §4.6). */
export function registerWindowProcess(name: string, fn: WindowFn): Udf {
  const f = add_(name, KIND_WINDOW_PROCESS);
  f.windowFn = fn;
  return f;
}

/** Registers a timestamp extractor, a source's `timestamps: {udf: {module, function}}`. */
export function registerTimestampExtractor(name: string, fn: TimestampFn): Udf {
  const f = add_(name, KIND_TIMESTAMP);
  f.timestampFn = fn;
  return f;
}

/**
 * Registers a co_process function (a step with `inputs: [first, second]` and
 * `co_process: {module, function}`; sdk/ABI.md §4.7): process1 runs for each
 * record of the first input, process2 for each record of the second. Both get a
 * Context for their record: outputs, side outputs, keyed state and timers as a
 * process function has them (in process2 of a broadcast second input the host
 * refuses keyed state and timers), and broadcast state (`.broadcastState`),
 * writable in process2 only. Timers come with `.onTimer`.
 */
export function registerCoProcess(name: string, process1: ProcessFn, process2: ProcessFn): Udf {
  const f = add_(name, KIND_CO_PROCESS);
  f.processFn = process1;
  f.process2Fn = process2;
  return f;
}

/**
 * Registers a trigger function, a window step's `trigger: {module, function}`
 * (sdk/ABI.md §4.9): fn runs once per event and sets the action and timers on
 * its result. The SDK emits exactly one output per event, in order.
 */
export function registerTrigger(name: string, fn: TriggerFn): Udf {
  const f = add_(name, KIND_TRIGGER);
  f.triggerFn = fn;
  return f;
}

/**
 * Registers an evictor function, a window step's `evictor: {module, function}`
 * (sdk/ABI.md §4.10): fn runs once per window about to fire and marks the
 * elements to evict. The SDK emits exactly one output per window, in order.
 */
export function registerEvictor(name: string, fn: EvictorFn): Udf {
  const f = add_(name, KIND_EVICTOR);
  f.evictorFn = fn;
  return f;
}

/** The SDK's name and version, as the description reports it. */
export const SDK_VERSION = "assemblyscript/0.1.0";

/** The description JSON, built on first use and kept for the instance's life. */
export function describe(): string {
  let s = '{"abi_version":1,"sdk":"' + SDK_VERSION + '","functions":[';
  for (let i = 0; i < registry.length; i++) {
    const f = registry[i];
    if (i > 0) s += ",";
    const kind = KIND_NAMES[f.kind];
    s += '{"name":"' + f.name + '","kind":"' + kind + '","index":' + f.index.toString() + ',"side_outputs":[';
    for (let k = 0; k < f.outputs.length; k++) {
      if (k > 0) s += ",";
      s += '"' + f.outputs[k] + '"';
    }
    s += '],"state":[';
    for (let k = 0; k < f.states.length; k++) {
      const h = changetype<StateHandle>(f.states[k]);
      if (k > 0) s += ",";
      s += '{"name":"' + f.stateNames[k] + '","kind":"' + STATE_KIND_NAMES[h.kind] + '","ttl_ms":' + h.ttlMs.toString() + "}";
    }
    s += "]}";
  }
  return s + "]}";
}
