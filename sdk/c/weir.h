/*
 * weir.h — the Weir C SDK: write Weir user-defined functions (UDFs) in C.
 *
 * It implements the guest side of the Weir Wasm ABI, version 1 (sdk/ABI.md): the
 * exports weir_abi_version, weir_alloc, weir_describe and weir_call, batch decoding,
 * output framing and the weir.emit / weir.error / weir.log imports. Your code defines
 * weir_register(), which registers functions; the SDK calls it once, before the
 * first description or call.
 *
 * Build with clang 14, together with weir.c (sdk/c/README.md has more):
 *   clang --target=wasm32 -O2 -nostdlib -Wl,--no-entry -o udf.wasm udf.c weir.c
 *   clang --target=wasm32-wasi -O2 -mexec-model=reactor -o udf.wasm udf.c weir.c
 *
 * Memory: the SDK keeps the input buffer (weir_alloc), the output frame and one
 * scratch buffer for map outputs, and reuses all three from batch to batch. Views
 * into a record (weir_bytes) point into the input buffer and are valid only until
 * your function returns.
 */
#ifndef WEIR_H
#define WEIR_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

#define WEIR_ABI_VERSION 1
#define WEIR_SDK_VERSION "0.1.0"

/* Record flags (ABI §5). */
#define WEIR_FLAG_KEY 0x01
#define WEIR_FLAG_TIMESTAMP 0x02
#define WEIR_FLAG_PAYLOAD 0x04
#define WEIR_FLAG_HEADERS 0x08

/* Results of a user function: WEIR_OK, or WEIR_ERR after weir_fail(). A state
 * iteration callback may also return WEIR_STOP to end the iteration. */
#define WEIR_OK 0
#define WEIR_ERR 1
#define WEIR_STOP 2

/* Log levels of weir_log. */
enum weir_level { WEIR_DEBUG = 0, WEIR_INFO = 1, WEIR_WARN = 2, WEIR_ERROR = 3 };

/* A byte string that the SDK or the caller owns: a view, never freed by you. */
typedef struct weir_bytes {
    const uint8_t *ptr;
    size_t len;
} weir_bytes;

/* One input record, a view of the input buffer. */
typedef struct weir_record {
    uint32_t index;      /* its index in the batch */
    uint8_t flags;       /* WEIR_FLAG_*: which fields it has */
    weir_bytes key;      /* empty without WEIR_FLAG_KEY */
    int64_t timestamp;   /* ms since the epoch; 0 without WEIR_FLAG_TIMESTAMP */
    weir_bytes payload;  /* always present, may be empty */
    uint32_t header_count;
    weir_bytes headers;  /* the encoded header pairs (ABI §5), after their count */
} weir_record;

/* Iterating a record's headers, repeated names included, in order:
 *   weir_header_iter it = weir_headers(in); weir_bytes name, value;
 *   while (weir_header_next(&it, &name, &value)) { ... } */
typedef struct weir_header_iter {
    const uint8_t *p, *end;
    uint32_t left;
} weir_header_iter;
weir_header_iter weir_headers(const weir_record *r);
bool weir_header_next(weir_header_iter *it, weir_bytes *name, weir_bytes *value);
/* The first value of header name (NUL-terminated); false when absent. */
bool weir_header(const weir_record *r, const char *name, weir_bytes *value);

/* An output record. Every field whose flag is not set is inherited from the input
 * record it derives from: a zeroed output is the input record itself. The bytes it
 * points to must stay valid until the function returns (weir_scratch's do). */
typedef struct weir_output {
    uint32_t tag;        /* 0: the main output; i + 1: side output i */
    uint8_t flags;       /* WEIR_FLAG_* of the fields set below */
    weir_bytes key;
    int64_t timestamp;
    weir_bytes payload;
    uint32_t header_count;
    weir_bytes headers;  /* encoded header pairs; see weir_headers_add */
} weir_output;

static inline void weir_set_payload(weir_output *o, const void *p, size_t n) {
    o->flags |= WEIR_FLAG_PAYLOAD;
    o->payload.ptr = (const uint8_t *)p;
    o->payload.len = n;
}
static inline void weir_set_key(weir_output *o, const void *p, size_t n) {
    o->flags |= WEIR_FLAG_KEY;
    o->key.ptr = (const uint8_t *)p;
    o->key.len = n;
}
static inline void weir_set_timestamp(weir_output *o, int64_t ms) {
    o->flags |= WEIR_FLAG_TIMESTAMP;
    o->timestamp = ms;
}
/* Replaces the output's headers (all inherited ones) with those added so far plus
 * this one. The encoded headers live in a buffer of the SDK, reset for each output.
 * Returns false when out of memory. */
