;; A module without imports or globals of its own, with a start function, a
;; table, an element segment, ref.func, a loop and an export of each kind: the
;; shapes meter must renumber. Assembled into shapes.wasm with
;; `wat2wasm --debug-names shapes.wat` (committed, so the test needs no wabt).
(module
  (type $t (func (param i32) (result i32)))
  (table 2 funcref)
  (elem (i32.const 0) $double $sum)
  (memory (export "memory") 1)
  (func $double (type $t) (i32.mul (local.get 0) (i32.const 2)))
  ;; sum(n) = 0 + 1 + ... + n-1, with a loop.
  (func $sum (type $t) (local $i i32) (local $acc i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get 0)))
        (local.set $acc (i32.add (local.get $acc) (local.get $i)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $acc))
  (func $started (i32.store (i32.const 0) (i32.const 42)))
  (start $started)
  ;; via_table(k, x) calls table entry k with x: 0 doubles, 1 sums.
  (func (export "via_table") (param i32 i32) (result i32)
    (call_indirect (type $t) (local.get 1) (local.get 0)))
  (func (export "sum") (param i32) (result i32) (call $sum (local.get 0)))
  (func (export "is_double") (result i32)
    (ref.is_null (ref.func $double)))
  (elem declare func $double)
)
