;; counter.wat — a test module for keyed state (sdk/ABI.md §4.2). It needs no
;; parsing: state imports name records by their index in the batch.
;;
;; Function 0, "count" (process, value state "n"): for each input record, the
;; key's counter plus one, stored back and emitted as an 8-byte little-endian
;; payload.
;; Function 1, "codes" (process, list state "l"): for each input record, the
;; return codes of five state calls, emitted as five little-endian i32s:
;; state_get on a list (INVALID), state_put on a state that does not exist
;; (INVALID), state_append for a record past the batch (INVALID),
;; state_append of one byte (0), and state_iter at cursor 0 into a 64-byte buffer
;; (the length of the encoded first element).
(module
  (import "weir" "emit" (func $emit (param i32 i32)))
  (import "weir" "state_get" (func $get (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "weir" "state_put" (func $put (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "weir" "state_append" (func $append (param i32 i32 i32 i32) (result i32)))
  (import "weir" "state_iter" (func $iter (param i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  ;; [0, 512) description; [512, 576) scratch; [576, 1024) iteration buffer;
  ;; [1024, 1024+in_cap) input; then the output frame.
  (data (i32.const 0) "{\"abi_version\":1,\"sdk\":\"wat\",\"functions\":[{\"name\":\"count\",\"kind\":\"process\",\"index\":0,\"state\":[{\"name\":\"n\",\"kind\":\"value\"}]},{\"name\":\"codes\",\"kind\":\"process\",\"index\":1,\"state\":[{\"name\":\"l\",\"kind\":\"list\"}]}]}")
  (global $describe_len i32 (i32.const 206))
  (global $in_cap (mut i32) (i32.const 0))
  (func (export "weir_abi_version") (result i32) (i32.const 1))
  (func (export "weir_describe") (result i64) (i64.extend_i32_u (global.get $describe_len)))
  (func $ensure (param $end i32)
    (local $pages i32)
    (local.set $pages (i32.shr_u (i32.add (local.get $end) (i32.const 65535)) (i32.const 16)))
    (if (i32.gt_u (local.get $pages) (memory.size))
      (then (if (i32.eq (memory.grow (i32.sub (local.get $pages) (memory.size))) (i32.const -1))
        (then (unreachable))))))
  (func (export "weir_alloc") (param $size i32) (result i32)
    (call $ensure (i32.add (local.get $size) (i32.const 1024)))
    (global.set $in_cap (local.get $size))
    (i32.const 1024))
  (func (export "weir_call") (param $kind i32) (param $fn i32) (param $in i32) (param $len i32) (result i32)
    (if (i32.gt_u (local.get $fn) (i32.const 1)) (then (return (i32.const 2))))
    (if (i32.or (i32.eq (local.get $kind) (i32.const 1)) (i32.eq (local.get $kind) (i32.const 6)))
      (then (return (i32.const 0))))
    (if (i32.ne (local.get $kind) (i32.const 2)) (then (return (i32.const 3))))
    (if (i32.lt_u (local.get $len) (i32.const 4)) (then (return (i32.const 4))))
    (if (local.get $fn)
      (then (return (call $codes (i32.load (local.get $in))))))
    (call $count (i32.load (local.get $in))))

  ;; $count(n): one 21-byte output per record: index, tag 0, flags PAYLOAD, u32 8, i64.
  (func $count (param $n i32) (result i32)
    (local $i i32) (local $out i32) (local $p i32) (local $c i64)
    (if (i32.eqz (local.get $n)) (then (return (i32.const 0))))
    (local.set $out (i32.add (i32.const 1024) (global.get $in_cap)))
    (call $ensure (i32.add (local.get $out) (i32.add (i32.const 4) (i32.mul (local.get $n) (i32.const 21)))))
    (i32.store (local.get $out) (local.get $n))
    (local.set $p (i32.add (local.get $out) (i32.const 4)))
    (loop $each
      (local.set $c (i64.const 0))
      (if (i32.eq (call $get (i32.const 0) (local.get $i) (i32.const 0) (i32.const 0) (i32.const 512) (i32.const 8)) (i32.const 8))
        (then (local.set $c (i64.load (i32.const 512)))))
      (local.set $c (i64.add (local.get $c) (i64.const 1)))
      (i64.store (i32.const 512) (local.get $c))
      (if (call $put (i32.const 0) (local.get $i) (i32.const 0) (i32.const 0) (i32.const 512) (i32.const 8))
        (then (unreachable)))
      (i32.store (local.get $p) (local.get $i))
      (i32.store offset=4 (local.get $p) (i32.const 0))
      (i32.store8 offset=8 (local.get $p) (i32.const 0x04))
      (i32.store offset=9 (local.get $p) (i32.const 8))
      (i64.store offset=13 (local.get $p) (local.get $c))
      (local.set $p (i32.add (local.get $p) (i32.const 21)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $each (i32.lt_u (local.get $i) (local.get $n))))
    (call $emit (local.get $out) (i32.sub (local.get $p) (local.get $out)))
    (i32.const 0))

  ;; $codes(n): one 33-byte output per record: index, tag 0, flags PAYLOAD, u32 20, 5 x i32.
  (func $codes (param $n i32) (result i32)
    (local $i i32) (local $out i32) (local $p i32)
    (if (i32.eqz (local.get $n)) (then (return (i32.const 0))))
    (local.set $out (i32.add (i32.const 1024) (global.get $in_cap)))
    (call $ensure (i32.add (local.get $out) (i32.add (i32.const 4) (i32.mul (local.get $n) (i32.const 33)))))
    (i32.store (local.get $out) (local.get $n))
    (local.set $p (i32.add (local.get $out) (i32.const 4)))
    (i32.store8 (i32.const 512) (i32.const 120)) ;; "x", the element appended
    (loop $each
      (i32.store (local.get $p) (local.get $i))
      (i32.store offset=4 (local.get $p) (i32.const 0))
      (i32.store8 offset=8 (local.get $p) (i32.const 0x04))
      (i32.store offset=9 (local.get $p) (i32.const 20))
      (i32.store offset=13 (local.get $p)
        (call $get (i32.const 0) (local.get $i) (i32.const 0) (i32.const 0) (i32.const 576) (i32.const 64)))
      (i32.store offset=17 (local.get $p)
        (call $put (i32.const 5) (local.get $i) (i32.const 0) (i32.const 0) (i32.const 512) (i32.const 1)))
      (i32.store offset=21 (local.get $p)
        (call $append (i32.const 0) (i32.add (local.get $n) (i32.const 7)) (i32.const 512) (i32.const 1)))
      (i32.store offset=25 (local.get $p)
        (call $append (i32.const 0) (local.get $i) (i32.const 512) (i32.const 1)))
      (i32.store offset=29 (local.get $p)
        (call $iter (i32.const 0) (local.get $i) (i32.const 0) (i32.const 576) (i32.const 64)))
      (local.set $p (i32.add (local.get $p) (i32.const 33)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $each (i32.lt_u (local.get $i) (local.get $n))))
    (call $emit (local.get $out) (i32.sub (local.get $p) (local.get $out)))
    (i32.const 0))
)
