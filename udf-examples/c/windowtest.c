/*
 * windowtest.c — a module exercising the C SDK's timer, aggregate and window calls
 * (ABI §4.4–4.6) for udf-examples/conformance/windowtest_c_test.go, which drives it
 * through a fake host and defines the expected outputs. Every function writes what
 * it was given as text, so that the test sees exactly how the SDK parsed a frame.
 *
 *   0 agg    aggregate       create "c"; add acc+"+"+payload; merge acc+"|"+other
 *                            (acc without its first byte, as a view of acc, when
 *                            other is "drop1"); result "<"+acc+">" (acc itself
 *                            when it starts with "=")
 *   1 cat    reduce          acc+","+value
 *   2 win    window_process  one output per window: "start,end,key,n:p@ts/i;..."
 *                            (key "-" when not keyed); none for a window "skip"
 *   3 timed  process         a command per record (below); a timer callback
 *   4 plain  process         no timer callback
 *   5 ident  map             the record itself
 *
 * timed's commands: "ev:<ms>" / "pt:<ms>" register an event / processing timer,
 * "dev:<ms>" / "dpt:<ms>" delete one, "clock" emits "wm=<watermark>,now=<time>".
 * Its timer callback stores the timer's key in state "seen", registers an event
 * timer one ms later when the key is "again", and emits "fired <time> d<domain>
 * k<key>".
 */
#include "weir.h"

static weir_state seen;

/* A text builder over weir_scratch. */
static uint8_t *out;
static size_t at;
static bool start(size_t cap) {
    out = weir_scratch(cap);
    at = 0;
    return out != 0;
}
static void add(const char *s) {
    while (*s) out[at++] = (uint8_t)*s++;
}
static void add_bytes(weir_bytes b) {
    if (b.len) __builtin_memcpy(out + at, b.ptr, b.len);
    at += b.len;
}
static void add_int(int64_t n) { at += weir_format_i64(n, out + at); }
static weir_bytes built(void) {
    weir_bytes b = {out, at};
    return b;
}

/* ---- agg */

static int agg_create(void *ud, weir_bytes *acc) {
    (void)ud;
    acc->ptr = (const uint8_t *)"c";
    acc->len = 1;
    return WEIR_OK;
}

static int agg_add(void *ud, weir_bytes acc, const weir_record *in, weir_bytes *res) {
    (void)ud;
    if (!start(acc.len + 1 + in->payload.len)) return weir_fail("agg: out of memory");
    add_bytes(acc);
    add("+");
    add_bytes(in->payload);
    *res = built();
    return WEIR_OK;
}

static int agg_merge(void *ud, weir_bytes acc, weir_bytes other, weir_bytes *res) {
    (void)ud;
    if (other.len == 5 && __builtin_memcmp(other.ptr, "drop1", 5) == 0 && acc.len) {
        /* A view of acc itself, past its first byte. */
        res->ptr = acc.ptr + 1;
        res->len = acc.len - 1;
        return WEIR_OK;
    }
    if (!start(acc.len + 1 + other.len)) return weir_fail("agg: out of memory");
    add_bytes(acc);
    add("|");
    add_bytes(other);
    *res = built();
    return WEIR_OK;
}

static int agg_result(void *ud, weir_bytes acc, weir_bytes *res) {
    (void)ud;
    if (acc.len && acc.ptr[0] == '=') { /* acc itself */
        *res = acc;
        return WEIR_OK;
    }
    if (!start(acc.len + 2)) return weir_fail("agg: out of memory");
    add("<");
    add_bytes(acc);
    add(">");
    *res = built();
    return WEIR_OK;
}

/* ---- cat */

static int cat(void *ud, weir_bytes acc, weir_bytes value, weir_bytes *res) {
    (void)ud;
    if (!start(acc.len + 1 + value.len)) return weir_fail("cat: out of memory");
    add_bytes(acc);
    add(",");
    add_bytes(value);
    *res = built();
    return WEIR_OK;
}

/* ---- win */

