// A module exercising the AssemblyScript SDK's co_process, broadcast state,
// trigger and evictor calls for udf-examples/as/streams_test.go, which defines
// the expected outputs.
//
//   0 co     co_process; side output "side"; state 0 value "v", 1 broadcast "b";
//            timers. Both inputs take commands as payloads:
//              put:K=V  puts K=V in b        del:K   deletes K from b
//              clear    clears b             get:K   emits "K=V" or "K-"
//              list     emits "in<input>:" then "K=V;" per entry of b
//              count    adds 1 to v, emits "in<input>:v=<n>"
//              side     emits "side" on side output "side"
//              timer:N  registers an event-time timer at N
//            The timer callback emits "timer <time> in<input>" and b's entries.
//   1 trig   trigger: action count & 3; event timer start + time + key length
//            (none for a non-keyed window), or the timer's time for an
//            event-time timer; a processing-time timer at end for a
//            processing-time timer event; key "bad": action 7, which fails.
//   2 evict  evictor: walks the elements from last to first; payload "x" evicts
//            the element, "xx" evicts it twice, "oob" evicts an index past the end.

import {
  BroadcastState, Buffer, Context, Elements, Evictions, NO_TIMER, Record, registerCoProcess, registerEvictor,
  registerTrigger, StateEntry, Timer, TriggerAction, TriggerEvent, TriggerEventKind, TriggerResult, ValueState, Window,
} from "@weir-streams/sdk";

export * from "@weir-streams/sdk/abi";

// Set by the registrations at the end of the file.
let v: ValueState = changetype<ValueState>(0);
let b: BroadcastState = changetype<BroadcastState>(0);
let sideTag: u32 = 0;

const out = new Buffer(256);

function startsWith(rec: Record, prefix: string): bool {
  if (rec.payloadLen < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) {
    if (load<u8>(rec.payloadPtr + <usize>i) != <u8>prefix.charCodeAt(i)) return false;
  }
  return true;
}

function entry(ctx: Context, e: StateEntry): bool {
  out.appendRaw(e.subPtr, e.subLen);
  out.appendByte(61); // =
  out.appendRaw(e.valuePtr, e.valueLen);
  out.appendByte(59); // ;
  return true;
}

function command(rec: Record, ctx: Context): void {
  const s = rec.payloadString();
  out.reset();
  if (startsWith(rec, "put:")) {
    const eq = s.indexOf("=");
    b.putString(ctx, s.substring(4, eq), s.substring(eq + 1));
  } else if (startsWith(rec, "del:")) {
    b.deleteString(ctx, s.substring(4));
  } else if (s == "clear") {
    b.clear(ctx);
  } else if (startsWith(rec, "get:")) {
    const k = s.substring(4);
    out.appendString(k);
    if (b.getString(ctx, k)) {
      out.appendByte(61);
      out.appendRaw(b.value.dataStart, b.value.length);
    } else {
      out.appendByte(45); // -
    }
    ctx.emit().setPayloadRaw(out.dataStart, out.length);
  } else if (s == "list") {
    out.appendString("in");
    out.appendInt(ctx.input);
    out.appendByte(58); // :
    b.forEach(ctx, entry);
    ctx.emit().setPayloadRaw(out.dataStart, out.length);
  } else if (s == "count") {
    const n = v.getI64(ctx, 0) + 1;
    v.putI64(ctx, n);
    out.appendString("in");
    out.appendInt(ctx.input);
    out.appendString(":v=");
    out.appendInt(n);
    ctx.emit().setPayloadRaw(out.dataStart, out.length);
  } else if (s == "side") {
    ctx.emitTo(sideTag).setPayloadString("side");
  } else if (startsWith(rec, "timer:")) {
    ctx.registerEventTimer(I64.parseInt(s.substring(6)));
  }
}

function onTimer(t: Timer, ctx: Context): void {
  out.reset();
  out.appendString("timer ");
  out.appendInt(t.time);
  out.appendString(" in");
  out.appendInt(ctx.input);
  out.appendByte(32);
  b.forEach(ctx, entry);
  ctx.emit().setPayloadRaw(out.dataStart, out.length);
}

function trig(ev: TriggerEvent, res: TriggerResult): void {
  if (ev.hasKey && ev.keyString()! == "bad") {
    res.action = <TriggerAction>7;
    return;
  }
  res.action = <TriggerAction>(<i32>(ev.count & 3));
  if (ev.hasKey) res.setEventTimer(ev.start + ev.time + <i64>ev.keyLen);
  if (ev.kind == TriggerEventKind.EventTimer) res.setEventTimer(ev.time);
  if (ev.kind == TriggerEventKind.ProcessingTimer) res.setProcessingTimer(ev.end);
}

const el = new Record();

function evict(w: Window, elements: Elements, ev: Evictions): void {
  for (let i = elements.count - 1; i >= 0; i--) {
    elements.read(i, el);
    const s = el.payloadString();
    if (s == "x") ev.evict(i);
    else if (s == "xx") {
      ev.evict(i);
      ev.evict(i);
    } else if (s == "oob") ev.evict(elements.count);
  }
}

const co = registerCoProcess("co", command, command).sideOutputs(["side"]).onTimer(onTimer);
v = co.valueState("v");
b = co.broadcastState("b");
sideTag = co.tagOf("side");
registerTrigger("trig", trig);
registerEvictor("evict", evict);
