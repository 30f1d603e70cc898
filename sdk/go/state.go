package weir

import (
	"encoding/binary"
	"errors"
	"strconv"
	"time"
)

// StateKind is the kind of a keyed state (ABI §2, §4.2).
type StateKind string

// State kinds. Value, reducing and aggregating states hold one value per key and
// are read and written the same way (a [ValueState]); the kind tells the host
// what the value is for.
const (
	StateValue       StateKind = "value"
	StateList        StateKind = "list"
	StateMap         StateKind = "map"
	StateReducing    StateKind = "reducing"
	StateAggregating StateKind = "aggregating"
	// StateBroadcast is a map shared by every key of a subtask, written from
	// the broadcast input of a co_process function (ABI §4.8; see
	// [NewBroadcastState]).
	StateBroadcast StateKind = "broadcast"
)

// Return codes of the state imports (ABI §1).
const (
	stateAbsent      = -1
	stateUnsupported = -2
	stateInvalid     = -3
)

// Errors a state call can wrap; test them with errors.Is.
var (
	// ErrStateUnsupported: the host has no keyed state (a host older than the
	// state imports returns UNSUPPORTED from them).
	ErrStateUnsupported = errors.New("weir: the host does not support keyed state")
	// ErrStateInvalid: the host refused the call, or the SDK did before asking:
	// the handle was used outside a process or reduce call of the function that
	// declared it, or for an operation its kind does not have.
	ErrStateInvalid = errors.New("weir: invalid state call")
)

// StateError is the error of a failed state call. It names what was being done
// and the state, and wraps [ErrStateUnsupported] or [ErrStateInvalid] when the
// host returned those codes.
type StateError struct {
	Op    string // what was being done, as a gerund: "reading", "writing", ...
	State string // the state's name
	Code  int32  // the import's return code, 0 if the SDK refused the call itself
	// Reason explains what the return code does not: a refusal of the SDK's or a
	// value it cannot use.
	Reason string
	// refused marks a call the SDK refused before asking the host, which
	// matches ErrStateInvalid.
	refused bool
}

func (e *StateError) Error() string {
	s := "weir: " + e.Op + " state " + strconv.Quote(e.State) + ": "
	switch {
	case e.Reason != "":
		return s + e.Reason
	case e.Code == stateUnsupported:
		return s + "the host does not support keyed state (UNSUPPORTED)"
	case e.Code == stateInvalid:
		return s + "the host refused the call as invalid (INVALID)"
	}
	return s + "unexpected return code " + strconv.Itoa(int(e.Code))
}

// Unwrap lets errors.Is match the sentinel errors.
func (e *StateError) Unwrap() error {
	switch {
	case e.Code == stateUnsupported:
		return ErrStateUnsupported
	case e.Code == stateInvalid || e.refused:
		return ErrStateInvalid
	}
	return nil
}

// stateHandle is what every state handle shares: its declaration, the function
// that declared it (set at registration) and its number there.
type stateHandle struct {
	name  string
	kind  StateKind
	ttlMS int64
	fn    *function
	index int32
	// buf receives what the host reads out of the state; it is reused from call
	// to call, so results returned from it are valid until the next call on the
	// same handle.
	buf []byte
	// scratch holds an int64 being written, so PutInt64 needs no allocation.
	scratch [8]byte
}

func (h *stateHandle) handle() *stateHandle { return h }

// StateHandle is a state declared with [NewValueState], [NewListState],
// [NewMapState] and their kin, to hand to [State].
type StateHandle interface {
	handle() *stateHandle
}

func newHandle(name string, kind StateKind, ttl time.Duration) stateHandle {
	if !validName(name) {
		panic("weir: invalid state name " + strconv.Quote(name) + ": want 1-128 characters from [A-Za-z0-9_.-]")
	}
	if ttl < 0 {
		panic("weir: state " + strconv.Quote(name) + ": negative TTL")
	}
	ms := ttl.Milliseconds()
	if ttl > 0 && ms == 0 {
		ms = 1 // the ABI counts milliseconds; 0 would mean no expiry at all
	}
	return stateHandle{name: name, kind: kind, ttlMS: ms, buf: make([]byte, 0, 64)}
}

// Name returns the state's name.
func (h *stateHandle) Name() string { return h.name }

