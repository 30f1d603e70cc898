package spec

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Error is a problem with a job spec: always the caller's to fix (a 4xx), never a
// fault of the server. Its JSON form is the REST error envelope of DESIGN §6.
type Error struct {
	// Msg says what is wrong, in lower case.
	Msg string `json:"error"`
	// Field is the path of the offending value, e.g. "pipeline[2].map.function"; ""
	// for the document as a whole. For an unknown or duplicate key it is the path
	// of the mapping that holds the key.
	Field string `json:"field,omitempty"`
	// Line and Column locate the problem in the spec (1-based; 0 when unknown).
	Line   int `json:"line,omitempty"`
	Column int `json:"column,omitempty"`
	// Unsupported marks a known key or value whose capability is not built yet.
	// errors.Is(err, errors.ErrUnsupported) reports it too.
	Unsupported bool `json:"unsupported,omitempty"`
}

// Error renders the error as `field: msg (line L, column C)`, leaving out what is
// unknown.
func (e *Error) Error() string {
	var b strings.Builder
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	switch {
	case e.Line > 0 && e.Column > 0:
		fmt.Fprintf(&b, " (line %d, column %d)", e.Line, e.Column)
	case e.Line > 0:
		fmt.Fprintf(&b, " (line %d)", e.Line)
	}
	return b.String()
}

// Is reports whether target is errors.ErrUnsupported and the error is about a
// capability not built yet.
func (e *Error) Is(target error) bool {
	return target == errors.ErrUnsupported && e.Unsupported
}

// sortErrors orders errors by position, keeping the order of equals and putting
// those without a position last, so that the first is deterministic.
func sortErrors(errs []*Error) {
	slices.SortStableFunc(errs, func(a, b *Error) int {
		if (a.Line == 0) != (b.Line == 0) {
			if a.Line == 0 {
				return 1
			}
			return -1
		}
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		return a.Column - b.Column
	})
}

// first returns the first error by position, or nil.
func first(errs []*Error) error {
	if len(errs) == 0 {
		return nil
	}
	sortErrors(errs)
	return errs[0]
}

// stepField is the path of field within step i: "pipeline[i].field".
func stepField(i int, field string) string {
	return joinField(fmt.Sprintf("pipeline[%d]", i), field)
}

// joinField appends key to the path p.
func joinField(p, key string) string {
	switch {
	case p == "":
		return key
	case key == "":
		return p
	}
	return p + "." + key
}

// parentField is the path one level up from p: "a.b[2]" → "a.b" → "a" → "".
func parentField(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return ""
	}
	return p[:i]
}
