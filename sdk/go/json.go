package weir

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"math/bits"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// JSONKind is the kind of a JSON value.
type JSONKind uint8

// The kinds of JSON values. KindInvalid is the zero value, returned with ok=false.
const (
	KindInvalid JSONKind = iota
	KindString
	KindNumber
	KindObject
	KindArray
	KindTrue
	KindFalse
	KindNull
)

var kindNames = [...]string{"invalid", "string", "number", "object", "array", "true", "false", "null"}

func (k JSONKind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "JSONKind(" + strconv.Itoa(int(k)) + ")"
}

// MaxJSONDepth is the deepest nesting of objects and arrays the scanner accepts,
// the top-level object included. A deeper document is treated as malformed.
const MaxJSONDepth = 1000

// JSONSpan finds the first member called field of the JSON object in data and
// returns where its value's text starts and ends (data[start:end]) and its kind.
//
// The scanner follows RFC 8259 strictly up to and including that member: leading
// whitespace, the object's opening brace, every member before it (nested
// objects, arrays, strings with escapes, numbers and literals are checked and
// skipped), the value itself, and the comma or closing brace after it. It does
// not look at the rest of the document. Member names are compared after
// unescaping, so "am\u006funt" is found as amount; bytes outside escapes are
// compared as they are (UTF-8 is not validated). If a name repeats, the first
// member wins (encoding/json keeps the last). ok is false when data is not an
// object, the member is absent, or anything scanned is malformed. It never
// allocates.
func JSONSpan(data []byte, field string) (start, end int, kind JSONKind, ok bool) {
	// This is the hot path of most UDFs, so it is written for WebAssembly as Go
	// compiles it, where every call, and every jump to anything but the next
	// block, costs as much as a dozen plain instructions. A member in the usual
	// compact form (a name of at most 15 bytes without escapes, a colon, an
	// integer of at most 7 digits or a string of at most 15 bytes without
	// escapes, a comma; a space after the colon or the comma) goes straight
	// through, eight bytes at a time. Any other member, and one too close to
	// the end of data to read sixteen bytes at once, goes out of line to
	// member, which checks everything.
	d := data
	// Names of up to 15 bytes are compared as two words.
	var fb [16]byte
	copy(fb[:], field)
	fw1, fw2 := binary.LittleEndian.Uint64(fb[:8]), binary.LittleEndian.Uint64(fb[8:])
	i := 1
	if len(d) < 2 || d[0] != '{' || d[1] != '"' {
		if i = objectStart(d); i < 0 {
			return 0, 0, KindInvalid, false
		}
	}
	for {
		// d[i] is the opening quote of a member's name. What is rare is left to
		// member, at general: the fast path never rejoins itself, because Go lays
		// out the code of a rare case that rejoins before the point it rejoins,
		// so that the common case jumps over it.
		var w []byte
		var x1, x2 uint64
		var n, n1, n2, k int
		var c byte
		var match bool
		if k = i + 1; len(d)-k < 16 {
			goto general // too close to the end to read sixteen bytes at once
		}
		// The name's length: the offset of its first byte that needs a look (the
		// quote, if the name is plain) in the first eight bytes, or else in the
		// next eight.
		w = d[k : k+16 : k+16]
		x1, x2 = binary.LittleEndian.Uint64(w[:8]), binary.LittleEndian.Uint64(w[8:])
		n1 = bits.TrailingZeros64(specialBytes(x1)) >> 3 // 8 if there is none
		n2 = bits.TrailingZeros64(specialBytes(x2)) >> 3 & (0 - n1>>3)
		if n = n1 + n2; n == 16 || len(d)-k-n < 10 || d[k+n] != '"' || d[k+n+1] != ':' {
			goto general // a long name, an escape, a control character, whitespace or the end
		}
		// Both words, masked to the name's bytes, and the length are the field's.
		match = (x1&byteMasks[n1&15])^fw1|(x2&byteMasks[n2&15])^fw2|uint64(n^len(field)) == 0
		k += n
		// After the colon, a space maybe (skipped without a jump: 1 if d[k] is
		// a space, else 0).
		k += 2
		k += int((uint(d[k]^' ') - 1) >> 63)
		start = k
		if c = d[k]; c-'0' < 10 && len(d)-k >= 8 {
			n = bits.TrailingZeros64(nonDigitBytes(binary.LittleEndian.Uint64(d[k:]))) >> 3
			lim := 8
			if c == '0' {
				lim = 2
			}
			if n >= lim {
				goto general // eight digits or more, or a leading zero
			}
			k += n
			kind = KindNumber
		} else if c == '"' && len(d)-k >= 17 {
			// Up to 15 bytes, as for names.
			w = d[k+1 : k+17 : k+17]
			n1 = bits.TrailingZeros64(specialBytes(binary.LittleEndian.Uint64(w[:8]))) >> 3
			n2 = bits.TrailingZeros64(specialBytes(binary.LittleEndian.Uint64(w[8:]))) >> 3 & (0 - n1>>3)
			if k += n1 + n2 + 1; n1+n2 == 16 || d[k] != '"' {
				goto general // a long string, an escape or a control character
			}
			k++
			kind = KindString
		} else {
			goto general
		}
		// A comma and the next name's quote, after a space maybe, or the closing
		// brace.
		if len(d)-k >= 3 && d[k] == ',' {
			if match {
				return start, k, kind, true
			}
			i = k + 1
			if i += int((uint(d[i]^' ') - 1) >> 63); d[i] != '"' {
				if i = nextName(d, i); i < 0 {
					return 0, 0, KindInvalid, false
				}
			}
			continue
		}
		if k < len(d) && d[k] == '}' {
			if match {
				return start, k, kind, true
			}
			return 0, 0, KindInvalid, false
		}
		// Whitespace, a fraction, an exponent, the end or an error.

	general:
		after, s, e, kd, mt := member(d, i, field)
		if after < 0 {
			return 0, 0, KindInvalid, false
		}
		if mt {
			return s, e, kd, true
		}
		if d[after] == '}' {
			return 0, 0, KindInvalid, false
		}
		if i = after + 1; i >= len(d) || d[i] != '"' {
			if i = nextName(d, i); i < 0 {
				return 0, 0, KindInvalid, false
			}
		}
	}
}

