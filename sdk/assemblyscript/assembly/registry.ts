// The registry of user functions and the module's description (sdk/ABI.md §2).

import { Buffer } from "./buffer";
import { Record } from "./record";
import { Collector, Output } from "./output";

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
/** An open hook: the step's config, a JSON object (`{}` when none). */
export type OpenFn = (config: Uint8Array) => void;
/** A close hook, run when the task ends normally. */
export type CloseFn = () => void;

export const KIND_MAP = 1;
export const KIND_FILTER = 2;
export const KIND_FLAT_MAP = 3;
export const KIND_KEY_SELECTOR = 4;

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

  /** Runs fn when the task ends normally. */
  onClose(fn: CloseFn): Udf {
    checkOpen();
    this.closeFn = fn;
    return this;
  }

  /** Declares side outputs: names[i] is output tag i + 1. A key_selector has none. */
  sideOutputs(names: string[]): Udf {
    checkOpen();
    if (this.kind == KIND_KEY_SELECTOR && names.length > 0) abort("weir: " + this.name + ": a key_selector has no side outputs");
    for (let i = 0; i < names.length; i++) checkName(names[i], "side output");
    this.outputs = names;
    return this;
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

function add(name: string, kind: i32): Udf {
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
  const f = add(name, KIND_MAP);
  f.mapFn = fn;
  return f;
}

/** Registers a filter function. */
export function registerFilter(name: string, fn: FilterFn): Udf {
  const f = add(name, KIND_FILTER);
  f.filterFn = fn;
  return f;
}

/** Registers a flat_map function. */
export function registerFlatMap(name: string, fn: FlatMapFn): Udf {
  const f = add(name, KIND_FLAT_MAP);
  f.flatMapFn = fn;
  return f;
}

/**
 * Registers a key_selector function, the function of a `key_by: {module,
 * function}` step: for every input record the SDK emits exactly one output, in
 * order, with the KEY flag and nothing else (sdk/ABI.md §4).
 */
export function registerKeySelector(name: string, fn: KeySelectorFn): Udf {
  const f = add(name, KIND_KEY_SELECTOR);
  f.keySelectorFn = fn;
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
    const kind = f.kind == KIND_MAP ? "map" : f.kind == KIND_FILTER ? "filter" : f.kind == KIND_FLAT_MAP ? "flat_map" : "key_selector";
    s += '{"name":"' + f.name + '","kind":"' + kind + '","index":' + f.index.toString() + ',"side_outputs":[';
    for (let k = 0; k < f.outputs.length; k++) {
      if (k > 0) s += ",";
      s += '"' + f.outputs[k] + '"';
    }
    s += '],"state":[]}';
  }
  return s + "]}";
}
