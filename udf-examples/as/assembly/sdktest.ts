// A module exercising the AssemblyScript SDK's API for udf-examples/as_test.go:
// record accessors, output setters, side outputs, hooks, logging, allocation,
// key selectors.

import {
  Buffer, Collector, fail, JSONField, Level, log, Output, Record,
  registerFilter, registerFlatMap, registerKeySelector, registerMap,
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