// objectStart returns the offset of the opening quote of the first member's
// name in the JSON object that data starts with, after optional whitespace, or
// -1 if data does not start so (an empty object has no first member).
//
//go:noinline
func objectStart(d []byte) int {
	i := skipWS(d, 0)
	if i >= len(d) || d[i] != '{' {
		return -1
	}
	return nextName(d, i+1)
}

// nextName returns the offset of the first byte after d[i] and optional
// whitespace if it is a quote, or -1.
//
//go:noinline
func nextName(d []byte, i int) int {
	i = skipWS(d, i)
	if i >= len(d) || d[i] != '"' {
		return -1
	}
	return i
}

// member scans the object member whose name starts at d[i] (a quote), checking
// everything, and the whitespace after its value. It returns the offset of the
// comma or the closing brace that follows, where the value starts and ends, its
// kind, and whether the member's name, unescaped, is field; after is -1 if the
// member is malformed. It is JSONSpan's way for the members its fast path does
// not take, so it too takes a short way for what is common among them: long
// names and strings without escapes, numbers, a little whitespace.
//
//go:noinline
func member(d []byte, i int, field string) (after, start, end int, kind JSONKind, match bool) {
	j := plainEnd(d, i+1)
	if j < len(d) && d[j] == '"' {
		match = string(d[i+1:j]) == field // no escapes: compared as it is
		j++
	} else {
		if j = skipString(d, i); j < 0 {
			return -1, 0, 0, KindInvalid, false
		}
		match = keyEquals(d[i+1:j-1], field)
	}
	if j < len(d) && d[j] <= ' ' {
		j = skipWS(d, j)
	}
	if j >= len(d) || d[j] != ':' {
		return -1, 0, 0, KindInvalid, false
	}
	if start = j + 1; start < len(d) && d[start] <= ' ' {
		start = skipWS(d, start)
	}
	if start >= len(d) {
		return -1, 0, 0, KindInvalid, false
	}
	switch c := d[start]; {
	case c == '"':
		if end = plainEnd(d, start+1); end < len(d) && d[end] == '"' {
			end++
		} else {
			end = skipString(d, start)
		}
		kind = KindString
	case c == '-' || c-'0' < 10:
		end = skipNumber(d, start)
		kind = KindNumber
	default:
		end = skipValue(d, start, 2)
		kind = kindOf(c)
	}
	if end < 0 {
		return -1, 0, 0, KindInvalid, false
	}
	if j = end; j < len(d) && d[j] <= ' ' {
		j = skipWS(d, j)
	}
	if j >= len(d) || (d[j] != ',' && d[j] != '}') {
		return -1, 0, 0, KindInvalid, false
	}
	return j, start, end, kind, match
}

