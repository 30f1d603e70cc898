//go:build !wasip1

package weir

import (
	"encoding/binary"
	"slices"
	"testing"
)

// fakeState is the host side of the state imports as ABI §4.2 describes it,
// small and in memory: it resolves a record index to that record's key (from
// the batch the test says it sends), checks the operation against the state's
// kind, and answers with the ABI's codes and buffer rules.
type fakeState struct {
	kinds []StateKind // the function's declared state, by number
	keys  []string    // the keys of the current batch's records
	// vals holds value states and map entries by state, key and sub-key; lists
	// holds list elements by state and key.
	vals  map[[3]string][]byte
	lists map[[2]string][][]byte
	// calls counts the host calls, to check that buffer retries happen.
	calls int
	// broadcastWritable tells the fake that the current call is a process2
	// call of a broadcast second input: only then may broadcast state change
	// (ABI §4.8).
	broadcastWritable bool
}

// useFakeState installs a fake host state for the function's declared kinds.
func useFakeState(t testing.TB, kinds ...StateKind) *fakeState {
	s := &fakeState{kinds: kinds, vals: map[[3]string][]byte{}, lists: map[[2]string][][]byte{}}
	testState = s
	t.Cleanup(func() { testState = nil })
	return s
}

// batch builds a batch frame of keyed records with the given payloads and tells
// the fake their keys.
func (s *fakeState) batch(keysAndPayloads ...string) []byte {
	s.keys = s.keys[:0]
	var recs []testRecord
	for i := 0; i+1 < len(keysAndPayloads); i += 2 {
		s.keys = append(s.keys, keysAndPayloads[i])
		recs = append(recs, testRecord{Flags: flagKey | flagPayload, Key: keysAndPayloads[i], Payload: keysAndPayloads[i+1]})
	}
	return batchFrame(recs...)
}

// target checks the state and record indexes and the operation's kind.
func (s *fakeState) target(state, record int32, ok func(StateKind) bool) (string, int32) {
	if state < 0 || int(state) >= len(s.kinds) || record < 0 || int(record) >= len(s.keys) || !ok(s.kinds[state]) {
		return "", stateInvalid
	}
	if s.kinds[state] == StateBroadcast {
		return "", 0 // one map for every key
	}
	return s.keys[record], 0
}

func valueLike(k StateKind) bool {
	return k == StateValue || k == StateReducing || k == StateAggregating
}

// mapLike is a state of the map row of ABI §4.2.
func mapLike(k StateKind) bool { return k == StateMap || k == StateBroadcast }

// readOnly answers a write to broadcast state outside a broadcast process2.
func (s *fakeState) readOnly(state int32) bool {
	return s.kinds[state] == StateBroadcast && !s.broadcastWritable
}

func (s *fakeState) get(state, record int32, sub, out []byte) int32 {
	s.calls++
	key, rc := s.target(state, record, func(k StateKind) bool { return valueLike(k) || mapLike(k) })
	if rc != 0 {
		return rc
	}
	v, ok := s.vals[[3]string{string(rune('0' + state)), key, string(sub)}]
	if !ok {
		return stateAbsent
	}
	if len(v) <= len(out) {
		copy(out, v)
	}
	return int32(len(v))
}

func (s *fakeState) put(state, record int32, sub, val []byte) int32 {
	s.calls++
	key, rc := s.target(state, record, func(k StateKind) bool { return valueLike(k) || mapLike(k) })
	if rc != 0 {
		return rc
	}
	if len(sub) > 0 && !mapLike(s.kinds[state]) || s.readOnly(state) {
		return stateInvalid
	}
	s.vals[[3]string{string(rune('0' + state)), key, string(sub)}] = slices.Clone(val)
	return 0
}

func (s *fakeState) append(state, record int32, val []byte) int32 {
	s.calls++
	key, rc := s.target(state, record, func(k StateKind) bool { return k == StateList })
	if rc != 0 {
		return rc
	}
	k := [2]string{string(rune('0' + state)), key}
	s.lists[k] = append(s.lists[k], slices.Clone(val))
	return 0
}

func (s *fakeState) delete(state, record int32, sub []byte) int32 {
	s.calls++
	key, rc := s.target(state, record, func(StateKind) bool { return true })
	if rc != 0 {
		return rc
	}
	if s.readOnly(state) {
		return stateInvalid
	}
	st := string(rune('0' + state))
	switch {
	case s.kinds[state] == StateList:
		delete(s.lists, [2]string{st, key})
	case mapLike(s.kinds[state]) && len(sub) > 0:
		delete(s.vals, [3]string{st, key, string(sub)})
	default: // a value, or a whole map
		for k := range s.vals {
			if k[0] == st && k[1] == key {
				delete(s.vals, k)
			}
		}
	}
	return 0
}

func (s *fakeState) iter(state, record, cursor int32, out []byte) int32 {
	s.calls++
	key, rc := s.target(state, record, func(k StateKind) bool { return k == StateList || mapLike(k) })
	if rc != 0 {
		return rc
	}
	st := string(rune('0' + state))
	var e []byte
	if s.kinds[state] == StateList {
		l := s.lists[[2]string{st, key}]
		if int(cursor) >= len(l) {
			return stateAbsent
		}
		e = appendTestRecord(nil, testRecord{Flags: flagPayload, Payload: string(l[cursor])})
	} else {
		var subs []string
		for k := range s.vals {
			if k[0] == st && k[1] == key {
				subs = append(subs, k[2])
			}
		}
		slices.Sort(subs)
		if int(cursor) >= len(subs) {
			return stateAbsent
		}
		e = appendTestRecord(nil, testRecord{Flags: flagKey | flagPayload, Key: subs[cursor], Payload: string(s.vals[[3]string{st, key, subs[cursor]}])})
	}
	if len(e) <= len(out) {
		copy(out, e)
	}
	return int32(len(e))
}

// int64Value is n as PutInt64 stores it.
func int64Value(n int64) string {
	return string(binary.LittleEndian.AppendUint64(nil, uint64(n)))
}
