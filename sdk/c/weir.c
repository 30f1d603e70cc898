/*
 * weir.c — the implementation of the Weir C SDK (weir.h), ABI v1 (sdk/ABI.md).
 *
 * Hosted (--target=wasm32-wasi) it allocates with wasi-libc's realloc; freestanding
 * (--target=wasm32 -nostdlib) with the small allocator below. Either way it holds
 * three buffers across calls — the input buffer, the output frame, the scratch
 * buffer — and allocates nothing per record.
 */
#include "weir.h"

#define WEIR_IMPORT(name) __attribute__((import_module("weir"), import_name(name)))
#define WEIR_EXPORT(name) __attribute__((export_name(name), visibility("default")))

WEIR_IMPORT("emit") void weir_host_emit(const void *ptr, uint32_t len);
WEIR_IMPORT("error") void weir_host_error(const void *ptr, uint32_t len);
WEIR_IMPORT("log") void weir_host_log(int32_t level, const void *ptr, uint32_t len);
/* Keyed state (ABI §4.2) and task info (§4.3). Out buffers are passed by their
 * whole capacity: the host writes at most that much and returns the length. */
WEIR_IMPORT("state_get") int32_t weir_host_state_get(uint32_t st, uint32_t rec, const void *sub, uint32_t sub_len,
                                                     void *out, uint32_t cap);
WEIR_IMPORT("state_put") int32_t weir_host_state_put(uint32_t st, uint32_t rec, const void *sub, uint32_t sub_len,
                                                     const void *val, uint32_t len);
WEIR_IMPORT("state_append") int32_t weir_host_state_append(uint32_t st, uint32_t rec, const void *val, uint32_t len);
WEIR_IMPORT("state_delete") int32_t weir_host_state_delete(uint32_t st, uint32_t rec, const void *sub, uint32_t sub_len);
WEIR_IMPORT("state_iter") int32_t weir_host_state_iter(uint32_t st, uint32_t rec, uint32_t cursor, void *out,
                                                       uint32_t cap);
WEIR_IMPORT("task_info") int32_t weir_host_task_info(void *out, uint32_t cap);
/* Timers and clocks (ABI §4.4). */
WEIR_IMPORT("timer_register") int32_t weir_host_timer_register(int32_t domain, uint32_t rec, int64_t time);
WEIR_IMPORT("timer_delete") int32_t weir_host_timer_delete(int32_t domain, uint32_t rec, int64_t time);
WEIR_IMPORT("current_watermark") int64_t weir_host_current_watermark(void);
WEIR_IMPORT("current_time") int64_t weir_host_current_time(void);

/* ------------------------------------------------------------------ memory */

#ifdef __wasi__
#include <stdlib.h>
#include <string.h>
static void *mem_realloc(void *p, size_t n) { return realloc(p, n); }
static void mem_free(void *p) { free(p); }
#else
/* Freestanding: the compiler may call these. With -mbulk-memory the builtins
 * compile to memory.copy and memory.fill; without, plain loops, which the compiler
 * must not turn back into calls to themselves (no_builtin). */
#ifdef __wasm_bulk_memory__
void *memcpy(void *d, const void *s, size_t n) {
    __builtin_memmove(d, s, n);
    return d;
}
void *memmove(void *d, const void *s, size_t n) {
    __builtin_memmove(d, s, n);
    return d;
}
void *memset(void *d, int c, size_t n) {
    __builtin_memset(d, c, n);
    return d;
}
#else
__attribute__((no_builtin)) void *memmove(void *d, const void *s, size_t n) {
    uint8_t *x = d;
    const uint8_t *y = s;
    if (x < y)
        for (size_t i = 0; i < n; i++) x[i] = y[i];
    else
        while (n--) x[n] = y[n];
    return d;
}
__attribute__((no_builtin)) void *memcpy(void *d, const void *s, size_t n) { return memmove(d, s, n); }
__attribute__((no_builtin)) void *memset(void *d, int c, size_t n) {
    uint8_t *x = d;
    for (size_t i = 0; i < n; i++) x[i] = (uint8_t)c;
    return d;
}
#endif
int memcmp(const void *a, const void *b, size_t n) {
    const uint8_t *x = a, *y = b;
    for (size_t i = 0; i < n; i++)
        if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
    return 0;
}
size_t strlen(const char *s) {
    size_t n = 0;
    while (s[n]) n++;
    return n;
}

/* A bump allocator over the memory past __heap_base. Each block has a size
 * header; the last block can grow and shrink in place, and freeing it gives its
 * memory back. The SDK holds three growing buffers, so blocks left behind by a
 * move add up to less than the buffers' largest sizes. */
extern unsigned char __heap_base;
static uintptr_t heap_top;  /* end of the last block */
static uintptr_t last;      /* the last block's data, or 0 */

static bool heap_reserve(uintptr_t end) {
    uintptr_t have = __builtin_wasm_memory_size(0) * 65536u;
    if (end <= have) return true;
    if (end < heap_top) return false; /* wrapped around */
    size_t pages = (end - have + 65535u) / 65536u;
    return __builtin_wasm_memory_grow(0, pages) != (size_t)-1;
}

static void *mem_realloc(void *p, size_t n) {
    if (!heap_top) heap_top = ((uintptr_t)&__heap_base + 15) & ~(uintptr_t)15;
    if (n > 0x7FFFFFF0u) return 0;
    n = (n + 15) & ~(size_t)15;
    if (p && (uintptr_t)p == last) { /* the last block: grow or shrink in place */
        if (!heap_reserve(last + n)) return 0;
        ((size_t *)p)[-4] = n;
        heap_top = last + n;
        return p;
    }
    uintptr_t data = heap_top + 16;
    if (!heap_reserve(data + n)) return 0;
    ((size_t *)data)[-4] = n;
    if (p) {
        size_t old = ((size_t *)p)[-4];
        __builtin_memcpy((void *)data, p, old < n ? old : n);
    }
    heap_top = data + n;
    last = data;
    return (void *)data;
}

static void mem_free(void *p) {
    if (p && (uintptr_t)p == last) {
        heap_top = last - 16;
        last = 0;
    }
}
#endif

/* A growing byte buffer. */
typedef struct buf {
    uint8_t *ptr;
    size_t len, cap;
} buf;

static bool buf_reserve(buf *b, size_t more) {
    if (b->cap - b->len >= more) return true;
    size_t need = b->len + more;
    if (need < b->len) return false;
    size_t cap = b->cap ? b->cap * 2 : 4096;
    while (cap < need) cap *= 2;
    uint8_t *p = mem_realloc(b->ptr, cap);
    if (!p) return false;
    b->ptr = p;
    b->cap = cap;
    return true;
}

static inline void put_u32(uint8_t *p, uint32_t v) { __builtin_memcpy(p, &v, 4); }
static inline void put_i64(uint8_t *p, int64_t v) { __builtin_memcpy(p, &v, 8); }
static inline uint32_t get_u32(const uint8_t *p) {
    uint32_t v;
    __builtin_memcpy(&v, p, 4);
    return v;
}
static inline int64_t get_i64(const uint8_t *p) {
    int64_t v;
    __builtin_memcpy(&v, p, 8);
    return v;
}

static size_t cstrlen(const char *s) {
    size_t n = 0;
    while (s[n]) n++;
    return n;
}

/* ------------------------------------------------------------------ registry */

enum { KIND_MAP, KIND_FILTER, KIND_FLAT_MAP, KIND_KEY_SELECTOR, KIND_PROCESS, KIND_REDUCE, KIND_AGGREGATE,
       KIND_WINDOW_PROCESS, KIND_TIMESTAMP, KIND_CO_PROCESS, KIND_TRIGGER, KIND_EVICTOR };
#define MAX_FUNCTIONS 64
#define MAX_SIDE_OUTPUTS 16
#define MAX_STATES 16

struct state_decl {
    const char *name;
    enum weir_state_kind kind;
    uint64_t ttl_ms;
};

struct function {
    const char *name;
    int kind;
    void *ud;
    weir_map_fn map;
    weir_filter_fn filter;
    weir_flat_map_fn flat_map;
    weir_key_selector_fn key_selector;
    weir_process_fn process;  /* a co_process function's process1 too */
    weir_process_fn process2; /* a co_process function's second input */
    weir_reduce_fn reduce;
    weir_timer_fn timer;
    weir_aggregate_fns aggregate;
    weir_window_fn window;
    weir_timestamp_fn timestamp;
    weir_trigger_fn trigger;
    weir_evictor_fn evictor;
    weir_open_fn open;
    weir_close_fn close;
    uint32_t n_side;
    const char *side[MAX_SIDE_OUTPUTS];
    uint32_t n_state;
    struct state_decl state[MAX_STATES];
};

static struct function functions[MAX_FUNCTIONS];
static int n_functions;
static bool registered;

static bool valid_name(const char *s) {
    size_t n = cstrlen(s);
    if (n < 1 || n > 128) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '.' || c == '-'))
            return false;
    }
    return true;
}

static bool same(const char *a, const char *b) {
    while (*a && *a == *b) a++, b++;
    return *a == *b;
}

static int add_function(const char *name, int kind, void *ud) {
    if (registered || n_functions == MAX_FUNCTIONS || !valid_name(name)) __builtin_trap();
    for (int i = 0; i < n_functions; i++)
        if (same(functions[i].name, name)) __builtin_trap();
    struct function *f = &functions[n_functions];
    f->name = name;
    f->kind = kind;
    f->ud = ud;
    return n_functions++;
}

