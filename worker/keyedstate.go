package worker

import (
	"bytes"
	"fmt"
	"time"

	"github.com/weir-streams/weir/internal/keygroup"
	"github.com/weir-streams/weir/wasmhost"
	"github.com/weir-streams/weir/worker/internal/state"
)

// stateKinds maps the state kinds of sdk/ABI.md to the backend's.
var stateKinds = map[string]state.Kind{
	wasmhost.StateValue:       state.Value,
	wasmhost.StateList:        state.List,
	wasmhost.StateMap:         state.Map,
	wasmhost.StateReducing:    state.Reducing,
	wasmhost.StateAggregating: state.Aggregating,
	wasmhost.StateBroadcast:   state.Map,
}

// keyedState is the state of one step's UDF instance: it serves the instance's
// state imports from the task's backend, in the key group of each record's key.
// It belongs to the task goroutine.
type keyedState struct {
	b      *state.Backend
	states []state.State // by the function's state number
	// broadcast marks the broadcast states: one map per subtask, in
	// state.BroadcastKeyGroup, whatever the record's key.
	broadcast []bool
	maxP      int

	// The key group of the last key seen: a batch often repeats keys.
	lastKey []byte
	lastKG  int

	// The open iteration, so that forward cursors cost O(1) each.
	iter      *state.Iter
	iterState int
	iterKey   []byte
	iterNext  int // the cursor the next entry answers
}

// newKeyedState registers the function's declared state with the backend under
// the step's id.
func newKeyedState(b *state.Backend, stepID string, fn *wasmhost.Function, maxP int) (*keyedState, error) {
	ks := &keyedState{b: b, maxP: maxP, lastKG: -1}
	for _, d := range fn.State {
		kind, ok := stateKinds[d.Kind]
		if !ok {
			return nil, fmt.Errorf("state %q has unknown kind %q", d.Name, d.Kind)
		}
		st, err := b.Register(stepID, d.Name, kind, time.Duration(d.TTLms)*time.Millisecond)
		if err != nil {
			return nil, fmt.Errorf("registering state %q: %w", d.Name, err)
		}
		ks.states = append(ks.states, st)
		ks.broadcast = append(ks.broadcast, d.Kind == wasmhost.StateBroadcast)
	}
	return ks, nil
}

// place returns where state st of key lives: its key group and key, or the
// broadcast key group with no key.
func (ks *keyedState) place(st int, key []byte) (int, []byte) {
	if ks.broadcast[st] {
		return state.BroadcastKeyGroup, nil
	}
	return ks.keyGroup(key), key
}

func (ks *keyedState) keyGroup(key []byte) int {
	if ks.lastKG < 0 || !bytes.Equal(key, ks.lastKey) {
		ks.lastKey = append(ks.lastKey[:0], key...)
		ks.lastKG = keygroup.Of(key, ks.maxP)
	}
	return ks.lastKG
}

// Get implements wasmhost.KeyedState.
func (ks *keyedState) Get(st int, key, sub, dst []byte) ([]byte, bool, error) {
	kg, key := ks.place(st, key)
	return ks.b.Get(ks.states[st], kg, key, nil, sub, dst)
}

// Put implements wasmhost.KeyedState.
func (ks *keyedState) Put(st int, key, sub, val []byte) error {
	ks.closeIter()
	kg, key := ks.place(st, key)
	return ks.b.Put(ks.states[st], kg, key, nil, sub, val)
}

// Append implements wasmhost.KeyedState.
func (ks *keyedState) Append(st int, key, val []byte) error {
	ks.closeIter()
	return ks.b.Append(ks.states[st], ks.keyGroup(key), key, nil, val)
}

// Delete implements wasmhost.KeyedState.
func (ks *keyedState) Delete(st int, key, sub []byte) error {
	ks.closeIter()
	kg, key := ks.place(st, key)
	return ks.b.Delete(ks.states[st], kg, key, nil, sub)
}

// Iter implements wasmhost.KeyedState.
func (ks *keyedState) Iter(st int, key []byte, cursor int) ([]byte, []byte, bool, error) {
	kg, key := ks.place(st, key)
	if ks.iter == nil || st != ks.iterState || cursor != ks.iterNext || !bytes.Equal(key, ks.iterKey) {
		ks.closeIter()
		ks.iter = ks.b.Iterator(ks.states[st], kg, key, nil)
		ks.iterState, ks.iterKey, ks.iterNext = st, append(ks.iterKey[:0], key...), 0
		for ks.iterNext < cursor {
			if _, _, ok := ks.iter.Next(); !ok {
				return nil, nil, false, ks.closeIter()
			}
			ks.iterNext++
		}
	}
	sub, val, ok := ks.iter.Next()
	if !ok {
		return nil, nil, false, ks.closeIter()
	}
	ks.iterNext++
	return sub, val, true, nil
}

// closeIter ends the open iteration, if any, and returns its error.
func (ks *keyedState) closeIter() error {
	if ks.iter == nil {
		return nil
	}
	err := ks.iter.Close()
	ks.iter = nil
	return err
}
