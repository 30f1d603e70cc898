package keyby

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/weir-streams/weir/internal/record"
)

func key(payload, field string) (string, result) {
	k, res := appendKey(nil, []byte(payload), []string{field})
	return string(k), res
}

// TestFieldNames: a field is a member's name, whatever jsonparser would make of
// it as a path.
func TestFieldNames(t *testing.T) {
	for _, c := range []struct{ field, payload, want string }{
		{"[0]", `{"[0]":5}`, `5`},
		{"[0]", `[7]`, `null`},
		{"[0]", ` [{"[0]":1}]`, `null`},
		{"", `{"":"empty"}`, `"empty"`},
		{"a.b", `{"a":{"b":1},"a.b":2}`, `2`},
		{"é", `{"\u00e9":3}`, `3`},
		{`q"`, `{"q\"":4}`, `4`},
	} {
		k, _ := appendKey(nil, []byte(c.payload), []string{c.field})
		want, _ := oracleKey([]byte(c.payload), c.field)
		if string(k) != c.want || want != c.want {
			t.Errorf("field %q of %s: key %s (encoding/json: %s), want %s", c.field, c.payload, k, want, c.want)
		}
	}
}

func TestKeyTable(t *testing.T) {
	cases := []struct {
		payload string
		want    string
		res     result
	}{
		// Strings keep their quotes and are re-encoded canonically.
		{`{"user":"alice"}`, `"alice"`, keyed},
		{`{"user":""}`, `""`, keyed},
		{`{"user":"al\u0069ce"}`, `"alice"`, keyed},
		{`{"user":"a\/b"}`, `"a/b"`, keyed},
		{`{"user":"q\"b\\s"}`, `"q\"b\\s"`, keyed},
		{`{"user":"\b\f\n\r\t"}`, `"\b\f\n\r\t"`, keyed},
		{`{"user":"\u0008\u000C\u000a"}`, `"\b\f\n"`, keyed},
		{`{"user":"\u0000\u001F\u0001"}`, `"\u0000\u001f\u0001"`, keyed},
		{`{"user":"\u007f"}`, "\"\x7f\"", keyed},
		{`{"user":"\u00e9t\u00C9"}`, `"étÉ"`, keyed},
		{`{"user":"été"}`, `"été"`, keyed},
		{`{"user":"\u20ac\ud83d\ude00"}`, `"€😀"`, keyed},
		{`{"user":"😀"}`, `"😀"`, keyed},
		{`{"user":"\u2028\u2029"}`, "\"\u2028\u2029\"", keyed},
		{`{"user":"\ud800"}`, `"�"`, keyed},          // unpaired high surrogate
		{`{"user":"\udc00x"}`, `"�x"`, keyed},        // unpaired low surrogate
		{`{"user":"\ud83d\u0041"}`, `"�A"`, keyed},   // high surrogate, then not a low one
		{"{\"user\":\"a\xffb\"}", `"a�b"`, keyed},    // not UTF-8
		{`{"user":"\x"}`, `null`, missing},           // bad escape
		{`{"user":"\u12"}`, `null`, missing},         // short \u escape
		{`{"user":"\u12G4"}`, `null`, missing},       // not hex
		{"{\"user\":\"a\tb\"}", `null`, missing},     // raw control character
		{`{"user":"unterminated}`, `null`, missing},  // no closing quote
		{`{"user":"a"}trailing`, `null`, missing},    // not JSON as a whole
		{`{"x":1 "user":5}`, `null`, missing},        // malformed before the member
		{`{"user":5,"x":}`, `null`, missing},         // malformed after it
		{`{"us\u0065r":"esc"}`, `"esc"`, keyed},      // names compared unescaped
		{`{"user":1,"user":2}`, `1`, keyed},          // the first member wins
		{`{"x":{"user":1},"user":2}`, `2`, keyed},    // top level only
		{`{"a":"user","user":3}`, `3`, keyed},        // a value is not a name
		{` { "user" : "sp" , "x":1}`, `"sp"`, keyed}, // whitespace
		{`{"user.id":"dot","user":{"id":1}}`, `null`, invalid},

		// Numbers in the shortest form of their exact value.
		{`{"user":0}`, `0`, keyed},
		{`{"user":-0}`, `0`, keyed},
		{`{"user":-0.0e10}`, `0`, keyed},
		{`{"user":1}`, `1`, keyed},
		{`{"user":1.0}`, `1`, keyed},
		{`{"user":1e0}`, `1`, keyed},
		{`{"user":10E-1}`, `1`, keyed},
		{`{"user":1e2}`, `100`, keyed},
		{`{"user":1E+2}`, `100`, keyed},
		{`{"user":-12.50}`, `-12.5`, keyed},
		{`{"user":0.5}`, `0.5`, keyed},
		{`{"user":0.000001}`, `0.000001`, keyed},
		{`{"user":1e-6}`, `0.000001`, keyed},
		{`{"user":1e-7}`, `1e-7`, keyed},
		{`{"user":1.5e-7}`, `1.5e-7`, keyed},
		{`{"user":123456789012345678901}`, `123456789012345678901`, keyed}, // 21 digits
		{`{"user":1e21}`, `1e+21`, keyed},
		{`{"user":1e20}`, `100000000000000000000`, keyed},
		{`{"user":123e18}`, `123000000000000000000`, keyed},
		{`{"user":1234567890123456789012}`, `1.234567890123456789012e+21`, keyed},
		{`{"user":12345678901234567891}`, `12345678901234567891`, keyed}, // beyond a double: kept
		{`{"user":12345678901234567892}`, `12345678901234567892`, keyed},
		{`{"user":9007199254740993}`, `9007199254740993`, keyed},
		{`{"user":0.1000000000000000055511151231257827}`, `0.1000000000000000055511151231257827`, keyed},
		{`{"user":1e400}`, `1e+400`, keyed},
		{`{"user":-1e-400}`, `-1e-400`, keyed},
		{`{"user":2.5e999999999}`, `2.5e+999999999`, keyed},
		{`{"user":1e0000000000000000000000002}`, `100`, keyed},
		{`{"user":1e1000000000}`, `null`, invalid}, // exponent out of range
		{`{"user":01}`, `null`, missing},
		{`{"user":1.}`, `null`, missing},
		{`{"user":.5}`, `null`, missing},
		{`{"user":1e}`, `null`, missing},
		{`{"user":1e+}`, `null`, missing},
		{`{"user":-}`, `null`, missing},
		{`{"user":+1}`, `null`, missing},
		{`{"user":1.2.3}`, `null`, missing},
		{`{"user":0x10}`, `null`, missing},

		// Literals.
		{`{"user":true}`, `true`, keyed},
		{`{"user":false}`, `false`, keyed},
		{`{"user":null}`, `null`, keyed},
		{`{"user":tru}`, `null`, missing},
		{`{"user":nul}`, `null`, missing},

		// Objects and arrays are refused.
		{`{"user":{"id":1}}`, `null`, invalid},
		{`{"user":[1,2]}`, `null`, invalid},
		{`{"user":[]}`, `null`, invalid},

		// No member.
		{`{}`, `null`, missing},
		{`{"id":1}`, `null`, missing},
		{``, `null`, missing},
		{`"user"`, `null`, missing},
		{`[{"user":1}]`, `null`, missing},
		{`42`, `null`, missing},
		{`{"user"`, `null`, missing},
		{`not json`, `null`, missing},
	}
	for _, c := range cases {
		if want, wantRes := oracleKey([]byte(c.payload), "user"); want != c.want || wantRes != c.res {
			t.Errorf("%s: encoding/json finds %s (%d), the table says %s (%d)", c.payload, want, wantRes, c.want, c.res)
		}
		got, res := key(c.payload, "user")
		if got != c.want || res != c.res {
			t.Errorf("%s: key %s (%d), want %s (%d)", c.payload, got, res, c.want, c.res)
		}
	}
}

