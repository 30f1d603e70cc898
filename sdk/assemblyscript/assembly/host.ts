// The imports of module `weir` that this SDK uses (sdk/ABI.md §1), and the
// abort handler the build routes AssemblyScript's `abort` to, so that a module
// imports nothing from `env` (the Weir host provides only `weir` and WASI).

// @ts-ignore: decorator
@external("weir", "emit")
export declare function hostEmit(ptr: usize, len: u32): void;

// @ts-ignore: decorator
@external("weir", "error")
export declare function hostError(ptr: usize, len: u32): void;

// @ts-ignore: decorator
@external("weir", "log")
export declare function hostLog(level: i32, ptr: usize, len: u32): void;

// @ts-ignore: decorator
@external("wasi_snapshot_preview1", "fd_write")
declare function fdWrite(fd: u32, iovs: usize, iovsLen: u32, nwritten: usize): u16;

/** Writes bytes to the guest's stderr, which the host logs and attaches to failures. */
export function writeStderr(ptr: usize, len: i32): void {
  // One iovec {ptr, len} and the count written, in static memory: this runs
  // when the heap may be in any state.
  const iov = memory.data(16);
  store<u32>(iov, <u32>ptr);
  store<u32>(iov, <u32>len, 4);
  fdWrite(2, iov, 1, iov + 8);
}

/**
 * weirAbort replaces AssemblyScript's `abort` (the build passes
 * `--use abort=...`): a failed assertion, an out-of-bounds access or a `throw`
 * prints "panic: MESSAGE at FILE:LINE:COLUMN" to stderr and traps. The host
 * reports the trap as a task failure carrying that line.
 */
export function weirAbort(message: string | null = null, fileName: string | null = null, line: u32 = 0, column: u32 = 0): void {
  // No allocation here: the heap may be what failed. Each piece is encoded into
  // a static scratch area and written out.
  const scratch = memory.data(1024);
  writeStatic(scratch, "panic: ");
  writeStatic(scratch, message !== null ? message : "abort");
  if (fileName !== null) {
    writeStatic(scratch, " at ");
    writeStatic(scratch, fileName);
    writeStatic(scratch, ":");
    writeNumber(scratch, line);
    writeStatic(scratch, ":");
    writeNumber(scratch, column);
  }
  writeStatic(scratch, "\n");
  unreachable();
}

function writeStatic(scratch: usize, s: string): void {
  // At most 255 UTF-16 units per piece, which encode to at most 765 bytes.
  const n = min(s.length, 255);
  const len = String.UTF8.encodeUnsafe(changetype<usize>(s), n, scratch);
  writeStderr(scratch, <i32>len);
}

function writeNumber(scratch: usize, v: u32): void {
  let p = scratch + 16;
  do {
    p--;
    store<u8>(p, 48 + v % 10);
    v /= 10;
  } while (v != 0);
  writeStderr(p, <i32>(scratch + 16 - p));
}

// Keyed state (sdk/ABI.md §4.2) and task info (§4.3). Out buffers are passed by
// their capacity: the host writes at most that much and returns the length.

// @ts-ignore: decorator
@external("weir", "state_get")
export declare function hostStateGet(state: u32, record: u32, sub: usize, subLen: u32, out: usize, cap: u32): i32;

// @ts-ignore: decorator
@external("weir", "state_put")
export declare function hostStatePut(state: u32, record: u32, sub: usize, subLen: u32, val: usize, len: u32): i32;

// @ts-ignore: decorator
@external("weir", "state_append")
export declare function hostStateAppend(state: u32, record: u32, val: usize, len: u32): i32;

// @ts-ignore: decorator
@external("weir", "state_delete")
export declare function hostStateDelete(state: u32, record: u32, sub: usize, subLen: u32): i32;

// @ts-ignore: decorator
@external("weir", "state_iter")
export declare function hostStateIter(state: u32, record: u32, cursor: u32, out: usize, cap: u32): i32;

// @ts-ignore: decorator
@external("weir", "task_info")
export declare function hostTaskInfo(out: usize, cap: u32): i32;

// Timers and clocks (sdk/ABI.md §4.4).

@external("weir", "timer_register")
export declare function hostTimerRegister(domain: i32, record: u32, time: i64): i32;

@external("weir", "timer_delete")
export declare function hostTimerDelete(domain: i32, record: u32, time: i64): i32;

@external("weir", "current_watermark")
export declare function hostCurrentWatermark(): i64;

@external("weir", "current_time")
export declare function hostCurrentTime(): i64;
