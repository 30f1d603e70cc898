// A module exercising the AssemblyScript SDK's keyed state for
// udf-examples/conformance/statetest_test.go, which defines probe and concat and
// their expected outputs (the same as udf-examples/c/statetest.c's).

import {
  Buffer, Context, fail, failed, ListState, MapState, Record, registerProcess, registerReduce, StateEntry, Udf, ValueState,
} from "@weir-streams/sdk";

export * from "@weir-streams/sdk/abi";

// Set by the registrations at the end of the file.
let v: ValueState = changetype<ValueState>(0);
let l: ListState = changetype<ListState>(0);
let m: MapState = changetype<MapState>(0);

const out = new Buffer(4096);
let more = false;
let counted = 0;

function sep(): void {
  if (out.length > 0) out.appendByte(44); // ","
}

function listEntry(ctx: Context, e: StateEntry): bool {
  sep();
  out.appendString("l");
  out.appendInt(e.valueLen);
  return true;
}

function stopAtFirst(ctx: Context, e: StateEntry): bool {
  return false;
}

function mapEntry(ctx: Context, e: StateEntry): bool {
  sep();
  out.appendRaw(e.subPtr, e.subLen);
  out.appendString("=");
  out.appendInt(e.valueLen);
  // Emitting and iterating another state from inside an iteration.
  ctx.emitTo(1).setPayloadRaw(e.subPtr, e.subLen);
  return l.forEach(ctx, stopAtFirst);
}

function subOnly(ctx: Context, e: StateEntry): bool {
  if (more) out.appendByte(44);
  more = true;
  out.appendRaw(e.subPtr, e.subLen);
  return true;
}

function countEntry(ctx: Context, e: StateEntry): bool {
  counted++;
  return true;
}

function probe(rec: Record, ctx: Context): void {
  out.reset();
  const cmd = rec.payloadString();
  if (cmd == "fill") {
    const xs = "x".repeat(200);
    l.appendString(ctx, "one");
    l.appendString(ctx, xs);
    l.appendString(ctx, "");
    m.putString(ctx, "b", "2");
    m.putString(ctx, "a", xs);
    m.putString(ctx, "c", "3");
    m.putString(ctx, "", "empty");
    v.put(ctx, Uint8Array.wrap(String.UTF8.encode("b".repeat(1000))));
    out.appendString("ok");
  } else if (cmd == "read") {
    if (!l.forEach(ctx, listEntry) || !m.forEach(ctx, mapEntry)) return;
    sep();
    out.appendString("v=");
    out.appendInt(v.get(ctx) ? v.value.length : -1);
    out.appendString(",c:");
    if (m.getString(ctx, "c")) out.appendRaw(m.value.dataStart, m.value.length);
    out.appendString(m.getString(ctx, "zz") ? ",zz:?" : ",zz:-");
  } else if (cmd == "delete") {
    more = false;
    m.deleteString(ctx, "b");
    m.forEach(ctx, subOnly);
  } else if (cmd == "clear") {
    l.clear(ctx);
    m.clear(ctx);
    v.clear(ctx);
    counted = 0;
    l.forEach(ctx, countEntry);
    const nl = counted;
    counted = 0;
    m.forEach(ctx, countEntry);
    out.appendString("l");
    out.appendInt(nl);
    out.appendString(",m");
    out.appendInt(counted);
    out.appendString(v.get(ctx) ? ",v+" : ",v-");
  } else if (cmd == "delempty") {
    m.deleteString(ctx, "");
    return;
  } else if (cmd == "listget") {
    readListAsValue(ctx);
    return;
  } else {
    fail("probe: unknown command");
    return;
  }
  if (failed()) return;
  ctx.emitPayloadRaw(out.dataStart, out.length);
}

/** Reads the list state as if it were a value: the host says INVALID. */
function readListAsValue(ctx: Context): void {
  changetype<ValueState>(changetype<usize>(l)).get(ctx);
}

/** concat: the running value, a comma, the payload. */
function concat(acc: Buffer, rec: Record): void {
  acc.appendByte(44);
  acc.appendRaw(rec.payloadPtr, rec.payloadLen);
}

const probeFn: Udf = registerProcess("probe", probe).sideOutputs(["subkeys"]);
v = probeFn.valueState("v");
l = probeFn.listState("l", 60000);
m = probeFn.mapState("m");
registerReduce("concat", concat);
