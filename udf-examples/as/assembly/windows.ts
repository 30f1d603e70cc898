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
  Buffer, Collector, Context, Elements, fail, JSONField, JSONKind, Record, registerAggregate, registerProcess,
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

/** Whether an accumulator of session_stats can be read; fails the call when not. */
function statsOK(p: usize, n: i32): bool {
  let ok = n >= 8;
  const end = p + <usize>n;
  p += 8;
  while (ok && p < end) {
    ok = end - p >= 4 && <usize>load<u32>(p) <= end - p - 4;
    if (ok) p += 4 + <usize>load<u32>(p);
  }
  if (!ok) fail("session_stats: malformed accumulator");
  return ok;
}

function statsAdd(acc: Buffer, rec: Record): void {
  if (!statsOK(acc.dataStart, acc.length)) return;
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
  if (!statsOK(acc.dataStart, acc.length) || !statsOK(op, ol)) return;
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
  if (!statsOK(acc.dataStart, acc.length)) return;
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

// ---- top3: the three best seen so far, kept in place as the elements pass, so a
// window of any size allocates nothing. Names are the item's JSON text, quotes
// included, compared byte by byte (the Go example's order); they point into the
// input, valid for the call.

const itemField = new JSONField("item");
const priceField = new JSONField("price");
const el = new Record();
const TOP = 3;
const topName = new StaticArray<usize>(TOP);
const topLen = new StaticArray<i32>(TOP);
const topPrice = new StaticArray<i64>(TOP);

/** Whether (price, name) ranks before entry i: a higher price, or the same and a smaller name. */
function before(price: i64, np: usize, nl: i32, i: i32): bool {
  const p = unchecked(topPrice[i]);
  if (price != p) return price > p;
  return compareBytes(np, nl, unchecked(topName[i]), unchecked(topLen[i])) < 0;
}

function top3(w: Window, elements: Elements, out: Collector): void {
  let n = 0;
  for (let i = 0; i < elements.count; i++) {
    elements.read(i, el);
    if (!itemField.find(el) || !priceField.find(el) || !priceField.asInt()) continue;
    const np = itemField.valuePtr, nl = itemField.valueLen, price = priceField.intValue;
    // Insertion into the sorted top, dropping what falls off its end.
    let at = n;
    while (at > 0 && before(price, np, nl, at - 1)) at--;
    if (at == TOP) continue;
    if (n < TOP) n++;
    for (let k = n - 1; k > at; k--) {
      unchecked(topName[k] = topName[k - 1]);
      unchecked(topLen[k] = topLen[k - 1]);
      unchecked(topPrice[k] = topPrice[k - 1]);
    }
    unchecked(topName[at] = np);
    unchecked(topLen[at] = nl);
    unchecked(topPrice[at] = price);
  }
  const b = out.emit().payload();
  b.appendString('{"window_start":');
  b.appendInt(w.start);
  b.appendString(',"window_end":');
  b.appendInt(w.end);
  b.appendString(',"top":[');
  for (let i = 0; i < n; i++) {
    if (i > 0) b.appendByte(44); // ","
    b.appendString('{"item":');
    b.appendRaw(unchecked(topName[i]), unchecked(topLen[i]));
    b.appendString(',"price":');
    b.appendInt(unchecked(topPrice[i]));
    b.appendByte(125);
  }
  b.appendString("]}");
}

// ---- timeout

let last: ValueState = changetype<ValueState>(0);

function timeout(rec: Record, ctx: Context): void {
  if (!rec.hasTimestamp) {
    fail("timeout: a record without a timestamp");
    return;
  }
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

function sumOK(n: i32): bool {
  if (n == 8) return true;
  fail("sum_price: malformed accumulator");
  return false;
}

function sumAdd(acc: Buffer, rec: Record): void {
  if (!sumOK(acc.length)) return;
  if (priceField.find(rec) && priceField.asInt()) store<i64>(acc.dataStart, load<i64>(acc.dataStart) + priceField.intValue);
}

function sumMerge(acc: Buffer, op: usize, ol: i32): void {
  if (!sumOK(acc.length) || !sumOK(ol)) return;
  store<i64>(acc.dataStart, load<i64>(acc.dataStart) + load<i64>(op));
}

function sumResult(acc: Buffer, out: Buffer): void {
  if (!sumOK(acc.length)) return;
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
