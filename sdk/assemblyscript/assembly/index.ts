// Weir's AssemblyScript SDK: write user-defined functions for Weir, compiled to
// a module that follows the Weir Wasm ABI v1 (sdk/ABI.md).
//
// Register functions in top-level code of your entry file, and re-export the
// ABI from it:
//
//   import { registerMap, Record, Output } from "@weir-streams/sdk";
//   export * from "@weir-streams/sdk/abi";
//   registerMap("upper", upper);
//
// See README.md for the API and the build command.

export { Buffer } from "./buffer";
export { Record, HeaderIter, FLAG_KEY, FLAG_TIMESTAMP, FLAG_PAYLOAD, FLAG_HEADERS } from "./record";
export { Output, Collector } from "./output";
export {
  registerMap, registerFilter, registerFlatMap, registerKeySelector, registerProcess, registerReduce, Udf, MapFn,
  FilterFn, FlatMapFn, KeySelectorFn, ProcessFn, ReduceFn, OpenFn, CloseFn, SDK_VERSION, registerAggregate,
  registerWindowProcess, registerTimestampExtractor, TimerFn, AggCreateFn, AggAddFn, AggMergeFn, AggResultFn, WindowFn,
  TimestampFn, Timer, Window, Elements, Timestamped, registerCoProcess, registerTrigger, registerEvictor, TriggerFn,
  EvictorFn, TriggerEvent, TriggerEventKind, TriggerResult, TriggerAction, NO_TIMER, Evictions,
} from "./registry";
export {
  Context, StateEntry, EntryFn, StateHandle, ValueState, ListState, MapState, TaskInfo, taskInfo, STATE_VALUE, STATE_LIST,
  STATE_MAP, STATE_REDUCING, STATE_AGGREGATING, STATE_BROADCAST, BroadcastState,
} from "./state";
export { log, fail, failed, Level } from "./log";
export { JSONField, JSONMembers, JSONArray, JSONKind, MAX_JSON_DEPTH, jsonValid, jsonValidObject, parseInt64, lastParsedInt } from "./json";