bool weir_headers_add(weir_output *o, const void *name, size_t name_len, const void *value,
                      size_t value_len);

/* A buffer of at least cap bytes, owned by the SDK and reused from record to record
 * (it grows, never shrinks): build a new payload in it, then weir_set_payload. Its
 * contents are kept across calls; a larger cap keeps the bytes written so far. NULL
 * when out of memory. */
uint8_t *weir_scratch(size_t cap);

/* The collector of a flat_map: each call adds one output of the current record. */
typedef struct weir_collector weir_collector;
bool weir_collect(weir_collector *c, const weir_output *o);
bool weir_collect_payload(weir_collector *c, const void *p, size_t n);

/* User functions. ud is the pointer given at registration. Return WEIR_OK, or
 * WEIR_ERR after weir_fail(...): the call fails and the task with it. */
typedef int (*weir_map_fn)(void *ud, const weir_record *in, weir_output *out);
typedef int (*weir_filter_fn)(void *ud, const weir_record *in, bool *keep);
typedef int (*weir_flat_map_fn)(void *ud, const weir_record *in, weir_collector *c);
/* A key_selector sets *key (empty on entry) to the key of in: any bytes, none
 * included, valid until the function returns (a view of the record, a constant,
 * or weir_scratch). The SDK emits exactly one output per input record, in order,
 * with flags WEIR_FLAG_KEY and nothing else: the host keeps the record's
 * timestamp, payload and headers and replaces its key (ABI §4). */
typedef int (*weir_key_selector_fn)(void *ud, const weir_record *in, weir_bytes *key);
/* The context of a process function's call: its outputs (weir_emit), and the
 * keyed state of the current record's key (weir_state_*). Valid during the call. */
typedef struct weir_context weir_context;
/* A process function: a keyed per-record function with keyed state, emitting zero
 * or more outputs per record (main and side outputs) through ctx. */
typedef int (*weir_process_fn)(void *ud, const weir_record *in, weir_context *ctx);
/* A reduce function: sets *result to the combination of the key's running value
 * acc and the next record's payload value (ABI §4.1). *result must stay valid until
 * the function returns: a view of acc or value, a constant, or weir_scratch (acc
 * itself lives in the SDK's state buffer, not in weir_scratch). */
typedef int (*weir_reduce_fn)(void *ud, weir_bytes acc, weir_bytes value, weir_bytes *result);
/* open receives the step's config, a JSON object ("{}" when none), in a buffer
 * valid only during the call. */
typedef int (*weir_open_fn)(void *ud, const uint8_t *config, size_t len);
typedef int (*weir_close_fn)(void *ud);

/* Registration, from weir_register() only. Functions are numbered in registration
 * order from 0. Names are 1-128 characters from [A-Za-z0-9_.-] and unique; a bad
 * name traps at start-up, so the upload is refused. Each returns the function's
 * index. */
int weir_map(const char *name, weir_map_fn fn, void *ud);
int weir_filter(const char *name, weir_filter_fn fn, void *ud);
int weir_flat_map(const char *name, weir_flat_map_fn fn, void *ud);
int weir_key_selector(const char *name, weir_key_selector_fn fn, void *ud);
/* A process function; declare its state with weir_state_declare. */
int weir_process(const char *name, weir_process_fn fn, void *ud);
/* A reduce function: the SDK declares its state (state 0, kind reducing, named
 * "reduce") and, for each record in order, makes the key's running value the
 * payload when there is none yet, else fn(running value, payload), stores it and
 * emits it as the record's one output. */
int weir_reduce(const char *name, weir_reduce_fn fn, void *ud);
void weir_on_open(int fn_index, weir_open_fn open);
void weir_on_close(int fn_index, weir_close_fn close);
/* Declares a side output of a function; its tag is returned (1 for the first). A
 * key_selector or reduce function has none: declaring one traps at start-up. */
uint32_t weir_side_output(int fn_index, const char *name);

/* ---- Keyed state (ABI §4.2) -------------------------------------------------- */

enum weir_state_kind {
    WEIR_STATE_VALUE,
    WEIR_STATE_LIST,
    WEIR_STATE_MAP,
    WEIR_STATE_REDUCING,   /* used like a value */
    WEIR_STATE_AGGREGATING, /* used like a value */
    WEIR_STATE_BROADCAST    /* a map of the subtask, not of a key (ABI §4.8); co_process only */
};

