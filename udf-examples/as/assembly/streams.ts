// Weir's `streams` example in AssemblyScript, the same in every SDK
// (udf-examples/README.md, "The streams module"); the conformance suite relies on the indexes.
//
//   0 fraud          co_process  transactions checked against broadcast rules;
//                                unmatched ones go to side output "clean"
//   1 match          map         an interval-join row of an order and its payment
//   2 eager          trigger     fires at 5 elements, fires and purges at the end
//   3 drop_negative  evictor     evicts the elements with a negative "amount"
//
// Build (udf-examples/Makefile does): asc --config asconfig.json -o streams_as.wasm

import {
  BroadcastState, Buffer, Context, Elements, Evictions, JSONField, JSONKind, jsonValidObject, Output, Record,
  registerCoProcess, registerEvictor, registerMap, registerTrigger, StateEntry, TriggerAction, TriggerEvent,
  TriggerEventKind, TriggerResult, Window, NO_TIMER,
} from "@weir-streams/sdk";

export * from "@weir-streams/sdk/abi";

/**
 * The number at field f's last find, if it found one: integers that fit an
 * i64 without allocating, other numbers through asFloat. Sets `number`.
 */
let number: f64 = 0;

function numberOf(f: JSONField): bool {
  if (f.kind != JSONKind.Number) return false;
  if (f.asInt()) {
    number = <f64>f.intValue; // rounds to nearest, as parsing the text as a float64 does
    return true;
  }
  if (!f.asFloat()) return false;
  number = f.floatValue;
  return true;
}

// ---- fraud: rules arrive on the broadcast input, transactions on the keyed one.

let rules: BroadcastState = changetype<BroadcastState>(0); // set by the registration below
let CLEAN: u32 = 0; // the tag of side output "clean", set below

const ruleField = new JSONField("rule");
const maxField = new JSONField("max_amount");
const deleteField = new JSONField("delete");
const idField = new JSONField("id");
const amountField = new JSONField("amount");
const ruleIdField = new JSONField("rule"); // inside a stored rule, while iterating
const ruleMaxField = new JSONField("max_amount");
const sub = new Buffer(64);

/**
 * A rule: `{"rule":"<id>","max_amount":<number>}` is stored under its id, the
 * whole payload as the value; `{"rule":"<id>","delete":true}` deletes it.
 * Anything else is ignored.
 */
function onRule(rec: Record, ctx: Context): void {
  const p = rec.payloadPtr, n = rec.payloadLen;
  if (!jsonValidObject(p, n) || !ruleField.findRaw(p, n) || ruleField.kind != JSONKind.String) return;
  const id = ruleField.stringValue()!; // the id unescaped: the sub-key is its UTF-8 bytes
  sub.reset();
  sub.appendString(id);
  if (maxField.findRaw(p, n) && maxField.kind == JSONKind.Number) {
    rules.putRaw(ctx, sub.dataStart, sub.length, p, n);
  } else if (deleteField.findRaw(p, n) && deleteField.kind == JSONKind.True) {
    // The empty sub-key would name the whole map (sdk/ABI.md §4.2): no rule has it.
    if (sub.length > 0) rules.deleteRaw(ctx, sub.dataStart, sub.length);
  }
}

// The transaction being checked, for checkRule.
let txnAmount: f64 = 0;
let matched = false;

/** Emits an alert for the transaction of ctx if the rule's max_amount is below its amount. */
function checkRule(ctx: Context, e: StateEntry): bool {
  if (!ruleMaxField.findRaw(e.valuePtr, e.valueLen) || !numberOf(ruleMaxField) || !(number < txnAmount)) return true;
  matched = true;
  const b = ctx.emit().payload();
  b.appendString('{"txn":');
  if (idField.kind != JSONKind.Invalid) b.appendRaw(idField.valuePtr, idField.valueLen);
  else b.appendString("null");
  b.appendString(',"rule":');
  // The id as the rule wrote it (a JSON string: stored rules were checked to have one).
  ruleIdField.findRaw(e.valuePtr, e.valueLen);
  b.appendRaw(ruleIdField.valuePtr, ruleIdField.valueLen);
  b.appendString(',"amount":');
  b.appendRaw(amountField.valuePtr, amountField.valueLen);
  b.appendByte(0x7d); // }
  return true;
}