// check refuses a call that cannot be valid before asking the host: no current
// process call, or a handle of another function.
func (h *stateHandle) check(ctx *Context, op string) error {
	if h.fn == nil {
		return &StateError{Op: op, State: h.name, Reason: "the state is not declared by any function (pass it to weir.State when registering)", refused: true}
	}
	if ctx == nil || !ctx.active {
		return &StateError{Op: op, State: h.name, Reason: "state is only reachable during a process call, through its Context", refused: true}
	}
	if ctx.fn != h.fn {
		return &StateError{Op: op, State: h.name, Reason: "the state belongs to function " + strconv.Quote(h.fn.name) + ", not " + strconv.Quote(ctx.fn.name), refused: true}
	}
	return nil
}

// get reads the entry for sub into h.buf: the value, whether it exists, and an
// error. A value larger than the buffer makes the buffer grow to its size and the
// read start again (ABI §4.2).
func (h *stateHandle) get(ctx *Context, op string, sub []byte) ([]byte, bool, error) {
	if err := h.check(ctx, op); err != nil {
		return nil, false, err
	}
	for {
		n := hostStateGet(h.index, ctx.record, sub, h.buf[:cap(h.buf)])
		switch {
		case n == stateAbsent:
			return nil, false, nil
		case n < 0:
			return nil, false, &StateError{Op: op, State: h.name, Code: n}
		case int(n) <= cap(h.buf):
			return h.buf[:n], true, nil
		}
		h.buf = make([]byte, 0, n)
	}
}

func (h *stateHandle) put(ctx *Context, op string, sub, val []byte) error {
	if err := h.check(ctx, op); err != nil {
		return err
	}
	if n := hostStatePut(h.index, ctx.record, sub, val); n != 0 {
		return &StateError{Op: op, State: h.name, Code: n}
	}
	return nil
}

func (h *stateHandle) delete(ctx *Context, op string, sub []byte) error {
	if err := h.check(ctx, op); err != nil {
		return err
	}
	if n := hostStateDelete(h.index, ctx.record, sub); n != 0 {
		return &StateError{Op: op, State: h.name, Code: n}
	}
	return nil
}

// each runs the cursor protocol of state_iter (ABI §4.2): entry number cursor is
// read into h.buf, which grows and is read again when the entry does not fit; -1
// ends the iteration. Each entry is a record frame whose KEY is the map sub-key.
func (h *stateHandle) each(ctx *Context, fn func(sub, val []byte) bool) error {
	const op = "iterating"
	if err := h.check(ctx, op); err != nil {
		return err
	}
	for cursor := int32(0); ; {
		n := hostStateIter(h.index, ctx.record, cursor, h.buf[:cap(h.buf)])
		switch {
		case n == stateAbsent:
			return nil
		case n < 0:
			return &StateError{Op: op, State: h.name, Code: n}
		case int(n) > cap(h.buf):
			h.buf = make([]byte, 0, n)
			continue
		}
		sub, val, ok := decodeEntry(h.buf[:n:n])
		if !ok {
			return &StateError{Op: op, State: h.name, Reason: "the host sent a malformed entry (entry " + strconv.Itoa(int(cursor)) + ")"}
		}
		if !fn(sub, val) {
			return nil
		}
		cursor++
	}
}

// decodeEntry splits an entry of state_iter, one record frame (ABI §5) with
// PAYLOAD and, for a map, KEY.
func decodeEntry(b []byte) (sub, val []byte, ok bool) {
	if len(b) < 1 || b[0]&^(flagKey|flagPayload) != 0 {
		return nil, nil, false
	}
	flags, off := b[0], 1
	if flags&flagKey != 0 {
		if sub, off, ok = readBytes(b, off); !ok {
			return nil, nil, false
		}
	}
	if flags&flagPayload != 0 {
		if val, off, ok = readBytes(b, off); !ok {
			return nil, nil, false
		}
	}
	return sub, val, off == len(b)
}

// ValueState is a value per key: state of kind value, reducing or aggregating.
// Results are views of the handle's own buffer, valid until the next call on the
// handle; copy what you keep.
type ValueState struct{ stateHandle }

// NewValueState declares a value state; ttl 0 means its values never expire
// (otherwise it counts in whole milliseconds, at least one). Hand it to [State]
// when registering the function that uses it. Declare handles once, as package
// variables: a handle belongs to one function.
func NewValueState(name string, ttl time.Duration) *ValueState {
	return &ValueState{newHandle(name, StateValue, ttl)}
}

// NewReducingState declares a state of kind reducing, used like a value state.
func NewReducingState(name string, ttl time.Duration) *ValueState {
	return &ValueState{newHandle(name, StateReducing, ttl)}
}