// TestMalformedValues: the canonical writers refuse what is not JSON, although
// appendKey never hands them such a value (it checks the whole payload first).
func TestMalformedValues(t *testing.T) {
	for _, s := range []string{`\x`, `\u12`, `\u12G4`, "a\tb", `\`, `a"b`} {
		if k, ok := appendString(nil, []byte(s)); ok {
			t.Errorf("string %q accepted as %s", s, k)
		}
	}
	for _, s := range []string{``, `01`, `1.`, `.5`, `1e`, `1e+`, `-`, `+1`, `1.2.3`, `0x10`, `1e1000000000`, `--1`, `1 `} {
		if k, ok := appendNumber(nil, []byte(s)); ok {
			t.Errorf("number %q accepted as %s", s, k)
		}
	}
}

// esFormat is ECMAScript's Number::toString of f, built on strconv's shortest
// round-trip digits: the reference RFC 8785 uses for numbers.
func esFormat(f float64) string {
	if f == 0 {
		return "0"
	}
	sign := ""
	if f < 0 {
		sign, f = "-", -f
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // d.ddde±XX
	mant, exp, _ := strings.Cut(e, "e")
	digits := strings.Replace(mant, ".", "", 1)
	x, _ := strconv.Atoi(exp)
	k, n := len(digits), x+1
	switch {
	case k <= n && n <= 21:
		return sign + digits + strings.Repeat("0", n-k)
	case 0 < n && n <= 21:
		return sign + digits[:n] + "." + digits[n:]
	case -6 < n && n <= 0:
		return sign + "0." + strings.Repeat("0", -n) + digits
	}
	m := digits[:1]
	if k > 1 {
		m += "." + digits[1:]
	}
	es := "+"
	if n-1 < 0 {
		es = ""
	}
	return sign + m + "e" + es + strconv.Itoa(n-1)
}

// TestNumbersAgreeWithRFC8785 writes random numbers of at most 15 significant
// digits in many spellings and checks their keys against RFC 8785's form, the
// shortest round trip of the nearest double laid out as ECMAScript does.
func TestNumbersAgreeWithRFC8785(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 200000 {
		nd := 1 + rng.IntN(15)
		var sb strings.Builder
		if rng.IntN(2) == 0 {
			sb.WriteByte('-')
		}
		digits := make([]byte, nd)
		for i := range digits {
			digits[i] = byte('0' + rng.IntN(10))
		}
		// Split into integer part and fraction, with a valid integer part.
		point := rng.IntN(nd + 1)
		intPart, frac := string(digits[:point]), string(digits[point:])
		intPart = strings.TrimLeft(intPart, "0")
		if intPart == "" {
			intPart = "0"
		}
		sb.WriteString(intPart)
		if frac != "" {
			sb.WriteString("." + frac)
		}
		if rng.IntN(2) == 0 {
			e := rng.IntN(600) - 300
			fmt.Fprintf(&sb, "%c%+d", "eE"[rng.IntN(2)], e)
		}
		text := sb.String()
		f, err := strconv.ParseFloat(text, 64)
		if err != nil || math.IsInf(f, 0) || f != 0 && math.Abs(f) < 0x1p-1022 {
			continue // outside a double's normal range
		}
		got, ok := appendNumber(nil, []byte(text))
		if want := esFormat(f); !ok || string(got) != want {
			t.Fatalf("%s: key %s, RFC 8785 %s", text, got, want)
		}
	}
}

// TestStringsDecodeAsEncodingJSON checks that a string key means the same string
// as encoding/json reads from the original.
func TestStringsDecodeAsEncodingJSON(t *testing.T) {
	for _, s := range []string{`"plain"`, `"a\u00e9\ud83d\ude00\n\u0001\"\\\/"`, `"\ud800x"`, "\"\xff\xfe\"", `"\u2028"`} {
		got, ok := appendString(nil, []byte(s[1:len(s)-1]))
		if !ok {
			t.Fatalf("%s refused", s)
		}
		var a, b string
		if err := json.Unmarshal([]byte(s), &a); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(got, &b); err != nil {
			t.Fatalf("%s gives %s, not JSON: %v", s, got, err)
		}
		if a != b {
			t.Errorf("%s gives %s: %q, want %q", s, got, b, a)
		}
	}
}

func batch(payloads ...string) *record.Batch {
	var b record.Batch
	b.Reset()
	for i, p := range payloads {
		v := record.View{Flags: record.FlagPayload | record.FlagTimestamp, Payload: []byte(p), Timestamp: int64(i)}
		if i%2 == 1 {
			v.Flags |= record.FlagKey | record.FlagHeaders
			v.Key = []byte("old")
			v.Headers = record.AppendHeader(nil, "h", "v")
			v.HeaderCount = 1
		}
		b.Append(&v)
	}
	return &b
}

func TestOperator(t *testing.T) {
	op := New("user")
	in := []string{`{"user":"a"}`, `{"user":1.0}`, `{}`, `[1]`, `{"user":[1]}`, `{"user":"\x"}`, `{"user":null}`}
	want := []string{`"a"`, `1`, `null`, `null`, `null`, `null`, `null`}
	for round := range 2 {
		out, err := op.Process(context.Background(), batch(in...))
		if err != nil {
			t.Fatal(err)
		}
		if out.Len() != len(in) {
			t.Fatalf("%d records out of %d", out.Len(), len(in))
		}
		r := out.Reader()
		var v record.View
		for i := 0; r.Next(&v); i++ {
			if !v.HasKey() || string(v.Key) != want[i] {
				t.Errorf("record %d: key %q, want %s", i, v.Key, want[i])
			}
			if string(v.Payload) != in[i] || v.Timestamp != int64(i) || v.HasHeaders() != (i%2 == 1) {
				t.Errorf("record %d changed: %+v", i, v)
			}
		}
		if err := r.Err(); err != nil {
			t.Fatal(err)
		}
		if m, inv := op.Stats().Missing.Load(), op.Stats().Invalid.Load(); m != uint64(3*(round+1)) || inv != uint64(round+1) {
			t.Errorf("round %d: missing %d, invalid %d", round, m, inv)
		}
	}
	// A malformed batch is an error, not a panic.
	var bad record.Batch
	if err := bad.SetFrame([]byte{1, 0, 0, 0, 0xff}); err != nil {
		t.Fatal(err)
	}
	if _, err := op.Process(context.Background(), &bad); err == nil {
		t.Fatal("a malformed batch passed")
	}
	if err := op.Close(context.Background(), true); err != nil {
		t.Fatal(err)
	}
}

func orders(n int) *record.Batch {
	p := make([]string, n)
	for i := range p {
		p[i] = fmt.Sprintf(`{"id":%d,"customer":"c-%d","amount":%d.50,"currency":"EUR"}`, 10000+i, i%97, i)
	}
	return batch(p...)
}

func TestOperatorAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race (sync.Pool drops items); `go test` without -race checks them")
	}
	for _, field := range []string{"customer", "amount", "id", "nope"} {
		op := New(field)
		b := orders(1024)
		op.Process(context.Background(), b) // grow the buffers
		if n := testing.AllocsPerRun(20, func() { op.Process(context.Background(), b) }); n != 0 {
			t.Errorf("field %s: %v allocations per batch", field, n)
		}
	}
}

