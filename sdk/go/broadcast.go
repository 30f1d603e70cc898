package weir

import "time"

// BroadcastState is a map from sub-keys to values shared by every key of a
// subtask (ABI §4.8), Flink's broadcast state: a co_process function whose
// second input is broadcast writes it from its second handler (call kind
// process2) and reads it from the first and from its OnTimer callback. Every
// subtask sees the broadcast records in the same order, so updates that depend
// only on those records leave every subtask with the same state; the host
// checkpoints it once and copies it on rescaling.
//
// Results are views of the handle's own buffer, valid until the next call on
// the handle. A method used where the ABI does not allow it returns a
// [StateError] wrapping [ErrStateInvalid]: a write outside the second handler
// (refused by the SDK before asking the host), or one the host refuses (a
// second input that is not broadcast, for instance).
type BroadcastState struct{ stateHandle }

// NewBroadcastState declares a broadcast state. It has no TTL. Hand it to
// [State] when registering the [CoProcess] function that uses it; only a
// co_process function may declare one.
func NewBroadcastState(name string) *BroadcastState {
	return &BroadcastState{newHandle(name, StateBroadcast, time.Duration(0))}
}

// Get returns the entry for sub.
func (s *BroadcastState) Get(ctx *Context, sub []byte) ([]byte, bool, error) {
	return s.get(ctx, "reading", sub)
}

// Put sets the entry for sub to a copy of v; only in the second handler.
func (s *BroadcastState) Put(ctx *Context, sub, v []byte) error {
	const op = "writing"
	if err := s.writable(ctx, op); err != nil {
		return err
	}
	return s.put(ctx, op, sub, v)
}

// Delete removes the entry for sub; only in the second handler. As for
// [MapState.Delete], the empty sub-key is refused (to the host it means the
// whole map); use [BroadcastState.Clear].
func (s *BroadcastState) Delete(ctx *Context, sub []byte) error {
	const op = "deleting from"
	if len(sub) == 0 {
		return &StateError{Op: op, State: s.name, Reason: "an empty sub-key cannot be deleted on its own (it would clear the whole map; use Clear)", refused: true}
	}
	if err := s.writable(ctx, op); err != nil {
		return err
	}
	return s.delete(ctx, op, sub)
}

// Clear removes every entry; only in the second handler.
func (s *BroadcastState) Clear(ctx *Context) error {
	const op = "clearing"
	if err := s.writable(ctx, op); err != nil {
		return err
	}
	return s.delete(ctx, op, nil)
}

// Each calls fn with each entry, in byte order of the sub-keys, until fn
// returns false. sub and v are valid until fn returns, or until fn calls
// another method of s, which reuses the buffer they point into.
func (s *BroadcastState) Each(ctx *Context, fn func(sub, v []byte) bool) error {
	return s.each(ctx, fn)
}

// writable refuses a write outside a process2 call, where the host would
// answer INVALID (ABI §4.8), with a message that says why.
func (s *BroadcastState) writable(ctx *Context, op string) error {
	if err := s.check(ctx, op); err != nil {
		return err
	}
	if ctx.call != callProcess2 {
		return &StateError{Op: op, State: s.name, Reason: "broadcast state is writable only while handling the second (broadcast) input of a co_process function", refused: true}
	}
	return nil
}
