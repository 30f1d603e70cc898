//go:build !wasip1

package weir

import (
	"strconv"
	"testing"
)

// referenceJSONSpan is JSONSpan as first written: a plain scanner with no fast
// path, byte by byte, kept with its helpers as the specification the optimised
// one is checked against.
func referenceJSONSpan(data []byte, field string) (start, end int, kind JSONKind, ok bool) {
	i := refSkipWS(data, 0)
	if i >= len(data) || data[i] != '{' {
		return 0, 0, KindInvalid, false
	}
	i = refSkipWS(data, i+1)
	if i < len(data) && data[i] == '}' {
		return 0, 0, KindInvalid, false
	}
	for {
		if i >= len(data) || data[i] != '"' {
			return 0, 0, KindInvalid, false
		}
		keyEnd := refSkipString(data, i)
		if keyEnd < 0 {
			return 0, 0, KindInvalid, false
		}
		match := keyEquals(data[i+1:keyEnd-1], field)
		i = refSkipWS(data, keyEnd)
		if i >= len(data) || data[i] != ':' {
			return 0, 0, KindInvalid, false
		}
		i = refSkipWS(data, i+1)
		start = i
		i = refSkipValue(data, i, 2)
		if i < 0 {
			return 0, 0, KindInvalid, false
		}
		end = i
		i = refSkipWS(data, i)
		if i >= len(data) || (data[i] != ',' && data[i] != '}') {
			return 0, 0, KindInvalid, false
		}
		if match {
			return start, end, kindOf(data[start]), true
		}
		if data[i] == '}' {
			return 0, 0, KindInvalid, false
		}
		i = refSkipWS(data, i+1)
	}
}

func refSkipWS(d []byte, i int) int {
	for i < len(d) && (d[i] == ' ' || d[i] == '\t' || d[i] == '\n' || d[i] == '\r') {
		i++
	}
	return i
}

func refSkipValue(d []byte, i, depth int) int {
	if i >= len(d) {
		return -1
	}
	switch c := d[i]; c {
	case '"':
		return refSkipString(d, i)
	case 't', 'f', 'n':
		lit := map[byte]string{'t': "true", 'f': "false", 'n': "null"}[c]
		if len(d)-i < len(lit) || string(d[i:i+len(lit)]) != lit {
			return -1
		}
		return i + len(lit)
	case '{', '[':
		if depth > MaxJSONDepth {
			return -1
		}
		closing := byte('}')
		if c == '[' {
			closing = ']'
		}
		i = refSkipWS(d, i+1)
		if i < len(d) && d[i] == closing {
			return i + 1
		}
		for {
			if c == '{' {
				if i >= len(d) || d[i] != '"' {
					return -1
				}
				if i = refSkipString(d, i); i < 0 {
					return -1
				}
				i = refSkipWS(d, i)
				if i >= len(d) || d[i] != ':' {
					return -1
				}
				i = refSkipWS(d, i+1)
			}
			if i = refSkipValue(d, i, depth+1); i < 0 {
				return -1
			}
			i = refSkipWS(d, i)
			if i >= len(d) {
				return -1
			}
			if d[i] == closing {
				return i + 1
			}
			if d[i] != ',' {
				return -1
			}
			i = refSkipWS(d, i+1)
		}
	default:
		// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
		digits := func(i int) int {
			for i < len(d) && '0' <= d[i] && d[i] <= '9' {
				i++
			}
			return i
		}
		if c == '-' {
			i++
		}
		switch {
		case i >= len(d):
			return -1
		case d[i] == '0':
			i++
		case '1' <= d[i] && d[i] <= '9':
			i = digits(i + 1)
		default:
			return -1
		}
		if i < len(d) && d[i] == '.' {
			j := digits(i + 1)
			if j == i+1 {
				return -1
			}
			i = j
		}
		if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
			i++
			if i < len(d) && (d[i] == '+' || d[i] == '-') {
				i++
			}
			j := digits(i)
			if j == i {
				return -1
			}
			i = j
		}
		return i
	}
}

func refSkipString(d []byte, i int) int {
	for i++; i < len(d); {
		switch c := d[i]; {
		case c == '"':
			return i + 1
		case c < 0x20:
			return -1
		case c == '\\':
			if i+1 >= len(d) {
				return -1
			}
			switch d[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if len(d)-i < 6 || hex4(d[i+2:i+6]) < 0 {
					return -1
				}
				i += 6
			default:
				return -1
			}
		default:
			i++
		}
	}
	return -1
}