func BenchmarkOperator(b *testing.B) {
	for _, field := range []string{"customer", "amount"} {
		b.Run(field, func(b *testing.B) {
			op := New(field)
			in := orders(1024)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := op.Process(context.Background(), in); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*in.Len()), "ns/record")
		})
	}
}

// BenchmarkEncodingJSON is the baseline: the same key through encoding/json.
func BenchmarkEncodingJSON(b *testing.B) {
	in := orders(1024)
	b.ReportAllocs()
	for b.Loop() {
		r := in.Reader()
		var v record.View
		for r.Next(&v) {
			var m map[string]json.RawMessage
			if err := json.Unmarshal(v.Payload, &m); err != nil {
				b.Fatal(err)
			}
			_ = m["customer"]
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*in.Len()), "ns/record")
}

// oracleKey finds the key with encoding/json alone, as a reference for the
// jsonparser-based appendKey: the first top-level member named field.
func oracleKey(payload []byte, field string) (string, result) {
	if !json.Valid(payload) {
		return "null", missing
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	if tok, _ := dec.Token(); tok != json.Delim('{') {
		return "null", missing
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return "null", missing
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return "null", missing
		}
		if tok.(string) != field {
			continue
		}
		var k []byte
		ok := true
		switch raw[0] {
		case '"':
			k, ok = appendString(nil, raw[1:len(raw)-1])
		case '{', '[':
			ok = false
		case 't', 'f', 'n':
			k = raw
		default:
			k, ok = appendNumber(nil, raw)
		}
		if !ok {
			return "null", invalid
		}
		return string(k), keyed
	}
	return "null", missing
}

