;; keyless.wat — a faulty UDF module for tests. Its key_selector `keyless`
;; emits nothing, where a key selector must emit one key per input record.
;; Otherwise complete per sdk/ABI.md, v1.
(module
  (memory (export "memory") 1)
  (func (export "weir_abi_version") (result i32) (i32.const 1))
  ;; The input buffer starts at 1024; weir_alloc grows memory to fit it.
  (func (export "weir_alloc") (param $size i32) (result i32)
    (local $pages i32)
    (local.set $pages (i32.shr_u (i32.add (i32.add (local.get $size) (i32.const 1024)) (i32.const 65535)) (i32.const 16)))
    (if (i32.gt_u (local.get $pages) (memory.size))
      (then (if (i32.eq (memory.grow (i32.sub (local.get $pages) (memory.size))) (i32.const -1))
        (then (return (i32.const 0))))))
    (i32.const 1024))
  (data (i32.const 0) "{\"abi_version\":1,\"sdk\":\"wat\",\"functions\":[{\"name\":\"keyless\",\"kind\":\"key_selector\",\"index\":0}]}")
  (func (export "weir_describe") (result i64)
    (i64.const 94))  ;; (0 << 32) | 94: the description at address 0, 94 bytes
  ;; weir_call: function 0 only; open, process and close succeed without output.
  (func (export "weir_call") (param $kind i32) (param $fn i32) (param $in i32) (param $len i32) (result i32)
    (if (local.get $fn) (then (return (i32.const 2))))
    (if (i32.or (i32.or (i32.eq (local.get $kind) (i32.const 1)) (i32.eq (local.get $kind) (i32.const 6)))
                (i32.eq (local.get $kind) (i32.const 2)))
      (then (return (i32.const 0))))
    (i32.const 3))
)