int weir_map(const char *name, weir_map_fn fn, void *ud) {
    int i = add_function(name, KIND_MAP, ud);
    functions[i].map = fn;
    return i;
}
int weir_filter(const char *name, weir_filter_fn fn, void *ud) {
    int i = add_function(name, KIND_FILTER, ud);
    functions[i].filter = fn;
    return i;
}
int weir_flat_map(const char *name, weir_flat_map_fn fn, void *ud) {
    int i = add_function(name, KIND_FLAT_MAP, ud);
    functions[i].flat_map = fn;
    return i;
}
int weir_key_selector(const char *name, weir_key_selector_fn fn, void *ud) {
    int i = add_function(name, KIND_KEY_SELECTOR, ud);
    functions[i].key_selector = fn;
    return i;
}
int weir_process(const char *name, weir_process_fn fn, void *ud) {
    int i = add_function(name, KIND_PROCESS, ud);
    functions[i].process = fn;
    return i;
}
int weir_reduce(const char *name, weir_reduce_fn fn, void *ud) {
    int i = add_function(name, KIND_REDUCE, ud);
    functions[i].reduce = fn;
    /* State 0 holds the running values; its name maps them in checkpoints. */
    functions[i].n_state = 1;
    functions[i].state[0] = (struct state_decl){"reduce", WEIR_STATE_REDUCING, 0};
    return i;
}
weir_state weir_state_declare(int i, const char *name, enum weir_state_kind kind, uint64_t ttl_ms) {
    if (registered || i < 0 || i >= n_functions || !valid_name(name) || (unsigned)kind > WEIR_STATE_BROADCAST)
        __builtin_trap();
    struct function *f = &functions[i];
    if ((f->kind != KIND_PROCESS && f->kind != KIND_CO_PROCESS) || f->n_state == MAX_STATES) __builtin_trap();
    /* Only a co_process function's second input can write broadcast state, and it
     * has no TTL (ABI §2, §4.8). */
    if (kind == WEIR_STATE_BROADCAST && (f->kind != KIND_CO_PROCESS || ttl_ms)) __builtin_trap();
    for (uint32_t k = 0; k < f->n_state; k++)
        if (same(f->state[k].name, name)) __builtin_trap();
    f->state[f->n_state] = (struct state_decl){name, kind, ttl_ms};
    return (weir_state){f->n_state++, i, name};
}
void weir_on_open(int i, weir_open_fn open) {
    if (registered || i < 0 || i >= n_functions) __builtin_trap();
    functions[i].open = open;
}
void weir_on_close(int i, weir_close_fn close) {
    if (registered || i < 0 || i >= n_functions) __builtin_trap();
    functions[i].close = close;
}
uint32_t weir_side_output(int i, const char *name) {
    if (registered || i < 0 || i >= n_functions || !valid_name(name)) __builtin_trap();
    struct function *f = &functions[i];
    /* A key_selector declares no side outputs (ABI §2), a reduce function emits
     * only its running values, a trigger or evictor one answer per event or window. */
    if (f->n_side == MAX_SIDE_OUTPUTS || f->kind == KIND_KEY_SELECTOR || f->kind == KIND_REDUCE ||
        f->kind == KIND_TRIGGER || f->kind == KIND_EVICTOR)
        __builtin_trap();
    f->side[f->n_side++] = name;
    return f->n_side;
}

static void ensure_registered(void) {
    if (!registered) {
        weir_register();
        registered = true;
    }
}

/* ------------------------------------------------------------------ errors, logs */

int weir_fail_n(const char *msg, size_t len) {
    weir_host_error(msg, (uint32_t)len);
    return WEIR_ERR;
}
int weir_fail(const char *msg) { return weir_fail_n(msg, cstrlen(msg)); }
void weir_log(enum weir_level level, const char *msg) { weir_host_log((int32_t)level, msg, (uint32_t)cstrlen(msg)); }

/* ------------------------------------------------------------------ exports */

static buf input;    /* the buffer weir_alloc handed out */
static buf frame;    /* the output frame */
static buf scratch;  /* weir_scratch */
static buf hdrs;     /* the headers of the output being built */
static buf description;

WEIR_EXPORT("weir_abi_version") int32_t weir_abi_version(void) { return WEIR_ABI_VERSION; }

WEIR_EXPORT("weir_alloc") uint8_t *weir_alloc(int32_t size) {
    if (size < 0) return 0;
    /* The host no longer uses the old buffer: give it back first. */
    mem_free(input.ptr);
    input.ptr = 0;
    input.cap = 0;
    uint8_t *p = mem_realloc(0, size ? (size_t)size : 1);
    if (!p) return 0;
    input.ptr = p;
    input.cap = size ? (size_t)size : 1;
    return p;
}

static bool append(buf *b, const void *p, size_t n) {
    if (!buf_reserve(b, n)) return false;
    __builtin_memcpy(b->ptr + b->len, p, n);
    b->len += n;
    return true;
}
static bool append_str(buf *b, const char *s) { return append(b, s, cstrlen(s)); }

static bool build_description(void) {
    buf *b = &description;
    bool ok = append_str(b, "{\"abi_version\":1,\"sdk\":\"c/" WEIR_SDK_VERSION "\",\"functions\":[");
    static const char *kinds[] = {"map",       "filter",     "flat_map", "key_selector",
                                  "process",   "reduce",     "aggregate", "window_process",
                                  "timestamp_extractor", "co_process", "trigger", "evictor"};
    static const char *state_kinds[] = {"value", "list", "map", "reducing", "aggregating", "broadcast"};
    for (int i = 0; i < n_functions; i++) {
        struct function *f = &functions[i];
        uint8_t num[20];
        ok = ok && append_str(b, i ? ",{\"name\":\"" : "{\"name\":\"") && append_str(b, f->name) &&
             append_str(b, "\",\"kind\":\"") && append_str(b, kinds[f->kind]) && append_str(b, "\",\"index\":") &&
             append(b, num, weir_format_i64(i, num)) && append_str(b, ",\"side_outputs\":[");
        for (uint32_t s = 0; s < f->n_side; s++)
            ok = ok && append_str(b, s ? ",\"" : "\"") && append_str(b, f->side[s]) && append_str(b, "\"");
        ok = ok && append_str(b, "],\"state\":[");
        for (uint32_t k = 0; k < f->n_state; k++) {
            struct state_decl *d = &f->state[k];
            uint64_t ttl = d->ttl_ms > (uint64_t)INT64_MAX ? (uint64_t)INT64_MAX : d->ttl_ms;
            ok = ok && append_str(b, k ? ",{\"name\":\"" : "{\"name\":\"") && append_str(b, d->name) &&
                 append_str(b, "\",\"kind\":\"") && append_str(b, state_kinds[d->kind]) &&
                 append_str(b, "\",\"ttl_ms\":") && append(b, num, weir_format_i64((int64_t)ttl, num)) &&
                 append_str(b, "}");
        }
        ok = ok && append_str(b, "]}");
    }
    return ok && append_str(b, "]}");
}

WEIR_EXPORT("weir_describe") uint64_t weir_describe(void) {
    ensure_registered();
    if (!description.len && !build_description()) __builtin_trap();
    return (uint64_t)(uintptr_t)description.ptr << 32 | (uint32_t)description.len;
}

enum { RC_OK = 0, RC_ERROR = 1, RC_UNKNOWN_FN = 2, RC_UNSUPPORTED = 3, RC_MALFORMED = 4 };
enum { CALL_OPEN = 1, CALL_PROCESS = 2, CALL_PROCESS2 = 3, CALL_TIMER = 4, CALL_WINDOW = 5, CALL_CLOSE = 6,
       CALL_AGGREGATE = 7, CALL_TRIGGER = 8, CALL_EVICT = 9 };

/* Decodes the record at p (before end) into r; returns the position after it, or
 * NULL when it is malformed. */
static const uint8_t *read_record(const uint8_t *p, const uint8_t *end, weir_record *r) {
    if (p >= end) return 0;
    uint8_t flags = *p++;
    if (flags & 0xF0) return 0;
    r->flags = flags;
    r->key.ptr = p;
    r->key.len = 0;
    r->timestamp = 0;
    r->header_count = 0;
    r->headers.ptr = p;
    r->headers.len = 0;
    if (flags & WEIR_FLAG_KEY) {
        if (end - p < 4) return 0;
        uint32_t n = get_u32(p);
        p += 4;
        if ((size_t)(end - p) < n) return 0;
        r->key.ptr = p;
        r->key.len = n;
        p += n;
    }
    if (flags & WEIR_FLAG_TIMESTAMP) {
        if (end - p < 8) return 0;
        r->timestamp = get_i64(p);
        p += 8;
    }
    r->payload.ptr = p;
    r->payload.len = 0;
    if (flags & WEIR_FLAG_PAYLOAD) {
        if (end - p < 4) return 0;
        uint32_t n = get_u32(p);
        p += 4;
        if ((size_t)(end - p) < n) return 0;
        r->payload.ptr = p;
        r->payload.len = n;
        p += n;
    }
    if (flags & WEIR_FLAG_HEADERS) {
        if (end - p < 4) return 0;
        uint32_t n = get_u32(p);
        p += 4;
        const uint8_t *h = p;
        for (uint32_t i = 0; i < 2 * n; i++) {
            if (end - p < 4) return 0;
            uint32_t l = get_u32(p);
            p += 4;
            if ((size_t)(end - p) < l) return 0;
            p += l;
        }
        r->header_count = n;
        r->headers.ptr = h;
        r->headers.len = (size_t)(p - h);
    }
    return p;
}