// specialBytes returns the eight bytes of x (read little endian) with the high
// bit set in each byte that a JSON string cannot hold as it is (below 0x20, the
// quote or the backslash), and nothing else set. Bytes above the first such one
// may be marked wrongly (borrows run upwards), so only the lowest mark counts.
func specialBytes(x uint64) uint64 {
	q := x ^ (lsb * '"')
	b := x ^ (lsb * '\\')
	return (((x - lsb*0x20) &^ x) | ((q - lsb) &^ q) | ((b - lsb) &^ b)) & msb
}

// nonDigitBytes returns x with the high bit set in each byte that is not an
// ASCII digit, and nothing else set; as with specialBytes, only the lowest mark
// counts (the carry of a byte 0xFA and above runs upwards, from a marked byte).
func nonDigitBytes(x uint64) uint64 {
	t := ((x & (lsb * 0xF0)) ^ (lsb * 0x30)) | (((x + lsb*0x06) & (lsb * 0xF0)) ^ (lsb * 0x30))
	return ((t&(lsb*0x7F) + lsb*0x7F) | t) & msb
}

// plainEnd returns the offset of the first byte at or after d[i] that a JSON
// string cannot hold as it is (the quote, the backslash or a control character),
// or len(d). It looks at eight bytes at a time.
func plainEnd(d []byte, i int) int {
	for len(d)-i >= 8 {
		if m := specialBytes(binary.LittleEndian.Uint64(d[i:])); m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
		i += 8
	}
	for i < len(d) && plainString[d[i]] {
		i++
	}
	return i
}

// byteMasks[n] keeps the n low bytes of a word.
var byteMasks = [16]uint64{0, 0xFF, 0xFFFF, 0xFFFFFF, 0xFFFFFFFF, 0xFFFFFFFFFF, 0xFFFFFFFFFFFF, 0xFFFFFFFFFFFFFF, 0xFFFFFFFFFFFFFFFF}

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// JSONGet returns the raw text of the first top-level member called field of
// the JSON object in data, a sub-slice of data, and its kind. See [JSONSpan] for
// what is checked. It never allocates.
func JSONGet(data []byte, field string) (raw []byte, kind JSONKind, ok bool) {
	start, end, kind, ok := JSONSpan(data, field)
	if !ok {
		return nil, KindInvalid, false
	}
	return data[start:end:end], kind, true
}

// JSONInt returns the top-level member field as an int64 if its text is an
// integer (no fraction, no exponent) that fits. It never allocates.
func JSONInt(data []byte, field string) (int64, bool) {
	raw, kind, ok := JSONGet(data, field)
	if !ok || kind != KindNumber {
		return 0, false
	}
	return JSONParseInt(raw)
}

// JSONFloat returns the top-level member field as a float64 if it is a number,
// rounded to the nearest float64; ok is false for numbers beyond float64's range.
// It never allocates.
func JSONFloat(data []byte, field string) (float64, bool) {
	raw, kind, ok := JSONGet(data, field)
	if !ok || kind != KindNumber {
		return 0, false
	}
	return JSONParseFloat(raw)
}

