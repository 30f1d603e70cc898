package wasmhost

import (
	"context"
	"fmt"

	"github.com/weir-streams/weir/internal/record"
)

// Two-input functions and broadcast state (sdk/ABI.md §4.7, §4.8).

// stateScope says what the state and timer imports may do during a call.
type stateScope uint8

const (
	// scopeNone: every state and timer import returns INVALID.
	scopeNone stateScope = iota
	// scopeKeyed: keyed state and timers act for the key of the record named;
	// broadcast state is read-only. Process calls of process, reduce and
	// co_process functions, timer calls, and process2 calls of a co_process
	// function whose inputs are both keyed.
	scopeKeyed
	// scopeBroadcast: broadcast state may be read and written; keyed state and
	// timers are INVALID, since a broadcast record has no key. Process2 calls of
	// a co_process function whose second input is broadcast.
	scopeBroadcast
)

// SetBroadcastSecond says whether a co_process function's second input is
// broadcast (a step reading a `partition: broadcast` step). When it is, in
// Process2 calls the keyed-state and timer imports return INVALID and broadcast
// state may be written; otherwise both inputs are keyed and share the keyed
// state. In both modes broadcast state is read-only in Process and Timer calls.
// Set it before the first call; the default is false.
func (i *Instance) SetBroadcastSecond(broadcast bool) { i.broadcastSecond = broadcast }

// Process2 runs a co_process function on one batch of its second input (call
// kind process2) and returns its main output, valid until the next call like its
// side outputs. The state and timer imports act for the key of the record named,
// as in Process, unless SetBroadcastSecond(true) made the second input broadcast.
func (i *Instance) Process2(ctx context.Context, in *record.Batch) (*record.Batch, error) {
	if i.fn.Kind != KindCoProcess {
		return nil, fmt.Errorf("wasmhost: process2 call for a %s function", i.fn.Kind)
	}
	i.out.Reset()
	i.parents.reset(in)
	i.scope = scopeKeyed
	if i.broadcastSecond {
		i.scope = scopeBroadcast
	}
	err := i.call(ctx, callProcess2, in.Bytes(), true)
	i.scope = scopeNone
	if err != nil {
		return nil, err
	}
	return &i.out, nil
}

// stateAccess says whether the current call may apply op to a state of kind:
// keyed kinds in a keyed scope, broadcast reads in any scope with state, and
// broadcast writes only in the broadcast scope.
func (i *Instance) stateAccess(kind string, op stateOp) bool {
	switch {
	case i.scope == scopeNone:
		return false
	case kind != StateBroadcast:
		return i.scope == scopeKeyed
	case op == opPut || op == opDelete:
		return i.scope == scopeBroadcast
	}
	return true
}

// isMapKind reports whether a state kind holds entries by sub-key.
func isMapKind(kind string) bool { return kind == StateMap || kind == StateBroadcast }