weir_header_iter weir_headers(const weir_record *r) {
    weir_header_iter it = {r->headers.ptr, r->headers.ptr + r->headers.len, r->header_count};
    return it;
}

bool weir_header_next(weir_header_iter *it, weir_bytes *name, weir_bytes *value) {
    if (!it->left) return false;
    /* The record was checked when it was decoded. */
    name->len = get_u32(it->p);
    name->ptr = it->p + 4;
    it->p = name->ptr + name->len;
    value->len = get_u32(it->p);
    value->ptr = it->p + 4;
    it->p = value->ptr + value->len;
    it->left--;
    return true;
}

bool weir_header(const weir_record *r, const char *name, weir_bytes *value) {
    size_t n = cstrlen(name);
    weir_header_iter it = weir_headers(r);
    weir_bytes k, v;
    while (weir_header_next(&it, &k, &v)) {
        if (k.len == n && __builtin_memcmp(k.ptr, name, n) == 0) {
            *value = v;
            return true;
        }
    }
    return false;
}

bool weir_headers_add(weir_output *o, const void *name, size_t nl, const void *value, size_t vl) {
    if (!(o->flags & WEIR_FLAG_HEADERS)) {
        hdrs.len = 0;
        o->header_count = 0;
        o->flags |= WEIR_FLAG_HEADERS;
    }
    if (!buf_reserve(&hdrs, 8 + nl + vl)) return false;
    put_u32(hdrs.ptr + hdrs.len, (uint32_t)nl);
    __builtin_memcpy(hdrs.ptr + hdrs.len + 4, name, nl);
    hdrs.len += 4 + nl;
    put_u32(hdrs.ptr + hdrs.len, (uint32_t)vl);
    __builtin_memcpy(hdrs.ptr + hdrs.len + 4, value, vl);
    hdrs.len += 4 + vl;
    o->header_count++;
    o->headers.ptr = hdrs.ptr;
    o->headers.len = hdrs.len;
    return true;
}

uint8_t *weir_scratch(size_t cap) {
    if (scratch.cap < cap) {
        scratch.len = scratch.cap;
        if (!buf_reserve(&scratch, cap - scratch.cap)) return 0;
        scratch.len = 0;
    }
    return scratch.ptr;
}

static uint32_t frame_count;

/* Appends one output (input_index, tag, record) to the frame. */
static bool append_output(uint32_t parent, const weir_output *o) {
    uint8_t f = o->flags & 0x0F;
    size_t n = 9;
    if (f & WEIR_FLAG_KEY) n += 4 + o->key.len;
    if (f & WEIR_FLAG_TIMESTAMP) n += 8;
    if (f & WEIR_FLAG_PAYLOAD) n += 4 + o->payload.len;
    if (f & WEIR_FLAG_HEADERS) n += 4 + o->headers.len;
    if (!buf_reserve(&frame, n)) return false;
    uint8_t *p = frame.ptr + frame.len;
    put_u32(p, parent);
    put_u32(p + 4, o->tag);
    p[8] = f;
    p += 9;
    if (f & WEIR_FLAG_KEY) {
        put_u32(p, (uint32_t)o->key.len);
        __builtin_memcpy(p + 4, o->key.ptr, o->key.len);
        p += 4 + o->key.len;
    }
    if (f & WEIR_FLAG_TIMESTAMP) {
        put_i64(p, o->timestamp);
        p += 8;
    }
    if (f & WEIR_FLAG_PAYLOAD) {
        put_u32(p, (uint32_t)o->payload.len);
        __builtin_memcpy(p + 4, o->payload.ptr, o->payload.len);
        p += 4 + o->payload.len;
    }
    if (f & WEIR_FLAG_HEADERS) {
        put_u32(p, o->header_count);
        __builtin_memcpy(p + 4, o->headers.ptr, o->headers.len);
        p += 4 + o->headers.len;
    }
    frame.len += n;
    frame_count++;
    return true;
}

struct weir_collector {
    uint32_t parent;
    bool failed;   /* an output was refused: the call fails */
    bool reported; /* ... and the message is set already (else: out of memory) */
};

bool weir_collect(weir_collector *c, const weir_output *o) {
    if (!append_output(c->parent, o)) {
        c->failed = true;
        return false;
    }
    return true;
}

bool weir_collect_payload(weir_collector *c, const void *p, size_t n) {
    weir_output o = {0};
    weir_set_payload(&o, p, n);
    return weir_collect(c, &o);
}

static bool is_object(const uint8_t *p, size_t n);

/* ------------------------------------------------------------------ keyed state */

struct weir_context {
    struct function *f;
    uint32_t record;      /* the current record's index: the record argument of the imports */
    weir_collector out;   /* its outputs */
    int depth;            /* how many state iterations are running */
    int input;            /* 1 or 2: the input of the record (process, process2); 0: a timer */
};

#define CONTEXT(fn, i, in) ((weir_context){.f = (fn), .record = (i), .out = {(i), false, false}, .input = (in)})

static buf state_buf;  /* state reads; its cap is what the host may write */
/* One buffer per nesting level of weir_state_each, so that a callback may iterate
 * another state while its entry stays valid. */
#define MAX_ITER_DEPTH 4
static buf iter_bufs[MAX_ITER_DEPTH];
static buf errmsg;     /* the message of a failed state call */

enum { STATE_ABSENT = -1, STATE_UNSUPPORTED = -2, STATE_INVALID = -3 };

/* Fails the current call with "weir: <op> state "<name>": <why>". */
static bool is_broadcast(const weir_state *st) {
    return st->fn >= 0 && st->fn < n_functions && st->index < functions[st->fn].n_state &&
           functions[st->fn].state[st->index].kind == WEIR_STATE_BROADCAST;
}

/* Why the host answered INVALID, as far as the SDK can tell (ABI §4.7, §4.8). */
static const char *invalid_reason(const weir_context *ctx, const weir_state *st, const char *op) {
    bool writes = op[0] != 'r' && op[0] != 'i'; /* not reading, not iterating */
    if (is_broadcast(st) && writes && ctx && ctx->input != 2)
        return "broadcast state is written only while processing the broadcast input (process2) (INVALID)";
    if (!is_broadcast(st) && ctx && ctx->input == 2)
        return "the host refused the call as invalid (INVALID): in process2 of a broadcast input the records "
               "have no key, so keyed state is unavailable";
    return "the host refused the call as invalid (INVALID)";
}

static int state_fail(const weir_context *ctx, const char *op, const weir_state *st, const char *why, int32_t code) {
    errmsg.len = 0;
    bool ok = append_str(&errmsg, "weir: ") && append_str(&errmsg, op) && append_str(&errmsg, " state \"") &&
              append_str(&errmsg, st->name ? st->name : "?") && append_str(&errmsg, "\": ");
    if (why) {
        ok = ok && append_str(&errmsg, why);
    } else if (code == STATE_UNSUPPORTED) {
        ok = ok && append_str(&errmsg, "the host does not support keyed state (UNSUPPORTED)");
    } else if (code == STATE_INVALID) {
        ok = ok && append_str(&errmsg, invalid_reason(ctx, st, op));
    } else {
        uint8_t num[20];
        ok = ok && append_str(&errmsg, "unexpected return code ") && append(&errmsg, num, weir_format_i64(code, num));
    }
    if (!ok) return weir_fail("weir: a state call failed, and so did building its message (out of memory)");
    return weir_fail_n((const char *)errmsg.ptr, errmsg.len);
}

/* Refuses a handle used outside its function's process call. */
static bool state_usable(weir_context *ctx, const weir_state *st, const char *op, int *rc) {
    if (!st->name) {
        *rc = state_fail(ctx, op, st, "the handle was never declared (weir_state_declare)", 0);
        return false;
    }
    if (!ctx || !ctx->f || st->fn < 0 || st->fn >= n_functions || &functions[st->fn] != ctx->f) {
        *rc = state_fail(ctx, op, st, "the state belongs to another function, or there is no process call", 0);
        return false;
    }
    return true;
}

/* Grows b so that it can hold n bytes (its len stays 0). */
static bool buf_fit(buf *b, size_t n) {
    b->len = 0;
    return buf_reserve(b, n ? n : 64);
}

static int state_read(weir_context *ctx, weir_state st, const char *op, const void *sub, size_t sub_len,
                      weir_bytes *value, bool *found) {
    int rc = WEIR_OK;
    if (!state_usable(ctx, &st, op, &rc)) return rc;
    *found = false;
    value->ptr = 0;
    value->len = 0;
    if (!state_buf.cap && !buf_fit(&state_buf, 64)) return state_fail(ctx, op, &st, "out of memory", 0);
    for (;;) {
        int32_t n = weir_host_state_get(st.index, ctx->record, sub, (uint32_t)sub_len, state_buf.ptr,
                                        (uint32_t)state_buf.cap);
        if (n == STATE_ABSENT) return WEIR_OK;
        if (n < 0) return state_fail(ctx, op, &st, 0, n);
        if ((size_t)n <= state_buf.cap) {
            value->ptr = state_buf.ptr;
            value->len = (size_t)n;
            *found = true;
            return WEIR_OK;
        }
        /* Too small: nothing was written; grow to the value's length and ask again. */
        if (!buf_fit(&state_buf, (size_t)n)) return state_fail(ctx, op, &st, "out of memory", 0);
    }
}

