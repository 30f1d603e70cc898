package state

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// OperatorKeyGroup is the key group under which operator (non-keyed) state is
// stored. It is outside every valid key group (key groups are below 32768), so a
// rescale never confuses it with keyed state.
const OperatorKeyGroup = 0xFFFF

// BroadcastKeyGroup is the key group of broadcast state: state every subtask
// of an operator holds identically. Every snapshot has its subtask's copy; a
// restore takes one copy, from its first handle, whatever the key groups.
const BroadcastKeyGroup = 0xFFFD

// metaKeyGroup holds the backend's own metadata (the handle registry and the list
// sequence), so that it travels in every snapshot with the state it describes.
const metaKeyGroup = 0xFFFE

// maxKeyGroups is the number of key groups the two-byte prefix can address for
// keyed state (internal/keygroup.MaxParallelism).
const maxKeyGroups = 32768

// headerLen is the fixed part of a state key: key group, operator handle, state
// handle.
const headerLen = 6

// Range is a contiguous range of key groups, both ends included.
type Range struct {
	First int `json:"first"`
	Last  int `json:"last"`
}

// Contains reports whether key group kg is in r.
func (r Range) Contains(kg int) bool { return kg >= r.First && kg <= r.Last }

// Valid reports whether r is a non-empty range of key groups below maxP.
func (r Range) Valid(maxP int) bool {
	return r.First >= 0 && r.First <= r.Last && r.Last < maxP
}

func (r Range) String() string { return fmt.Sprintf("[%d, %d]", r.First, r.Last) }

var errKeyTooLong = errors.New("state: key or namespace longer than 4 GiB")

// appendKey appends the state key of (kg, op, st, key, ns, sub) to dst:
//
//	kg (u16 BE) | op (u16 BE) | st (u16 BE) | u32 BE len | key | u32 BE len | ns | sub
//
// The lengths make the encoding prefix-free up to the sub-key, so every entry of
// one map or list (same key and namespace) sorts contiguously, in sub-key order.
func appendKey(dst []byte, kg int, op, st uint16, key, ns, sub []byte) []byte {
	dst = binary.BigEndian.AppendUint16(dst, uint16(kg))
	dst = binary.BigEndian.AppendUint16(dst, op)
	dst = binary.BigEndian.AppendUint16(dst, st)
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(key)))
	dst = append(dst, key...)
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(ns)))
	dst = append(dst, ns...)
	return append(dst, sub...)
}

// checkLens rejects a key or namespace whose length does not fit the u32 length
// prefix; without it the encoding would be ambiguous.
func checkLens(key, ns []byte) error {
	if uint64(len(key)) > math.MaxUint32 || uint64(len(ns)) > math.MaxUint32 {
		return errKeyTooLong
	}
	return nil
}

// decodedKey is a state key split into its parts. The slices alias the encoded
// key.
type decodedKey struct {
	kg     int
	op, st uint16
	key    []byte
	ns     []byte
	sub    []byte
	prefix int // length of the encoding up to and including ns
}

// decodeKey splits an encoded state key. It reports false for bytes that are not
// a well-formed key instead of panicking: keys come from snapshots, which are
// outside input on restore.
func decodeKey(k []byte) (d decodedKey, ok bool) {
	if len(k) < headerLen+4 {
		return d, false
	}
	d.kg = int(binary.BigEndian.Uint16(k))
	d.op = binary.BigEndian.Uint16(k[2:])
	d.st = binary.BigEndian.Uint16(k[4:])
	rest := k[headerLen:]
	n := binary.BigEndian.Uint32(rest)
	rest = rest[4:]
	if uint64(len(rest)) < uint64(n)+4 {
		return d, false
	}
	d.key = rest[:n]
	rest = rest[n:]
	m := binary.BigEndian.Uint32(rest)
	rest = rest[4:]
	if uint64(len(rest)) < uint64(m) {
		return d, false
	}
	d.ns = rest[:m]
	d.sub = rest[m:]
	d.prefix = len(k) - len(d.sub)
	return d, true
}

// prefixEnd returns the smallest key greater than every key that starts with
// prefix, appended to dst, or false when there is none (prefix is all 0xFF).
// Only the appended bytes are touched.
func prefixEnd(dst, prefix []byte) ([]byte, bool) {
	start := len(dst)
	dst = append(dst, prefix...)
	for i := len(dst) - 1; i >= start; i-- {
		if dst[i] != 0xFF {
			dst[i]++
			return dst[:i+1], true
		}
	}
	return dst[:start], false
}

// keyGroupSpan returns the [start, end) bounds covering key groups first..last.
func keyGroupSpan(first, last int) (start, end []byte) {
	start = binary.BigEndian.AppendUint16(nil, uint16(first))
	if last >= 0xFFFF {
		return start, nil
	}
	end = binary.BigEndian.AppendUint16(nil, uint16(last+1))
	return start, end
}