/* A handle of a declared state: keep it in a global. */
typedef struct weir_state {
    uint32_t index;   /* the state's number in its function */
    int fn;           /* the function that declared it */
    const char *name;
} weir_state;

/* Declares state number i (the i-th call for the function) of process or
 * co_process function fn_index, from weir_register only: name 1-128 characters
 * from [A-Za-z0-9_.-], unique in the function (it maps the state in checkpoints);
 * ttl_ms 0 for no expiry. A bad name or a function that is not a process or
 * co_process function traps, and so does a broadcast state that is not a
 * co_process function's or has a TTL. */
weir_state weir_state_declare(int fn_index, const char *name, enum weir_state_kind kind, uint64_t ttl_ms);

/* Every state call acts for the current record's key and returns WEIR_OK, or
 * WEIR_ERR after setting a message that names the operation and the state, e.g.
 * 'weir: reading state "count": the host does not support keyed state
 * (UNSUPPORTED)': return WEIR_ERR from your function then. Values read are views
 * of a buffer of the SDK, reused (and grown, then read again, when a value does
 * not fit): valid until the next state call. */

/* Value state (also reducing, aggregating): *found false when the key has none. */
int weir_state_get(weir_context *ctx, weir_state st, weir_bytes *value, bool *found);
int weir_state_put(weir_context *ctx, weir_state st, const void *value, size_t len);
int weir_state_clear(weir_context *ctx, weir_state st); /* value, list or whole map */
/* An int64 stored as 8 bytes, little endian; a value of another length is an error. */
int weir_state_get_i64(weir_context *ctx, weir_state st, int64_t *value, bool *found);
int weir_state_put_i64(weir_context *ctx, weir_state st, int64_t value);
/* List state. */
int weir_list_append(weir_context *ctx, weir_state st, const void *value, size_t len);
/* Map state. weir_map_delete refuses the empty sub-key, which to the host means the
 * whole map: use weir_state_clear. */
int weir_map_get(weir_context *ctx, weir_state st, const void *sub, size_t sub_len, weir_bytes *value, bool *found);
int weir_map_put(weir_context *ctx, weir_state st, const void *sub, size_t sub_len, const void *value, size_t len);
int weir_map_delete(weir_context *ctx, weir_state st, const void *sub, size_t sub_len);
/* Calls fn with each element of a list (sub empty) in insertion order, or each
 * entry of a map in byte order of the sub-keys, until fn returns WEIR_STOP (then
 * WEIR_OK is returned) or WEIR_ERR (returned). fn may emit and use other state;
 * sub and value are valid until it returns. */
typedef int (*weir_state_each_fn)(void *ud, weir_context *ctx, weir_bytes sub, weir_bytes value);
int weir_state_each(weir_context *ctx, weir_state st, weir_state_each_fn fn, void *ud);

/* Broadcast state (ABI §4.8): a map shared by every key of the subtask, written in
 * a co_process function's process2 calls (its broadcast input) and read in all its
 * calls. The map calls above serve it too; these name it. Writing it outside
 * process2 fails with 'weir: writing state "rules": broadcast state is written only
 * while processing the broadcast input (process2) (INVALID)'. */
static inline int weir_broadcast_get(weir_context *ctx, weir_state st, const void *sub, size_t sub_len,
                                     weir_bytes *value, bool *found) {
    return weir_map_get(ctx, st, sub, sub_len, value, found);
}
static inline int weir_broadcast_put(weir_context *ctx, weir_state st, const void *sub, size_t sub_len,
                                     const void *value, size_t len) {
    return weir_map_put(ctx, st, sub, sub_len, value, len);
}
static inline int weir_broadcast_delete(weir_context *ctx, weir_state st, const void *sub, size_t sub_len) {
    return weir_map_delete(ctx, st, sub, sub_len);
}
/* Entries in byte order of their sub-keys. */
static inline int weir_broadcast_each(weir_context *ctx, weir_state st, weir_state_each_fn fn, void *ud) {
    return weir_state_each(ctx, st, fn, ud);
}

/* Outputs of a process or co_process function: each derives from the current
 * record (and keeps its key unless it sets one); o->tag picks a side output. False
 * when out of memory, or (after setting a message) when the tag is not one the
 * function declared: the call fails then, whatever the function returns. */