static int state_result(const weir_context *ctx, const char *op, weir_state st, int32_t code) {
    return code == 0 ? WEIR_OK : state_fail(ctx, op, &st, 0, code);
}

int weir_state_get(weir_context *ctx, weir_state st, weir_bytes *value, bool *found) {
    return state_read(ctx, st, "reading", 0, 0, value, found);
}

int weir_state_put(weir_context *ctx, weir_state st, const void *value, size_t len) {
    int rc = WEIR_OK;
    if (!state_usable(ctx, &st, "writing", &rc)) return rc;
    return state_result(ctx, "writing", st, weir_host_state_put(st.index, ctx->record, 0, 0, value, (uint32_t)len));
}

int weir_state_clear(weir_context *ctx, weir_state st) {
    int rc = WEIR_OK;
    if (!state_usable(ctx, &st, "clearing", &rc)) return rc;
    return state_result(ctx, "clearing", st, weir_host_state_delete(st.index, ctx->record, 0, 0));
}

int weir_state_get_i64(weir_context *ctx, weir_state st, int64_t *value, bool *found) {
    weir_bytes v;
    *value = 0;
    int rc = state_read(ctx, st, "reading", 0, 0, &v, found);
    if (rc != WEIR_OK || !*found) return rc;
    if (v.len != 8) {
        *found = false;
        return state_fail(ctx, "reading", &st, "the value is not an 8-byte little-endian int64", 0);
    }
    *value = get_i64(v.ptr);
    return WEIR_OK;
}

int weir_state_put_i64(weir_context *ctx, weir_state st, int64_t value) {
    uint8_t b[8];
    put_i64(b, value);
    return weir_state_put(ctx, st, b, 8);
}

int weir_list_append(weir_context *ctx, weir_state st, const void *value, size_t len) {
    int rc = WEIR_OK;
    if (!state_usable(ctx, &st, "appending to", &rc)) return rc;
    return state_result(ctx, "appending to", st, weir_host_state_append(st.index, ctx->record, value, (uint32_t)len));
}

int weir_map_get(weir_context *ctx, weir_state st, const void *sub, size_t sub_len, weir_bytes *value, bool *found) {
    return state_read(ctx, st, "reading", sub, sub_len, value, found);
}

int weir_map_put(weir_context *ctx, weir_state st, const void *sub, size_t sub_len, const void *value, size_t len) {
    int rc = WEIR_OK;
    if (!state_usable(ctx, &st, "writing", &rc)) return rc;
    return state_result(ctx, "writing", st,
                        weir_host_state_put(st.index, ctx->record, sub, (uint32_t)sub_len, value, (uint32_t)len));
}

int weir_map_delete(weir_context *ctx, weir_state st, const void *sub, size_t sub_len) {
    int rc = WEIR_OK;
    if (!state_usable(ctx, &st, "deleting from", &rc)) return rc;
    if (!sub_len)
        return state_fail(ctx, "deleting from", &st,
                          "an empty sub-key cannot be deleted on its own (it would clear the whole map; use "
                          "weir_state_clear)",
                          0);
    return state_result(ctx, "deleting from", st, weir_host_state_delete(st.index, ctx->record, sub, (uint32_t)sub_len));
}

/* Splits an entry of state_iter: a record frame (ABI §5) with PAYLOAD and, for a
 * map, KEY (the sub-key). */
static bool decode_entry(const uint8_t *p, size_t n, weir_bytes *sub, weir_bytes *val) {
    const uint8_t *end = p + n;
    if (n < 1 || (p[0] & ~(WEIR_FLAG_KEY | WEIR_FLAG_PAYLOAD))) return false;
    uint8_t flags = *p++;
    weir_bytes *fields[2] = {sub, val};
    uint8_t bits[2] = {WEIR_FLAG_KEY, WEIR_FLAG_PAYLOAD};
    for (int k = 0; k < 2; k++) {
        fields[k]->ptr = p;
        fields[k]->len = 0;
        if (!(flags & bits[k])) continue;
        if (end - p < 4) return false;
        uint32_t len = get_u32(p);
        if (len > (size_t)(end - p) - 4) return false;
        fields[k]->ptr = p + 4;
        fields[k]->len = len;
        p += 4 + len;
    }
    return p == end;
}

int weir_state_each(weir_context *ctx, weir_state st, weir_state_each_fn fn, void *ud) {
    int rc = WEIR_OK;
    if (!state_usable(ctx, &st, "iterating", &rc)) return rc;
    if (ctx->depth == MAX_ITER_DEPTH) return state_fail(ctx, "iterating", &st, "state iterations nested too deep", 0);
    buf *b = &iter_bufs[ctx->depth];
    if (!b->cap && !buf_fit(b, 64)) return state_fail(ctx, "iterating", &st, "out of memory", 0);
    ctx->depth++;
    for (uint32_t cursor = 0;;) {
        int32_t n = weir_host_state_iter(st.index, ctx->record, cursor, b->ptr, (uint32_t)b->cap);
        if (n == STATE_ABSENT) break;
        if (n < 0) {
            rc = state_fail(ctx, "iterating", &st, 0, n);
            break;
        }
        if ((size_t)n > b->cap) {
            if (!buf_fit(b, (size_t)n)) {
                rc = state_fail(ctx, "iterating", &st, "out of memory", 0);
                break;
            }
            continue; /* the same cursor again, with room for the entry */
        }
        weir_bytes sub, val;
        if (!decode_entry(b->ptr, (size_t)n, &sub, &val)) {
            rc = state_fail(ctx, "iterating", &st, "the host sent a malformed entry", 0);
            break;
        }
        int r = fn(ud, ctx, sub, val);
        if (r == WEIR_STOP) break;
        if (r != WEIR_OK) {
            rc = WEIR_ERR;
            break;
        }
        cursor++;
    }
    ctx->depth--;
    return rc;
}

bool weir_emit(weir_context *ctx, const weir_output *o) {
    if (o->tag > ctx->f->n_side) {
        /* The host would fail the task with less to go on (ABI §5). */
        uint8_t num[20];
        errmsg.len = 0;
        if (append_str(&errmsg, "weir: emitting on output tag ") &&
            append(&errmsg, num, weir_format_i64(o->tag, num)) && append_str(&errmsg, ", which function \"") &&
            append_str(&errmsg, ctx->f->name) && append_str(&errmsg, "\" did not declare (weir_side_output)"))
            weir_fail_n((const char *)errmsg.ptr, errmsg.len);
        else
            weir_fail("weir: emitting on an undeclared output tag");
        ctx->out.failed = ctx->out.reported = true;
        return false;
    }
    return weir_collect(&ctx->out, o);
}
bool weir_emit_payload(weir_context *ctx, const void *p, size_t n) {
    weir_output o = {0};
    weir_set_payload(&o, p, n);
    return weir_emit(ctx, &o);
}
bool weir_emit_to(weir_context *ctx, uint32_t tag, const weir_output *o) {
    weir_output t = *o;
    t.tag = tag;
    return weir_emit(ctx, &t);
}
bool weir_emit_payload_to(weir_context *ctx, uint32_t tag, const void *p, size_t n) {
    weir_output o = {0};
    o.tag = tag;
    weir_set_payload(&o, p, n);
    return weir_emit(ctx, &o);
}
uint32_t weir_context_index(const weir_context *ctx) { return ctx->record; }
int weir_context_input(const weir_context *ctx) { return ctx->input; }

/* The code of a call whose collector refused an output. */
static int32_t collector_failed(const weir_collector *c);

/* ------------------------------------------------------------------ task info */

static weir_task_info task;
static bool task_cached;
static buf task_text;  /* the unescaped strings task points to */

static bool task_string(weir_bytes doc, const char *field, weir_bytes *dst, size_t at) {
    weir_bytes raw;
    enum weir_json_kind k = weir_json_get(doc, field, &raw);
    if (k == WEIR_JSON_INVALID || k == WEIR_JSON_NULL) return true;
    if (k != WEIR_JSON_STRING) return false;
    long n = weir_json_unquote(raw, task_text.ptr + at, task_text.cap - at);
    if (n < 0) return false;
    dst->ptr = task_text.ptr + at;
    dst->len = (size_t)n;
    task_text.len = at + (size_t)n;
    return true;
}

static bool task_int(weir_bytes doc, const char *field, int64_t *dst) {
    weir_bytes raw;
    enum weir_json_kind k = weir_json_get(doc, field, &raw);
    if (k == WEIR_JSON_INVALID || k == WEIR_JSON_NULL) return true;
    return weir_json_parse_int(raw, dst);
}

int weir_get_task_info(const weir_task_info **info) {
    *info = &task;
    if (task_cached) return WEIR_OK;
    buf doc = {0, 0, 0};
    if (!buf_fit(&doc, 256)) return weir_fail("weir: reading task info: out of memory");
    int32_t n;
    while ((n = weir_host_task_info(doc.ptr, (uint32_t)doc.cap)) >= 0 && (size_t)n > doc.cap)
        if (!buf_fit(&doc, (size_t)n)) return weir_fail("weir: reading task info: out of memory");
    if (n < 0) return weir_fail("weir: reading task info: the host returned an error code");
    weir_bytes d = {doc.ptr, (size_t)n};
    weir_task_info t = {{0, 0}, {0, 0}, {0, 0}, 0, 0, 0, 0};
    /* Unescaped strings are never longer than the document. */
    if (!buf_fit(&task_text, (size_t)n)) return weir_fail("weir: reading task info: out of memory");
    if (!is_object(d.ptr, d.len)) return weir_fail("weir: reading task info: the host sent something else than a JSON object");
    if (!task_string(d, "job_id", &t.job_id, 0) || !task_string(d, "job_name", &t.job_name, task_text.len) ||
        !task_string(d, "step", &t.step, task_text.len))
        return weir_fail("weir: reading task info: job_id, job_name or step is not a string");
    if (!task_int(d, "subtask", &t.subtask) || !task_int(d, "parallelism", &t.parallelism) ||
        !task_int(d, "max_parallelism", &t.max_parallelism) || !task_int(d, "attempt", &t.attempt))
        return weir_fail("weir: reading task info: subtask, parallelism, max_parallelism or attempt is not an integer");
    mem_free(doc.ptr);
    task = t;
    task_cached = true;
    return WEIR_OK;
}

