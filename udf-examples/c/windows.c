/*
 * windows.c — Weir's window and timer examples in C, with the C SDK (sdk/c): the
 * twins of udf-examples/go/windows, function for function and byte for byte.
 *
 *   session_stats  aggregate            clicks and distinct pages of a session
 *   top3           window_process       the three highest prices of a window
 *   timeout        process with timers  a key idle for a second after its last record
 *   sum_price      aggregate            the sum of "price", as {"sum":N}
 *   event_time     timestamp_extractor  time from "ts", punctuation from "watermark"
 */
#include "weir.h"

static size_t put(uint8_t *b, size_t at, const void *p, size_t n) {
    __builtin_memcpy(b + at, p, n);
    return at + n;
}

static uint64_t get_u64(const uint8_t *p) {
    uint64_t v;
    __builtin_memcpy(&v, p, 8);
    return v;
}

static void put_u64(uint8_t *p, uint64_t v) { __builtin_memcpy(p, &v, 8); }
static uint32_t get_u32(const uint8_t *p) {
    uint32_t v;
    __builtin_memcpy(&v, p, 4);
    return v;
}
static void put_u32(uint8_t *p, uint32_t v) { __builtin_memcpy(p, &v, 4); }

static int compare(weir_bytes a, weir_bytes b) {
    size_t n = a.len < b.len ? a.len : b.len;
    int c = n ? __builtin_memcmp(a.ptr, b.ptr, n) : 0;
    if (c) return c;
    return a.len < b.len ? -1 : a.len > b.len;
}

/* ---- session_stats: clicks (u64), then the distinct pages, each a u32 length
 * and its bytes, in byte order (the Go example's encoding). */

static uint8_t acc_buf[1 << 16];

static int stats_create(void *ud, weir_bytes *out) {
    (void)ud;
    put_u64(acc_buf, 0);
    out->ptr = acc_buf;
    out->len = 8;
    return WEIR_OK;
}

/* Writes acc with page added (when new) into acc_buf; acc may be acc_buf. */
static int with_page(weir_bytes acc, weir_bytes page, uint64_t clicks, weir_bytes *out) {
    static uint8_t tmp[sizeof acc_buf];
    size_t at = 8;
    put_u64(tmp, clicks);
    bool placed = false;
    for (const uint8_t *p = acc.ptr + 8, *e = acc.ptr + acc.len; p + 4 <= e;) {
        weir_bytes cur = {p + 4, get_u32(p)};
        int c = compare(page, cur);
        if (!placed && c <= 0) {
            placed = true;
            if (c < 0) {
                if (at + 4 + page.len > sizeof tmp) return weir_fail("session_stats: too many pages");
                put_u32(tmp + at, (uint32_t)page.len);
                at = put(tmp, at + 4, page.ptr, page.len);
            }
        }
        if (at + 4 + cur.len > sizeof tmp) return weir_fail("session_stats: too many pages");
        put_u32(tmp + at, (uint32_t)cur.len);
        at = put(tmp, at + 4, cur.ptr, cur.len);
        p = cur.ptr + cur.len;
    }
    if (!placed) {
        if (at + 4 + page.len > sizeof tmp) return weir_fail("session_stats: too many pages");
        put_u32(tmp + at, (uint32_t)page.len);
        at = put(tmp, at + 4, page.ptr, page.len);
    }
    __builtin_memcpy(acc_buf, tmp, at);
    out->ptr = acc_buf;
    out->len = at;
    return WEIR_OK;
}

static int stats_add(void *ud, weir_bytes acc, const weir_record *in, weir_bytes *out) {
    (void)ud;
    weir_bytes raw, page = {0, 0};
    uint8_t *u = 0;
    if (weir_json_get(in->payload, "page", &raw) == WEIR_JSON_STRING) {
        u = weir_scratch(raw.len);
        long n = u ? weir_json_unquote(raw, u, raw.len) : -1;
        if (n >= 0) page = (weir_bytes){u, (size_t)n};
    }
    return with_page(acc, page, get_u64(acc.ptr) + 1, out);
}

