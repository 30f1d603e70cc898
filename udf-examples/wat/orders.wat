;; orders.wat — Weir's example order functions, written by hand in WebAssembly
;; text, against the ABI alone (sdk/ABI.md, version 1). It is the twin of the Go
;; module udf-examples/go/orders: for the functions below, the same batch gives
;; byte for byte the same output frame (udf-examples/README.md defines them).
;;
;;   index 0  enrich    map       scale the integer member "amount" by 100 in place
;;   index 2  positive  filter    keep records whose "amount" is a number > 0
;;   index 3  identity  map       copy the payload
;;   index 4  split     flat_map  one output per string of the array "words"
;;   index 5  fail      map       copy the payload; fail the call (weir.error, return
;;                                code 1) when "amount" is a number below zero
;;
;; The indexes are those of the Go module's functions of the same name; index 1
;; (enrich_stdjson there) does not exist here. enrich uses its default
;; configuration only: the `open` call's config is checked to be a JSON object
;; and otherwise ignored.
;;
;; Assemble with:   wat2wasm orders.wat -o orders_wat.wasm
;;
;; Conventions of this file: all frame integers are little endian, as are
;; WebAssembly's loads and stores. Input addresses are never 0 (the input
;; buffer starts at 1024), so a function returning a position returns 0 for
;; "malformed"; every caller checks for it.