static int32_t out_of_memory(void) {
    weir_fail("weir: out of memory building the output frame");
    return RC_ERROR;
}

static int32_t collector_failed(const weir_collector *c) { return c->reported ? RC_ERROR : out_of_memory(); }

/* A process call (input 1) or a process2 call (input 2, co_process only). */
static int32_t process(struct function *f, const uint8_t *in, size_t len, int input) {
    /* Aggregate, window process, trigger and evictor functions take no process
     * call, not even one of an empty batch; only co_process takes process2. */
    if (f->kind == KIND_AGGREGATE || f->kind == KIND_WINDOW_PROCESS || f->kind == KIND_TRIGGER ||
        f->kind == KIND_EVICTOR || (input == 2 && f->kind != KIND_CO_PROCESS))
        return RC_UNSUPPORTED;
    if (len < 4) return RC_MALFORMED;
    const uint8_t *end = in + len, *p = in + 4;
    uint32_t count = get_u32(in);
    if (count > len - 4) return RC_MALFORMED; /* every record takes a byte at least */
    frame.len = 0;
    frame_count = 0;
    if (!buf_reserve(&frame, 4)) return out_of_memory();
    frame.len = 4;
    weir_record r;
    for (uint32_t i = 0; i < count; i++) {
        if (!(p = read_record(p, end, &r))) return RC_MALFORMED;
        r.index = i;
        switch (f->kind) {
        case KIND_MAP: {
            weir_output o = {0};
            if (f->map(f->ud, &r, &o) != WEIR_OK) return RC_ERROR;
            o.tag = 0; /* a map's output is its main output */
            if (!append_output(i, &o)) return out_of_memory();
            break;
        }
        case KIND_FILTER: {
            bool keep = false;
            if (f->filter(f->ud, &r, &keep) != WEIR_OK) return RC_ERROR;
            if (keep) {
                weir_output o = {0};
                if (!append_output(i, &o)) return out_of_memory();
            }
            break;
        }
        case KIND_KEY_SELECTOR: {
            /* One output per record with flags KEY and nothing else (ABI §4); the
             * key is copied into the frame before the next record. */
            weir_output o = {0};
            if (f->key_selector(f->ud, &r, &o.key) != WEIR_OK) return RC_ERROR;
            o.flags = WEIR_FLAG_KEY;
            if (!append_output(i, &o)) return out_of_memory();
            break;
        }
        case KIND_PROCESS:
        case KIND_CO_PROCESS: {
            weir_context ctx = CONTEXT(f, i, input);
            /* A refused output fails the call whatever the function returns. */
            int rc = (input == 2 ? f->process2 : f->process)(f->ud, &r, &ctx);
            if (ctx.out.failed) return collector_failed(&ctx.out);
            if (rc != WEIR_OK) return RC_ERROR;
            break;
        }
        case KIND_REDUCE: {
            /* ABI §4.1: the running value, combined with the payload, stored back
             * and emitted as the record's output. */
            weir_context ctx = CONTEXT(f, i, 1);
            weir_state st = {0, (int)(f - functions), "reduce"};
            weir_bytes acc, next = r.payload;
            bool found;
            if (weir_state_get(&ctx, st, &acc, &found) != WEIR_OK) return RC_ERROR;
            if (found && f->reduce(f->ud, acc, r.payload, &next) != WEIR_OK) return RC_ERROR;
            if (weir_state_put(&ctx, st, next.ptr, next.len) != WEIR_OK) return RC_ERROR;
            weir_output o = {0};
            weir_set_payload(&o, next.ptr, next.len);
            if (!append_output(i, &o)) return out_of_memory();
            break;
        }
        case KIND_TIMESTAMP: {
            /* One output per record: TIMESTAMP, or nothing (dropped), with an
             * 8-byte watermark as payload after a punctuation (ABI §4). */
            weir_timestamp_result res = {0};
            if (f->timestamp(f->ud, &r, &res) != WEIR_OK) return RC_ERROR;
            weir_output o = {0};
            uint8_t wm[8];
            if (res.has_time) weir_set_timestamp(&o, res.time);
            if (res.has_watermark) {
                put_i64(wm, res.watermark);
                weir_set_payload(&o, wm, 8);
            }
            if (!append_output(i, &o)) return out_of_memory();
            break;
        }
        case KIND_FLAT_MAP: {
            weir_collector c = {i, false, false};
            if (f->flat_map(f->ud, &r, &c) != WEIR_OK) return RC_ERROR;
            if (c.failed) return out_of_memory();
            break;
        }
        default:
            return RC_UNSUPPORTED;
        }
    }
    if (p != end) return RC_MALFORMED;
    if (frame_count) {
        put_u32(frame.ptr, frame_count);
        weir_host_emit(frame.ptr, (uint32_t)frame.len);
    }
    return RC_OK;
}

/* ------------------------------------------------------------------ timers, windows */

void weir_on_timer(int i, weir_timer_fn fn) {
    if (registered || i < 0 || i >= n_functions ||
        (functions[i].kind != KIND_PROCESS && functions[i].kind != KIND_CO_PROCESS))
        __builtin_trap();
    functions[i].timer = fn;
}

int weir_co_process(const char *name, weir_process_fn process1, weir_process_fn process2, void *ud) {
    if (!process1 || !process2) __builtin_trap();
    int i = add_function(name, KIND_CO_PROCESS, ud);
    functions[i].process = process1;
    functions[i].process2 = process2;
    return i;
}

int weir_trigger(const char *name, weir_trigger_fn fn, void *ud) {
    if (!fn) __builtin_trap();
    int i = add_function(name, KIND_TRIGGER, ud);
    functions[i].trigger = fn;
    return i;
}

int weir_evictor(const char *name, weir_evictor_fn fn, void *ud) {
    if (!fn) __builtin_trap();
    int i = add_function(name, KIND_EVICTOR, ud);
    functions[i].evictor = fn;
    return i;
}

int weir_aggregate(const char *name, const weir_aggregate_fns *fns, void *ud) {
    if (!fns || !fns->create || !fns->add || !fns->merge || !fns->result) __builtin_trap();
    int i = add_function(name, KIND_AGGREGATE, ud);
    functions[i].aggregate = *fns;
    return i;
}

int weir_window_process(const char *name, weir_window_fn fn, void *ud) {
    int i = add_function(name, KIND_WINDOW_PROCESS, ud);
    functions[i].window = fn;
    return i;
}

int weir_timestamp_extractor(const char *name, weir_timestamp_fn fn, void *ud) {
    int i = add_function(name, KIND_TIMESTAMP, ud);
    functions[i].timestamp = fn;
    return i;
}

static int timer_call(weir_context *ctx, int domain, int64_t ms, bool reg) {
    if (!ctx || !ctx->f) return weir_fail("weir: a timer call outside a process or timer call");
    int32_t rc = reg ? weir_host_timer_register(domain, ctx->record, ms) : weir_host_timer_delete(domain, ctx->record, ms);
    if (rc == 0) return WEIR_OK;
    if (rc == STATE_UNSUPPORTED) return weir_fail("weir: the host has no timers (UNSUPPORTED)");
    if (ctx->input == 2)
        return weir_fail("weir: the host refused the timer call as invalid (INVALID): in process2 of a broadcast "
                         "input the records have no key, so timers are unavailable");
    return weir_fail("weir: the host refused the timer call as invalid (INVALID)");
}

int weir_timer_register(weir_context *ctx, int domain, int64_t ms) { return timer_call(ctx, domain, ms, true); }
int weir_timer_delete(weir_context *ctx, int domain, int64_t ms) { return timer_call(ctx, domain, ms, false); }
int64_t weir_current_watermark(void) { return weir_host_current_watermark(); }
int64_t weir_current_time(void) { return weir_host_current_time(); }

static bool frame_start(void) {
    frame.len = 0;
    frame_count = 0;
    if (!buf_reserve(&frame, 4)) return false;
    frame.len = 4;
    return true;
}

static void frame_emit(void) {
    if (frame_count) {
        put_u32(frame.ptr, frame_count);
        weir_host_emit(frame.ptr, (uint32_t)frame.len);
    }
}

