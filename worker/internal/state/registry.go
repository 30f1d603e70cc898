package state

import (
	"encoding/binary"
	"fmt"
	"time"
)

// Kind is the kind of a registered state.
type Kind uint8

// The kinds of state. Reducing and Aggregating are stored exactly like Value: the
// guest SDK runs the reduce or aggregate function and writes the combined result,
// so the backend never calls guest code. They are distinct kinds so that a
// restored job cannot reinterpret one as another.
const (
	Value Kind = iota + 1
	List
	Map
	Reducing
	Aggregating
)

func (k Kind) String() string {
	switch k {
	case Value:
		return "value"
	case List:
		return "list"
	case Map:
		return "map"
	case Reducing:
		return "reducing"
	case Aggregating:
		return "aggregating"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

func (k Kind) valid() bool { return k >= Value && k <= Aggregating }

// valueLike reports whether entries of kind k have no sub-key.
func (k Kind) valueLike() bool { return k == Value || k == Reducing || k == Aggregating }

// State identifies a registered state on the hot path. It is a small value: copy
// it freely. The zero State is not registered and every call rejects it.
type State struct {
	op, st uint16
	kind   Kind
	ttl    time.Duration
}

// Kind returns the kind the state was registered with.
func (s State) Kind() Kind { return s.kind }

// TTL returns the state's time to live; zero means entries never expire.
func (s State) TTL() time.Duration { return s.ttl }

// RegistryEntry records which handles a state got. The registry is stored in the
// database itself (key group 0xFFFE) and copied into every Handle.
type RegistryEntry struct {
	Operator       string        `json:"operator"`
	Name           string        `json:"name"`
	Kind           Kind          `json:"kind"`
	TTL            time.Duration `json:"ttl_ns"`
	OperatorHandle uint16        `json:"operator_handle"`
	StateHandle    uint16        `json:"state_handle"`
}

func (e RegistryEntry) state() State {
	return State{op: e.OperatorHandle, st: e.StateHandle, kind: e.Kind, ttl: e.TTL}
}

// Metadata keys live in metaKeyGroup with operator handle 0, which no registered
// state gets (handles start at 1).
const (
	metaRegistry uint16 = 1 // key = operator id, namespace = state name
	metaSequence uint16 = 2 // the next list element id
)

// registryFormat versions the encoding of a registry value.
const registryFormat = 1

type regKey struct{ operator, name string }

// registry maps (operator, state name) to handles. Owned by the task goroutine;
// CleanupExpired and restores read it from the same goroutine.
type registry struct {
	entries  map[regKey]RegistryEntry
	byHandle map[uint32]RegistryEntry
	ops      map[string]uint16 // operator id -> operator handle
	nextSt   map[uint16]uint16 // operator handle -> largest state handle used
	maxOp    uint16
}

func newRegistry() registry {
	return registry{
		entries:  make(map[regKey]RegistryEntry),
		byHandle: make(map[uint32]RegistryEntry),
		ops:      make(map[string]uint16),
		nextSt:   make(map[uint16]uint16),
	}
}

func handleKey(op, st uint16) uint32 { return uint32(op)<<16 | uint32(st) }

// add records e, which must not conflict with an entry already present.
func (r *registry) add(e RegistryEntry) error {
	if e.OperatorHandle == 0 || e.StateHandle == 0 || !e.Kind.valid() || e.TTL < 0 {
		return fmt.Errorf("state: invalid registry entry %+v", e)
	}
	if op, ok := r.ops[e.Operator]; ok && op != e.OperatorHandle {
		return fmt.Errorf("state: registry gives operator %q two handles, %d and %d", e.Operator, op, e.OperatorHandle)
	}
	if old, ok := r.byHandle[handleKey(e.OperatorHandle, e.StateHandle)]; ok &&
		(old.Operator != e.Operator || old.Name != e.Name) {
		return fmt.Errorf("state: registry gives handles %d/%d to both %q/%q and %q/%q",
			e.OperatorHandle, e.StateHandle, old.Operator, old.Name, e.Operator, e.Name)
	}
	for name, op := range r.ops {
		if op == e.OperatorHandle && name != e.Operator {
			return fmt.Errorf("state: registry gives operator handle %d to both %q and %q", op, name, e.Operator)
		}
	}
	r.entries[regKey{e.Operator, e.Name}] = e
	r.byHandle[handleKey(e.OperatorHandle, e.StateHandle)] = e
	r.ops[e.Operator] = e.OperatorHandle
	r.maxOp = max(r.maxOp, e.OperatorHandle)
	r.nextSt[e.OperatorHandle] = max(r.nextSt[e.OperatorHandle], e.StateHandle)
	return nil
}

// assign returns the entry for (operator, name), creating it with fresh handles
// when it is new. changed reports whether the entry must be (re)written.
func (r *registry) assign(operator, name string, kind Kind, ttl time.Duration) (e RegistryEntry, changed bool, err error) {
	if old, ok := r.entries[regKey{operator, name}]; ok {
		if old.Kind != kind {
			return e, false, fmt.Errorf("state: %q of operator %q is %s state, not %s", name, operator, old.Kind, kind)
		}
		if old.TTL == ttl {
			return old, false, nil
		}
		// A changed TTL applies to existing entries too: they carry their write
		// time, not their expiry.
		old.TTL = ttl
		r.entries[regKey{operator, name}] = old
		r.byHandle[handleKey(old.OperatorHandle, old.StateHandle)] = old
		return old, true, nil
	}
	op, ok := r.ops[operator]
	if !ok {
		if r.maxOp == 0xFFFF {
			return e, false, fmt.Errorf("state: registering operator %q: out of operator handles", operator)
		}
		op = r.maxOp + 1
	}
	if r.nextSt[op] == 0xFFFF {
		return e, false, fmt.Errorf("state: registering %q of operator %q: out of state handles", name, operator)
	}
	e = RegistryEntry{Operator: operator, Name: name, Kind: kind, TTL: ttl, OperatorHandle: op, StateHandle: r.nextSt[op] + 1}
	if err := r.add(e); err != nil {
		return e, false, err
	}
	return e, true, nil
}

// list returns the entries, in handle order so that Handles compare equal.
func (r *registry) list() []RegistryEntry {
	out := make([]RegistryEntry, 0, len(r.byHandle))
	for _, e := range r.byHandle {
		out = append(out, e)
	}
	sortEntries(out)
	return out
}

func sortEntries(es []RegistryEntry) {
	// Insertion sort: registries hold a handful of entries.
	for i := 1; i < len(es); i++ {
		for j := i; j > 0 && handleKey(es[j].OperatorHandle, es[j].StateHandle) < handleKey(es[j-1].OperatorHandle, es[j-1].StateHandle); j-- {
			es[j], es[j-1] = es[j-1], es[j]
		}
	}
}

func registryKey(e RegistryEntry) []byte {
	return appendKey(nil, metaKeyGroup, 0, metaRegistry, []byte(e.Operator), []byte(e.Name), nil)
}

func encodeRegistryValue(e RegistryEntry) []byte {
	v := []byte{registryFormat, byte(e.Kind)}
	v = binary.BigEndian.AppendUint64(v, uint64(e.TTL))
	v = binary.BigEndian.AppendUint16(v, e.OperatorHandle)
	return binary.BigEndian.AppendUint16(v, e.StateHandle)
}

func decodeRegistryEntry(k, v []byte) (RegistryEntry, error) {
	d, ok := decodeKey(k)
	if !ok || len(d.sub) != 0 {
		return RegistryEntry{}, fmt.Errorf("state: malformed registry key %x", k)
	}
	if len(v) != 14 || v[0] != registryFormat {
		return RegistryEntry{}, fmt.Errorf("state: malformed registry value %x for %q/%q", v, d.key, d.ns)
	}
	e := RegistryEntry{
		Operator:       string(d.key),
		Name:           string(d.ns),
		Kind:           Kind(v[1]),
		TTL:            time.Duration(binary.BigEndian.Uint64(v[2:])),
		OperatorHandle: binary.BigEndian.Uint16(v[10:]),
		StateHandle:    binary.BigEndian.Uint16(v[12:]),
	}
	return e, nil
}

var sequenceKey = appendKey(nil, metaKeyGroup, 0, metaSequence, nil, nil, nil)