bool weir_emit(weir_context *ctx, const weir_output *o);
bool weir_emit_payload(weir_context *ctx, const void *p, size_t n);
/* The same on output tag (0 main, i + 1 side output i, as weir_side_output gave). */
bool weir_emit_to(weir_context *ctx, uint32_t tag, const weir_output *o);
bool weir_emit_payload_to(weir_context *ctx, uint32_t tag, const void *p, size_t n);
/* The current record's index in the batch. */
uint32_t weir_context_index(const weir_context *ctx);

/* ---- Timers (ABI §4.4) ------------------------------------------------------- */

/* A fired timer: its time (ms; outputs inherit it as their timestamp), domain and
 * key (valid during the callback). */
typedef struct weir_timer {
    int64_t time;
    int domain; /* WEIR_EVENT_TIME or WEIR_PROCESSING_TIME */
    weir_bytes key;
} weir_timer;
enum { WEIR_EVENT_TIME = 0, WEIR_PROCESSING_TIME = 1 };
/* A process or co_process function's timer callback: ctx reaches the timer's
 * key's state and timers, and emits outputs that inherit its key and time (set
 * their payload). */
typedef int (*weir_timer_fn)(void *ud, const weir_timer *t, weir_context *ctx);
void weir_on_timer(int fn_index, weir_timer_fn fn);
/* Timers of the current record's key (process) or timer's key (timer callback).
 * WEIR_OK, or WEIR_ERR after setting a message. */
int weir_timer_register(weir_context *ctx, int domain, int64_t ms);
int weir_timer_delete(weir_context *ctx, int domain, int64_t ms);
/* The task's event-time clock (INT64_MIN before the first watermark) and the wall
 * clock, ms. */
int64_t weir_current_watermark(void);
int64_t weir_current_time(void);
/* The same by domain, as the other SDKs name them (Flink's TimerService). */
static inline int weir_register_event_timer(weir_context *ctx, int64_t ms) {
    return weir_timer_register(ctx, WEIR_EVENT_TIME, ms);
}
static inline int weir_register_processing_timer(weir_context *ctx, int64_t ms) {
    return weir_timer_register(ctx, WEIR_PROCESSING_TIME, ms);
}
static inline int weir_delete_event_timer(weir_context *ctx, int64_t ms) {
    return weir_timer_delete(ctx, WEIR_EVENT_TIME, ms);
}
static inline int weir_delete_processing_timer(weir_context *ctx, int64_t ms) {
    return weir_timer_delete(ctx, WEIR_PROCESSING_TIME, ms);
}
static inline int64_t weir_current_processing_time(void) { return weir_current_time(); }

/* ---- Aggregate and window process functions (ABI §4.5, §4.6) ----------------- */

/* An aggregate function's parts. Each sets *out to the new accumulator (or the
 * result); *out may be acc itself, a constant, or weir_scratch memory, and must
 * stay valid until the function returns. */
typedef struct weir_aggregate_fns {
    int (*create)(void *ud, weir_bytes *out);
    int (*add)(void *ud, weir_bytes acc, const weir_record *in, weir_bytes *out);
    int (*merge)(void *ud, weir_bytes acc, weir_bytes other, weir_bytes *out);
    int (*result)(void *ud, weir_bytes acc, weir_bytes *out);
} weir_aggregate_fns;
int weir_aggregate(const char *name, const weir_aggregate_fns *fns, void *ud);

/* A fired window: [start, end) ms; key absent (keyed false) for a non-keyed stream. */
typedef struct weir_window {
    int64_t start, end;
    weir_bytes key;
    bool keyed;
} weir_window;
/* A window process function: gets the window's n elements and emits its outputs
 * through out (they inherit the window's key and end-1; set their payload). */
typedef int (*weir_window_fn)(void *ud, const weir_window *w, const weir_record *elements, uint32_t n,
                              weir_collector *out);
int weir_window_process(const char *name, weir_window_fn fn, void *ud);

/* ---- Two-input functions (ABI §4.7) ------------------------------------------- */

/* A co_process function (Flink's KeyedCoProcessFunction, and with a broadcast
 * second input its KeyedBroadcastProcessFunction): process1 runs on each record of
 * the first input (process calls), process2 on each record of the second (process2
 * calls). Both take a weir_context as a process function does: weir_emit and side
 * outputs, keyed state and timers of the record's key (when the second input is
 * broadcast, process2's records have no key: keyed state and timers fail there
 * with INVALID), broadcast state (written in process2 only). Add a timer callback
 * with weir_on_timer and state with weir_state_declare. weir_context_input tells
 * which input a context's record came from. */