/* A timer call: the process function's callback per fired timer (ABI §4.4). */
static int32_t timers(struct function *f, const uint8_t *in, size_t len) {
    if ((f->kind != KIND_PROCESS && f->kind != KIND_CO_PROCESS) || !f->timer) return RC_UNSUPPORTED;
    if (len < 4) return RC_MALFORMED;
    const uint8_t *end = in + len, *p = in + 4;
    uint32_t count = get_u32(in);
    if (count > len - 4) return RC_MALFORMED;
    if (!frame_start()) return out_of_memory();
    weir_record r;
    for (uint32_t i = 0; i < count; i++) {
        if (!(p = read_record(p, end, &r))) return RC_MALFORMED;
        if (!(r.flags & WEIR_FLAG_TIMESTAMP) || r.payload.len != 1 || r.payload.ptr[0] > 1) return RC_MALFORMED;
        weir_timer t = {r.timestamp, r.payload.ptr[0], r.key};
        weir_context ctx = CONTEXT(f, i, 0);
        int rc = f->timer(f->ud, &t, &ctx);
        if (ctx.out.failed) return collector_failed(&ctx.out);
        if (rc != WEIR_OK) return RC_ERROR;
    }
    if (p != end) return RC_MALFORMED;
    frame_emit();
    return RC_OK;
}

static buf agg_acc; /* the accumulator being built, owned by the SDK */

/* Keeps a copy of v as the current accumulator. v may point into agg_acc (the
 * accumulator changed in place, or a part of it): a value that fits is moved to
 * its start, so only a larger accumulator than any before allocates. */
static bool keep_acc(weir_bytes v) {
    if (v.len > agg_acc.cap) { /* then v cannot lie inside agg_acc */
        buf tmp = {0};
        if (!buf_reserve(&tmp, v.len)) return false;
        __builtin_memcpy(tmp.ptr, v.ptr, v.len);
        mem_free(agg_acc.ptr);
        agg_acc = tmp;
    } else if (v.len && v.ptr != agg_acc.ptr) {
        __builtin_memmove(agg_acc.ptr, v.ptr, v.len);
    }
    agg_acc.len = v.len;
    return true;
}

static weir_bytes acc_bytes(void) {
    weir_bytes b = {agg_acc.ptr, agg_acc.len};
    return b;
}

/* An aggregate call (ABI §4.5), for an aggregate or a reduce function. */
static int32_t aggregates(struct function *f, const uint8_t *in, size_t len) {
    if (f->kind != KIND_AGGREGATE && f->kind != KIND_REDUCE) return RC_UNSUPPORTED;
    if (len < 8) return RC_MALFORMED;
    const uint8_t *end = in + len, *p = in + 8;
    uint32_t op = get_u32(in), groups = get_u32(in + 4);
    if (op < 1 || op > 3 || groups > len / 4) return RC_MALFORMED;
    if (!frame_start()) return out_of_memory();
    for (uint32_t g = 0; g < groups; g++) {
        if (end - p < 4) return RC_MALFORMED;
        uint32_t n = get_u32(p);
        p += 4;
        bool has = n != 0xFFFFFFFFu;
        if (has) {
            if ((size_t)(end - p) < n) return RC_MALFORMED;
            weir_bytes a = {p, n};
            if (!keep_acc(a)) return out_of_memory();
            p += n;
        } else if (op != 1) {
            return RC_MALFORMED;
        }
        weir_bytes out;
        if (op == 1) {
            if (end - p < 4) return RC_MALFORMED;
            uint32_t count = get_u32(p);
            p += 4;
            for (uint32_t i = 0; i < count; i++) {
                weir_record r;
                if (!(p = read_record(p, end, &r))) return RC_MALFORMED;
                r.index = i;
                if (f->kind == KIND_REDUCE) {
                    if (!has) {
                        out = r.payload;
                        has = true;
                    } else if (f->reduce(f->ud, acc_bytes(), r.payload, &out) != WEIR_OK) {
                        return RC_ERROR;
                    }
                } else {
                    if (!has) {
                        if (f->aggregate.create(f->ud, &out) != WEIR_OK || !keep_acc(out)) return RC_ERROR;
                        has = true;
                    }
                    if (f->aggregate.add(f->ud, acc_bytes(), &r, &out) != WEIR_OK) return RC_ERROR;
                }
                if (!keep_acc(out)) return out_of_memory();
            }
            if (!has) {
                weir_bytes empty = {0, 0};
                if (f->kind == KIND_AGGREGATE && f->aggregate.create(f->ud, &empty) != WEIR_OK) return RC_ERROR;
                if (!keep_acc(empty)) return out_of_memory();
            }
        } else if (op == 2) {
            if (end - p < 4) return RC_MALFORMED;
            uint32_t count = get_u32(p);
            p += 4;
            for (uint32_t i = 0; i < count; i++) {
                if (end - p < 4) return RC_MALFORMED;
                uint32_t l = get_u32(p);
                p += 4;
                if (l == 0xFFFFFFFFu || (size_t)(end - p) < l) return RC_MALFORMED;
                weir_bytes other = {p, l};
                p += l;
                int rc = f->kind == KIND_REDUCE ? f->reduce(f->ud, acc_bytes(), other, &out)
                                                : f->aggregate.merge(f->ud, acc_bytes(), other, &out);
                if (rc != WEIR_OK) return RC_ERROR;
                if (!keep_acc(out)) return out_of_memory();
            }
        } else if (f->kind == KIND_AGGREGATE) {
            if (f->aggregate.result(f->ud, acc_bytes(), &out) != WEIR_OK) return RC_ERROR;
            if (!keep_acc(out)) return out_of_memory();
        }
        weir_output o = {0};
        weir_set_payload(&o, agg_acc.ptr, agg_acc.len);
        if (!append_output(g, &o)) return out_of_memory();
    }
    if (p != end) return RC_MALFORMED;
    put_u32(frame.ptr, frame_count);
    weir_host_emit(frame.ptr, (uint32_t)frame.len);
    return RC_OK;
}

static weir_record *elements;
static uint32_t elements_cap;

/* What a window or evict call does with one window of its frame: an RC_ code. */
typedef int32_t (*window_fn)(struct function *f, uint32_t index, const weir_window *w, uint32_t n);

/* Reads a windows frame (ABI §4.6; an evict call's, §4.10, is the same), calls each
 * with every window and its elements (in `elements`), then emits the frame built. */
static int32_t window_frame(struct function *f, const uint8_t *in, size_t len, window_fn each) {
    if (len < 4) return RC_MALFORMED;
    const uint8_t *end = in + len, *p = in + 4;
    uint32_t count = get_u32(in);
    if (count > len / 24) return RC_MALFORMED;
    if (!frame_start()) return out_of_memory();
    for (uint32_t w = 0; w < count; w++) {
        if (end - p < 20) return RC_MALFORMED;
        weir_window win = {get_i64(p), get_i64(p + 8), {0, 0}, false};
        uint32_t kl = get_u32(p + 16);
        p += 20;
        if (kl != 0xFFFFFFFFu) {
            if ((size_t)(end - p) < kl) return RC_MALFORMED;
            win.key.ptr = p;
            win.key.len = kl;
            win.keyed = true;
            p += kl;
        }
        if (end - p < 4) return RC_MALFORMED;
        uint32_t n = get_u32(p);
        p += 4;
        if (n > (size_t)(end - p)) return RC_MALFORMED;
        if (n > elements_cap) {
            weir_record *e = mem_realloc(elements, (size_t)n * sizeof *e);
            if (!e) return out_of_memory();
            elements = e;
            elements_cap = n;
        }
        for (uint32_t i = 0; i < n; i++) {
            if (!(p = read_record(p, end, &elements[i]))) return RC_MALFORMED;
            elements[i].index = i;
        }
        int32_t rc = each(f, w, &win, n);
        if (rc != RC_OK) return rc;
    }
    if (p != end) return RC_MALFORMED;
    frame_emit();
    return RC_OK;
}

static int32_t window_one(struct function *f, uint32_t index, const weir_window *w, uint32_t n) {
    weir_collector c = {index, false, false};
    if (f->window(f->ud, w, elements, n, &c) != WEIR_OK) return RC_ERROR;
    return c.failed ? out_of_memory() : RC_OK;
}

/* A window call (ABI §4.6). */
static int32_t windows(struct function *f, const uint8_t *in, size_t len) {
    if (f->kind != KIND_WINDOW_PROCESS) return RC_UNSUPPORTED;
    return window_frame(f, in, len, window_one);
}

/* ------------------------------------------------------------------ evictors, triggers */

struct weir_evictions {
    uint8_t *marks; /* one byte per element: 1 to evict */
    uint32_t n;
};

bool weir_evict(weir_evictions *ev, uint32_t i) {
    if (i >= ev->n) return false;
    ev->marks[i] = 1;
    return true;
}

static buf evict_marks; /* the marks of the current window */
static buf evict_out;   /* the payload of its output: u32 m, m times u32 */

static int32_t evict_one(struct function *f, uint32_t index, const weir_window *w, uint32_t n) {
    if (!buf_fit(&evict_marks, n)) return out_of_memory();
    if (n) __builtin_memset(evict_marks.ptr, 0, n);
    weir_evictions ev = {evict_marks.ptr, n};
    if (f->evictor(f->ud, w, elements, n, &ev) != WEIR_OK) return RC_ERROR;
    uint32_t m = 0;
    for (uint32_t i = 0; i < n; i++) m += evict_marks.ptr[i];
    if (!buf_fit(&evict_out, 4 + (size_t)m * 4)) return out_of_memory();
    uint8_t *p = evict_out.ptr;
    put_u32(p, m);
    p += 4;
    for (uint32_t i = 0; i < n; i++) /* ascending, as the ABI wants */
        if (evict_marks.ptr[i]) {
            put_u32(p, i);
            p += 4;
        }
    weir_output o = {0};
    weir_set_payload(&o, evict_out.ptr, 4 + (size_t)m * 4);
    return append_output(index, &o) ? RC_OK : out_of_memory();
}

