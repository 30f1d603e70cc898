/*
 * streamstest.c — a module exercising the C SDK's co_process paths that the streams
 * example never takes, for udf-examples/conformance/streams_c_test.go (which drives
 * it through a fake host and defines the expected outputs and messages).
 *
 *   0 co  co_process with side output "side", state 0 "bc" (broadcast), state 1
 *         "seen" (value) and a timer callback
 *
 * Commands, one per record payload, on either input:
 *   "put:<k>"  broadcast put of the payload under k
 *   "get:<k>"  emits "<k>=<value>", or "<k>-" when absent
 *   "tag:<n>"  emits "t" on output tag n (1 is "side"; others are undeclared)
 *   "in"       emits "in<input>"
 *   "kv"       writes "x" to the keyed value state
 *   "ev:<ms>"  registers an event-time timer
 * The timer callback emits "fired <time> in<input> <value of bc "a" or ->".
 */
#include "weir.h"

static weir_state bc, seen;

static bool prefix(weir_bytes b, const char *p, weir_bytes *rest) {
    size_t n = 0;
    while (p[n]) n++;
    if (b.len < n || __builtin_memcmp(b.ptr, p, n) != 0) return false;
    rest->ptr = b.ptr + n;
    rest->len = b.len - n;
    return true;
}

static int64_t number(weir_bytes b) {
    int64_t v = 0;
    weir_json_parse_int(b, &v);
    return v;
}

static size_t put(uint8_t *b, size_t at, const void *p, size_t n) {
    if (n) __builtin_memcpy(b + at, p, n);
    return at + n;
}

/* "<k>=<value>" or "<k>-" into weir_scratch. */
static int emit_get(weir_context *ctx, weir_bytes k, const char *pre) {
    weir_bytes v;
    bool found;
    if (weir_broadcast_get(ctx, bc, k.ptr, k.len, &v, &found) != WEIR_OK) return WEIR_ERR;
    size_t pl = 0;
    while (pre[pl]) pl++;
    uint8_t *b = weir_scratch(pl + k.len + 1 + v.len);
    if (!b) return weir_fail("out of memory");
    size_t at = put(b, 0, pre, pl);
    at = put(b, at, k.ptr, k.len);
    at = found ? put(b, put(b, at, "=", 1), v.ptr, v.len) : put(b, at, "-", 1);
    return weir_emit_payload(ctx, b, at) ? WEIR_OK : WEIR_ERR;
}

static int command(void *ud, const weir_record *in, weir_context *ctx) {
    (void)ud;
    weir_bytes arg;
    if (prefix(in->payload, "put:", &arg))
        return weir_broadcast_put(ctx, bc, arg.ptr, arg.len, in->payload.ptr, in->payload.len);
    if (prefix(in->payload, "get:", &arg)) return emit_get(ctx, arg, "");
    if (prefix(in->payload, "tag:", &arg))
        return weir_emit_payload_to(ctx, (uint32_t)number(arg), "t", 1) ? WEIR_OK : WEIR_ERR;
    if (prefix(in->payload, "in", &arg) && !arg.len) {
        uint8_t b[3] = {'i', 'n', (uint8_t)('0' + weir_context_input(ctx))};
        return weir_emit_payload(ctx, b, 3) ? WEIR_OK : WEIR_ERR;
    }
    if (prefix(in->payload, "kv", &arg) && !arg.len) return weir_state_put(ctx, seen, "x", 1);
    if (prefix(in->payload, "ev:", &arg)) return weir_register_event_timer(ctx, number(arg));
    return weir_fail("streamstest: unknown command");
}

static int on_timer(void *ud, const weir_timer *t, weir_context *ctx) {
    (void)ud;
    uint8_t pre[48];
    size_t at = put(pre, 0, "fired ", 6);
    at += weir_format_i64(t->time, pre + at);
    at = put(pre, at, " in", 3);
    pre[at++] = (uint8_t)('0' + weir_context_input(ctx));
    pre[at++] = ' ';
    pre[at] = 0;
    weir_bytes a = {(const uint8_t *)"a", 1};
    return emit_get(ctx, a, (const char *)pre);
}

void weir_register(void) {
    int f = weir_co_process("co", command, command, 0); /* index 0 */
    weir_side_output(f, "side");
    bc = weir_state_declare(f, "bc", WEIR_STATE_BROADCAST, 0);
    seen = weir_state_declare(f, "seen", WEIR_STATE_VALUE, 0);
    weir_on_timer(f, on_timer);
}
