/*
 * streams.c — Weir's two-input, trigger and evictor examples in C, with the C SDK
 * (sdk/c): the same functions, at the same indexes, as every SDK's streams module
 * (the conformance suite relies on them).
 *
 *   0 fraud          co_process  transactions (input 1) checked against the rules
 *                                of a broadcast stream (input 2, broadcast state)
 *   1 match          map         an interval-join row of an order and its payment
 *   2 eager          trigger     fires at 5 elements, fires and purges at the end
 *   3 drop_negative  evictor     evicts the elements with a negative "amount"
 */
#include "weir.h"

static size_t put(uint8_t *b, size_t at, const void *p, size_t n) {
    if (n) __builtin_memcpy(b + at, p, n);
    return at + n;
}
#define PUT_LIT(b, at, s) put(b, at, s, sizeof s - 1)

static const weir_bytes json_null = {(const uint8_t *)"null", 4};

/* The raw text of a top-level member of obj, "null" when it is absent. */
static weir_bytes member_or_null(weir_bytes obj, const char *name) {
    weir_bytes raw;
    return weir_json_get(obj, name, &raw) == WEIR_JSON_INVALID ? json_null : raw;
}

/* The number in member name of obj; false when absent or not a number. */
static bool member_number(weir_bytes obj, const char *name, double *v) {
    weir_bytes raw;
    return weir_json_get(obj, name, &raw) == WEIR_JSON_NUMBER && weir_json_parse_f64(raw, v);
}

static bool is_object(weir_bytes b) { return b.len && b.ptr[0] == '{' && weir_json_valid(b); }

/* ---- fraud: co_process, state 0 "rules" (broadcast), side output "clean" */

static weir_state rules;
static uint32_t clean;

/* The second input, broadcast: {"rule":"<id>","max_amount":<number>} stores the
 * payload under the rule id, {"rule":"<id>","delete":true} removes the rule.
 * Anything else is ignored, and so is a rule with an empty id, which the ABI could
 * not delete on its own (an empty sub-key deletes the whole map). */
static int fraud_rule(void *ud, const weir_record *in, weir_context *ctx) {
    (void)ud;
    weir_bytes raw, v;
    if (!is_object(in->payload) || weir_json_get(in->payload, "rule", &raw) != WEIR_JSON_STRING) return WEIR_OK;
    uint8_t *id = weir_scratch(raw.len); /* unescaped, never longer than raw */
    if (!id) return weir_fail("fraud: out of memory");
    long n = weir_json_unquote(raw, id, raw.len);
    if (n <= 0) return WEIR_OK;
    if (weir_json_get(in->payload, "delete", &v) == WEIR_JSON_TRUE)
        return weir_broadcast_delete(ctx, rules, id, (size_t)n);
    if (weir_json_get(in->payload, "max_amount", &v) == WEIR_JSON_NUMBER)
        return weir_broadcast_put(ctx, rules, id, (size_t)n, in->payload.ptr, in->payload.len);
    return WEIR_OK;
}

/* The transaction being checked. */
struct txn {
    weir_bytes id, amount_raw;
    double amount;
    bool matched;
};

/* One rule (in byte order of the ids): {"txn":<id>,"rule":"<rule id>","amount":<amount>}
 * on the main output when its max_amount is below the amount. */
static int check_rule(void *ud, weir_context *ctx, weir_bytes id, weir_bytes rule) {
    struct txn *t = ud;
    double max;
    if (!member_number(rule, "max_amount", &max) || !(max < t->amount)) return WEIR_OK;
    uint8_t *b = weir_scratch(32 + t->id.len + 6 * id.len + t->amount_raw.len);
    if (!b) return weir_fail("fraud: out of memory");
    size_t at = PUT_LIT(b, 0, "{\"txn\":");
    at = put(b, at, t->id.ptr, t->id.len);
    at = PUT_LIT(b, at, ",\"rule\":");
    at += weir_json_quote(id, b + at);
    at = PUT_LIT(b, at, ",\"amount\":");
    at = put(b, at, t->amount_raw.ptr, t->amount_raw.len);
    b[at++] = '}';
    t->matched = true;
    return weir_emit_payload(ctx, b, at) ? WEIR_OK : WEIR_ERR;
}

