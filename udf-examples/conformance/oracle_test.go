package conformance_test

import (
	"bytes"
	"encoding/json"
	"math/big"
	"regexp"
	"strconv"
	"strings"
)

// The oracle: udf-examples/README.md's definitions of enrich, positive, fail and customer,
// written with encoding/json's tokenizer and math/big, sharing no code with any
// SDK. TestOracleMatchesGolden checks it against the hand-written golden files
// before the suite trusts it with generated inputs.

// maxDepth is the README's nesting limit, the top-level object included.
const maxDepth = 1000

// member returns where the value of the first top-level member called field of
// the object in p is (p[start:end]): the README's "the member". encoding/json
// checks the syntax of everything it tokenizes; the oracle adds what the README
// adds: the "," or "}" after the member must be there, the rest is not read, and
// nesting past maxDepth is malformed.
func member(p []byte, field string) (start, end int, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(p))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return 0, 0, false
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return 0, 0, false
		}
		name, isString := tok.(string)
		if !isString {
			return 0, 0, false
		}
		// The value starts after whitespace, the colon and whitespace.
		i := skipSpace(p, int(dec.InputOffset()))
		if i >= len(p) || p[i] != ':' {
			return 0, 0, false
		}
		start = skipSpace(p, i+1)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return 0, 0, false
		}
		end = int(dec.InputOffset())
		if 1+depth(raw) > maxDepth {
			return 0, 0, false
		}
		if j := skipSpace(p, end); j >= len(p) || (p[j] != ',' && p[j] != '}') {
			return 0, 0, false
		}
		if name == field {
			return start, end, true
		}
	}
	return 0, 0, false
}

func skipSpace(p []byte, i int) int {
	for i < len(p) && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r') {
		i++
	}
	return i
}

// depth is the nesting of objects and arrays in the valid JSON value raw.
func depth(raw []byte) int {
	d, maxD, inString := 0, 0, false
	for i := 0; i < len(raw); i++ {
		switch c := raw[i]; {
		case inString && c == '\\':
			i++
		case c == '"':
			inString = !inString
		case inString:
		case c == '{' || c == '[':
			d++
			maxD = max(maxD, d)
		case c == '}' || c == ']':
			d--
		}
	}
	return maxD
}

var integer = regexp.MustCompile(`^-?(0|[1-9][0-9]*)$`)

// oracleEnrich is enrich with config (field, factor): the new payload, or
// changed=false when the record passes unchanged.
func oracleEnrich(p []byte, field string, factor int64) (out []byte, changed bool) {
	start, end, ok := member(p, field)
	if !ok || !integer.Match(p[start:end]) {
		return nil, false
	}
	n, ok := new(big.Int).SetString(string(p[start:end]), 10)
	if !ok || !n.IsInt64() {
		return nil, false
	}
	m := new(big.Int).Mul(n, big.NewInt(factor))
	if !m.IsInt64() {
		return nil, false
	}
	out = append(out, p[:start]...)
	out = strconv.AppendInt(out, m.Int64(), 10)
	return append(out, p[end:]...), true
}

// amountSign is the sign of the member "amount" if it is a number, exactly.
func amountSign(p []byte) (sign int, isNumber bool) {
	start, end, ok := member(p, "amount")
	if !ok || (p[start] != '-' && (p[start] < '0' || p[start] > '9')) {
		return 0, false
	}
	// The sign of m×10^e is the sign of m: the exponent, which may be beyond
	// any integer type ("1e99999999999999999999"), is left out.
	mantissa, _, _ := strings.Cut(strings.ToLower(string(p[start:end])), "e")
	f, _, err := big.ParseFloat(mantissa, 10, 64, big.ToNearestEven)
	if err != nil {
		panic("oracle: " + err.Error()) // Decode accepted the number
	}
	return f.Sign(), true
}

// oraclePositive is positive: keep when amount is a number > 0.
func oraclePositive(p []byte) bool {
	s, ok := amountSign(p)
	return ok && s > 0
}

// oracleFails is fail: the call fails when amount is a number < 0.
func oracleFails(p []byte) bool {
	s, ok := amountSign(p)
	return ok && s < 0
}

// oracleCustomer is customer's key for payload p: the text of the member
// "customer" as written when it is a string or a number, else null.
func oracleCustomer(p []byte) string {
	start, end, ok := member(p, "customer")
	if !ok || p[start] != '"' && p[start] != '-' && (p[start] < '0' || p[start] > '9') {
		return "null"
	}
	return string(p[start:end])
}
