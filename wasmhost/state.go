package wasmhost

import (
	"bytes"
	"context"
	"fmt"
	"slices"

	"github.com/tetratelabs/wazero/api"

	"github.com/weir-streams/weir/internal/record"
)

// State kinds a function may declare (sdk/ABI.md §2).
const (
	StateValue       = "value"
	StateList        = "list"
	StateMap         = "map"
	StateReducing    = "reducing"
	StateAggregating = "aggregating"
	// StateBroadcast is a map shared by every key of a subtask, written only
	// from the broadcast input of a co_process function (sdk/ABI.md §4.8).
	StateBroadcast = "broadcast"
)

// KeyedState is the state store behind the state imports of one instance
// (sdk/ABI.md §4.2). The instance resolves a guest's record index to that record's
// key and its state number to the function's declared state, checks that the call
// suits the state's kind, and then calls KeyedState with the key: an
// implementation never sees another key than one of the current batch.
//
// Byte slices passed in point into guest memory or the input batch and are valid
// only during the call: an implementation copies what it keeps. Results may alias
// dst or the implementation's own buffers until its next call.
//
// A state of kind StateBroadcast is not scoped to a key (sdk/ABI.md §4.8), but
// KeyedState is called with the key of the record named as for the other kinds
// (nil when that record has none, as a broadcast record does): an implementation
// keeps one map per subtask for such a state and ignores the key. The instance
// has already refused writes to it outside a broadcast Process2 call.
//
// KeyedState is called from the instance's goroutine only. An error it returns
// fails the task (a failure of kind "state"); absence is not an error.
type KeyedState interface {
	// Get appends the value (value kinds) or map entry (map) to dst.
	Get(state int, key, sub, dst []byte) (val []byte, ok bool, err error)
	// Put sets the value (sub empty) or the map entry for sub.
	Put(state int, key, sub, val []byte) error
	// Append adds an element at the end of a list.
	Append(state int, key, val []byte) error
	// Delete clears a value or a list, or removes one map entry (the whole map
	// when sub is empty).
	Delete(state int, key, sub []byte) error
	// Iter returns entry number cursor of a list (sub nil) or map, counting from
	// 0 in iteration order; ok is false past the last one. Successive cursors
	// 0, 1, 2... on one key and state should cost O(1) each.
	Iter(state int, key []byte, cursor int) (sub, val []byte, ok bool, err error)
}

// SetKeyedState gives the instance the state its function's state imports reach.
// Without one, the imports return UNSUPPORTED.
func (i *Instance) SetKeyedState(s KeyedState) { i.state = s }

// SetTaskInfo sets the JSON object weir.task_info returns (sdk/ABI.md §4.3). Call it
// before Open.
func (i *Instance) SetTaskInfo(info []byte) { i.taskInfo = slices.Clone(info) }

// Return codes of the state imports.
const (
	codeAbsent  = -1
	codeInvalid = -3
)

// stateOp names what a state import does, to check it against the state's kind.
type stateOp uint8

const (
	opGet stateOp = iota
	opPut
	opAppend
	opDelete
	opIter
)

// stateAllows says which operations each state kind supports (sdk/ABI.md §4.2).
func stateAllows(kind string, op stateOp) bool {
	switch kind {
	case StateValue, StateReducing, StateAggregating:
		return op == opGet || op == opPut || op == opDelete
	case StateList:
		return op == opAppend || op == opDelete || op == opIter
	case StateMap, StateBroadcast:
		return op == opGet || op == opPut || op == opDelete || op == opIter
	}
	return false
}

// stateError is a failure of the state store during a guest call.
type stateError struct{ err error }

func (e stateError) Error() string { return e.err.Error() }
func (e stateError) Unwrap() error { return e.err }

// stateTarget checks a state import's state and record arguments and returns the
// instance and the record's key; code is nonzero when the call is INVALID or
// UNSUPPORTED.
func stateTarget(ctx context.Context, stateArg, recordArg uint64, op stateOp) (inst *Instance, state int, key []byte, code int32) {
	inst = callerOf(ctx)
	if inst == nil {
		return nil, 0, nil, codeInvalid
	}
	if inst.state == nil {
		return nil, 0, nil, codeUnsupported
	}
	if inst.scope == scopeNone {
		return nil, 0, nil, codeInvalid
	}
	st, rec := int32(stateArg), int32(recordArg)
	if st < 0 || int(st) >= len(inst.fn.State) {
		return nil, 0, nil, codeInvalid
	}
	kind := inst.fn.State[st].Kind
	if !stateAllows(kind, op) || !inst.stateAccess(kind, op) {
		return nil, 0, nil, codeInvalid
	}
	if rec < 0 || int(rec) >= inst.parents.count {
		return nil, 0, nil, codeInvalid
	}
	v, err := inst.parents.get(uint32(rec))
	if err != nil {
		inst.abort(err)
	}
	if v.Flags&record.FlagKey == 0 {
		// Broadcast state is not scoped to a key (sdk/ABI.md §4.8): a
		// broadcast record, which has none, may use it.
		if kind != StateBroadcast {
			return nil, 0, nil, codeInvalid
		}
		return inst, int(st), nil, 0
	}
	return inst, int(st), v.Key, 0
}

