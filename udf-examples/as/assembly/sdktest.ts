// A module exercising the AssemblyScript SDK's API for udf-examples/as_test.go:
// record accessors, output setters, side outputs, hooks, logging, allocation,
// key selectors; and timer, aggregate and window calls (ABI §4.4-4.6), whose
// functions write what they were given as text so that the test sees exactly how
// the SDK parsed each frame:
//
//   agg    aggregate       create "c"; add acc+"+"+payload (fails on "fail");
//                          merge acc+"|"+other; result "<"+acc+">"
//   cat    reduce          acc+","+payload
//   win    window_process  one output per window: "start,end,key,n:p@ts/i;..."
//                          (key "-" when not keyed); none for the key "skip", one
//                          without a payload for the key "nopayload"
//   timed  process         a command per record (below); a timer callback
//   plain  process         no timer callback
//
// timed's commands: "ev:<ms>" / "pt:<ms>" register an event / processing timer,
// "dev:<ms>" / "dpt:<ms>" delete one, "clock" emits "wm=<watermark>,now=<time>".
// Its timer callback emits "fired <time> d<domain> k<key> seen=<state seen or ->",
// stores the key in state "seen", and registers an event timer one ms later
// when the key is "again".

import {
  Buffer, Collector, Context, Elements, fail, failed, JSONField, Level, log, Output, Record,
  registerAggregate, registerFilter, registerFlatMap, registerKeySelector, registerMap, registerProcess,
  registerReduce, registerWindowProcess, Timer, ValueState, Window,
} from "@weir-streams/sdk";

export * from "@weir-streams/sdk/abi";

/** describe writes what it sees of the record as its payload: key|ts|headers|payload. */
function describe(rec: Record, out: Output): void {
  let s = "";
  const k = rec.keyString();
  s += k === null ? "-" : k;
  s += "|" + (rec.hasTimestamp ? rec.timestamp.toString() : "-") + "|";
  for (let i = 0; i < rec.headerCount; i++) {
    if (i > 0) s += ",";
    s += rec.headerName(i) + "=" + rec.headerValueString(i);
  }
  // The iterator must see the same headers.
  let i = 0;
  const it = rec.headers();
  while (it.next()) {
    if (!it.nameIs(rec.headerName(i)) || it.valueString() != rec.headerValueString(i) || it.value().length != it.valueLen) {
      fail("header iterator differs at " + i.toString());
      return;
    }
    i++;
  }
  if (i != rec.headerCount) fail("header iterator saw " + i.toString() + " headers");
  const h = rec.headerString("h");
  s += "|h=" + (h === null ? "-" : h) + "|" + rec.payloadString();
  out.setPayloadString(s);
}

/** rewrite sets every field: key, timestamp, headers; payload from the bytes view. */
function rewrite(rec: Record, out: Output): void {
  out.setKeyString("key-" + rec.index.toString());
  out.setTimestamp(rec.timestamp + 1000);
  out.addHeader("n", rec.index.toString());
  out.addHeaderBytes("bin", rec.payload());
  const p = rec.payload();
  const b = out.payload();
  for (let i = p.length - 1; i >= 0; i--) b.appendByte(p[i]);
}

/** noheaders drops the inherited headers and nothing else. */
function noheaders(rec: Record, out: Output): void {
  out.clearHeaders();
}

/** upper allocates on every record: strings the collector must reclaim. */
function upper(rec: Record, out: Output): void {
  const s = rec.payloadString().toUpperCase() + "!".repeat(rec.index % 7);
  out.setPayloadString(s);
}

/** route sends records with "late" in their payload to side output 1 and the rest to the main output twice. */
function route(rec: Record, c: Collector): void {
  if (rec.payloadString().includes("late")) {
    c.emitTo(1).setPayloadString("late:" + rec.index.toString());
    return;
  }
  c.emit();
  c.emitPayloadString("copy");
}

let prefix = "";
let closed = 0;
const tagField = new JSONField("prefix");

function openPrefix(config: Uint8Array): void {
  if (tagField.findBytes(config)) {
    const s = tagField.stringValue();
    if (s === null) {
      fail("prefix must be a string");
      return;
    }
    prefix = s;
  }
  log(Level.Info, "opened with prefix " + prefix);
}

function closePrefix(): void {
  closed++;
  log(Level.Warn, "closed " + closed.toString());
}

function addPrefix(rec: Record, out: Output): void {
  const b = out.payload();
  b.appendString(prefix);
  b.appendRaw(rec.payloadPtr, rec.payloadLen);
}

