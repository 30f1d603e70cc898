/*
 * statetest.c — a module exercising the C SDK's keyed state for
 * udf-examples/conformance/statetest_test.go (which defines the expected outputs):
 * value, list and map state, values past the first buffer size, iteration with
 * emits and a nested iteration inside it, the errors the SDK and the host give,
 * and a reduce function.
 */
#include "weir.h"

static weir_state v, l, m;

/* A small text builder over weir_scratch. */
static uint8_t *out;
static size_t at;
static void add(const char *s) {
    while (*s) out[at++] = (uint8_t)*s++;
}
static void add_bytes(weir_bytes b) {
    __builtin_memcpy(out + at, b.ptr, b.len);
    at += b.len;
}
static void add_int(int64_t n) { at += weir_format_i64(n, out + at); }
static void sep(void) {
    if (at) out[at++] = ',';
}

static int stop_at_first(void *ud, weir_context *ctx, weir_bytes sub, weir_bytes val) {
    (void)ud, (void)ctx, (void)sub, (void)val;
    return WEIR_STOP;
}

static int list_entry(void *ud, weir_context *ctx, weir_bytes sub, weir_bytes val) {
    (void)ud, (void)ctx, (void)sub;
    sep();
    add("l");
    add_int((int64_t)val.len);
    return WEIR_OK;
}

static int map_entry(void *ud, weir_context *ctx, weir_bytes sub, weir_bytes val) {
    (void)ud;
    sep();
    add_bytes(sub);
    add("=");
    add_int((int64_t)val.len);
    /* Emitting and iterating another state from inside an iteration. */
    weir_output o = {0};
    o.tag = 1; /* subkeys */
    weir_set_payload(&o, sub.ptr, sub.len);
    if (!weir_emit(ctx, &o)) return weir_fail("probe: out of memory");
    return weir_state_each(ctx, l, stop_at_first, 0);
}

static int sub_only(void *ud, weir_context *ctx, weir_bytes sub, weir_bytes val) {
    (void)ud, (void)ctx, (void)val;
    if (*(bool *)ud) out[at++] = ',';
    *(bool *)ud = true;
    add_bytes(sub);
    return WEIR_OK;
}

static int count_entry(void *ud, weir_context *ctx, weir_bytes sub, weir_bytes val) {
    (void)ctx, (void)sub, (void)val;
    ++*(int *)ud;
    return WEIR_OK;
}

static bool is(weir_bytes b, const char *s) {
    size_t i = 0;
    for (; s[i]; i++)
        if (i >= b.len || b.ptr[i] != (uint8_t)s[i]) return false;
    return i == b.len;
}

static int probe(void *ud, const weir_record *in, weir_context *ctx) {
    (void)ud;
    static uint8_t big[1000];
    for (int i = 0; i < 1000; i++) big[i] = 'b';
    out = weir_scratch(4096);
    at = 0;
    if (!out) return weir_fail("probe: out of memory");
    weir_bytes p = in->payload, val;
    bool found;
    if (is(p, "fill")) {
        static uint8_t xs[200];
        for (int i = 0; i < 200; i++) xs[i] = 'x';
        if (weir_list_append(ctx, l, "one", 3) || weir_list_append(ctx, l, xs, 200) || weir_list_append(ctx, l, "", 0) ||
            weir_map_put(ctx, m, "b", 1, "2", 1) || weir_map_put(ctx, m, "a", 1, xs, 200) ||
            weir_map_put(ctx, m, "c", 1, "3", 1) || weir_map_put(ctx, m, "", 0, "empty", 5) ||
            weir_state_put(ctx, v, big, 1000))
            return WEIR_ERR;
        add("ok");
    } else if (is(p, "read")) {
        if (weir_state_each(ctx, l, list_entry, 0) || weir_state_each(ctx, m, map_entry, 0)) return WEIR_ERR;
        if (weir_state_get(ctx, v, &val, &found)) return WEIR_ERR;
        sep();
        add("v=");
        add_int(found ? (int64_t)val.len : -1);
        if (weir_map_get(ctx, m, "c", 1, &val, &found)) return WEIR_ERR;
        add(",c:");
        if (found) add_bytes(val);
        if (weir_map_get(ctx, m, "zz", 2, &val, &found)) return WEIR_ERR;
        add(found ? ",zz:?" : ",zz:-");
    } else if (is(p, "delete")) {
        bool more = false;
        if (weir_map_delete(ctx, m, "b", 1) || weir_state_each(ctx, m, sub_only, &more)) return WEIR_ERR;
    } else if (is(p, "clear")) {
        int nl = 0, nm = 0;
        if (weir_state_clear(ctx, l) || weir_state_clear(ctx, m) || weir_state_clear(ctx, v) ||
            weir_state_each(ctx, l, count_entry, &nl) || weir_state_each(ctx, m, count_entry, &nm) ||
            weir_state_get(ctx, v, &val, &found))
            return WEIR_ERR;
        add("l");
        add_int(nl);
        add(",m");
        add_int(nm);
        add(found ? ",v+" : ",v-");
    } else if (is(p, "delempty")) {
        return weir_map_delete(ctx, m, "", 0);
    } else if (is(p, "listget")) {
        return weir_state_get(ctx, l, &val, &found);
    } else {
        return weir_fail("probe: unknown command");
    }
    if (!weir_emit_payload(ctx, out, at)) return weir_fail("probe: out of memory");
    return WEIR_OK;
}

/* concat: the running value, a comma, the payload. */
static int concat(void *ud, weir_bytes acc, weir_bytes value, weir_bytes *result) {
    (void)ud;
    uint8_t *b = weir_scratch(acc.len + 1 + value.len);
    if (!b) return weir_fail("concat: out of memory");
    __builtin_memcpy(b, acc.ptr, acc.len);
    b[acc.len] = ',';
    __builtin_memcpy(b + acc.len + 1, value.ptr, value.len);
    result->ptr = b;
    result->len = acc.len + 1 + value.len;
    return WEIR_OK;
}

void weir_register(void) {
    int i = weir_process("probe", probe, 0);
    weir_side_output(i, "subkeys");
    v = weir_state_declare(i, "v", WEIR_STATE_VALUE, 0);
    l = weir_state_declare(i, "l", WEIR_STATE_LIST, 60000);
    m = weir_state_declare(i, "m", WEIR_STATE_MAP, 0);
    weir_reduce("concat", concat, 0);
}