// JSONBool returns the top-level member field if it is true or false.
func JSONBool(data []byte, field string) (value, ok bool) {
	_, kind, ok := JSONGet(data, field)
	switch {
	case !ok:
		return false, false
	case kind == KindTrue:
		return true, true
	case kind == KindFalse:
		return false, true
	}
	return false, false
}

// JSONString returns the contents of the top-level member field if it is a
// string. Without escapes in it, the result is a sub-slice of data and nothing is
// allocated; with escapes, it is a new, unescaped slice.
func JSONString(data []byte, field string) ([]byte, bool) {
	raw, kind, ok := JSONGet(data, field)
	if !ok || kind != KindString {
		return nil, false
	}
	return JSONUnquote(raw)
}

// JSONParseInt parses the text of a JSON number that is an integer, as found by
// [JSONGet]: an optional minus sign and digits without leading zeros, nothing
// else, fitting in an int64. "-0" is 0. It never allocates.
func JSONParseInt(raw []byte) (int64, bool) {
	// One to eight digits are parsed at once, eight bytes at a time, when there
	// is room to read eight bytes (a value JSONSpan found, resliced from its
	// document, usually has some).
	if n := len(raw); uint(n-1) < 8 && cap(raw) >= 8 {
		x := binary.LittleEndian.Uint64(raw[:8])
		if nonDigitBytes(x)&(1<<(8*n)-1) != 0 || raw[0] == '0' && n > 1 {
			if raw[0] != '-' {
				return 0, false
			}
		} else {
			// Right-align the digits (the bytes shifted in read as zeros), then
			// combine them pairwise: 2 digits per 16 bits, 4 per 32, 8.
			x <<= 64 - 8*n
			x = (x & (lsb * 0x0F)) * (10<<8 + 1) >> 8
			x = (x & 0x00FF00FF00FF00FF) * (100<<16 + 1) >> 16
			x = (x & 0x0000FFFF0000FFFF) * (10000<<32 + 1) >> 32
			return int64(x), true
		}
	}
	neg := len(raw) > 0 && raw[0] == '-'
	digits := raw
	if neg {
		digits = raw[1:]
	}
	// Up to 19 digits fit a uint64; int64 needs fewer than that at the top.
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
	if u > math.MaxInt64 {
		return 0, false
	}
	return int64(u), true
}

// JSONParseFloat parses the text of a JSON number as a float64, rounding to
// nearest; ok is false if raw is not a JSON number or is beyond float64's range.
// It never allocates.
func JSONParseFloat(raw []byte) (float64, bool) {
	if len(raw) == 0 || skipNumber(raw, 0) != len(raw) {
		return 0, false
	}
	// ParseFloat keeps the string only in the error it returns, which is dropped.
	f, err := strconv.ParseFloat(unsafe.String(unsafe.SliceData(raw), len(raw)), 64)
	if err != nil {
		return 0, false
	}
	return f, true
}

// JSONUnquote returns the contents of the JSON string raw (quotes included). It
// allocates only when raw holds escapes; a lone UTF-16 surrogate becomes U+FFFD,
// as in encoding/json.
func JSONUnquote(raw []byte) ([]byte, bool) {
	if len(raw) < 2 || raw[0] != '"' || skipString(raw, 0) != len(raw) {
		return nil, false
	}
	body := raw[1 : len(raw)-1]
	for _, c := range body {
		if c == '\\' {
			return appendUnescaped(make([]byte, 0, len(body)), body), true
		}
	}
	return body, true
}

// JSONReplace appends data to dst with the value of its first top-level member
// called field replaced by newRaw, which the caller must make valid JSON text.
// Every other byte is copied as it is. If the member is not found, data is
// appended unchanged and ok is false.
func JSONReplace(dst, data []byte, field string, newRaw []byte) ([]byte, bool) {
	start, end, _, ok := JSONSpan(data, field)
	if !ok {
		return append(dst, data...), false
	}
	dst = append(dst, data[:start]...)
	dst = append(dst, newRaw...)
	return append(dst, data[end:]...), true
}