static int win(void *ud, const weir_window *w, const weir_record *elements, uint32_t n, weir_collector *c) {
    (void)ud;
    if (w->keyed && w->key.len == 4 && __builtin_memcmp(w->key.ptr, "skip", 4) == 0) return WEIR_OK;
    size_t cap = 64 + w->key.len;
    for (uint32_t i = 0; i < n; i++) cap += elements[i].payload.len + 42;
    if (!start(cap)) return weir_fail("win: out of memory");
    add_int(w->start);
    add(",");
    add_int(w->end);
    add(",");
    if (w->keyed)
        add_bytes(w->key);
    else
        add("-");
    add(",");
    add_int(n);
    add(":");
    for (uint32_t i = 0; i < n; i++) {
        if (i) add(";");
        add_bytes(elements[i].payload);
        add("@");
        add_int(elements[i].flags & WEIR_FLAG_TIMESTAMP ? elements[i].timestamp : -1);
        add("/");
        add_int(elements[i].index);
    }
    return weir_collect_payload(c, out, at) ? WEIR_OK : weir_fail("win: out of memory");
}

/* ---- timed, plain, ident */

static bool prefix(weir_bytes p, const char *s, int64_t *ms) {
    size_t n = 0;
    while (s[n]) n++;
    if (p.len < n || __builtin_memcmp(p.ptr, s, n) != 0) return false;
    weir_bytes rest = {p.ptr + n, p.len - n};
    return weir_json_parse_int(rest, ms);
}

static int timed(void *ud, const weir_record *in, weir_context *ctx) {
    (void)ud;
    int64_t ms;
    if (prefix(in->payload, "ev:", &ms)) return weir_register_event_timer(ctx, ms);
    if (prefix(in->payload, "pt:", &ms)) return weir_register_processing_timer(ctx, ms);
    if (prefix(in->payload, "dev:", &ms)) return weir_delete_event_timer(ctx, ms);
    if (prefix(in->payload, "dpt:", &ms)) return weir_delete_processing_timer(ctx, ms);
    if (in->payload.len == 5 && __builtin_memcmp(in->payload.ptr, "clock", 5) == 0) {
        if (!start(64)) return weir_fail("timed: out of memory");
        add("wm=");
        add_int(weir_current_watermark());
        add(",now=");
        add_int(weir_current_processing_time());
        return weir_emit_payload(ctx, out, at) ? WEIR_OK : weir_fail("timed: out of memory");
    }
    return weir_fail("timed: unknown command");
}

static int fired(void *ud, const weir_timer *t, weir_context *ctx) {
    (void)ud;
    if (weir_state_put(ctx, seen, t->key.ptr, t->key.len) != WEIR_OK) return WEIR_ERR;
    if (t->key.len == 5 && __builtin_memcmp(t->key.ptr, "again", 5) == 0 &&
        weir_register_event_timer(ctx, t->time + 1) != WEIR_OK)
        return WEIR_ERR;
    if (!start(48 + t->key.len)) return weir_fail("timed: out of memory");
    add("fired ");
    add_int(t->time);
    add(" d");
    add_int(t->domain);
    add(" k");
    add_bytes(t->key);
    return weir_emit_payload(ctx, out, at) ? WEIR_OK : weir_fail("timed: out of memory");
}

static int plain(void *ud, const weir_record *in, weir_context *ctx) {
    (void)ud, (void)in, (void)ctx;
    return WEIR_OK;
}

static int ident(void *ud, const weir_record *in, weir_output *o) {
    (void)ud, (void)in, (void)o;
    return WEIR_OK;
}

void weir_register(void) {
    static const weir_aggregate_fns fns = {agg_create, agg_add, agg_merge, agg_result};
    weir_aggregate("agg", &fns, 0);
    weir_reduce("cat", cat, 0);
    weir_window_process("win", win, 0);
    int t = weir_process("timed", timed, 0);
    seen = weir_state_declare(t, "seen", WEIR_STATE_VALUE, 0);
    weir_on_timer(t, fired);
    weir_process("plain", plain, 0);
    weir_map("ident", ident, 0);
}