static int stats_merge(void *ud, weir_bytes acc, weir_bytes other, weir_bytes *out) {
    (void)ud;
    static uint8_t copy[sizeof acc_buf];
    if (other.len < 8 || other.len > sizeof copy) return weir_fail("session_stats: malformed accumulator");
    __builtin_memcpy(copy, other.ptr, other.len);
    weir_bytes cur = acc;
    uint64_t clicks = get_u64(acc.ptr) + get_u64(copy);
    put_u64(acc_buf, clicks);
    if (cur.ptr != acc_buf) {
        __builtin_memcpy(acc_buf, acc.ptr, acc.len);
        cur.ptr = acc_buf;
    }
    put_u64(acc_buf, clicks);
    for (const uint8_t *p = copy + 8, *e = copy + other.len; p + 4 <= e;) {
        weir_bytes page = {p + 4, get_u32(p)};
        if (with_page(cur, page, clicks, &cur) != WEIR_OK) return WEIR_ERR;
        p = page.ptr + page.len;
    }
    *out = cur;
    return WEIR_OK;
}

static int stats_result(void *ud, weir_bytes acc, weir_bytes *out) {
    (void)ud;
    size_t pages = 0;
    for (const uint8_t *p = acc.ptr + 8, *e = acc.ptr + acc.len; p + 4 <= e; p += 4 + get_u32(p)) pages++;
    uint8_t *b = weir_scratch(64);
    if (!b) return weir_fail("session_stats: out of memory");
    size_t at = put(b, 0, "{\"clicks\":", 10);
    at += weir_format_i64((int64_t)get_u64(acc.ptr), b + at);
    at = put(b, at, ",\"pages\":", 9);
    at += weir_format_i64((int64_t)pages, b + at);
    b[at++] = '}';
    out->ptr = b;
    out->len = at;
    return WEIR_OK;
}

/* ---- top3 */

typedef struct {
    weir_bytes name; /* JSON text, quotes included */
    int64_t price;
} item;

static bool before(const item *a, const item *b) {
    return a->price != b->price ? a->price > b->price : compare(a->name, b->name) < 0;
}

static int top3(void *ud, const weir_window *w, const weir_record *el, uint32_t n, weir_collector *out) {
    (void)ud;
    item best[3];
    int k = 0;
    for (uint32_t i = 0; i < n; i++) {
        item it;
        if (weir_json_get(el[i].payload, "item", &it.name) == WEIR_JSON_INVALID ||
            !weir_json_int(el[i].payload, "price", &it.price))
            continue;
        int at = k < 3 ? k++ : 3;
        if (at == 3 && !before(&it, &best[2])) continue;
        if (at == 3) at = 2;
        while (at > 0 && before(&it, &best[at - 1])) {
            best[at] = best[at - 1];
            at--;
        }
        best[at] = it;
    }
    size_t cap = 96;
    for (int i = 0; i < k; i++) cap += best[i].name.len + 48;
    uint8_t *b = weir_scratch(cap);
    if (!b) return weir_fail("top3: out of memory");
    size_t at = put(b, 0, "{\"window_start\":", 16);
    at += weir_format_i64(w->start, b + at);
    at = put(b, at, ",\"window_end\":", 14);
    at += weir_format_i64(w->end, b + at);
    at = put(b, at, ",\"top\":[", 8);
    for (int i = 0; i < k; i++) {
        if (i) b[at++] = ',';
        at = put(b, at, "{\"item\":", 8);
        at = put(b, at, best[i].name.ptr, best[i].name.len);
        at = put(b, at, ",\"price\":", 9);
        at += weir_format_i64(best[i].price, b + at);
        b[at++] = '}';
    }
    at = put(b, at, "]}", 2);
    return weir_collect_payload(out, b, at) ? WEIR_OK : weir_fail("top3: out of memory");
}

