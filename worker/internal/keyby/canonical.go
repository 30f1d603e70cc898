package keyby

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"

	"github.com/buger/jsonparser"
)

// result says how a record's key came about.
type result uint8

const (
	keyed   result = iota // the member's value, canonical
	missing               // the payload is not valid JSON, not an object, or lacks the member
	invalid               // the value is an object, an array, or a number out of range
)

// nullKey is the key of a record without a usable member.
var nullKey = []byte("null")

// appendKey appends the key bytes of the member path (one name) of payload to dst.
// On a result other than keyed it appends "null".
func appendKey(dst, payload []byte, path []string) ([]byte, result) {
	// The whole payload is checked first, so that what jsonparser, which is
	// lenient, makes of malformed JSON never decides a key. json.Valid neither
	// allocates nor recurses.
	if !json.Valid(payload) || !isObject(payload) {
		return append(dst, nullKey...), missing
	}
	v, typ, _, err := jsonparser.Get(payload, path...)
	if err != nil {
		if typ == jsonparser.NotExist {
			return append(dst, nullKey...), missing
		}
		return append(dst, nullKey...), invalid
	}
	n := len(dst)
	ok := false
	switch typ {
	case jsonparser.String:
		dst, ok = appendString(dst, v)
	case jsonparser.Number:
		dst, ok = appendNumber(dst, v)
	case jsonparser.Boolean, jsonparser.Null:
		if s := string(v); s == "true" || s == "false" || s == "null" {
			dst, ok = append(dst, v...), true
		}
	}
	if !ok {
		return append(dst[:n], nullKey...), invalid
	}
	return dst, keyed
}

// isObject reports whether the valid JSON document doc is an object. jsonparser
// must only see objects: it reads a name like "[0]" as an index into an array.
func isObject(doc []byte) bool {
	for _, c := range doc {
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		}
		return c == '{'
	}
	return false
}

// appendString appends the JSON string whose text between the quotes is raw,
// canonical (see the package documentation), quotes included. It reports false
// for a malformed string: a bad escape or a raw control character.
func appendString(dst, raw []byte) ([]byte, bool) {
	dst = append(dst, '"')
	for i := 0; i < len(raw); {
		// The common case: a run of printable ASCII that needs no escape.
		j := i
		for j < len(raw) && raw[j] >= 0x20 && raw[j] < utf8.RuneSelf && raw[j] != '"' && raw[j] != '\\' {
			j++
		}
		dst = append(dst, raw[i:j]...)
		if i = j; i == len(raw) {
			break
		}
		switch c := raw[i]; {
		case c == '\\':
			r, n, ok := unescape(raw[i:])
			if !ok {
				return dst, false
			}
			dst = appendRune(dst, r)
			i += n
		case c < 0x20 || c == '"':
			return dst, false
		default:
			r, n := utf8.DecodeRune(raw[i:]) // utf8.RuneError for a bad byte
			dst = appendRune(dst, r)
			i += n
		}
	}
	return append(dst, '"'), true
}