// FuzzKey: any payload gives a key that is valid JSON and canonical (keying the
// key again gives it back), the key encoding/json finds, and never a panic.
func FuzzKey(f *testing.F) {
	for _, s := range []string{`"x\ud83d\ude00\n"`, `-0.000e+12`, `123456789012345678901234567890`, `1E-7`, `true`, `{"k":"a\u00e9\ud800"}`, `{"a":{"k":1},"k":2,"k":3}`, `{"\u006b":"esc"}`, ` [ {"k":1} ] `, `{"k\"":1,"k":[]}`, `{"k":-1.50e-3}`, `{"k":true}`, `{"k":[1]}`, `{}`, "{\"k\":\"\xff\"}", `{"k":1e999999999}`, `{"k":123456789012345678901234}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// The input as a payload, and as the value of a member, which is far
		// more often valid JSON.
		checkKey(t, data, "k")
		checkKey(t, []byte(`{"a":[1],"k":`+string(data)+`,"z":0}`), "k")
	})
}

// FuzzKeyField is FuzzKey with any field name as well.
func FuzzKeyField(f *testing.F) {
	f.Add([]byte(`{"[0]":1}`), "[0]")
	f.Add([]byte(`[1]`), "[0]")
	f.Add([]byte(`{"a.b":1,"a":{"b":2}}`), "a.b")
	f.Add([]byte(`{"\u00e9\"":1}`), "é\"")
	f.Fuzz(func(t *testing.T, payload []byte, field string) {
		if !utf8.ValidString(field) {
			return // the job spec refuses such a field
		}
		checkKey(t, payload, field)
	})
}

// checkKey checks the key of one payload against the oracle and itself.
func checkKey(t *testing.T, payload []byte, field string) {
	t.Helper()
	k, res := appendKey(nil, payload, []string{field})
	if want, wantRes := oracleKey(payload, field); string(k) != want || res != wantRes {
		t.Fatalf("%q: key %s (%d), encoding/json finds %s (%d)", payload, k, res, want, wantRes)
	}
	if res != keyed {
		if string(k) != "null" {
			t.Fatalf("result %d with key %s", res, k)
		}
		return
	}
	if !json.Valid(k) || !utf8.Valid(k) {
		t.Fatalf("%q: key %q is not valid JSON", payload, k)
	}
	again, res := appendKey(nil, []byte(`{"k":`+string(k)+`}`), []string{"k"})
	if res != keyed || string(again) != string(k) {
		t.Fatalf("%q: key %s keys again as %s", payload, k, again)
	}
}
