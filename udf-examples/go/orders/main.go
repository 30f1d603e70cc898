// Command orders is Weir's example UDF module in Go: functions over JSON order
// records such as {"id":1,"amount":1999,"currency":"EUR"}.
//
// Build it with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -trimpath -ldflags=-s -o orders.wasm .
//
// udf-examples/README.md defines each function's output byte for byte.
package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math/bits"
	"strconv"

	weir "github.com/weir-streams/weir/sdk/go"
)

func init() {
	// The order of registration fixes the function indexes: enrich is 0.
	weir.Map("enrich", enrich, weir.OnOpen(enrichCfg.open))
	weir.MapBytes("enrich_stdjson", enrichStdJSON, weir.OnOpen(stdjsonCfg.open))
	weir.Filter("positive", positive)
	weir.Map("identity", identity)
	weir.FlatMap("split", split)
	weir.Map("fail", fail)
	weir.Map("panic", panicky)
	weir.KeySelector("customer", customer)
}

// main is never called: the module is a reactor and the host calls the
// functions registered above.
func main() {}

// enrichConfig is the step configuration of enrich and enrich_stdjson.
type enrichConfig struct {
	// Field is the top-level member to scale; default "amount".
	Field string `json:"field"`
	// Factor multiplies the member's value; default 100.
	Factor int64 `json:"factor"`
}

var (
	enrichCfg  = enrichConfig{Field: "amount", Factor: 100}
	stdjsonCfg = enrichConfig{Field: "amount", Factor: 100}
)

// open reads the step's config; members it does not set keep their defaults.
func (c *enrichConfig) open(config []byte) error {
	cfg := enrichConfig{Field: "amount", Factor: 100}
	dec := json.NewDecoder(bytes.NewReader(config))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return errors.New("enrich: reading config: " + err.Error())
	}
	if cfg.Field == "" {
		return errors.New("enrich: config field must not be empty")
	}
	*c = cfg
	return nil
}

// enrich multiplies an integer member in place, rewriting only that number's
// text. Whatever does not qualify passes unchanged. It allocates nothing.
func enrich(in *weir.Record, out *weir.Output) error {
	p := in.Payload()
	start, end, kind, ok := weir.JSONSpan(p, enrichCfg.Field)
	if !ok || kind != weir.KindNumber {
		return nil
	}
	n, ok := weir.JSONParseInt(p[start:end])
	if !ok {
		return nil
	}
	m, ok := mul64(n, enrichCfg.Factor)
	if !ok {
		return nil
	}
	b := append(out.Buffer(), p[:start]...)
	b = appendInt(b, m)
	out.SetPayload(append(b, p[end:]...))
	return nil
}

// mul64 returns a*b unless it overflows an int64. It compares the high half of
// the 128-bit product with the sign of the low half rather than dividing, and
// does not branch: both matter in WebAssembly.
func mul64(a, b int64) (int64, bool) {
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	// The high half of the signed product: the unsigned one, corrected for
	// each negative factor.
	shi := int64(hi) - a>>63&b - b>>63&a
	m := int64(lo)
	return m, shi == m>>63
}

// appendInt appends the decimal text of n to b, as strconv.AppendInt(b, n, 10)
// does. In WebAssembly, where every call and every loop iteration costs dozens
// of instructions, strconv's loop over pairs of digits is the largest part of
// enrich's time; so below 10^8, and with room in b, all eight digits are worked
// out at once in one 64-bit word and written with one store.
func appendInt(b []byte, n int64) []byte {
	u := uint64(n)
	if n < 0 {
		u = -u
	}
	l := len(b)
	if u >= 1e8 || cap(b)-l < 9 {
		return strconv.AppendInt(b, n, 10)
	}
	// The number of digits: log10 from the bit length, off by at most one.
	w := u | 1
	t := bits.Len64(w) * 1233 >> 12
	nd := t + 1
	if w < pow10[t] {
		nd = t
	}
	// Two numbers of four digits in the two 32-bit halves, then four of two
	// digits in the 16-bit quarters, then eight digits in the bytes, the first
	// digit in the lowest byte. x*5243>>19 is x/100 for x < 10^4, x*103>>10 is
	// x/10 for x < 100; the masks drop what spills over from the next lane.
	v := u/10000 | u%10000<<32
	q := v * 5243 >> 19 & 0x0000007F0000007F
	v = q | (v-q*100)<<16
	q = v * 103 >> 10 & 0x000F000F000F000F
	v = q | (v-q*10)<<8
	v = (v + 0x3030303030303030) >> (8 * (8 - nd)) // ASCII, leading zeros dropped
	s := int(uint64(n) >> 63)                      // 1 for the minus sign
	b = b[:l+9]
	b[l] = '-'
	binary.LittleEndian.PutUint64(b[l+s:], v)
	return b[:l+s+nd]
}