// unescape decodes the escape at the start of b (b[0] is the backslash) and
// returns its rune and length. A surrogate pair is one rune; an unpaired
// surrogate is utf8.RuneError.
func unescape(b []byte) (rune, int, bool) {
	if len(b) < 2 {
		return 0, 0, false
	}
	switch b[1] {
	case '"', '\\', '/':
		return rune(b[1]), 2, true
	case 'b':
		return '\b', 2, true
	case 'f':
		return '\f', 2, true
	case 'n':
		return '\n', 2, true
	case 'r':
		return '\r', 2, true
	case 't':
		return '\t', 2, true
	case 'u':
		r, ok := hex4(b[2:])
		if !ok {
			return 0, 0, false
		}
		if r < 0xd800 || r > 0xdfff {
			return r, 6, true
		}
		if r <= 0xdbff && len(b) >= 12 && b[6] == '\\' && b[7] == 'u' {
			if lo, ok := hex4(b[8:]); ok && lo >= 0xdc00 && lo <= 0xdfff {
				return 0x10000 + (r-0xd800)<<10 + (lo - 0xdc00), 12, true
			}
		}
		return utf8.RuneError, 6, true
	}
	return 0, 0, false
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// appendRune appends r as RFC 8785 writes it inside a string.
func appendRune(dst []byte, r rune) []byte {
	const hex = "0123456789abcdef"
	switch r {
	case '"', '\\':
		return append(dst, '\\', byte(r))
	case '\b':
		return append(dst, '\\', 'b')
	case '\f':
		return append(dst, '\\', 'f')
	case '\n':
		return append(dst, '\\', 'n')
	case '\r':
		return append(dst, '\\', 'r')
	case '\t':
		return append(dst, '\\', 't')
	}
	if r < 0x20 {
		return append(dst, '\\', 'u', '0', '0', hex[r>>4], hex[r&0xf])
	}
	return utf8.AppendRune(dst, r)
}

// maxExponent bounds the exponent a number may be written with.
const maxExponent = 999_999_999

// appendNumber appends the JSON number s in its canonical form (see the package
// documentation). It reports false when s is not a JSON number (RFC 8259) or its
// exponent is beyond ±maxExponent.
func appendNumber(dst, s []byte) ([]byte, bool) {
	i := 0
	neg := i < len(s) && s[i] == '-'
	if neg {
		i++
	}
	// The digits D are the integer part's then the fraction's: the value is
	// 0.D × 10^(len(int part) + exp).
	intStart := i
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && '1' <= s[i] && s[i] <= '9':
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	default:
		return dst, false
	}
	intLen := i - intStart
	fracStart, fracLen := i, 0
	if i < len(s) && s[i] == '.' {
		i++
		fracStart = i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		if fracLen = i - fracStart; fracLen == 0 {
			return dst, false
		}
	}
	exp := 0
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		expNeg := false
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			expNeg = s[i] == '-'
			i++
		}
		if i == len(s) {
			return dst, false
		}
		for ; i < len(s) && isDigit(s[i]); i++ {
			if exp = exp*10 + int(s[i]-'0'); exp > maxExponent {
				return dst, false
			}
		}
		if expNeg {
			exp = -exp
		}
	}
	if i != len(s) {
		return dst, false
	}

	d := digits{s: s, intStart: intStart, intLen: intLen, fracStart: fracStart}
	total := intLen + fracLen
	first, last := 0, total-1
	for first < total && d.at(first) == '0' {
		first++
	}
	if first == total {
		return append(dst, '0'), true // zero, -0 included
	}
	for d.at(last) == '0' {
		last--
	}
	k := last - first + 1     // significant digits
	n := intLen - first + exp // the value is 0.D[first..last] × 10^n
	if neg {
		dst = append(dst, '-')
	}
	// ECMAScript's Number::toString layout (ECMA-262, Number::toString, steps 6-10).
	switch {
	case k <= n && n <= 21:
		dst = d.append(dst, first, last+1)
		for range n - k {
			dst = append(dst, '0')
		}
	case 0 < n && n <= 21:
		dst = d.append(dst, first, first+n)
		dst = append(dst, '.')
		dst = d.append(dst, first+n, last+1)
	case -6 < n && n <= 0:
		dst = append(dst, '0', '.')
		for range -n {
			dst = append(dst, '0')
		}
		dst = d.append(dst, first, last+1)
	default:
		dst = append(dst, d.at(first))
		if k > 1 {
			dst = append(dst, '.')
			dst = d.append(dst, first+1, last+1)
		}
		dst = append(dst, 'e')
		if n-1 >= 0 {
			dst = append(dst, '+')
		}
		dst = strconv.AppendInt(dst, int64(n-1), 10)
	}
	return dst, true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// digits reads the digits of a number's integer part and fraction as one
// sequence, skipping the decimal point.
type digits struct {
	s                           []byte
	intStart, intLen, fracStart int
}

func (d *digits) at(j int) byte {
	if j < d.intLen {
		return d.s[d.intStart+j]
	}
	return d.s[d.fracStart+j-d.intLen]
}

// append appends the digits [from, to) to dst.
func (d *digits) append(dst []byte, from, to int) []byte {
	if from < d.intLen {
		dst = append(dst, d.s[d.intStart+from:d.intStart+min(to, d.intLen)]...)
		from = d.intLen
	}
	if from < to {
		dst = append(dst, d.s[d.fracStart+from-d.intLen:d.fracStart+to-d.intLen]...)
	}
	return dst
}