/* The first input: {"id":<json>,"account":<json>,"amount":<number>}, checked
 * against every rule; a record no rule matched (a record without a numeric amount
 * among them) goes to side output "clean" unchanged. */
static int fraud_txn(void *ud, const weir_record *in, weir_context *ctx) {
    (void)ud;
    struct txn t = {member_or_null(in->payload, "id"), {0, 0}, 0, false};
    if (is_object(in->payload) && weir_json_get(in->payload, "amount", &t.amount_raw) == WEIR_JSON_NUMBER &&
        weir_json_parse_f64(t.amount_raw, &t.amount) && weir_broadcast_each(ctx, rules, check_rule, &t) != WEIR_OK)
        return WEIR_ERR;
    if (t.matched) return WEIR_OK;
    weir_output same = {0}; /* the record itself */
    return weir_emit_to(ctx, clean, &same) ? WEIR_OK : WEIR_ERR;
}

/* ---- match: map over {"left":<order or null>,"right":<payment or null>} */

static int match(void *ud, const weir_record *in, weir_output *out) {
    (void)ud;
    if (!is_object(in->payload)) return weir_fail("match: the payload is not a JSON object");
    weir_bytes left, right;
    bool has_left = weir_json_get(in->payload, "left", &left) == WEIR_JSON_OBJECT;
    bool has_right = weir_json_get(in->payload, "right", &right) == WEIR_JSON_OBJECT;
    weir_bytes order = has_left ? member_or_null(left, "order_id") : has_right ? member_or_null(right, "order_id")
                                                                                : json_null;
    weir_bytes ordered = has_left ? member_or_null(left, "amount") : json_null;
    weir_bytes paid = has_right ? member_or_null(right, "amount") : json_null;
    double l, r;
    bool underpaid = has_left && (!has_right || (member_number(left, "amount", &l) &&
                                                 member_number(right, "amount", &r) && r < l));
    uint8_t *b = weir_scratch(64 + order.len + ordered.len + paid.len);
    if (!b) return weir_fail("match: out of memory");
    size_t at = PUT_LIT(b, 0, "{\"order\":");
    at = put(b, at, order.ptr, order.len);
    at = PUT_LIT(b, at, ",\"ordered\":");
    at = put(b, at, ordered.ptr, ordered.len);
    at = PUT_LIT(b, at, ",\"paid\":");
    at = put(b, at, paid.ptr, paid.len);
    at = underpaid ? PUT_LIT(b, at, ",\"underpaid\":true}") : PUT_LIT(b, at, ",\"underpaid\":false}");
    weir_set_payload(out, b, at);
    return WEIR_OK;
}

/* ---- eager: a trigger */

static int eager(void *ud, const weir_trigger_event *ev, weir_trigger_result *res) {
    (void)ud;
    switch (ev->kind) {
    case WEIR_TRIGGER_ELEMENTS:
        res->action = ev->count >= 5 ? WEIR_FIRE : WEIR_CONTINUE;
        res->event_timer = ev->end - 1; /* the end of the window, once */
        break;
    case WEIR_TRIGGER_EVENT_TIMER:
        res->action = ev->time >= ev->end - 1 ? WEIR_FIRE_AND_PURGE : WEIR_CONTINUE;
        break;
    case WEIR_TRIGGER_PROCESSING_TIMER:
        break; /* continue, no timer */
    }
    return WEIR_OK;
}

/* ---- drop_negative: an evictor */

static int drop_negative(void *ud, const weir_window *w, const weir_record *elements, uint32_t n,
                         weir_evictions *ev) {
    (void)ud, (void)w;
    for (uint32_t i = 0; i < n; i++) {
        double amount;
        if (member_number(elements[i].payload, "amount", &amount) && amount < 0) weir_evict(ev, i);
    }
    return WEIR_OK;
}

void weir_register(void) {
    int f = weir_co_process("fraud", fraud_txn, fraud_rule, 0); /* index 0 */
    rules = weir_state_declare(f, "rules", WEIR_STATE_BROADCAST, 0);
    clean = weir_side_output(f, "clean");
    weir_map("match", match, 0);                       /* index 1 */
    weir_trigger("eager", eager, 0);                   /* index 2 */
    weir_evictor("drop_negative", drop_negative, 0);   /* index 3 */
}