/**
 * A transaction `{"id":..,"account":..,"amount":<number>}`: one alert on the main
 * output per rule (in rule id order) whose max_amount is below its amount; with
 * none, the transaction itself on "clean". A transaction without a numeric
 * amount matches no rule.
 */
function onTransaction(rec: Record, ctx: Context): void {
  matched = false;
  idField.find(rec);
  if (amountField.find(rec) && numberOf(amountField)) {
    txnAmount = number;
    rules.forEach(ctx, checkRule);
  }
  if (!matched) ctx.emitTo(CLEAN);
}

// ---- match: {"left":<order or null>,"right":<payment or null>} ->
// {"order":..,"ordered":..,"paid":..,"underpaid":..}

const leftField = new JSONField("left");
const rightField = new JSONField("right");
const orderIdField = new JSONField("order_id");
const leftAmount = new JSONField("amount");
const rightAmount = new JSONField("amount");

function appendRawOrNull(b: Buffer, f: JSONField, found: bool): void {
  if (found) b.appendRaw(f.valuePtr, f.valueLen);
  else b.appendString("null");
}

function match(rec: Record, out: Output): void {
  const hasLeft = leftField.find(rec) && leftField.kind == JSONKind.Object;
  const hasRight = rightField.find(rec) && rightField.kind == JSONKind.Object;
  const b = out.payload();
  b.appendString('{"order":');
  let idFound = false;
  if (hasLeft) idFound = orderIdField.findRaw(leftField.valuePtr, leftField.valueLen);
  else if (hasRight) idFound = orderIdField.findRaw(rightField.valuePtr, rightField.valueLen);
  appendRawOrNull(b, orderIdField, idFound);
  b.appendString(',"ordered":');
  const leftFound = hasLeft && leftAmount.findRaw(leftField.valuePtr, leftField.valueLen);
  appendRawOrNull(b, leftAmount, leftFound);
  b.appendString(',"paid":');
  const rightFound = hasRight && rightAmount.findRaw(rightField.valuePtr, rightField.valueLen);
  appendRawOrNull(b, rightAmount, rightFound);
  let underpaid = false;
  if (hasLeft) {
    if (!hasRight) {
      underpaid = true;
    } else if (leftFound && rightFound && numberOf(leftAmount)) {
      const ordered = number;
      underpaid = numberOf(rightAmount) && number < ordered;
    }
  }
  b.appendString(underpaid ? ',"underpaid":true}' : ',"underpaid":false}');
}

// ---- eager: fire once five elements are in, fire and purge at the window's end.

function eager(ev: TriggerEvent, res: TriggerResult): void {
  const last = ev.end - 1; // the window's last millisecond
  if (ev.kind == TriggerEventKind.ElementsAdded) {
    res.action = ev.count >= 5 ? TriggerAction.Fire : TriggerAction.Continue;
    res.setEventTimer(last);
  } else if (ev.kind == TriggerEventKind.EventTimer) {
    res.action = ev.time >= last ? TriggerAction.FireAndPurge : TriggerAction.Continue;
    res.eventTimer = NO_TIMER;
  }
  // A processing-time timer: continue, no timer (the result's defaults).
}

// ---- drop_negative: evict the elements whose "amount" is a negative number.

const element = new Record();
const elemAmount = new JSONField("amount");

function dropNegative(w: Window, elements: Elements, evict: Evictions): void {
  for (let i = 0; i < elements.count; i++) {
    elements.read(i, element);
    if (elemAmount.find(element) && numberOf(elemAmount) && number < 0) evict.evict(i);
  }
}

// Registered last: top-level code runs in order, and the functions use the globals above.
const fraud = registerCoProcess("fraud", onTransaction, onRule).sideOutputs(["clean"]); // index 0
rules = fraud.broadcastState("rules");
CLEAN = fraud.tagOf("clean");
registerMap("match", match); // index 1
registerTrigger("eager", eager); // index 2
registerEvictor("drop_negative", dropNegative); // index 3