// guestBytes reads n bytes at ptr from guest memory, failing the call when they
// lie outside it.
func (i *Instance) guestBytes(mod api.Module, what string, ptr, n uint32) []byte {
	if n == 0 {
		return nil
	}
	b, ok := mod.Memory().Read(ptr, n)
	if !ok {
		i.abort(abiViolation(fmt.Sprintf("%s out of memory bounds", what)))
	}
	return b
}

// stateFailed fails the call with a state store error.
func (i *Instance) stateFailed(op string, state int, err error) {
	i.abort(stateError{fmt.Errorf("%s state %q: %w", op, i.fn.State[state].Name, err)})
}

// writeOut copies b to the guest's buffer (ptr, capacity) and returns the length
// to return to the guest: b's length, whether or not it fitted.
func (i *Instance) writeOut(mod api.Module, ptr, capacity uint32, b []byte) int32 {
	if uint32(len(b)) <= capacity && len(b) > 0 && !mod.Memory().Write(ptr, b) {
		i.abort(abiViolation("state result buffer out of memory bounds"))
	}
	return int32(len(b))
}

func hostStateGet(ctx context.Context, mod api.Module, stack []uint64) {
	inst, st, key, code := stateTarget(ctx, stack[0], stack[1], opGet)
	if code != 0 {
		stack[0] = api.EncodeI32(code)
		return
	}
	sub := inst.guestBytes(mod, "weir.state_get: sub-key", api.DecodeU32(stack[2]), api.DecodeU32(stack[3]))
	val, ok, err := inst.state.Get(st, key, sub, inst.stateBuf[:0])
	if err != nil {
		inst.stateFailed("reading", st, err)
	}
	if !ok {
		stack[0] = api.EncodeI32(codeAbsent)
		return
	}
	inst.stateBuf = val[:0]
	stack[0] = api.EncodeI32(inst.writeOut(mod, api.DecodeU32(stack[4]), api.DecodeU32(stack[5]), val))
}

func hostStatePut(ctx context.Context, mod api.Module, stack []uint64) {
	inst, st, key, code := stateTarget(ctx, stack[0], stack[1], opPut)
	if code != 0 {
		stack[0] = api.EncodeI32(code)
		return
	}
	sub := inst.guestBytes(mod, "weir.state_put: sub-key", api.DecodeU32(stack[2]), api.DecodeU32(stack[3]))
	val := inst.guestBytes(mod, "weir.state_put: value", api.DecodeU32(stack[4]), api.DecodeU32(stack[5]))
	if len(sub) > 0 && !isMapKind(inst.fn.State[st].Kind) {
		stack[0] = api.EncodeI32(codeInvalid)
		return
	}
	if err := inst.state.Put(st, key, sub, val); err != nil {
		inst.stateFailed("writing", st, err)
	}
	stack[0] = 0
}

func hostStateAppend(ctx context.Context, mod api.Module, stack []uint64) {
	inst, st, key, code := stateTarget(ctx, stack[0], stack[1], opAppend)
	if code != 0 {
		stack[0] = api.EncodeI32(code)
		return
	}
	val := inst.guestBytes(mod, "weir.state_append: value", api.DecodeU32(stack[2]), api.DecodeU32(stack[3]))
	if err := inst.state.Append(st, key, val); err != nil {
		inst.stateFailed("appending to", st, err)
	}
	stack[0] = 0
}

func hostStateDelete(ctx context.Context, mod api.Module, stack []uint64) {
	inst, st, key, code := stateTarget(ctx, stack[0], stack[1], opDelete)
	if code != 0 {
		stack[0] = api.EncodeI32(code)
		return
	}
	var sub []byte
	if isMapKind(inst.fn.State[st].Kind) {
		sub = inst.guestBytes(mod, "weir.state_delete: sub-key", api.DecodeU32(stack[2]), api.DecodeU32(stack[3]))
	}
	if err := inst.state.Delete(st, key, sub); err != nil {
		inst.stateFailed("clearing", st, err)
	}
	stack[0] = 0
}

