// Weir's window and timer examples in AssemblyScript: the twins of
// udf-examples/go/windows, function for function and byte for byte.
//
//   session_stats  aggregate            clicks and distinct pages of a session
//   top3           window_process       the three highest prices of a window
//   timeout        process with timers  a key idle for a second after its last record
//   sum_price      aggregate            the sum of "price", as {"sum":N}
//   event_time     timestamp_extractor  time from "ts", punctuation from "watermark"
//
// Build (udf-examples/Makefile does): asc --config asconfig.json -o windows_as.wasm

import {
  Buffer, Collector, Context, Elements, JSONField, JSONKind, Record, registerAggregate, registerProcess,
  registerTimestampExtractor, registerWindowProcess, Timer, Timestamped, Udf, ValueState, Window,
} from "@weir-streams/sdk";

export * from "@weir-streams/sdk/abi";

// ---- session_stats: clicks (u64), then the distinct pages, each a u32 length and
// its bytes, in byte order (the Go example's encoding).

const pageField = new JSONField("page");
const tmp = new Buffer(256);

function statsCreate(acc: Buffer): void {
  store<u64>(acc.reserve(8), 0);
  acc.advance(8);
}

function compareBytes(a: usize, al: i32, b: usize, bl: i32): i32 {
  const n = min(al, bl);
  for (let i = 0; i < n; i++) {
    const x = load<u8>(a + <usize>i), y = load<u8>(b + <usize>i);
    if (x != y) return <i32>x - <i32>y;
  }
  return al - bl;
}

/** Rewrites acc with the page at (pp, pl) added, if new, and clicks set. */
function withPage(acc: Buffer, clicks: u64, pp: usize, pl: i32): void {
  tmp.reset();
  store<u64>(tmp.reserve(8), clicks);
  tmp.advance(8);
  let placed = false;
  let p = acc.dataStart + 8;
  const end = acc.dataStart + <usize>acc.length;
  while (p + 4 <= end) {
    const n = <i32>load<u32>(p);
    const c = compareBytes(pp, pl, p + 4, n);
    if (!placed && c <= 0) {
      placed = true;
      if (c < 0) appendPage(tmp, pp, pl);
    }
    appendPage(tmp, p + 4, n);
    p += 4 + <usize>n;
  }
  if (!placed) appendPage(tmp, pp, pl);
  acc.reset();
  acc.appendRaw(tmp.dataStart, tmp.length);
}

function appendPage(b: Buffer, p: usize, n: i32): void {
  store<u32>(b.reserve(4), <u32>n);
  b.advance(4);
  b.appendRaw(p, n);
}

function statsAdd(acc: Buffer, rec: Record): void {
  const clicks = load<u64>(acc.dataStart) + 1;
  if (pageField.find(rec) && pageField.kind == JSONKind.String) {
    // The page's text between its quotes (the example's pages have no escapes).
    withPage(acc, clicks, pageField.valuePtr + 1, pageField.valueLen - 2);
  } else {
    withPage(acc, clicks, 0, 0);
  }
}

const copy = new Buffer(256);

function statsMerge(acc: Buffer, op: usize, ol: i32): void {
  copy.reset();
  copy.appendRaw(op, ol);
  let clicks = load<u64>(acc.dataStart) + load<u64>(copy.dataStart);
  store<u64>(acc.dataStart, clicks);
  let p = copy.dataStart + 8;
  const end = copy.dataStart + <usize>copy.length;
  while (p + 4 <= end) {
    const n = <i32>load<u32>(p);
    withPage(acc, clicks, p + 4, n);
    p += 4 + <usize>n;
  }
}

function statsResult(acc: Buffer, out: Buffer): void {
  let pages = 0;
  let p = acc.dataStart + 8;
  const end = acc.dataStart + <usize>acc.length;
  while (p + 4 <= end) {
    pages++;
    p += 4 + <usize>load<u32>(p);
  }
  out.appendString('{"clicks":');
  out.appendInt(<i64>load<u64>(acc.dataStart));
  out.appendString(',"pages":');
  out.appendInt(pages);
  out.appendByte(125); // "}"
}

