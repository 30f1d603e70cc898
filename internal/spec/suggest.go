package spec

import (
	"fmt"
	"sort"
	"strings"
)

// suggest returns the candidate closest to s when it is close enough to be a typo of
// it, or "". Close enough: one edit for words of up to four letters, two for longer
// ones, counting a swap of neighbours as one edit; a difference only in case always
// is. Ties go to the alphabetically first, so messages are deterministic.
func suggest(s string, candidates []string) string {
	limit := 2
	if len(s) <= 4 {
		limit = 1
	}
	sorted := append([]string(nil), candidates...)
	sort.Strings(sorted)
	best, bestD := "", limit+1
	for _, c := range sorted {
		if strings.EqualFold(s, c) {
			return c
		}
		if d := editDistance(s, c); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// didYouMean renders a suggestion for a message: ` (did you mean "x"?)`, or "".
func didYouMean(s string, candidates []string) string {
	if c := suggest(s, candidates); c != "" {
		return fmt.Sprintf(" (did you mean %q?)", c)
	}
	return ""
}

// editDistance is the optimal string alignment distance between a and b: the edits
// (insert, delete, substitute, swap neighbours) that turn one into the other.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	// Keys are short, so a full table is simplest; a hostile document's keys may
	// not be, so cap the work (a long key is no typo of a short one anyway).
	if len(ra) > 64 || len(rb) > 64 {
		return 1 << 30
	}
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}

// keysOf returns the keys of a shape, for suggestions.
func keysOf(s *shape) []string {
	keys := make([]string, 0, len(s.keys))
	for k := range s.keys {
		keys = append(keys, k)
	}
	return keys
}

// enumStrings converts enumeration values to strings, for suggestions and lists.
func enumStrings[T ~string](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

// orList renders "a, b or c".
func orList(vs []string) string { return joinList(vs, "or") }

// andList renders "a, b and c".
func andList(vs []string) string { return joinList(vs, "and") }

func joinList(vs []string, conj string) string {
	switch len(vs) {
	case 0:
		return ""
	case 1:
		return vs[0]
	}
	return strings.Join(vs[:len(vs)-1], ", ") + " " + conj + " " + vs[len(vs)-1]
}