// JSONArrayEach calls fn with the raw text and kind of each element of the JSON
// array raw, in order, until fn returns false. It reports false, without calling
// fn, if raw is not a well-formed array. It allocates nothing itself.
func JSONArrayEach(raw []byte, fn func(elem []byte, kind JSONKind) bool) bool {
	if len(raw) == 0 || raw[0] != '[' || skipValue(raw, 0, 1) != len(raw) {
		return false
	}
	i := skipWS(raw, 1)
	if raw[i] == ']' {
		return true
	}
	for {
		end := skipValue(raw, i, 2)
		if !fn(raw[i:end:end], kindOf(raw[i])) {
			return true
		}
		i = skipWS(raw, end)
		if raw[i] == ']' {
			return true
		}
		i = skipWS(raw, i+1) // the comma
	}
}

// JSONValid reports whether data is exactly one well-formed JSON value,
// surrounded by optional whitespace, nested at most MaxJSONDepth deep.
func JSONValid(data []byte) bool {
	i := skipValue(data, skipWS(data, 0), 1)
	return i >= 0 && skipWS(data, i) == len(data)
}

// validJSONObject reports whether data is exactly one JSON object.
func validJSONObject(data []byte) bool {
	i := skipWS(data, 0)
	return i < len(data) && data[i] == '{' && JSONValid(data)
}

// Unmarshal is encoding/json's Unmarshal, for code off the hot path (such as an
// OnOpen hook): it costs microseconds and allocates.
func Unmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }

// Marshal is encoding/json's Marshal, for code off the hot path.
func Marshal(v any) ([]byte, error) { return json.Marshal(v) }

func kindOf(c byte) JSONKind {
	switch c {
	case '"':
		return KindString
	case '{':
		return KindObject
	case '[':
		return KindArray
	case 't':
		return KindTrue
	case 'f':
		return KindFalse
	case 'n':
		return KindNull
	}
	return KindNumber
}