// ---- top3

const itemField = new JSONField("item");
const priceField = new JSONField("price");
const el = new Record();
const names: string[] = [];
const prices: i64[] = [];

function top3(w: Window, elements: Elements, out: Collector): void {
  names.length = 0;
  prices.length = 0;
  for (let i = 0; i < elements.count; i++) {
    elements.read(i, el);
    if (!itemField.find(el) || !priceField.find(el) || !priceField.asInt()) continue;
    const name = String.UTF8.decodeUnsafe(itemField.valuePtr, <usize>itemField.valueLen);
    const price = priceField.intValue;
    // Insert in order: higher price first, then the smaller name.
    let at = names.length;
    while (at > 0 && (prices[at - 1] < price || (prices[at - 1] == price && names[at - 1] > name))) at--;
    names.push(name);
    prices.push(price);
    for (let k = names.length - 1; k > at; k--) {
      names[k] = names[k - 1];
      prices[k] = prices[k - 1];
    }
    names[at] = name;
    prices[at] = price;
  }
  const b = out.emit().payload();
  b.appendString('{"window_start":');
  b.appendInt(w.start);
  b.appendString(',"window_end":');
  b.appendInt(w.end);
  b.appendString(',"top":[');
  for (let i = 0; i < min(3, names.length); i++) {
    if (i > 0) b.appendByte(44); // ","
    b.appendString('{"item":');
    b.appendString(names[i]);
    b.appendString(',"price":');
    b.appendInt(prices[i]);
    b.appendByte(125);
  }
  b.appendString("]}");
}

// ---- timeout

let last: ValueState = changetype<ValueState>(0);

function timeout(rec: Record, ctx: Context): void {
  last.putI64(ctx, rec.timestamp);
  ctx.registerEventTimer(rec.timestamp + 1000);
}

function onTimeout(t: Timer, ctx: Context): void {
  const ts = last.getI64(ctx, i64.MIN_VALUE);
  if (ts == i64.MIN_VALUE || t.time != ts + 1000) return; // a later record moved the deadline
  const b = ctx.emit().payload();
  b.appendString('{"key":');
  b.appendRaw(t.keyPtr, t.keyLen);
  b.appendString(',"idle_since":');
  b.appendInt(ts);
  b.appendByte(125);
}

// ---- sum_price: the sum, an i64 in eight bytes

function sumCreate(acc: Buffer): void {
  store<i64>(acc.reserve(8), 0);
  acc.advance(8);
}

function sumAdd(acc: Buffer, rec: Record): void {
  if (priceField.find(rec) && priceField.asInt()) store<i64>(acc.dataStart, load<i64>(acc.dataStart) + priceField.intValue);
}

function sumMerge(acc: Buffer, op: usize, ol: i32): void {
  store<i64>(acc.dataStart, load<i64>(acc.dataStart) + load<i64>(op));
}

function sumResult(acc: Buffer, out: Buffer): void {
  out.appendString('{"sum":');
  out.appendInt(load<i64>(acc.dataStart));
  out.appendByte(125);
}

// ---- event_time

const tsField = new JSONField("ts");
const wmField = new JSONField("watermark");

function eventTime(rec: Record, out: Timestamped): void {
  if (tsField.find(rec) && tsField.asInt()) out.setTime(tsField.intValue);
  if (wmField.find(rec) && wmField.asInt()) out.emitWatermark(wmField.intValue);
}

registerAggregate("session_stats", statsCreate, statsAdd, statsMerge, statsResult); // index 0
registerWindowProcess("top3", top3); // index 1
const timeoutFn: Udf = registerProcess("timeout", timeout).onTimer(onTimeout); // index 2
last = timeoutFn.valueState("last");
registerAggregate("sum_price", sumCreate, sumAdd, sumMerge, sumResult); // index 3
registerTimestampExtractor("event_time", eventTime); // index 4