/** even keeps records with an even index; fails the batch on a payload "bad". */
function even(rec: Record): bool {
  if (rec.payloadString() == "bad") {
    fail("bad record " + rec.index.toString());
    return false;
  }
  return rec.index % 2 == 0;
}

/** abort throws on the payload "boom". */
function aborting(rec: Record, out: Output): void {
  if (rec.payloadString() == "boom") throw new Error("boom at record " + rec.index.toString());
}

/** keyOf keys a record by "k:" and its payload; fails the batch on a payload "bad". */
function keyOf(rec: Record, key: Buffer): void {
  if (rec.payloadString() == "bad") {
    fail("bad key " + rec.index.toString());
    return;
  }
  key.appendString("k:");
  key.appendRaw(rec.payloadPtr, rec.payloadLen);
}

registerMap("describe", describe);
registerMap("rewrite", rewrite);
registerMap("noheaders", noheaders);
registerMap("upper", upper);
registerFlatMap("route", route).sideOutputs(["late"]);
registerMap("prefix", addPrefix).onOpen(openPrefix).onClose(closePrefix);
registerFilter("even", even);
registerMap("abort", aborting);
registerKeySelector("keyof", keyOf);

// ---- agg, cat: aggregate and reduce in aggregate calls

function aggCreate(acc: Buffer): void {
  acc.appendString("c");
}

function aggAdd(acc: Buffer, rec: Record): void {
  if (rec.payloadString() == "fail") {
    fail("agg: cannot add record " + rec.index.toString());
    return;
  }
  acc.appendByte(43); // "+"
  acc.appendRaw(rec.payloadPtr, rec.payloadLen);
}

function aggMerge(acc: Buffer, otherPtr: usize, otherLen: i32): void {
  acc.appendByte(124); // "|"
  acc.appendRaw(otherPtr, otherLen);
}

function aggResult(acc: Buffer, out: Buffer): void {
  out.appendByte(60); // "<"
  out.appendRaw(acc.dataStart, acc.length);
  out.appendByte(62); // ">"
}

function cat(acc: Buffer, rec: Record): void {
  acc.appendByte(44); // ","
  acc.appendRaw(rec.payloadPtr, rec.payloadLen);
}

// ---- win

const element = new Record();

function win(w: Window, elements: Elements, out: Collector): void {
  const key = w.keyString();
  if (key == "skip") return;
  if (key == "nopayload") {
    out.emit().setTimestamp(1);
    return;
  }
  let s = w.start.toString() + "," + w.end.toString() + "," + (key === null ? "-" : key) + "," +
    elements.count.toString() + ":";
  for (let i = 0; i < elements.count; i++) {
    elements.read(i, element);
    s += element.payloadString() + "@" + (element.hasTimestamp ? element.timestamp.toString() : "-") + "/" +
      element.index.toString() + ";";
  }
  out.emitPayloadString(s);
}

// ---- timed, plain

let seen: ValueState = changetype<ValueState>(0);

function timed(rec: Record, ctx: Context): void {
  const cmd = rec.payloadString();
  if (cmd == "clock") {
    ctx.emitPayloadString("wm=" + ctx.currentWatermark().toString() + ",now=" + ctx.currentProcessingTime().toString());
    return;
  }
  const colon = cmd.indexOf(":");
  const ms = I64.parseInt(cmd.substring(colon + 1));
  const op = cmd.substring(0, colon);
  if (op == "ev") ctx.registerEventTimer(ms);
  else if (op == "pt") ctx.registerProcessingTimer(ms);
  else if (op == "dev") ctx.deleteEventTimer(ms);
  else if (op == "dpt") ctx.deleteProcessingTimer(ms);
  else fail("timed: unknown command " + cmd);
}

function onTimed(t: Timer, ctx: Context): void {
  const had = seen.get(ctx);
  if (failed()) return;
  const key = t.keyString();
  ctx.emitPayloadString("fired " + t.time.toString() + " d" + t.domain.toString() + " k" + key + " seen=" +
    (had ? seen.value.toString() : "-"));
  seen.put(ctx, t.key());
  if (key == "again") ctx.registerEventTimer(t.time + 1);
}

function plain(rec: Record, ctx: Context): void {
  ctx.emit();
}

registerAggregate("agg", aggCreate, aggAdd, aggMerge, aggResult);
registerReduce("cat", cat);
registerWindowProcess("win", win);
const timedFn = registerProcess("timed", timed).onTimer(onTimed);
seen = timedFn.valueState("seen");
registerProcess("plain", plain);