func hostStateIter(ctx context.Context, mod api.Module, stack []uint64) {
	inst, st, key, code := stateTarget(ctx, stack[0], stack[1], opIter)
	if code != 0 {
		stack[0] = api.EncodeI32(code)
		return
	}
	cursor := int32(stack[2])
	if cursor < 0 {
		stack[0] = api.EncodeI32(codeInvalid)
		return
	}
	sub, val, ok, err := inst.state.Iter(st, key, int(cursor))
	if err != nil {
		inst.stateFailed("iterating", st, err)
	}
	if !ok {
		stack[0] = api.EncodeI32(codeAbsent)
		return
	}
	v := record.View{Flags: record.FlagPayload, Payload: val}
	if isMapKind(inst.fn.State[st].Kind) {
		v.Flags |= record.FlagKey
		v.Key = sub
	}
	inst.stateBuf = record.AppendView(inst.stateBuf[:0], &v)
	stack[0] = api.EncodeI32(inst.writeOut(mod, api.DecodeU32(stack[3]), api.DecodeU32(stack[4]), inst.stateBuf))
}

func hostTaskInfo(ctx context.Context, mod api.Module, stack []uint64) {
	inst := callerOf(ctx)
	info := []byte("{}")
	if inst != nil && len(inst.taskInfo) > 0 {
		info = inst.taskInfo
	}
	if inst == nil {
		// Called from _initialize, before the instance is known: answer anyway.
		if uint32(len(info)) <= api.DecodeU32(stack[1]) {
			mod.Memory().Write(api.DecodeU32(stack[0]), info)
		}
		stack[0] = api.EncodeI32(int32(len(info)))
		return
	}
	stack[0] = api.EncodeI32(inst.writeOut(mod, api.DecodeU32(stack[0]), api.DecodeU32(stack[1]), info))
}

// MemoryState is a KeyedState in memory, for tests and tools such as `weir udf
// test`: no TTL, nothing durable. The zero value is ready to use.
type MemoryState struct {
	// entries holds value states (sub-key "") and map entries, by state and key.
	entries map[string]map[string][]byte
	lists   map[string][][]byte
	// iterKey and iterSubs are the sorted sub-keys of the map being iterated, so
	// that forward cursors cost O(1).
	iterKey  string
	iterSubs []string
}

func memKey(state int, key []byte) string { return fmt.Sprintf("%d/%x", state, key) }

// Get implements KeyedState.
func (m *MemoryState) Get(state int, key, sub, dst []byte) ([]byte, bool, error) {
	v, ok := m.entries[memKey(state, key)][string(sub)]
	return append(dst, v...), ok, nil
}

// Put implements KeyedState.
func (m *MemoryState) Put(state int, key, sub, val []byte) error {
	k := memKey(state, key)
	if m.entries == nil {
		m.entries = map[string]map[string][]byte{}
	}
	if m.entries[k] == nil {
		m.entries[k] = map[string][]byte{}
	}
	m.entries[k][string(sub)] = bytes.Clone(val)
	m.iterKey = ""
	return nil
}

// Append implements KeyedState.
func (m *MemoryState) Append(state int, key, val []byte) error {
	if m.lists == nil {
		m.lists = map[string][][]byte{}
	}
	k := memKey(state, key)
	m.lists[k] = append(m.lists[k], append([]byte{}, val...))
	return nil
}

// Delete implements KeyedState.
func (m *MemoryState) Delete(state int, key, sub []byte) error {
	k := memKey(state, key)
	if len(sub) > 0 {
		delete(m.entries[k], string(sub))
	} else {
		delete(m.entries, k)
		delete(m.lists, k)
	}
	m.iterKey = ""
	return nil
}

// Iter implements KeyedState.
func (m *MemoryState) Iter(state int, key []byte, cursor int) ([]byte, []byte, bool, error) {
	k := memKey(state, key)
	if l, ok := m.lists[k]; ok {
		if cursor >= len(l) {
			return nil, nil, false, nil
		}
		return nil, l[cursor], true, nil
	}
	entries := m.entries[k]
	if m.iterKey != k || cursor == 0 {
		m.iterKey = k
		m.iterSubs = m.iterSubs[:0]
		for s := range entries {
			m.iterSubs = append(m.iterSubs, s)
		}
		slices.Sort(m.iterSubs)
	}
	if cursor >= len(m.iterSubs) {
		return nil, nil, false, nil
	}
	s := m.iterSubs[cursor]
	return []byte(s), entries[s], true, nil
}