// spanCases are documents that take every branch of JSONSpan's fast path and
// of its way out to the general scanner.
var spanCases = []string{
	`{"id":1,"amount":1999,"currency":"EUR"}`,
	`{"id":0,"amount":0,"user":"user-0000","ok":true}`,
	`{"id":12345678,"amount":12345678901,"x":1}`,
	`{"id":01,"amount":1}`, `{"amount":01}`, `{"amount":0}`, `{"amount":0,"b":1}`, `{"amount":-0}`,
	`{"amount":1.5,"b":2}`, `{"amount":1e5}`, `{"amount":1E+5 }`, `{"amount":12 , "b":1}`,
	`{"a":"xxxxxxxxxxxxxxxxxxxxxx","amount":3}`, `{"a":"x\"y","amount":3}`, `{"a":"x` + "\x01" + `","amount":3}`,
	`{"amount_long_name_here":1,"amount":2}`, `{"am\u006funt":5,"amount":6}`, `{"amou` + "\n" + `nt":5}`,
	`  {"amount":1}`, `{ "amount" : 1 }`, "{\t\"amount\":\r\n1}", `{}`, ` {} `, `{"amount"}`, `{"amount":}`,
	`{"amount":1`, `{"amount":12345`, `{"amount":"abc"`, `{"amount":"abcdefgh"}`, `{"amount":"abcdefghijklmnop"}`,
	`{"x":[1,2,{"amount":3}],"amount":4}`, `{"x":{"amount":3},"amount":true}`, `{"amount":null,"y":1}`,
	`{"a":1,"a":2,"amount":3,"amount":4}`, `{"a":1,}`, `{"a":1,,"amount":2}`, `{"a":1 "amount":2}`,
	`{"a":1}x`, `{"a":1,"amount":2}garbage`, `["amount",1]`, `"amount"`, ``, `{`, `{"`, `{"a`, `{"a"`, `{"a":`,
	`{"a":1,"amount":99999999}`, `{"a":"12345678","amount":1234567}`, `{"amount":7,`, `{"amount":7}`,
	"{\"amount\":7\x00}", `{"a":"\u00e9\ud83d\ude00","amount":8}`, `{"a":"\x","amount":8}`,
	`{"order_id":1,"customer":"customer-0001","currency":"EUR","amount":5,"ok":true}`,
	`{"id": 1, "user": "user-0001", "amount": 7, "ok": true}`, `{"a":  1,"amount":2}`, `{"a": "x", "amount": 2}`,
	`{"a":"0123456789abcdef\"x","amount":1}`, `{"abcdefghijklmnop":1,"amount":2}`, `{"a" :1,"amount":2}`,
	`{"a":1 ,"amount":2}`, `{"amount": 12345678}`, `{"amount": 1234567, "b": 1}`, `{"amount":1234567 }`,
	`{"abcdefgh\u0041":1,"amount":2}`, `{"abcdefghij` + "\x1f" + `":1,"amount":2}`, `{"amountamount":1,"amount":2}`,
	`{"a":"abcdefghijklmnopqrstuvwxyz",  "amount":3}`, `{"a":"abcdefghijklmnop`, `{"abcdefghijklmnop`,
	`{"a":1,  "amount":2}`, `{"a":1,` + "\n" + `"amount":2}`, `{"a": -1, "amount": 2}`, `{"a": 0, "amount": 0}`,
}

func TestJSONSpanMatchesReference(t *testing.T) {
	for _, doc := range spanCases {
		for _, field := range []string{"amount", "a", "id", "", "amount_long_name_here", "x", "customer", "abcdefghijklmnop"} {
			checkSpan(t, []byte(doc), field)
		}
	}
}

func checkSpan(t *testing.T, data []byte, field string) {
	t.Helper()
	s, e, k, ok := JSONSpan(data, field)
	rs, re, rk, rok := referenceJSONSpan(data, field)
	if s != rs || e != re || k != rk || ok != rok {
		t.Fatalf("JSONSpan(%q, %q) = %d, %d, %v, %v; reference: %d, %d, %v, %v", data, field, s, e, k, ok, rs, re, rk, rok)
	}
}