func skipWS(d []byte, i int) int {
	for i < len(d) {
		switch d[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// skipValue returns the offset just past the JSON value starting at d[i], or -1.
// depth is the nesting level a container starting there would have.
func skipValue(d []byte, i, depth int) int {
	if i >= len(d) {
		return -1
	}
	switch c := d[i]; c {
	case '"':
		return skipString(d, i)
	case 't':
		return skipLiteral(d, i, "true")
	case 'f':
		return skipLiteral(d, i, "false")
	case 'n':
		return skipLiteral(d, i, "null")
	case '{':
		if depth > MaxJSONDepth {
			return -1
		}
		i = skipWS(d, i+1)
		if i < len(d) && d[i] == '}' {
			return i + 1
		}
		for {
			if i >= len(d) || d[i] != '"' {
				return -1
			}
			if i = skipString(d, i); i < 0 {
				return -1
			}
			i = skipWS(d, i)
			if i >= len(d) || d[i] != ':' {
				return -1
			}
			if i = skipValue(d, skipWS(d, i+1), depth+1); i < 0 {
				return -1
			}
			i = skipWS(d, i)
			if i >= len(d) {
				return -1
			}
			if d[i] == '}' {
				return i + 1
			}
			if d[i] != ',' {
				return -1
			}
			i = skipWS(d, i+1)
		}
	case '[':
		if depth > MaxJSONDepth {
			return -1
		}
		i = skipWS(d, i+1)
		if i < len(d) && d[i] == ']' {
			return i + 1
		}
		for {
			if i = skipValue(d, i, depth+1); i < 0 {
				return -1
			}
			i = skipWS(d, i)
			if i >= len(d) {
				return -1
			}
			if d[i] == ']' {
				return i + 1
			}
			if d[i] != ',' {
				return -1
			}
			i = skipWS(d, i+1)
		}
	default:
		if c == '-' || '0' <= c && c <= '9' {
			return skipNumber(d, i)
		}
		return -1
	}
}

func skipLiteral(d []byte, i int, lit string) int {
	if len(d)-i < len(lit) || string(d[i:i+len(lit)]) != lit {
		return -1
	}
	return i + len(lit)
}

// skipNumber returns the offset just past the number at d[i], or -1:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func skipNumber(d []byte, i int) int {
	if i < len(d) && d[i] == '-' {
		i++
	}
	switch {
	case i >= len(d):
		return -1
	case d[i] == '0':
		i++
	case '1' <= d[i] && d[i] <= '9':
		i = skipDigits(d, i+1)
	default:
		return -1
	}
	if i < len(d) && d[i] == '.' {
		j := skipDigits(d, i+1)
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
		j := skipDigits(d, i)
		if j == i {
			return -1
		}
		i = j
	}
	return i
}

func skipDigits(d []byte, i int) int {
	for len(d)-i >= 8 {
		if m := nonDigitBytes(binary.LittleEndian.Uint64(d[i:])); m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
		i += 8
	}
	for i < len(d) && '0' <= d[i] && d[i] <= '9' {
		i++
	}
	return i
}

// plainString marks the bytes a string may hold as they are: not the quote,
// the backslash or a control character.
var plainString = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// skipString returns the offset just past the string whose opening quote is
// d[i], or -1. Control characters must be escaped; escapes must be valid.
func skipString(d []byte, i int) int {
	for i++; ; {
		i = plainEnd(d, i)
		if i >= len(d) {
			return -1
		}
		switch d[i] {
		case '"':
			return i + 1
		case '\\':
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
		default: // a control character
			return -1
		}
	}
}

// hex4 decodes four hex digits, or returns -1.
func hex4(b []byte) rune {
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
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}

// unescapeAt decodes the escape sequence at b[i] (b[i] == '\\', already checked
// by skipString) and returns the rune and the offset past it. A surrogate pair
// makes one rune; a lone surrogate becomes U+FFFD.
func unescapeAt(b []byte, i int) (rune, int) {
	switch c := b[i+1]; c {
	case 'b':
		return '\b', i + 2
	case 'f':
		return '\f', i + 2
	case 'n':
		return '\n', i + 2
	case 'r':
		return '\r', i + 2
	case 't':
		return '\t', i + 2
	case 'u':
		r := hex4(b[i+2:])
		i += 6
		if utf16.IsSurrogate(r) {
			if r < 0xDC00 && len(b)-i >= 6 && b[i] == '\\' && b[i+1] == 'u' {
				if r2 := hex4(b[i+2:]); 0xDC00 <= r2 && r2 < 0xE000 {
					return utf16.DecodeRune(r, r2), i + 6
				}
			}
			return utf8.RuneError, i
		}
		return r, i
	default: // '"', '\\', '/'
		return rune(c), i + 2
	}
}

// keyEquals reports whether the body of a JSON string (without quotes, escapes
// valid) equals s once unescaped.
func keyEquals(body []byte, s string) bool {
	if string(body) == s {
		return true
	}
	j := 0
	for i := 0; i < len(body); {
		c := body[i]
		if c != '\\' {
			if j >= len(s) || s[j] != c {
				return false
			}
			i++
			j++
			continue
		}
		var r rune
		r, i = unescapeAt(body, i)
		var buf [utf8.UTFMax]byte
		n := utf8.EncodeRune(buf[:], r)
		if len(s)-j < n || string(buf[:n]) != s[j:j+n] {
			return false
		}
		j += n
	}
	return j == len(s)
}

// appendUnescaped appends the unescaped body of a valid JSON string to dst.
func appendUnescaped(dst, body []byte) []byte {
	for i := 0; i < len(body); {
		if body[i] != '\\' {
			dst = append(dst, body[i])
			i++
			continue
		}
		var r rune
		r, i = unescapeAt(body, i)
		dst = utf8.AppendRune(dst, r)
	}
	return dst
}