int weir_co_process(const char *name, weir_process_fn process1, weir_process_fn process2, void *ud);
/* 1 for the first input (and a process function's records), 2 for the second, 0 in
 * a timer callback. */
int weir_context_input(const weir_context *ctx);

/* ---- Triggers (ABI §4.9) ------------------------------------------------------- */

enum weir_trigger_event_kind {
    WEIR_TRIGGER_ELEMENTS = 0,        /* elements of one input batch went into the window */
    WEIR_TRIGGER_EVENT_TIMER = 1,     /* an event-time timer of the window fired */
    WEIR_TRIGGER_PROCESSING_TIMER = 2 /* a processing-time timer of the window fired */
};
enum weir_trigger_action { WEIR_CONTINUE = 0, WEIR_FIRE = 1, WEIR_PURGE = 2, WEIR_FIRE_AND_PURGE = 3 };
/* No timer (INT64_MIN, the ABI's "none"). */
#define WEIR_NO_TIMER INT64_MIN

/* What a trigger is told, per event. A global window is (INT64_MIN, INT64_MAX). */
typedef struct weir_trigger_event {
    enum weir_trigger_event_kind kind;
    int64_t start, end; /* the window, ms, end exclusive */
    int64_t time;       /* ELEMENTS: the largest timestamp added; timers: the timer's time */
    uint64_t count;     /* the elements now in the window */
    weir_bytes key;     /* valid during the callback; empty when !keyed */
    bool keyed;         /* false for a window of a non-keyed stream */
} weir_trigger_event;

/* What a trigger answers: an action and up to two timers to register for the
 * window and key. The SDK starts each event with WEIR_CONTINUE and no timers, and
 * writes 9 bytes (action, event-time timer), or 17 with a processing-time timer. */
typedef struct weir_trigger_result {
    enum weir_trigger_action action;
    int64_t event_timer;      /* WEIR_NO_TIMER for none */
    int64_t processing_timer; /* WEIR_NO_TIMER for none */
} weir_trigger_result;
typedef int (*weir_trigger_fn)(void *ud, const weir_trigger_event *ev, weir_trigger_result *res);
/* A trigger function: the SDK calls fn once per event of a trigger call, in order,
 * and emits one output per event. No state, timers or emits of its own. */
int weir_trigger(const char *name, weir_trigger_fn fn, void *ud);

/* ---- Evictors (ABI §4.10) ------------------------------------------------------ */

/* The set of elements to evict from one window: weir_evict marks element i (any
 * order, repeats allowed); false when i is out of range. */
typedef struct weir_evictions weir_evictions;
bool weir_evict(weir_evictions *ev, uint32_t i);
/* An evictor: gets a window about to fire and its n elements (in arrival order) and
 * marks those to evict; the SDK emits their indexes ascending, one output per
 * window. */
typedef int (*weir_evictor_fn)(void *ud, const weir_window *w, const weir_record *elements, uint32_t n,
                               weir_evictions *ev);
int weir_evictor(const char *name, weir_evictor_fn fn, void *ud);

/* ---- Timestamp extractors (ABI §4) -------------------------------------------- */

/* What a timestamp extractor says of a record: its time (a record without one is
 * dropped), and maybe a watermark after it (a punctuation). */
typedef struct weir_timestamp_result {
    bool has_time;
    int64_t time;
    bool has_watermark;
    int64_t watermark;
} weir_timestamp_result;
typedef int (*weir_timestamp_fn)(void *ud, const weir_record *in, weir_timestamp_result *out);
int weir_timestamp_extractor(const char *name, weir_timestamp_fn fn, void *ud);

/* ---- Task info (ABI §4.3) ----------------------------------------------------- */

typedef struct weir_task_info {
    weir_bytes job_id, job_name, step; /* unescaped */
    int64_t subtask, parallelism, max_parallelism;
    int64_t attempt; /* 1 for the first run, one more after every restart */
} weir_task_info;

/* Sets *info to the subtask's context, asked of the host once and cached (the SDK
 * owns it). Call it from open or later. WEIR_OK, or WEIR_ERR after setting a message. */
int weir_get_task_info(const weir_task_info **info);

/* You define this: it registers the module's functions. */
void weir_register(void);