/* An evict call (ABI §4.10): one output per window, the indexes to evict. */
static int32_t evicts(struct function *f, const uint8_t *in, size_t len) {
    if (f->kind != KIND_EVICTOR) return RC_UNSUPPORTED;
    return window_frame(f, in, len, evict_one);
}

/* A trigger call (ABI §4.9): one output per event, in order. */
static int32_t triggers(struct function *f, const uint8_t *in, size_t len) {
    /* event u8, start, end, time i64, count u64, key_len u32 */
    enum { EVENT_HEAD = 1 + 8 + 8 + 8 + 8 + 4 };
    if (f->kind != KIND_TRIGGER) return RC_UNSUPPORTED;
    if (len < 4) return RC_MALFORMED;
    const uint8_t *end = in + len, *p = in + 4;
    uint32_t count = get_u32(in);
    if (count > (len - 4) / EVENT_HEAD) return RC_MALFORMED;
    if (!frame_start()) return out_of_memory();
    for (uint32_t e = 0; e < count; e++) {
        if (end - p < EVENT_HEAD || p[0] > WEIR_TRIGGER_PROCESSING_TIMER) return RC_MALFORMED;
        weir_trigger_event ev = {(enum weir_trigger_event_kind)p[0], get_i64(p + 1), get_i64(p + 9), get_i64(p + 17),
                                 (uint64_t)get_i64(p + 25), {p, 0}, false};
        uint32_t kl = get_u32(p + 33);
        p += EVENT_HEAD;
        if (kl != 0xFFFFFFFFu) {
            if ((size_t)(end - p) < kl) return RC_MALFORMED;
            ev.key.ptr = p;
            ev.key.len = kl;
            ev.keyed = true;
            p += kl;
        }
        weir_trigger_result res = {WEIR_CONTINUE, WEIR_NO_TIMER, WEIR_NO_TIMER};
        if (f->trigger(f->ud, &ev, &res) != WEIR_OK) return RC_ERROR;
        if ((unsigned)res.action > WEIR_FIRE_AND_PURGE) {
            weir_fail("weir: a trigger answered an action other than WEIR_CONTINUE, WEIR_FIRE, WEIR_PURGE and "
                      "WEIR_FIRE_AND_PURGE");
            return RC_ERROR;
        }
        /* Always the action and the event-time timer; the processing-time timer
         * only when there is one. */
        uint8_t answer[17];
        answer[0] = (uint8_t)res.action;
        put_i64(answer + 1, res.event_timer);
        put_i64(answer + 9, res.processing_timer);
        weir_output o = {0};
        weir_set_payload(&o, answer, res.processing_timer == WEIR_NO_TIMER ? 9 : 17);
        if (!append_output(e, &o)) return out_of_memory();
    }
    if (p != end) return RC_MALFORMED;
    frame_emit();
    return RC_OK;
}

WEIR_EXPORT("weir_call") int32_t weir_call(int32_t kind, int32_t fn, const uint8_t *in, int32_t len) {
    ensure_registered();
    /* The host passes only input inside the buffer weir_alloc returned. */
    if (len < 0 || (len > 0 && (!input.ptr || in < input.ptr || (size_t)len > input.cap ||
                                (size_t)(in - input.ptr) > input.cap - (size_t)len)))
        return RC_MALFORMED;
    if (fn < 0 || fn >= n_functions) return RC_UNKNOWN_FN;
    struct function *f = &functions[fn];
    switch (kind) {
    case CALL_OPEN:
        if (!is_object(in, (size_t)len)) return RC_MALFORMED;
        return f->open && f->open(f->ud, in, (size_t)len) != WEIR_OK ? RC_ERROR : RC_OK;
    case CALL_PROCESS:
        return process(f, in, (size_t)len, 1);
    case CALL_PROCESS2:
        return process(f, in, (size_t)len, 2);
    case CALL_TIMER:
        return timers(f, in, (size_t)len);
    case CALL_AGGREGATE:
        return aggregates(f, in, (size_t)len);
    case CALL_WINDOW:
        return windows(f, in, (size_t)len);
    case CALL_TRIGGER:
        return triggers(f, in, (size_t)len);
    case CALL_EVICT:
        return evicts(f, in, (size_t)len);
    case CALL_CLOSE:
        if (len != 0) return RC_MALFORMED;
        return f->close && f->close(f->ud) != WEIR_OK ? RC_ERROR : RC_OK;
    default:
        return RC_UNSUPPORTED;
    }
}

/* ------------------------------------------------------------------ JSON */

typedef const uint8_t *pos;

static pos ws(pos p, pos e) {
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
    return p;
}

static int hex4(pos p) {
    int v = 0;
    for (int i = 0; i < 4; i++) {
        int c = p[i];
        if (c >= '0' && c <= '9')
            c -= '0';
        else if (c >= 'a' && c <= 'f')
            c -= 'a' - 10;
        else if (c >= 'A' && c <= 'F')
            c -= 'A' - 10;
        else
            return -1;
        v = v << 4 | c;
    }
    return v;
}

/* p at the opening quote: the position after the closing one, or NULL. */
static pos skip_string(pos p, pos e) {
    for (p++;;) {
        while (p < e && *p >= 0x20 && *p != '"' && *p != '\\') p++;
        if (p >= e || *p < 0x20) return 0;
        if (*p == '"') return p + 1;
        if (e - p < 2) return 0;
        switch (p[1]) {
        case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
            p += 2;
            break;
        case 'u':
            if (e - p < 6 || hex4(p + 2) < 0) return 0;
            p += 6;
            break;
        default:
            return 0;
        }
    }
}

static pos skip_digits(pos p, pos e) {
    while (p < e && *p >= '0' && *p <= '9') p++;
    return p;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static pos skip_number(pos p, pos e) {
    if (p < e && *p == '-') p++;
    if (p >= e) return 0;
    if (*p == '0')
        p++;
    else if (*p >= '1' && *p <= '9')
        p = skip_digits(p + 1, e);
    else
        return 0;
    if (p < e && *p == '.') {
        pos q = skip_digits(p + 1, e);
        if (q == p + 1) return 0;
        p = q;
    }
    if (p < e && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < e && (*p == '+' || *p == '-')) p++;
        pos q = skip_digits(p, e);
        if (q == p) return 0;
        p = q;
    }
    return p;
}

static pos skip_literal(pos p, pos e, const char *lit, size_t n) {
    if ((size_t)(e - p) < n || __builtin_memcmp(p, lit, n) != 0) return 0;
    return p + n;
}

static enum weir_json_kind kind_of(uint8_t c) {
    switch (c) {
    case '"': return WEIR_JSON_STRING;
    case '{': return WEIR_JSON_OBJECT;
    case '[': return WEIR_JSON_ARRAY;
    case 't': return WEIR_JSON_TRUE;
    case 'f': return WEIR_JSON_FALSE;
    case 'n': return WEIR_JSON_NULL;
    }
    return WEIR_JSON_NUMBER;
}

/* The position after the value at p, or NULL; depth is the nesting level an
 * object or array starting at p would have. */
static pos skip_value(pos p, pos e, int depth) {
    if (p >= e) return 0;
    uint8_t c = *p, close;
    switch (c) {
    case '"': return skip_string(p, e);
    case 't': return skip_literal(p, e, "true", 4);
    case 'f': return skip_literal(p, e, "false", 5);
    case 'n': return skip_literal(p, e, "null", 4);
    case '{': close = '}'; break;
    case '[': close = ']'; break;
    default:
        if (c == '-' || (c >= '0' && c <= '9')) return skip_number(p, e);
        return 0;
    }
    if (depth > WEIR_JSON_MAX_DEPTH) return 0;
    p = ws(p + 1, e);
    if (p < e && *p == close) return p + 1;
    for (;;) {
        if (close == '}') {
            if (p >= e || *p != '"' || !(p = skip_string(p, e))) return 0;
            p = ws(p, e);
            if (p >= e || *p != ':') return 0;
            p = ws(p + 1, e);
        }
        if (!(p = skip_value(p, e, depth + 1))) return 0;
        p = ws(p, e);
        if (p >= e) return 0;
        if (*p == close) return p + 1;
        if (*p != ',') return 0;
        p = ws(p + 1, e);
    }
}

/* The escape at p (a backslash, checked by skip_string): its code point, and the
 * position after it. A surrogate pair is one code point; a lone one U+FFFD. */
static uint32_t unescape(pos p, pos e, pos *next) {
    switch (p[1]) {
    case 'b': *next = p + 2; return '\b';
    case 'f': *next = p + 2; return '\f';
    case 'n': *next = p + 2; return '\n';
    case 'r': *next = p + 2; return '\r';
    case 't': *next = p + 2; return '\t';
    case 'u': {
        uint32_t r = (uint32_t)hex4(p + 2);
        p += 6;
        *next = p;
        if (r >= 0xD800 && r < 0xE000) {
            if (r < 0xDC00 && e - p >= 6 && p[0] == '\\' && p[1] == 'u') {
                int r2 = hex4(p + 2);
                if (r2 >= 0xDC00 && r2 < 0xE000) {
                    *next = p + 6;
                    return 0x10000 + ((r - 0xD800) << 10) + ((uint32_t)r2 - 0xDC00);
                }
            }
            return 0xFFFD;
        }
        return r;
    }
    default: *next = p + 2; return p[1];
    }
}