var pow10 = [...]uint64{1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8}

// enrichStdJSON is enrich written the usual way, with encoding/json and a map,
// as the baseline of the benchmark. The integer case has the same meaning as
// enrich's but not the same bytes: the output is re-serialised (members sorted
// by name, whitespace dropped, <, > and & escaped), a repeated name means its
// last member, and the whole payload must be valid JSON.
func enrichStdJSON(in *weir.Record) ([]byte, error) {
	var doc map[string]any
	if !json.Valid(in.Payload()) {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(in.Payload()))
	dec.UseNumber() // keep integers exact, as float64 would not
	if dec.Decode(&doc) != nil || doc == nil {
		return nil, nil
	}
	num, ok := doc[stdjsonCfg.Field].(json.Number)
	if !ok {
		return nil, nil
	}
	n, err := strconv.ParseInt(string(num), 10, 64)
	if err != nil {
		return nil, nil
	}
	m, ok := mul64(n, stdjsonCfg.Factor)
	if !ok {
		return nil, nil
	}
	doc[stdjsonCfg.Field] = m
	return json.Marshal(doc)
}

// positive keeps records whose amount is a number greater than zero, decided
// exactly on the number's text (1e-400 is kept, -0.0 is not).
func positive(in *weir.Record) (bool, error) {
	raw, kind, ok := weir.JSONGet(in.Payload(), "amount")
	return ok && kind == weir.KindNumber && sign(raw) > 0, nil
}

// sign returns -1, 0 or 1 for the value of the JSON number raw: the number is
// zero when every digit before its exponent is 0.
func sign(raw []byte) int {
	s := 1
	if raw[0] == '-' {
		s = -1
	}
	for _, c := range raw {
		if c == 'e' || c == 'E' {
			break
		}
		if '1' <= c && c <= '9' {
			return s
		}
	}
	return 0
}

// identity copies its input's payload.
func identity(in *weir.Record, out *weir.Output) error {
	out.SetPayload(in.Payload())
	return nil
}

// split emits each string of the array member "words" as its raw JSON text,
// quotes included; other elements are skipped.
func split(in *weir.Record, c *weir.Collector) error {
	raw, kind, ok := weir.JSONGet(in.Payload(), "words")
	if !ok || kind != weir.KindArray {
		return nil
	}
	weir.JSONArrayEach(raw, func(elem []byte, kind weir.JSONKind) bool {
		if kind == weir.KindString {
			c.EmitPayload(elem)
		}
		return true
	})
	return nil
}

var errNegative = errors.New("amount must not be negative")

// fail rejects records with a negative amount and copies the others.
func fail(in *weir.Record, out *weir.Output) error {
	raw, kind, ok := weir.JSONGet(in.Payload(), "amount")
	if ok && kind == weir.KindNumber && sign(raw) < 0 {
		return errNegative
	}
	return identity(in, out)
}

// panicky panics on an amount of 13 and copies the other records.
func panicky(in *weir.Record, out *weir.Output) error {
	if n, ok := weir.JSONInt(in.Payload(), "amount"); ok && n == 13 {
		panic("udf panic: boom")
	}
	return identity(in, out)
}

// customer keys an order by its customer: the JSON text of the top-level member
// "customer" when it is a string or a number, quotes included, else null. For a
// string without escapes and for an integer, that is the key the built-in
// `key_by: {json_field: customer}` gives; the built-in also canonicalises escapes
// and numbers (`"c\u002d1"` is `"c-1"`, `1.0` is `1`), which this does not.
func customer(in *weir.Record, key []byte) ([]byte, error) {
	raw, kind, ok := weir.JSONGet(in.Payload(), "customer")
	if !ok || kind != weir.KindString && kind != weir.KindNumber {
		return append(key, "null"...), nil
	}
	return append(key, raw...), nil
}
