// Weir's keyed-state example in AssemblyScript: the twin of
// udf-examples/go/counter's count, byte for byte (udf-examples/README.md,
// "The counter functions", defines it).
//
//   count  process  a running count per key, in the value state "count"
//
// Build (udf-examples/Makefile does): asc --config asconfig.json -o counter_as.wasm

import { Context, JSONField, JSONKind, Record, registerProcess, taskInfo, Udf, ValueState } from "@weir-streams/sdk";

export * from "@weir-streams/sdk/abi";

// The count of each key: an i64, 8 bytes little endian, in Weir's keyed state (so
// it survives failover, unlike a global). The name maps it in checkpoints. Set
// by the registration at the end of the file (AssemblyScript compiles a function
// where it is first referenced, so what it uses is declared before).
let counts: ValueState = changetype<ValueState>(0);

/** The job's execution attempt, read once in open. */
let attempt: i64 = 0;

function openCount(config: Uint8Array): void {
  const t = taskInfo();
  if (t !== null) attempt = t.attempt;
}

const keyField = new JSONField("key");
const seqField = new JSONField("seq");
const NULL = memory.data<u8>([110, 117, 108, 108]); // "null"

function count(rec: Record, ctx: Context): void {
  const n = counts.getI64(ctx, 0) + 1;
  counts.putI64(ctx, n);
  const b = ctx.emit().payload(); // reused from record to record
  b.appendString('{"key":');
  if (keyField.find(rec)) b.appendRaw(keyField.valuePtr, keyField.valueLen);
  else b.appendRaw(NULL, 4);
  b.appendString(',"seq":');
  if (seqField.find(rec) && seqField.kind == JSONKind.Number) b.appendRaw(seqField.valuePtr, seqField.valueLen);
  else b.appendRaw(NULL, 4);
  b.appendString(',"count":');
  b.appendInt(n);
  b.appendString(',"attempt":');
  b.appendInt(attempt);
  b.appendByte(125); // "}"
}

const countFn: Udf = registerProcess("count", count).onOpen(openCount);
counts = countFn.valueState("count");
