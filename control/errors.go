package control

import (
	"errors"
	"fmt"
)

// Domain errors, mapped to HTTP status codes in one table (rest.go: statusOf).
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
	ErrInvalid  = errors.New("invalid")
	ErrTooLarge = errors.New("too large")
)

// fieldError is a 4xx error that names the spec field at fault.
type fieldError struct {
	kind         error
	msg          string
	field        string
	line, column int
}

func (e *fieldError) Error() string {
	if e.field != "" {
		return e.field + ": " + e.msg
	}
	return e.msg
}

func (e *fieldError) Unwrap() error { return e.kind }

func invalid(field string, line, column int, format string, args ...any) error {
	return &fieldError{kind: ErrInvalid, msg: fmt.Sprintf(format, args...), field: field, line: line, column: column}
}
