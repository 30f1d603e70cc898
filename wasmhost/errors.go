package wasmhost

import (
	"errors"
	"fmt"
)

// Sentinel errors. They are wrapped; test with errors.Is.
var (
	// ErrInvalidModule marks a module refused by validation.
	ErrInvalidModule = errors.New("wasmhost: invalid module")
	// ErrClosed is returned by calls on a closed or broken instance.
	ErrClosed = errors.New("wasmhost: instance closed")
)

// FailureKind classifies a failed guest call.
type FailureKind string

const (
	FailureError   FailureKind = "error"   // the UDF returned an error
	FailureTrap    FailureKind = "trap"    // the guest trapped (or a Go guest panicked)
	FailureTimeout FailureKind = "timeout" // the call ran past its time limit
	FailureMemory  FailureKind = "memory"  // the guest hit its memory limit
	FailureABI     FailureKind = "abi"     // the guest broke the ABI (bad frame, bad code)
	FailureState   FailureKind = "state"   // the state store failed during the call
)

// CallError is the error of a failed guest call. Message is the UDF's own message
// where it gave one; Stack is the Wasm stack trace of a trap.
type CallError struct {
	Function string
	Kind     FailureKind
	Message  string
	Stack    string
	// Stderr is the tail of what the guest wrote to stderr.
	Stderr string
}

func (e *CallError) Error() string {
	msg := fmt.Sprintf("udf %q: %s: %s", e.Function, e.Kind, e.Message)
	return msg
}

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidModule, fmt.Sprintf(format, args...))
}
