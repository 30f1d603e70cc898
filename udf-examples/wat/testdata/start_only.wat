;; start_only.wat — a faulty UDF module for tests. It exports _start and no _initialize: a command, not a reactor.
;; Otherwise complete per sdk/ABI.md, v1.
(module
  (import "weir" "emit" (func $emit (param i32 i32)))
  (memory (export "memory") 1)
  (func (export "weir_abi_version") (result i32) (i32.const 1))
  ;; The input buffer starts at 1024; weir_alloc grows memory to fit it.
  (global $in_cap (mut i32) (i32.const 0))
  (func (export "weir_alloc") (param $size i32) (result i32)
    (local $pages i32)
    (local.set $pages (i32.shr_u (i32.add (i32.add (local.get $size) (i32.const 1024)) (i32.const 65535)) (i32.const 16)))
    (if (i32.gt_u (local.get $pages) (memory.size))
      (then (if (i32.eq (memory.grow (i32.sub (local.get $pages) (memory.size))) (i32.const -1))
        (then (return (i32.const 0))))))
    (global.set $in_cap (local.get $size))
    (i32.const 1024))
  (data (i32.const 0) "{\"abi_version\":1,\"sdk\":\"wat\",\"functions\":[{\"name\":\"passthrough\",\"kind\":\"map\",\"index\":0}]}")
  (func (export "weir_describe") (result i64)
    (i64.const 89))  ;; (0 << 32) | 89: the description at address 0, 89 bytes
  ;; weir_call: function 0 only; open (1) and close (6) do nothing; process (2)
  ;; runs the function; other call kinds are not supported (3).
  (func (export "weir_call") (param $kind i32) (param $fn i32) (param $in i32) (param $len i32) (result i32)
    (if (local.get $fn) (then (return (i32.const 2))))
    (if (i32.or (i32.eq (local.get $kind) (i32.const 1)) (i32.eq (local.get $kind) (i32.const 6)))
      (then (return (i32.const 0))))
    (if (i32.ne (local.get $kind) (i32.const 2)) (then (return (i32.const 3))))
    (call $passthrough (local.get $in) (local.get $len)))
  ;; $passthrough(in, len): a map output with flags 0 (the input record itself)
  ;; for each record of the batch. It needs only the record count.
  (func $passthrough (param $in i32) (param $len i32) (result i32)
    (local $count i32) (local $out i32) (local $p i32) (local $i i32)
    (if (i32.lt_u (local.get $len) (i32.const 4)) (then (return (i32.const 4))))
    (local.set $count (i32.load (local.get $in)))
    (if (i32.gt_u (local.get $count) (local.get $len)) (then (return (i32.const 4))))
    (if (i32.eqz (local.get $count)) (then (return (i32.const 0))))
    (local.set $out (i32.add (i32.const 1024) (global.get $in_cap)))
    ;; Grow memory, if needed, to hold 4 + 9 * count bytes at $out.
    (local.set $p (i32.shr_u (i32.add (i32.add (local.get $out) (i32.add (i32.const 4) (i32.mul (local.get $count) (i32.const 9))))
                                      (i32.const 65535))
                             (i32.const 16)))
    (if (i32.gt_u (local.get $p) (memory.size))
      (then (if (i32.eq (memory.grow (i32.sub (local.get $p) (memory.size))) (i32.const -1))
        (then (unreachable)))))
    (i32.store (local.get $out) (local.get $count))
    (local.set $p (i32.add (local.get $out) (i32.const 4)))
    (loop $each
      (i32.store (local.get $p) (local.get $i))             ;; input_index
      (i32.store offset=4 (local.get $p) (i32.const 0))     ;; tag: main output
      (i32.store8 offset=8 (local.get $p) (i32.const 0))    ;; flags: inherit all
      (local.set $p (i32.add (local.get $p) (i32.const 9)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $each (i32.lt_u (local.get $i) (local.get $count))))
    (call $emit (local.get $out) (i32.sub (local.get $p) (local.get $out)))
    (i32.const 0))
  ;; A command's entry point; reactors export _initialize (or nothing) instead.
  (func (export "_start"))
)