// NewAggregatingState declares a state of kind aggregating, used like a value
// state.
func NewAggregatingState(name string, ttl time.Duration) *ValueState {
	return &ValueState{newHandle(name, StateAggregating, ttl)}
}

// Get returns the current record's value and whether there is one.
func (s *ValueState) Get(ctx *Context) ([]byte, bool, error) { return s.get(ctx, "reading", nil) }

// Put sets the current record's value to a copy of v.
func (s *ValueState) Put(ctx *Context, v []byte) error { return s.put(ctx, "writing", nil, v) }

// Clear removes the current record's value.
func (s *ValueState) Clear(ctx *Context) error { return s.delete(ctx, "clearing", nil) }

// GetInt64 reads the value as an int64 stored by [ValueState.PutInt64]: eight
// bytes, little endian. An absent value is 0, false; a value of another length
// is an error.
func (s *ValueState) GetInt64(ctx *Context) (int64, bool, error) {
	v, ok, err := s.get(ctx, "reading", nil)
	if err != nil || !ok {
		return 0, false, err
	}
	if len(v) != 8 {
		return 0, false, &StateError{Op: "reading", State: s.name, Reason: "the value is " + strconv.Itoa(len(v)) + " bytes, not an 8-byte little-endian int64"}
	}
	return int64(binary.LittleEndian.Uint64(v)), true, nil
}

// PutInt64 stores n as eight bytes, little endian.
func (s *ValueState) PutInt64(ctx *Context, n int64) error {
	binary.LittleEndian.PutUint64(s.scratch[:], uint64(n))
	return s.put(ctx, "writing", nil, s.scratch[:])
}

// ListState is a list of values per key.
type ListState struct{ stateHandle }

// NewListState declares a list state; ttl as for [NewValueState], per element.
func NewListState(name string, ttl time.Duration) *ListState {
	return &ListState{newHandle(name, StateList, ttl)}
}

// Append adds a copy of v at the end of the current record's list.
func (s *ListState) Append(ctx *Context, v []byte) error {
	if err := s.check(ctx, "appending to"); err != nil {
		return err
	}
	if n := hostStateAppend(s.index, ctx.record, v); n != 0 {
		return &StateError{Op: "appending to", State: s.name, Code: n}
	}
	return nil
}

// Each calls fn with each element of the current record's list, in insertion
// order, until fn returns false. v is valid until fn returns.
func (s *ListState) Each(ctx *Context, fn func(v []byte) bool) error {
	return s.each(ctx, func(_, v []byte) bool { return fn(v) })
}

// Clear empties the current record's list.
func (s *ListState) Clear(ctx *Context) error { return s.delete(ctx, "clearing", nil) }

// MapState is a map from sub-keys to values per key. Results are views of the
// handle's own buffer, valid until the next call on the handle.
type MapState struct{ stateHandle }

// NewMapState declares a map state; ttl as for [NewValueState], per entry.
func NewMapState(name string, ttl time.Duration) *MapState {
	return &MapState{newHandle(name, StateMap, ttl)}
}

// Get returns the entry for sub of the current record's map.
func (s *MapState) Get(ctx *Context, sub []byte) ([]byte, bool, error) {
	return s.get(ctx, "reading", sub)
}

// Put sets the entry for sub to a copy of v.
func (s *MapState) Put(ctx *Context, sub, v []byte) error { return s.put(ctx, "writing", sub, v) }

// Delete removes the entry for sub. The empty sub-key cannot be deleted on its
// own: to the host an empty sub-key means the whole map (ABI §4.2), so Delete
// refuses it rather than clear everything; use [MapState.Clear] for that.
func (s *MapState) Delete(ctx *Context, sub []byte) error {
	if len(sub) == 0 {
		return &StateError{Op: "deleting from", State: s.name, Reason: "an empty sub-key cannot be deleted on its own (it would clear the whole map; use Clear)", refused: true}
	}
	return s.delete(ctx, "deleting from", sub)
}

// Each calls fn with each entry of the current record's map, in byte order of
// the sub-keys, until fn returns false. sub and v are valid until fn returns.
func (s *MapState) Each(ctx *Context, fn func(sub, v []byte) bool) error {
	return s.each(ctx, fn)
}

// Clear empties the current record's map.
func (s *MapState) Clear(ctx *Context) error { return s.delete(ctx, "clearing", nil) }