(module
  ;; ======================================================================
  ;; Imports. weir.emit(ptr, len) hands the host one output frame; the host
  ;; copies it before returning. weir.error(ptr, len) sets the message of a call
  ;; that then returns 1. Nothing else is needed: no WASI at all.
  (import "weir" "emit" (func $emit (param i32 i32)))
  (import "weir" "error" (func $error (param i32 i32)))

  ;; ======================================================================
  ;; Memory, exported as "memory" for the host to read and write.
  ;;
  ;;   [0, 32)             scratch: decimal digits are formatted here
  ;;   [32, 64)            constant strings (member names, JSON literals)
  ;;   [256, 474)          the description
  ;;   [1024, +$in_cap)    the input buffer, returned by weir_alloc
  ;;   after it            the output frame of the current process call
  (memory (export "memory") 1)

  (data (i32.const 32) "amount")  ;; 32, 6 bytes
  (data (i32.const 40) "words")   ;; 40, 5 bytes
  (data (i32.const 48) "true")    ;; 48, 4 bytes
  (data (i32.const 52) "false")   ;; 52, 5 bytes
  (data (i32.const 57) "null")    ;; 57, 4 bytes
  (data (i32.const 64) "amount must not be negative") ;; 64, 27 bytes

  ;; The description (ABI §2): fixed JSON naming each function, its kind and the
  ;; `fn` index weir_call receives for it.
  (data (i32.const 256)
    "{\"abi_version\":1,\"sdk\":\"wat\",\"functions\":["
    "{\"name\":\"enrich\",\"kind\":\"map\",\"index\":0},"
    "{\"name\":\"positive\",\"kind\":\"filter\",\"index\":2},"
    "{\"name\":\"identity\",\"kind\":\"map\",\"index\":3},"
    "{\"name\":\"split\",\"kind\":\"flat_map\",\"index\":4},"
    "{\"name\":\"fail\",\"kind\":\"map\",\"index\":5}]}")
  (global $describe_ptr i32 (i32.const 256))
  (global $describe_len i32 (i32.const 257))

  (global $in_base i32 (i32.const 1024))   ;; the input buffer's address
  (global $in_cap (mut i32) (i32.const 0)) ;; and size (0: not allocated yet)

  ;; The output frame under construction.
  (global $out (mut i32) (i32.const 0))       ;; write position
  (global $out_count (mut i32) (i32.const 0)) ;; outputs written so far

  ;; The current input record's payload, set by $read_record.
  (global $pay (mut i32) (i32.const 0))
  (global $pay_end (mut i32) (i32.const 0))

  ;; The deepest nesting of JSON objects and arrays accepted, the top-level
  ;; object included (the Go SDK's weir.MaxJSONDepth).
  (global $max_depth i32 (i32.const 1000))

  ;; ======================================================================
  ;; The four exports of ABI §1.

  (func (export "weir_abi_version") (result i32)
    (i32.const 1))

  ;; weir_alloc(size): a buffer of at least `size` bytes that stays valid until
  ;; the next weir_alloc. It always starts at $in_base; allocating only grows
  ;; the memory to fit. Returns 0 (out of memory) when memory cannot grow.
  (func (export "weir_alloc") (param $size i32) (result i32)
    (if (i32.lt_s (local.get $size) (i32.const 0)) (then (return (i32.const 0))))
    (if (i32.eqz (call $ensure (i32.add (global.get $in_base) (local.get $size))))
      (then (return (i32.const 0))))
    (global.set $in_cap (local.get $size))
    (global.get $in_base))

  ;; weir_describe(): (ptr << 32) | len of the description.
  (func (export "weir_describe") (result i64)
    (i64.or (i64.shl (i64.extend_i32_u (global.get $describe_ptr)) (i64.const 32))
            (i64.extend_i32_u (global.get $describe_len))))

  ;; weir_call(call_kind, fn, in_ptr, in_len). Return codes: 0 ok, 2 unknown
  ;; function, 3 call kind not supported, 4 malformed input. Call kinds: 1 open,
  ;; 2 process, 3 process2, 4 timer, 5 window, 6 close.
  (func (export "weir_call")
        (param $kind i32) (param $fn i32) (param $in i32) (param $len i32) (result i32)
    ;; The input must lie inside the buffer weir_alloc returned.
    (if (local.get $len)
      (then
        (if (i32.or (i32.lt_u (local.get $in) (global.get $in_base))
                    (i32.gt_u (i32.add (local.get $in) (local.get $len))
                              (i32.add (global.get $in_base) (global.get $in_cap))))
          (then (return (i32.const 4))))))
    ;; Known functions: 0, 2, 3, 4, 5.
    (if (i32.or (i32.or (i32.eq (local.get $fn) (i32.const 1))
                        (i32.lt_s (local.get $fn) (i32.const 0)))
                (i32.gt_s (local.get $fn) (i32.const 5)))
      (then (return (i32.const 2))))
    ;; open: the config must be one JSON object; this module needs nothing from it.
    (if (i32.eq (local.get $kind) (i32.const 1))
      (then (return (call $check_config (local.get $in) (local.get $len)))))
    ;; close: no input, nothing to release.
    (if (i32.eq (local.get $kind) (i32.const 6))
      (then (return (select (i32.const 4) (i32.const 0) (local.get $len)))))
    ;; Every other kind but process belongs to function kinds not offered here.
    (if (i32.ne (local.get $kind) (i32.const 2)) (then (return (i32.const 3))))
    (call $process (local.get $fn) (local.get $in) (local.get $len)))

  ;; ======================================================================
  ;; Frames (ABI §5).

  ;; $process(fn, in, len): run function fn over the batch frame at in, then
  ;; emit all outputs in one frame.
  ;;   batch frame:  u32 count, count records
  ;;   output frame: u32 count, count times (u32 input_index, u32 tag, record)
  (func $process (param $fn i32) (param $in i32) (param $len i32) (result i32)
    (local $end i32) (local $p i32) (local $count i32) (local $i i32) (local $out_base i32)
    (if (i32.lt_u (local.get $len) (i32.const 4)) (then (return (i32.const 4))))
    (local.set $end (i32.add (local.get $in) (local.get $len)))
    (local.set $count (i32.load (local.get $in)))
    ;; Every record takes at least its flags byte.
    (if (i32.gt_u (local.get $count) (i32.sub (local.get $len) (i32.const 4)))
      (then (return (i32.const 4))))
    (local.set $p (i32.add (local.get $in) (i32.const 4)))

    ;; The output frame starts after the input buffer; its count goes in last.
    (local.set $out_base (i32.add (global.get $in_base) (global.get $in_cap)))
    (global.set $out (i32.add (local.get $out_base) (i32.const 4)))
    (global.set $out_count (i32.const 0))

    (block $done
      (loop $each
        (br_if $done (i32.eq (local.get $i) (local.get $count)))
        (local.set $p (call $read_record (local.get $p) (local.get $end)))
        (if (i32.eqz (local.get $p)) (then (return (i32.const 4))))
        (block $run
          (if (i32.eqz (local.get $fn)) (then (call $enrich (local.get $i)) (br $run)))
          (if (i32.eq (local.get $fn) (i32.const 2)) (then (call $positive (local.get $i)) (br $run)))
          (if (i32.eq (local.get $fn) (i32.const 3)) (then (call $identity (local.get $i)) (br $run)))
          (if (i32.eq (local.get $fn) (i32.const 5))
            (then
              ;; fail reports its error itself; nothing is emitted then.
              (if (call $fail (local.get $i)) (then (return (i32.const 1))))
              (br $run)))
          (call $split (local.get $i)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $each)))
    ;; Bytes left after the last record: the frame is not what it claims.
    (if (i32.ne (local.get $p) (local.get $end)) (then (return (i32.const 4))))

    (if (global.get $out_count)
      (then
        (i32.store (local.get $out_base) (global.get $out_count))
        (call $emit (local.get $out_base) (i32.sub (global.get $out) (local.get $out_base)))))
    (i32.const 0))

  ;; $read_record(p, end): decode the record at p, setting $pay and $pay_end;
  ;; returns the position after it, or 0 if it is malformed.
  ;;   u8 flags: 0x01 KEY, 0x02 TIMESTAMP, 0x04 PAYLOAD, 0x08 HEADERS, 0xF0 must be 0
  ;;   KEY u32 len + bytes | TIMESTAMP i64 | PAYLOAD u32 len + bytes |
  ;;   HEADERS u32 n + n times (u32 len + name, u32 len + value)
  (func $read_record (param $p i32) (param $end i32) (result i32)
    (local $flags i32) (local $n i32)
    (if (i32.ge_u (local.get $p) (local.get $end)) (then (return (i32.const 0))))
    (local.set $flags (i32.load8_u (local.get $p)))
    (local.set $p (i32.add (local.get $p) (i32.const 1)))
    (if (i32.and (local.get $flags) (i32.const 0xF0)) (then (return (i32.const 0))))
    (if (i32.and (local.get $flags) (i32.const 0x01))
      (then (local.set $p (call $skip_bytes (local.get $p) (local.get $end)))))
    (if (i32.and (local.get $flags) (i32.const 0x02))
      (then (local.set $p (call $skip_n (local.get $p) (i32.const 8) (local.get $end)))))
    ;; Without PAYLOAD (the host always sets it) the payload is empty.
    (global.set $pay (local.get $p))
    (global.set $pay_end (local.get $p))
    (if (i32.and (local.get $flags) (i32.const 0x04))
      (then
        (local.set $p (call $skip_bytes (local.get $p) (local.get $end)))
        (global.set $pay (i32.add (global.get $pay) (i32.const 4)))
        (global.set $pay_end (local.get $p))))
    (if (i32.and (local.get $flags) (i32.const 0x08))
      (then
        (if (i32.eqz (local.get $p)) (then (return (i32.const 0))))
        (local.set $p (call $skip_n (local.get $p) (i32.const 4) (local.get $end)))
        (if (i32.eqz (local.get $p)) (then (return (i32.const 0))))
        (local.set $n (i32.load (i32.sub (local.get $p) (i32.const 4))))
        (block $done
          (loop $header
            (br_if $done (i32.eqz (local.get $n)))
            (local.set $p (call $skip_bytes (local.get $p) (local.get $end))) ;; name
            (local.set $p (call $skip_bytes (local.get $p) (local.get $end))) ;; value
            (br_if $done (i32.eqz (local.get $p)))
            (local.set $n (i32.sub (local.get $n) (i32.const 1)))
            (br $header)))))
    (local.get $p))

  ;; $skip_n(p, n, end): p + n if that does not pass end; 0 stays 0.
  (func $skip_n (param $p i32) (param $n i32) (param $end i32) (result i32)
    (if (i32.eqz (local.get $p)) (then (return (i32.const 0))))
    (if (i32.gt_u (local.get $n) (i32.sub (local.get $end) (local.get $p)))
      (then (return (i32.const 0))))
    (i32.add (local.get $p) (local.get $n)))

  ;; $skip_bytes(p, end): skip a u32 length and that many bytes.
  (func $skip_bytes (param $p i32) (param $end i32) (result i32)
    (local.set $p (call $skip_n (local.get $p) (i32.const 4) (local.get $end)))
    (if (i32.eqz (local.get $p)) (then (return (i32.const 0))))
    (call $skip_n (local.get $p) (i32.load (i32.sub (local.get $p) (i32.const 4))) (local.get $end)))

  ;; $begin_output(index, flags, payload_len): make room for one output with
  ;; that much payload and write its header: input_index, tag 0 (the main
  ;; output), flags and, with PAYLOAD, the payload's length. Returns where the
  ;; payload goes. Fields whose flag is not set are inherited from input record
  ;; `index`: flags 0 passes the input record on unchanged.
  (func $begin_output (param $index i32) (param $flags i32) (param $len i32) (result i32)
    (if (i32.eqz (call $ensure (i32.add (global.get $out) (i32.add (i32.const 13) (local.get $len)))))
      (then (unreachable))) ;; no memory left: trap, which fails the task
    (i32.store (global.get $out) (local.get $index))
    (i32.store offset=4 (global.get $out) (i32.const 0))
    (i32.store8 offset=8 (global.get $out) (local.get $flags))
    (global.set $out (i32.add (global.get $out) (i32.const 9)))
    (if (i32.and (local.get $flags) (i32.const 0x04))
      (then
        (i32.store (global.get $out) (local.get $len))
        (global.set $out (i32.add (global.get $out) (i32.const 4)))))
    (global.set $out_count (i32.add (global.get $out_count) (i32.const 1)))
    (global.get $out))

  ;; $output_payload(index, ptr, len): an output with a copy of [ptr, ptr+len)
  ;; as its payload, everything else inherited.
  (func $output_payload (param $index i32) (param $ptr i32) (param $len i32)
    (local $dst i32)
    (local.set $dst (call $begin_output (local.get $index) (i32.const 0x04) (local.get $len)))
    (memory.copy (local.get $dst) (local.get $ptr) (local.get $len))
    (global.set $out (i32.add (local.get $dst) (local.get $len))))

  ;; $ensure(end): grow memory so that every address below end exists; 0 if it
  ;; cannot (the host's memory limit).
  (func $ensure (param $end i32) (result i32)
    (local $have i32)
    (local.set $have (i32.shl (memory.size) (i32.const 16)))
    (if (i32.le_u (local.get $end) (local.get $have)) (then (return (i32.const 1))))
    (i32.ne (i32.const -1)
      (memory.grow (i32.shr_u (i32.add (i32.sub (local.get $end) (local.get $have)) (i32.const 65535))
                              (i32.const 16)))))

  ;; ======================================================================
  ;; The functions. Each handles input record `index`, whose payload is
  ;; [$pay, $pay_end), and writes its outputs.

  ;; enrich (map): if the top-level member "amount" is an integer (no fraction,
  ;; no exponent) that fits an i64 and whose product by 100 fits too, replace
  ;; its text by the product in decimal; otherwise pass the record unchanged.
  (func $enrich (param $index i32)
    (local $vs i32) (local $ve i32) (local $v i64) (local $ok i32)
    (local $digits i32) (local $ndigits i32) (local $prefix i32) (local $suffix i32) (local $dst i32)
    (call $find (global.get $pay) (global.get $pay_end) (i32.const 32) (i32.const 6)) ;; "amount"
    (local.set $ve)
    (local.set $vs)
    (block $unchanged
      (br_if $unchanged (i32.eqz (local.get $vs)))
      (br_if $unchanged (i32.eqz (call $is_number_start (i32.load8_u (local.get $vs)))))
      (call $parse_int (local.get $vs) (local.get $ve))
      (local.set $ok)
      (local.set $v)
      (br_if $unchanged (i32.eqz (local.get $ok)))
      ;; v * 100 fits an i64 exactly when |v| <= 92233720368547758.
      (br_if $unchanged (i64.gt_s (local.get $v) (i64.const 92233720368547758)))
      (br_if $unchanged (i64.lt_s (local.get $v) (i64.const -92233720368547758)))
      (call $format_i64 (i64.mul (local.get $v) (i64.const 100)))
      (local.set $ndigits)
      (local.set $digits)
      ;; New payload: the bytes before the number, the product, the bytes after.
      (local.set $prefix (i32.sub (local.get $vs) (global.get $pay)))
      (local.set $suffix (i32.sub (global.get $pay_end) (local.get $ve)))
      (local.set $dst (call $begin_output (local.get $index) (i32.const 0x04)
        (i32.add (local.get $prefix) (i32.add (local.get $ndigits) (local.get $suffix)))))
      (memory.copy (local.get $dst) (global.get $pay) (local.get $prefix))
      (local.set $dst (i32.add (local.get $dst) (local.get $prefix)))
      (memory.copy (local.get $dst) (local.get $digits) (local.get $ndigits))
      (local.set $dst (i32.add (local.get $dst) (local.get $ndigits)))
      (memory.copy (local.get $dst) (local.get $ve) (local.get $suffix))
      (global.set $out (i32.add (local.get $dst) (local.get $suffix)))
      (return))
    (drop (call $begin_output (local.get $index) (i32.const 0) (i32.const 0))))

  ;; positive (filter): keep the record (an output with flags 0) if "amount" is
  ;; a number greater than zero, judged exactly on its text.
  (func $positive (param $index i32)
    (local $vs i32) (local $ve i32)
    (call $find (global.get $pay) (global.get $pay_end) (i32.const 32) (i32.const 6)) ;; "amount"
    (local.set $ve)
    (local.set $vs)
    (if (i32.eqz (local.get $vs)) (then (return)))
    (if (i32.eqz (call $is_number_start (i32.load8_u (local.get $vs)))) (then (return)))
    (if (i32.eq (call $sign (local.get $vs) (local.get $ve)) (i32.const 1))
      (then (drop (call $begin_output (local.get $index) (i32.const 0) (i32.const 0))))))

  ;; identity (map): copy the payload.
  (func $identity (param $index i32)
    (call $output_payload (local.get $index) (global.get $pay)
                          (i32.sub (global.get $pay_end) (global.get $pay))))

  ;; fail (map): like identity, but if "amount" is a number below zero (decided
  ;; on its text, as positive does: -0 is not), set the call's error and return 1.
  (func $fail (param $index i32) (result i32)
    (local $vs i32) (local $ve i32)
    (call $find (global.get $pay) (global.get $pay_end) (i32.const 32) (i32.const 6)) ;; "amount"
    (local.set $ve)
    (local.set $vs)
    (block $copy
      (br_if $copy (i32.eqz (local.get $vs)))
      (br_if $copy (i32.eqz (call $is_number_start (i32.load8_u (local.get $vs)))))
      (br_if $copy (i32.ne (call $sign (local.get $vs) (local.get $ve)) (i32.const -1)))
      (call $error (i32.const 64) (i32.const 27))
      (return (i32.const 1)))
    (call $identity (local.get $index))
    (i32.const 0))

  ;; split (flat_map): for each string in the array member "words", an output
  ;; whose payload is the string's JSON text, quotes and escapes included.
  (func $split (param $index i32)
    (local $p i32) (local $ae i32) (local $e i32)
    (call $find (global.get $pay) (global.get $pay_end) (i32.const 40) (i32.const 5)) ;; "words"
    (local.set $ae)
    (local.set $p)
    (if (i32.eqz (local.get $p)) (then (return)))
    (if (i32.ne (i32.load8_u (local.get $p)) (i32.const 0x5B)) (then (return))) ;; '['
    ;; $find checked the whole array, so this walk needs no error handling.
    (local.set $p (call $ws (i32.add (local.get $p) (i32.const 1)) (local.get $ae)))
    (if (i32.eq (i32.load8_u (local.get $p)) (i32.const 0x5D)) (then (return))) ;; ']'
    (loop $elem
      (local.set $e (call $skip_value (local.get $p) (local.get $ae) (i32.const 2)))
      (if (i32.eq (i32.load8_u (local.get $p)) (i32.const 0x22)) ;; '"'
        (then (call $output_payload (local.get $index) (local.get $p)
                                    (i32.sub (local.get $e) (local.get $p)))))
      (local.set $p (call $ws (local.get $e) (local.get $ae)))
      (if (i32.eq (i32.load8_u (local.get $p)) (i32.const 0x2C)) ;; ','
        (then
          (local.set $p (call $ws (i32.add (local.get $p) (i32.const 1)) (local.get $ae)))
          (br $elem)))))

  ;; $check_config(in, len): 0 if [in, in+len) is one JSON object (whitespace
  ;; around it allowed), else 4.
  (func $check_config (param $in i32) (param $len i32) (result i32)
    (local $end i32) (local $p i32)
    (local.set $end (i32.add (local.get $in) (local.get $len)))
    (local.set $p (call $ws (local.get $in) (local.get $end)))
    (if (i32.ge_u (local.get $p) (local.get $end)) (then (return (i32.const 4))))
    (if (i32.ne (i32.load8_u (local.get $p)) (i32.const 0x7B)) (then (return (i32.const 4)))) ;; '{'
    (local.set $p (call $skip_value (local.get $p) (local.get $end) (i32.const 1)))
    (if (i32.eqz (local.get $p)) (then (return (i32.const 4))))
    (select (i32.const 0) (i32.const 4)
      (i32.eq (call $ws (local.get $p) (local.get $end)) (local.get $end))))

  ;; ======================================================================
  ;; A JSON scanner (RFC 8259), the same algorithm as the Go SDK's weir.JSONSpan.

  ;; $find(p, end, name, name_len): the value of the first top-level member of
  ;; the object in [p, end) whose name, unescaped, equals the ASCII string at
  ;; name. Returns its start and end, or (0, 0) when the payload is not an
  ;; object, has no such member, or is malformed up to and including the member
  ;; and the "," or "}" after it. What follows is not looked at.
  (func $find (param $p i32) (param $end i32) (param $name i32) (param $name_len i32)
              (result i32 i32)
    (local $ks i32) (local $match i32) (local $vs i32) (local $ve i32) (local $c i32)
    (local.set $p (call $ws (local.get $p) (local.get $end)))
    (if (i32.ge_u (local.get $p) (local.get $end)) (then (return (i32.const 0) (i32.const 0))))
    (if (i32.ne (i32.load8_u (local.get $p)) (i32.const 0x7B)) ;; '{'
      (then (return (i32.const 0) (i32.const 0))))
    (local.set $p (call $ws (i32.add (local.get $p) (i32.const 1)) (local.get $end)))
    (loop $member
      ;; The name: a string.
      (if (i32.ge_u (local.get $p) (local.get $end)) (then (return (i32.const 0) (i32.const 0))))
      (if (i32.ne (i32.load8_u (local.get $p)) (i32.const 0x22)) ;; '"' (also rejects "{}")
        (then (return (i32.const 0) (i32.const 0))))
      (local.set $ks (local.get $p))
      (local.set $p (call $skip_string (local.get $p) (local.get $end)))
      (if (i32.eqz (local.get $p)) (then (return (i32.const 0) (i32.const 0))))
      (local.set $match (call $name_equals
        (i32.add (local.get $ks) (i32.const 1)) (i32.sub (local.get $p) (i32.const 1))
        (local.get $name) (local.get $name_len)))
      ;; ':' and the value, which may be any JSON value (checked, skipped).
      (local.set $p (call $ws (local.get $p) (local.get $end)))
      (if (i32.ge_u (local.get $p) (local.get $end)) (then (return (i32.const 0) (i32.const 0))))
      (if (i32.ne (i32.load8_u (local.get $p)) (i32.const 0x3A)) ;; ':'
        (then (return (i32.const 0) (i32.const 0))))
      (local.set $vs (call $ws (i32.add (local.get $p) (i32.const 1)) (local.get $end)))
      (local.set $ve (call $skip_value (local.get $vs) (local.get $end) (i32.const 2)))
      (if (i32.eqz (local.get $ve)) (then (return (i32.const 0) (i32.const 0))))
      ;; Then ',' or '}'.
      (local.set $p (call $ws (local.get $ve) (local.get $end)))
      (if (i32.ge_u (local.get $p) (local.get $end)) (then (return (i32.const 0) (i32.const 0))))
      (local.set $c (i32.load8_u (local.get $p)))
      (if (i32.and (i32.ne (local.get $c) (i32.const 0x2C)) (i32.ne (local.get $c) (i32.const 0x7D)))
        (then (return (i32.const 0) (i32.const 0))))
      (if (local.get $match) (then (return (local.get $vs) (local.get $ve))))
      (if (i32.eq (local.get $c) (i32.const 0x7D)) (then (return (i32.const 0) (i32.const 0))))
      (local.set $p (call $ws (i32.add (local.get $p) (i32.const 1)) (local.get $end)))
      (br $member))
    (unreachable))

  ;; $ws(p, end): skip spaces, tabs, newlines and carriage returns.
  (func $ws (param $p i32) (param $end i32) (result i32)
    (local $c i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $c (i32.load8_u (local.get $p)))
        (br_if $done (i32.eqz (i32.or (i32.or (i32.eq (local.get $c) (i32.const 0x20))
                                              (i32.eq (local.get $c) (i32.const 0x09)))
                                      (i32.or (i32.eq (local.get $c) (i32.const 0x0A))
                                              (i32.eq (local.get $c) (i32.const 0x0D))))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $next)))
    (local.get $p))

  ;; $skip_value(p, end, depth): the position after the JSON value at p, or 0.
  ;; depth is the nesting level an object or array starting at p would have.
  (func $skip_value (param $p i32) (param $end i32) (param $depth i32) (result i32)
    (local $c i32) (local $close i32)
    (if (i32.ge_u (local.get $p) (local.get $end)) (then (return (i32.const 0))))
    (local.set $c (i32.load8_u (local.get $p)))
    (if (i32.eq (local.get $c) (i32.const 0x22)) ;; '"'
      (then (return (call $skip_string (local.get $p) (local.get $end)))))
    (if (i32.eq (local.get $c) (i32.const 0x74)) ;; 't'
      (then (return (call $skip_literal (local.get $p) (local.get $end) (i32.const 48) (i32.const 4)))))
    (if (i32.eq (local.get $c) (i32.const 0x66)) ;; 'f'
      (then (return (call $skip_literal (local.get $p) (local.get $end) (i32.const 52) (i32.const 5)))))
    (if (i32.eq (local.get $c) (i32.const 0x6E)) ;; 'n'
      (then (return (call $skip_literal (local.get $p) (local.get $end) (i32.const 57) (i32.const 4)))))
    (if (call $is_number_start (local.get $c))
      (then (return (call $skip_number (local.get $p) (local.get $end)))))
    ;; Objects and arrays share one loop: an object's members are a string, a
    ;; ':' and a value; an array's elements are values.
    (if (i32.eq (local.get $c) (i32.const 0x7B)) (then (local.set $close (i32.const 0x7D)))) ;; { }
    (if (i32.eq (local.get $c) (i32.const 0x5B)) (then (local.set $close (i32.const 0x5D)))) ;; [ ]
    (if (i32.eqz (local.get $close)) (then (return (i32.const 0))))
    (if (i32.gt_s (local.get $depth) (global.get $max_depth)) (then (return (i32.const 0))))
    (local.set $p (call $ws (i32.add (local.get $p) (i32.const 1)) (local.get $end)))
    (if (i32.lt_u (local.get $p) (local.get $end))
      (then (if (i32.eq (i32.load8_u (local.get $p)) (local.get $close))
        (then (return (i32.add (local.get $p) (i32.const 1)))))))
    (loop $item
      (if (i32.eq (local.get $close) (i32.const 0x7D))
        (then
          ;; "name" :
          (if (i32.ge_u (local.get $p) (local.get $end)) (then (return (i32.const 0))))
          (if (i32.ne (i32.load8_u (local.get $p)) (i32.const 0x22)) (then (return (i32.const 0))))
          (local.set $p (call $skip_string (local.get $p) (local.get $end)))
          (if (i32.eqz (local.get $p)) (then (return (i32.const 0))))
          (local.set $p (call $ws (local.get $p) (local.get $end)))
          (if (i32.ge_u (local.get $p) (local.get $end)) (then (return (i32.const 0))))
          (if (i32.ne (i32.load8_u (local.get $p)) (i32.const 0x3A)) (then (return (i32.const 0))))
          (local.set $p (call $ws (i32.add (local.get $p) (i32.const 1)) (local.get $end)))))
      (local.set $p (call $skip_value (local.get $p) (local.get $end)
                                      (i32.add (local.get $depth) (i32.const 1))))
      (if (i32.eqz (local.get $p)) (then (return (i32.const 0))))
      (local.set $p (call $ws (local.get $p) (local.get $end)))
      (if (i32.ge_u (local.get $p) (local.get $end)) (then (return (i32.const 0))))
      (local.set $c (i32.load8_u (local.get $p)))
      (if (i32.eq (local.get $c) (local.get $close)) (then (return (i32.add (local.get $p) (i32.const 1)))))
      (if (i32.ne (local.get $c) (i32.const 0x2C)) (then (return (i32.const 0)))) ;; ','
      (local.set $p (call $ws (i32.add (local.get $p) (i32.const 1)) (local.get $end)))
      (br $item))
    (unreachable))

  ;; $skip_string(p, end): p is at the opening quote; the position after the
  ;; closing one, or 0. Control characters must be escaped and escapes must be
  ;; one of \" \\ \/ \b \f \n \r \t \uXXXX. Other bytes pass as they are.
  (func $skip_string (param $p i32) (param $end i32) (result i32)
    (local $c i32)
    (local.set $p (i32.add (local.get $p) (i32.const 1)))
    (loop $next
      (if (i32.ge_u (local.get $p) (local.get $end)) (then (return (i32.const 0))))
      (local.set $c (i32.load8_u (local.get $p)))
      (if (i32.eq (local.get $c) (i32.const 0x22)) (then (return (i32.add (local.get $p) (i32.const 1)))))
      (if (i32.lt_u (local.get $c) (i32.const 0x20)) (then (return (i32.const 0))))
      (if (i32.eq (local.get $c) (i32.const 0x5C)) ;; backslash
        (then
          (if (i32.ge_u (i32.add (local.get $p) (i32.const 1)) (local.get $end)) (then (return (i32.const 0))))
          (local.set $c (i32.load8_u offset=1 (local.get $p)))
          (if (i32.eq (local.get $c) (i32.const 0x75)) ;; 'u'
            (then
              (if (i32.lt_u (i32.sub (local.get $end) (local.get $p)) (i32.const 6)) (then (return (i32.const 0))))
              (if (i32.lt_s (call $hex4 (i32.add (local.get $p) (i32.const 2))) (i32.const 0))
                (then (return (i32.const 0))))
              (local.set $p (i32.add (local.get $p) (i32.const 6)))
              (br $next)))
          (if (i32.lt_s (call $simple_escape (local.get $c)) (i32.const 0)) (then (return (i32.const 0))))
          (local.set $p (i32.add (local.get $p) (i32.const 2)))
          (br $next)))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br $next))
    (unreachable))

  ;; $simple_escape(c): the byte the escape \c stands for, or -1 (\u is not
  ;; handled here).
  (func $simple_escape (param $c i32) (result i32)
    (if (i32.or (i32.or (i32.eq (local.get $c) (i32.const 0x22))   ;; \"
                        (i32.eq (local.get $c) (i32.const 0x5C)))  ;; \\
                (i32.eq (local.get $c) (i32.const 0x2F)))          ;; \/
      (then (return (local.get $c))))
    (if (i32.eq (local.get $c) (i32.const 0x62)) (then (return (i32.const 0x08)))) ;; \b
    (if (i32.eq (local.get $c) (i32.const 0x66)) (then (return (i32.const 0x0C)))) ;; \f
    (if (i32.eq (local.get $c) (i32.const 0x6E)) (then (return (i32.const 0x0A)))) ;; \n
    (if (i32.eq (local.get $c) (i32.const 0x72)) (then (return (i32.const 0x0D)))) ;; \r
    (if (i32.eq (local.get $c) (i32.const 0x74)) (then (return (i32.const 0x09)))) ;; \t
    (i32.const -1))

  ;; $hex4(p): the value of the four hex digits at p, or -1.
  (func $hex4 (param $p i32) (result i32)
    (local $v i32) (local $i i32) (local $c i32)
    (loop $digit
      (local.set $c (i32.load8_u (i32.add (local.get $p) (local.get $i))))
      (block $ok
        (if (i32.le_u (i32.sub (local.get $c) (i32.const 0x30)) (i32.const 9))   ;; 0-9
          (then (local.set $c (i32.sub (local.get $c) (i32.const 0x30))) (br $ok)))
        (local.set $c (i32.or (local.get $c) (i32.const 0x20)))                  ;; lower case
        (if (i32.le_u (i32.sub (local.get $c) (i32.const 0x61)) (i32.const 5))   ;; a-f
          (then (local.set $c (i32.sub (local.get $c) (i32.const 0x57))) (br $ok)))
        (return (i32.const -1)))
      (local.set $v (i32.or (i32.shl (local.get $v) (i32.const 4)) (local.get $c)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $digit (i32.lt_u (local.get $i) (i32.const 4))))
    (local.get $v))

  ;; $skip_literal(p, end, lit, n): p + n if the n bytes at p are those at lit.
  (func $skip_literal (param $p i32) (param $end i32) (param $lit i32) (param $n i32) (result i32)
    (local $i i32)
    (if (i32.lt_u (i32.sub (local.get $end) (local.get $p)) (local.get $n)) (then (return (i32.const 0))))
    (block $done
      (loop $byte
        (br_if $done (i32.eq (local.get $i) (local.get $n)))
        (if (i32.ne (i32.load8_u (i32.add (local.get $p) (local.get $i)))
                    (i32.load8_u (i32.add (local.get $lit) (local.get $i))))
          (then (return (i32.const 0))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $byte)))
    (i32.add (local.get $p) (local.get $n)))

  ;; $is_number_start(c): '-' or a digit.
  (func $is_number_start (param $c i32) (result i32)
    (i32.or (i32.eq (local.get $c) (i32.const 0x2D))
            (i32.le_u (i32.sub (local.get $c) (i32.const 0x30)) (i32.const 9))))

  ;; $skip_digits(p, end): the first position at or after p that is not a digit.
  (func $skip_digits (param $p i32) (param $end i32) (result i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (br_if $done (i32.gt_u (i32.sub (i32.load8_u (local.get $p)) (i32.const 0x30)) (i32.const 9)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $next)))
    (local.get $p))

  ;; $skip_number(p, end): -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
  (func $skip_number (param $p i32) (param $end i32) (result i32)
    (local $q i32) (local $c i32)
    (if (i32.lt_u (local.get $p) (local.get $end))
      (then (if (i32.eq (i32.load8_u (local.get $p)) (i32.const 0x2D)) ;; '-'
        (then (local.set $p (i32.add (local.get $p) (i32.const 1)))))))
    (if (i32.ge_u (local.get $p) (local.get $end)) (then (return (i32.const 0))))
    (local.set $c (i32.load8_u (local.get $p)))
    (if (i32.eq (local.get $c) (i32.const 0x30)) ;; a lone '0'
      (then (local.set $p (i32.add (local.get $p) (i32.const 1))))
      (else
        (if (i32.gt_u (i32.sub (local.get $c) (i32.const 0x31)) (i32.const 8)) (then (return (i32.const 0))))
        (local.set $p (call $skip_digits (i32.add (local.get $p) (i32.const 1)) (local.get $end)))))
    ;; fraction
    (if (i32.lt_u (local.get $p) (local.get $end))
      (then (if (i32.eq (i32.load8_u (local.get $p)) (i32.const 0x2E)) ;; '.'
        (then
          (local.set $q (call $skip_digits (i32.add (local.get $p) (i32.const 1)) (local.get $end)))
          (if (i32.eq (local.get $q) (i32.add (local.get $p) (i32.const 1))) (then (return (i32.const 0))))
          (local.set $p (local.get $q))))))
    ;; exponent
    (if (i32.lt_u (local.get $p) (local.get $end))
      (then (if (i32.eq (i32.or (i32.load8_u (local.get $p)) (i32.const 0x20)) (i32.const 0x65)) ;; e E
        (then
          (local.set $p (i32.add (local.get $p) (i32.const 1)))
          (if (i32.lt_u (local.get $p) (local.get $end))
            (then
              (local.set $c (i32.load8_u (local.get $p)))
              (if (i32.or (i32.eq (local.get $c) (i32.const 0x2B)) (i32.eq (local.get $c) (i32.const 0x2D)))
                (then (local.set $p (i32.add (local.get $p) (i32.const 1)))))))
          (local.set $q (call $skip_digits (local.get $p) (local.get $end)))
          (if (i32.eq (local.get $q) (local.get $p)) (then (return (i32.const 0))))
          (local.set $p (local.get $q))))))
    (local.get $p))

  ;; $name_equals(s, e, name, n): whether the string body [s, e) (escapes
  ;; already checked) equals the n ASCII bytes at name once unescaped. An
  ;; escape for a character beyond ASCII (\u0080 and up, surrogates included)
  ;; can never equal an ASCII byte.
  (func $name_equals (param $s i32) (param $e i32) (param $name i32) (param $n i32) (result i32)
    (local $j i32) (local $c i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $s) (local.get $e)))
        (local.set $c (i32.load8_u (local.get $s)))
        (if (i32.eq (local.get $c) (i32.const 0x5C))
          (then
            (local.set $c (i32.load8_u offset=1 (local.get $s)))
            (if (i32.eq (local.get $c) (i32.const 0x75)) ;; \uXXXX
              (then
                (local.set $c (call $hex4 (i32.add (local.get $s) (i32.const 2))))
                (if (i32.ge_u (local.get $c) (i32.const 0x80)) (then (return (i32.const 0))))
                (local.set $s (i32.add (local.get $s) (i32.const 6))))
              (else
                (local.set $c (call $simple_escape (local.get $c)))
                (local.set $s (i32.add (local.get $s) (i32.const 2))))))
          (else (local.set $s (i32.add (local.get $s) (i32.const 1)))))
        (if (i32.ge_u (local.get $j) (local.get $n)) (then (return (i32.const 0))))
        (if (i32.ne (local.get $c) (i32.load8_u (i32.add (local.get $name) (local.get $j))))
          (then (return (i32.const 0))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $next)))
    (i32.eq (local.get $j) (local.get $n)))

  ;; $parse_int(s, e): the value of the number text [s, e) if it is an integer
  ;; (digits only after an optional '-') that fits an i64, and 1; else 0, 0.
  ;; The text was checked by $skip_number, so it has no leading zeros.
  (func $parse_int (param $s i32) (param $e i32) (result i64 i32)
    (local $neg i32) (local $u i64) (local $d i32)
    (local.set $neg (i32.eq (i32.load8_u (local.get $s)) (i32.const 0x2D)))
    (local.set $s (i32.add (local.get $s) (local.get $neg)))
    ;; At most 19 digits: then the magnitude fits a u64 without overflow.
    (if (i32.gt_u (i32.sub (local.get $e) (local.get $s)) (i32.const 19))
      (then (return (i64.const 0) (i32.const 0))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $s) (local.get $e)))
        (local.set $d (i32.sub (i32.load8_u (local.get $s)) (i32.const 0x30)))
        (if (i32.gt_u (local.get $d) (i32.const 9)) ;; '.', 'e' or 'E': not an integer
          (then (return (i64.const 0) (i32.const 0))))
        (local.set $u (i64.add (i64.mul (local.get $u) (i64.const 10)) (i64.extend_i32_u (local.get $d))))
        (local.set $s (i32.add (local.get $s) (i32.const 1)))
        (br $next)))
    (if (local.get $neg)
      (then
        (if (i64.gt_u (local.get $u) (i64.const 0x8000000000000000)) (then (return (i64.const 0) (i32.const 0))))
        (return (i64.sub (i64.const 0) (local.get $u)) (i32.const 1))))
    (if (i64.gt_u (local.get $u) (i64.const 0x7FFFFFFFFFFFFFFF)) (then (return (i64.const 0) (i32.const 0))))
    (local.get $u)
    (i32.const 1))

  ;; $format_i64(v): write v in decimal at the end of the scratch area [0, 32);
  ;; returns where the text starts and its length.
  (func $format_i64 (param $v i64) (result i32 i32)
    (local $u i64) (local $p i32)
    (local.set $p (i32.const 32))
    ;; The magnitude, as an unsigned number (this also handles the minimum i64).
    (local.set $u (select (i64.sub (i64.const 0) (local.get $v)) (local.get $v)
                          (i64.lt_s (local.get $v) (i64.const 0))))
    (loop $digit
      (local.set $p (i32.sub (local.get $p) (i32.const 1)))
      (i32.store8 (local.get $p) (i32.add (i32.const 0x30) (i32.wrap_i64 (i64.rem_u (local.get $u) (i64.const 10)))))
      (local.set $u (i64.div_u (local.get $u) (i64.const 10)))
      (br_if $digit (i64.ne (local.get $u) (i64.const 0))))
    (if (i64.lt_s (local.get $v) (i64.const 0))
      (then
        (local.set $p (i32.sub (local.get $p) (i32.const 1)))
        (i32.store8 (local.get $p) (i32.const 0x2D))))
    (local.get $p)
    (i32.sub (i32.const 32) (local.get $p)))

  ;; $sign(s, e): 1, 0 or -1 for the value of the number text [s, e): it is zero
  ;; when every digit before the exponent is 0 ("-0.0e5" is zero).
  (func $sign (param $s i32) (param $e i32) (result i32)
    (local $neg i32) (local $c i32)
    (local.set $neg (i32.eq (i32.load8_u (local.get $s)) (i32.const 0x2D)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $s) (local.get $e)))
        (local.set $c (i32.or (i32.load8_u (local.get $s)) (i32.const 0x20)))
        (br_if $done (i32.eq (local.get $c) (i32.const 0x65))) ;; 'e' or 'E'
        (if (i32.le_u (i32.sub (local.get $c) (i32.const 0x31)) (i32.const 8)) ;; 1-9
          (then (return (select (i32.const -1) (i32.const 1) (local.get $neg)))))
        (local.set $s (i32.add (local.get $s) (i32.const 1)))
        (br $next)))
    (i32.const 0))
)
