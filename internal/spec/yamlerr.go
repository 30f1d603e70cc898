package spec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// yaml.v3 reports a syntax error as text, "yaml: line N: problem", where N is often
// not the line of the problem: for parser errors it is the 0-based line where the
// enclosing construct starts, for scanner errors that line plus one, and it is left
// out when it would be 0. yamlError recovers a useful line: it starts from the line
// yaml.v3 names and finds the first line from there at which the document's prefix
// fails with the same problem. yaml.v3 parses as a stream, so the prefix that first
// fails ends at the line that holds the problem (or, for a problem found only at
// the end, such as an unclosed bracket, at the line where the document runs out).

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parserProblems are the problems yaml.v3's parser (rather than its scanner)
// reports, whose line is 0-based.
var parserProblems = map[string]bool{
	"did not find expected <stream-start>":   true,
	"did not find expected <document start>": true,
	"found duplicate %YAML directive":        true,
	"found incompatible YAML document":       true,
	"found duplicate %TAG directive":         true,
	"found undefined tag handle":             true,
	"did not find expected node content":     true,
	"did not find expected '-' indicator":    true,
	"did not find expected key":              true,
	"did not find expected ',' or ']'":       true,
	"did not find expected ',' or '}'":       true,
}

// readerProblems are the problems yaml.v3's reader reports, without a line.
var readerProblems = map[string]bool{
	"invalid leading UTF-8 octet":        true,
	"incomplete UTF-8 octet sequence":    true,
	"invalid trailing UTF-8 octet":       true,
	"invalid length of a UTF-8 sequence": true,
	"invalid Unicode character":          true,
	"control characters are not allowed": true,
}

// refineMaxSize bounds the documents whose error line yamlError refines: each try
// parses a prefix again.
const refineMaxSize = 256 << 10

func yamlError(data []byte, err error) *Error {
	msg, line := strings.TrimPrefix(err.Error(), "yaml: "), 0
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	e := &Error{Msg: "invalid YAML: " + msg}
	if name, ok := strings.CutPrefix(msg, "unknown anchor '"); ok {
		e.Line, e.Column = findAlias(data, strings.TrimSuffix(name, "' referenced"))
		return e
	}
	if readerProblems[msg] {
		// The reader refuses characters YAML does not allow before any line is
		// counted; find the first.
		e.Line, e.Column = findBadChar(data)
		return e
	}
	if parserProblems[msg] {
		line++
	}
	// A problem found at the end of the document (an unclosed bracket, say) is
	// reported on the line after it; the document's last line is closer to the
	// cause.
	e.Line = min(refineLine(data, max(line, 1), err.Error()), lastLine(data))
	return e
}

// lastLine returns the number of the last line with anything but white space on
// it, or 1.
func lastLine(data []byte) int {
	trimmed := bytes.TrimRight(data, " \t\r\n")
	return bytes.Count(trimmed, []byte("\n")) + 1
}

// refineLine returns the first line from `from` at which the document's prefix
// fails with the error want, or `from` itself. Once a prefix fails, longer ones fail
// the same way (the parser streams), so a binary search finds it in a few parses.
func refineLine(data []byte, from int, want string) int {
	if len(data) > refineMaxSize {
		return from
	}
	lines := bytes.SplitAfter(data, []byte("\n"))
	ends := make([]int, len(lines)+1) // ends[l] is the length of the first l lines
	for l, line := range lines {
		ends[l+1] = ends[l] + len(line)
	}
	if from >= len(lines) {
		return from
	}
	fails := func(l int) bool {
		err := decodeAll(data[:ends[l]])
		return err != nil && err.Error() == want
	}
	lo, hi := from, len(lines) // the whole document fails: fails(hi)
	for lo < hi {
		mid := lo + (hi-lo)/2
		if fails(mid) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}

// decodeAll parses every document of data and returns the first error.
func decodeAll(data []byte) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var n yaml.Node
		if err := dec.Decode(&n); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}