/* ---- timeout */

static weir_state last;

static int timeout(void *ud, const weir_record *in, weir_context *ctx) {
    (void)ud;
    if (!(in->flags & WEIR_FLAG_TIMESTAMP)) return weir_fail("timeout: a record without a timestamp");
    if (weir_state_put_i64(ctx, last, in->timestamp) != WEIR_OK) return WEIR_ERR;
    return weir_register_event_timer(ctx, in->timestamp + 1000);
}

static int on_timeout(void *ud, const weir_timer *t, weir_context *ctx) {
    (void)ud;
    int64_t ts;
    bool found;
    if (weir_state_get_i64(ctx, last, &ts, &found) != WEIR_OK) return WEIR_ERR;
    if (!found || t->time != ts + 1000) return WEIR_OK; /* a later record moved the deadline */
    uint8_t *b = weir_scratch(t->key.len + 48);
    if (!b) return weir_fail("timeout: out of memory");
    size_t at = put(b, 0, "{\"key\":", 7);
    at = put(b, at, t->key.ptr, t->key.len);
    at = put(b, at, ",\"idle_since\":", 14);
    at += weir_format_i64(ts, b + at);
    b[at++] = '}';
    return weir_emit_payload(ctx, b, at) ? WEIR_OK : weir_fail("timeout: out of memory");
}

/* ---- sum_price: the sum, an int64 in eight bytes */

static uint8_t sum_buf[8];

static int sum_create(void *ud, weir_bytes *out) {
    (void)ud;
    put_u64(sum_buf, 0);
    *out = (weir_bytes){sum_buf, 8};
    return WEIR_OK;
}

static int sum_add(void *ud, weir_bytes acc, const weir_record *in, weir_bytes *out) {
    (void)ud;
    int64_t p;
    uint64_t s = get_u64(acc.ptr);
    if (weir_json_int(in->payload, "price", &p)) s += (uint64_t)p;
    put_u64(sum_buf, s);
    *out = (weir_bytes){sum_buf, 8};
    return WEIR_OK;
}

static int sum_merge(void *ud, weir_bytes acc, weir_bytes other, weir_bytes *out) {
    (void)ud;
    put_u64(sum_buf, get_u64(acc.ptr) + get_u64(other.ptr));
    *out = (weir_bytes){sum_buf, 8};
    return WEIR_OK;
}

static int sum_result(void *ud, weir_bytes acc, weir_bytes *out) {
    (void)ud;
    uint8_t *b = weir_scratch(32);
    if (!b) return weir_fail("sum_price: out of memory");
    size_t at = put(b, 0, "{\"sum\":", 7);
    at += weir_format_i64((int64_t)get_u64(acc.ptr), b + at);
    b[at++] = '}';
    *out = (weir_bytes){b, at};
    return WEIR_OK;
}

/* ---- event_time */

static int event_time(void *ud, const weir_record *in, weir_timestamp_result *out) {
    (void)ud;
    int64_t v;
    if (weir_json_int(in->payload, "ts", &v)) out->has_time = true, out->time = v;
    if (weir_json_int(in->payload, "watermark", &v)) out->has_watermark = true, out->watermark = v;
    return WEIR_OK;
}

void weir_register(void) {
    static const weir_aggregate_fns stats = {stats_create, stats_add, stats_merge, stats_result};
    static const weir_aggregate_fns sums = {sum_create, sum_add, sum_merge, sum_result};
    weir_aggregate("session_stats", &stats, 0); /* index 0 */
    weir_window_process("top3", top3, 0);       /* index 1 */
    int t = weir_process("timeout", timeout, 0); /* index 2 */
    last = weir_state_declare(t, "last", WEIR_STATE_VALUE, 0);
    weir_on_timer(t, on_timeout);
    weir_aggregate("sum_price", &sums, 0);               /* index 3 */
    weir_timestamp_extractor("event_time", event_time, 0); /* index 4 */
}