// FuzzJSONSpanMatchesReference checks that the fast paths of JSONSpan change
// nothing: on any input, it answers as the plain scanner does.
func FuzzJSONSpanMatchesReference(f *testing.F) {
	for _, s := range spanCases {
		f.Add([]byte(s), "amount")
	}
	f.Fuzz(func(t *testing.T, data []byte, field string) {
		checkSpan(t, data, field)
		i := refSkipValue(data, refSkipWS(data, 0), 1)
		if valid := i >= 0 && refSkipWS(data, i) == len(data); JSONValid(data) != valid {
			t.Fatalf("JSONValid(%q) = %v, reference %v", data, !valid, valid)
		}
		// The same document cut short at every length.
		for n := range data {
			checkSpan(t, data[:n], field)
		}
	})
}

func TestMaskHelpers(t *testing.T) {
	for c := 0; c < 256; c++ {
		for pos := 0; pos < 8; pos++ {
			// c at pos, after bytes that are neither special nor digits.
			b := []byte("aaaaaaaa")
			b[pos] = byte(c)
			x := uint64(0)
			for i := 7; i >= 0; i-- {
				x = x<<8 | uint64(b[i])
			}
			wantSpecial := c < 0x20 || c == '"' || c == '\\'
			if got := specialBytes(x)&(0x80<<(8*pos)) != 0; got != wantSpecial {
				t.Errorf("specialBytes: byte %#x at %d: %v", c, pos, got)
			}
			if m := specialBytes(x); m != 0 && wantSpecial && m&(1<<(8*pos)-1) != 0 {
				t.Errorf("specialBytes: byte %#x at %d: marks below it", c, pos)
			}
			// c at pos, after digits.
			b = []byte("01234567")
			b[pos] = byte(c)
			x = 0
			for i := 7; i >= 0; i-- {
				x = x<<8 | uint64(b[i])
			}
			m := nonDigitBytes(x)
			isDigit := '0' <= c && c <= '9'
			if got := m&(0x80<<(8*pos)) != 0; got == isDigit {
				t.Errorf("nonDigitBytes: byte %#x at %d: %v", c, pos, got)
			}
			if m&(1<<(8*pos)-1) != 0 {
				t.Errorf("nonDigitBytes: byte %#x at %d: marks below it", c, pos)
			}
		}
	}
}

// referenceParseInt is JSONParseInt as first written, digit by digit.
func referenceParseInt(raw []byte) (int64, bool) {
	neg := len(raw) > 0 && raw[0] == '-'
	digits := raw
	if neg {
		digits = raw[1:]
	}
	if len(digits) == 0 || len(digits) > 19 || (digits[0] == '0' && len(digits) > 1) {
		return 0, false
	}
	var u uint64
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
		u = u*10 + uint64(c-'0')
	}
	if neg {
		if u > 1<<63 {
			return 0, false
		}
		return -int64(u), true
	}
	if u > 1<<63-1 {
		return 0, false
	}
	return int64(u), true
}

func checkParseInt(t *testing.T, raw []byte) {
	t.Helper()
	// With and without room after the text.
	for _, b := range [][]byte{raw, append(append([]byte(nil), raw...), "xxxxxxxx"...)[:len(raw)]} {
		v, ok := JSONParseInt(b)
		rv, rok := referenceParseInt(b)
		if v != rv || ok != rok {
			t.Fatalf("JSONParseInt(%q) (cap %d) = %d, %v; reference %d, %v", b, cap(b), v, ok, rv, rok)
		}
	}
}

func TestJSONParseIntMatchesReference(t *testing.T) {
	for _, s := range []string{"", "0", "-0", "00", "01", "1", "9", "10", "12345678", "99999999", "123456789",
		"-1", "-12345678", "1a", "a1", "1 ", " 1", "1.5", "1e3", "-", "--1", "0x1", "9223372036854775807",
		"9223372036854775808", "-9223372036854775808", "-9223372036854775809", "1234567\x00", "/", ":", "12/4", "12:4"} {
		checkParseInt(t, []byte(s))
	}
	for n := int64(0); n < 100000; n += 7 {
		checkParseInt(t, []byte(strconv.FormatInt(n, 10)))
	}
	for n := int64(1); n > 0 && n < 1<<62; n = n*3 + 1 {
		checkParseInt(t, []byte(strconv.FormatInt(n, 10)))
		checkParseInt(t, []byte(strconv.FormatInt(-n, 10)))
	}
}

func FuzzJSONParseIntMatchesReference(f *testing.F) {
	f.Add([]byte("12345678"))
	f.Add([]byte("-0"))
	f.Fuzz(func(t *testing.T, raw []byte) { checkParseInt(t, raw) })
}
