;; script.wat — a test module for the host's side outputs, co_process, broadcast
;; state, trigger and evict calls (wasmhost/kinds_test.go). Its functions share
;; one body: what they do is written in their input by the test.
;;
;; process, process2 and timer calls (kinds 2, 3, 4): each input record's payload
;; is a script of commands, run in order (u32 and i64 little endian):
;;   'E' u32 len, frame                 weir.emit(frame)
;;   'G' u32 st, u32 rec, u32 n, sub    state_get into a 1 KiB buffer: logs the code
;;                                      and, when it is a length that fitted, the bytes
;;   'P' u32 st, u32 rec, u32 n, sub, u32 m, val   state_put: logs the code
;;   'D' u32 st, u32 rec, u32 n, sub    state_delete: logs the code
;;   'A' u32 st, u32 rec, u32 m, val    state_append: logs the code
;;   'I' u32 st, u32 rec, u32 cursor    state_iter: logs as 'G'
;;   'T' u32 domain, u32 rec, i64 time  timer_register: logs the code
;;   'X' u32 domain, u32 rec, i64 time  timer_delete: logs the code
;; Any other byte ends the record's script. Codes are logged as i32. When the log
;; is not empty, the call ends by emitting it as one main output without parent.
;;
;; trigger calls (kind 8): one output per event. A keyed event whose key is "auto"
;; gets action 1 (fire) when count >= 3, else 0, an event-time timer at end - 1
;; and a processing-time timer at time + 100 (17 bytes); a non-keyed event gets
;; action 2 (purge) and an event-time timer at start (9 bytes); any other key is
;; the payload itself, and the empty key gets no output at all.
;;
;; evict calls (kind 9): one output per window. A window keyed "auto" evicts its
;; elements whose payload is "x"; a non-keyed window evicts nothing; any other
;; key is the payload itself, and the empty key gets no output.
(module
  (import "weir" "emit" (func $emit (param i32 i32)))
  (import "weir" "state_get" (func $get (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "weir" "state_put" (func $put (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "weir" "state_append" (func $append (param i32 i32 i32 i32) (result i32)))
  (import "weir" "state_delete" (func $delete (param i32 i32 i32 i32) (result i32)))
  (import "weir" "state_iter" (func $iter (param i32 i32 i32 i32 i32) (result i32)))
  (import "weir" "timer_register" (func $treg (param i32 i32 i64) (result i32)))
  (import "weir" "timer_delete" (func $tdel (param i32 i32 i64) (result i32)))
  ;; [0, 2048) description; [2048, 3072) state results; [4096, 8175) one output
  ;; frame of a trigger or evict call (payload at 4113); [8175, 8192) the log's
  ;; output header; [8192, 65536) the log; [65536, ...) the input buffer.
  (memory (export "memory") 2)
  (data (i32.const 0) "{\"abi_version\":1,\"sdk\":\"wat\",\"functions\":[{\"name\":\"flat\",\"kind\":\"flat_map\",\"index\":0,\"side_outputs\":[\"odd\",\"even\"]},{\"name\":\"tagmap\",\"kind\":\"map\",\"index\":1,\"side_outputs\":[\"copy\"]},{\"name\":\"co\",\"kind\":\"co_process\",\"index\":2,\"side_outputs\":[\"late\"],\"state\":[{\"name\":\"v\",\"kind\":\"value\"},{\"name\":\"m\",\"kind\":\"map\"},{\"name\":\"rules\",\"kind\":\"broadcast\"}]},{\"name\":\"trig\",\"kind\":\"trigger\",\"index\":3},{\"name\":\"evict\",\"kind\":\"evictor\",\"index\":4},{\"name\":\"proc\",\"kind\":\"process\",\"index\":5,\"state\":[{\"name\":\"v\",\"kind\":\"value\"}]}]}")
  (global $describe_len i32 (i32.const 518))
  (global $in_cap (mut i32) (i32.const 0))
  (global $end (mut i32) (i32.const 0))     ;; one past the input
  (global $log (mut i32) (i32.const 8192))  ;; write position in the log
  (global $pay (mut i32) (i32.const 0))     ;; payload of the record $record read
  (global $pay_len (mut i32) (i32.const 0))

  (func (export "weir_abi_version") (result i32) (i32.const 1))
  (func (export "weir_describe") (result i64) (i64.extend_i32_u (global.get $describe_len)))
  (func $ensure (param $end i32)
    (local $pages i32)
    (local.set $pages (i32.shr_u (i32.add (local.get $end) (i32.const 65535)) (i32.const 16)))
    (if (i32.gt_u (local.get $pages) (memory.size))
      (then (if (i32.eq (memory.grow (i32.sub (local.get $pages) (memory.size))) (i32.const -1))
        (then (unreachable))))))
  (func (export "weir_alloc") (param $size i32) (result i32)
    (call $ensure (i32.add (local.get $size) (i32.const 65536)))
    (global.set $in_cap (local.get $size))
    (i32.const 65536))
  (func (export "weir_call") (param $kind i32) (param $fn i32) (param $in i32) (param $len i32) (result i32)
    (if (i32.gt_u (local.get $fn) (i32.const 5)) (then (return (i32.const 2))))
    (if (i32.or (i32.eq (local.get $kind) (i32.const 1)) (i32.eq (local.get $kind) (i32.const 6)))
      (then (return (i32.const 0))))
    (global.set $end (i32.add (local.get $in) (local.get $len)))
    (if (i32.eq (local.get $kind) (i32.const 8)) (then (return (call $trigger (local.get $in)))))
    (if (i32.eq (local.get $kind) (i32.const 9)) (then (return (call $evict (local.get $in)))))
    (if (i32.and (i32.ge_u (local.get $kind) (i32.const 2)) (i32.le_u (local.get $kind) (i32.const 4)))
      (then (return (call $script (local.get $in)))))
    (i32.const 3))

  ;; $record(p): skips the §5 record at p, noting its payload in $pay and
  ;; $pay_len; returns the position after it.
  (func $record (param $p i32) (result i32)
    (local $flags i32) (local $n i32)
    (local.set $flags (i32.load8_u (local.get $p)))
    (local.set $p (i32.add (local.get $p) (i32.const 1)))
    (global.set $pay_len (i32.const 0))
    (if (i32.and (local.get $flags) (i32.const 1))
      (then (local.set $p (i32.add (i32.add (local.get $p) (i32.const 4)) (i32.load (local.get $p))))))
    (if (i32.and (local.get $flags) (i32.const 2))
      (then (local.set $p (i32.add (local.get $p) (i32.const 8)))))
    (if (i32.and (local.get $flags) (i32.const 4))
      (then
        (global.set $pay_len (i32.load (local.get $p)))
        (global.set $pay (i32.add (local.get $p) (i32.const 4)))
        (local.set $p (i32.add (global.get $pay) (global.get $pay_len)))))
    (if (i32.and (local.get $flags) (i32.const 8))
      (then
        (local.set $n (i32.load (local.get $p)))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (block $done (loop $h
          (br_if $done (i32.eqz (local.get $n)))
          (local.set $p (i32.add (i32.add (local.get $p) (i32.const 4)) (i32.load (local.get $p))))
          (local.set $p (i32.add (i32.add (local.get $p) (i32.const 4)) (i32.load (local.get $p))))
          (local.set $n (i32.sub (local.get $n) (i32.const 1)))
          (br $h)))))
    (local.get $p))

  (func $logi (param $v i32)
    (i32.store (global.get $log) (local.get $v))
    (global.set $log (i32.add (global.get $log) (i32.const 4))))
  ;; $logres(code): logs code and, when it is a length that fitted the result
  ;; buffer, the bytes there.
  (func $logres (param $code i32)
    (call $logi (local.get $code))
    (if (i32.and (i32.ge_s (local.get $code) (i32.const 0)) (i32.le_s (local.get $code) (i32.const 1024)))
      (then
        (memory.copy (global.get $log) (i32.const 2048) (local.get $code))
        (global.set $log (i32.add (global.get $log) (local.get $code))))))

  ;; $script(in): runs the script of every record of the batch at in.
  (func $script (param $in i32) (result i32)
    (local $count i32) (local $i i32) (local $p i32) (local $next i32)
    (global.set $log (i32.const 8192))
    (local.set $count (i32.load (local.get $in)))
    (local.set $p (i32.add (local.get $in) (i32.const 4)))
    (block $done (loop $each
      (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
      (local.set $next (call $record (local.get $p)))
      (call $run (global.get $pay) (i32.add (global.get $pay) (global.get $pay_len)))
      (local.set $p (local.get $next))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $each)))
    (if (i32.ne (local.get $p) (global.get $end)) (then (return (i32.const 4))))
    (if (i32.gt_u (global.get $log) (i32.const 8192))
      (then
        (i32.store (i32.const 8175) (i32.const 1))
        (i32.store (i32.const 8179) (i32.const -1))
        (i32.store (i32.const 8183) (i32.const 0))
        (i32.store8 (i32.const 8187) (i32.const 4))
        (i32.store (i32.const 8188) (i32.sub (global.get $log) (i32.const 8192)))
        (call $emit (i32.const 8175) (i32.sub (global.get $log) (i32.const 8175)))))
    (i32.const 0))

  ;; $run(c, ce): runs the commands in [c, ce).
  (func $run (param $c i32) (param $ce i32)
    (local $op i32) (local $a i32) (local $rec i32) (local $sub i32) (local $sublen i32) (local $vallen i32)
    (block $done (loop $cmd
      (br_if $done (i32.ge_u (local.get $c) (local.get $ce)))
      (local.set $op (i32.load8_u (local.get $c)))
      (local.set $c (i32.add (local.get $c) (i32.const 1)))
      (if (i32.eq (local.get $op) (i32.const 69)) ;; 'E'
        (then
          (local.set $vallen (i32.load (local.get $c)))
          (call $emit (i32.add (local.get $c) (i32.const 4)) (local.get $vallen))
          (local.set $c (i32.add (local.get $c) (i32.add (i32.const 4) (local.get $vallen))))
          (br $cmd)))
      (local.set $a (i32.load (local.get $c)))
      (local.set $rec (i32.load offset=4 (local.get $c)))
      (local.set $c (i32.add (local.get $c) (i32.const 8)))
      (if (i32.eq (local.get $op) (i32.const 84)) ;; 'T'
        (then
          (call $logi (call $treg (local.get $a) (local.get $rec) (i64.load (local.get $c))))
          (local.set $c (i32.add (local.get $c) (i32.const 8)))
          (br $cmd)))
      (if (i32.eq (local.get $op) (i32.const 88)) ;; 'X'
        (then
          (call $logi (call $tdel (local.get $a) (local.get $rec) (i64.load (local.get $c))))
          (local.set $c (i32.add (local.get $c) (i32.const 8)))
          (br $cmd)))
      (if (i32.eq (local.get $op) (i32.const 73)) ;; 'I'
        (then
          (call $logres (call $iter (local.get $a) (local.get $rec) (i32.load (local.get $c)) (i32.const 2048) (i32.const 1024)))
          (local.set $c (i32.add (local.get $c) (i32.const 4)))
          (br $cmd)))
      (if (i32.eq (local.get $op) (i32.const 65)) ;; 'A'
        (then
          (local.set $vallen (i32.load (local.get $c)))
          (call $logi (call $append (local.get $a) (local.get $rec) (i32.add (local.get $c) (i32.const 4)) (local.get $vallen)))
          (local.set $c (i32.add (local.get $c) (i32.add (i32.const 4) (local.get $vallen))))
          (br $cmd)))
      (local.set $sublen (i32.load (local.get $c)))
      (local.set $sub (i32.add (local.get $c) (i32.const 4)))
      (local.set $c (i32.add (local.get $sub) (local.get $sublen)))
      (if (i32.eq (local.get $op) (i32.const 71)) ;; 'G'
        (then
          (call $logres (call $get (local.get $a) (local.get $rec) (local.get $sub) (local.get $sublen) (i32.const 2048) (i32.const 1024)))
          (br $cmd)))
      (if (i32.eq (local.get $op) (i32.const 68)) ;; 'D'
        (then
          (call $logi (call $delete (local.get $a) (local.get $rec) (local.get $sub) (local.get $sublen)))
          (br $cmd)))
      (if (i32.eq (local.get $op) (i32.const 80)) ;; 'P'
        (then
          (local.set $vallen (i32.load (local.get $c)))
          (call $logi (call $put (local.get $a) (local.get $rec) (local.get $sub) (local.get $sublen)
                                 (i32.add (local.get $c) (i32.const 4)) (local.get $vallen)))
          (local.set $c (i32.add (local.get $c) (i32.add (i32.const 4) (local.get $vallen))))
          (br $cmd))))))

  ;; $out(k, len): emits one output, input index k, tag 0, flags PAYLOAD, whose
  ;; len-byte payload is at 4113.
  (func $out (param $k i32) (param $len i32)
    (if (i32.gt_u (local.get $len) (i32.const 4062)) (then (unreachable)))
    (i32.store (i32.const 4096) (i32.const 1))
    (i32.store (i32.const 4100) (local.get $k))
    (i32.store (i32.const 4104) (i32.const 0))
    (i32.store8 (i32.const 4108) (i32.const 4))
    (i32.store (i32.const 4109) (local.get $len))
    (call $emit (i32.const 4096) (i32.add (i32.const 17) (local.get $len))))

  ;; $isauto(p, n): whether the n bytes at p are "auto".
  (func $isauto (param $p i32) (param $n i32) (result i32)
    (if (result i32) (i32.eq (local.get $n) (i32.const 4))
      (then (i32.eq (i32.load (local.get $p)) (i32.const 0x6f747561)))
      (else (i32.const 0))))

  ;; $trigger(in): a trigger frame (sdk/ABI.md §4.9). Each event: u8 event,
  ;; i64 start @1, i64 end @9, i64 time @17, u64 count @25, u32 key_len @33, key @37.
  (func $trigger (param $in i32) (result i32)
    (local $n i32) (local $k i32) (local $p i32) (local $klen i32)
    (local.set $n (i32.load (local.get $in)))
    (local.set $p (i32.add (local.get $in) (i32.const 4)))
    (block $done (loop $each
      (br_if $done (i32.ge_u (local.get $k) (local.get $n)))
      (local.set $klen (i32.load offset=33 (local.get $p)))
      (if (i32.eq (local.get $klen) (i32.const -1))
        (then
          (i32.store8 (i32.const 4113) (i32.const 2))
          (i64.store (i32.const 4114) (i64.load offset=1 (local.get $p)))
          (call $out (local.get $k) (i32.const 9))
          (local.set $p (i32.add (local.get $p) (i32.const 37))))
        (else
          (if (call $isauto (i32.add (local.get $p) (i32.const 37)) (local.get $klen))
            (then
              (i32.store8 (i32.const 4113)
                (i64.ge_u (i64.load offset=25 (local.get $p)) (i64.const 3)))
              (i64.store (i32.const 4114) (i64.sub (i64.load offset=9 (local.get $p)) (i64.const 1)))
              (i64.store (i32.const 4122) (i64.add (i64.load offset=17 (local.get $p)) (i64.const 100)))
              (call $out (local.get $k) (i32.const 17)))
            (else
              (if (local.get $klen)
                (then
                  (memory.copy (i32.const 4113) (i32.add (local.get $p) (i32.const 37)) (local.get $klen))
                  (call $out (local.get $k) (local.get $klen))))))
          (local.set $p (i32.add (local.get $p) (i32.add (i32.const 37) (local.get $klen))))))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br $each)))
    (if (i32.ne (local.get $p) (global.get $end)) (then (return (i32.const 4))))
    (i32.const 0))

  ;; $evict(in): an evictor frame (sdk/ABI.md §4.10). Each window: i64 start,
  ;; i64 end, u32 key_len @16, key @20, u32 n, n records.
  (func $evict (param $in i32) (result i32)
    (local $nw i32) (local $w i32) (local $p i32) (local $klen i32) (local $key i32)
    (local $auto i32) (local $n i32) (local $j i32) (local $m i32)
    (local.set $nw (i32.load (local.get $in)))
    (local.set $p (i32.add (local.get $in) (i32.const 4)))
    (block $done (loop $each
      (br_if $done (i32.ge_u (local.get $w) (local.get $nw)))
      (local.set $klen (i32.load offset=16 (local.get $p)))
      (local.set $key (i32.add (local.get $p) (i32.const 20)))
      (local.set $auto (i32.const 0))
      (local.set $p (local.get $key))
      (if (i32.ne (local.get $klen) (i32.const -1))
        (then
          (local.set $auto (call $isauto (local.get $key) (local.get $klen)))
          (local.set $p (i32.add (local.get $key) (local.get $klen)))))
      (local.set $n (i32.load (local.get $p)))
      (local.set $p (i32.add (local.get $p) (i32.const 4)))
      (local.set $j (i32.const 0))
      (local.set $m (i32.const 0))
      (block $edone (loop $elem
        (br_if $edone (i32.ge_u (local.get $j) (local.get $n)))
        (local.set $p (call $record (local.get $p)))
        (if (i32.and (local.get $auto)
              (i32.and (i32.eq (global.get $pay_len) (i32.const 1))
                       (i32.eq (i32.load8_u (global.get $pay)) (i32.const 120)))) ;; "x"
          (then
            (i32.store (i32.add (i32.const 4117) (i32.shl (local.get $m) (i32.const 2))) (local.get $j))
            (local.set $m (i32.add (local.get $m) (i32.const 1)))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $elem)))
      (if (i32.or (local.get $auto) (i32.eq (local.get $klen) (i32.const -1)))
        (then
          (i32.store (i32.const 4113) (local.get $m))
          (call $out (local.get $w) (i32.add (i32.const 4) (i32.shl (local.get $m) (i32.const 2)))))
        (else
          (if (local.get $klen)
            (then
              (memory.copy (i32.const 4113) (local.get $key) (local.get $klen))
              (call $out (local.get $w) (local.get $klen))))))
      (local.set $w (i32.add (local.get $w) (i32.const 1)))
      (br $each)))
    (if (i32.ne (local.get $p) (global.get $end)) (then (return (i32.const 4))))
    (i32.const 0))
)
