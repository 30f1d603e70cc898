/*
 * counter.c — Weir's keyed-state example in C, with the C SDK (sdk/c): the twin of
 * udf-examples/go/counter's count, which gives byte for byte the same outputs
 * (udf-examples/README.md, "The counter functions", defines it).
 *
 *   count  process  a running count per key, in the value state "count"
 */
#include "weir.h"

/* The count of each key: an int64, 8 bytes little endian, in Weir's keyed state
 * (so it survives failover, unlike a C global). */
static weir_state counts;
/* The job's execution attempt, read once in open. */
static int64_t attempt;

static int count_open(void *ud, const uint8_t *config, size_t len) {
    (void)ud, (void)config, (void)len;
    const weir_task_info *t;
    if (weir_get_task_info(&t) != WEIR_OK) return WEIR_ERR;
    attempt = t->attempt;
    return WEIR_OK;
}

static size_t put(uint8_t *b, size_t at, const void *p, size_t n) {
    __builtin_memcpy(b + at, p, n);
    return at + n;
}

static int count(void *ud, const weir_record *in, weir_context *ctx) {
    (void)ud;
    int64_t n;
    bool found;
    if (weir_state_get_i64(ctx, counts, &n, &found) != WEIR_OK) return WEIR_ERR;
    n = found ? n + 1 : 1;
    if (weir_state_put_i64(ctx, counts, n) != WEIR_OK) return WEIR_ERR;

    static const weir_bytes null = {(const uint8_t *)"null", 4};
    weir_bytes key, seq;
    if (weir_json_get(in->payload, "key", &key) == WEIR_JSON_INVALID) key = null;
    if (weir_json_get(in->payload, "seq", &seq) != WEIR_JSON_NUMBER) seq = null;
    /* {"key":K,"seq":S,"count":N,"attempt":A}: 40 bytes of text and two numbers
     * of at most 20 bytes each, besides K and S. */
    uint8_t *b = weir_scratch(key.len + seq.len + 96);
    if (!b) return weir_fail("count: out of memory");
    size_t at = put(b, 0, "{\"key\":", 7);
    at = put(b, at, key.ptr, key.len);
    at = put(b, at, ",\"seq\":", 7);
    at = put(b, at, seq.ptr, seq.len);
    at = put(b, at, ",\"count\":", 9);
    at += weir_format_i64(n, b + at);
    at = put(b, at, ",\"attempt\":", 11);
    at += weir_format_i64(attempt, b + at);
    b[at++] = '}';
    if (!weir_emit_payload(ctx, b, at)) return weir_fail("count: out of memory");
    return WEIR_OK;
}

void weir_register(void) {
    int i = weir_process("count", count, 0);
    weir_on_open(i, count_open);
    /* The name maps the state in checkpoints: renaming it loses the counts. */
    counts = weir_state_declare(i, "count", WEIR_STATE_VALUE, 0);
}
