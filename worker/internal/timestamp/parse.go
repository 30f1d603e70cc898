package timestamp

import "math"

// parseMillis reads a JSON number as a whole number of milliseconds: an
// integer, or a number with a fraction or an exponent whose value is integral
// (1e3, 1500.0, 15000e-1). It works on the decimal digits, so it is exact over
// the whole int64 range where a float64 would round, and allocates nothing.
func parseMillis(v []byte) (int64, bool) {
	i, neg := 0, false
	if i < len(v) && v[i] == '-' {
		neg = true
		i++
	}
	intStart := i
	for i < len(v) && isDigit(v[i]) {
		i++
	}
	intEnd := i
	if intEnd == intStart {
		return 0, false
	}
	fracStart, fracEnd := i, i
	if i < len(v) && v[i] == '.' {
		i++
		fracStart = i
		for i < len(v) && isDigit(v[i]) {
			i++
		}
		fracEnd = i
		if fracEnd == fracStart {
			return 0, false
		}
	}
	exp := 0
	if i < len(v) && (v[i] == 'e' || v[i] == 'E') {
		i++
		expNeg := false
		if i < len(v) && (v[i] == '+' || v[i] == '-') {
			expNeg = v[i] == '-'
			i++
		}
		start := i
		for ; i < len(v) && isDigit(v[i]); i++ {
			// Saturate: past a billion the answer is 0, out of range or not
			// integral whatever the digits.
			if exp < 1e9 {
				exp = exp*10 + int(v[i]-'0')
			}
		}
		if i == start {
			return 0, false
		}
		if expNeg {
			exp = -exp
		}
	}
	if i != len(v) {
		return 0, false
	}

	// The digits d[0:n] are the integer digits followed by the fraction's; the
	// decimal point falls after the first point of them.
	nInt, n := intEnd-intStart, intEnd-intStart+fracEnd-fracStart
	digit := func(k int) byte {
		if k < nInt {
			return v[intStart+k] - '0'
		}
		return v[fracStart+k-nInt] - '0'
	}
	point := nInt + exp
	for k := max(point, 0); k < n; k++ {
		if digit(k) != 0 {
			return 0, false // not integral
		}
	}
	limit := uint64(math.MaxInt64)
	if neg {
		limit++
	}
	var mag uint64
	for k := 0; k < min(point, n); k++ {
		d := uint64(digit(k))
		if mag > (limit-d)/10 {
			return 0, false
		}
		mag = mag*10 + d
	}
	// Trailing zeros the exponent adds; a zero stays zero however many.
	for k := n; k < point && mag != 0; k++ {
		if mag > limit/10 {
			return 0, false
		}
		mag *= 10
	}
	if neg {
		return int64(-mag), true // -(1<<63) wraps to math.MinInt64, as it should
	}
	return int64(mag), true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// parseRFC3339 reads an RFC 3339 date-time, YYYY-MM-DDThh:mm:ss[.frac](Z|±hh:mm),
// as milliseconds since the Unix epoch; fractions finer than a millisecond are
// truncated (toward the past, as time.Time.UnixMilli does). 'T' and 'Z' may be
// lower case, as RFC 3339 allows. A leap second (:60) is refused, as time.Parse
// refuses it. time.Parse itself allocates for errors and for offsets that are
// not whole hours, hence this parser.
func parseRFC3339(s []byte) (int64, bool) {
	if len(s) < len("2006-01-02T15:04:05Z") || s[4] != '-' || s[7] != '-' || s[10] != 'T' && s[10] != 't' || s[13] != ':' || s[16] != ':' {
		return 0, false
	}
	year, ok1 := digits(s[0:4])
	month, ok2 := digits(s[5:7])
	day, ok3 := digits(s[8:10])
	hour, ok4 := digits(s[11:13])
	minute, ok5 := digits(s[14:16])
	sec, ok6 := digits(s[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) ||
		month < 1 || month > 12 || day < 1 || day > daysIn(month, year) ||
		hour > 23 || minute > 59 || sec > 59 {
		return 0, false
	}
	rest := s[19:]
	var ms int64
	if len(rest) > 0 && rest[0] == '.' {
		i := 1
		for ; i < len(rest) && isDigit(rest[i]); i++ {
			if i <= 3 {
				ms = ms*10 + int64(rest[i]-'0')
			}
		}
		if i == 1 {
			return 0, false
		}
		for k := i; k <= 3; k++ {
			ms *= 10 // ".5" is 500 ms
		}
		rest = rest[i:]
	}
	var offset int64 // minutes east of UTC
	switch {
	case len(rest) == 1 && (rest[0] == 'Z' || rest[0] == 'z'):
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		oh, ok1 := digits(rest[1:3])
		om, ok2 := digits(rest[4:6])
		if !ok1 || !ok2 || oh > 23 || om > 59 {
			return 0, false
		}
		offset = int64(oh*60 + om)
		if rest[0] == '-' {
			offset = -offset
		}
	default:
		return 0, false
	}
	days := daysFromCivil(int64(year), int64(month), int64(day))
	secs := days*86400 + int64(hour*3600+minute*60+sec) - offset*60
	return secs*1000 + ms, true
}

// digits reads a fixed-width decimal number.
func digits(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if !isDigit(c) {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil is the number of days from 1970-01-01 to the given date of the
// proleptic Gregorian calendar (Howard Hinnant's days_from_civil), for years
// 0 to 9999.
func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 {
		era = (y - 399) / 400
	}
	yoe := y - era*400
	mp := (m + 9) % 12 // March is 0
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}