// findBadChar locates the first character YAML does not allow (or invalid UTF-8),
// counting columns in characters as yaml.v3 does, or returns 0, 0.
func findBadChar(data []byte) (line, column int) {
	line, column = 1, 1
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size <= 1 || !yamlAllowed(r) {
			return line, column
		}
		if r == '\n' {
			line, column = line+1, 1
		} else {
			column++
		}
		i += size
	}
	return 0, 0
}

// yamlAllowed reports whether YAML 1.2 allows r in a document (its c-printable).
func yamlAllowed(r rune) bool {
	switch {
	case r == '\t' || r == '\n' || r == '\r':
		return true
	case r >= 0x20 && r <= 0x7e, r == 0x85, r >= 0xa0 && r <= 0xd7ff,
		r >= 0xe000 && r <= 0xfffd, r >= 0x10000 && r <= 0x10ffff:
		return true
	}
	return false
}

// findAlias locates the first use of the alias *name.
func findAlias(data []byte, name string) (line, column int) {
	re, err := regexp.Compile(`\*` + regexp.QuoteMeta(name) + `(?:[\s,\]}]|$)`)
	if err != nil {
		return 0, 0
	}
	loc := re.FindIndex(data)
	if loc == nil {
		return 0, 0
	}
	before := data[:loc[0]]
	line = bytes.Count(before, []byte("\n")) + 1
	column = utf8.RuneCount(before[bytes.LastIndexByte(before, '\n')+1:]) + 1
	return line, column
}

// jsonCompat rewrites what valid JSON may hold but yaml.v3 refuses in a
// double-quoted string: the escape \/ and UTF-16 surrogate pairs (\ud83d\ude00), as
// Python and PHP write by default. It keeps every line and column outside the
// strings it changes: the characters a rewrite saves become spaces after the
// string's closing quote. Anything but a valid JSON object or array is returned as
// it is.
func jsonCompat(data []byte) []byte {
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' && trimmed[0] != '[' ||
		!bytes.Contains(data, []byte(`\/`)) && !bytes.Contains(bytes.ToLower(data), []byte(`\ud`)) ||
		!json.Valid(data) {
		return data
	}
	out := make([]byte, 0, len(data))
	inString, saved := false, 0
	for i := 0; i < len(data); i++ {
		c := data[i]
		switch {
		case !inString:
			out = append(out, c)
			inString = c == '"'
		case c == '"':
			out = append(out, c)
			out = append(out, bytes.Repeat([]byte(" "), saved)...)
			inString, saved = false, 0
		case c != '\\':
			out = append(out, c)
		case data[i+1] == '/': // valid JSON: a backslash always has a successor
			out = append(out, '/')
			saved++
			i++
		case data[i+1] == 'u':
			hi, ok := hex4(data[i+2:])
			switch {
			case !ok || hi < 0xd800 || hi > 0xdfff:
				out = append(out, data[i:i+6]...)
			case hi <= 0xdbff && i+12 <= len(data) && data[i+6] == '\\' && data[i+7] == 'u':
				if lo, ok := hex4(data[i+8:]); ok && lo >= 0xdc00 && lo <= 0xdfff {
					r := utf16Pair(hi, lo)
					out = fmt.Appendf(out, `\U%08X`, r)
					saved += 2
					i += 6
				} else {
					out = append(out, `\uFFFD`...)
				}
			default:
				// A lone surrogate: what encoding/json makes of it.
				out = append(out, `\uFFFD`...)
			}
			i += 5
		default:
			out = append(out, c, data[i+1])
			i++
		}
	}
	return out
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	v, err := strconv.ParseUint(string(b[:4]), 16, 32)
	return rune(v), err == nil
}

func utf16Pair(hi, lo rune) rune {
	return 0x10000 + (hi-0xd800)<<10 + (lo - 0xdc00)
}