/* Sets the error message of the current call (UTF-8) and returns WEIR_ERR. */
int weir_fail(const char *msg);
int weir_fail_n(const char *msg, size_t len);
/* Writes one line to the worker's log. A host call each: keep it off the hot path. */
void weir_log(enum weir_level level, const char *msg);

/* ---- JSON, without allocation -------------------------------------------------
 * The scanner follows RFC 8259 strictly from the start of the document up to and
 * including the member it returns and the ',' or '}' after it (nested values,
 * escapes, number syntax, nesting up to WEIR_JSON_MAX_DEPTH levels); it does not
 * read the rest. Member names are compared after unescaping ("am\u006funt" is
 * amount). If a name repeats, the first member wins. UTF-8 is not validated. */
#define WEIR_JSON_MAX_DEPTH 1000
enum weir_json_kind {
    WEIR_JSON_INVALID = 0,
    WEIR_JSON_STRING,
    WEIR_JSON_NUMBER,
    WEIR_JSON_OBJECT,
    WEIR_JSON_ARRAY,
    WEIR_JSON_TRUE,
    WEIR_JSON_FALSE,
    WEIR_JSON_NULL
};
/* Finds the first top-level member called field (NUL-terminated) of the object in
 * data; sets *raw to its value's text and returns its kind, or WEIR_JSON_INVALID
 * when data is not an object, has no such member or is malformed. */
enum weir_json_kind weir_json_get(weir_bytes data, const char *field, weir_bytes *raw);
enum weir_json_kind weir_json_get_n(weir_bytes data, const char *field, size_t field_len,
                                    weir_bytes *raw);
/* The text of a JSON number that is an integer: '-'? digits, no leading zeros, no
 * fraction or exponent, fitting an int64 ("-0" is 0). */
bool weir_json_parse_int(weir_bytes raw, int64_t *v);
/* The text of a JSON number (fraction and exponent included) as a double; false
 * when raw is not exactly one JSON number. Correctly rounded (as Go's
 * strconv.ParseFloat) when its digits, without the point, make an integer up to
 * 2^53 and the decimal exponent that scales it is within +-22 (12.34 is 1234e-2),
 * as amounts are; otherwise within a few units in the last place. */
bool weir_json_parse_f64(weir_bytes raw, double *v);
/* The top-level member field as an int64 (weir_json_get, then parse_int). */
bool weir_json_int(weir_bytes data, const char *field, int64_t *v);
/* Unescapes the JSON string raw (quotes included) into dst, of capacity cap; returns
 * the length, or -1 when raw is not a string or dst is too small (never more than
 * raw.len bytes are needed). A lone UTF-16 surrogate becomes U+FFFD. */
long weir_json_unquote(weir_bytes raw, uint8_t *dst, size_t cap);
/* Whether data is exactly one JSON value, whitespace around it allowed. */
bool weir_json_valid(weir_bytes data);
/* Calls fn on each element of the array raw until it returns false; false when
 * raw is not a well-formed array. */
bool weir_json_array_each(weir_bytes raw, bool (*fn)(void *ud, weir_bytes elem, enum weir_json_kind kind),
                          void *ud);
/* Calls fn on each member of the object raw (name as raw text, quotes included)
 * until it returns false; false when raw is not a well-formed object. */
bool weir_json_object_each(weir_bytes raw,
                           bool (*fn)(void *ud, weir_bytes name, weir_bytes value, enum weir_json_kind kind),
                           void *ud);

/* Appends s as a JSON string (quotes included) to dst, which needs room for
 * 2 + 6 * s.len bytes; returns the length written. '"', '\\' and control
 * characters are escaped (\b \f \n \r \t, else \u00XX), nothing else. */
size_t weir_json_quote(weir_bytes s, uint8_t *dst);
/* Decimal text of v into dst (at least 20 bytes); returns its length. */
size_t weir_format_i64(int64_t v, uint8_t *dst);
/* a * b, false when it overflows an int64. Written with bounds rather than
 * __builtin_mul_overflow, which needs compiler-rt's __multi3 on wasm32 (clang
 * also turns a check by division back into that). */
static inline bool weir_mul_i64(int64_t a, int64_t b, int64_t *r) {
    if (b > 0 ? (a > INT64_MAX / b || a < INT64_MIN / b)
              : b == -1 ? a == INT64_MIN
              : b < 0 && (a < INT64_MAX / b || a > INT64_MIN / b))
        return false;
    *r = (int64_t)((uint64_t)a * (uint64_t)b);
    return true;
}

#ifdef __cplusplus
}
#endif
#endif /* WEIR_H */
