// Logging and error reporting.

import { Buffer } from "./buffer";
import { hostError, hostLog } from "./host";

/** Log levels, as the ABI's weir.log numbers them. */
export enum Level {
  Debug = 0,
  Info = 1,
  Warn = 2,
  Error = 3,
}

const scratch = new Buffer(256);

/**
 * Writes one line to the worker's log through the host. It costs a host call:
 * log sparingly on the per-record path.
 */
export function log(level: Level, message: string): void {
  scratch.reset();
  scratch.appendString(message);
  hostLog(<i32>level, scratch.dataStart, <u32>scratch.length);
}

/** The error message of the current call, set by fail(), and whether there is one. */
let failure: string | null = null;
let hasFailure = false;

/**
 * Fails the current call with message: when your function returns, the SDK
 * stops the batch, emits nothing, and the task fails with that message.
 * (AssemblyScript has no exceptions: `throw` aborts the module, see README.)
 */
export function fail(message: string): void {
  failure = message.length > 0 ? message : "error without a message";
  hasFailure = true;
}

/**
 * Fails the current call unless it has failed already: the SDK's own errors keep
 * the first message, the one that says what went wrong first.
 */
export function failOnce(message: string): void {
  if (!hasFailure) fail(message);
}

/** Reports whether fail() was called in the current call (your function may stop early). */
// @ts-ignore: decorator
@inline export function failed(): bool {
  return hasFailure;
}

/** Hands the pending failure to the host and clears it. */
export function reportFailure(): void {
  const msg = failure;
  failure = null;
  hasFailure = false;
  if (msg === null) return;
  scratch.reset();
  scratch.appendString(msg);
  hostError(scratch.dataStart, <u32>scratch.length);
}