static size_t utf8_encode(uint32_t r, uint8_t *b) {
    if (r < 0x80) { b[0] = (uint8_t)r; return 1; }
    if (r < 0x800) { b[0] = 0xC0 | r >> 6; b[1] = 0x80 | (r & 0x3F); return 2; }
    if (r < 0x10000) { b[0] = 0xE0 | r >> 12; b[1] = 0x80 | (r >> 6 & 0x3F); b[2] = 0x80 | (r & 0x3F); return 3; }
    b[0] = 0xF0 | r >> 18; b[1] = 0x80 | (r >> 12 & 0x3F); b[2] = 0x80 | (r >> 6 & 0x3F); b[3] = 0x80 | (r & 0x3F);
    return 4;
}

/* Whether the string body [s, e) (escapes checked) unescaped equals name. */
static bool name_equals(pos s, pos e, const char *name, size_t n) {
    size_t j = 0;
    while (s < e) {
        if (*s != '\\') {
            if (j >= n || (uint8_t)name[j] != *s) return false;
            s++, j++;
            continue;
        }
        uint8_t b[4];
        size_t k = utf8_encode(unescape(s, e, &s), b);
        if (n - j < k || __builtin_memcmp(name + j, b, k) != 0) return false;
        j += k;
    }
    return j == n;
}

enum weir_json_kind weir_json_get_n(weir_bytes data, const char *field, size_t fl, weir_bytes *raw) {
    pos p = data.ptr, e = data.ptr + data.len;
    p = ws(p, e);
    if (p >= e || *p != '{') return WEIR_JSON_INVALID;
    p = ws(p + 1, e);
    for (;;) {
        if (p >= e || *p != '"') return WEIR_JSON_INVALID; /* also "{}" */
        pos ks = p;
        if (!(p = skip_string(p, e))) return WEIR_JSON_INVALID;
        bool match = name_equals(ks + 1, p - 1, field, fl);
        p = ws(p, e);
        if (p >= e || *p != ':') return WEIR_JSON_INVALID;
        pos vs = ws(p + 1, e), ve = skip_value(vs, e, 2);
        if (!ve) return WEIR_JSON_INVALID;
        p = ws(ve, e);
        if (p >= e || (*p != ',' && *p != '}')) return WEIR_JSON_INVALID;
        if (match) {
            raw->ptr = vs;
            raw->len = (size_t)(ve - vs);
            return kind_of(*vs);
        }
        if (*p == '}') return WEIR_JSON_INVALID;
        p = ws(p + 1, e);
    }
}

enum weir_json_kind weir_json_get(weir_bytes data, const char *field, weir_bytes *raw) {
    return weir_json_get_n(data, field, cstrlen(field), raw);
}

bool weir_json_parse_int(weir_bytes raw, int64_t *v) {
    pos p = raw.ptr, e = raw.ptr + raw.len;
    bool neg = p < e && *p == '-';
    p += neg;
    size_t n = (size_t)(e - p);
    if (n == 0 || n > 19 || (*p == '0' && n > 1)) return false;
    uint64_t u = 0;
    for (; p < e; p++) {
        if (*p < '0' || *p > '9') return false;
        u = u * 10 + (uint64_t)(*p - '0');
    }
    if (neg) {
        if (u > (uint64_t)1 << 63) return false;
        *v = (int64_t)(0 - u);
        return true;
    }
    if (u > (uint64_t)INT64_MAX) return false;
    *v = (int64_t)u;
    return true;
}

bool weir_json_int(weir_bytes data, const char *field, int64_t *v) {
    weir_bytes raw;
    return weir_json_get(data, field, &raw) == WEIR_JSON_NUMBER && weir_json_parse_int(raw, v);
}

long weir_json_unquote(weir_bytes raw, uint8_t *dst, size_t cap) {
    pos p = raw.ptr, e = raw.ptr + raw.len;
    if (raw.len < 2 || *p != '"' || skip_string(p, e) != e) return -1;
    size_t n = 0;
    for (p++, e--; p < e;) {
        uint8_t b[4];
        size_t k = 1;
        if (*p != '\\')
            b[0] = *p++;
        else
            k = utf8_encode(unescape(p, e, &p), b);
        if (cap - n < k) return -1;
        __builtin_memcpy(dst + n, b, k);
        n += k;
    }
    return (long)n;
}

bool weir_json_valid(weir_bytes data) {
    pos e = data.ptr + data.len, p = skip_value(ws(data.ptr, e), e, 1);
    return p && ws(p, e) == e;
}

static bool is_object(const uint8_t *p, size_t n) {
    weir_bytes b = {p, n};
    pos q = ws(p, p + n);
    return q < p + n && *q == '{' && weir_json_valid(b);
}

bool weir_json_array_each(weir_bytes raw, bool (*fn)(void *, weir_bytes, enum weir_json_kind), void *ud) {
    pos p = raw.ptr, e = raw.ptr + raw.len;
    if (raw.len == 0 || *p != '[' || skip_value(p, e, 1) != e) return false;
    p = ws(p + 1, e);
    if (*p == ']') return true;
    for (;;) {
        pos q = skip_value(p, e, 2);
        weir_bytes el = {p, (size_t)(q - p)};
        if (!fn(ud, el, kind_of(*p))) return true;
        p = ws(q, e);
        if (*p == ']') return true;
        p = ws(p + 1, e);
    }
}

bool weir_json_object_each(weir_bytes raw, bool (*fn)(void *, weir_bytes, weir_bytes, enum weir_json_kind),
                           void *ud) {
    pos e = raw.ptr + raw.len, p = ws(raw.ptr, e), q;
    if (p >= e || *p != '{' || !(q = skip_value(p, e, 1)) || ws(q, e) != e) return false;
    p = ws(p + 1, e);
    if (*p == '}') return true;
    for (;;) {
        pos ke = skip_string(p, e);
        weir_bytes name = {p, (size_t)(ke - p)};
        pos vs = ws(ws(ke, e) + 1, e), ve = skip_value(vs, e, 2);
        weir_bytes value = {vs, (size_t)(ve - vs)};
        if (!fn(ud, name, value, kind_of(*vs))) return true;
        p = ws(ve, e);
        if (*p == '}') return true;
        p = ws(p + 1, e);
    }
}

size_t weir_format_i64(int64_t v, uint8_t *dst) {
    uint8_t tmp[20];
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    size_t n = 0;
    do {
        tmp[n++] = (uint8_t)('0' + u % 10);
        u /= 10;
    } while (u);
    size_t k = 0;
    if (v < 0) dst[k++] = '-';
    while (n) dst[k++] = tmp[--n];
    return k;
}

size_t weir_json_quote(weir_bytes s, uint8_t *dst) {
    static const char hex[] = "0123456789abcdef";
    size_t k = 0;
    dst[k++] = '"';
    for (size_t i = 0; i < s.len; i++) {
        uint8_t c = s.ptr[i];
        const char *esc = 0;
        switch (c) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        }
        if (esc) {
            dst[k++] = (uint8_t)esc[0];
            dst[k++] = (uint8_t)esc[1];
        } else if (c < 0x20) {
            dst[k++] = '\\', dst[k++] = 'u', dst[k++] = '0', dst[k++] = '0';
            dst[k++] = (uint8_t)hex[c >> 4];
            dst[k++] = (uint8_t)hex[c & 15];
        } else {
            dst[k++] = c;
        }
    }
    dst[k++] = '"';
    return k;
}

/* 10^0 .. 10^22: the powers of ten a double holds exactly. */
static const double exact_pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                     1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

bool weir_json_parse_f64(weir_bytes raw, double *v) {
    pos p = raw.ptr, e = raw.ptr + raw.len;
    if (!raw.len || skip_number(p, e) != e) return false;
    bool neg = *p == '-';
    p += neg;
    /* The digits as an integer m (the first 19 significant ones; later ones only
     * shift the exponent) and the decimal exponent: the value is m * 10^exp10. */
    uint64_t m = 0;
    int digits = 0;
    int64_t exp10 = 0;
    bool frac = false;
    for (; p < e && *p != 'e' && *p != 'E'; p++) {
        if (*p == '.') {
            frac = true;
            continue;
        }
        if (digits < 19) {
            if (m || *p != '0') digits++;
            m = m * 10 + (uint64_t)(*p - '0');
            exp10 -= frac;
        } else if (!frac) {
            exp10++;
        }
    }
    if (p < e) { /* the exponent */
        p++;
        bool eneg = *p == '-';
        p += *p == '-' || *p == '+';
        int64_t x = 0;
        for (; p < e; p++)
            if (x < 100000) x = x * 10 + (*p - '0'); /* far past any double's range */
        exp10 += eneg ? -x : x;
    }
    double d = (double)m;
    if (m == 0) {
        d = 0;
    } else if (m <= (uint64_t)1 << 53 && exp10 >= -22 && exp10 <= 22) {
        /* Exact operands, one rounding: correctly rounded. */
        d = exp10 < 0 ? d / exact_pow10[-exp10] : d * exact_pow10[exp10];
    } else {
        /* A few roundings: within a few ulps. Scaled in steps that neither
         * overflow nor underflow early. */
        for (; exp10 > 22 && d < __builtin_inf(); exp10 -= 22) d *= 1e22;
        for (; exp10 < -22 && d > 0; exp10 += 22) d /= 1e22;
        if (exp10 > 22 || exp10 < -22) exp10 = 0; /* already infinite or zero */
        d = exp10 < 0 ? d / exact_pow10[-exp10] : d * exact_pow10[exp10];
    }
    *v = neg ? -d : d;
    return true;
}
