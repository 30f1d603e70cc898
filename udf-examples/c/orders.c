/*
 * orders.c — Weir's example order functions in C, with the C SDK (sdk/c). The
 * twin of udf-examples/go/orders: for the functions below, the same batch gives
 * byte for byte the same output frame (udf-examples/README.md defines them).
 *
 *   enrich    map     scale the integer member "amount" by 100 in place
 *   positive  filter  keep records whose "amount" is a number > 0
 *   identity  map     copy the payload
 *   fail      map     copy the payload; fail the call on a negative amount
 *   split     flat_map  one output per string of the array "words"
 *   customer  key_selector  key: the string or number member "customer", as written
 */
#include "weir.h"

/* enrich's configuration: the member to scale and the factor. */
static struct {
    uint8_t field[128];
    size_t field_len;
    int64_t factor;
} cfg = {"amount", 6, 100};

/* The open hook's view of one config member. */
static bool config_member(void *ud, weir_bytes name, weir_bytes value, enum weir_json_kind kind) {
    int *rc = ud;
    uint8_t key[16];
    long n = weir_json_unquote(name, key, sizeof key);
    if (n == 5 && __builtin_memcmp(key, "field", 5) == 0) {
        if (kind == WEIR_JSON_NULL) return true;
        long l = kind == WEIR_JSON_STRING ? weir_json_unquote(value, cfg.field, sizeof cfg.field) : -1;
        if (l <= 0) {
            *rc = weir_fail("enrich: config field must be a non-empty string of at most 128 bytes");
            return false;
        }
        cfg.field_len = (size_t)l;
        return true;
    }
    if (n == 6 && __builtin_memcmp(key, "factor", 6) == 0) {
        if (kind == WEIR_JSON_NULL) return true;
        if (kind != WEIR_JSON_NUMBER || !weir_json_parse_int(value, &cfg.factor)) {
            *rc = weir_fail("enrich: config factor must be an integer");
            return false;
        }
        return true;
    }
    *rc = weir_fail("enrich: config has an unknown member (known: field, factor)");
    return false;
}

static int enrich_open(void *ud, const uint8_t *config, size_t len) {
    (void)ud;
    int rc = WEIR_OK;
    weir_bytes c = {config, len};
    weir_json_object_each(c, config_member, &rc); /* the SDK checked it is an object */
    return rc;
}

/* enrich: if the member is an integer whose product by the factor fits an int64,
 * the payload with exactly that number's text replaced by the product; otherwise
 * the record unchanged (an output with no field set). */
static int enrich(void *ud, const weir_record *in, weir_output *out) {
    (void)ud;
    weir_bytes raw;
    int64_t n, m;
    if (weir_json_get_n(in->payload, (const char *)cfg.field, cfg.field_len, &raw) != WEIR_JSON_NUMBER ||
        !weir_json_parse_int(raw, &n) || !weir_mul_i64(n, cfg.factor, &m))
        return WEIR_OK;
    size_t prefix = (size_t)(raw.ptr - in->payload.ptr);
    size_t suffix = in->payload.len - prefix - raw.len;
    uint8_t *b = weir_scratch(in->payload.len + 20);
    if (!b) return weir_fail("enrich: out of memory");
    __builtin_memcpy(b, in->payload.ptr, prefix);
    size_t k = prefix + weir_format_i64(m, b + prefix);
    __builtin_memcpy(b + k, raw.ptr + raw.len, suffix);
    weir_set_payload(out, b, k + suffix);
    return WEIR_OK;
}

/* sign of the JSON number text raw: it is zero when every digit before its
 * exponent is 0. */
static int sign(weir_bytes raw) {
    int s = raw.ptr[0] == '-' ? -1 : 1;
    for (size_t i = 0; i < raw.len; i++) {
        uint8_t c = raw.ptr[i];
        if (c == 'e' || c == 'E') break;
        if (c >= '1' && c <= '9') return s;
    }
    return 0;
}

static int positive(void *ud, const weir_record *in, bool *keep) {
    (void)ud;
    weir_bytes raw;
    *keep = weir_json_get(in->payload, "amount", &raw) == WEIR_JSON_NUMBER && sign(raw) > 0;
    return WEIR_OK;
}

static int identity(void *ud, const weir_record *in, weir_output *out) {
    (void)ud;
    weir_set_payload(out, in->payload.ptr, in->payload.len);
    return WEIR_OK;
}

static int fail(void *ud, const weir_record *in, weir_output *out) {
    weir_bytes raw;
    if (weir_json_get(in->payload, "amount", &raw) == WEIR_JSON_NUMBER && sign(raw) < 0)
        return weir_fail("amount must not be negative");
    return identity(ud, in, out);
}

/* split: one output per string element of the array "words", its JSON text
 * with quotes and escapes as they are. */
static bool split_elem(void *c, weir_bytes elem, enum weir_json_kind kind) {
    if (kind == WEIR_JSON_STRING) weir_collect_payload(c, elem.ptr, elem.len);
    return true;
}

static int split(void *ud, const weir_record *in, weir_collector *c) {
    (void)ud;
    weir_bytes raw;
    if (weir_json_get(in->payload, "words", &raw) == WEIR_JSON_ARRAY) weir_json_array_each(raw, split_elem, c);
    return WEIR_OK;
}

/* customer keys an order by its customer: the JSON text of the top-level member
 * "customer" when it is a string or a number, quotes and escapes as written, else
 * null. For a string without escapes and for an integer, that is the key the
 * built-in `key_by: {json_field: customer}` gives; the built-in also canonicalises
 * escapes and numbers, which this does not. The key is a view of the payload. */
static int customer(void *ud, const weir_record *in, weir_bytes *key) {
    (void)ud;
    weir_bytes raw;
    enum weir_json_kind k = weir_json_get(in->payload, "customer", &raw);
    if (k == WEIR_JSON_STRING || k == WEIR_JSON_NUMBER) {
        *key = raw;
    } else {
        key->ptr = (const uint8_t *)"null";
        key->len = 4;
    }
    return WEIR_OK;
}

void weir_register(void) {
    weir_on_open(weir_map("enrich", enrich, 0), enrich_open);
    weir_filter("positive", positive, 0);
    weir_map("identity", identity, 0);
    weir_map("fail", fail, 0);
    weir_flat_map("split", split, 0);
    weir_key_selector("customer", customer, 0);
}
