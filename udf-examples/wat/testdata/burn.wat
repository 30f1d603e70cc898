;; burn: the identity map of identity.wat that first does real work per record
;; (FNV-1a over the payload, 200 rounds), to make a slow operator for the
;; backpressure tests. A test module, not an example.
;; identity.wat — the smallest complete Weir UDF module (ABI v1, sdk/ABI.md).
;;
;; It declares one function, `identity`, a map at index 0, which copies each input
;; record's payload into its output. Everything else of the output record (key,
;; timestamp, headers) is inherited from the input record, so the output frame
;; repeats the input records with the PAYLOAD flag set.
;;
;; Assemble with:   wat2wasm identity.wat -o identity_wat.wasm
;;
;; All integers in frames are little endian, which is also WebAssembly's byte
;; order: i32.load and i32.store read and write frame fields directly.

(module
  ;; ---------------------------------------------------------------- imports
  ;; weir.emit(ptr, len) hands the host an output frame. The host copies it
  ;; before returning, so the memory can be reused at once. A module may import
  ;; nothing but WASI preview 1 and `weir` functions; this one needs only emit.
  (import "weir" "emit" (func $emit (param $ptr i32) (param $len i32)))

  ;; ---------------------------------------------------------------- memory
  ;; The host reads and writes the exported memory. One 64 KiB page to start
  ;; with; weir_alloc grows it when the host needs a bigger input buffer.
  ;;
  ;; Layout:
  ;;   [0, 1024)              the description (a data segment)
  ;;   [1024, 1024+$in_cap)   the input buffer the host writes batches into
  ;;   [1024+$in_cap, ...)    the output frame, built during a process call
  (memory (export "memory") 1)

  ;; The description weir_describe points to: JSON, fixed for the life of the
  ;; instance. side_outputs and state are optional and default to [].
  (data (i32.const 0)
    "{\"abi_version\":1,\"sdk\":\"wat\",\"functions\":[{\"name\":\"burn\",\"kind\":\"map\",\"index\":0}]}")
  ;; Its length in bytes: count them once, here.
  (global $describe_len i32 (i32.const 82))
  (global $sink (mut i32) (i32.const 0)) ;; keeps the burn's result alive

  (global $in_base i32 (i32.const 1024)) ;; where the input buffer starts
  (global $in_cap (mut i32) (i32.const 0)) ;; its size; 0 until weir_alloc

  ;; ---------------------------------------------------------------- exports

  ;; The ABI version this module was written for.
  (func (export "weir_abi_version") (result i32)
    (i32.const 1))

  ;; weir_alloc(size): return a pointer to at least `size` bytes for the host to
  ;; write inputs into. The host calls it again only when it needs more, and
  ;; reuses the buffer for every call until then. Here the buffer always starts
  ;; at $in_base and "allocating" means growing memory so that it fits.
  (func (export "weir_alloc") (param $size i32) (result i32)
    (if (i32.lt_s (local.get $size) (i32.const 0))
      (then (return (i32.const 0)))) ;; 0 = out of memory: 2 GiB is too much here
    (if (i32.eqz (call $ensure (i32.add (global.get $in_base) (local.get $size))))
      (then (return (i32.const 0))))
    (global.set $in_cap (local.get $size))
    (global.get $in_base))

  ;; weir_describe(): (pointer << 32) | length of the description.
  (func (export "weir_describe") (result i64)
    (i64.or
      (i64.shl (i64.const 0) (i64.const 32)) ;; the description is at address 0
      (i64.extend_i32_u (global.get $describe_len))))

  ;; weir_call(call_kind, fn, in_ptr, in_len): the one entry point for calls.
  ;; Return codes: 0 ok, 2 unknown function index, 3 call kind not supported by
  ;; the function, 4 malformed input.
  (func (export "weir_call")
        (param $kind i32) (param $fn i32) (param $in_ptr i32) (param $in_len i32)
        (result i32)
    ;; Only function 0 exists.
    (if (local.get $fn) (then (return (i32.const 2))))
    ;; 1 = open (input: the step's config, ignored here), 6 = close: nothing to do.
    (if (i32.or (i32.eq (local.get $kind) (i32.const 1))
                (i32.eq (local.get $kind) (i32.const 6)))
      (then (return (i32.const 0))))
    ;; 2 = process a batch; a map supports nothing else.
    (if (i32.ne (local.get $kind) (i32.const 2)) (then (return (i32.const 3))))
    (call $process (local.get $in_ptr) (local.get $in_len)))

  ;; ---------------------------------------------------------------- helpers

  ;; $ensure(end): grow memory so that addresses below `end` exist. Returns 0
  ;; when memory cannot grow (the host's memory limit), else 1.
  (func $ensure (param $end i32) (result i32)
    (local $have i32)
    (local.set $have (i32.shl (memory.size) (i32.const 16))) ;; pages * 64 KiB
    (if (i32.le_u (local.get $end) (local.get $have)) (then (return (i32.const 1))))
    ;; memory.grow takes a number of pages and returns -1 on failure.
    (i32.ne (i32.const -1)
      (memory.grow (i32.shr_u (i32.add (i32.sub (local.get $end) (local.get $have))
                                       (i32.const 65535))
                              (i32.const 16)))))

  ;; $process(in, len): map one batch frame to one output frame.
  ;;
  ;; Batch frame:  u32 count, then count records.
  ;; Record:       u8 flags (0x01 KEY, 0x02 TIMESTAMP, 0x04 PAYLOAD, 0x08 HEADERS;
  ;;               0xF0 reserved), then only the fields whose flag is set, in
  ;;               that order: KEY = u32 len + bytes; TIMESTAMP = i64;
  ;;               PAYLOAD = u32 len + bytes; HEADERS = u32 n + n times
  ;;               (u32 len + name, u32 len + value).
  ;; Output frame: u32 count, then count times
  ;;               (u32 input_index, u32 tag, record).
  (func $process (param $in i32) (param $len i32) (result i32)
    (local $end i32)      ;; one past the last input byte
    (local $p i32)        ;; read position in the input
    (local $count i32)    ;; records in the batch
    (local $i i32)        ;; index of the current record
    (local $flags i32)
    (local $pay i32)      ;; payload address and length of the current record
    (local $pay_len i32)
    (local $n i32)
    (local $out_base i32) ;; where the output frame starts
    (local $out i32)      ;; write position in the output frame
    (local $r i32)        ;; burn: rounds left
    (local $k i32)        ;; burn: byte index
    (local $h i32)        ;; burn: the hash

    (local.set $end (i32.add (local.get $in) (local.get $len)))
    (if (i32.lt_u (local.get $len) (i32.const 4)) (then (return (i32.const 4))))
    (local.set $count (i32.load (local.get $in)))
    (local.set $p (i32.add (local.get $in) (i32.const 4)))

    ;; Every record takes at least its flags byte: a larger count is a lie.
    (if (i32.gt_u (local.get $count) (i32.sub (local.get $len) (i32.const 4)))
      (then (return (i32.const 4))))
    ;; The output frame goes right after the input buffer; its count is written
    ;; last, when it is known.
    (local.set $out_base (i32.add (global.get $in_base) (global.get $in_cap)))
    (local.set $out (i32.add (local.get $out_base) (i32.const 4)))

    (block $done
      (loop $record
        (br_if $done (i32.eq (local.get $i) (local.get $count)))
        ;; flags
        (if (i32.ge_u (local.get $p) (local.get $end)) (then (return (i32.const 4))))
        (local.set $flags (i32.load8_u (local.get $p)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (if (i32.and (local.get $flags) (i32.const 0xF0)) (then (return (i32.const 4))))
        ;; KEY: skip it (the output inherits it).
        (if (i32.and (local.get $flags) (i32.const 0x01))
          (then (local.set $p (call $skip_bytes (local.get $p) (local.get $end)))))
        ;; TIMESTAMP: skip its 8 bytes.
        (if (i32.and (local.get $flags) (i32.const 0x02))
          (then (local.set $p (call $skip_n (local.get $p) (i32.const 8) (local.get $end)))))
        ;; PAYLOAD: remember where it is. (The host always sets it in a batch;
        ;; without it the payload is empty.)
        (local.set $pay_len (i32.const 0))
        (if (i32.and (local.get $flags) (i32.const 0x04))
          (then
            (if (i32.eqz (local.get $p)) (then (return (i32.const 4))))
            (local.set $pay (i32.add (local.get $p) (i32.const 4)))
            (local.set $p (call $skip_bytes (local.get $p) (local.get $end)))
            (if (local.get $p)
              (then (local.set $pay_len (i32.sub (local.get $p) (local.get $pay)))))))
        ;; HEADERS: skip n (name, value) pairs.
        (if (i32.and (local.get $flags) (i32.const 0x08))
          (then
            (if (i32.eqz (local.get $p)) (then (return (i32.const 4))))
            (local.set $n (i32.const 0))
            (if (i32.le_u (i32.add (local.get $p) (i32.const 4)) (local.get $end))
              (then (local.set $n (i32.load (local.get $p)))))
            (local.set $p (call $skip_n (local.get $p) (i32.const 4) (local.get $end)))
            (block $hdone
              (loop $header
                (br_if $hdone (i32.eqz (local.get $n)))
                (local.set $p (call $skip_bytes (local.get $p) (local.get $end)))
                (local.set $p (call $skip_bytes (local.get $p) (local.get $end)))
                (local.set $n (i32.sub (local.get $n) (i32.const 1)))
                (br $header)))))
        ;; A 0 position means a field ran past the end of the batch.
        (if (i32.eqz (local.get $p)) (then (return (i32.const 4))))

        ;; Real work, not a sleep: FNV-1a over the payload, 200 times.
        (local.set $h (i32.const 0x811c9dc5))
        (local.set $r (i32.const 200))
        (block $burned
          (loop $round
            (br_if $burned (i32.eqz (local.get $r)))
            (local.set $k (i32.const 0))
            (block $bytes_done
              (loop $bytes
                (br_if $bytes_done (i32.ge_u (local.get $k) (local.get $pay_len)))
                (local.set $h (i32.mul (i32.xor (local.get $h) (i32.load8_u (i32.add (local.get $pay) (local.get $k))))
                                       (i32.const 0x01000193)))
                (local.set $k (i32.add (local.get $k) (i32.const 1)))
                (br $bytes)))
            (local.set $r (i32.sub (local.get $r) (i32.const 1)))
            (br $round)))
        (global.set $sink (i32.xor (global.get $sink) (local.get $h)))

        ;; Make room for this output (13 bytes + the payload); memory.grow never
        ;; moves existing addresses, so the input stays where it is.
        (if (i32.eqz (call $ensure (i32.add (local.get $out)
                                            (i32.add (i32.const 13) (local.get $pay_len)))))
          (then (unreachable))) ;; out of memory: trap, the host fails the task
        ;; Write the output: input_index, tag 0 (main output), flags PAYLOAD,
        ;; then the payload's length and bytes.
        (i32.store (local.get $out) (local.get $i))
        (i32.store offset=4 (local.get $out) (i32.const 0))
        (i32.store8 offset=8 (local.get $out) (i32.const 0x04))
        (i32.store offset=9 (local.get $out) (local.get $pay_len))
        (memory.copy (i32.add (local.get $out) (i32.const 13)) (local.get $pay) (local.get $pay_len))
        (local.set $out (i32.add (local.get $out) (i32.add (i32.const 13) (local.get $pay_len))))

        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $record)))

    ;; Bytes after the last record mean the frame is not what it claims.
    (if (i32.ne (local.get $p) (local.get $end)) (then (return (i32.const 4))))
    ;; One emit for the whole batch (an empty batch has nothing to emit).
    (if (local.get $count)
      (then
        (i32.store (local.get $out_base) (local.get $count))
        (call $emit (local.get $out_base) (i32.sub (local.get $out) (local.get $out_base)))))
    (i32.const 0))

  ;; $skip_n(p, n, end): p + n if that stays within end, else 0. A position of 0
  ;; stands for "malformed" and stays 0, since no input lies at address 0.
  (func $skip_n (param $p i32) (param $n i32) (param $end i32) (result i32)
    (if (i32.eqz (local.get $p)) (then (return (i32.const 0))))
    (if (i32.gt_u (local.get $n) (i32.sub (local.get $end) (local.get $p)))
      (then (return (i32.const 0))))
    (i32.add (local.get $p) (local.get $n)))

  ;; $skip_bytes(p, end): skip a u32 length and that many bytes.
  (func $skip_bytes (param $p i32) (param $end i32) (result i32)
    (local.set $p (call $skip_n (local.get $p) (i32.const 4) (local.get $end)))
    (if (i32.eqz (local.get $p)) (then (return (i32.const 0))))
    (call $skip_n (local.get $p)
                  (i32.load (i32.sub (local.get $p) (i32.const 4)))
                  (local.get $end)))
)
